"""Suspicious frames of a tracked file: where a human proofreading the tracks should look first.

Pure functions of the tracked arrays ``poses`` (T, N, P, 2) x, y in pixels (NaN = missing) and ``likelihood``
(T, N, P) in [0, 1], N individuals (tracks), P body parts. Kinds (:attr:`Suspicion.kind`):

- ``"swap"``: frame ``t`` where two tracks exchange their animals: keeping the identities costs more than
  ``jump`` px of motion per track while exchanging them costs less than half of that (motion = mean part
  distance to the constant-velocity prediction from ``t - 2``, ``t - 1``). Score = kept / exchanged cost / 2.
- ``"jump"``: frame ``t`` where one track moved more than ``jump`` px (mean over its parts) since ``t - 1`` (the
  frame after the move, DeepLabCut's outlier convention), unless that frame is reported as a swap of that track.
  Score = distance / jump (> 1).
- ``"close"``: two animals whose centres (mean of their parts) come closer than ``close`` px; one suspicion per
  episode (a run of close frames), at its closest frame. Score = 1 - distance / close (0..1].
- ``"confidence"``: a track present with a mean likelihood below ``pcutoff``; one per run of such frames, at its
  first frame. Score = 1 - lowest mean likelihood / pcutoff (0..1].
- ``"gap"``: a track that reappears after at least ``min_gap`` missing frames (inside the video); at the frame
  it reappears. Score = missing frames / (missing frames + 10) (0..1).

Shorter gaps are detection dropouts: the jump and swap checks bridge them (motion from the last position seen),
and close and low-confidence episodes interrupted by them stay one episode.

Default thresholds come from the animals' size, :func:`posenb.track.tracklets.body_scale` (the median diagonal
of their bounding boxes, px): ``close = 0.5 * scale``, ``jump = 0.5 * scale``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posenb.track.tracklets import body_scale

__all__ = ["KINDS", "Suspicion", "suspicious_frames", "runs", "mean_likelihood"]

KINDS = ("swap", "jump", "close", "confidence", "gap")


@dataclass(frozen=True)
class Suspicion:
    """One frame worth a look: ``frame`` index, ``kind`` (see :data:`KINDS`), the ``individuals`` involved
    (names), ``score`` (higher = more suspicious, comparable within a kind) and a one-sentence ``detail``."""

    frame: int
    kind: str
    individuals: tuple[str, ...]
    score: float
    detail: str


def runs(mask: np.ndarray, bridge: int = 0) -> list[tuple[int, int]]:
    """``[start, stop)`` runs of True in a 1-d boolean array; runs separated by at most ``bridge`` False
    values are merged into one."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(m.astype(np.int8)))
    out: list[tuple[int, int]] = []
    for a, b in zip(edges[::2], edges[1::2]):
        if out and a - out[-1][1] <= bridge:
            out[-1] = (out[-1][0], int(b))
        else:
            out.append((int(a), int(b)))
    return out


