"""``evaluate_network``: pixel errors of a trained shuffle on its labeled train and test images (DLC §6).

Per snapshot, in ``evaluation-results/iteration-N/<Task><date>-trainset<pct>shuffle<k>/``:

- ``<DLCscorer>-snapshot-<iter>.h5``: predictions for every image of the training set's ``CollectedData``
  (key ``df_with_missing``, columns ``(DLCscorer, bodyparts, x/y/likelihood)``, index = image MultiIndex);
  a snapshot whose file exists is not predicted again;
- ``<DLCscorer>-results.csv`` (new rows first) and ``../CombinedEvaluation-results.csv`` with DeepLabCut's
  exact column names (:data:`RESULT_COLUMNS`); ``<DLCscorer>-keypoint-results.csv`` (per body part);
- with ``plotting=True``: ``LabeledImages_<DLCscorer>_snapshot-<iter>/Training-<stem>-<img>.png`` and
  ``Test-...``: human label ``+``, confident prediction ``.``, prediction below p-cutoff ``x``.

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

from posenb.errors import ConfigError, ModelError
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

#: DeepLabCut 2.x's results columns, verbatim (colon and leading spaces included)
RESULT_COLUMNS = [
    "Training iterations:",
    "%Training dataset",
    "Shuffle number",
    " Train error(px)",
    " Test error(px)",
    "p-cutoff used",
    "Train error with p-cutoff",
    "Test error with p-cutoff",
]
KEYPOINT_ROWS = [
    "Train error (px)",
    "Test error (px)",
    "Train error (px) with p-cutoff",
    "Test error (px) with p-cutoff",
]


def _read_image(path: Path) -> np.ndarray:
    import cv2  # noqa: PLC0415

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ConfigError(f"Labeled image {path} is missing or unreadable; re-extract it or drop its label row.")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def predict_images(predictor, project: Path, images: list[tuple], batch_size: int = 8, desc: str = "images") -> np.ndarray:
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
            img = _read_image(project.joinpath(*[str(p) for p in parts]))
            pending.setdefault(img.shape, []).append((i, img))
            if len(pending[img.shape]) >= batch_size:
                flush(img.shape)
            bar.update(1)
        for shape in list(pending):
            flush(shape)
    return out


def pixel_errors(labels: np.ndarray, predictions: np.ndarray, pcutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """``(n, K)`` Euclidean distances (px) between labels ``(n, K, 2)`` and predictions ``(n, K, 3)``.

    Returns ``(error, error_with_pcutoff)``; NaN where the label is missing (and, for the second, where the
    likelihood is below ``pcutoff``).
    """
    err = np.sqrt(((labels - predictions[..., :2]) ** 2).sum(axis=-1))
    err_p = np.where(predictions[..., 2] >= pcutoff, err, np.nan)
    return err, err_p


def _write_eval_h5(df: pd.DataFrame, path: Path) -> None:
    """Evaluation predictions (image MultiIndex rows): key ``df_with_missing``, fixed format (pandas cannot
    store a row MultiIndex together with column MultiIndex in "table" format)."""
    from posenb.io.hdf import write_hdf  # noqa: PLC0415

    write_hdf(df, path, format="fixed", backup=False)


def _nanmean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.isfinite(values).any():
        return float("nan")
    return float(np.nanmean(values))


SUMMARY_COLUMNS = ["train", "test", "train (p-cutoff)", "test (p-cutoff)"]


def summarize_errors(err, err_p, train_idx, test_idx, bodyparts) -> pd.DataFrame:
    """The evaluation's error summary, the one rule behind ``-results.csv``, ``-keypoint-results.csv`` and the
    evaluation panel.

    ``err``, ``err_p``: ``(n_images, K)`` pixel errors of :func:`pixel_errors` (NaN: unlabeled, and for
    ``err_p`` below p-cutoff). Returns a DataFrame indexed by ``bodyparts`` plus ``"all"`` (the mean over every
    cell of the split: DeepLabCut's train/test error), columns :data:`SUMMARY_COLUMNS`, in pixels; NaN where no
    cell qualifies.
    """
    err, err_p = np.asarray(err, dtype=float), np.asarray(err_p, dtype=float)
    out = {}
    for col, e, idx in zip(SUMMARY_COLUMNS, (err, err, err_p, err_p), (train_idx, test_idx, train_idx, test_idx)):
        cells = e[np.asarray(idx, dtype=int)]
        with warnings.catch_warnings():  # a body part never labeled in a split gives NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            per_part = np.nanmean(cells, axis=0) if len(cells) else np.full(len(bodyparts), np.nan)
        out[col] = [*per_part.tolist(), _nanmean(cells)]
    return pd.DataFrame(out, index=pd.Index([*bodyparts, "all"], name="bodypart"))


def error_summary(table: pd.DataFrame, pcutoff: float) -> pd.DataFrame:
    """:func:`summarize_errors` of :func:`evaluation_table`'s rows at ``pcutoff`` (the evaluation panel's slider)."""
    parts = list(dict.fromkeys(table["bodypart"]))
    images = list(dict.fromkeys(table["image"]))

    def grid(column: str) -> np.ndarray:
        wide = table.pivot(index="image", columns="bodypart", values=column)
        return wide.reindex(index=images, columns=parts).to_numpy(dtype=float)

    err, likelihood = grid("error_px"), grid("likelihood")
    split = table.drop_duplicates("image").set_index("image")["split"].reindex(images).to_numpy()
    err_p = np.where(likelihood >= pcutoff, err, np.nan)
    return summarize_errors(err, err_p, np.flatnonzero(split == "train"), np.flatnonzero(split == "test"), parts)


def _keypoint_table(err, err_p, train_idx, test_idx, bodyparts) -> pd.DataFrame:
    """DLC's ``-keypoint-results.csv``: rows :data:`KEYPOINT_ROWS`, one column per body part (mean px)."""
    table = summarize_errors(err, err_p, train_idx, test_idx, bodyparts).loc[list(bodyparts), SUMMARY_COLUMNS].T
    table.index = pd.Index(KEYPOINT_ROWS, name="Error Type")
    table.columns = list(bodyparts)
    return table


