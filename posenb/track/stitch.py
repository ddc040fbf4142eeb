"""Stitching: tracklets -> ``n_tracks`` tracks, across the gaps where animals touch, hide or are missed.

The choice is one global minimum-cost flow (solved exactly with :func:`scipy.optimize.linprog`'s dual simplex;
the constraint matrix is a network matrix, so the vertex optimum is integral; :func:`scipy.optimize.milp` if not): ``n_tracks`` units of flow go from a
source to a sink, each along a chain of tracklets that do not overlap in time, and each chain becomes a track.
Taking a tracklet earns its number of detections; linking tracklet ``i`` to a later tracklet ``j`` costs

- motion: ``0.5 * (d / tol)**2``, ``d`` the mean part distance between ``i``'s last pose moved on at its end
  velocity and ``j``'s first pose (and back from ``j``), ``tol = 0.5 * scale + speed * gap`` (the typical body size
  and the fast per-frame speed of the animals, so long gaps allow long moves);
- identity, when the detections carry identity probabilities: ``identity_weight * -log(sum_k q_i(k) q_j(k))``,
  the probability that ``i`` and ``j`` are the same individual (floored at 1e-4), ``q`` each tracklet's
  posterior over the individuals (:class:`TrackletSummary`), so identities decide who is who across gaps.

Tracklets no chain takes (false detections, doubles) are left out. When identity probabilities exist and there
are as many tracks as individuals, tracks are named by a min-cost assignment of tracks to individuals.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, linprog, milp

from posenb.errors import PosenbError
from posenb.track.tracklets import Tracklets, body_scale

__all__ = ["stitch", "tracks_to_array", "assign_identities", "TrackletSummary", "summarize"]


class TrackletSummary:
    """Per-tracklet arrays for stitching: ``start``/``end`` (n,) frames, ``length`` (n,) detections, ``first``/
    ``last`` (n, P, 2) poses (missing parts filled from the nearest frames of the tracklet), ``v_start``/``v_end``
    (n, 2) centre velocities (px/frame) and ``id_post`` (n, n_individuals) or None: who each tracklet is, from
    its identity probabilities (naive Bayes over its frames, counting at most ``evidence`` frames, as the
    frames of one tracklet are far from independent).
    """

    def __init__(self, tk: Tracklets, ends: int = 5, evidence: float = 5.0):
        groups = tk.groups()
        n = len(groups)
        P = tk.poses.shape[1]
        self.rows = groups
        self.start = np.array([tk.frame[g[0]] for g in groups], dtype=int)
        self.end = np.array([tk.frame[g[-1]] for g in groups], dtype=int)
        self.length = np.array([len(g) for g in groups], dtype=float)
        self.first, self.last = np.full((n, P, 2), np.nan), np.full((n, P, 2), np.nan)
        self.v_start, self.v_end = np.zeros((n, 2)), np.zeros((n, 2))
        for i, g in enumerate(groups):
            xy, fr = tk.poses[g, :, :2], tk.frame[g].astype(float)
            self.first[i] = _fill(xy[:ends])
            self.last[i] = _fill(xy[::-1][:ends])
            self.v_start[i] = _velocity(xy[:ends], fr[:ends])
            self.v_end[i] = _velocity(xy[-ends:], fr[-ends:])
        self.id_post = None
        if tk.identity is not None and tk.identity.shape[-1]:
            logp = np.log(np.clip(np.nan_to_num(tk.identity, nan=1.0 / tk.identity.shape[-1]), 1e-6, 1))
            mean = np.array([logp[g].mean(0) for g in groups])
            # naive-Bayes posterior over individuals, tempered: at most `evidence` frames' worth of evidence
            z = np.minimum(self.length, evidence)[:, None] * mean
            z = np.exp(z - z.max(1, keepdims=True))
            self.id_post = z / z.sum(1, keepdims=True)

    def subset(self, ids: np.ndarray) -> None:
        """Keep only tracklets ``ids`` (renumbered 0..len(ids)-1)."""
        for name in ("start", "end", "length", "first", "last", "v_start", "v_end"):
            setattr(self, name, getattr(self, name)[ids])
        self.rows = [self.rows[i] for i in ids]
        if self.id_post is not None:
            self.id_post = self.id_post[ids]


def summarize(tk: Tracklets) -> TrackletSummary:
    """The :class:`TrackletSummary` of ``tk``."""
    return TrackletSummary(tk)


def _fill(xy: np.ndarray) -> np.ndarray:
    """(P, 2): each part at the first of the given frames where it is visible."""
    out = np.full(xy.shape[1:], np.nan)
    for frame in xy[::-1]:
        ok = np.isfinite(frame[:, 0])
        out[ok] = frame[ok]
    return out


def _centre(xy: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(xy, axis=-2)


def _velocity(xy: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Centre velocity (px/frame), a least-squares line through the given frames; 0 with one frame."""
    c = _centre(xy)
    ok = np.isfinite(c[:, 0])
    if ok.sum() < 2 or np.ptp(frames[ok]) == 0:
        return np.zeros(2)
    f = frames[ok] - frames[ok].mean()
    return (f[:, None] * (c[ok] - c[ok].mean(0))).sum(0) / (f**2).sum()


