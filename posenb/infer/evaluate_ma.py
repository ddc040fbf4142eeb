"""``evaluate_network`` on a multi-animal project: pixel errors after optimal matching, missed animals, OKS mAP.

:func:`posenb.infer.evaluate.evaluate_network` hands multi-animal projects here. Per shuffle and snapshot, the
multi-animal predictor finds the animals of every image of the training set's ``CollectedData`` and
:mod:`posenb.infer.ma_metrics` scores them against the labels (matching, sigma and area rules there):

- the train/test **error** in pixels, DeepLabCut's columns (:data:`~posenb.infer.eval_results.RESULT_COLUMNS`: mean
  distance over the labeled points of the matched animals, and "with p-cutoff" over those predicted with
  likelihood >= config ``pcutoff``); unique (scene) body parts count as in DeepLabCut 3, without matching;
- **mAP / mAR** in percent (COCO OKS, as DeepLabCut 3 reports them), **animals missed** (labeled animals no
  prediction was assigned to) and, when the model predicts identity, **identity accuracy** (matched animals whose
  most probable individual is their own): :data:`MA_COLUMNS`, after DeepLabCut's columns.

Files, in ``evaluation-results/iteration-N/<Task><date>-trainset<pct>shuffle<k>/`` as for one animal:
``<DLCscorer>-snapshot-<iter>.h5`` (the predictions: key ``df_with_missing``, columns ``(scorer, individuals,
bodyparts, x/y/likelihood)`` with one individual per predicted animal slot -- the config's individuals when
the model returns as many animals, else ``ind1..indA`` -- index = the images; written again at every run),
``<DLCscorer>-results.csv`` and ``../CombinedEvaluation-results.csv`` (new rows first),
``<DLCscorer>-keypoint-results.csv``, and with ``plotting=True`` ``LabeledImages_<DLCscorer>_snapshot-<iter>/``:
one colour per labeled individual, its label ``+``, the prediction matched to it ``.`` (``x`` below p-cutoff),
unmatched predictions grey.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from posenb.infer.eval_results import (
    RESULT_COLUMNS,
    eval_h5,
    evaluation_dir,
    keypoint_table,
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
from posenb.infer.ma_metrics import identity_accuracy, matched_errors, oks_map
from posenb.project.config import project_parts

__all__ = ["evaluate_network_ma", "evaluate_animals", "predict_images_ma", "MA_COLUMNS"]

#: the multi-animal columns of ``-results.csv``, after DeepLabCut's :data:`RESULT_COLUMNS` (mAP, mAR in percent)
MA_COLUMNS = [
    "Train mAP",
    "Test mAP",
    "Train mAR",
    "Test mAR",
    "Train animals missed",
    "Test animals missed",
    "Train identity accuracy",
    "Test identity accuracy",
]


def predict_images_ma(
    predictor, project: Path, images: list[tuple], batch_size: int = 8, desc: str = "evaluate"
) -> dict:
    """Animals in labeled images (3-tuples of path parts under ``project``), batched by image size (``desc``: the
    progress bar's label).

    Returns ``poses (n, A, P, 3)``, ``scores (n, A)``, ``identity (n, A, n_individuals)`` or None,
    ``unique (n, U, 3)`` or None, in the order of ``images`` (float64, image pixels).
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    n, a, p = len(images), predictor.max_animals, len(predictor.bodyparts)
    out = {
        "poses": np.full((n, a, p, 3), np.nan),
        "scores": np.full((n, a), np.nan),
        "identity": None,
        "unique": None,
    }
    pending: dict[tuple, list[tuple[int, np.ndarray]]] = {}

    def flush(shape):
        group = pending.pop(shape)
        idx = [i for i, _ in group]
        res = predictor.predict_animals(np.stack([img for _, img in group]))
        for key in ("poses", "scores", "identity", "unique"):
            if res.get(key) is None:
                continue
            if out[key] is None:
                out[key] = np.full((n, *np.shape(res[key])[1:]), np.nan)
            out[key][idx] = res[key]

    with tqdm(total=n, desc=desc, unit="img", leave=False) as bar:
        for i, parts in enumerate(images):
            img = read_image(project.joinpath(*[str(q) for q in parts]))
            pending.setdefault(img.shape, []).append((i, img))
            if len(pending[img.shape]) >= batch_size:
                flush(img.shape)
            bar.update(1)
        for shape in list(pending):
            flush(shape)
    return out


def _unique_errors(gt_unique, pred_unique, pcutoff):
    """``(n, U)`` distances of the unique parts (no matching: one of each per image) and with p-cutoff."""
    if gt_unique is None or gt_unique.shape[1] == 0:
        return None, None
    if pred_unique is None:
        nan = np.full(gt_unique.shape[:2], np.nan)
        return nan, nan
    err = np.linalg.norm(gt_unique - pred_unique[..., :2], axis=-1)
    with np.errstate(invalid="ignore"):
        return err, np.where(pred_unique[..., 2] >= pcutoff, err, np.nan)


def evaluate_animals(
    gt, pred, train_idx, test_idx, pcutoff, names, gt_unique=None, pred_unique=None, cols=None
):
    """Scores of predicted animals against labels, per split (pure; shapes in :mod:`posenb.infer.ma_metrics`).

    ``gt (N, G, P, 2)``, ``pred`` the dict of :func:`predict_images_ma`; ``names``: the P body parts then the U
    unique ones; ``cols``: the indices into ``names`` the errors are computed on (None: all). Returns
    ``{"summary": DataFrame (summarize_errors: per part + "all", train/test, px), "keypoint": DataFrame
    (-keypoint-results.csv), "ma": {MA_COLUMNS: value}, "matched": matched_errors' dict}``.
    """
    n, g, p = gt.shape[:3]
    res = matched_errors(gt, pred["poses"], pcutoff)
    u_err, u_err_p = _unique_errors(gt_unique, pred.get("unique"), pcutoff)
    rows = {}
    for key, ma_err, u in (("err", res["error"], u_err), ("err_p", res["error_pcutoff"], u_err_p)):
        table = ma_err.reshape(n * g, p)
        if u is not None:  # unique parts on the first row of each image (each counted once)
            extra = np.full((n * g, u.shape[1]), np.nan)
            extra[::g] = u
            table = np.concatenate([table, extra], axis=1)
        rows[key] = table if cols is None else table[:, cols]
    chosen = list(names) if cols is None else [names[c] for c in cols]
    expand = lambda idx: [i * g + k for i in idx for k in range(g)]  # noqa: E731 - image rows -> animal rows
    tr, te = expand(train_idx), expand(test_idx)
    summary = summarize_errors(rows["err"], rows["err_p"], tr, te, chosen)
    keypoint = keypoint_table(rows["err"], rows["err_p"], tr, te, chosen)
    ma = {}
    for split, idx in (("Train", list(train_idx)), ("Test", list(test_idx))):
        m = oks_map(gt[idx], pred["poses"][idx]) if idx else {"mAP": np.nan, "mAR": np.nan}
        ma[f"{split} mAP"], ma[f"{split} mAR"] = round(m["mAP"], 2), round(m["mAR"], 2)
        ma[f"{split} animals missed"] = int(res["missed"][idx].sum())
        acc = np.nan
        if pred.get("identity") is not None and idx:
            acc = identity_accuracy(pred["identity"][idx], res["assignment"][idx], res["labeled"][idx])
        ma[f"{split} identity accuracy"] = round(float(acc), 4)
    return {"summary": summary, "keypoint": keypoint, "ma": ma, "matched": res}


def _slot_names(individuals, n_slots: int) -> list[str]:
    return list(individuals) if len(individuals) == n_slots else [f"ind{i + 1}" for i in range(n_slots)]


def _write_predictions_h5(path: Path, pred: dict, scorer: str, parts, index) -> None:
    from posenb.io.hdf import write_hdf  # noqa: PLC0415
    from posenb.io.label_arrays import arrays_to_table  # noqa: PLC0415

    poses, unique = pred["poses"], pred.get("unique")
    u_parts = list(parts.unique_bodyparts) if unique is not None else []
    df = arrays_to_table(
        poses[..., :2], scorer, list(parts.bodyparts), index, individuals=_slot_names(parts.individuals, poses.shape[1]),
        unique=None if unique is None else unique[..., :2], unique_bodyparts=u_parts, likelihood=poses[..., 2],
        unique_likelihood=None if unique is None else unique[..., 2], multianimal=True,
    )  # fmt: skip
    write_hdf(df, path, format="fixed", backup=False)


def _plot_images(folder: Path, project: Path, data, gt, pred, res, train_idx, cfg) -> None:
    """``LabeledImages_*``: one colour per labeled individual, its label ``+``, the prediction matched to it ``.``
    (``x`` below p-cutoff), unmatched predictions grey."""
    from posenb.post._common import bodypart_colors  # noqa: PLC0415

    folder.mkdir(parents=True, exist_ok=True)
    colors = bodypart_colors(cfg.get("colormap") or "rainbow", max(gt.shape[1], 2))  # one per individual
    pcutoff, size, alpha = (
        float(cfg.get("pcutoff", 0.6)),
        float(cfg.get("dotsize", 12)),
        float(cfg.get("alphavalue", 0.7)),
    )
    train_set = set(train_idx)

    def markers(ax, i):
        owner = {int(a): k for k, a in enumerate(res["assignment"][i]) if a >= 0}
        for k in range(gt.shape[1]):
            ax.plot(gt[i, k, :, 0], gt[i, k, :, 1], "+", color=colors[k], ms=size, alpha=alpha, ls="")
        for a in range(pred.shape[1]):
            c = colors[owner[a]] if a in owner else (0.5, 0.5, 0.5, 1.0)
            good = pred[i, a, :, 2] >= pcutoff
            ax.plot(pred[i, a, good, 0], pred[i, a, good, 1], ".", color=c, ms=size * 0.5, alpha=alpha, ls="")
            ax.plot(
                pred[i, a, ~good, 0], pred[i, a, ~good, 1], "x", color=c, ms=size * 0.4, alpha=alpha, ls=""
            )

    for i, parts in enumerate(data.index):
        kind = "Training" if i in train_set else "Test"
        plot_labeled_image(folder, project, parts, kind, lambda ax, i=i: markers(ax, i))


def _evaluate_snapshot(cfg, config, shuffle, tsi, snap, data, split, gputouse, opts) -> list:
    """Predict, score and write one snapshot's files; returns its results row (RESULT_COLUMNS + MA_COLUMNS)."""
    from posenb.infer.analyze_ma import load_predictor_ma  # noqa: PLC0415
    from posenb.io.label_arrays import table_to_arrays  # noqa: PLC0415

    train_idx, test_idx, fraction, eval_dir = split
    project, parts, pcutoff = Path(cfg["project_path"]), project_parts(cfg), float(cfg.get("pcutoff", 0.6))
    predictor, info = load_predictor_ma(config, cfg, shuffle, tsi, gputouse=gputouse, snapshot=snap)
    scorer = info["scorer"]
    labels = table_to_arrays(data, parts.bodyparts, parts.individuals, parts.unique_bodyparts)
    pred = predict_images_ma(predictor, project, list(data.index), int(cfg.get("batch_size") or 8))
    _write_predictions_h5(eval_h5(eval_dir, scorer, snap), pred, scorer, parts, data.index)
    names = [*parts.bodyparts, *parts.unique_bodyparts]
    ev = evaluate_animals(
        labels.points, pred, train_idx, test_idx, pcutoff, names, gt_unique=labels.unique if parts.unique_bodyparts else None,
        pred_unique=pred.get("unique"), cols=opts["cols"],
    )  # fmt: skip
    row = results_row(info["iteration"], fraction, shuffle, pcutoff, ev["summary"])
    row += [ev["ma"][c] for c in MA_COLUMNS]
    if opts["show_errors"]:
        n_tr, n_te = (int(ev["matched"]["labeled"][idx].sum()) for idx in (train_idx, test_idx))
        print(
            results_message(snap.stem, fraction, shuffle, row) + f"; mAP train "
            f"{ev['ma']['Train mAP']}, test {ev['ma']['Test mAP']}; animals missed: train "
            f"{ev['ma']['Train animals missed']} of {n_tr}, test {ev['ma']['Test animals missed']} of {n_te}."
        )
    if opts["per_keypoint"]:
        write_keypoint_results(eval_dir / f"{scorer}-keypoint-results.csv", ev["keypoint"])
    if opts["plotting"]:
        folder = eval_dir / f"LabeledImages_{scorer}_{snap.stem}"
        _plot_images(folder, project, data, labels.points, pred["poses"], ev["matched"], train_idx, cfg)
    return [scorer, row]


def evaluate_network_ma(
    config, cfg: dict, Shuffles=(1,), trainingsetindex=0, plotting=False, show_errors=True,
    comparisonbodyparts="all", gputouse=None, per_keypoint_evaluation=True, snapshots_to_evaluate=None,
) -> pd.DataFrame:  # fmt: skip
    """:func:`posenb.infer.evaluate.evaluate_network` for a multi-animal project (same arguments; module
    docstring). Returns one row per (shuffle, snapshot): :data:`RESULT_COLUMNS` then :data:`MA_COLUMNS`."""
    from posenb.data.ma_trainingset import read_ma_training_split  # noqa: PLC0415
    from posenb.io.predictions import select_bodyparts  # noqa: PLC0415

    parts = project_parts(cfg)
    names = [*parts.bodyparts, *parts.unique_bodyparts]
    compare = select_bodyparts(names, comparisonbodyparts, where="config.yaml's body parts")
    opts = dict(cols=[names.index(b) for b in compare], show_errors=show_errors, plotting=plotting)
    opts["per_keypoint"] = per_keypoint_evaluation
    columns, rows = RESULT_COLUMNS + MA_COLUMNS, []
    for tsi, shuffle in shuffle_plan(cfg, Shuffles, trainingsetindex):
        data, train_idx, test_idx, fraction = read_ma_training_split(cfg, shuffle, tsi)
        train_dir, eval_dir = evaluation_dir(cfg, fraction, shuffle)
        split = (train_idx, test_idx, fraction, eval_dir)
        done = [
            _evaluate_snapshot(cfg, config, shuffle, tsi, snap, data, split, gputouse, opts)
            for snap in select_snapshots(train_dir, cfg, snapshots_to_evaluate)
        ]
        if done:
            write_results(eval_dir, done[-1][0], [r for _, r in done], columns)
            rows.extend(r for _, r in done)
    return pd.DataFrame(rows, columns=columns)
