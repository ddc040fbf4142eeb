"""``create_new_project`` and ``add_new_videos``: DeepLabCut's project folder, config.yaml and video links."""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import warnings
from collections.abc import Iterable
from pathlib import Path

from posenb.errors import ConfigError, PosenbError, VideoError
from posenb.io.video import probe_video
from posenb.project.config import ProjectConfig, format_crop, read_config, write_config
from posenb.project.paths import (
    check_name,
    list_videos,
    project_date,
    project_folder_name,
    project_folder_problem,
    video_stem,
)

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


def _new_config(
    project: str,
    experimenter: str,
    multianimal: bool,
    individuals: Iterable[str] | None,
    bodyparts: list[str] | None,
    skeleton: list[list[str]] | None,
    uniquebodyparts: list[str] | None,
) -> ProjectConfig:
    """DeepLabCut 3.0.1's template for the new project, with the given names; validated (nothing written)."""
    if not isinstance(multianimal, bool):
        raise ConfigError(
            f"create_new_project: multianimal must be True or False, got {multianimal!r} "
            "(pass body parts by name: bodyparts=[...])."
        )
    if not multianimal and (individuals is not None or uniquebodyparts):
        raise ConfigError("create_new_project: individuals and uniquebodyparts need multianimal=True.")
    pc = ProjectConfig.template(multianimal)
    pc.Task, pc.scorer, pc.date = project, experimenter, project_date(_dt.date.today())
    if multianimal:
        if individuals is not None:
            pc.individuals = [individuals] if isinstance(individuals, str) else [str(i) for i in individuals]
        if bodyparts:
            pc.multianimalbodyparts = list(bodyparts)
        if uniquebodyparts:
            pc.uniquebodyparts = list(uniquebodyparts)
        if bodyparts or uniquebodyparts:
            pc.skeleton = []
    elif bodyparts:
        pc.bodyparts = list(bodyparts)
        pc.skeleton = []
    if skeleton:
        pc.skeleton = [list(b) for b in skeleton]
    pc.validate("create_new_project")
    return pc


def _usable_videos(candidates: list[Path]) -> list[tuple[Path, tuple[int, int, int]]]:
    """``(path, (width, height, n_frames))`` of the videos that decode; the others are warned about."""
    usable: list[tuple[Path, tuple[int, int, int]]] = []
    problems = []
    for v in candidates:
        try:
            usable.append((v, probe_video(v)))
        except VideoError as exc:
            problems.append(str(exc))
    for msg in problems:
        warnings.warn(f"Skipping video: {msg}", stacklevel=3)
    if not usable:
        raise VideoError(
            "No usable video among "
            + (", ".join(map(str, candidates)) or "the given paths")
            + ". Nothing was created."
            + (" " + " ".join(problems) if problems else "")
        )
    return usable


def create_new_project(
    project: str,
    experimenter: str,
    videos: str | os.PathLike | Iterable,
    working_directory: str | os.PathLike | None = None,
    copy_videos: bool = False,
    videotype: str = "",
    multianimal: bool = False,
    individuals: list[str] | None = None,
    bodyparts: list[str] | None = None,
    skeleton: list[list[str]] | None = None,
    uniquebodyparts: list[str] | None = None,
) -> str:
    """Create a DeepLabCut-compatible project and return the path of its config.yaml.

    Parameters
    ----------
    project, experimenter : project name (``Task``) and labeller name (``scorer``); letters, digits, ``_``, ``-``.
    videos : video files and/or directories (scanned for ``videotype`` or any known video extension).
    working_directory : where ``<project>-<experimenter>-<YYYY-MM-DD>`` is created (default: current folder).
    copy_videos : copy videos into ``videos/`` instead of symlinking them (the default; falls back to a copy).
    multianimal : a multi-animal project (DeepLabCut's keys ``multianimalproject: true``, ``individuals``,
        ``multianimalbodyparts``, ``uniquebodyparts``, ``bodyparts: MULTI!``, ``identity: false``,
        ``default_track_method: ellipse``).
    individuals : names of the animals of a multi-animal project (default: DeepLabCut's ``individual1..3``).
    bodyparts, skeleton : optional initial body parts (of every individual, when multi-animal) and skeleton
        (DLC's placeholders otherwise).
    uniquebodyparts : multi-animal only: scene points labeled once per frame (stored under ``"single"``).

    An existing project folder is never clobbered: its config path is returned unchanged. Videos that cannot
    be decoded are reported and skipped; if none is usable, nothing is created and :class:`VideoError` is raised.
    Invalid names (e.g. an individual called ``single``) raise :class:`ConfigError` before anything is written.
    """
    check_name(project, "Project name")
    check_name(experimenter, "Experimenter")
    wd = Path(working_directory or os.getcwd()).expanduser().resolve()
    project_dir = wd / project_folder_name(project, experimenter)
    config_path = project_dir / "config.yaml"
    if config_path.exists():
        warnings.warn(f"Project {project_dir} already exists; nothing was changed.", stacklevel=2)
        return str(config_path)
    problem = project_folder_problem(project_dir)
    if problem:
        raise ConfigError(problem)
    pc = _new_config(project, experimenter, multianimal, individuals, bodyparts, skeleton, uniquebodyparts)
    usable = _usable_videos(list_videos(videos, videotype))

    project_dir.mkdir(parents=True, exist_ok=True)
    for sub in SUBFOLDERS:
        (project_dir / sub).mkdir(exist_ok=True)
    video_sets = {}
    for src, (w, h, _n) in usable:
        dst = project_dir / "videos" / src.name
        if dst.exists() or dst.is_symlink():
            raise ConfigError(
                f"Two videos are named {src.name}; rename one (videos are matched by file name)."
            )
        _link_or_copy(src, dst, copy_videos)
        key = str(dst.resolve()) if not copy_videos else str(dst)
        video_sets[key] = {"crop": format_crop(0, w, 0, h)}
        (project_dir / "labeled-data" / video_stem(src)).mkdir(exist_ok=True)
    pc.project_path, pc.video_sets = str(project_dir), video_sets
    pc.save(config_path)
    (config_path.with_name("config.yaml.bak")).unlink(missing_ok=True)
    print(_created_message(project_dir, pc, given_parts=bool(bodyparts or uniquebodyparts)))
    return str(config_path)


def _created_message(project_dir: Path, pc: ProjectConfig, given_parts: bool) -> str:
    n = len(pc.video_sets or {})
    if pc.multianimalproject:
        head = (
            f'Created multi-animal project "{project_dir}" with {n} video(s) and individuals {pc.individuals}'
        )
        if given_parts:
            unique = f", unique body parts {pc.uniquebodyparts}" if pc.uniquebodyparts else ""
            return f"{head}, body parts {pc.multianimalbodyparts}{unique}. Next: extract_frames."
        return f"{head}. Next: edit multianimalbodyparts (and uniquebodyparts) in config.yaml, then extract_frames."
    if given_parts:
        return (
            f'Created "{project_dir}" with {n} video(s) and body parts {pc.bodyparts}. Next: extract_frames.'
        )
    return f'Created "{project_dir}" with {n} video(s). Next: edit bodyparts in config.yaml, then extract_frames.'


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
        raise ConfigError(
            f"coords has {len(coords)} entries for {len(candidates)} videos; give one [x1, x2, y1, y2] per video."
        )
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