def _part_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean distance over shared parts of (n, P, 2) arrays; the centre distance where none is shared."""
    d = np.linalg.norm(a - b, axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanmean(d, axis=-1)
    none = ~np.isfinite(out)
    out[none] = np.linalg.norm(_centre(a[none]) - _centre(b[none]), axis=-1)
    return np.nan_to_num(out, nan=0.0)


def _speed(tk: Tracklets, s: TrackletSummary) -> float:
    """A fast per-frame centre speed of the animals (90th percentile over consecutive detections), px/frame."""
    steps = []
    for g in s.rows:
        if len(g) > 1:
            c = _centre(tk.poses[g, :, :2])
            dt = np.diff(tk.frame[g])
            steps.append(np.linalg.norm(np.diff(c, axis=0), axis=-1) / dt)
    steps = np.concatenate(steps) if steps else np.zeros(0)
    steps = steps[np.isfinite(steps)]
    return float(np.percentile(steps, 90)) if len(steps) else 1.0


def _links(s: TrackletSummary, scale, speed, max_gap, max_links, identity_weight):
    """Candidate links (i, j, cost): ``i`` ends before ``j`` starts, within ``max_gap`` frames, ``j`` among the
    ``4 * max_links`` tracklets starting next after ``i`` ends; of those, per end and per start, the
    ``max_links`` nearest in time and the ``max_links`` cheapest."""
    # candidates: of each end, the next 4 * max_links tracklets to start (not all pairs: long videos)
    order = np.argsort(s.start, kind="stable")
    first = np.searchsorted(s.start[order], s.end, side="right")
    pos = first[:, None] + np.arange(4 * max_links)[None]
    ok = pos < len(order)
    i = np.broadcast_to(np.arange(len(s.end))[:, None], pos.shape)[ok]
    j = order[pos[ok]]
    near = s.start[j] - s.end[i] <= max_gap
    i, j = i[near], j[near]
    if not len(i):
        return i, j, np.zeros(0)
    gap = (s.start[j] - s.end[i]).astype(float)
    reach = np.minimum(gap, 5.0)[:, None, None]  # constant velocity for a few frames only
    fwd = _part_distance(s.last[i] + s.v_end[i][:, None] * reach, s.first[j])
    bwd = _part_distance(s.first[j] - s.v_start[j][:, None] * reach, s.last[i])
    tol = 0.5 * scale + speed * gap
    cost = 0.5 * (0.5 * (fwd + bwd) / tol) ** 2
    if s.id_post is not None:
        same = (s.id_post[i] * s.id_post[j]).sum(-1)  # probability that i and j are the same individual
        cost = cost + identity_weight * -np.log(np.clip(same, 1e-4, None))
    keep = np.zeros(len(i), bool)
    for key in (i, j):  # per end and per start: the nearest in time and the cheapest
        for value in (gap, cost):
            keep |= _rank_within(key, value) < max_links
    return i[keep], j[keep], cost[keep]


def _rank_within(key: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Rank (0 = smallest) of each ``value`` among the entries of the same ``key``."""
    order = np.lexsort((value, key))
    first = np.r_[0, np.flatnonzero(np.diff(key[order])) + 1]
    counts = np.diff(np.r_[first, len(order)])
    rank = np.empty(len(order), int)
    rank[order] = np.arange(len(order)) - np.repeat(first, counts)
    return rank


