"""Tracking's public functions: DeepLabCut's step names and the one call of ``analyze_videos(auto_track=True)``.

- :func:`track_detections`: arrays in, arrays out (per-frame animals -> tracks), no files;
- :func:`track_video`: ``<stem><DLCscorer>_detections.h5`` -> ``<stem><DLCscorer>_el.h5`` (+ ``.csv``, and the
  ``_tracklets.h5`` kept for inspection); what the analysis calls;
- :func:`convert_detections2tracklets` and :func:`stitch_tracklets`: DeepLabCut's two steps on a project's videos
  (``config``, ``videos``), through the ``_tracklets.h5`` file.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, LabelError
from posenb.io.detections import read_detections
from posenb.project.config import project_parts, read_config
from posenb.project.paths import list_videos, scorer_pattern, video_stem
from posenb.track.files import (
    DETECTIONS_SUFFIX,
    read_tracklets,
    track_suffix,
    tracked_name,
    tracked_table,
    tracklets_name,
    write_tracked,
    write_tracklets,
)
from posenb.track.stitch import assign_identities, stitch, tracks_to_array
from posenb.track.tracklets import Tracklets, build_tracklets

__all__ = [
    "TrackResult",
    "track_detections",
    "track_names",
    "track_video",
    "convert_detections2tracklets",
    "stitch_tracklets",
    "find_detections",
]

#: keyword arguments of :func:`~posenb.track.tracklets.build_tracklets` and of :func:`~posenb.track.stitch.stitch`
_ASSOC = ("max_distance", "max_age", "min_score", "min_likelihood", "alpha", "beta", "split", "split_margin")
_STITCH = ("min_length", "max_gap", "max_links", "identity_weight")


@dataclass
class TrackResult:
    """``tracks`` (T, n_tracks, P, 3) x, y, likelihood (NaN where a track has no animal); ``names`` one per
    track; ``tracklets`` and ``chains`` (tracklet ids of each track, in ``tracks`` order)."""

    tracks: np.ndarray
    names: list[str]
    tracklets: Tracklets
    chains: list[list[int]] = field(default_factory=list)


def _split(params: dict) -> tuple[dict, dict]:
    unknown = set(params) - set(_ASSOC) - set(_STITCH)
    if unknown:
        raise TypeError(f"unknown tracking parameter(s) {sorted(unknown)}; known: {sorted(_ASSOC + _STITCH)}")
    assoc = {k: v for k, v in params.items() if k in _ASSOC}
    if "identity_weight" in params:  # one weight for both steps
        assoc["identity_weight"] = params["identity_weight"]
    return assoc, {k: v for k, v in params.items() if k in _STITCH}


def track_names(n_tracks: int, individuals) -> list[str]:
    """The individuals' names when there are as many tracks as individuals, else ``ind1..indN`` (DeepLabCut's)."""
    individuals = [str(i) for i in individuals or []]
    return individuals if len(individuals) == n_tracks else [f"ind{k + 1}" for k in range(n_tracks)]


def stitch_to_tracks(tk: Tracklets, n_tracks: int, individuals, **stitch_params) -> TrackResult:
    """Tracklets -> :class:`TrackResult` (stitching, then naming by identity when the tracklets carry it)."""
    chains = stitch(tk, n_tracks, **stitch_params)
    names = track_names(n_tracks, individuals)
    order = assign_identities(tk, chains, len(names)) if len(names) == len(individuals or []) else None
    if order is None:
        order = list(range(len(chains)))
    tracks = tracks_to_array(tk, chains, n_tracks, order)
    in_order = [None] * n_tracks
    for k, slot in enumerate(order):
        in_order[slot] = chains[k]
    return TrackResult(tracks, names, tk, [c or [] for c in in_order])


def track_detections(
    poses: np.ndarray,
    n_tracks: int,
    scores: np.ndarray | None = None,
    identity: np.ndarray | None = None,
    individuals=None,
    **params,
) -> TrackResult:
    """Per-frame animals -> ``n_tracks`` tracks, in memory.

    ``poses`` (T, A, P, 3) x, y (px), likelihood, NaN where no animal; ``scores`` (T, A); ``identity``
    (T, A, n_individuals) probabilities over ``individuals``. ``params``: ``max_distance`` (px), ``max_age``,
    ``min_score``, ``min_likelihood``, ``alpha``, ``beta``, ``split``, ``split_margin`` (association, see
    :func:`~posenb.track.tracklets.build_tracklets`) and ``min_length``, ``max_gap``, ``max_links``,
    ``identity_weight`` (stitching, see :func:`~posenb.track.stitch.stitch`).
    """
    assoc, stitch_params = _split(params)
    tk = build_tracklets(poses, scores, identity, **assoc)
    return stitch_to_tracks(tk, n_tracks, individuals, **stitch_params)


def track_video(
    detections_path: str | os.PathLike,
    n_tracks: int | None = None,
    individuals=None,
    *,
    destfolder: str | os.PathLike | None = None,
    save_as_csv: bool = False,
    keep_tracklets: bool = True,
    **params,
) -> Path:
    """Track one video's per-frame animals file; returns the written ``<stem><DLCscorer>_el.h5``.

    ``detections_path``: ``<stem><DLCscorer>_detections.h5``. ``n_tracks``: default the number of
    ``individuals`` (default: those named in the file). Tracks are named after the individuals when there are
    as many, else ``ind1..indN``; with identity predictions each track gets the individual it most likely is.
    Writes, in ``destfolder`` (default: next to the detections), the tracked table (+ ``.csv`` with
    ``save_as_csv``) and, with ``keep_tracklets``, ``<stem><DLCscorer>_tracklets.h5``. ``params``: see
    :func:`track_detections`.
    """
    det = read_detections(detections_path)
    individuals = list(individuals) if individuals is not None else list(det.get("individuals") or [])
    n_tracks = int(n_tracks) if n_tracks else len(individuals)
    if n_tracks < 1:
        raise ConfigError(f"{detections_path}: no individuals named; pass n_tracks (the number of animals).")
    assoc, stitch_params = _split(params)
    tk = build_tracklets(det["poses"], det.get("scores"), det.get("identity"), **assoc)
    meta = dict(det, detections=Path(detections_path).name)
    if keep_tracklets:
        write_tracklets(tracklets_name(detections_path, destfolder), tk, meta, det.get("unique"))
    result = stitch_to_tracks(tk, n_tracks, individuals, **stitch_params)
    return _write_result(
        result, meta, det.get("unique"), tracked_name(detections_path, destfolder), save_as_csv
    )


def _write_result(result: TrackResult, meta: dict, unique, path: Path, save_as_csv: bool) -> Path:
    scorer = meta.get("scorer") or _scorer_from_name(path.name)
    df = tracked_table(
        result.tracks, scorer, result.names, meta["bodyparts"], unique, meta.get("uniquebodyparts") or ()
    )
    return write_tracked(df, path, save_as_csv=save_as_csv)


def _scorer_from_name(name: str) -> str:
    """``DLC_x`` from ``<stem>DLC_x_el.h5`` (for files written without a scorer attribute)."""
    if "DLC" not in name:
        return "posenb"
    return "DLC" + name.split("DLC", 1)[1].rsplit("_el", 1)[0].removesuffix(".h5")


def find_detections(
    video: str | os.PathLike, shuffle: int = 1, destfolder=None, *, cfg: dict | None = None
) -> Path:
    """The newest ``<stem>DLC*<Task><date>shuffle<k>_*_detections.h5`` of ``video`` (in ``destfolder`` or next to
    it); the scorer part is the project's (:func:`posenb.project.paths.scorer_pattern`) when ``cfg`` is given, else
    any project's ``shuffle<k>_``."""
    video = Path(video)
    folder = Path(destfolder) if destfolder else video.parent
    stem = video_stem(video)
    scorer = glob.escape(scorer_pattern(cfg, shuffle)) if cfg is not None else f"shuffle{int(shuffle)}_"
    pattern = f"{glob.escape(stem)}DLC*{scorer}*{DETECTIONS_SUFFIX}"
    hits = [p for p in folder.glob(pattern) if p.is_file()]
    if not hits:
        raise LabelError(
            f"No per-frame animals file {stem}DLC_..shuffle{shuffle}_.._detections.h5 in {folder}. "
            "Run analyze_videos on this multi-animal project first (same shuffle and destfolder)."
        )
    return max(hits, key=lambda p: p.stat().st_mtime)


