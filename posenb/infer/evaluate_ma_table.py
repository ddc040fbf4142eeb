"""The evaluation panel's per-image table for a multi-animal project (the multi-animal :func:`evaluation_table`).

Reads the stored evaluation of a snapshot (``<DLCscorer>-snapshot-<iter>.h5``, written by
:func:`posenb.infer.evaluate_ma.evaluate_network_ma`) and the training set's labels, matches the predicted animals
to the labeled ones in every image (:func:`posenb.infer.ma_metrics.matched_errors`, as the evaluation does) and
lists one row per (image, labeled individual, body part). Unique (scene) parts are compared without matching.
Nothing is predicted here: a snapshot that was never evaluated is an error that says to evaluate it.
:func:`error_summary_ma` is :func:`posenb.infer.evaluate.error_summary` for these rows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import ModelError
from posenb.project import paths
from posenb.project.config import project_parts, read_config

__all__ = ["evaluation_table_ma", "error_summary_ma"]


def _pred_arrays(df: pd.DataFrame, bodyparts, unique_parts) -> tuple[np.ndarray, np.ndarray | None]:
    """``(N, A, P, 3)`` predicted animals (every individual but ``single``) and ``(N, U, 3)`` unique parts."""
    from posenb.post._multi import UNIQUE, group_array, pose_groups  # noqa: PLC0415

    slots = [ind for ind, _ in pose_groups(df) if ind != UNIQUE]
    poses = np.stack([group_array(df, ind, bodyparts) for ind in slots], axis=1) if slots else None
    if poses is None:
        poses = np.full((len(df), 0, len(bodyparts), 3), np.nan)
    unique = group_array(df, UNIQUE, unique_parts) if unique_parts else None
    return poses, unique


def _rows(images, split, names, parts, gt, pred, error) -> dict:
    """Columns of the table for ``gt (N, G, P, 2)``, ``pred (N, G, P, 3)``, ``error (N, G, P)``."""
    n, g, p = gt.shape[:3]
    return {
        "image": np.repeat(images, g * p),
        "split": np.repeat(split, g * p),
        "individual": np.tile(np.repeat(names, p), n),
        "bodypart": np.tile(parts, n * g),
        "x_label": gt[..., 0].ravel(),
        "y_label": gt[..., 1].ravel(),
        "x": pred[..., 0].ravel(),
        "y": pred[..., 1].ravel(),
        "likelihood": pred[..., 2].ravel(),
        "error_px": error.ravel(),
    }


def evaluation_table_ma(
    config: str | os.PathLike, shuffle: int = 1, trainingsetindex: int = 0, snapshot=None
) -> pd.DataFrame:
    """Per-image rows of a multi-animal evaluation: ``image``, ``split`` (train/test), ``individual`` (the labeled
    one; ``single`` for unique parts), ``bodypart``, ``x_label``, ``y_label``, ``x``, ``y``, ``likelihood`` (the
    prediction matched to that animal; NaN when it was missed), ``error_px`` (pixels; NaN if unlabeled).

    ``snapshot`` defaults to config ``snapshotindex``. Raises :class:`ModelError` when the snapshot has no stored
    evaluation (run ``evaluate_network``).
    """
    from posenb.data.ma_trainingset import read_ma_training_split  # noqa: PLC0415
    from posenb.infer.eval_results import stored_evaluation  # noqa: PLC0415
    from posenb.infer.ma_metrics import matched_errors  # noqa: PLC0415
    from posenb.io.label_arrays import table_to_arrays  # noqa: PLC0415
    from posenb.nn.snapshots import select_snapshot  # noqa: PLC0415
    from posenb.post._multi import read_pose_table  # noqa: PLC0415

    cfg = read_config(config)
    project, parts = Path(cfg["project_path"]), project_parts(cfg)
    data, train_idx, test_idx, fraction = read_ma_training_split(cfg, shuffle, trainingsetindex)
    train_dir = project / paths.get_model_folder(fraction, shuffle, cfg) / "train"
    snap = select_snapshot(train_dir, snapshot if snapshot is not None else cfg.get("snapshotindex", -1))
    stored = stored_evaluation(cfg, shuffle, trainingsetindex, snap, test_scales=[1]).path  # one pass
    if stored is None:
        eval_dir = project / paths.get_evaluation_folder(fraction, shuffle, cfg)
        raise ModelError(
            f"{snap.stem} of shuffle {shuffle} is not evaluated yet (no *-{snap.stem}.h5 in {eval_dir}): run "
            "evaluate_network (the Evaluate button)."
        )
    labels = table_to_arrays(data, parts.bodyparts, parts.individuals, parts.unique_bodyparts)
    poses, unique = _pred_arrays(
        read_pose_table(stored), list(parts.bodyparts), list(parts.unique_bodyparts)
    )
    res = matched_errors(labels.points, poses, float(cfg.get("pcutoff", 0.6)))
    rows_i = np.arange(len(data))[:, None]
    matched = np.where(
        (res["assignment"] >= 0)[..., None, None], poses[rows_i, np.maximum(res["assignment"], 0)], np.nan
    ) if poses.shape[1] else np.full(labels.points.shape[:3] + (3,), np.nan)  # fmt: skip
    split = np.full(len(data), "", dtype=object)
    split[train_idx], split[test_idx] = "train", "test"
    images = ["/".join(str(p) for p in idx) for idx in data.index]
    table = pd.DataFrame(
        _rows(
            images,
            split,
            list(parts.individuals),
            list(parts.bodyparts),
            labels.points,
            matched,
            res["error"],
        )
    )
    if parts.unique_bodyparts and unique is not None:
        gt_u = labels.unique[:, None]
        err_u = np.linalg.norm(gt_u - unique[:, None, :, :2], axis=-1)
        extra = _rows(images, split, ["single"], list(parts.unique_bodyparts), gt_u, unique[:, None], err_u)
        table = pd.concat([table, pd.DataFrame(extra)], ignore_index=True)
    return table


def error_summary_ma(table: pd.DataFrame, pcutoff: float) -> pd.DataFrame:
    """:func:`posenb.infer.eval_results.error_summary` of :func:`evaluation_table_ma`'s rows at ``pcutoff`` (the one
    summary rule: each labeled animal of an image is one row of the error grid)."""
    from posenb.infer.eval_results import error_summary  # noqa: PLC0415

    return error_summary(table, pcutoff)
