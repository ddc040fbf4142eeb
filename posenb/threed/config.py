"""The 3D project: DeepLabCut 2.x's ``<Task>-<scorer>-<YYYY-MM-DD>-3d`` folder and its ``config.yaml``.

The 3D config is a different file from the 2D one (DLC 3.0 cannot even read it, see DLC_COMPAT §10), so it
has its own template, reader and writer here. posenb writes DeepLabCut 2.3's key set and order with its
section comments; per camera ``config_file_<cam>``, ``shuffle_<cam>`` and ``trainingsetindex_<cam>``
(``<cam>`` = ``camera-<i>`` at creation, renamed to the camera name by :func:`calibrate_cameras`, as DLC does).
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

import yaml

from posenb.errors import ConfigError

__all__ = [
    "is_config_3d",
    "SUBFOLDERS",
    "create_new_project_3d",
    "read_config_3d",
    "write_config_3d",
    "project_folders",
    "camera_setting",
]

#: Sub-folders of a 3D project (DLC 2.3's ``Foldernames3Dproject`` plus ``removed_calibration_images``).
SUBFOLDERS = ("calibration_images", "camera_matrix", "undistortion", "corners", "removed_calibration_images")

# (section comment, keys) in DeepLabCut 2.3's 3D template order; per-camera keys follow at the end.
_SECTIONS: list[tuple[str, list[str]]] = [
    ("# Project definitions (do not edit)", ["Task", "scorer", "date"]),
    ("# Project path (change when moving around)", ["project_path"]),
    (
        "# Plotting configuration",
        [
            "skeleton",
            "skeleton_color",
            "pcutoff",
            "colormap",
            "dotsize",
            "alphaValue",
            "markerType",
            "markerColor",
        ],
    ),
    (
        "# Number of cameras, camera names, path of the config files, shuffle index and trainingsetindex used to "
        "analyze videos:",
        ["num_cameras", "camera_names", "scorername_3d"],
    ),
]
_REQUIRED = ("project_path", "camera_names", "pcutoff", "scorername_3d")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _default_config(project: str, experimenter: str, num_cameras: int, project_path: Path, today) -> dict:
    cfg: dict[str, Any] = {
        "Task": project,
        "scorer": experimenter,
        "date": f"{_MONTHS[today.month - 1]}{today.day}",
        "project_path": str(project_path),
        "skeleton": [[f"bodypart{i}", f"bodypart{i + 1}"] for i in range(1, 5)],
        "skeleton_color": "black",
        "pcutoff": 0.4,
        "colormap": "jet",
        "dotsize": 15,
        "alphaValue": 0.8,
        "markerType": "*",
        "markerColor": "r",
        "num_cameras": num_cameras,
        "camera_names": [f"camera-{i}" for i in range(1, num_cameras + 1)],
        "scorername_3d": "DLC_3D",
    }
    # DLC writes all config_file_ keys first, then shuffle_/trainingsetindex_ per camera.
    for i in range(1, num_cameras + 1):
        cfg[f"config_file_camera-{i}"] = str(
            Path(project_path).parent / f"2DprojectCam{i}-{experimenter}-YYYY-MM-DD" / "config.yaml"
        )
    for i in range(1, num_cameras + 1):
        cfg[f"shuffle_camera-{i}"] = 1
        cfg[f"trainingsetindex_camera-{i}"] = 0
    return cfg


def create_new_project_3d(
    project: str, experimenter: str, num_cameras: int = 2, working_directory: str | os.PathLike | None = None
) -> str:
    """Create DeepLabCut's 3D project folder and its ``config.yaml``.

    Parameters
    ----------
    project, experimenter : project name and experimenter (``Task``, ``scorer``).
    num_cameras : number of cameras (>= 2); they are named ``camera-1`` ... ``camera-<n>``.
    working_directory : parent folder (default: the current working directory).

    Returns
    -------
    The path of ``<working_directory>/<project>-<experimenter>-<YYYY-MM-DD>-3d/config.yaml`` (str). An
    existing project is never overwritten: its config path is returned unchanged (with a message).
    """
    from posenb.project.paths import check_name, project_folder_name

    check_name(project, "Project name")
    check_name(experimenter, "Experimenter")
    if int(num_cameras) < 2:
        raise ConfigError(f"A 3D project needs at least 2 cameras (num_cameras={num_cameras}).")
    today = _dt.date.today()
    wd = Path(working_directory if working_directory is not None else ".").expanduser().resolve()
    project_path = wd / project_folder_name(project, experimenter, today, suffix="-3d")
    config_path = project_path / "config.yaml"
    if project_path.exists():
        print(f'Project "{project_path}" already exists; nothing was changed.')
        return str(config_path)
    for name in SUBFOLDERS:
        (project_path / name).mkdir(parents=True, exist_ok=True)
    write_config_3d(
        config_path, _default_config(project, experimenter, int(num_cameras), project_path, today)
    )
    print(
        f'Created the 3D project "{project_path}". Put the calibration images (names containing the camera '
        "names, .jpg) into calibration_images/ and run calibrate_cameras(config)."
    )
    return str(config_path)


def _dump(key: str, value: Any) -> str:
    return yaml.safe_dump({key: value}, sort_keys=False, default_flow_style=False, allow_unicode=True)


def write_config_3d(path: str | os.PathLike, cfg: dict) -> Path:
    """Write a 3D ``config.yaml`` in DLC 2.3's order with its section comments (atomic, backup kept)."""
    from posenb.io.atomic import atomic_write

    cfg = dict(cfg)
    lines: list[str] = []
    for comment, keys in _SECTIONS:
        lines.append(comment)
        for key in keys:
            lines.append(_dump(key, cfg.pop(key, None)).rstrip("\n"))
        lines.append("")
    for key, value in cfg.items():  # per-camera keys, in their order
        lines.append(_dump(key, value).rstrip("\n"))
    text = "\n".join(lines) + "\n"
    path = Path(path)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path


