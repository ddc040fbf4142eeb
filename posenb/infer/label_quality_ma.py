"""``check_label_quality`` on a multi-animal project: the checks of :mod:`posenb.data.label_qc` per animal.

:func:`posenb.infer.label_quality.check_label_quality` hands multi-animal projects here. Labels are read as
``(n_images, n_individuals, n_bodyparts, 2)`` (:func:`posenb.io.label_arrays.table_to_arrays`); unique (scene)
parts are not checked.

- Geometric checks: ``duplicate`` across all animals' points (two animals' points on one spot), ``bone_length``
  and ``swap_geometry`` on each animal on its own, ``other_animal`` (a part placed on another animal).
- Model checks, when the shuffle has a trained multi-animal (top-down) snapshot: the labeled images are predicted
  as :func:`posenb.infer.evaluate_ma.predict_images_ma` does for ``evaluate_network``, predicted animals are
  assigned to the labeled ones as the evaluation does (:func:`posenb.infer.ma_metrics.matched_errors`, Hungarian
  on the mean part distance), and ``swap_model`` / ``far_from_model`` run on the matched pairs, all animals of all
  images pooled (the part's usual error is the median over every labeled animal); a point already flagged
  ``other_animal`` (or in a ``swap_model`` pair) is not flagged ``far_from_model`` again.

``bodyparts`` in the table name the individual (``"female thorax"``), messages start with it. Nothing is written.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.data.augment import find_symmetric_pairs
from posenb.data.label_qc import (
    LabelIssue,
    find_bone_length_outliers,
    find_duplicate_points,
    find_far_from_model,
    find_parts_on_other_animals,
    find_swaps_geometry,
    find_swaps_model,
    issues_table,
)
from posenb.errors import ModelError
from posenb.project.config import project_parts

__all__ = ["check_multianimal", "geometric_issues_ma", "model_issues_ma"]


def _name(issue: LabelIssue, image: int, individual: str) -> LabelIssue:
    """``issue`` of one animal, renamed: its image, ``"<individual> <part>"`` and the message prefixed."""
    parts = tuple(f"{individual} {bp}" for bp in issue.bodyparts)
    return replace(issue, image=image, bodyparts=parts, message=f"{individual}: {issue.message}")


def geometric_issues_ma(
    points: np.ndarray, bodyparts: list[str], individuals: list[str], skeleton, tol_px: float = 1.0
) -> list[LabelIssue]:
    """The checks without a model on ``points (n, A, P, 2)`` px (module docstring); ``image`` = row of ``points``."""
    n = len(points)
    names = [f"{ind} {bp}" for ind in individuals for bp in bodyparts]
    issues = find_duplicate_points(points.reshape(n, -1, 2), names, tol_px=tol_px)
    pairs = find_symmetric_pairs(bodyparts)
    for a, ind in enumerate(individuals):
        found = find_bone_length_outliers(points[:, a], bodyparts, skeleton or [])
        found += find_swaps_geometry(points[:, a], bodyparts, pairs)
        issues += [_name(i, i.image, ind) for i in found]
    return issues + find_parts_on_other_animals(points, bodyparts, individuals)


def model_issues_ma(
    points: np.ndarray,
    poses: np.ndarray,
    bodyparts: list[str],
    individuals: list[str],
    pcutoff: float = 0.6,
    far_px: float = 10.0,
    skip: set[tuple[int, str]] | None = None,
) -> list[LabelIssue]:
    """``swap_model`` and ``far_from_model`` of labeled animals ``points (n, G, P, 2)`` against predicted animals
    ``poses (n, A, P, 3)`` (x, y px, likelihood; any number A of slots, NaN = none), each labeled animal compared
    with the predicted one assigned to it (:func:`~posenb.infer.ma_metrics.matched_errors`); animals without a
    prediction are not checked. ``image`` = row of ``points``; ``skip``: ``(image, "<individual> <part>")``
    already explained (e.g. ``other_animal``), not flagged ``far_from_model`` again."""
    from posenb.infer.ma_metrics import matched_errors  # noqa: PLC0415

    n, g, p = points.shape[:3]
    assigned = matched_errors(points, poses, pcutoff)["assigned"]  # (n, G, P, 3)
    labels, preds = points.reshape(n * g, p, 2), assigned.reshape(n * g, p, 3)
    swaps = find_swaps_model(labels, preds, bodyparts, find_symmetric_pairs(bodyparts), pcutoff=pcutoff)
    explained = {(s.image, bp) for s in swaps for bp in s.bodyparts}
    for image, name in skip or ():
        for a, ind in enumerate(individuals):
            if name.startswith(f"{ind} "):
                explained.add((image * g + a, name[len(ind) + 1 :]))
    found = swaps + find_far_from_model(
        labels, preds, bodyparts, pcutoff=pcutoff, min_px=far_px, skip=explained
    )
    return [_name(i, i.image // g, individuals[i.image % g]) for i in found]


def _predict_ma(config, cfg: dict, images: list[tuple], shuffle: int, tsi: int, required: bool):
    """``(n, A, P, 3)`` predicted animals of the labeled images; None (or ModelError if ``required``) without a
    trained multi-animal snapshot."""
    from posenb.infer.analyze_ma import load_predictor_ma  # noqa: PLC0415
    from posenb.infer.evaluate_ma import predict_images_ma  # noqa: PLC0415

    try:
        predictor, _ = load_predictor_ma(config, cfg, shuffle, tsi)
    except (ModelError, FileNotFoundError, IndexError) as exc:
        if required:
            raise ModelError(
                f"check_label_quality(use_model=True): {exc} Train shuffle {shuffle} (posenb.train_network) or "
                "pass use_model=False for the checks without a model."
            ) from None
        warnings.warn(f"check_label_quality: no model used ({exc}); geometric checks only.", stacklevel=4)
        return None
    batch = int(cfg.get("batch_size") or 8)
    return predict_images_ma(predictor, Path(cfg["project_path"]), images, batch, desc="label QC")["poses"]


def check_multianimal(
    config,
    cfg: dict,
    shuffle: int,
    trainingsetindex: int,
    use_model: bool | None,
    tol_px: float,
    far_px: float,
) -> pd.DataFrame:
    """:func:`posenb.infer.label_quality.check_label_quality` of a multi-animal project (same arguments and
    table; this module's docstring)."""
    from posenb.data.ma_trainingset import merge_ma_datasets  # noqa: PLC0415
    from posenb.io.label_arrays import table_to_arrays  # noqa: PLC0415

    parts = project_parts(cfg)
    data = merge_ma_datasets(cfg)
    bodyparts, individuals = list(parts.bodyparts), list(parts.individuals)
    points = table_to_arrays(data, bodyparts, individuals, parts.unique_bodyparts).points  # (n, G, P, 2)
    images = [tuple(i) for i in data.index]
    issues = geometric_issues_ma(points, bodyparts, individuals, cfg.get("skeleton"), tol_px)
    poses = None
    if use_model or use_model is None:
        poses = _predict_ma(config, cfg, images, shuffle, trainingsetindex, required=bool(use_model))
    if poses is not None:
        pcutoff = float(cfg.get("pcutoff", 0.6))
        placed = {(i.image, i.bodyparts[0]) for i in issues if i.kind == "other_animal"}
        issues += model_issues_ma(points, poses, bodyparts, individuals, pcutoff, far_px, skip=placed)
    return issues_table(issues, images)
