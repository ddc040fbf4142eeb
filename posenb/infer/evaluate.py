"""``evaluate_network``: pixel errors of a trained shuffle on its labeled train and test images (DLC §6).

Per snapshot, in ``evaluation-results/iteration-N/<Task><date>-trainset<pct>shuffle<k>/``:

- ``<DLCscorer>-snapshot-<iter>.h5``: predictions for every image of the training set's ``CollectedData``
  (key ``df_with_missing``, columns ``(DLCscorer, bodyparts, x/y/likelihood)``, index = image MultiIndex);
  a snapshot whose file exists is not predicted again;
- ``<DLCscorer>-results.csv`` (new rows first) and ``../CombinedEvaluation-results.csv`` with DeepLabCut's
  exact column names (:data:`RESULT_COLUMNS`); ``<DLCscorer>-keypoint-results.csv`` (per body part);
- with ``plotting=True``: ``LabeledImages_<DLCscorer>_snapshot-<iter>/Training-<stem>-<img>.png`` and
  ``Test-...``: human label ``+``, confident prediction ``.``, prediction below p-cutoff ``x``.

Test-time scales (``test_scales=[1.1, 1.25]``, or the shuffle's ``train/pose_cfg.yaml`` key ``test_scales``;
:mod:`posenb.infer.multiscale`): every image is predicted once per scale and the key points averaged. Such an
evaluation has files of its own, tagged with the scales (:func:`~posenb.infer.multiscale.scales_tag`):
``<DLCscorer>-snapshot-<iter>-scales1.1_1.25.h5``, ``<DLCscorer>-scales1.1_1.25-results.csv`` (and
``-keypoint-results.csv``), ``../CombinedEvaluation-scales1.1_1.25-results.csv``, ``LabeledImages_<DLCscorer>_
snapshot-<iter>-scales1.1_1.25/``; so a cached prediction made at one scale set is never read for another, and
DeepLabCut's untagged files keep meaning one pass. The printed line names the scales.

Error = Euclidean distance in pixels between human label and prediction, averaged (``nanmean``) over
(image, body part) cells of the train or test images; the "p-cutoff" variant keeps cells whose predicted
likelihood is >= ``pcutoff``. Rounded to 2 decimals as DeepLabCut does.

:func:`evaluation_table` returns the per-image, per-body-part predictions and errors for the evaluation panel.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.infer.eval_results import (
    KEYPOINT_ROWS,
    RESULT_COLUMNS,
    error_summary,
    evaluation_dir,
    keypoint_table,
    pixel_errors,
    plot_labeled_image,
    read_image,
    results_message,
    results_row,
    select_snapshots,
    shuffle_plan,
    summarize_errors,
    write_keypoint_results,
    write_results,
)
from posenb.io.labels import labels_to_array
from posenb.project import paths
from posenb.project.config import project_parts, read_config

__all__ = [
    "evaluate_network",
    "evaluation_table",
    "predict_images",
    "pixel_errors",
    "summarize_errors",
    "error_summary",
    "RESULT_COLUMNS",
    "KEYPOINT_ROWS",
]


def predict_images(
    predictor, project: Path, images: list[tuple], batch_size: int = 8, desc: str = "images"
) -> np.ndarray:
    """Predict labeled images (3-tuples of path parts under ``project``); returns ``(n, K, 3)`` float64.

    Images of equal size are batched together; the order of ``images`` is kept.
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    out = np.full((len(images), predictor.num_joints, 3), np.nan)
    pending: dict[tuple, list[tuple[int, np.ndarray]]] = {}

    def flush(shape):
        group = pending.pop(shape)
        idx = [i for i, _ in group]
        out[idx] = predictor.predict(np.stack([img for _, img in group]))

    with tqdm(total=len(images), desc=desc, unit="img", leave=False) as bar:
        for i, parts in enumerate(images):
            img = read_image(project.joinpath(*[str(p) for p in parts]))
            pending.setdefault(img.shape, []).append((i, img))
            if len(pending[img.shape]) >= batch_size:
                flush(img.shape)
            bar.update(1)
        for shape in list(pending):
            flush(shape)
    return out


def _write_eval_h5(df: pd.DataFrame, path: Path) -> None:
    """Evaluation predictions (image MultiIndex rows): key ``df_with_missing``, fixed format (pandas cannot
    store a row MultiIndex together with column MultiIndex in "table" format)."""
    from posenb.io.hdf import write_hdf  # noqa: PLC0415

    write_hdf(df, path, format="fixed", backup=False)