def is_config_3d(path: str | os.PathLike | None) -> bool:
    """True if ``path`` (a config.yaml or its folder) is a 3D project's config (it lists ``camera_names``).

    Never raises: a missing or unreadable file is simply not a 3D config.
    """
    if not path:
        return False
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / "config.yaml"
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return False
    return isinstance(cfg, dict) and "camera_names" in cfg


def read_config_3d(path: str | os.PathLike) -> dict:
    """Read a 3D ``config.yaml`` (``yaml.safe_load``).

    ``project_path`` is set to the folder that holds the file when the project was moved (in memory only).
    Raises :class:`ConfigError` for a missing file, bad YAML, or a 2D config passed by mistake.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "config.yaml"
    if not path.is_file():
        raise ConfigError(f"3D config not found: {path}. Create one with create_new_project_3d().")
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{path} is not valid YAML ({exc}). Fix the file by hand or restore config.yaml.bak."
        ) from None
    if not isinstance(cfg, dict):
        raise ConfigError(f"{path} is empty or not a mapping of settings.")
    missing = [k for k in _REQUIRED if k not in cfg]
    if missing:
        hint = " This looks like a 2D project config." if "bodyparts" in cfg else ""
        raise ConfigError(
            f"{path} lacks the 3D keys {missing}.{hint} Pass the config.yaml of the 3D project."
        )
    cams = cfg["camera_names"]
    if not isinstance(cams, list) or len(cams) < 2 or len(set(map(str, cams))) != len(cams):
        raise ConfigError(f"{path}: camera_names must list at least two distinct names (got {cams!r}).")
    cfg["camera_names"] = [str(c) for c in cams]
    from posenb.project.paths import check_path_component

    for cam in cfg["camera_names"]:
        check_path_component(cam, f"{path}: camera name")
    for key in ("Task", "scorer", "scorername_3d"):
        if cfg.get(key) is not None:
            check_path_component(cfg[key], f"{path}: '{key}'")
    if Path(str(cfg["project_path"])) != path.parent.resolve():
        cfg["project_path"] = str(path.parent.resolve())
    return cfg


def project_folders(cfg: dict) -> dict[str, Path]:
    """Absolute sub-folders of the 3D project, by name (see :data:`SUBFOLDERS`); created if missing."""
    root = Path(cfg["project_path"])
    out = {}
    for name in SUBFOLDERS:
        out[name] = root / name
        out[name].mkdir(parents=True, exist_ok=True)
    return out


def camera_setting(cfg: dict, cam: str, kind: str, default: Any = None) -> Any:
    """Per-camera setting ``<kind>_<cam>`` or, before renaming, ``<kind>_camera-<i>``.

    ``kind`` is ``config_file``, ``shuffle`` or ``trainingsetindex``.
    """
    i = cfg["camera_names"].index(cam) + 1
    for key in (f"{kind}_{cam}", f"{kind}_camera-{i}"):
        if key in cfg:
            return cfg[key]
    return default


def rename_camera_keys(cfg: dict) -> dict:
    """Rename ``<kind>_camera-<i>`` to ``<kind>_<camera name>`` in place of order (DLC's calibrate_cameras).

    DLC renames ``config_file_`` and ``shuffle_`` keys; posenb also renames ``trainingsetindex_`` since DLC's
    triangulate reads ``trainingsetindex_<camera name>``. Returns a new dict.
    """
    names = {}
    for i, cam in enumerate(cfg["camera_names"], start=1):
        for kind in ("config_file", "shuffle", "trainingsetindex"):
            old, new = f"{kind}_camera-{i}", f"{kind}_{cam}"
            if old != new and old in cfg and new not in cfg:
                names[old] = new
    return {names.get(k, k): v for k, v in cfg.items()}