def _project(config) -> tuple[dict, object]:
    cfg = read_config(config)
    parts = project_parts(cfg)
    if not parts.multianimal:
        raise ConfigError(f"{config}: tracking is for multi-animal projects (multianimalproject: true).")
    return cfg, parts


def convert_detections2tracklets(
    config,
    videos,
    videotype: str = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    overwrite: bool = False,
    destfolder=None,
    ignore_bodyparts=None,
    inferencecfg=None,
    modelprefix: str = "",
    greedy: bool = False,
    calibrate: bool = False,
    window_size: int = 0,
    identity_only: bool = False,
    track_method: str = "",
    n_tracks: int | None = None,
    **params,
) -> list[Path]:
    """DeepLabCut's step 1: per-frame animals -> tracklets, for each video; returns the ``_tracklets.h5`` written.

    Reads ``<stem><DLCscorer>_detections.h5`` (analyze_videos' output, in ``destfolder`` or next to the video)
    and writes ``<stem><DLCscorer>_tracklets.h5`` beside it (posenb's h5py file in place of DeepLabCut's
    ``_el.pickle``); an existing one is kept unless ``overwrite``. ``params``: the association parameters of
    :func:`~posenb.track.tracklets.build_tracklets`. ``trainingsetindex``, ``inferencecfg``, ``modelprefix``,
    ``greedy``, ``calibrate``, ``window_size``, ``n_tracks`` are accepted for DeepLabCut's signature (posenb's
    association needs none of them); ``ignore_bodyparts`` drops those parts from the association;
    ``identity_only`` matches on identity alone (a large identity weight).
    """
    cfg, parts = _project(config)
    track_suffix(track_method)
    assoc, _ = _split(params)
    if identity_only:
        assoc["identity_weight"] = 100.0
    written = []
    for video in list_videos(videos, videotype):
        det_path = find_detections(video, shuffle, destfolder, cfg=cfg)
        out = tracklets_name(det_path)
        if out.exists() and not overwrite:
            written.append(out)
            continue
        det = read_detections(det_path)
        poses = det["poses"]
        if ignore_bodyparts:
            drop = [det["bodyparts"].index(b) for b in ignore_bodyparts if b in det["bodyparts"]]
            poses = poses.copy()
            poses[:, :, drop, :2] = np.nan
        tk = build_tracklets(poses, det.get("scores"), det.get("identity"), **assoc)
        tk.poses = det["poses"][tk.frame, tk.animal].astype("float64")
        meta = dict(
            det, detections=det_path.name, individuals=det.get("individuals") or list(parts.individuals)
        )
        written.append(write_tracklets(out, tk, meta, det.get("unique")))
    return written


