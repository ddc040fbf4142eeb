"""The evaluation's numbers and files, shared by the single- and multi-animal ``evaluate_network``.

- the error rule: :func:`pixel_errors` (distances), :func:`summarize_errors` (the one summary behind
  ``-results.csv``, ``-keypoint-results.csv`` and the evaluation panel, :func:`error_summary`);
- DeepLabCut's files: :data:`RESULT_COLUMNS` and :func:`results_row` (``-results.csv``), :func:`keypoint_table`
  (``-keypoint-results.csv``), :func:`write_results` (new rows first, also in ``CombinedEvaluation-results.csv``);
- the loop's plan: :func:`shuffle_plan` (which (trainingsetindex, shuffle)), :func:`select_snapshots`;
- what is stored: :func:`eval_h5` (the cache's name), :func:`stored_evaluation` (a snapshot's cache for a scale set,
  found without building the network: the evaluation panel's "evaluated yet?");
- :func:`read_image` (a labeled image, RGB) and :func:`plot_labeled_image` (the ``LabeledImages_*`` figures).

:mod:`posenb.infer.evaluate` (one animal, and the public entry) and :mod:`posenb.infer.evaluate_ma` both import
this module; it imports neither.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from posenb.errors import ConfigError, ModelError
from posenb.project import paths

__all__ = [
    "RESULT_COLUMNS",
    "KEYPOINT_ROWS",
    "SUMMARY_COLUMNS",
    "pixel_errors",
    "summarize_errors",
    "error_summary",
    "keypoint_table",
    "results_row",
    "results_message",
    "eval_h5",
    "StoredEvaluation",
    "stored_evaluation",
    "write_results",
    "write_keypoint_results",
    "shuffle_plan",
    "select_snapshots",
    "evaluation_dir",
    "read_image",
    "plot_labeled_image",
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
SUMMARY_COLUMNS = ["train", "test", "train (p-cutoff)", "test (p-cutoff)"]


def read_image(path: Path) -> np.ndarray:
    """A labeled image as ``(H, W, 3)`` uint8 RGB; :class:`ConfigError` naming the file when it cannot be read."""
    import cv2  # noqa: PLC0415

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ConfigError(
            f"Labeled image {path} is missing or unreadable; re-extract it or drop its label row."
        )
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def pixel_errors(
    labels: np.ndarray, predictions: np.ndarray, pcutoff: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(n, K)`` Euclidean distances (px) between labels ``(n, K, 2)`` and predictions ``(n, K, 3)``.

    Returns ``(error, error_with_pcutoff)``; NaN where the label is missing (and, for the second, where the
    likelihood is below ``pcutoff``).
    """
    err = np.sqrt(((labels - predictions[..., :2]) ** 2).sum(axis=-1))
    err_p = np.where(predictions[..., 2] >= pcutoff, err, np.nan)
    return err, err_p


def _nanmean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.isfinite(values).any():
        return float("nan")
    return float(np.nanmean(values))


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
    for col, e, idx in zip(
        SUMMARY_COLUMNS, (err, err, err_p, err_p), (train_idx, test_idx, train_idx, test_idx)
    ):
        cells = e[np.asarray(idx, dtype=int)]
        with warnings.catch_warnings():  # a body part never labeled in a split gives NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            per_part = np.nanmean(cells, axis=0) if len(cells) else np.full(len(bodyparts), np.nan)
        out[col] = [*per_part.tolist(), _nanmean(cells)]
    return pd.DataFrame(out, index=pd.Index([*bodyparts, "all"], name="bodypart"))


def error_summary(table: pd.DataFrame, pcutoff: float) -> pd.DataFrame:
    """:func:`summarize_errors` of an evaluation table's rows at ``pcutoff`` (the evaluation panel's slider).

    ``table``: :func:`~posenb.infer.evaluate.evaluation_table`'s rows (one row of the error grid per image) or, with
    an ``individual`` column, :func:`~posenb.infer.evaluate_ma_table.evaluation_table_ma`'s (one row per labeled
    animal of an image: the mean over its matched points, as the multi-animal evaluation reports it).
    """
    key = ["image", "individual"] if "individual" in table.columns else "image"
    parts = list(dict.fromkeys(table["bodypart"]))
    first = table.drop_duplicates(key).set_index(key)
    rows = first.index

    def grid(column: str) -> np.ndarray:
        wide = table.pivot(index=key, columns="bodypart", values=column)
        return wide.reindex(index=rows, columns=parts).to_numpy(dtype=float)

    err, likelihood = grid("error_px"), grid("likelihood")
    split = first["split"].to_numpy()
    with np.errstate(invalid="ignore"):
        err_p = np.where(likelihood >= pcutoff, err, np.nan)
    return summarize_errors(
        err, err_p, np.flatnonzero(split == "train"), np.flatnonzero(split == "test"), parts
    )