def _plot_labeled_images(folder: Path, project: Path, data, pred, train_idx, bodyparts, cfg) -> None:
    """``LabeledImages_*``: per image, the human label ``+``, the prediction ``.`` (``x`` below p-cutoff)."""
    from posenb.post._common import bodypart_colors  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    labels = labels_to_array(data, bodyparts)
    colors = bodypart_colors(cfg.get("colormap") or "rainbow", len(bodyparts))
    pcutoff = float(cfg.get("pcutoff", 0.6))
    dotsize = float(cfg.get("dotsize", 12))
    alpha = float(cfg.get("alphavalue", 0.7))
    train_set = set(train_idx)

    def markers(ax, i):
        for k in range(len(bodyparts)):
            c = colors[k]
            if np.isfinite(labels[i, k]).all():
                ax.plot(labels[i, k, 0], labels[i, k, 1], "+", color=c, ms=dotsize, alpha=alpha)
            x, y, p = pred[i, k]
            if np.isfinite([x, y]).all():
                ax.plot(
                    x,
                    y,
                    "." if p > pcutoff else "x",
                    color=c,
                    ms=dotsize * (0.5 if p > pcutoff else 0.4),
                    alpha=alpha,
                )

    for i, parts in enumerate(data.index):
        kind = "Training" if i in train_set else "Test"
        plot_labeled_image(folder, project, parts, kind, lambda ax, i=i: markers(ax, i))


def evaluate_network(
    config: str | os.PathLike,
    Shuffles=(1,),
    trainingsetindex: int | str = 0,
    plotting: bool = False,
    show_errors: bool = True,
    comparisonbodyparts="all",
    gputouse: int | None = None,
    rescale: bool = False,
    modelprefix: str = "",
    per_keypoint_evaluation: bool = True,
    snapshots_to_evaluate=None,
    test_scales=None,
) -> pd.DataFrame:
    """Evaluate the trained shuffles on their train and test images (DeepLabCut's API and files).

    Parameters
    ----------
    config : project config.yaml.
    Shuffles : shuffle indices to evaluate.
    trainingsetindex : index into ``TrainingFraction`` (or ``"all"``).
    plotting : draw the labeled images (human ``+``, prediction ``.`` / ``x`` below p-cutoff).
    show_errors : print the errors.
    comparisonbodyparts : ``"all"`` or a list of body parts the errors are computed on.
    gputouse : CUDA device index (None: CUDA if present, else CPU).
    per_keypoint_evaluation : also write ``<DLCscorer>-keypoint-results.csv``.
    snapshots_to_evaluate : snapshot names (``["snapshot-1000"]``); default config ``snapshotindex``.
    test_scales : posenb only: None (default: each shuffle's ``train/pose_cfg.yaml`` key ``test_scales``; null
        there: one pass) or input scales relative to ``global_scale``, e.g. ``[1.1, 1.25]`` (key points averaged
        over one pass per scale; ``[1]``: one pass). Written to files tagged with the scales (module docstring);
        the returned frame's ``attrs["test_scales"]`` maps each shuffle to its scales. Single-animal only for now.

    Returns a DataFrame with one row per (shuffle, snapshot) and :data:`RESULT_COLUMNS`. Multi-animal projects:
    errors after matching predicted to labeled animals, plus mAP, mAR, animals missed and identity accuracy
    (:mod:`posenb.infer.evaluate_ma`).
    """
    del modelprefix
    if rescale:
        warnings.warn("rescale=True is not supported; errors are in original image pixels.", stacklevel=2)
    from posenb.infer.multiscale import check_scales, refuse_multianimal_scales  # noqa: PLC0415

    check_scales(test_scales)  # before anything is read or written
    cfg = read_config(config)
    if project_parts(cfg).multianimal:
        from posenb.infer.evaluate_ma import evaluate_network_ma  # noqa: PLC0415

        for tsi, shuffle in shuffle_plan(cfg, Shuffles, trainingsetindex):
            refuse_multianimal_scales(cfg, shuffle, tsi, test_scales)
        return evaluate_network_ma(
            config, cfg, Shuffles, trainingsetindex, plotting=plotting, show_errors=show_errors,
            comparisonbodyparts=comparisonbodyparts, gputouse=gputouse,
            per_keypoint_evaluation=per_keypoint_evaluation, snapshots_to_evaluate=snapshots_to_evaluate,
        )  # fmt: skip
    from posenb.io.predictions import select_bodyparts  # noqa: PLC0415

    bodyparts = list(cfg["bodyparts"])
    compare = select_bodyparts(bodyparts, comparisonbodyparts, where="config.yaml's bodyparts")
    opts = {"cols": [bodyparts.index(b) for b in compare], "compare": compare, "show_errors": show_errors,
            "per_keypoint": per_keypoint_evaluation, "plotting": plotting, "gputouse": gputouse}  # fmt: skip
    rows, used = [], {}
    for tsi, shuffle in shuffle_plan(cfg, Shuffles, trainingsetindex):
        done, scales = _evaluate_shuffle(cfg, shuffle, tsi, snapshots_to_evaluate, test_scales, opts)
        if done:
            rows.extend(done)
            used[shuffle] = list(scales) if scales is not None else None
    out = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    out.attrs["test_scales"] = used
    return out


