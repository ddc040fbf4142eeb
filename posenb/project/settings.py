"""posenb.yaml: a project's posenb-only settings, and the network posenb trains (:func:`resolve_net_type`).

DeepLabCut 3 refuses unknown keys in config.yaml, so what DeepLabCut does not know lives in
``<project>/posenb.yaml``. The network posenb trains is one of them: ``net_type`` here, while config.yaml's
``default_net_type`` stays a DeepLabCut value (``resnet_50``) so that DeepLabCut's ``create_training_dataset``
accepts the project.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import yaml

from posenb.errors import ConfigError
from posenb.project.config_schema import DEFAULT_SETTINGS, POSENB_DEFAULT_NET_TYPE, SETTINGS_FILE

__all__ = ["read_settings", "write_settings", "is_dlc_net_type", "resolve_net_type"]

# name prefixes of DeepLabCut's networks (2.x TensorFlow and 3.x PyTorch net types)
_DLC_NET_PREFIXES = (
    "resnet_", "mobilenet_v2_", "efficientnet-b", "dlcrnet_", "hrnet_", "cspnext_", "rtmpose_", "dekr_",
    "top_down_", "ctd_", "animaltokenpose_",
)  # fmt: skip


def is_dlc_net_type(name: str) -> bool:
    """Is ``name`` a network DeepLabCut knows (``resnet_50``, ``mobilenet_v2_1.0``, ``efficientnet-b0``, ...)?"""
    return isinstance(name, str) and name.startswith(_DLC_NET_PREFIXES)


def resolve_net_type(cfg: dict, net_type: str | None = None) -> tuple[str, str]:
    """The network posenb trains for a project, and why: ``(net_type, reason)``.

    In order: the ``net_type`` argument; ``net_type`` of posenb.yaml; a config.yaml ``default_net_type`` that
    DeepLabCut does not know (a posenb project from before 2026-12); posenb's default
    :data:`POSENB_DEFAULT_NET_TYPE`. config.yaml's DeepLabCut value (``resnet_50`` on every DeepLabCut project)
    is DeepLabCut's setting and is not used: pass ``net_type`` or set it in posenb.yaml to train it.
    """
    if net_type:
        return str(net_type), "passed as net_type"
    project = cfg.get("project_path")
    settings = read_settings(project) if project and Path(project).is_dir() else {}
    chosen = settings.get("net_type")
    if chosen:
        if not isinstance(chosen, str):
            raise ConfigError(
                f"{Path(project) / SETTINGS_FILE}: 'net_type' must be a network name, got {chosen!r}."
            )
        return chosen, f"net_type in {SETTINGS_FILE}"
    dlc = cfg.get("default_net_type")
    if dlc and not is_dlc_net_type(dlc):
        return str(dlc), "config.yaml's default_net_type (moved to posenb.yaml at the next save)"
    reason = "posenb's default: fast on a CPU, ImageNet weights installed with posenb"
    if dlc:
        reason += (
            f"; config.yaml's default_net_type {dlc!r} is DeepLabCut's setting - pass net_type={dlc!r} or set "
            f"net_type: {dlc} in {SETTINGS_FILE} to train it with posenb"
        )
    return POSENB_DEFAULT_NET_TYPE, reason


def read_settings(project_path: str | os.PathLike) -> dict:
    """posenb-only settings of a project (``<project>/posenb.yaml``), merged over :data:`DEFAULT_SETTINGS`."""
    settings = copy.deepcopy(DEFAULT_SETTINGS)
    path = Path(project_path) / SETTINGS_FILE
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc}). Fix or delete the file.") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a YAML mapping.")
        settings.update(data)
    return settings


def write_settings(project_path: str | os.PathLike, settings: dict) -> Path:
    """Write ``<project>/posenb.yaml`` atomically."""
    from posenb.io.atomic import atomic_write_text

    path = Path(project_path) / SETTINGS_FILE
    atomic_write_text(path, yaml.safe_dump(settings, sort_keys=False, default_flow_style=False))
    return path