def keypoint_table(err, err_p, train_idx, test_idx, bodyparts) -> pd.DataFrame:
    """DLC's ``-keypoint-results.csv``: rows :data:`KEYPOINT_ROWS`, one column per body part (mean px)."""
    table = (
        summarize_errors(err, err_p, train_idx, test_idx, bodyparts).loc[list(bodyparts), SUMMARY_COLUMNS].T
    )
    table.index = pd.Index(KEYPOINT_ROWS, name="Error Type")
    table.columns = list(bodyparts)
    return table


def results_row(iteration: int, fraction: float, shuffle: int, pcutoff: float, summary: pd.DataFrame) -> list:
    """One row of ``-results.csv`` (:data:`RESULT_COLUMNS`) from a :func:`summarize_errors` table (px, 2 decimals)."""
    overall = {col: round(float(v), 2) for col, v in summary.loc["all"].items()}
    return [
        iteration,
        paths.train_fraction_pct(fraction),
        shuffle,
        overall["train"],
        overall["test"],
        pcutoff,
        overall["train (p-cutoff)"],
        overall["test (p-cutoff)"],
    ]


def results_message(snapshot_name: str, fraction: float, shuffle: int, row: list) -> str:
    """The printed line of a :func:`results_row` (``show_errors=True``)."""
    return (
        f"Results for {snapshot_name} (TrainingFraction {fraction}, shuffle {shuffle}): "
        f"train error {row[3]} px, test error {row[4]} px; with p-cutoff {row[5]}: "
        f"train {row[6]} px, test {row[7]} px"
    )


def write_keypoint_results(path: Path, table: pd.DataFrame) -> None:
    """Write ``<DLCscorer>-keypoint-results.csv`` (atomically)."""
    from posenb.io.atomic import atomic_write  # noqa: PLC0415

    atomic_write(path, lambda tmp: table.to_csv(tmp), backup=False)


def _prepend_csv(path: Path, new: pd.DataFrame) -> pd.DataFrame:
    from posenb.io.atomic import atomic_write  # noqa: PLC0415

    if path.is_file():
        old = pd.read_csv(path, index_col=0)
        df = pd.concat([new, old]).reset_index(drop=True)
    else:
        df = new.reset_index(drop=True)
    atomic_write(path, lambda tmp: df.to_csv(tmp), backup=False)
    return df


def eval_h5(eval_dir: Path, scorer: str, snap: Path, scales=None) -> Path:
    """The cached predictions of snapshot ``snap`` on the labeled images: ``<DLCscorer>-snapshot-<iter>.h5``
    (DeepLabCut's name), tagged ``-scales1.1_1.25`` for test-time scales (:func:`~posenb.infer.multiscale.scales_tag`)."""
    from posenb.infer.multiscale import scales_tag  # noqa: PLC0415

    return Path(eval_dir) / f"{scorer}-{Path(snap).stem}{scales_tag(scales)}.h5"


class StoredEvaluation(NamedTuple):
    """What :func:`stored_evaluation` found for a snapshot and a scale set."""

    #: the newest evaluation ``.h5`` of the snapshot at ``scales`` (None: not evaluated at these scales yet)
    path: Path | None
    #: the test-time scales the request resolves to (:func:`~posenb.infer.multiscale.resolve_test_scales`;
    #: None: one pass)
    scales: tuple[float, ...] | None


