"""``load_demo_data``: make one of DeepLabCut's bundled demo projects usable where it was unpacked.

DeepLabCut ships its demo projects (``examples/openfield-Pranav-2018-10-30``, ``examples/Reaching-Mackenzie-2018-08-30``)
with two placeholders in config.yaml::

    project_path: WILL BE AUTOMATICALLY UPDATED BY DEMO CODE
    video_sets:
      WILL BE AUTOMATICALLY UPDATED BY DEMO CODE:
        crop: 0, 640, 0, 480

:func:`load_demo_data` replaces them (the project folder, and a path in the project's ``videos/`` folder), writes
config.yaml (DLC's key order and section comments, atomically, the file as shipped kept as ``config.yaml.bak``) and
optionally creates the training set (``create_training_dataset(config, num_shuffles=1)``), as DeepLabCut does.
"""

from __future__ import annotations

import os
from pathlib import Path

from posenb.errors import ConfigError
from posenb.project import paths
from posenb.project.config import read_config, write_config
from posenb.project.status import DEMO_PLACEHOLDER

__all__ = ["load_demo_data", "PLACEHOLDER", "DEMO_VIDEOS"]

#: the placeholder DeepLabCut's demo configs hold in ``project_path`` and as the ``video_sets`` key
PLACEHOLDER = DEMO_PLACEHOLDER  # the video_sets key (and project_path) of DLC's bundled demo projects

#: DeepLabCut's choice of ``video_sets`` file per demo (matched against the project folder name): the file name
#: carries the stem of the demo's ``labeled-data`` folder. For openfield that file is not shipped (the demo's
#: video to analyse is ``videos/m3v1mp4.mp4``); what matters is the stem, which ties the labels to ``video_sets``.
DEMO_VIDEOS = {"Reaching": "reachingvideo1.avi", "openfield": "m4s1.mp4"}


def _label_stems(project: Path) -> list[str]:
    from posenb.io.label_folder import list_label_folders  # noqa: PLC0415

    return list_label_folders(project)


def _demo_videos(project: Path) -> list[Path]:
    """Video paths (in ``<project>/videos``, not resolved) to put in place of the placeholder ``video_sets`` key.

    1. the videos of ``videos/`` whose stem is the name of a ``labeled-data`` folder (the labels belong to them);
    2. else DeepLabCut's file for a known demo (:data:`DEMO_VIDEOS`), which carries the labeled folder's stem
       even where the file itself is not shipped.
    """
    vdir = project / "videos"
    stems = _label_stems(project)
    videos = sorted(
        f for f in (vdir.iterdir() if vdir.is_dir() else []) if f.suffix.lower() in paths.VIDEO_EXTENSIONS
    )
    matched = [v for v in videos if v.stem in stems]
    if matched:
        return matched
    for key, name in DEMO_VIDEOS.items():
        if key in project.name:
            path = vdir / name
            if not path.exists():
                others = ", ".join(v.name for v in videos) or "none"
                print(
                    f"video_sets: {path.name} (the video of the labels in labeled-data/{path.stem}) is not shipped "
                    f"with this demo; videos in {vdir}: {others}. Analyse those with posenb.analyze_videos."
                )
            return [path]
    raise ConfigError(
        f"{project / 'config.yaml'}: cannot tell which video replaces the video_sets key {PLACEHOLDER!r}: no video "
        f"in {vdir} is named after a labeled-data folder ({', '.join(stems) or 'none found'}). Put the video there "
        "(named <folder>.mp4), or write its path into video_sets yourself."
    )


def load_demo_data(config: str | os.PathLike, createtrainingset: bool = True) -> str:
    """Set up a DeepLabCut demo project (e.g. ``openfield-Pranav-2018-10-30``) where it lies, as DeepLabCut does.

    Parameters
    ----------
    config : path of the demo's config.yaml (or its folder).
    createtrainingset : then create the training set: ``create_training_dataset(config, num_shuffles=1)``.

    What it does:

    - ``project_path`` := the folder holding config.yaml (absolute);
    - the ``video_sets`` key ``WILL BE AUTOMATICALLY UPDATED BY DEMO CODE`` is replaced (its crop value kept) by
      ``<project>/videos/<name>``: each video of ``videos/`` named after a ``labeled-data`` folder, or else
      DeepLabCut's file name for the demo (``m4s1.mp4`` for openfield, ``reachingvideo1.avi`` for Reaching), so
      that the labels and ``video_sets`` share the video stem;
    - config.yaml is rewritten with DeepLabCut's key order and section comments (atomic; the previous file is kept
      as ``config.yaml.bak``). Running it again is harmless (no placeholder left: only ``project_path`` is set).

    Returns the config.yaml path (str). Raises :class:`~posenb.errors.ConfigError` when the file is missing or
    invalid, or when no video can be chosen for the placeholder; ``LabelError`` (from ``create_training_dataset``)
    when the project holds no labels.
    """
    path = Path(config).expanduser()
    if path.is_dir():
        path = path / "config.yaml"
    path = path.resolve()
    cfg = read_config(path, repair_project_path=False)
    project = path.parent
    cfg["project_path"] = str(project)
    video_sets = cfg.get("video_sets") or {}
    if PLACEHOLDER in video_sets:
        entry = video_sets[PLACEHOLDER]
        new = {}
        for key, value in video_sets.items():
            if key == PLACEHOLDER:
                for video in _demo_videos(project):
                    new[str(video)] = dict(entry) if isinstance(entry, dict) else entry
            else:
                new[key] = value
        cfg["video_sets"] = new
    write_config(path, cfg)
    if createtrainingset:
        from posenb.data.trainingset import create_training_dataset  # noqa: PLC0415

        print("Loaded, now creating training data...")
        create_training_dataset(str(path), num_shuffles=1)
    return str(path)
