"""``create_new_project`` and ``add_new_videos``: DeepLabCut's project folder, config.yaml and video links."""

from __future__ import annotations

import copy
import datetime as _dt
import os
import shutil
import warnings
from collections.abc import Iterable
from pathlib import Path

from posenb.errors import ConfigError, PosenbError, VideoError
from posenb.io.video import probe_video
from posenb.project.config import DEFAULT_CONFIG, format_crop, read_config, write_config
from posenb.project.paths import check_name, list_videos, project_date, video_stem

__all__ = ["create_new_project", "add_new_videos"]

SUBFOLDERS = ("videos", "labeled-data", "training-datasets", "dlc-models")


def _link_or_copy(src: Path, dst: Path, copy_videos: bool) -> Path:
    if copy_videos:
        shutil.copy2(src, dst)
    else:
        try:
            dst.symlink_to(src.resolve())
        except OSError:
            shutil.copy2(src, dst)  # file systems without symlinks (some Windows, FAT): copy instead
    return dst


def create_new_project(
    project: str,
    experimenter: str,
    videos: str | os.PathLike | Iterable,
    working_directory: str | os.PathLike | None = None,
    copy_videos: bool = False,
    videotype: str = "",
    bodyparts: list[str] | None = None,
    skeleton: list[list[str]] | None = None,
) -> str:
    """Create a DeepLabCut-compatible project and return the path of its config.yaml.

    Parameters
    ----------
    project, experimenter : project name (``Task``) and labeller name (``scorer``); letters, digits, ``_``, ``-``.
    videos : video files and/or directories (scanned for ``videotype`` or any known video extension).
    working_directory : where ``<project>-<experimenter>-<YYYY-MM-DD>`` is created (default: current folder).
    copy_videos : copy videos into ``videos/`` instead of symlinking them (the default; falls back to a copy).
    bodyparts, skeleton : optional initial body parts and skeleton (DLC's placeholders otherwise).

    An existing project folder is never clobbered: its config path is returned unchanged. Videos that cannot
    be decoded are reported and skipped; if none is usable, nothing is created and :class:`VideoError` is raised.
    """
    check_name(project, "Project name")
    check_name(experimenter, "Experimenter")
    today = _dt.date.today()
    wd = Path(working_directory or os.getcwd()).expanduser().resolve()
    project_dir = wd / f"{project}-{experimenter}-{today.isoformat()}"
    config_path = project_dir / "config.yaml"
    if config_path.exists():
        warnings.warn(f"Project {project_dir} already exists; nothing was changed.", stacklevel=2)
        return str(config_path)
    if project_dir.exists() and any(project_dir.iterdir()):
        raise ConfigError(f"{project_dir} exists and is not a posenb/DeepLabCut project (no config.yaml); choose another name or folder.")

    candidates = list_videos(videos, videotype)
    usable: list[tuple[Path, tuple[int, int, int]]] = []
    problems = []
    for v in candidates:
        try:
            usable.append((v, probe_video(v)))
        except VideoError as exc:
            problems.append(str(exc))
    for msg in problems:
        warnings.warn(f"Skipping video: {msg}", stacklevel=2)
    if not usable:
        raise VideoError(
            "No usable video among " + (", ".join(map(str, candidates)) or "the given paths")
            + ". Nothing was created." + (" " + " ".join(problems) if problems else "")
        )

    project_dir.mkdir(parents=True, exist_ok=True)
    for sub in SUBFOLDERS:
        (project_dir / sub).mkdir(exist_ok=True)
    video_sets = {}
    for src, (w, h, _n) in usable:
        dst = project_dir / "videos" / src.name
        if dst.exists() or dst.is_symlink():
            raise ConfigError(f"Two videos are named {src.name}; rename one (videos are matched by file name).")
        _link_or_copy(src, dst, copy_videos)
        key = str(dst.resolve()) if not copy_videos else str(dst)
        video_sets[key] = {"crop": format_crop(0, w, 0, h)}
        (project_dir / "labeled-data" / video_stem(src)).mkdir(exist_ok=True)

    cfg = copy.deepcopy(DEFAULT_CONFIG)
    cfg.update(
        Task=project,
        scorer=experimenter,
        date=project_date(today),
        project_path=str(project_dir),
        video_sets=video_sets,
    )
    if bodyparts:
        cfg["bodyparts"] = list(bodyparts)
        cfg["skeleton"] = [list(b) for b in skeleton] if skeleton else []
    elif skeleton:
        cfg["skeleton"] = [list(b) for b in skeleton]
    write_config(config_path, cfg)
    (config_path.with_name("config.yaml.bak")).unlink(missing_ok=True)
    if bodyparts:
        print(f'Created "{project_dir}" with {len(video_sets)} video(s) and body parts {list(bodyparts)}. Next: extract_frames.')
    else:
        print(f'Created "{project_dir}" with {len(video_sets)} video(s). Next: edit bodyparts in config.yaml, then extract_frames.')
    return str(config_path)


def add_new_videos(
    config: str | os.PathLike,
    videos: str | os.PathLike | Iterable,
    copy_videos: bool = False,
    coords: list | None = None,
    extract_frames: bool = False,
    videotype: str = "",
) -> list[str]:
    """Add videos to a project: link/copy into ``videos/``, add ``video_sets`` entries and label folders.

    ``coords`` is an optional list of ``[x1, x2, y1, y2]`` crops, one per video. An existing destination is
    skipped (not an error). Returns the paths added to ``video_sets``. ``extract_frames=True`` (frames of the
    added videos extracted without questions) is DeepLabCut's ``add_new_videos`` = ``posenb.add_new_videos``
    (:func:`posenb.frames.extract.add_new_videos`): this layer imports no later stage.
    """
    if extract_frames:
        raise PosenbError(
            "add_new_videos(extract_frames=True) is posenb.add_new_videos (it chains extract_frames); "
            "posenb.project.create.add_new_videos only adds the videos."
        )
    cfg = read_config(config)
    project_dir = Path(cfg["project_path"])
    candidates = list_videos(videos, videotype)
    if coords is not None and len(coords) != len(candidates):
        raise ConfigError(f"coords has {len(coords)} entries for {len(candidates)} videos; give one [x1, x2, y1, y2] per video.")
    key_name = "video_sets_original" if "video_sets_original" in cfg else "video_sets"
    known_stems = {video_stem(v) for v in cfg.get(key_name) or {}}
    added = []
    for i, src in enumerate(candidates):
        try:
            w, h, _ = probe_video(src)
        except VideoError as exc:
            warnings.warn(f"Skipping video: {exc}", stacklevel=2)
            continue
        dst = project_dir / "videos" / src.name
        (project_dir / "videos").mkdir(exist_ok=True)
        if not (dst.exists() or dst.is_symlink()):
            _link_or_copy(src, dst, copy_videos)
        (project_dir / "labeled-data" / video_stem(src)).mkdir(parents=True, exist_ok=True)
        if video_stem(src) in known_stems:
            continue
        crop = format_crop(*coords[i]) if coords is not None else format_crop(0, w, 0, h)
        key = str(dst.resolve()) if not copy_videos else str(dst)
        cfg.setdefault(key_name, {})[key] = {"crop": crop}
        known_stems.add(video_stem(src))
        added.append(key)
    write_config(Path(cfg["project_path"]) / "config.yaml", cfg)
    if added:
        print(f"Added {len(added)} video(s) to {project_dir}.")
    return added