def _evaluate_shuffle(
    cfg: dict, shuffle: int, tsi: int, snapshots, test_scales, opts: dict
) -> tuple[list, tuple]:
    """Evaluate one shuffle's snapshots and write its results files; returns ``(results rows, scales used)``."""
    from posenb.data.trainingset import read_training_split  # noqa: PLC0415
    from posenb.infer.multiscale import resolve_test_scales, scales_tag  # noqa: PLC0415

    data, train_idx, test_idx, fraction = read_training_split(cfg, shuffle, tsi)
    # the scales (keyword, else the shuffle's pose_cfg.yaml), checked before the evaluation folder is made
    scales = resolve_test_scales(test_scales, paths.get_train_dir(cfg, shuffle, tsi)[0])
    train_dir, eval_dir = evaluation_dir(cfg, fraction, shuffle)
    split = (train_idx, test_idx, fraction, eval_dir)
    done = [
        _evaluate_snapshot(cfg, shuffle, tsi, snap, data, split, {**opts, "scales": scales})
        for snap in select_snapshots(train_dir, cfg, snapshots)
    ]
    if done:
        tag = scales_tag(scales)
        write_results(eval_dir, done[-1][0] + tag, [r for _, r in done], RESULT_COLUMNS, tag=tag)
    return [r for _, r in done], scales


def _snapshot_predictions(cfg: dict, predictor, scorer: str, h5: Path, data, desc: str) -> np.ndarray:
    """``(n_images, K, 3)`` predictions of the training set's images: read from the evaluation ``.h5`` when it
    exists, else predicted and written there."""
    from posenb.io.predictions import array_to_predictions, read_predictions  # noqa: PLC0415

    bodyparts = list(cfg["bodyparts"])
    if h5.is_file():
        pred_df = read_predictions(h5)
        return pred_df.to_numpy(dtype=float).reshape(len(pred_df), len(bodyparts), 3)
    project = Path(cfg["project_path"])
    pred = predict_images(predictor, project, list(data.index), int(cfg.get("batch_size") or 8), desc=desc)
    _write_eval_h5(array_to_predictions(pred, scorer, bodyparts, index=data.index), h5)
    return pred


def _evaluate_snapshot(cfg: dict, shuffle: int, tsi: int, snap: Path, data, split, opts: dict) -> list:
    """Predict (or read), score and write one snapshot's files; returns ``[scorer, results row]``.

    ``opts["scales"]``: the test-time scales (None: one pass); they tag the file names (module docstring)."""
    from posenb.infer.eval_results import eval_h5  # noqa: PLC0415
    from posenb.infer.multiscale import scales_tag, scales_text  # noqa: PLC0415
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415
    from posenb.nn.snapshots import snapshot_iteration  # noqa: PLC0415

    train_idx, test_idx, fraction, eval_dir = split
    bodyparts, pcutoff = list(cfg["bodyparts"]), float(cfg.get("pcutoff", 0.6))
    scales = opts.get("scales")
    predictor, info = load_predictor(
        cfg, shuffle, tsi, gputouse=opts["gputouse"], snapshot=snap, test_scales=scales
    )
    scorer, tag = info["scorer"], scales_tag(scales)
    h5 = eval_h5(eval_dir, scorer, snap, scales)
    pred = _snapshot_predictions(cfg, predictor, scorer, h5, data, desc=f"evaluate {snap.stem}{tag}")
    err, err_p = pixel_errors(labels_to_array(data, bodyparts), pred, pcutoff)
    err, err_p = err[:, opts["cols"]], err_p[:, opts["cols"]]
    summary = summarize_errors(err, err_p, train_idx, test_idx, opts["compare"])
    row = results_row(snapshot_iteration(snap), fraction, shuffle, pcutoff, summary)
    if opts["show_errors"]:
        how = "" if scales is None else f" ({scales_text(scales)})"
        print(results_message(snap.stem, fraction, shuffle, row) + how + ".")
    if opts["per_keypoint"]:
        table = keypoint_table(err, err_p, train_idx, test_idx, opts["compare"])
        write_keypoint_results(eval_dir / f"{scorer}{tag}-keypoint-results.csv", table)
    if opts["plotting"]:
        folder = eval_dir / f"LabeledImages_{scorer}_{snap.stem}{tag}"
        _plot_labeled_images(folder, Path(cfg["project_path"]), data, pred, train_idx, bodyparts, cfg)
    return [scorer, row]