def _snapshot_list(train_dir: Path, cfg: dict, snapshots_to_evaluate) -> list[Path]:
    from posenb.nn.snapshots import list_snapshots, select_snapshot  # noqa: PLC0415

    if snapshots_to_evaluate:
        return [select_snapshot(train_dir, name) for name in snapshots_to_evaluate]
    snaps = list_snapshots(train_dir)
    if not snaps:
        raise ModelError(f"No snapshot in {train_dir}. Train the network first (posenb.train_network).")
    index = cfg.get("snapshotindex", -1)
    if index == "all":
        return snaps
    return [select_snapshot(train_dir, int(index))]


def _prepend_csv(path: Path, new: pd.DataFrame) -> pd.DataFrame:
    from posenb.io.atomic import atomic_write  # noqa: PLC0415

    if path.is_file():
        old = pd.read_csv(path, index_col=0)
        df = pd.concat([new, old]).reset_index(drop=True)
    else:
        df = new.reset_index(drop=True)
    atomic_write(path, lambda tmp: df.to_csv(tmp), backup=False)
    return df


def _plot_labeled_images(folder: Path, project: Path, data, pred, train_idx, bodyparts, cfg) -> None:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    labels = labels_to_array(data, bodyparts)
    colors = plt.get_cmap(cfg.get("colormap") or "rainbow")(np.linspace(0, 1, len(bodyparts)))
    pcutoff = float(cfg.get("pcutoff", 0.6))
    dotsize = float(cfg.get("dotsize", 12))
    alpha = float(cfg.get("alphavalue", 0.7))
    train_set = set(train_idx)
    for i, parts in enumerate(data.index):
        img = _read_image(project.joinpath(*[str(p) for p in parts]))
        h, w = img.shape[:2]
        fig = plt.figure(figsize=(w / 100, h / 100), dpi=100, frameon=False)
        ax = fig.add_axes([0, 0, 1, 1])
        ax.imshow(img)
        ax.set_axis_off()
        for k in range(len(bodyparts)):
            c = colors[k]
            if np.isfinite(labels[i, k]).all():
                ax.plot(labels[i, k, 0], labels[i, k, 1], "+", color=c, ms=dotsize, alpha=alpha)
            x, y, p = pred[i, k]
            if np.isfinite([x, y]).all():
                ax.plot(x, y, "." if p > pcutoff else "x", color=c, ms=dotsize * (0.5 if p > pcutoff else 0.4), alpha=alpha)
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)
        kind = "Training" if i in train_set else "Test"
        fig.savefig(folder / f"{kind}-{parts[1]}-{Path(str(parts[2])).name}", dpi=100)
        plt.close(fig)


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

    Returns a DataFrame with one row per (shuffle, snapshot) and :data:`RESULT_COLUMNS`. Multi-animal projects:
    errors after matching predicted to labeled animals, plus mAP, mAR, animals missed and identity accuracy
    (:mod:`posenb.infer.evaluate_ma`).
    """
    del modelprefix
    if rescale:
        warnings.warn("rescale=True is not supported; errors are in original image pixels.", stacklevel=2)
    from posenb.data.trainingset import read_training_split  # noqa: PLC0415
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415
    from posenb.io.predictions import array_to_predictions, read_predictions, select_bodyparts  # noqa: PLC0415
    from posenb.nn.snapshots import snapshot_iteration  # noqa: PLC0415

    cfg = read_config(config)
    if project_parts(cfg).multianimal:
        from posenb.infer.evaluate_ma import evaluate_network_ma  # noqa: PLC0415

        return evaluate_network_ma(
            config, cfg, Shuffles, trainingsetindex, plotting=plotting, show_errors=show_errors,
            comparisonbodyparts=comparisonbodyparts, gputouse=gputouse,
            per_keypoint_evaluation=per_keypoint_evaluation, snapshots_to_evaluate=snapshots_to_evaluate,
        )  # fmt: skip
    project = Path(cfg["project_path"])
    bodyparts = list(cfg["bodyparts"])
    compare = select_bodyparts(bodyparts, comparisonbodyparts, where="config.yaml's bodyparts")
    cols = [bodyparts.index(b) for b in compare]
    pcutoff = float(cfg.get("pcutoff", 0.6))
    if isinstance(Shuffles, int):
        Shuffles = [Shuffles]
    set_indices = range(len(cfg["TrainingFraction"])) if trainingsetindex == "all" else [int(trainingsetindex)]

    rows = []
    for tsi in set_indices:
        for shuffle in Shuffles:
            data, train_idx, test_idx, fraction = read_training_split(cfg, shuffle, tsi)
            labels = labels_to_array(data, bodyparts)
            train_dir = project / paths.get_model_folder(fraction, shuffle, cfg) / "train"
            eval_dir = project / paths.get_evaluation_folder(fraction, shuffle, cfg)
            eval_dir.mkdir(parents=True, exist_ok=True)
            shuffle_rows, last_scorer = [], None
            for snap in _snapshot_list(train_dir, cfg, snapshots_to_evaluate):
                iteration = snapshot_iteration(snap)
                predictor, info = load_predictor(cfg, shuffle, tsi, gputouse=gputouse, snapshot=snap)
                scorer = info["scorer"]
                last_scorer = scorer
                h5 = eval_dir / f"{scorer}-{snap.stem}.h5"
                if h5.is_file():
                    pred_df = read_predictions(h5)
                    pred = pred_df.to_numpy(dtype=float).reshape(len(pred_df), len(bodyparts), 3)
                else:
                    pred = predict_images(
                        predictor, project, list(data.index), int(cfg.get("batch_size") or 8), desc=f"evaluate {snap.stem}"
                    )
                    pred_df = array_to_predictions(pred, scorer, bodyparts, index=data.index)
                    _write_eval_h5(pred_df, h5)
                err, err_p = pixel_errors(labels, pred, pcutoff)
                err, err_p = err[:, cols], err_p[:, cols]
                summary = summarize_errors(err, err_p, train_idx, test_idx, compare)
                overall = {col: round(float(v), 2) for col, v in summary.loc["all"].items()}
                result = [
                    iteration,
                    paths.train_fraction_pct(fraction),
                    shuffle,
                    overall["train"],
                    overall["test"],
                    pcutoff,
                    overall["train (p-cutoff)"],
                    overall["test (p-cutoff)"],
                ]
                shuffle_rows.append(result)
                if show_errors:
                    print(
                        f"Results for {snap.stem} (TrainingFraction {fraction}, shuffle {shuffle}): "
                        f"train error {result[3]} px, test error {result[4]} px; with p-cutoff {pcutoff}: "
                        f"train {result[6]} px, test {result[7]} px."
                    )
                if per_keypoint_evaluation:
                    table = _keypoint_table(err, err_p, train_idx, test_idx, compare)
                    from posenb.io.atomic import atomic_write  # noqa: PLC0415

                    atomic_write(eval_dir / f"{scorer}-keypoint-results.csv", lambda tmp, t=table: t.to_csv(tmp), backup=False)
                if plotting:
                    folder = eval_dir / f"LabeledImages_{scorer}_{snap.stem}"
                    _plot_labeled_images(folder, project, data, pred, train_idx, bodyparts, cfg)
            if shuffle_rows:
                new = pd.DataFrame(shuffle_rows[::-1], columns=RESULT_COLUMNS)
                _prepend_csv(eval_dir / f"{last_scorer}-results.csv", new)
                _prepend_csv(eval_dir.parent / "CombinedEvaluation-results.csv", new)
                rows.extend(shuffle_rows)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def evaluation_table(
    config: str | os.PathLike,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    snapshot: str | os.PathLike | None = None,
    gputouse: int | None = None,
) -> pd.DataFrame:
    """Per-image, per-body-part predictions and errors, for the evaluation panel.

    One row per (image, body part): ``image`` (project-relative path), ``split`` (``train`` / ``test``),
    ``bodypart``, ``x_label``, ``y_label``, ``x``, ``y``, ``likelihood``, ``error_px`` (NaN if unlabeled).
    Uses the evaluation ``.h5`` of the snapshot when present, else predicts (and writes it).
    ``snapshot`` defaults to config ``snapshotindex``.
    """
    from posenb.data.trainingset import read_pose_cfg, read_training_split  # noqa: PLC0415
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
    # the stored evaluation, found without building the network (a panel opens in a fraction of a second)
    h5 = None
    pose_cfg = train_dir / "pose_cfg.yaml"
    net_type = read_pose_cfg(pose_cfg).get("net_type") if pose_cfg.is_file() else None
    if net_type:
        scorer = paths.get_scorer_name(cfg, shuffle, fraction, net_type, snapshot_iteration(snap))
        if (eval_dir / f"{scorer}-{snap.stem}.h5").is_file():
            h5 = eval_dir / f"{scorer}-{snap.stem}.h5"
    if h5 is None:
        predictor, info = load_predictor(cfg, shuffle, trainingsetindex, gputouse=gputouse, snapshot=snap)
        h5 = eval_dir / f"{info['scorer']}-{snap.stem}.h5"
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
    return pd.DataFrame(
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
