"""Label quality checks: likely labeling mistakes in a label table, found without changing it.

Every check is a pure function of label arrays (and, for the model checks, predictions of the same images) and
returns a list of :class:`LabelIssue`; :func:`issues_table` turns them into one sorted table. The project-level
entry point, which reads the labels and runs a trained model when there is one, is
:func:`posenb.infer.label_quality.check_label_quality`.

Arrays: labels ``(n_images, n_bodyparts, 2)`` float, x/y in pixels of the labeled PNG, NaN = not labeled;
predictions ``(n_images, n_bodyparts, 3)`` float, x/y in pixels and likelihood in [0, 1].

Checks
------
- ``duplicate``: two different body parts placed on the same spot (within ``tol_px``): a double click or a
  point placed for the wrong part.
- ``bone_length``: a skeleton edge much longer or shorter than in the other frames (robust z-score on the median
  and the median absolute deviation, and a relative change), i.e. one of its two ends is probably misplaced.
- ``swap_geometry``: a left/right pair on the opposite side of the body from where it is in most frames (the side
  of the pair relative to the direction from the pair's midpoint to the other parts' centroid).
- ``swap_model``: a left/right pair where the model (confident on both) puts each part where the other was
  labeled.
- ``far_from_model``: a point far from a confident model prediction of the same part.
- ``other_animal``: (several animals per image, labels ``(n_images, n_individuals, n_bodyparts, 2)``) a point
  implausibly far from the rest of its own animal (compared with the same part in the project's other labels)
  that sits on another animal.

Multi-animal projects run the single-animal checks per animal (the model checks after matching predicted to
labeled animals, :mod:`posenb.infer.label_quality_ma`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "LabelIssue",
    "find_duplicate_points",
    "find_bone_length_outliers",
    "find_swaps_geometry",
    "find_swaps_model",
    "find_far_from_model",
    "find_parts_on_other_animals",
    "issues_table",
]

ISSUE_COLUMNS = ["image", "kind", "bodyparts", "score", "message"]


@dataclass(frozen=True)
class LabelIssue:
    """One likely mistake: ``image`` (row index of the label table), ``kind`` (see the module docstring),
    ``bodyparts`` involved, ``score`` (larger = more suspicious; comparable within a kind) and a message."""

    image: int
    kind: str
    bodyparts: tuple[str, ...]
    score: float
    message: str


def _pair_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])


def find_duplicate_points(
    labels: np.ndarray, bodyparts: Sequence[str], tol_px: float = 1.0
) -> list[LabelIssue]:
    """Pairs of different parts labeled within ``tol_px`` pixels of each other in one image."""
    labels = np.asarray(labels, dtype=float)
    out = []
    k = len(bodyparts)
    for i in range(k):
        for j in range(i + 1, k):
            d = _pair_distance(labels[:, i], labels[:, j])
            for n in np.flatnonzero(d <= tol_px):
                out.append(
                    LabelIssue(
                        int(n),
                        "duplicate",
                        (bodyparts[i], bodyparts[j]),
                        float(tol_px - d[n] + 1.0),
                        f"{bodyparts[i]} and {bodyparts[j]} are {d[n]:.1f} px apart (same spot?)",
                    )
                )
    return out


def find_bone_length_outliers(
    labels: np.ndarray,
    bodyparts: Sequence[str],
    skeleton: Sequence[Sequence[str]],
    z_max: float = 4.0,
    min_relative: float = 0.35,
    min_frames: int = 5,
) -> list[LabelIssue]:
    """Skeleton edges whose length is far from its usual value.

    An edge length ``L`` in an image is flagged when its robust z-score ``|L - median| / (1.4826 MAD)`` is above
    ``z_max`` AND it differs from the median by more than ``min_relative`` (a fraction of the median), so stiff
    edges with a tiny spread are not flagged for a pixel. Needs ``min_frames`` distinct lengths.

    The median and MAD are taken over the *distinct* edges (the vector between the two ends, to 0.01 px): an
    animal that sits still through many labeled frames, its points copied from frame to frame, repeats one edge
    exactly, which would otherwise make the spread ~0 and every frame where the animal moves an outlier.
    """
    labels = np.asarray(labels, dtype=float)
    index = {b: i for i, b in enumerate(bodyparts)}
    out = []
    for edge in skeleton:
        if len(edge) != 2 or edge[0] not in index or edge[1] not in index:
            continue
        a, b = index[edge[0]], index[edge[1]]
        length = _pair_distance(labels[:, a], labels[:, b])
        ok = np.isfinite(length)
        # a pose copied from frame to frame (an animal at rest) repeats one edge vector exactly: count it once
        vectors = np.round(labels[ok, a] - labels[ok, b], 2)
        _, first = np.unique(vectors, axis=0, return_index=True)
        distinct = length[ok][first]
        if len(distinct) < min_frames:
            continue
        med = float(np.median(distinct))
        mad = 1.4826 * float(np.median(np.abs(distinct - med)))
        spread = max(mad, 1e-6 * max(med, 1.0), 0.5)  # never below half a pixel
        z = np.abs(length - med) / spread
        rel = np.abs(length - med) / max(med, 1e-9)
        for n in np.flatnonzero(ok & (z > z_max) & (rel > min_relative)):
            out.append(
                LabelIssue(
                    int(n),
                    "bone_length",
                    (edge[0], edge[1]),
                    float(z[n]),
                    f"{edge[0]}-{edge[1]} is {length[n]:.1f} px long (usually {med:.1f} px): one end misplaced?",
                )
            )
    return out


def _side(labels: np.ndarray, i: int, j: int, others: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Signed side of pair (i, j) per image and its strength (|sin| of the angle); NaN where undefined."""
    mid = 0.5 * (labels[:, i] + labels[:, j])
    with np.errstate(invalid="ignore"):
        centre = np.nanmean(labels[:, others], axis=1) if others else np.full_like(mid, np.nan)
    r = centre - mid
    lr = labels[:, i] - labels[:, j]
    cross = r[:, 0] * lr[:, 1] - r[:, 1] * lr[:, 0]
    norm = np.hypot(r[:, 0], r[:, 1]) * np.hypot(lr[:, 0], lr[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        strength = np.abs(cross) / norm
    return np.sign(cross), strength


def find_swaps_geometry(
    labels: np.ndarray,
    bodyparts: Sequence[str],
    pairs: Sequence[tuple[int, int]],
    min_agreement: float = 0.8,
    min_strength: float = 0.25,
    min_frames: int = 8,
) -> list[LabelIssue]:
    """Left/right pairs labeled on the side opposite to the one they take in most images.

    The side of pair ``(i, j)`` in an image is the sign of the cross product of (midpoint -> centroid of the other
    labeled parts) and (part j -> part i). When at least ``min_agreement`` of the images with a clear side
    (|sin| >= ``min_strength``) agree, the images with the other sign are flagged. Views where the side is not
    stable (e.g. animals seen from both above and below) agree less and flag nothing.
    """
    labels = np.asarray(labels, dtype=float)
    out = []
    for i, j in pairs:
        others = [k for k in range(len(bodyparts)) if k not in (i, j)]
        if not others:
            continue
        sign, strength = _side(labels, i, j, others)
        clear = np.isfinite(strength) & (strength >= min_strength)
        if clear.sum() < min_frames:
            continue
        majority = 1.0 if (sign[clear] > 0).sum() >= (sign[clear] < 0).sum() else -1.0
        agreement = float((sign[clear] == majority).mean())
        if agreement < min_agreement:
            continue
        for n in np.flatnonzero(clear & (sign == -majority)):
            out.append(
                LabelIssue(
                    int(n),
                    "swap_geometry",
                    (bodyparts[i], bodyparts[j]),
                    float(agreement * strength[n]),
                    f"{bodyparts[i]}/{bodyparts[j]} lie on the opposite sides to {agreement:.0%} of the images: swapped?",
                )
            )
    return out


def find_swaps_model(
    labels: np.ndarray,
    predictions: np.ndarray,
    bodyparts: Sequence[str],
    pairs: Sequence[tuple[int, int]],
    pcutoff: float = 0.6,
    min_px: float = 3.0,
) -> list[LabelIssue]:
    """Pairs where the confident model puts each part on the other's label: swapping explains the labels better.

    Flagged when both predictions are above ``pcutoff``, the crossed distances sum to less than half of the
    straight ones, and the straight ones exceed ``min_px`` in total.
    """
    labels = np.asarray(labels, dtype=float)
    pred = np.asarray(predictions, dtype=float)
    out = []
    for i, j in pairs:
        straight = _pair_distance(labels[:, i], pred[:, i]) + _pair_distance(labels[:, j], pred[:, j])
        crossed = _pair_distance(labels[:, i], pred[:, j]) + _pair_distance(labels[:, j], pred[:, i])
        confident = (pred[:, i, 2] >= pcutoff) & (pred[:, j, 2] >= pcutoff)
        with np.errstate(invalid="ignore"):
            hit = confident & (straight > min_px) & (crossed < 0.5 * straight)
        for n in np.flatnonzero(hit):
            out.append(
                LabelIssue(
                    int(n),
                    "swap_model",
                    (bodyparts[i], bodyparts[j]),
                    float(straight[n] / max(crossed[n], 0.5)),
                    f"the model puts {bodyparts[i]} where {bodyparts[j]} is labeled and vice versa "
                    f"({straight[n]:.1f} px vs {crossed[n]:.1f} px swapped): swapped?",
                )
            )
    return out


def find_far_from_model(
    labels: np.ndarray,
    predictions: np.ndarray,
    bodyparts: Sequence[str],
    pcutoff: float = 0.6,
    min_px: float = 10.0,
    factor: float = 5.0,
    skip: set[tuple[int, str]] | None = None,
) -> list[LabelIssue]:
    """Points farther than ``max(min_px, factor x the part's median error)`` from a confident prediction.

    ``skip`` holds ``(image, bodypart)`` already explained by another issue (e.g. a swap).
    """
    labels = np.asarray(labels, dtype=float)
    pred = np.asarray(predictions, dtype=float)
    dist = _pair_distance(labels, pred[..., :2])
    skip = skip or set()
    out = []
    for k, bp in enumerate(bodyparts):
        finite = np.isfinite(dist[:, k])
        if not finite.any():
            continue
        limit = max(min_px, factor * float(np.median(dist[finite, k])))
        with np.errstate(invalid="ignore"):
            hit = finite & (dist[:, k] > limit) & (pred[:, k, 2] >= pcutoff)
        for n in np.flatnonzero(hit):
            if (int(n), bp) in skip:
                continue
            out.append(
                LabelIssue(
                    int(n),
                    "far_from_model",
                    (bp,),
                    float(dist[n, k] / limit),
                    f"{bp} is {dist[n, k]:.1f} px from the model's confident prediction "
                    f"(likelihood {pred[n, k, 2]:.2f}): misplaced?",
                )
            )
    return out


def _centres_without_each_part(labels: np.ndarray) -> np.ndarray:
    """``(N, A, P, 2)`` -> ``(N, A, P, 2)``: per part, the coordinate-wise median of the animal's OTHER labeled
    points (NaN where fewer than 2 of them are labeled)."""
    n_parts = labels.shape[2]
    out = np.full(labels.shape, np.nan)
    for k in range(n_parts):
        others = np.delete(labels, k, axis=2)  # (N, A, P-1, 2)
        enough = np.isfinite(others[..., 0]).sum(axis=2) >= 2
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
            centre = np.nanmedian(others, axis=2)
        out[:, :, k] = np.where(enough[..., None], centre, np.nan)
    return out


def find_parts_on_other_animals(
    labels: np.ndarray,
    bodyparts: Sequence[str],
    individuals: Sequence[str],
    z_max: float = 4.0,
    min_relative: float = 0.5,
    margin: float = 0.5,
    min_points: int = 8,
) -> list[LabelIssue]:
    """Points of one animal placed on another one (several animals per image).

    ``labels``: ``(n_images, n_individuals, n_bodyparts, 2)`` pixels, NaN = not labeled. For each labeled point
    of part ``p`` of animal ``a``, ``d_own`` is its distance (px) to the median of ``a``'s other labeled points
    (at least 2). The project's own labels say how far part ``p`` usually lies from that centre: over every
    labeled (image, animal), the median ``m_p`` and the spread ``s_p = max(1.4826 MAD, 0.5 px)`` of ``d_own``
    (needs ``min_points`` of them). A point is **implausibly far** from its animal when
    ``z = (d_own - m_p) / s_p > z_max`` and ``d_own > (1 + min_relative) m_p``. It **sits on** animal ``b`` when
    its distance ``d_b`` to the median of ``b``'s points other than ``b``'s own part ``p`` is within ``b``'s
    body (at most ``max_q (m_q + z_max s_q)``, the largest usual distance of any part) and at most ``margin``
    times ``d_own``. Such points are flagged as ``other_animal``, with ``bodyparts`` ``"<a> <part>"``, score
    ``z`` and a message naming both animals. Identity mix-ups of whole animals (every point of ``a`` on ``b``)
    are not flagged: the points then fit the animal they are on.
    """
    labels = np.asarray(labels, dtype=float)
    centres = _centres_without_each_part(labels)  # (N, A, P, 2)
    d_own = _pair_distance(labels, centres)  # (N, A, P)
    n_parts = labels.shape[2]
    med, spread = np.full(n_parts, np.nan), np.full(n_parts, np.nan)
    for k in range(n_parts):
        d = d_own[:, :, k][np.isfinite(d_own[:, :, k])]
        if len(d) >= min_points:
            med[k] = float(np.median(d))
            spread[k] = max(1.4826 * float(np.median(np.abs(d - med[k]))), 0.5)
    if not np.isfinite(med).any():
        return []
    body = float(np.nanmax(med + z_max * spread))
    with np.errstate(invalid="ignore"):
        z = (d_own - med) / spread
        far = (z > z_max) & (d_own > (1.0 + min_relative) * med)
    out = []
    for n, a, k in zip(*np.nonzero(far)):
        d_b = _pair_distance(
            labels[n, a, k][None], centres[n, :, k]
        )  # (A,) to each animal's centre without k
        d_b[a] = np.nan
        if not np.isfinite(d_b).any():
            continue
        b = int(np.nanargmin(d_b))
        if d_b[b] > body or d_b[b] > margin * d_own[n, a, k]:
            continue
        me, other, part = individuals[a], individuals[b], bodyparts[k]
        out.append(
            LabelIssue(
                int(n),
                "other_animal",
                (f"{me} {part}",),
                float(z[n, a, k]),
                f"{me}'s {part} lies on {other}: {d_b[b]:.1f} px from {other}'s other points, {d_own[n, a, k]:.1f} "
                f"px from {me}'s (usually {med[k]:.1f} px): clicked on the wrong animal?",
            )
        )
    return out


def issues_table(issues: Sequence[LabelIssue], images: Sequence) -> pd.DataFrame:
    """One row per issue: ``image`` (``labeled-data/<stem>/<png>``), ``kind``, ``bodyparts`` (comma-joined),
    ``score``, ``message``; sorted by kind, then score (highest first)."""
    rows = []
    for issue in issues:
        img = images[issue.image]
        name = "/".join(str(p) for p in img) if isinstance(img, tuple) else str(img)
        rows.append([name, issue.kind, ",".join(issue.bodyparts), issue.score, issue.message])
    df = pd.DataFrame(rows, columns=ISSUE_COLUMNS)
    if len(df):
        df = df.sort_values(["kind", "score"], ascending=[True, False], kind="stable").reset_index(drop=True)
    return df
