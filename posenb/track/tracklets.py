"""Frame-to-frame association: per-frame animals -> tracklets (short chains of one animal's detections).

Each open tracklet carries an alpha-beta filter (the steady-state form of a constant-velocity Kalman filter) per
body part: it predicts where each part will be in the next frame. The detections of a frame are matched to the
predictions with :func:`scipy.optimize.linear_sum_assignment` on the mean distance between predicted and
detected parts (the centres when the two share no visible part), divided by the gating distance, plus an identity
term when the detections carry identity probabilities. A pair farther than the gating distance is never matched;
an unmatched detection starts a tracklet; a tracklet unmatched for more than ``max_age`` frames ends. So a
tracklet holds one animal as long as the motion is unambiguous; who is who across the gaps between tracklets is
decided by :mod:`posenb.track.stitch`.

Units: pixels and frames throughout.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["Tracklets", "build_tracklets", "body_scale", "valid_animals"]

_BIG = 1e6  # a cost no real pair reaches (infeasible pairs before the assignment)


@dataclass
class Tracklets:
    """Tracklets as flat arrays, one row per detection kept (sorted by tracklet, then frame).

    ``tracklet`` (N,) int: tracklet id (0..n-1); ``frame`` (N,) int: frame number; ``animal`` (N,) int: index of
    the detection in its frame of the per-frame animals file; ``poses`` (N, P, 3) float: x, y, likelihood;
    ``identity`` (N, n_individuals) float or None: identity probabilities; ``n_frames``: frames of the video.
    """

    tracklet: np.ndarray
    frame: np.ndarray
    animal: np.ndarray
    poses: np.ndarray
    identity: np.ndarray | None
    n_frames: int

    @property
    def n_tracklets(self) -> int:
        return int(self.tracklet.max()) + 1 if len(self.tracklet) else 0

    def groups(self) -> list[np.ndarray]:
        """Row indices of each tracklet (in frame order)."""
        if not len(self.tracklet):
            return []
        bounds = np.flatnonzero(np.diff(self.tracklet)) + 1
        return np.split(np.arange(len(self.tracklet)), bounds)


def _nanmean(a, axis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)


def valid_animals(poses: np.ndarray, scores: np.ndarray | None = None, min_score: float = 0.0) -> np.ndarray:
    """(T, A) bool: slots holding an animal (a finite part) whose score is at least ``min_score``."""
    ok = np.isfinite(poses[..., 0]).any(axis=-1)
    if scores is not None and min_score > 0:
        ok &= ~(np.asarray(scores) < min_score)  # NaN scores pass (no score written)
    return ok


def body_scale(poses: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Typical animal size (px): the median diagonal of the bounding box of the visible parts of each animal.

    Over animals with at least two visible parts; 1.0 when there is none (a scale for gating distances).
    """
    xy = poses[..., :2]
    if valid is not None:
        xy = xy[valid]
    xy = xy.reshape(-1, xy.shape[-2], 2)
    enough = np.isfinite(xy[..., 0]).sum(axis=1) >= 2
    if not enough.any():
        return 1.0
    xy = xy[enough]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        span = np.nanmax(xy, axis=1) - np.nanmin(xy, axis=1)
    diag = np.hypot(span[:, 0], span[:, 1])
    return float(max(np.median(diag), 1.0))


class _Open:
    """The open tracklets' filter states, as arrays (one row per open tracklet)."""

    def __init__(self, n_parts: int, n_ids: int):
        self.ids = np.zeros(0, int)
        self.x = np.zeros((0, n_parts, 2))
        self.v = np.zeros((0, n_parts, 2))
        self.last = np.zeros(0, int)
        self.id_sum = np.zeros((0, n_ids))

    def predict(self, t: int) -> np.ndarray:
        return self.x + self.v * (t - self.last)[:, None, None]

    def keep(self, rows: np.ndarray) -> None:
        self.ids, self.x, self.v = self.ids[rows], self.x[rows], self.v[rows]
        self.last, self.id_sum = self.last[rows], self.id_sum[rows]

    def add(self, ids, x, id_prob) -> None:
        n = len(ids)
        self.ids = np.concatenate([self.ids, ids])
        self.x = np.concatenate([self.x, x])
        self.v = np.concatenate([self.v, np.zeros_like(x)])
        self.last = np.concatenate([self.last, np.full(n, -1)])
        self.id_sum = np.concatenate([self.id_sum, id_prob])


