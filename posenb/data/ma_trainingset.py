"""``create_training_dataset`` for multi-animal projects (DeepLabCut's maDLC layout, posenb's top-down recipe).

What it writes (paths relative to the project; DLC names)::

    training-datasets/iteration-N/UnaugmentedDataSet_<Task><date>/
        CollectedData_<scorer>.h5 / .csv             merged labels, 4 column levels (scorer/individuals/bodyparts/coords)
        <Task>_<scorer><pct>shuffle<k>.pickle        maDLC's data list (train images, joints per individual)
        Documentation_data-<Task>_<pct>shuffle<k>.pickle   [data, trainIndices, testIndices, trainFraction]
        metadata.yaml
    dlc-models/iteration-N/<Task><date>-trainset<pct>shuffle<k>/train/pose_cfg.yaml, test/pose_cfg.yaml

``train/pose_cfg.yaml`` holds DLC's keys (``multianimalproject``, ``individuals``, ``num_idchannel``,
``uniquebodyparts``, ``all_joints_names`` = the multi-animal body parts) and posenb's top-down recipe
(:func:`derive_ma_recipe`, keys ``ma_*``; reasons under ``recipe``): the instance crop (``crop_size``, and
``global_scale`` = the crop's scale), the anchor part, the centroid model's scale, canvas and budget. Both
networks' budgets (``max_iters`` / ``max_minutes`` of the pose model, ``ma_centroid_iters`` /
``ma_centroid_minutes``) come from the single-animal rule and time model, :func:`posenb.data.recipe.training_budget`
(labeled animals count as the pose model's frames; the centroid model takes :data:`CENTROID_SHARE` of a pose
model's budget at its canvas size). ``**pose_cfg`` overrides of ``create_training_dataset`` (and ``train_network``'s
keyword arguments) win over every derived value; ``recipe`` then says who set it and what the recipe chose.
Unique body parts (``uniquebodyparts``) are trained as extra maps of the centroid model (one per part, on the
downscaled frame: :class:`posenb.data.ma_dataset.CentroidDataset`).
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.data.label_checks import check_net_type
from posenb.data.ma_dataset import animal_anchors, choose_anchor
from posenb.data.pose_cfg import POSE_CFG_DEFAULTS, build_pose_cfgs, write_pose_cfg
from posenb.data.recipe import CELLS_APART, STRIDE, TARGET_INPUT_SIDE, training_budget
from posenb.data.splits import plan_splits
from posenb.data.trainingset_files import (
    frame_size,
    image_shape,
    shuffle_files,
    skip_existing,
    warn_old_snapshots,
    write_metadata,
    write_pickle,
)
from posenb.errors import ConfigError, LabelError
from posenb.io.label_arrays import table_to_arrays
from posenb.io.label_folder import list_label_folders
from posenb.io.labels import guarantee_multiindex_rows, labels_path, read_labels, write_labels
from posenb.io.new_files import NewFiles
from posenb.project import paths
from posenb.project.config import ProjectParts, project_parts, read_config, resolve_net_type, write_config

__all__ = [
    "create_ma_training_dataset",
    "derive_ma_recipe",
    "merge_ma_datasets",
    "ma_label_arrays",
    "read_ma_table",
    "write_ma_table",
    "read_ma_training_split",
    "split_frame_numbers",
    "MA_KEYS",
]

LEVELS = ["scorer", "individuals", "bodyparts", "coords"]
#: posenb's multi-animal pose_cfg keys (besides DLC's); documented in derive_ma_recipe
MA_KEYS = (
    "ma_model",
    "ma_anchor",
    "ma_center_jitter",
    "ma_centroid_scale",
    "ma_centroid_crop",
    "ma_centroid_pos_dist",
    "ma_centroid_iters",
    "ma_centroid_minutes",
    "multianimalproject",
    "individuals",
    "identity",
    "num_idchannel",
    "uniquebodyparts",
)
MAX_INSTANCE_CROP = 192
#: the centroid model's share of a pose model's budget (``share`` of :func:`posenb.data.recipe.training_budget`):
#: it learns one map of the animals' anchors, which need only land inside the instance crop (the pose model is
#: trained with the crop's centre moved by ``ma_center_jitter``); fly2-sleap (benchmarks/RESULTS.md
#: "Multi-animal"): a centroid model stopped by the time budget after 100 iterations missed 0 of 40 test flies
CENTROID_SHARE = 1 / 3


def read_ma_table(path: str | os.PathLike) -> pd.DataFrame:
    """A 4-level ``CollectedData`` file (.h5 or .csv, read by io's safe reader) as a float64 table with sorted
    3-level rows; LabelError naming the file when it is not a multi-animal table."""
    path = Path(path)
    df = read_labels(path)
    if not isinstance(df.columns, pd.MultiIndex) or df.columns.nlevels != 4:
        raise LabelError(
            f"{path}: a multi-animal label file has 4 column levels {LEVELS}, found {df.columns.nlevels}."
        )
    df.columns = df.columns.set_names(LEVELS)
    return guarantee_multiindex_rows(df).astype("float64").sort_index()


def write_ma_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a 4-level label table as ``.h5`` + ``.csv`` through io's one label writer (atomic pair)."""
    return write_labels(df, path, csv=True, backup=False)


def ma_label_arrays(df: pd.DataFrame, parts: ProjectParts) -> tuple[np.ndarray, np.ndarray]:
    """``(coords (N, A, P, 2), unique (N, U, 2))`` float64 pixels (NaN = not labeled) in config order."""
    arrays = table_to_arrays(df, parts.bodyparts, parts.individuals, parts.unique_bodyparts)
    return arrays.points.astype("float64"), arrays.unique.astype("float64")


def merge_ma_datasets(cfg: dict) -> pd.DataFrame:
    """Merge ``labeled-data/<stem>/CollectedData_<scorer>.h5`` (or .csv) of the ``video_sets`` stems (else of every
    label folder); LabelError when nothing is labeled. Columns outside the config's individuals / parts are dropped
    with a warning."""
    project, scorer = Path(cfg["project_path"]), cfg["scorer"]
    parts = project_parts(cfg)
    stems = [paths.video_stem(v) for v in cfg.get("video_sets") or {}]
    if not any(
        labels_path(project, s, scorer).with_suffix(x).is_file() for s in stems for x in (".h5", ".csv")
    ):
        stems = list_label_folders(project)
    tables = []
    for stem in dict.fromkeys(stems):
        path = labels_path(project, stem, scorer)
        path = path if path.is_file() else path.with_suffix(".csv")
        if not path.is_file():
            continue
        df = read_ma_table(path)
        if df.columns.get_level_values(0)[0] != scorer:
            warnings.warn(
                f"{path}: labels by another scorer than config.yaml's {scorer!r}; folder skipped.",
                stacklevel=2,
            )
            continue
        coords, unique = ma_label_arrays(df, parts)
        tables.append(_table(coords, unique, parts, scorer, list(df.index)))
    if not tables:
        raise LabelError(
            f"No labels found: no labeled-data/<video>/CollectedData_{scorer}.h5 in {project}. Label frames first."
        )
    data = pd.concat(tables).sort_index()
    if data.index.has_duplicates:
        raise LabelError(
            f"Images labeled twice across label files: {list(data.index[data.index.duplicated()])[:3]}."
        )
    if not np.isfinite(data.to_numpy()).any():
        raise LabelError(
            f"The label files of {project} hold no labeled point (all NaN). Label some frames first."
        )
    return data


def _table(coords, unique, parts: ProjectParts, scorer: str, index) -> pd.DataFrame:
    cols = [(scorer, i, b, c) for i in parts.individuals for b in parts.bodyparts for c in "xy"]
    cols += [(scorer, "single", b, c) for b in parts.unique_bodyparts for c in "xy"]
    values = np.concatenate([coords.reshape(len(index), -1), unique.reshape(len(index), -1)], axis=1)
    columns = pd.MultiIndex.from_tuples(cols, names=LEVELS)
    return pd.DataFrame(values, index=pd.MultiIndex.from_tuples([tuple(i) for i in index]), columns=columns)


def _round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def _labeled_parts(points: np.ndarray) -> int:
    """Parts labeled at least once in ``(..., P, 2)`` points."""
    return int(np.isfinite(points).all(axis=-1).reshape(-1, points.shape[-2]).any(axis=0).sum())


def _centroid_values(frame_size, anchors: np.ndarray, unique: np.ndarray | None = None) -> tuple[dict, dict]:
    """Centroid model scale, canvas, target width and budget from the distances between animals of the same frame.

    ``anchors`` ``(N, A, 2)`` and ``unique`` ``(N, U, 2)`` (or None) in frame pixels, NaN = not labeled. The budget
    is :func:`posenb.data.recipe.training_budget` at the canvas size, with the labeled frames as the frames, its
    maps (anchors + unique parts labeled at least once) as the parts, the scaled frame vs the canvas as the
    coverage and :data:`CENTROID_SHARE`."""
    long_side = max(int(frame_size[0]), int(frame_size[1]), 1)
    d = np.linalg.norm(anchors[:, :, None] - anchors[:, None, :], axis=-1)  # (N, A, A)
    d[:, np.arange(d.shape[1]), np.arange(d.shape[1])] = np.inf
    nearest = d.min(axis=2)[np.isfinite(d.min(axis=2))]
    close = float(np.percentile(nearest, 5)) if len(nearest) else None
    base = TARGET_INPUT_SIDE / long_side
    scale = base if close is None else max(base, CELLS_APART * STRIDE / close)
    scale = float(round(min(1.0, max(0.125, scale)), 3))
    why = f"frame long side {long_side} px -> ~{TARGET_INPUT_SIDE} px" + (
        ""
        if close is None
        else f"; nearest animals {close:.0f} px apart (5th pct) -> {close * scale / STRIDE:.1f} cells"
    )
    frame_px = _round_up(long_side * scale, 32)
    crop = max(64, min(256, frame_px))
    in_px = 1.5 * STRIDE if close is None else min(1.5 * STRIDE, 0.4 * close * scale)
    unique = np.zeros((len(anchors), 0, 2)) if unique is None else np.asarray(unique, dtype=np.float64)
    labeled = np.isfinite(anchors).all(axis=-1).any(axis=1) | np.isfinite(unique).all(axis=-1).any(axis=1)
    n_unique = _labeled_parts(unique) if unique.shape[1] else 0
    budget, budget_why = training_budget(
        int(labeled.sum()), 1 + n_unique, crop, frame_px, share=CENTROID_SHARE, region="scaled frame"
    )
    maps = "1 map (the anchors)" + (f" + {n_unique} unique part(s)" if n_unique else "")
    values = {
        "ma_centroid_scale": scale,
        "ma_centroid_crop": [crop, crop],
        "ma_centroid_pos_dist": round(in_px / scale, 2),
        "ma_centroid_iters": budget["max_iters"],
        "ma_centroid_minutes": budget["max_minutes"],
    }
    reasons = {
        "ma_centroid_scale": why,
        "ma_centroid_crop": f"{crop}x{crop} training canvas (the scaled frame, at most 256)",
        "ma_centroid_pos_dist": f"anchor Gaussians {in_px:.1f} input px wide (1.5 cells, less than half the gap between animals)",
        "ma_centroid_iters": f"centroid model, {maps}: {budget_why['max_iters']}",
        "ma_centroid_minutes": f"centroid model: {budget_why['max_minutes']}",
    }
    return values, reasons


def _instance_crop(coords: np.ndarray, anchors: np.ndarray) -> tuple[float, int, int, float]:
    """``(scale, crop side, side that would hold the whole animal, reach)`` of the pose model's instance crop: it
    holds the animal around its anchor (95th percentile of the farthest part [px], at most 192 px, scale <= 1)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reach = np.nanmax(np.linalg.norm(coords - anchors[:, :, None], axis=-1), axis=2)  # (N, A)
    reach = reach[np.isfinite(reach)]
    r95 = float(np.percentile(reach, 95)) if len(reach) else 40.0
    scale = float(round(min(1.0, (MAX_INSTANCE_CROP - 2 * STRIDE) / max(2 * r95 * 1.1, 1.0)), 3))
    want = _round_up(2 * r95 * 1.1 * scale + 2 * STRIDE, 32)
    return scale, int(min(MAX_INSTANCE_CROP, max(96, want))), want, r95


def derive_ma_recipe(
    frame_size, coords: np.ndarray, bodyparts, unique: np.ndarray | None = None
) -> tuple[dict, dict]:
    """Top-down recipe values (pose_cfg keys) and one reason each, from the training labels ``(N, A, P, 2)``
    (and the unique parts' ``(N, U, 2)``, or None), frame pixels, NaN = not labeled.

    ``ma_anchor`` (part name or None = mean of labeled parts), ``global_scale`` / ``crop_size`` of the instance crop
    (holds the animal around its anchor: 95th percentile of the farthest part, at most 192 px, scale <= 1),
    ``rotation`` (180: animals in a multi-animal arena face any way), ``scale_jitter_*``, ``ma_center_jitter``,
    the centroid model's values and budget (:func:`_centroid_values`) and the pose model's budget (``max_iters`` /
    ``max_minutes``): the single-animal rule, :func:`posenb.data.recipe.training_budget`, with the labeled animals
    as the frames (the pose model's items are instance crops), the body parts labeled at least once as the parts,
    the instance crop vs the crop that would hold the whole animal as the coverage, and the time model at the
    instance crop.
    """
    coords = np.asarray(coords, dtype=np.float64)
    anchor = choose_anchor(coords)
    anchors = animal_anchors(coords, anchor)
    scale, side, want, r95 = _instance_crop(coords, anchors)
    n = int(np.isfinite(anchors).all(axis=-1).sum())
    budget, budget_why = training_budget(n, _labeled_parts(coords), side, want, unit="animal")
    values = {
        "ma_model": "topdown",
        "ma_anchor": None if anchor is None else str(bodyparts[anchor]),
        "global_scale": scale,
        "crop_size": [side, side],
        "rotation": 180,
        "rotratio": 0.8,
        "scale_jitter_lo": 0.9,
        "scale_jitter_up": 1.1,
        "ma_center_jitter": 0.05,
        **budget,
        "plateau_stop": True,
        "weigh_only_present_joints": False,
    }
    reasons = {
        "ma_model": "top-down: a centroid model finds the animals, the pose model places each one's parts on a crop",
        "ma_anchor": "the part labeled on (nearly) every animal nearest to the animal's centre (None: mean of parts)",
        "global_scale": f"instance crop scale: parts reach {r95:.0f} px from the anchor (95th pct), crop <= {MAX_INSTANCE_CROP}",
        "crop_size": f"{side}x{side} instance crop holds the animal around its anchor + 2 cells",
        "rotation": "+-180 deg: animals in a shared arena face every way",
        "rotratio": "rotate 80% of the crops",
        "scale_jitter_lo": "animals keep their size in one setup: +-10%",
        "scale_jitter_up": "animals keep their size in one setup: +-10%",
        "ma_center_jitter": "crop centre moved by up to 5% of the crop (the centroid model's error)",
        "max_iters": f"pose model: {budget_why['max_iters']}",
        "max_minutes": f"pose model: {budget_why['max_minutes']}",
        "plateau_stop": "stop early when the training loss stops falling",
        "weigh_only_present_joints": "NaN = not visible: unlabeled parts are trained as absent",
    }
    cv, cr = _centroid_values(frame_size, anchors, unique)
    return {**values, **cv}, {**reasons, **cr}


def _docs(data: pd.DataFrame, coords: np.ndarray, train, project: Path) -> list:
    """maDLC's data list: ``{"image", "size", "joints": {individual: [[part, x, y], ...]}}`` per train image."""
    out = []
    for i in train:
        image = tuple(str(p) for p in data.index[i])
        joints = {}
        for a in range(coords.shape[1]):
            rows = [
                [p, float(x), float(y)] for p, (x, y) in enumerate(coords[i, a]) if np.isfinite([x, y]).all()
            ]
            if rows:
                joints[a] = rows
        if joints:
            out.append(
                {"image": image, "size": list(image_shape(project.joinpath(*image))), "joints": joints}
            )
    return out


def ma_pose_cfgs(
    cfg, parts: ProjectParts, fraction, shuffle, net_type, augmenter, seed, derived, user, folder
):
    """(train, test) pose_cfg dicts of a multi-animal shuffle (single-animal builder + DLC's / posenb's MA keys);
    also those of the labeling model (:mod:`posenb.train.labeling_model_ma`: fraction 1, shuffle 0)."""
    flat = {**cfg, "bodyparts": list(parts.bodyparts)}
    train, test = build_pose_cfgs(flat, fraction, shuffle, net_type, augmenter, seed, None, derived, user)
    mat, _ = paths.get_data_and_metadata_filenames(folder, fraction, shuffle, cfg)
    extra = {
        "dataset": str(mat.with_suffix(".pickle").as_posix()),
        "multianimalproject": True,
        "individuals": list(parts.individuals),
        "identity": bool(parts.identity),
        "num_idchannel": len(parts.individuals) if parts.identity else 0,
        "uniquebodyparts": list(parts.unique_bodyparts),
    }
    train.update(extra)
    test.update(extra)
    test.update({k: train[k] for k in MA_KEYS if k in train})
    return train, test


def _write_ma_shuffles(
    config, cfg: dict, folder: Path, data: pd.DataFrame, plans: list, new_fractions
) -> list:
    """Write the planned shuffles; a failure removes what this call created (no half-built training set)."""
    with NewFiles() as created:
        created.mkdir(folder)
        created.note(folder / f"CollectedData_{cfg['scorer']}.csv")
        created.write(folder / f"CollectedData_{cfg['scorer']}.h5", lambda p: write_ma_table(data, p))
        entries, written = {}, []
        for fraction, shuffle, train, test, seed, model_dir, docs, train_cfg, test_cfg in plans:
            mat, doc = paths.get_data_and_metadata_filenames(folder, fraction, shuffle, cfg)
            created.write(mat.with_suffix(".pickle"), lambda p, d=docs: write_pickle(p, d))
            created.write(
                doc,
                lambda p, d=docs, tr=train, te=test, f=fraction: write_pickle(
                    p, [d, list(tr), list(te), float(f)]
                ),
            )
            for sub, c in (("train", train_cfg), ("test", test_cfg)):
                created.mkdir(model_dir / sub)
                created.write(model_dir / sub / "pose_cfg.yaml", lambda p, c=c: write_pose_cfg(p, c))
            warn_old_snapshots(model_dir)
            name = paths.get_model_folder(fraction, shuffle, cfg).name
            entries[name] = {"train_fraction": float(fraction), "index": int(shuffle), "split": None,
                             "engine": "pytorch", "seed": seed}  # fmt: skip
            written.append((float(fraction), int(shuffle), list(train), list(test)))
        if entries:
            created.write(folder / "metadata.yaml", lambda p: write_metadata(folder, cfg, entries))
        if new_fractions:
            write_config(config, cfg)
    return written


def create_ma_training_dataset(
    config,
    num_shuffles=1,
    Shuffles=None,
    trainIndices=None,
    testIndices=None,
    net_type=None,  # noqa: N803
    augmenter_type=None,
    userfeedback=False,
    **pose_cfg,
) -> list[tuple[float, int, list[int], list[int]]]:
    """:func:`posenb.create_training_dataset` of a multi-animal project (same arguments and return value).

    ``**pose_cfg`` may set any single-animal pose_cfg key or one of :data:`MA_KEYS`. The recipe
    (:func:`derive_ma_recipe`) is always derived from each shuffle's training labels.
    """  # fmt: skip
    unknown = sorted(k for k in pose_cfg if k not in POSE_CFG_DEFAULTS and k not in MA_KEYS)
    if unknown:
        raise ConfigError(f"create_training_dataset: unknown pose_cfg setting(s) {unknown}.")
    cfg = read_config(config)
    parts = project_parts(cfg)
    project = Path(cfg["project_path"])
    net_type, why = resolve_net_type(cfg, net_type)
    print(f"create_training_dataset: multi-animal (top-down), network {net_type} ({why}).")
    check_net_type(net_type)
    data = merge_ma_datasets(cfg)
    coords, unique = ma_label_arrays(data, parts)
    folder = project / paths.get_training_set_folder(cfg)
    splits, new_fractions = plan_splits(cfg, len(data), num_shuffles, Shuffles, trainIndices, testIndices)
    size = frame_size(project, data.index)
    plans = []
    for fraction, shuffle, train, test, seed in splits:
        model_dir = project / paths.get_model_folder(fraction, shuffle, cfg)
        if skip_existing(model_dir, userfeedback):
            continue
        docs = _docs(data, coords, train, project)
        if not docs:
            raise LabelError(
                f"Shuffle {shuffle}: no training image has a labeled animal. Label frames first."
            )
        derived = derive_ma_recipe(size, coords[train], parts.bodyparts, unique[train])
        augmenter = augmenter_type or cfg.get("default_augmenter") or "default"
        cfgs = ma_pose_cfgs(
            cfg, parts, fraction, shuffle, net_type, augmenter, seed, derived, pose_cfg, folder
        )
        plans.append((fraction, shuffle, train, test, seed, model_dir, docs, *cfgs))
    return _write_ma_shuffles(config, cfg, folder, data, plans, new_fractions)


def read_ma_training_split(cfg: dict, shuffle: int = 1, trainingsetindex: int = 0):
    """``(data, train_indices, test_indices, train_fraction)`` of a multi-animal shuffle (4-level ``data``)."""
    fraction, doc, h5 = shuffle_files(cfg, shuffle, trainingsetindex)
    from posenb.io.predictions import safe_pickle_load  # noqa: PLC0415

    _, train, test, _ = safe_pickle_load(doc)
    return (
        read_ma_table(h5),
        [int(i) for i in train if int(i) >= 0],
        [int(i) for i in test if int(i) >= 0],
        fraction,
    )


def split_frame_numbers(cfg: dict, video_stem: str, shuffle: int = 1, trainingsetindex: int = 0):
    """``(train, test)`` sorted int arrays: the video frame numbers of the shuffle's training and test images that
    were extracted from ``video_stem`` (``labeled-data/<video_stem>/img<frame>.png``, DLC's names), read from the
    training set's split (:func:`read_ma_training_split`), so a benchmark scores frames the model never saw apart
    from the ones it was trained on. Images named otherwise are left out."""
    data, train, test, _ = read_ma_training_split(cfg, shuffle, trainingsetindex)

    def frames(rows) -> np.ndarray:
        found = []
        for i in rows:
            parts = [str(p) for p in data.index[i]]
            number = paths.frame_index(parts[-1])
            if len(parts) >= 2 and parts[-2] == video_stem and number is not None:
                found.append(number)
        return np.array(sorted(found), dtype=np.int64)

    return frames(train), frames(test)