def stitch_tracklets(
    config,
    videos,
    videotype: str = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    n_tracks: int | None = None,
    min_length: int = 2,
    split_tracklets: bool = True,
    prestitch_residuals: bool = True,
    max_gap: int | None = None,
    weight_func=None,
    destfolder=None,
    modelprefix: str = "",
    track_method: str = "",
    output_name: str = "",
    transformer_checkpoint: str = "",
    save_as_csv: bool = False,
    **params,
) -> list[Path]:
    """DeepLabCut's step 2: tracklets -> ``n_tracks`` tracks; writes ``<stem><DLCscorer>_el.h5`` (+ ``.csv``).

    ``n_tracks``: default the project's number of individuals. ``min_length``: tracklets with fewer detections
    are left out (DeepLabCut's default is 10; posenb's stitching weighs tracklets by their length, so 2 keeps
    the short pieces animals leave while they touch and drops single-frame blips; 1 keeps every detection, for
    sparse detections such as labeled frames only). ``max_gap``: the longest gap (frames) a track may
    bridge (default: any). ``output_name``: another name for the ``.h5``. The tracklets file comes from
    :func:`convert_detections2tracklets`; when it is missing it is made first. ``split_tracklets``,
    ``prestitch_residuals``, ``weight_func``, ``modelprefix``, ``transformer_checkpoint`` are accepted for
    DeepLabCut's signature. Returns the written ``.h5`` paths.
    """
    cfg, parts = _project(config)
    suffix = track_suffix(track_method)
    n_tracks = int(n_tracks) if n_tracks else len(parts.individuals)
    _, stitch_params = _split(params)
    stitch_params.update(min_length=min_length, max_gap=max_gap)
    written = []
    for video in list_videos(videos, videotype):
        det_path = find_detections(video, shuffle, destfolder, cfg=cfg)
        tk_path = tracklets_name(det_path)
        if not tk_path.exists():
            convert_detections2tracklets(config, [video], shuffle=shuffle, destfolder=destfolder)
        tk, meta, unique = read_tracklets(tk_path)
        result = stitch_to_tracks(
            tk, n_tracks, meta.get("individuals") or list(parts.individuals), **stitch_params
        )
        out = tracked_name(det_path)
        out = out.with_name(out.name.replace("_el.h5", f"{suffix}.h5"))
        if output_name:
            out = out.with_name(Path(output_name).name).with_suffix(".h5")
        written.append(_write_result(result, meta, unique, out, save_as_csv))
    return written
