"""Which file is "the analysis" of a video: ``<stem><DLCscorer>[<tracker>][_filtered].h5``, DeepLabCut's rule.

Single-animal projects: ``<stem>DLC...h5`` (or legacy ``DeepCut``) whose scorer is the project's and shuffle's.
Multi-animal projects: only the tracked file counts, with DeepLabCut's tracker suffix (``get_track_method``):
``track_method`` if given, else config ``default_track_method``, else ``ellipse`` -> ``_el``. The per-frame
animals file (``_detections.h5``) and the tracklets file are never the analysis.

One home for the rule (post-processing, outlier frames, the track proofreader, the panels and the predictions
export of :mod:`posenb.formats` all call it); low enough in the layers for ``formats`` to use.
"""

from __future__ import annotations

import os
from pathlib import Path

from posenb.errors import ConfigError, LabelError
from posenb.io.predictions import is_analysis_name
from posenb.project.paths import scorer_pattern, video_stem

__all__ = ["TRACKERS", "tracker_suffix", "find_analysis_file"]

TRACKERS = {"ellipse": "_el", "box": "_bx", "skeleton": "_sk", "transformer": "_tr", "ctd": "_ctd"}


def tracker_suffix(cfg: dict, track_method: str = "") -> str:
    """The tracker suffix of the analysis files of this project: ``""`` (single animal) or e.g. ``"_el"``.

    DeepLabCut's rule: for a multi-animal project ``track_method`` if given, else config
    ``default_track_method``, else ``"ellipse"``; an unknown method is a :class:`ConfigError`.
    """
    if not cfg.get("multianimalproject"):
        return ""
    method = track_method or cfg.get("default_track_method") or "ellipse"
    if method not in TRACKERS:
        raise ConfigError(f"Unknown track_method {method!r}; choose one of {sorted(TRACKERS)}.")
    return TRACKERS[method]


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
    ``_el``; see :func:`tracker_suffix`).

    Raises :class:`LabelError` naming the folder and what was found when there is no match.
    """
    video = Path(video)
    stem = video_stem(video)
    folder = Path(destfolder) if destfolder is not None else video.parent
    pattern = scorer_pattern(cfg, shuffle)
    names = sorted(f.name for f in folder.iterdir() if f.is_file()) if folder.is_dir() else []
    candidates = [n for n in names if is_analysis_name(n, stem, filtered)]
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