def stored_evaluation(
    cfg: dict, shuffle: int, trainingsetindex: int, snapshot, test_scales=None
) -> StoredEvaluation:
    """The stored evaluation of ``snapshot`` (a name, ``"snapshot-1000"``, or path) of a shuffle for the scales
    ``test_scales`` asks (as :func:`~posenb.infer.evaluate.evaluate_network` takes them: None, the shuffle's
    ``train/pose_cfg.yaml`` key, else one pass; ``[1]``: one pass), found by name without building the network:
    ``<scorer>-<snapshot><scales tag>.h5`` (:func:`eval_h5`; the newest if several scorers match). Reads only the
    shuffle's ``pose_cfg.yaml`` (when ``test_scales`` is None) and creates nothing; a bad ``test_scales``
    (argument or file) is a :class:`ConfigError`."""
    from posenb.infer.multiscale import resolve_test_scales  # noqa: PLC0415

    fraction = cfg["TrainingFraction"][int(trainingsetindex)]
    project = Path(cfg["project_path"])
    scales = resolve_test_scales(
        test_scales, project / paths.get_model_folder(fraction, shuffle, cfg) / "train"
    )
    eval_dir = project / paths.get_evaluation_folder(fraction, shuffle, cfg)
    found = sorted(
        eval_dir.glob(eval_h5(Path(), "*", snapshot, scales).name), key=lambda p: p.stat().st_mtime
    )
    return StoredEvaluation(found[-1] if found else None, scales)


def write_results(eval_dir: Path, scorer: str, rows: list[list], columns: list[str], tag: str = "") -> None:
    """Put a shuffle's rows (in evaluation order) first in ``<scorer>-results.csv`` and in
    ``../CombinedEvaluation<tag>-results.csv``, newest first, older rows kept below (``tag``: the test-time
    scales' file tag, :func:`posenb.infer.multiscale.scales_tag`; ``""`` for one pass, DeepLabCut's file)."""
    new = pd.DataFrame(rows[::-1], columns=columns)
    with warnings.catch_warnings():  # all-NaN columns (identity accuracy) concatenated with older rows
        warnings.simplefilter("ignore", FutureWarning)
        _prepend_csv(eval_dir / f"{scorer}-results.csv", new)
        _prepend_csv(eval_dir.parent / f"CombinedEvaluation{tag}-results.csv", new)


def shuffle_plan(cfg: dict, Shuffles, trainingsetindex) -> list[tuple[int, int]]:  # noqa: N803 - DLC's name
    """``[(trainingsetindex, shuffle), ...]`` to evaluate (``trainingsetindex="all"``: every TrainingFraction)."""
    shuffles = [Shuffles] if isinstance(Shuffles, int) else list(Shuffles)
    indices = range(len(cfg["TrainingFraction"])) if trainingsetindex == "all" else [int(trainingsetindex)]
    return [(tsi, shuffle) for tsi in indices for shuffle in shuffles]


def select_snapshots(train_dir: Path, cfg: dict, names) -> list[Path]:
    """The snapshots named (``["snapshot-1000"]``), else config.yaml's ``snapshotindex`` (``"all"``: every one)."""
    from posenb.nn.snapshots import list_snapshots, select_snapshot  # noqa: PLC0415

    if names:
        return [select_snapshot(train_dir, name) for name in names]
    snaps = list_snapshots(train_dir)
    if not snaps:
        raise ModelError(f"No snapshot in {train_dir}. Train the network first (posenb.train_network).")
    index = cfg.get("snapshotindex", -1)
    if index == "all":
        return snaps
    return [select_snapshot(train_dir, int(index))]


def evaluation_dir(cfg: dict, fraction: float, shuffle: int) -> tuple[Path, Path]:
    """``(train folder, evaluation-results folder)`` of a shuffle; the latter is created."""
    project = Path(cfg["project_path"])
    train_dir = project / paths.get_model_folder(fraction, shuffle, cfg) / "train"
    eval_dir = project / paths.get_evaluation_folder(fraction, shuffle, cfg)
    eval_dir.mkdir(parents=True, exist_ok=True)
    return train_dir, eval_dir


def plot_labeled_image(folder: Path, project: Path, parts: tuple, kind: str, draw: Callable) -> None:
    """Draw one labeled image of ``LabeledImages_*``: ``draw(ax)`` adds the markers; saved as
    ``folder / f"{kind}-{video stem}-{image name}"`` (``kind``: ``Training`` or ``Test``) at the image's size."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # noqa: PLC0415

    img = read_image(project.joinpath(*[str(p) for p in parts]))
    h, w = img.shape[:2]
    fig = plt.figure(figsize=(w / 100, h / 100), dpi=100, frameon=False)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.imshow(img)
    ax.set_axis_off()
    draw(ax)
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    fig.savefig(folder / f"{kind}-{parts[1]}-{Path(str(parts[2])).name}", dpi=100)
    plt.close(fig)
