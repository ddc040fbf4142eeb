"""Helpers shared by the post-processing functions (and outlier extraction).

- :func:`find_analysis_file`: the ``<stem><DLCscorer>[_filtered].h5`` of a video for a config + shuffle;
- :func:`iter_analyses`: the same over a list of videos / folders, reporting the ones not analysed;
- :func:`select_bodyparts`, :func:`bodypart_colors`, :func:`crop_offset`, :func:`drawing_params`;
- ``ask_yes_no`` (from :mod:`posenb.io.prompt`): a question that never hangs when nobody can answer it.

Nothing here imports matplotlib, cv2 or torch at module level.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, LabelError
from posenb.io.predictions import is_analysis_name as _is_analysis_name
from posenb.io.predictions import select_bodyparts  # noqa: F401 - re-exported for post/ and frames/
from posenb.io.prompt import ask_yes_no, stdin_is_interactive  # noqa: F401 - re-exported
from posenb.post._multi import tracker_suffix
from posenb.project.config import usable_skeleton
from posenb.project.paths import list_videos, scorer_pattern, video_stem  # scorer_pattern: re-exported

__all__ = [
    "scorer_pattern",
    "find_analysis_file",
    "iter_analyses",
    "select_bodyparts",
    "bodypart_colors",
    "color_to_rgb",
    "crop_offset",
    "drawing_params",
    "ask_yes_no",
    "stdin_is_interactive",
]


def find_analysis_file(
    cfg: dict,
    video: str | os.PathLike,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    filtered: bool = False,
    destfolder: str | os.PathLike | None = None,
    scorer: str | None = None,
    track_method: str = "",
) -> Path:
    """The analysis ``.h5`` of ``video`` for this project and shuffle.

    Looks in ``destfolder`` (default: the video's folder) for ``<stem>DLC...h5`` (or legacy ``DeepCut``) whose
    scorer contains ``<Task><date>shuffle<k>_`` (:func:`scorer_pattern`), skipping ``_skeleton`` files, and
    ``_filtered`` ones unless ``filtered``. With ``scorer`` given the name must start with ``<stem><scorer>``.
    When several snapshots/networks analysed the video, the newest file wins (as DLC's
    ``find_analyzed_data`` with the current snapshot usually does). ``trainingsetindex`` is accepted for DLC's
    signature: scorer strings do not contain the training fraction.

    Multi-animal project: only the tracked file counts, ``<stem><DLCscorer><tracker>[_filtered].h5`` with
    DeepLabCut's tracker suffix (``track_method``, else config ``default_track_method``, else ``ellipse``:
    ``_el``; see :func:`posenb.post._multi.tracker_suffix`).

    Raises :class:`LabelError` naming the folder and what was found when there is no match.
    """
    video = Path(video)
    stem = video_stem(video)
    folder = Path(destfolder) if destfolder is not None else video.parent
    pattern = scorer_pattern(cfg, shuffle)
    names = sorted(f.name for f in folder.iterdir() if f.is_file()) if folder.is_dir() else []
    candidates = [n for n in names if _is_analysis_name(n, stem, filtered)]
    tracker = tracker_suffix(cfg, track_method)
    if tracker:
        tail = tracker + ("_filtered" if filtered else "") + ".h5"
        candidates = [n for n in candidates if n.endswith(tail)]
    if scorer:
        hits = [n for n in candidates if n.startswith(stem + scorer)]
    else:
        hits = [n for n in candidates if pattern in n[len(stem) :]]
    if not hits:
        kind = "filtered predictions" if filtered else "predictions"
        others = [n for n in candidates if n not in hits]
        hint = "run filterpredictions first" if filtered else "run analyze_videos first"
        if tracker and not filtered:
            hint = (
                f"no tracked file (*{tracker}.h5): run analyze_videos(..., auto_track=True) or stitch_tracklets, "
                "or pass track_method="
            )
        msg = f"No {kind} of video {video.name!r} (shuffle {shuffle}, scorer *{scorer or pattern}*) in {folder}: {hint}"
        if others:
            msg += (
                f". Found files of other models/shuffles: {others[:3]} (check shuffle=, or pass destfolder=)"
            )
        raise LabelError(msg + ".")
    paths = [folder / n for n in hits]
    return max(paths, key=lambda p: p.stat().st_mtime)


def iter_analyses(
    cfg: dict,
    videos,
    videotype: str | Iterable[str] = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    filtered: bool = False,
    destfolder: str | os.PathLike | None = None,
    track_method: str = "",
) -> Iterator[tuple[Path, Path]]:
    """Yield ``(video, analysis h5)`` for each video in ``videos`` (files and/or folders).

    Videos without an analysis file are reported with a warning and skipped, like DeepLabCut does; if *no*
    video has one, :class:`LabelError` is raised so that a typo does not pass silently.
    """
    vids = list_videos(videos, videotype)
    if not vids:
        raise LabelError(
            f"No videos found in {videos!r} (videotype {videotype!r}). Check the paths and videotype."
        )
    errors = []
    found = 0
    for video in vids:
        try:
            h5 = find_analysis_file(
                cfg, video, shuffle, trainingsetindex, filtered, destfolder, track_method=track_method
            )
        except LabelError as exc:
            errors.append(str(exc))
            continue
        found += 1
        yield video, h5
    if errors and not found:
        raise LabelError(" ".join(errors))
    for msg in errors:
        warnings.warn(msg, stacklevel=3)


def bodypart_colors(colormap: str, n: int, where: str = "config.yaml") -> np.ndarray:
    """``(n, 3)`` float RGB in [0, 1]: ``n`` colours sampled evenly from a matplotlib colormap (DLC's ``get_cmap``).

    The one colour rule of posenb (labeled videos, plots, check_labels, outlier frames and the panels use it);
    an unknown colormap is a :class:`ConfigError` naming ``where`` (the panels then fall back to rainbow).
    """
    import matplotlib  # noqa: PLC0415

    try:
        cmap = matplotlib.colormaps[colormap]
    except (KeyError, ValueError, TypeError):
        raise ConfigError(
            f"{where}: unknown colormap {colormap!r}; use a matplotlib name such as 'rainbow', 'jet', 'viridis'."
        ) from None
    if n <= 0:
        return np.zeros((0, 3))
    return np.asarray(cmap.resampled(n)(np.arange(n)))[:, :3]


def color_to_rgb(color) -> np.ndarray:
    """A matplotlib colour (name, hex, or RGB tuple in [0, 1] or [0, 255]) as ``(3,)`` float RGB in [0, 1]."""
    if isinstance(color, (list, tuple, np.ndarray)) and len(color) in (3, 4) and max(color[:3]) > 1:
        return np.asarray(color[:3], float) / 255.0
    from matplotlib.colors import to_rgb  # noqa: PLC0415

    try:
        return np.asarray(to_rgb(color), float)
    except ValueError:
        raise ConfigError(
            f"Unknown colour {color!r} (skeleton_color); use a matplotlib colour name or hex code."
        ) from None


def crop_offset(meta: dict, h5=None, cfg: dict | None = None) -> tuple[float, float]:
    """``(x1, y1)`` to add to predictions of a cropped analysis (DLC ``_meta.pickle``); ``(0, 0)`` otherwise.

    With ``h5`` (the analysis file whose meta ``meta`` is): a missing ``_meta.pickle`` is an error
    (:class:`~posenb.errors.LabelError`) when ``cfg`` has ``cropping: true`` -- the offset is unknown, and
    ``(0, 0)`` would shift every point -- and a warning otherwise. ``analyze_videos`` redoes such analyses.
    """
    if not meta and h5 is not None:
        from posenb.io.predictions import meta_path  # noqa: PLC0415

        missing = meta_path(h5)
        if not missing.is_file():
            advice = "Run analyze_videos again: it redoes analyses whose outputs are incomplete."
            if (cfg or {}).get("cropping"):
                raise LabelError(
                    f"{missing} is missing and config.yaml has cropping: true, so the crop offset of {Path(h5).name} "
                    f"is unknown. {advice}"
                )
            warnings.warn(
                f"{missing} is missing: assuming {Path(h5).name} was not cropped. {advice}", stacklevel=2
            )
    if meta and meta.get("cropping"):
        params = meta.get("cropping_parameters") or [0, 0, 0, 0]
        return float(params[0]), float(params[2])
    return 0.0, 0.0


def drawing_params(cfg: dict, **overrides) -> dict:
    """pcutoff, dotsize, alphavalue, colormap, skeleton, skeleton_color from config.yaml; ``None`` overrides are ignored."""
    params = {
        "pcutoff": float(cfg.get("pcutoff", 0.6)),
        "dotsize": float(cfg.get("dotsize", 8)),
        "alphavalue": float(cfg.get("alphavalue", 0.7)),
        "colormap": cfg.get("colormap") or "rainbow",
        "skeleton": usable_skeleton(cfg),
        "skeleton_color": cfg.get("skeleton_color") or "black",
    }
    params.update({k: v for k, v in overrides.items() if v is not None})
    return params