def evaluation_table(
    config: str | os.PathLike,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    snapshot: str | os.PathLike | None = None,
    gputouse: int | None = None,
    test_scales=None,
) -> pd.DataFrame:
    """Per-image, per-body-part predictions and errors, for the evaluation panel.

    One row per (image, body part): ``image`` (project-relative path), ``split`` (``train`` / ``test``),
    ``bodypart``, ``x_label``, ``y_label``, ``x``, ``y``, ``likelihood``, ``error_px`` (NaN if unlabeled).
    Uses the evaluation ``.h5`` of the snapshot when present, else predicts (and writes it).
    ``snapshot`` defaults to config ``snapshotindex``; ``test_scales`` as in :func:`evaluate_network` (None: the
    shuffle's ``pose_cfg.yaml`` key, so the table shows what ``evaluate_network`` evaluated; its files are the
    scale set's own). ``table.attrs["test_scales"]``: the scales used (None: one pass).
    """
    from posenb.data.trainingset import read_pose_cfg, read_training_split  # noqa: PLC0415
    from posenb.infer.eval_results import eval_h5  # noqa: PLC0415
    from posenb.infer.multiscale import resolve_test_scales  # noqa: PLC0415
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415
    from posenb.io.predictions import array_to_predictions, read_predictions  # noqa: PLC0415
    from posenb.nn.snapshots import select_snapshot, snapshot_iteration  # noqa: PLC0415

    cfg = read_config(config)
    project = Path(cfg["project_path"])
    bodyparts = list(cfg["bodyparts"])
    data, train_idx, test_idx, fraction = read_training_split(cfg, shuffle, trainingsetindex)
    train_dir = project / paths.get_model_folder(fraction, shuffle, cfg) / "train"
    snap = select_snapshot(train_dir, snapshot if snapshot is not None else cfg.get("snapshotindex", -1))
    eval_dir = project / paths.get_evaluation_folder(fraction, shuffle, cfg)
    scales = resolve_test_scales(test_scales, train_dir)
    # the stored evaluation, found without building the network (a panel opens in a fraction of a second)
    h5 = None
    pose_cfg = train_dir / "pose_cfg.yaml"
    net_type = read_pose_cfg(pose_cfg).get("net_type") if pose_cfg.is_file() else None
    if net_type:
        scorer = paths.get_scorer_name(cfg, shuffle, fraction, net_type, snapshot_iteration(snap))
        if eval_h5(eval_dir, scorer, snap, scales).is_file():
            h5 = eval_h5(eval_dir, scorer, snap, scales)
    if h5 is None:
        predictor, info = load_predictor(
            cfg, shuffle, trainingsetindex, gputouse=gputouse, snapshot=snap, test_scales=scales
        )
        h5 = eval_h5(eval_dir, info["scorer"], snap, scales)
        if not h5.is_file():
            pred = predict_images(predictor, project, list(data.index), int(cfg.get("batch_size") or 8))
            _write_eval_h5(array_to_predictions(pred, info["scorer"], bodyparts, index=data.index), h5)
    pred = read_predictions(h5).to_numpy(dtype=float).reshape(len(data), len(bodyparts), 3)
    labels = labels_to_array(data, bodyparts)
    err, _ = pixel_errors(labels, pred, float(cfg.get("pcutoff", 0.6)))
    split = np.full(len(data), "", dtype=object)
    split[train_idx] = "train"
    split[test_idx] = "test"
    n, k = len(data), len(bodyparts)
    images = ["/".join(str(p) for p in idx) for idx in data.index]
    table = pd.DataFrame(
        {
            "image": np.repeat(images, k),
            "split": np.repeat(split, k),
            "bodypart": np.tile(bodyparts, n),
            "x_label": labels[..., 0].ravel(),
            "y_label": labels[..., 1].ravel(),
            "x": pred[..., 0].ravel(),
            "y": pred[..., 1].ravel(),
            "likelihood": pred[..., 2].ravel(),
            "error_px": err.ravel(),
        }
    )
    table.attrs["test_scales"] = list(scales) if scales is not None else None
    return table
