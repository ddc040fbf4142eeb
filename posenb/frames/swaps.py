"""Identity swaps in tracked files: frames where two individuals' tracks exchange their animals.

A swap between frames ``t - 1`` and ``t`` looks like this in the tracks: each of the two individuals jumps
(its pose at ``t`` is far from where its own track was heading) while each lands where the *other* one was
heading (close to the other's predicted pose, and much closer than to its own). Predicted pose at ``t`` =
constant velocity from ``t - 2`` and ``t - 1`` (the pose at ``t - 1`` when ``t - 2`` is missing), so two animals
running side by side are told apart from two animals exchanging tracks. :func:`find_identity_swaps` reports such frames
``t`` (the frame after the exchange, as the ``jump`` outliers); the swap back, if the tracker swaps again,
is reported too. Pose distance = mean over the body parts present in both poses of the point distances (px).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["pose_distances", "find_identity_swaps"]


def pose_distances(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    """``D[t, i, j]``: mean distance (px) between individual ``i`` in ``now[t]`` and ``j`` in ``before[t]``.

    now, before : ``(n, I, K, 2)`` x, y (NaN = missing). Body parts missing in either pose are left out of
    the mean; a pair with no common part is NaN. Returns ``(n, I, I)`` float64.
    """
    d = now[:, :, None, :, :] - before[:, None, :, :, :]  # (n, I, I, K, 2)
    dist = np.hypot(d[..., 0], d[..., 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN parts: no common part
        return np.nanmean(dist, axis=-1)


def _predicted(xy: np.ndarray, s: int, e: int) -> np.ndarray:
    """Constant-velocity predictions of frames ``s..e-1`` from the two frames before each (``(m, I, K, 2)``).

    Where frame ``t - 2`` is missing (or ``t = 1``) the prediction is the pose at ``t - 1``.
    """
    last = xy[s - 1 : e - 1]
    before = np.full_like(last, np.nan)
    lo = max(s, 2)
    before[lo - s :] = xy[lo - 2 : e - 2]
    velocity = np.nan_to_num(last - before)
    return last + velocity


def find_identity_swaps(poses: np.ndarray, epsilon: float = 20.0, chunk: int = 4096) -> np.ndarray:
    """Frames ``t >= 1`` where two individuals' tracks exchange positions (sorted int64).

    poses : ``(n_frames, n_individuals, n_bodyparts, 2 or 3)`` x, y (px) [, likelihood, ignored] of the
    animals of a tracked file (not the unique parts). Frame ``t`` is reported when, for two individuals
    ``a != b``, both lie more than ``epsilon`` px from their own predicted pose while each lies within
    ``epsilon`` px of the other's predicted pose, and less than half as far as from its own. Processed ``chunk`` frames at a time (memory
    ``chunk * I**2 * K``).
    """
    xy = np.asarray(poses, dtype="float64")[..., :2]
    n, n_ind = xy.shape[:2]
    if n < 2 or n_ind < 2:
        return np.zeros(0, np.int64)
    eps = float(epsilon)
    off = ~np.eye(n_ind, dtype=bool)
    found = []
    for s in range(1, n, chunk):
        e = min(n, s + chunk)
        dist = pose_distances(xy[s:e], _predicted(xy, s, e))  # (m, I, I)
        own = np.diagonal(dist, axis1=1, axis2=2)  # (m, I)
        jumped = own > eps  # NaN compares False
        close = (dist < eps) & (dist < 0.5 * own[:, :, None])
        swap = jumped[:, :, None] & jumped[:, None, :] & close & np.swapaxes(close, 1, 2) & off
        found.append(np.flatnonzero(swap.any(axis=(1, 2))) + s)
    return np.concatenate(found).astype(np.int64)