def _costs(pred: np.ndarray, det: np.ndarray, gate: float) -> np.ndarray:
    """(n_open, n_det) mean part distance / gate; the centre distance where no part is shared; inf past 1."""
    d = np.linalg.norm(pred[:, None] - det[None], axis=-1)  # (n_open, n_det, P), NaN where either is missing
    cost = _nanmean(d, axis=-1)
    none = ~np.isfinite(cost)
    if none.any():
        centre = np.linalg.norm(_nanmean(pred, 1)[:, None] - _nanmean(det, 1)[None], axis=-1)
        cost[none] = centre[none]
    cost = cost / gate
    cost[~(cost <= 1.0)] = np.inf
    return cost


def _match(state: _Open, t: int, det_xy, det_id, gate: float, identity_weight: float, split_margin):
    """(open tracklet rows, detection indices) matched in frame ``t``, and the rows whose match was ambiguous
    (see ``split`` in :func:`build_tracklets`): those end, their detections left free."""
    motion = _costs(state.predict(t), det_xy, gate)
    cost = motion
    if det_id is not None:
        mean_id = state.id_sum / np.maximum(state.id_sum.sum(1, keepdims=True), 1e-9)
        bc = np.sqrt(np.clip(mean_id[:, None] * det_id[None], 0, None)).sum(-1)
        cost = motion + identity_weight * (1.0 - np.nan_to_num(bc, nan=1.0))
    r, c = linear_sum_assignment(np.where(np.isfinite(cost), cost, _BIG))
    ok = np.isfinite(cost[r, c])
    r, c = r[ok], c[ok]
    if split_margin is None or not len(r):
        return r, c, np.zeros(0, int)
    amb = _ambiguous(motion, r, c, split_margin)
    return r[~amb], c[~amb], r[amb]


def _ambiguous(cost: np.ndarray, rows: np.ndarray, cols: np.ndarray, margin: float) -> np.ndarray:
    """For each matched pair (rows[k], cols[k]) of ``cost``: does another tracklet or detection come within
    ``margin`` of its cost (a pair motion cannot tell from another)?"""
    out = np.zeros(len(rows), bool)
    finite = np.where(np.isfinite(cost), cost, np.inf)
    for k, (r, c) in enumerate(zip(rows, cols)):
        limit = finite[r, c] + margin
        others_r = np.delete(finite[:, c], r)
        others_c = np.delete(finite[r], c)
        out[k] = bool((others_r < limit).any() or (others_c < limit).any())
    return out


def _update(state: _Open, rows, t: int, det: np.ndarray, alpha: float, beta: float) -> None:
    """Alpha-beta update of open tracklets ``rows`` with their detections ``det`` (n, P, 2) at frame ``t``."""
    dt = (t - state.last[rows]).astype(float)[:, None, None]
    pred = state.x[rows] + state.v[rows] * dt
    seen = np.isfinite(det)
    known = np.isfinite(pred)
    resid = det - pred
    both = seen & known
    x = np.where(both, pred + alpha * resid, np.where(seen, det, pred))
    v = np.where(both, state.v[rows] + beta * resid / dt, state.v[rows])
    # a part seen for the first time moves with the tracklet's mean velocity
    fresh = seen & ~known
    if fresh.any():
        mean_v = np.nan_to_num(_nanmean(np.where(known, v, np.nan), 1))
        v = np.where(fresh, mean_v[:, None, :], v)
    state.x[rows], state.v[rows], state.last[rows] = x, np.nan_to_num(v), t


