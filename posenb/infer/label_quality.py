"""``check_label_quality``: a project's likely labeling mistakes, each with the image to jump to.

The checks themselves are pure functions in :mod:`posenb.data.label_qc`; this module reads the project's labels,
predicts the labeled images with the shuffle's newest snapshot when there is one, and runs the checks. Nothing
is written and no label is changed: the table lists what to look at, the labeler fixes what the user agrees with.
Multi-animal projects: :mod:`posenb.infer.label_quality_ma`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.data.augment import find_symmetric_pairs
from posenb.data.label_qc import (
    find_bone_length_outliers,
    find_duplicate_points,
    find_far_from_model,
    find_swaps_geometry,
    find_swaps_model,
    issues_table,
)
from posenb.data.trainingset import merge_annotated_datasets
from posenb.errors import ModelError
from posenb.io.labels import labels_to_array
from posenb.project.config import project_parts, read_config

__all__ = ["check_label_quality"]


def _model_predictions(
    cfg: dict, images: list[tuple], shuffle: int, trainingsetindex: int, required: bool
) -> np.ndarray | None:
    """``(n, K, 3)`` predictions of the labeled images; None (or ModelError if ``required``) without a snapshot."""
    from posenb.infer.evaluate import predict_images  # noqa: PLC0415
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415

    try:
        predictor, _ = load_predictor(cfg, shuffle, trainingsetindex)
    except (ModelError, FileNotFoundError, IndexError) as exc:
        if required:
            raise ModelError(f"check_label_quality(use_model=True): {exc}") from None
        warnings.warn(f"check_label_quality: no model used ({exc}); geometric checks only.", stacklevel=3)
        return None
    return predict_images(predictor, Path(cfg["project_path"]), images, desc="label QC")


def check_label_quality(
    config: str | os.PathLike,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    use_model: bool | None = None,
    tol_px: float = 1.0,
    far_px: float = 10.0,
) -> pd.DataFrame:
    """Flag likely labeling mistakes of a project (DeepLabCut layout), changing nothing.

    Parameters
    ----------
    config : path of config.yaml.
    shuffle, trainingsetindex : the model used for the model checks (its newest snapshot, config ``snapshotindex``).
    use_model : True: predict the labeled images (raises :class:`ModelError` when the shuffle has no snapshot);
        False: geometric checks only; None (default): use the model when there is one.
    tol_px : two parts closer than this (pixels) are a ``duplicate``.
    far_px : smallest distance (pixels) from a confident prediction that counts as ``far_from_model``.

    Returns
    -------
    DataFrame with one row per issue, columns ``image`` (``labeled-data/<video>/<png>``, the frame to open in the
    labeler), ``kind`` (``duplicate``, ``bone_length``, ``swap_geometry``, ``swap_model``, ``far_from_model``,
    and for multi-animal projects ``other_animal``), ``bodyparts`` (comma-joined), ``score`` (larger = more
    suspicious, comparable within a kind) and ``message``. Empty when nothing is suspicious. Body parts not
    labeled in an image are never flagged.

    Multi-animal projects (:mod:`posenb.infer.label_quality_ma`): the same checks per animal (bone lengths and
    left/right swaps of each animal, duplicates across all animals' points), ``other_animal`` (a part placed on
    another animal), and with a trained multi-animal snapshot the model checks on each labeled animal against the
    predicted animal matched to it (as ``evaluate_network`` matches them); ``bodyparts`` name the individual
    (``"mouse1 snout"``), messages too.
    """
    cfg = read_config(config)
    if project_parts(cfg).multianimal:
        from posenb.infer.label_quality_ma import check_multianimal  # noqa: PLC0415

        return check_multianimal(config, cfg, shuffle, trainingsetindex, use_model, tol_px, far_px)
    data = merge_annotated_datasets(cfg, quiet=True)
    bodyparts = list(cfg["bodyparts"])
    labels = labels_to_array(data, bodyparts)
    images = [tuple(i) for i in data.index]
    pairs = find_symmetric_pairs(bodyparts)
    issues = find_duplicate_points(labels, bodyparts, tol_px=tol_px)
    issues += find_bone_length_outliers(labels, bodyparts, cfg.get("skeleton") or [])
    issues += find_swaps_geometry(labels, bodyparts, pairs)
    predictions = None
    if use_model or use_model is None:
        predictions = _model_predictions(cfg, images, shuffle, trainingsetindex, required=bool(use_model))
    if predictions is not None:
        pcutoff = float(cfg.get("pcutoff", 0.6))
        swaps = find_swaps_model(labels, predictions, bodyparts, pairs, pcutoff=pcutoff)
        explained = {(s.image, bp) for s in swaps for bp in s.bodyparts}
        issues += swaps
        issues += find_far_from_model(
            labels, predictions, bodyparts, pcutoff=pcutoff, min_px=far_px, skip=explained
        )
    return issues_table(issues, images)