def _nanmean(a: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` of the finite values (NaN where there is none); faster than np.nanmean."""
    ok = np.isfinite(a)
    n = ok.sum(axis=axis)
    total = np.where(ok, a, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _scale(xy: np.ndarray, present: np.ndarray, most: int = 5000) -> float:
    """:func:`body_scale` over at most ``most`` frames spread over the video (a median: a sample is enough)."""
    step = max(1, len(xy) // most)
    return body_scale(xy[::step], present[::step])


def _last_seen(xy: np.ndarray, limit: int) -> np.ndarray:
    """(T, N, P, 2): each point's latest position at or before frame t, if seen at most ``limit`` frames
    before t (NaN otherwise)."""
    T = len(xy)
    seen = np.isfinite(xy[..., 0])
    at = np.where(seen, np.arange(T)[:, None, None], -1)
    at = np.maximum.accumulate(at, axis=0)  # (T, N, P) frame of the latest sighting
    n, p = np.meshgrid(np.arange(xy.shape[1]), np.arange(xy.shape[2]), indexing="ij")
    last = xy[np.maximum(at, 0), n[None], p[None]]
    stale = (at < 0) | (np.arange(T)[:, None, None] - at > limit)
    last[stale] = np.nan
    return last


def _predicted(xy: np.ndarray, last: np.ndarray) -> np.ndarray:
    """(T, N, P, 2) prediction of each frame: the last position seen (``last`` of ``t - 1``) plus the velocity
    from ``t - 2`` to ``t - 1`` when both frames have the point (NaN for t = 0)."""
    pred = np.full_like(xy, np.nan)
    if len(xy) < 2:
        return pred
    before = np.concatenate([np.full_like(xy[:1], np.nan), xy[:-2]])
    pred[1:] = last[:-1] + np.nan_to_num(xy[:-1] - before)
    return pred


def _pose_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean over parts present in both of the point distances: (..., P, 2) x2 -> (...)."""
    return _nanmean(np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1]), axis=-1)


def _swaps(xy, last, names, jump) -> list[Suspicion]:
    pred = _predicted(xy, last)
    own = _pose_dist(xy, pred)  # (T, N)
    found = []
    n = xy.shape[1]
    for a in range(n):
        for b in range(a + 1, n):
            with np.errstate(invalid="ignore"):
                cand = np.flatnonzero(own[:, a] + own[:, b] > 2 * jump)  # the pair moved a lot: look closer
            kept = own[cand, a] + own[cand, b]
            crossed = _pose_dist(xy[cand, a], pred[cand, b]) + _pose_dist(xy[cand, b], pred[cand, a])
            with np.errstate(invalid="ignore"):
                hit = np.flatnonzero(crossed < 0.5 * kept)
            for h in hit:
                t, ratio = cand[h], kept[h] / max(crossed[h], 1e-9)
                found.append(
                    Suspicion(
                        int(t), "swap", (names[a], names[b]), float(min(ratio, 1e6) / 2),
                        f"{names[a]} and {names[b]} seem to exchange identities "
                        f"({kept[h] / 2:.1f} px off their own paths, {crossed[h] / 2:.1f} px off each other's)",
                    )
                )  # fmt: skip
    return found


def _jumps(xy, last, names, jump, skip: set) -> list[Suspicion]:
    if len(xy) < 2:
        return []
    moved = _pose_dist(xy[1:], last[:-1])  # (T-1, N)
    found = []
    with np.errstate(invalid="ignore"):
        hits = np.argwhere(moved > jump)
    for t0, i in hits:
        t = int(t0) + 1
        if (t, names[i]) in skip:
            continue
        d = float(moved[t0, i])
        found.append(Suspicion(t, "jump", (names[i],), d / jump, f"{names[i]} moved {d:.1f} px in one frame"))
    return found


def _close(xy, names, close, bridge) -> list[Suspicion]:
    centre = np.stack([_nanmean(xy[..., 0], 2), _nanmean(xy[..., 1], 2)], -1)  # (T, N, 2)
    found = []
    n = xy.shape[1]
    for a in range(n):
        for b in range(a + 1, n):
            d = np.hypot(*(centre[:, a] - centre[:, b]).T)
            with np.errstate(invalid="ignore"):
                mask = d < close
            for s, e in runs(mask, bridge):
                t = s + int(np.nanargmin(d[s:e]))
                span = f"frame {s}" if e - s == 1 else f"frames {s}-{e - 1}"
                found.append(
                    Suspicion(
                        t, "close", (names[a], names[b]), float(1 - d[t] / close),
                        f"{names[a]} and {names[b]} {d[t]:.1f} px apart ({span})",
                    )
                )  # fmt: skip
    return found


def mean_likelihood(poses: np.ndarray, likelihood: np.ndarray) -> np.ndarray:
    """(T, N) mean likelihood of each track over its parts that have a point (NaN likelihood = 0); NaN where
    the track has no point. poses (T, N, P, 2+), likelihood (T, N, P)."""
    has = np.isfinite(np.asarray(poses)[..., 0])
    like = np.where(np.isfinite(likelihood), likelihood, 0.0)
    n = has.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (like * has).sum(axis=-1) / np.maximum(n, 1), np.nan)


def _confidence(xy, likelihood, names, pcutoff, bridge) -> list[Suspicion]:
    mean = mean_likelihood(xy, likelihood)
    found = []
    for i, name in enumerate(names):
        with np.errstate(invalid="ignore"):
            low = mean[:, i] < pcutoff
        for s, e in runs(low, bridge):
            worst = float(np.nanmin(mean[s:e, i]))
            span = f"frame {s}" if e - s == 1 else f"frames {s}-{e - 1}"
            found.append(
                Suspicion(
                    s, "confidence", (name,), float(1 - worst / pcutoff) if pcutoff > 0 else 0.0,
                    f"{name}'s confidence drops to {worst:.2f} (< {pcutoff:g}, {span})",
                )
            )  # fmt: skip
    return found


def _gaps(present, names, min_gap) -> list[Suspicion]:
    found = []
    T = len(present)
    for i, name in enumerate(names):
        for s, e in runs(~present[:, i]):
            if s == 0 or e == T or e - s < min_gap:
                continue
            n = e - s
            found.append(
                Suspicion(e, "gap", (name,), n / (n + 10), f"{name} reappears after {n} missing frame(s)")
            )
    return found


def suspicious_frames(
    poses: np.ndarray,
    likelihood: np.ndarray,
    individuals,
    *,
    close: float | None = None,
    jump: float | None = None,
    pcutoff: float = 0.6,
    min_gap: int = 3,
    kinds=KINDS,
) -> list[Suspicion]:
    """The suspicious frames of tracks, sorted by frame (then most suspicious first).

    poses : (T, N, P, 2) x, y px, NaN = missing; likelihood : (T, N, P); individuals : N names.
    close, jump : px thresholds (default ``0.5 * body_scale``, see the module docstring); pcutoff : the
    likelihood under which a track is of low confidence; min_gap : shorter gaps (frames) of a track are
    dropouts: not reported, bridged by the jump and swap checks (motion from the last position seen) and
    inside close and low-confidence episodes; kinds : the kinds to look for (default all).
    """
    xy = np.asarray(poses, dtype="float64")[..., :2]
    likelihood = np.asarray(likelihood, dtype="float64")
    names = [str(n) for n in individuals]
    if xy.ndim != 4 or likelihood.shape != xy.shape[:3] or len(names) != xy.shape[1]:
        raise ValueError(
            f"poses {xy.shape} / likelihood {likelihood.shape} / {len(names)} names: expected (T, N, P, 2), "
            "(T, N, P) and N names"
        )
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kind(s) {sorted(unknown)}; known: {list(KINDS)}")
    present = np.isfinite(xy[..., 0]).any(axis=2)  # (T, N)
    scale = _scale(xy, present) if (close is None or jump is None) else 1.0
    close = 0.5 * scale if close is None else float(close)
    jump = 0.5 * scale if jump is None else float(jump)
    bridge = max(int(min_gap) - 1, 0)
    last = _last_seen(xy, bridge) if ("swap" in kinds or "jump" in kinds) else None
    found: list[Suspicion] = []
    swaps = _swaps(xy, last, names, jump) if "swap" in kinds else []
    found += swaps
    if "jump" in kinds:
        found += _jumps(xy, last, names, jump, {(s.frame, n) for s in swaps for n in s.individuals})
    if "close" in kinds:
        found += _close(xy, names, close, bridge)
    if "confidence" in kinds:
        found += _confidence(xy, likelihood, names, float(pcutoff), bridge)
    if "gap" in kinds:
        found += _gaps(present, names, int(min_gap))
    return sorted(found, key=lambda s: (s.frame, -s.score, s.kind))