def build_tracklets(
    poses: np.ndarray,
    scores: np.ndarray | None = None,
    identity: np.ndarray | None = None,
    *,
    max_distance: float | None = None,
    max_age: int = 2,
    min_score: float = 0.0,
    min_likelihood: float = 0.0,
    identity_weight: float = 1.0,
    alpha: float = 0.85,
    beta: float = 0.3,
    split: bool | None = None,
    split_margin: float = 0.1,
) -> Tracklets:
    """Chain the per-frame animals into tracklets.

    ``poses`` (T, A, P, 3): x, y (px), likelihood, NaN where no animal (any order of animals in a frame);
    ``scores`` (T, A) and ``identity`` (T, A, n_individuals) optional. ``max_distance`` (px): gating distance
    between a predicted and a detected animal (mean over parts); default 0.75 x :func:`body_scale`. Parts with a
    likelihood below ``min_likelihood`` and animals scored below ``min_score`` are not used. ``max_age``: frames
    a tracklet may go unmatched (a dropped detection) before it ends. ``identity_weight``: weight of the identity
    term (1 - Bhattacharyya coefficient of the tracklet's mean identity and the detection's) against the
    distance term (distance / ``max_distance``, so 1 at the gate). ``alpha``, ``beta``: the filter's position
    and velocity gains. ``split`` (default: when there are identity probabilities): end both tracklets where
    motion alone cannot tell two animals apart (a second detection or tracklet within ``split_margin`` x
    ``max_distance`` of the chosen pair's distance), so no tracklet carries a swap and stitching decides who is
    who there, with the identities of the pieces.
    """
    poses = np.asarray(poses, dtype="float64")
    T, _A, P, _ = poses.shape
    valid = valid_animals(poses, scores, min_score)
    xy = np.where((poses[..., 2:3] >= min_likelihood) | np.isnan(poses[..., 2:3]), poses[..., :2], np.nan)
    gate = float(max_distance) if max_distance else 0.75 * body_scale(poses, valid)
    has_id = identity is not None
    ident = np.asarray(identity, dtype="float64") if has_id else None
    state = _Open(P, ident.shape[-1] if has_id else 0)
    split_margin = split_margin if (has_id if split is None else split) else None
    rows_t, rows_f, rows_a = [], [], []
    next_id = 0
    for t in range(T):
        dets = np.flatnonzero(valid[t])
        det_xy = xy[t, dets]
        matched_open, matched_det = np.zeros(0, int), np.zeros(0, int)
        if len(state.ids) and len(dets):
            det_id = ident[t, dets] if has_id else None
            matched_open, matched_det, ended = _match(
                state, t, det_xy, det_id, gate, identity_weight, split_margin
            )
            state.last[ended] = t - max_age - 1  # ends now; its detection starts a new tracklet
            _update(state, matched_open, t, det_xy[matched_det], alpha, beta)
            if has_id:
                state.id_sum[matched_open] += np.nan_to_num(det_id[matched_det])
            rows_t.extend(state.ids[matched_open])
            rows_f.extend([t] * len(matched_open))
            rows_a.extend(dets[matched_det])
        # close tracklets unmatched for too long, open one per unmatched detection
        state.keep(np.flatnonzero(t - state.last <= max_age))
        new = np.setdiff1d(np.arange(len(dets)), matched_det)
        if len(new):
            ids = np.arange(next_id, next_id + len(new))
            next_id += len(new)
            id_prob = np.nan_to_num(ident[t, dets[new]]) if has_id else np.zeros((len(new), 0))
            state.add(ids, det_xy[new], id_prob)
            state.last[-len(new) :] = t
            rows_t.extend(ids)
            rows_f.extend([t] * len(new))
            rows_a.extend(dets[new])
    tracklet, frame, animal = (np.asarray(a, dtype=int) for a in (rows_t, rows_f, rows_a))
    order = np.lexsort((frame, tracklet))
    tracklet, frame, animal = tracklet[order], frame[order], animal[order]
    return Tracklets(
        tracklet=tracklet,
        frame=frame,
        animal=animal,
        poses=poses[frame, animal],
        identity=ident[frame, animal] if has_id else None,
        n_frames=T,
    )
