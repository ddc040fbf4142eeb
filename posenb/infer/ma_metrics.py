"""Multi-animal evaluation metrics (pure numpy/scipy functions on arrays; no files, no model).

Shapes: ``N`` images, ``G`` labeled individuals (config order), ``A`` predicted animal slots, ``P`` body parts.
Labels ``gt (N, G, P, 2)`` in pixels, NaN where not labeled; predictions ``pred (N, A, P, 3)`` (x, y,
likelihood), NaN in empty slots; animal ``scores (N, A)``.

Two families, as DeepLabCut reports them:

- **Pixel error after optimal matching** (:func:`match_animals`, :func:`matched_errors`): in each image the
  predicted animals are assigned to the labeled ones by ``scipy.optimize.linear_sum_assignment`` on the mean
  distance over the body parts both have; the error of a body part is then the Euclidean distance to the
  assigned prediction (DeepLabCut's train/test "error", a mean distance in pixels; the "with p-cutoff" variant
  keeps the points whose likelihood is >= pcutoff). The order of the animals (in labels or predictions) does
  not change it. A labeled animal left without a prediction is **missed**: it has no error (it cannot have one)
  and is counted separately, so an evaluation reports both numbers.
- **OKS mAP / mAR** (:func:`oks`, :func:`oks_map`), as DeepLabCut 3 reports them (and pycocotools computes):
  ``OKS = mean over the labeled points of exp(-d^2 / (2 * area * k^2))`` with ``k = 2 * sigma`` and ``area`` the
  area of the bounding box of the animal's labeled points (DeepLabCut 3's ``calc_object_keypoint_similarity``:
  no margin, animals with fewer than 2 labeled points are not scored); a predicted point that is missing counts
  as 0. **Sigma**: one value per body part, default :data:`DEFAULT_OKS_SIGMA` = 0.1 for every part, DeepLabCut
  3's ``oks_sigma`` default, so posenb's and DeepLabCut 3's numbers compare (COCO's human sigmas, 0.025-0.107,
  describe human annotators on human joints and do not transfer to animal key points). With k = 0.2, a point
  off by 10 % of the animal's bounding-box side scores exp(-0.125) = 0.88. Matching: for each OKS threshold
  0.50:0.05:0.95 the predictions, best score first, are greedily matched to the unmatched labeled animal of
  highest OKS >= threshold (pycocotools); precision is interpolated at 101 recall points. ``mAP`` and ``mAR``
  are in percent (0-100), as in DeepLabCut 3's results.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = [
    "DEFAULT_OKS_SIGMA",
    "OKS_THRESHOLDS",
    "animal_distance",
    "match_animals",
    "matched_errors",
    "oks",
    "oks_map",
    "identity_accuracy",
]

DEFAULT_OKS_SIGMA = 0.1
OKS_THRESHOLDS = np.linspace(0.5, 0.95, 10)
_RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def animal_distance(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``(G, A)`` mean distance (px) between labeled animals ``gt (G, P, 2)`` and predicted ``pred (A, P, >=2)``
    over the body parts both have; ``inf`` where they share none."""
    d = np.linalg.norm(
        gt[:, None, :, :2] - pred[None, :, :, :2], axis=-1
    )  # (G, A, P), NaN where either is missing
    ok = np.isfinite(d)
    n = ok.sum(axis=-1)
    total = np.where(ok, d, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.inf)


