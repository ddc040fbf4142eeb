"""Carry labels forward: track the points of a labeled frame into a nearby frame of the same video.

Used by the labeler as suggestions when no model exists yet (napari-deeplabcut does the same with a point
tracker): OpenCV's pyramidal Lucas-Kanade optical flow moves each point, and a forward-backward check drops the
points that do not come back to where they started (occluded, out of view, or on texture-less ground).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from posenb.project.paths import frame_index

__all__ = ["carry_points", "previous_labeled_frame"]


def _gray(image: np.ndarray) -> np.ndarray:
    import cv2  # noqa: PLC0415

    image = np.asarray(image)
    if image.ndim == 2:
        return np.ascontiguousarray(image, dtype=np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3], dtype=np.uint8), cv2.COLOR_RGB2GRAY)


def carry_points(
    previous: np.ndarray,
    current: np.ndarray,
    points: np.ndarray,
    window_px: int = 21,
    levels: int = 3,
    max_error_px: float = 1.0,
) -> np.ndarray:
    """Track ``points`` from the ``previous`` image into the ``current`` one.

    Parameters
    ----------
    previous, current : (H, W, 3) uint8 RGB or (H, W) gray images of equal size.
    points : (K, 2) float x/y pixels in ``previous``; NaN rows are not tracked.
    window_px : side of the Lucas-Kanade search window (pixels); ``levels``: pyramid levels (large moves).
    max_error_px : forward-backward error above which a point counts as lost.

    Returns
    -------
    (K, 2) float64 x/y pixels in ``current``; NaN where the point was not given, was lost, or left the image.
    """
    import cv2  # noqa: PLC0415

    a, b = _gray(previous), _gray(current)
    if a.shape != b.shape:
        raise ValueError(f"carry_points: image sizes differ ({a.shape[::-1]} vs {b.shape[::-1]}).")
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    out = np.full_like(pts, np.nan)
    ok_in = np.isfinite(pts).all(axis=1)
    if not ok_in.any():
        return out
    p0 = pts[ok_in].astype(np.float32).reshape(-1, 1, 2)
    params = {
        "winSize": (int(window_px), int(window_px)),
        "maxLevel": int(levels),
        "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01),
    }
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(a, b, p0, None, **params)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, p1, None, **params)
    fb = np.linalg.norm((back - p0).reshape(-1, 2), axis=1)
    p1 = p1.reshape(-1, 2).astype(np.float64)
    h, w = b.shape
    good = (
        (st1.ravel() == 1)
        & (st2.ravel() == 1)
        & (fb <= max_error_px)
        & (p1[:, 0] >= 0)
        & (p1[:, 1] >= 0)
        & (p1[:, 0] <= w - 1)
        & (p1[:, 1] <= h - 1)
    )
    tracked = np.full((int(ok_in.sum()), 2), np.nan)
    tracked[good] = p1[good]
    out[ok_in] = tracked
    return out


def previous_labeled_frame(
    image: str | os.PathLike, labeled: list[str | os.PathLike], max_gap: int = 30
) -> Path | None:
    """The labeled frame of the same folder (video) closest before ``image``, at most ``max_gap`` frames back.

    Frame numbers come from DeepLabCut's file names (``img0042.png``); when ``image`` has none, or no labeled
    frame is near enough, returns None (before that: the closest one after it, also within ``max_gap``).
    """
    image = Path(image)
    n = frame_index(image.name)
    if n is None:
        return None
    best: tuple[int, Path] | None = None
    for other in labeled:
        other = Path(other)
        if other.parent != image.parent or other.name == image.name:
            continue
        m = frame_index(other.name)
        if m is None or abs(m - n) > max_gap:
            continue
        key = (0 if m < n else 1, abs(m - n))  # before first, then nearest
        if best is None or key < best[0]:
            best = (key, other)
    return best[1] if best else None
