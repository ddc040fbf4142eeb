"""Presentation logic shared by the review panels (training monitor, evaluation, trajectories, refinement).

Pure functions from data to what is drawn (arrays of points, segments, colours, masks) and small look-ups in a
project (shuffles, videos). No widgets here: everything is tested without Jupyter.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "Overlay",
    "hex_colors",
    "mask_low_likelihood",
    "nice_ticks",
    "frame_overlay",
    "list_shuffles",
    "project_videos",
    "format_seconds",
    "marker_segments",
]


@dataclass
class Overlay:
    """What to draw on one frame.

    ``xy``: ``(n, 2)`` float pixels of the points drawn; ``part``: ``(n,)`` int body-part index of each point;
    ``confident``: ``(n,)`` bool (likelihood >= pcutoff); ``segments``: ``(m, 2, 2)`` float pixels of the
    skeleton segments (both ends confident and visible).
    """

    xy: np.ndarray
    part: np.ndarray
    confident: np.ndarray
    segments: np.ndarray


def hex_colors(colormap: str, n: int) -> list[str]:
    """``n`` colours sampled evenly from a matplotlib colormap (as DLC does), as ``#rrggbb`` strings."""
    from posenb.widgets._canvas import part_colors  # noqa: PLC0415

    return [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in part_colors(n, colormap).astype(int)]


def mask_low_likelihood(arr: np.ndarray, pcutoff: float) -> np.ndarray:
    """Copy of ``(n_frames, K, 3)`` predictions with x and y set to NaN where likelihood < ``pcutoff``."""
    out = np.array(arr, dtype=float, copy=True)
    low = ~(out[..., 2] >= pcutoff)
    out[..., 0][low] = np.nan
    out[..., 1][low] = np.nan
    return out


def frame_overlay(
    xyp: np.ndarray,
    pcutoff: float,
    visible: Sequence[bool] | None = None,
    skeleton: Sequence[tuple[int, int]] = (),
    show_low: bool = False,
) -> Overlay:
    """Points and skeleton of one frame.

    ``xyp``: ``(K, 3)`` x, y (pixels), likelihood. Points with NaN coordinates or hidden body parts are
    dropped; points below ``pcutoff`` are dropped unless ``show_low`` (then ``confident`` is False for them).
    A skeleton segment is drawn when both ends are visible and confident.
    """
    xyp = np.asarray(xyp, dtype=float).reshape(-1, 3)
    k = len(xyp)
    vis = np.ones(k, bool) if visible is None else np.asarray(visible, bool)
    finite = np.isfinite(xyp[:, :2]).all(axis=1)
    confident = xyp[:, 2] >= pcutoff
    keep = vis & finite & (confident | bool(show_low))
    idx = np.flatnonzero(keep)
    good = vis & finite & confident
    segs = [(xyp[i, :2], xyp[j, :2]) for i, j in skeleton if good[i] and good[j]]
    return Overlay(
        xy=xyp[idx, :2].copy(),
        part=idx,
        confident=confident[idx],
        segments=np.asarray(segs, dtype=float).reshape(-1, 2, 2),
    )




def list_shuffles(cfg: dict) -> list[tuple[int, int, Path]]:
    """``(shuffle, trainingsetindex, model folder)`` of every model folder of the current iteration.

    Model folders are ``dlc-models/iteration-N/<Task><date>-trainset<pct>shuffle<k>``; the training fraction
    percentage is matched to config ``TrainingFraction`` (unknown fractions get index -1). Sorted by shuffle.
    """
    from posenb.project.paths import parse_model_folder, train_fraction_pct  # noqa: PLC0415

    project = Path(cfg["project_path"])
    base = project / "dlc-models" / f"iteration-{cfg.get('iteration', 0)}"
    pcts = [train_fraction_pct(f) for f in cfg.get("TrainingFraction") or []]
    out = []
    if base.is_dir():
        prefix = f"{cfg['Task']}{cfg['date']}-trainset"
        for d in base.iterdir():
            m = parse_model_folder(d.name)
            if d.is_dir() and m and d.name.startswith(prefix):
                pct, shuffle = m
                out.append((shuffle, pcts.index(pct) if pct in pcts else -1, d))
    return sorted(out, key=lambda t: (t[0], t[1]))


def project_videos(cfg: dict) -> list[Path]:
    """Videos of a project: those in ``<project>/videos`` (copies or links), then those of ``video_sets`` that
    are elsewhere on disk (matched by file name, so a moved project still finds its own copies)."""
    from posenb.project.paths import list_videos, resolve_video  # noqa: PLC0415

    vdir = Path(cfg["project_path"]) / "videos"
    out: list[Path] = list_videos(vdir) if vdir.is_dir() else []
    names = {p.name for p in out}
    for video in cfg.get("video_sets") or {}:
        found = resolve_video(cfg, video)
        if found is not None and found.name not in names:
            out.append(found)
            names.add(found.name)
    return out


def format_seconds(seconds: float | None) -> str:
    """``3725`` -> ``"1:02:05"``, ``65`` -> ``"1:05"``; ``"-"`` for None/NaN."""
    if seconds is None or not np.isfinite(seconds):
        return "-"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def marker_segments(xy: np.ndarray, size: float, shape: str = "+") -> np.ndarray:
    """Line segments ``(2n, 2, 2)`` drawing a ``"+"`` or ``"x"`` of half-width ``size`` at each of ``xy`` ``(n, 2)``."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if shape == "+":
        d1, d2 = np.array([size, 0.0]), np.array([0.0, size])
    else:
        d1, d2 = np.array([size, size]) * 0.7071, np.array([size, -size]) * 0.7071
    segs = []
    for p in xy:
        segs.append([p - d1, p + d1])
        segs.append([p - d2, p + d2])
    return np.asarray(segs, dtype=float).reshape(-1, 2, 2)


def as_path(value: str | os.PathLike | None) -> Path | None:
    return None if value in (None, "") else Path(value)


def nice_ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """About ``n`` round tick values (1, 2, 2.5 or 5 x 10^k apart) from below ``lo`` to above ``hi``."""
    if not np.isfinite([lo, hi]).all():
        return np.array([0.0, 1.0])
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    raw = (hi - lo) / max(1, n - 1)
    magnitude = 10.0 ** np.floor(np.log10(raw))
    step = next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= raw * (1 - 1e-9))
    start, stop = np.floor(lo / step) * step, np.ceil(hi / step) * step
    return np.round(np.arange(start, stop + step / 2, step), 10)