def match_animals(gt: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Optimal assignment of predicted to labeled animals in one image.

    ``gt (G, P, 2)``, ``pred (A, P, >=2)``. Returns ``(G,)`` int: the index of the prediction assigned to each
    labeled animal, ``-1`` when none is (no prediction left, or none sharing a body part with it). Minimises the
    sum of :func:`animal_distance` over the assigned pairs (``scipy.optimize.linear_sum_assignment``).
    """
    from scipy.optimize import linear_sum_assignment  # noqa: PLC0415

    out = np.full(len(gt), -1, dtype=np.int64)
    if len(gt) == 0 or len(pred) == 0:
        return out
    cost = animal_distance(gt, pred)
    finite = np.isfinite(cost)
    if not finite.any():
        return out
    big = 1.0 + 2.0 * cost[finite].max() * max(cost.shape)  # any finite pairing beats an impossible one
    rows, cols = linear_sum_assignment(np.where(finite, cost, big))
    keep = finite[rows, cols]
    out[rows[keep]] = cols[keep]
    return out


def matched_errors(gt: np.ndarray, pred: np.ndarray, pcutoff: float = 0.6) -> dict:
    """Per-animal, per-part errors after optimal matching in every image.

    ``gt (N, G, P, 2)``, ``pred (N, A, P, 3)``. Returns a dict:

    - ``error (N, G, P)``: distance (px) from each labeled point to its animal's assigned prediction; NaN where
      the point is not labeled, not predicted or the animal is missed;
    - ``error_pcutoff (N, G, P)``: the same, NaN also where the prediction's likelihood is < ``pcutoff``;
    - ``likelihood (N, G, P)``: the assigned prediction's likelihood;
    - ``assigned (N, G, P, 3)``: the prediction assigned to each labeled animal (x, y px, likelihood; NaN if none);
    - ``assignment (N, G)``: index of the assigned prediction, -1 if none;
    - ``labeled (N, G)`` bool: the animal has at least one labeled point;
    - ``missed (N, G)`` bool: labeled but no prediction assigned.
    """
    gt, pred = np.asarray(gt, dtype=float), np.asarray(pred, dtype=float)
    n, g, p = gt.shape[:3]
    assignment = np.stack([match_animals(gt[i], pred[i]) for i in range(n)]) if n else np.zeros((0, g), int)
    rows = np.arange(n)[:, None]
    assigned = pred[rows, np.maximum(assignment, 0)]  # (N, G, P, 3)
    assigned = np.where((assignment >= 0)[..., None, None], assigned, np.nan)
    error = np.linalg.norm(gt - assigned[..., :2], axis=-1)
    likelihood = assigned[..., 2]
    with np.errstate(invalid="ignore"):
        error_pcutoff = np.where(likelihood >= pcutoff, error, np.nan)
    labeled = np.isfinite(gt).all(axis=-1).any(axis=-1)
    return {
        "error": error,
        "error_pcutoff": error_pcutoff,
        "likelihood": likelihood,
        "assigned": assigned,
        "assignment": assignment,
        "labeled": labeled,
        "missed": labeled & (assignment < 0),
    }


def _sigmas(sigma, n_parts: int) -> np.ndarray:
    s = np.broadcast_to(np.asarray(DEFAULT_OKS_SIGMA if sigma is None else sigma, dtype=float), (n_parts,))
    if (s <= 0).any():
        raise ValueError(f"OKS sigmas must be > 0, got {s.tolist()}.")
    return s


def oks(gt: np.ndarray, pred: np.ndarray, sigma=DEFAULT_OKS_SIGMA) -> float:
    """Object keypoint similarity of one predicted animal ``pred (P, >=2)`` to one labeled ``gt (P, 2)``.

    ``sigma``: scalar or ``(P,)``. NaN when the labeled animal has fewer than 2 points or a zero-area box.
    """
    gt, pred = np.asarray(gt, dtype=float), np.asarray(pred, dtype=float)[:, :2]
    visible = np.isfinite(gt).all(axis=1)
    if visible.sum() < 2:
        return float("nan")
    true = gt[visible]
    area = float(np.prod(np.ptp(true, axis=0) + np.spacing(1)))
    if np.isclose(area, 0):
        return float("nan")
    k2 = (2 * _sigmas(sigma, len(gt))[visible]) ** 2
    d2 = ((pred[visible] - true) ** 2).sum(axis=1)
    d2 = np.where(np.isfinite(d2), d2, np.inf)  # a missing predicted point scores 0
    return float(np.mean(np.exp(-d2 / (2 * area * k2))))


def _image_entries(gt_i, pred_i, score_i, sigma):
    """Scored animals of one image: (labeled animals kept, predictions kept sorted by score, scores, OKS matrix)."""
    gt_i = gt_i[np.isfinite(gt_i).all(axis=-1).sum(axis=-1) > 1]
    keep = np.isfinite(pred_i[..., :2]).all(axis=-1).sum(axis=-1) > 1
    pred_i, score_i = pred_i[keep], score_i[keep]
    order = np.argsort(-score_i, kind="mergesort")
    pred_i, score_i = pred_i[order], score_i[order]
    m = np.array([[oks(g, d, sigma) for g in gt_i] for d in pred_i]).reshape(len(pred_i), len(gt_i))
    return gt_i, pred_i, score_i, np.nan_to_num(m, nan=0.0)


def _greedy(oks_m: np.ndarray, threshold: float) -> np.ndarray:
    """pycocotools' matching: ``(n_pred,)`` OKS of each prediction's match (0 when unmatched)."""
    taken = np.zeros(oks_m.shape[1], bool)
    out = np.zeros(oks_m.shape[0])
    for d in range(oks_m.shape[0]):
        cand = np.where(taken, -1.0, oks_m[d])
        if cand.size and cand.max() >= min(threshold, 1 - 1e-10):
            j = int(cand.argmax())
            taken[j] = True
            out[d] = cand[j]
    return out


def oks_map(
    gt: np.ndarray, pred: np.ndarray, scores=None, sigma=DEFAULT_OKS_SIGMA, thresholds=OKS_THRESHOLDS
) -> dict:
    """COCO keypoint mAP and mAR (percent) of predictions ``pred (N, A, P, 3)`` against labels ``gt (N, G, P, 2)``.

    ``scores (N, A)``: the animal scores that rank the predictions (None: mean likelihood of the animal's points,
    as DeepLabCut 3 does). Returns ``{"mAP", "mAR", "n_labeled", "n_predicted"}``; mAP and mAR are NaN when no
    image has a scorable labeled animal (>= 2 points).
    """
    gt, pred = np.asarray(gt, dtype=float), np.asarray(pred, dtype=float)
    if scores is None:
        with warnings.catch_warnings():  # an empty slot's mean is NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            scores = np.nanmean(pred[..., 2], axis=-1)
    scores = np.nan_to_num(np.asarray(scores, dtype=float), nan=0.0)
    entries = [_image_entries(gt[i], pred[i], scores[i], sigma) for i in range(len(gt))]
    n_gt = sum(len(e[0]) for e in entries)
    n_pred = sum(len(e[1]) for e in entries)
    if n_gt == 0:
        return {"mAP": float("nan"), "mAR": float("nan"), "n_labeled": 0, "n_predicted": n_pred}
    if n_pred == 0:
        return {"mAP": 0.0, "mAR": 0.0, "n_labeled": n_gt, "n_predicted": 0}
    all_scores = np.concatenate([e[2] for e in entries])
    order = np.argsort(-all_scores, kind="mergesort")
    precisions, recalls = [], []
    for t in thresholds:
        matched = np.concatenate([_greedy(e[3], t) for e in entries])[order] > 0
        tp, fp = np.cumsum(matched), np.cumsum(~matched)
        rc = tp / n_gt
        pr = np.maximum.accumulate((tp / (tp + fp + np.spacing(1)))[::-1])[::-1]  # monotone envelope
        idx = np.searchsorted(rc, _RECALL_POINTS, side="left")
        precisions.append(np.where(idx < len(pr), pr[np.minimum(idx, len(pr) - 1)], 0.0))
        recalls.append(rc[-1])
    return {
        "mAP": 100 * float(np.mean(precisions)),
        "mAR": 100 * float(np.mean(recalls)),
        "n_labeled": n_gt,
        "n_predicted": n_pred,
    }


def identity_accuracy(identity: np.ndarray, assignment: np.ndarray, labeled: np.ndarray) -> float:
    """Fraction of matched labeled animals whose predicted identity (argmax of ``identity (N, A, G)``) is their
    own individual; ``assignment (N, G)`` and ``labeled (N, G)`` from :func:`matched_errors`. NaN if none."""
    n, g = assignment.shape
    ok = labeled & (assignment >= 0)
    if not ok.any():
        return float("nan")
    best = np.asarray(identity).argmax(axis=-1)  # (N, A)
    predicted = best[np.arange(n)[:, None], np.maximum(assignment, 0)]  # (N, G)
    return float((predicted == np.arange(g)[None, :])[ok].mean())
