"""config.yaml: DeepLabCut's dict API (``read_config`` / ``write_config`` / ``validate_config``) over the typed
:class:`~posenb.project.project_config.ProjectConfig`.

posenb writes exactly DeepLabCut's key set (DLC 3 refuses unknown keys), in DLC 2.3's order with its section
comments, so a project opens in either tool; keys posenb does not know are kept untouched. Settings DeepLabCut
does not know live in ``<project>/posenb.yaml`` (:func:`read_settings` / :func:`write_settings`).

The network posenb trains is one of them: ``net_type`` in posenb.yaml (:func:`resolve_net_type`).
config.yaml's ``default_net_type`` stays a DeepLabCut value (``resnet_50``), so that DeepLabCut's
``create_training_dataset`` accepts the project. Projects whose config.yaml names a network DeepLabCut does not
know (``efficientnet-lite0``, written by posenb before 2026-12) still train it; the next save of config.yaml
moves that choice into posenb.yaml and writes ``resnet_50`` into config.yaml.

Where things live (all importable from here): the key set and templates in ``config_schema.py``, the value rules
in ``config_validate.py``, the typed object and :class:`ProjectParts` in ``project_config.py``, posenb.yaml and
the network choice in ``settings.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

from posenb.project.config_schema import (
    CONFIG_SECTIONS,
    DEFAULT_CONFIG,
    DEFAULT_INDIVIDUALS,
    DEFAULT_SETTINGS,
    DLC3_KEYS,
    DLC_DEFAULT_NET_TYPE,
    KNOWN_KEYS,
    MULTI_SENTINEL,
    MULTIANIMAL_TEMPLATE,
    POSENB_DEFAULT_NET_TYPE,
    SETTINGS_FILE,
    UNIQUE_INDIVIDUAL,
)
from posenb.project.config_validate import format_crop, parse_crop
from posenb.project.project_config import (
    ProjectConfig,
    ProjectParts,
    dumps_config,
    project_parts,
    usable_skeleton,
)
from posenb.project.settings import is_dlc_net_type, read_settings, resolve_net_type, write_settings

__all__ = [
    "DEFAULT_CONFIG",
    "CONFIG_SECTIONS",
    "ProjectConfig",
    "read_config",
    "write_config",
    "validate_config",
    "dumps_config",
    "read_settings",
    "write_settings",
    "DEFAULT_SETTINGS",
    "SETTINGS_FILE",
    "parse_crop",
    "format_crop",
    "POSENB_DEFAULT_NET_TYPE",
    "DLC_DEFAULT_NET_TYPE",
    "is_dlc_net_type",
    "resolve_net_type",
    "usable_skeleton",
    "ProjectParts",
    "project_parts",
    "UNIQUE_INDIVIDUAL",
    "MULTI_SENTINEL",
    "DEFAULT_INDIVIDUALS",
    "MULTIANIMAL_TEMPLATE",
    "KNOWN_KEYS",
    "DLC3_KEYS",
]


def validate_config(
    cfg: dict, path: str | os.PathLike = "config.yaml", check_videos: bool = False
) -> list[str]:
    """Check a config dict (:meth:`ProjectConfig.validate`); raise :class:`ConfigError` on the first real problem.

    Returns a list of warnings (e.g. keys DeepLabCut 3 would reject) that do not stop the work.
    With ``check_videos=True`` every ``video_sets`` entry must exist on disk (matched by stem in
    ``<project>/videos`` too).
    """
    return ProjectConfig.from_dict(cfg).validate(path, check_videos)


def read_config(path: str | os.PathLike, repair_project_path: bool = True) -> dict:
    """Read and validate a project's config.yaml; DeepLabCut's dict (:meth:`ProjectConfig.load` for the object).

    Parameters
    ----------
    path : path of config.yaml (a project folder is accepted too).
    repair_project_path : when the project folder was moved, set ``project_path`` to the folder that holds
        the file and save it (as DeepLabCut does).

    Raises
    ------
    ConfigError : missing file, YAML syntax error, or invalid values (the message names the file and the fix).
    """
    return ProjectConfig.load(path, repair_project_path, _stacklevel=3).to_dict()


def write_config(path: str | os.PathLike, cfg: dict) -> Path:
    """Validate and write config.yaml atomically (the previous file is kept as ``config.yaml.bak``).

    A ``default_net_type`` DeepLabCut does not know (e.g. ``efficientnet-lite0``) is posenb's choice: it is
    written into posenb.yaml's ``net_type`` and config.yaml gets DeepLabCut's ``resnet_50`` (``cfg`` itself is
    not changed), so DeepLabCut keeps accepting the project.
    """
    return ProjectConfig.from_dict(cfg).save(path)
