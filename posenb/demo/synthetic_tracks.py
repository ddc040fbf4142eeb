"""Synthetic per-frame animals with known truth, for tracking tests and benchmarks.

Several "mice" (:func:`posenb.demo.synthetic.simulate_trajectory`'s body: snout, ears, tail base) walk in one
arena; each frame lists the detected animals in a random order (sorted by a random score, as the per-frame
animals file sorts them), with pixel noise, dropped animals and parts, occlusion gaps, false detections and,
optionally, noisy identity probabilities. ``crossing=True`` makes two animals walk head-on past each other,
their bodies overlapping (the hard case of tracking).
"""

from __future__ import annotations

import numpy as np

from posenb.demo.synthetic import DEMO_BODYPARTS, body_keypoints, simulate_trajectory

__all__ = ["simulate_detections", "detections_from_truth", "body_keypoints"]


def _paths(n_frames, n_animals, width, height, seed, crossing, L):
    if crossing:
        t = np.linspace(0, 1, n_frames)[:, None]
        x0, x1, y = 0.15 * width, 0.85 * width, height / 2
        out = []
        for k in range(n_animals):
            sign = 1 if k % 2 == 0 else -1
            start, end = (x0, x1) if sign > 0 else (x1, x0)
            off = (k - (n_animals - 1) / 2) * 0.25 * L  # bodies overlap while passing
            centre = np.concatenate([start + (end - start) * t, y + off + 0 * t], 1)
            heading = np.full(n_frames, 0.0 if sign > 0 else np.pi)
            out.append(body_keypoints(centre, heading, L))
        return np.stack(out, 1)
    burn = 150  # every walk starts in the arena's centre: animals start where their walk has taken them
    walks = [
        simulate_trajectory(n_frames + burn * (k + 1), width, height, seed=seed * 97 + k, body_length=L)[
            "keypoints"
        ]
        for k in range(n_animals)
    ]
    return np.stack([w[-n_frames:] for w in walks], 1)


def simulate_detections(
    n_frames: int = 300,
    n_animals: int = 2,
    *,
    width: int = 640,
    height: int = 480,
    seed: int = 0,
    noise: float = 1.0,
    drop: float = 0.0,
    part_drop: float = 0.0,
    false_rate: float = 0.0,
    gaps: tuple = (),
    identity: float | None = None,
    crossing: bool = False,
    body_length: float = 60.0,
) -> dict:
    """Per-frame animals (the per-frame animals file's arrays) and the truth they come from.

    ``noise``: keypoint noise (px, sd); ``drop``: probability an animal is not detected in a frame;
    ``part_drop``: probability a part is not; ``false_rate``: probability of a false detection in a frame (a
    body at a random place); ``gaps``: (start, stop) frame ranges where no animal is detected; ``identity``:
    mean probability given to the true individual (None: no identity predictions).

    Returns a dict with ``poses`` (T, A, 4, 3) float32, ``scores`` (T, A), ``identity`` (T, A, n_animals) or
    None, ``unique`` None, ``bodyparts``, ``uniquebodyparts``, ``individuals`` (``mouse1``...), ``truth``
    (T, n_animals, 4, 3) true x, y and 1.0 (no noise, every frame) and ``detected`` (T, n_animals) bool.
    """
    truth_xy = _paths(n_frames, n_animals, width, height, seed, crossing, body_length)
    det = detections_from_truth(
        truth_xy, seed=seed, noise=noise, drop=drop, part_drop=part_drop, false_rate=false_rate, gaps=gaps,
        identity=identity,
    )  # fmt: skip
    T, n, P = truth_xy.shape[:3]
    truth = np.concatenate([truth_xy, np.ones((T, n, P, 1))], -1)
    return {
        **det,
        "unique": None,
        "bodyparts": list(DEMO_BODYPARTS),
        "uniquebodyparts": [],
        "individuals": [f"mouse{k + 1}" for k in range(n)],
        "truth": truth,
    }


def detections_from_truth(
    truth_xy: np.ndarray,
    *,
    seed: int = 0,
    noise: float = 1.0,
    drop: float = 0.0,
    part_drop: float = 0.0,
    false_rate: float = 0.0,
    gaps: tuple = (),
    identity: float | None = None,
) -> dict:
    """What a detector could return for animals at ``truth_xy`` (T, n, P, 2) px (NaN = not there).

    Each frame lists the detected animals in a random order (sorted by a random score), with Gaussian noise
    (``noise`` px sd), animals dropped with probability ``drop`` (and in the ``gaps`` frame ranges), parts with
    ``part_drop``, a false animal (a true body moved to a random place and turned) with probability
    ``false_rate``, and identity probabilities averaging ``identity`` on the true individual (None: none).
    Returns ``poses`` (T, A, P, 3) float32, ``scores`` (T, A), ``identity`` (T, A, n) or None and
    ``detected`` (T, n) bool.
    """
    rng = np.random.default_rng(seed)
    T, n, P = truth_xy.shape[:3]
    A = n + (1 if false_rate > 0 else 0)
    poses = np.full((T, A, P, 3), np.nan)
    scores = np.full((T, A), np.nan)
    ident = np.full((T, A, n), np.nan) if identity is not None else None
    detected = (rng.random((T, n)) >= drop) & np.isfinite(truth_xy[..., 0]).any(-1)
    for start, stop in gaps:
        detected[start:stop] = False
    lo, hi = np.nanmin(truth_xy.reshape(-1, 2), 0), np.nanmax(truth_xy.reshape(-1, 2), 0)
    for t in range(T):
        rows = [truth_xy[t, k] + rng.normal(0, noise, (P, 2)) for k in np.flatnonzero(detected[t])]
        who = list(np.flatnonzero(detected[t]))
        for xy in rows:
            xy[rng.random(P) < part_drop] = np.nan
        if false_rate > 0 and rng.random() < false_rate:
            rows.append(_false_animal(rng, truth_xy, lo, hi))
            who.append(-1)
        if not rows:
            continue
        score = rng.uniform(0.5, 1.0, len(rows))
        for slot, r in enumerate(np.argsort(-score)):  # sorted by score: a random order of animals
            poses[t, slot, :, :2] = rows[r]
            poses[t, slot, :, 2] = np.where(np.isfinite(rows[r][:, 0]), rng.uniform(0.6, 1.0, P), np.nan)
            scores[t, slot] = score[r]
            if ident is not None:
                ident[t, slot] = _identity(rng, who[r], n, identity)
    return {
        "poses": poses.astype("float32"),
        "scores": scores.astype("float32"),
        "identity": None if ident is None else ident.astype("float32"),
        "detected": detected,
    }


def _false_animal(rng, truth_xy, lo, hi) -> np.ndarray:
    """A true body (any frame, any animal) moved to a random place in the animals' area and turned."""
    present = np.argwhere(np.isfinite(truth_xy[..., 0]).any(-1))
    t, k = present[rng.integers(len(present))]
    body = truth_xy[t, k] - np.nanmean(truth_xy[t, k], 0)
    a = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return body @ rot.T + rng.uniform(lo, hi)


def _identity(rng, k: int, n: int, mean: float) -> np.ndarray:
    """Identity probabilities of a detection of individual ``k`` (-1: a false one, uniform)."""
    if k < 0:
        return np.full(n, 1.0 / n)
    p_true = float(np.clip(rng.normal(mean, 0.15), 0.02, 0.98))
    p = np.full(n, (1 - p_true) / max(n - 1, 1))
    p[k] = p_true
    return p
