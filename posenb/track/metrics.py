"""Tracking quality against ground truth: identity switches, animals missed, keypoint error.

The counts follow the CLEAR-MOT rules (Bernardin & Stiefelhagen 2008), as the ``motmetrics`` package computes
them (a test checks the two agree): in each frame, a true animal keeps the track it was matched to last time
when that track is still within ``max_distance``; the others are matched by a minimum-cost assignment
(:func:`scipy.optimize.linear_sum_assignment`) on the mean distance over shared body parts, pairs farther than
``max_distance`` never matching. A true animal matched to another track than the one it had last is an
identity switch; a true animal left unmatched is a miss; a track left unmatched is a false positive.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import linear_sum_assignment

from posenb.track.tracklets import body_scale

__all__ = ["tracking_metrics", "frame_distances"]


def frame_distances(truth_t: np.ndarray, tracked_t: np.ndarray) -> np.ndarray:
    """(G, H) mean distance (px) over the body parts visible in both; NaN where none is shared.

    ``truth_t`` (G, P, >=2), ``tracked_t`` (H, P, >=2): one frame's animals.
    """
    d = np.linalg.norm(truth_t[:, None, :, :2] - tracked_t[None, :, :, :2], axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(d, axis=-1)


def _match_frame(D: np.ndarray, last: dict, gt_ids, hyp_ids) -> list[tuple[int, int]]:
    """CLEAR-MOT matching of one frame: previous correspondences kept, then the assignment."""
    pairs = []
    free_g, free_h = set(range(len(gt_ids))), set(range(len(hyp_ids)))
    hyp_pos = {h: k for k, h in enumerate(hyp_ids)}
    for gi, g in enumerate(gt_ids):
        h = last.get(g)
        if h in hyp_pos and hyp_pos[h] in free_h and np.isfinite(D[gi, hyp_pos[h]]):
            pairs.append((gi, hyp_pos[h]))
            free_g.discard(gi)
            free_h.discard(hyp_pos[h])
    if free_g and free_h:
        fg, fh = sorted(free_g), sorted(free_h)
        sub = D[np.ix_(fg, fh)]
        r, c = linear_sum_assignment(np.where(np.isfinite(sub), sub, 1e12))
        pairs += [(fg[a], fh[b]) for a, b in zip(r, c) if np.isfinite(sub[a, b])]
    return pairs


def tracking_metrics(
    truth: np.ndarray, tracked: np.ndarray, max_distance: float | None = None, bodyparts=None
) -> dict:
    """Compare ``tracked`` (T, H, P, >=2) with ``truth`` (T, G, P, >=2); pixels, NaN = absent.

    ``max_distance`` (px): farthest a track may be from a true animal (mean over parts) and still be it; default
    half the animals' size (:func:`~posenb.track.tracklets.body_scale` of the truth). Returns a dict:
    ``frames``, ``truth_animals`` (true animal-frames), ``matches``, ``switches`` (identity switches),
    ``misses`` (true animal-frames without a track), ``false_positives``, ``mota`` (1 - (misses + false
    positives + switches) / truth_animals), ``identity_recall`` (share of true animal-frames covered by the one
    track each true animal is mapped to, the best one-to-one mapping over the whole video: 1.0 = no one ever
    followed by another track), ``mean_error``, ``median_error``, ``rmse`` (px, per keypoint on matched animals)
    and ``bodypart_error`` ({part: mean px}, parts named by ``bodyparts`` or their index).
    """
    truth = np.asarray(truth, dtype="float64")
    tracked = np.asarray(tracked, dtype="float64")
    if truth.shape[0] != tracked.shape[0] or truth.shape[2] != tracked.shape[2]:
        raise ValueError(f"truth {truth.shape} and tracked {tracked.shape} differ in frames or body parts")
    gate = float(max_distance) if max_distance else 0.5 * body_scale(truth)
    T, G, P = truth.shape[:3]
    H = tracked.shape[1]
    last: dict = {}
    counts = np.zeros((G, H))
    errors = []
    n_truth = switches = misses = fps = matches = 0
    for t in range(T):
        gt_ids = np.flatnonzero(np.isfinite(truth[t, :, :, 0]).any(-1))
        hyp_ids = np.flatnonzero(np.isfinite(tracked[t, :, :, 0]).any(-1))
        n_truth += len(gt_ids)
        D = (
            frame_distances(truth[t, gt_ids], tracked[t, hyp_ids])
            if len(gt_ids) and len(hyp_ids)
            else np.zeros((0, 0))
        )
        D = np.where(D <= gate, D, np.nan)
        pairs = _match_frame(D, last, list(gt_ids), list(hyp_ids))
        for gi, hi in pairs:
            g, h = int(gt_ids[gi]), int(hyp_ids[hi])
            if g in last and last[g] != h:
                switches += 1
            last[g] = h
            counts[g, h] += 1
            errors.append(np.linalg.norm(truth[t, g, :, :2] - tracked[t, h, :, :2], axis=-1))
        matches += len(pairs)
        misses += len(gt_ids) - len(pairs)
        fps += len(hyp_ids) - len(pairs)
    err = np.array(errors).reshape(-1, P)
    r, c = linear_sum_assignment(-counts)
    names = list(bodyparts) if bodyparts is not None else list(range(P))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        flat = err[np.isfinite(err)]
        per_part = {names[p]: float(np.nanmean(err[:, p])) for p in range(P)}
    return {
        "frames": T,
        "truth_animals": n_truth,
        "matches": matches,
        "switches": switches,
        "misses": misses,
        "false_positives": fps,
        "mota": 1.0 - (misses + fps + switches) / n_truth if n_truth else float("nan"),
        "identity_recall": float(counts[r, c].sum() / n_truth) if n_truth else float("nan"),
        "mean_error": float(flat.mean()) if flat.size else float("nan"),
        "median_error": float(np.median(flat)) if flat.size else float("nan"),
        "rmse": float(np.sqrt((flat**2).mean())) if flat.size else float("nan"),
        "bodypart_error": per_part,
        "max_distance": gate,
    }