def _solve_flow(n: int, n_tracks: int, reward, li, lj, lcost) -> list[list[int]]:
    """Chains of tracklets carrying the ``n_tracks`` units of the minimum-cost flow (each a list of ids).

    Variables: ``a_i`` (source -> i), ``b_i`` (i -> sink), ``l_k`` (link k), ``z`` (source -> sink, the unused
    tracks). Constraints: ``sum a + z = n_tracks``; for each tracklet, inflow = outflow <= 1.
    """
    m = len(li)
    nv = 2 * n + m + 1
    c = np.concatenate([-reward, np.zeros(n), lcost - reward[lj], [0.0]])
    ar = np.arange(n)
    lk = np.arange(m)
    # conservation rows 0..n-1: a_i + sum_in l - b_i - sum_out l = 0; capacity rows n..2n-1: a_i + sum_in l <= 1
    rows = np.concatenate([ar, lj, ar, li, n + ar, n + lj])
    cols = np.concatenate([ar, 2 * n + lk, n + ar, 2 * n + lk, ar, 2 * n + lk])
    vals = np.concatenate([np.ones(n), np.ones(m), -np.ones(n), -np.ones(m), np.ones(n), np.ones(m)])
    source = np.zeros(nv)
    source[:n], source[-1] = 1.0, 1.0
    A = sparse.vstack(
        [sparse.csr_array((vals, (rows, cols)), shape=(2 * n, nv)), sparse.csr_array(source[None])]
    )
    lower = np.concatenate([np.zeros(n), np.full(n, -np.inf), [n_tracks]])
    upper = np.concatenate([np.zeros(n), np.ones(n), [n_tracks]])
    ub = np.ones(nv)
    ub[-1] = n_tracks
    # a network matrix: the simplex's vertex optimum of the linear program is integral (milp only if it is not)
    eq = np.r_[np.arange(n), 2 * n]
    A = A.tocsr()
    res = linprog(
        c, A_ub=A[n : 2 * n], b_ub=np.ones(n), A_eq=A[eq], b_eq=lower[eq], bounds=np.c_[np.zeros(nv), ub],
        method="highs-ds",
    )  # fmt: skip
    if res.x is None or np.abs(res.x - np.round(res.x)).max() > 1e-6:
        res = milp(
            c, constraints=LinearConstraint(A, lower, upper), integrality=np.ones(nv), bounds=Bounds(0, ub)
        )
    if res.x is None:
        raise PosenbError(
            f"Stitching tracklets failed ({res.message}). Try a smaller max_gap or fewer tracklets."
        )
    x = np.round(res.x).astype(int)
    succ = {int(li[k]): int(lj[k]) for k in np.flatnonzero(x[2 * n : 2 * n + m])}
    chains = []
    for i in np.flatnonzero(x[:n]):
        chain = [int(i)]
        while chain[-1] in succ:
            chain.append(succ[chain[-1]])
        chains.append(chain)
    return chains


def stitch(
    tk: Tracklets,
    n_tracks: int,
    *,
    min_length: int = 2,
    max_gap: int | None = None,
    max_links: int = 10,
    identity_weight: float = 1.0,
    scale: float | None = None,
) -> list[list[int]]:
    """Chains of tracklet ids, one per track (at most ``n_tracks``; fewer when there are fewer tracklets).

    ``min_length``: tracklets with fewer detections are left out (2: single-frame blips, the usual false
    detections; 1 for sparse detections); ``max_gap`` (frames): the longest gap a track may
    bridge (default: the whole video); ``max_links``: candidate links kept per tracklet end and start (the
    cheapest); ``identity_weight``: weight of identity against motion (see the module docstring); ``scale``:
    the animals' size in px (default :func:`~posenb.track.tracklets.body_scale` of the tracklets).
    """
    s = TrackletSummary(tk)
    if len(s.start) == 0 or n_tracks < 1:
        return []
    scale = scale or body_scale(tk.poses[:, None])
    speed = _speed(tk, s)
    max_gap = tk.n_frames if max_gap is None else int(max_gap)
    ids = np.flatnonzero(s.length >= min_length)
    if not len(ids):
        return []
    s.subset(ids)
    li, lj, lcost = _links(s, scale, speed, max_gap, max_links, identity_weight)
    chains = _solve_flow(len(ids), n_tracks, s.length, li, lj, lcost)
    chains = sorted(chains, key=lambda ch: (s.start[ch[0]], ch[0]))  # s is the subset: its own positions
    return [[int(ids[i]) for i in chain] for chain in chains]


def assign_identities(tk: Tracklets, chains: list[list[int]], n_individuals: int) -> list[int] | None:
    """For each chain, the individual it is (index), by a min-cost assignment on summed log identity
    probabilities; None when the tracklets carry no identity or there are more chains than individuals."""
    if tk.identity is None or len(chains) > n_individuals:
        return None
    groups = tk.groups()
    logp = np.log(np.clip(np.nan_to_num(tk.identity, nan=1.0 / n_individuals), 1e-6, 1))
    score = np.array([logp[np.concatenate([groups[i] for i in ch])].sum(0) for ch in chains])
    rows, cols = linear_sum_assignment(-score)
    out = [0] * len(chains)
    for r, c in zip(rows, cols):
        out[r] = int(c)
    return out


def tracks_to_array(
    tk: Tracklets, chains: list[list[int]], n_tracks: int, order: list[int] | None = None
) -> np.ndarray:
    """(T, n_tracks, P, 3) x, y, likelihood of each track (NaN where it has no detection).

    Chain ``k`` goes to track ``order[k]`` (default ``k``).
    """
    T, P = tk.n_frames, tk.poses.shape[1]
    out = np.full((T, n_tracks, P, 3), np.nan)
    groups = tk.groups()
    for k, chain in enumerate(chains):
        slot = order[k] if order is not None else k
        for i in chain:
            g = groups[i]
            out[tk.frame[g], slot] = tk.poses[g]
    return out
