"""Training-set creation: ``create_training_dataset`` and ``mergeandsplit`` (DeepLabCut's files and names).

What :func:`create_training_dataset` writes (paths relative to the project, see ``posenb.project.paths``)::

    training-datasets/iteration-N/UnaugmentedDataSet_<Task><date>/
        CollectedData_<scorer>.h5 / .csv             merged labels of all video folders (sorted rows)
        <Task>_<scorer><pct>shuffle<k>.mat           DLC's MATLAB dataset (train images, int joints)
        Documentation_data-<Task>_<pct>shuffle<k>.pickle   [data, trainIndices, testIndices, trainFraction]
        metadata.yaml                                DLC 3's shuffle list (+ posenb's split seed)
    dlc-models/iteration-N/<Task><date>-trainset<pct>shuffle<k>/
        train/pose_cfg.yaml                          DLC's training keys + posenb's recipe keys
        test/pose_cfg.yaml                           DLC's inference subset

Train/test indices are row positions in the merged, sorted ``CollectedData`` table, as in DeepLabCut. Unlike
DeepLabCut (unseeded ``np.random.permutation``), each (fraction, shuffle) split comes from a seeded permutation:
the seed is ``split_seed(fraction, shuffle)``, recorded in ``metadata.yaml`` and in ``train/pose_cfg.yaml``
(``split_seed``), so the same project always gives the same split.

Multi-animal projects: :mod:`posenb.data.ma_trainingset` (maDLC's layout), chosen here. Shared pieces live below
both: :mod:`posenb.data.pose_cfg` (the recipe and ``pose_cfg.yaml``), :mod:`posenb.data.splits` (seeded splits),
:mod:`posenb.data.trainingset_files` (image sizes, .mat / pickle / metadata.yaml files).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.data.label_checks import check_missing_parts, check_net_type, check_usable, resolve_duplicates
from posenb.data.pose_cfg import (
    DEFAULT_NET_TYPE,
    POSE_CFG_DEFAULTS,
    PROJECT_KEYS,
    auto_global_scale,
    build_pose_cfgs,
    pose_cfg_template,
    read_pose_cfg,
    write_pose_cfg,
)
from posenb.data.splits import plan_splits, split_seed, split_trials
from posenb.data.trainingset_files import (
    frame_size,
    image_shape,
    shuffle_files,
    skip_existing,
    warn_old_snapshots,
    write_mat,
    write_metadata,
    write_pickle,
)
from posenb.errors import ConfigError, LabelError
from posenb.io.label_folder import list_label_folders
from posenb.io.labels import array_to_labels, labels_path, labels_to_array, read_labels, write_labels
from posenb.io.new_files import NewFiles
from posenb.project import paths
from posenb.project.config import read_config, resolve_net_type, write_config

__all__ = [
    "create_training_dataset",
    "mergeandsplit",
    "merge_annotated_datasets",
    "split_trials",
    "split_seed",
    "pose_cfg_template",
    "auto_global_scale",
    "read_training_split",
    "read_pose_cfg",
    "image_shape",
    "DEFAULT_NET_TYPE",
]


def _video_stems(cfg: dict) -> list[str]:
    stems: list[str] = []
    for video in cfg.get("video_sets") or {}:
        stem = paths.video_stem(video)
        if stem in stems:
            warnings.warn(
                f"video_sets lists two videos with stem {stem!r}; its labels are used once.", stacklevel=3
            )
            continue
        stems.append(stem)
    return stems


def merge_annotated_datasets(cfg: dict, quiet: bool = False) -> pd.DataFrame:
    """Merge ``labeled-data/<stem>/CollectedData_<scorer>.h5`` of all ``video_sets`` stems (DLC's merge step).

    Folders labelled by another scorer are skipped with a warning; body parts are put in config order
    (extra ones dropped with a warning; a part a file lacks while others label it is an error, a part no file
    has yet a warning, see :mod:`posenb.data.label_checks`); an image in several rows is merged when the rows
    agree (warning) and refused when they do not. If no ``video_sets`` folder holds labels, every
    folder of ``labeled-data/`` is tried (as DLC does). Returns the sorted float64 table; raises
    :class:`LabelError` when nothing is labeled.
    """
    project = Path(cfg["project_path"])
    scorer, bodyparts = cfg["scorer"], list(cfg["bodyparts"])
    sources: dict[str, str] = {}  # label folder -> file, for messages
    columns_by_file: dict[str, set[str]] = {}

    def _collect(stems: Sequence[str]) -> list[pd.DataFrame]:
        frames = []
        for stem in stems:
            path = labels_path(project, stem, scorer)
            if not path.is_file():
                csv = path.with_suffix(".csv")
                if not csv.is_file():
                    continue
                path = csv
            df = read_labels(path)
            file_scorer = df.columns.get_level_values(0)[0]
            if file_scorer != scorer:
                warnings.warn(
                    f"{path}: labels by scorer {file_scorer!r}, not config.yaml's {scorer!r}; folder skipped.",
                    stacklevel=4,
                )
                continue
            extra = [b for b in dict.fromkeys(df.columns.get_level_values(1)) if b not in bodyparts]
            if extra and not quiet:
                warnings.warn(
                    f"{path}: body part(s) {extra} are not in config.yaml and are ignored.", stacklevel=4
                )
            columns_by_file[str(path)] = set(df.columns.get_level_values(1))
            sources.update({str(i[1]): str(path) for i in df.index if isinstance(i, tuple) and len(i) > 1})
            arr = labels_to_array(df, bodyparts)
            frames.append(array_to_labels(arr, scorer, bodyparts, list(df.index)))
        return frames

    frames = _collect(_video_stems(cfg))
    if not frames:
        others = list_label_folders(project)
        frames = _collect(others)
    if not frames:
        raise LabelError(
            f"No labels found: no labeled-data/<video>/CollectedData_{scorer}.h5 in {project}. "
            "Extract frames (posenb.extract_frames) and label them (posenb.label_frames) first."
        )
    check_missing_parts(columns_by_file, bodyparts)
    data = resolve_duplicates(pd.concat(frames).sort_index(), sources)
    if not np.isfinite(labels_to_array(data, bodyparts)).any():
        raise LabelError(
            f"The label files of {project} hold no labeled point (all NaN). Label some frames first."
        )
    return data


def _training_data(df: pd.DataFrame, train_idx: Sequence[int], project: Path, n_joints: int):
    """DLC's ``data`` list (train images with >= 1 in-image joint), the .mat struct rows, the number of train
    images with any label and the ``(image, "x, y in WxH")`` of labeled points outside their image."""
    data, mat_rows, outside, n_labeled = [], [], [], 0
    arr = labels_to_array(df)
    for i in train_idx:
        if i < 0:
            continue
        image = tuple(str(p) for p in df.index[i])
        size = image_shape(project.joinpath(*image))
        joints = np.c_[np.arange(n_joints), arr[i]]
        joints = joints[~np.isnan(joints).any(axis=1)]
        n_labeled += bool(len(joints))
        inside = (joints[:, 1] > 0) & (joints[:, 1] < size[2]) & (joints[:, 2] > 0) & (joints[:, 2] < size[1])
        outside += [
            ("/".join(image), f"({x:g}, {y:g}) in {size[2]}x{size[1]}") for _, x, y in joints[~inside]
        ]
        joints = joints[inside].astype(int)
        if not joints.size:
            continue
        data.append({"image": image, "size": list(size), "joints": joints.tolist()})
        cell = np.empty((1, 1), dtype=object)
        cell[0, 0] = joints.astype("int64")
        mat_rows.append((np.array([image], dtype="U"), np.array([size]), cell))
    return data, mat_rows, n_labeled, outside


def create_training_dataset(
    config: str | os.PathLike,
    num_shuffles: int = 1,
    Shuffles: Sequence[int] | None = None,
    trainIndices: Sequence[Sequence[int]] | None = None,
    testIndices: Sequence[Sequence[int]] | None = None,
    net_type: str | None = None,
    augmenter_type: str | None = None,
    userfeedback: bool = False,
    windows2linux: bool = False,
    posecfg_template: str | os.PathLike | None = None,
    recipe: bool = True,
    **pose_cfg,
) -> list[tuple[float, int, list[int], list[int]]]:
    """Merge the labels, split them into train/test sets and write DLC's training-set and model folders.

    Parameters
    ----------
    config : path of the project's config.yaml.
    num_shuffles : number of shuffles (``1..num_shuffles``) when ``Shuffles`` is not given.
    Shuffles : explicit shuffle indices, e.g. ``[2, 3]``.
    trainIndices, testIndices : one list of row positions per shuffle (e.g. from :func:`mergeandsplit`); the
        fraction is ``round(len(train) / (len(train) + len(test)), 2)`` (before ``-1`` padding is dropped) and
        is added to ``TrainingFraction`` in config.yaml when new.
    net_type : backbone; by default posenb.yaml's ``net_type``, else posenb's ``efficientnet-lite0``
        (config.yaml's ``default_net_type`` is DeepLabCut's setting, see ``posenb.project.config.resolve_net_type``).
        The choice and its reason are printed.
    augmenter_type : recorded as ``dataset_type`` (default config ``default_augmenter``).
    userfeedback : ask before overwriting an existing shuffle (answer other than yes skips it).
    windows2linux, posecfg_template : accepted for DLC compatibility; a template's keys are merged in.
    recipe : derive the input scale, crop, augmentation and training budget of each shuffle from its training
        labels (:func:`posenb.data.recipe.derive_recipe`; values and reasons go into ``train/pose_cfg.yaml``).
        False: posenb's fixed defaults (``global_scale`` from the frame size only, as before).
    **pose_cfg : any ``pose_cfg.yaml`` key (e.g. ``global_scale=0.5``, ``crop_size=[256, 256]``); wins over the
        recipe and over ``posenb.yaml``'s ``train:`` settings.

    Returns the list of ``(train_fraction, shuffle, train_indices, test_indices)`` written.
    Raises :class:`LabelError` when the project has no labels. Multi-animal projects (``multianimalproject: true``):
    :func:`posenb.data.ma_trainingset.create_ma_training_dataset` (top-down recipe, maDLC's files).
    """
    del windows2linux
    if read_config(config).get("multianimalproject"):  # top-down multi-animal training set (maDLC layout)
        from posenb.data.ma_trainingset import create_ma_training_dataset  # noqa: PLC0415 (imports torch)

        return create_ma_training_dataset(
            config,
            num_shuffles,
            Shuffles,
            trainIndices,
            testIndices,
            net_type,
            augmenter_type,
            userfeedback,
            **pose_cfg,
        )
    unknown = sorted(k for k in pose_cfg if k not in POSE_CFG_DEFAULTS)
    if unknown:
        raise ConfigError(
            f"create_training_dataset: unknown pose_cfg setting(s) {unknown}. Known: {', '.join(sorted(POSE_CFG_DEFAULTS))}."
        )
    cfg = read_config(config)
    net_type, why = resolve_net_type(cfg, net_type)
    print(f"create_training_dataset: network {net_type} ({why}).")
    check_net_type(net_type)
    data = merge_annotated_datasets(cfg)
    splits, new_fractions = plan_splits(cfg, len(data), num_shuffles, Shuffles, trainIndices, testIndices)
    user = {**{k: v for k, v in (read_pose_cfg(posecfg_template) if posecfg_template else {}).items()
               if k not in PROJECT_KEYS}, **pose_cfg}  # fmt: skip
    options = {"net_type": net_type, "augmenter": augmenter_type or cfg.get("default_augmenter") or "default",
               "userfeedback": userfeedback, "recipe": recipe, "user": user}  # fmt: skip
    # 1. everything that can fail on bad input (missing images, unusable labels), before anything is written
    plans = _plan_shuffles(cfg, data, splits, options)
    # 2. write; a failure here removes what this call created (no half-built training set)
    return _write_shuffles(config, cfg, data, plans, new_fractions)


def _plan_shuffles(cfg: dict, data, splits: list, options: dict) -> list[tuple]:
    """Per shuffle to write: ``(fraction, shuffle, train, test, seed, model_dir, docs, mat_rows, train_cfg,
    test_cfg)``, after the checks that can refuse the labels (nothing written yet)."""
    project = Path(cfg["project_path"])
    size = frame_size(project, data.index)
    plans = []
    for fraction, shuffle, train, test, seed in splits:
        model_dir = project / paths.get_model_folder(fraction, shuffle, cfg)
        if skip_existing(model_dir, options["userfeedback"]):
            continue
        docs, mat_rows, n_labeled, outside = _training_data(data, train, project, len(cfg["bodyparts"]))
        check_usable(len(docs), n_labeled, outside, shuffle, fraction)
        derived = None
        if options["recipe"]:
            from posenb.data.recipe import derive_recipe  # noqa: PLC0415

            derived = derive_recipe(
                size, labels_to_array(data, list(cfg["bodyparts"]))[[i for i in train if i >= 0]]
            )
        train_cfg, test_cfg = build_pose_cfgs(
            cfg,
            fraction,
            shuffle,
            options["net_type"],
            options["augmenter"],
            seed,
            size,
            derived,
            options["user"],
        )
        plans.append((fraction, shuffle, train, test, seed, model_dir, docs, mat_rows, train_cfg, test_cfg))
    return plans


def _write_shuffles(config, cfg: dict, data, plans: list, new_fractions: list) -> list:
    """Write the merged labels and each planned shuffle's files; a failure removes what this call created."""
    folder = Path(cfg["project_path"]) / paths.get_training_set_folder(cfg)
    with NewFiles() as created:
        created.mkdir(folder)
        created.note(folder / f"CollectedData_{cfg['scorer']}.csv")
        created.write(
            folder / f"CollectedData_{cfg['scorer']}.h5", lambda p: write_labels(data, p, backup=False)
        )
        entries, written = {}, []
        for fraction, shuffle, train, test, seed, model_dir, docs, mat_rows, train_cfg, test_cfg in plans:
            mat, doc = paths.get_data_and_metadata_filenames(folder, fraction, shuffle, cfg)
            created.write(mat, lambda p, rows=mat_rows: write_mat(p, rows))
            created.write(
                doc,
                lambda p, d=docs, tr=train, te=test, f=fraction: write_pickle(
                    p, [d, list(tr), list(te), float(f)]
                ),
            )
            created.mkdir(model_dir / "train")
            created.mkdir(model_dir / "test")
            warn_old_snapshots(model_dir)
            created.write(model_dir / "train" / "pose_cfg.yaml", lambda p, c=train_cfg: write_pose_cfg(p, c))
            created.write(model_dir / "test" / "pose_cfg.yaml", lambda p, c=test_cfg: write_pose_cfg(p, c))
            name = paths.get_model_folder(fraction, shuffle, cfg).name
            entries[name] = {"train_fraction": float(fraction), "index": int(shuffle), "split": None,
                             "engine": "tensorflow", "seed": seed}  # fmt: skip
            written.append((float(fraction), int(shuffle), list(train), list(test)))
        if entries:
            created.write(folder / "metadata.yaml", lambda p: write_metadata(folder, cfg, entries))
        if new_fractions:
            write_config(config, cfg)
    return written


def read_training_split(config: str | os.PathLike | dict, shuffle: int = 1, trainingsetindex: int = 0):
    """``(data, train_indices, test_indices, train_fraction)`` of a shuffle.

    ``data`` is the merged ``CollectedData`` table of the training set; indices are row positions in it
    (``-1`` padding removed). Raises :class:`ConfigError` when the shuffle was never created.
    """
    cfg = config if isinstance(config, dict) else read_config(config)
    fraction, doc, h5 = shuffle_files(cfg, shuffle, trainingsetindex)
    from posenb.io.predictions import safe_pickle_load  # noqa: PLC0415

    try:
        entries, train, test, _ = safe_pickle_load(doc)
        train = [int(i) for i in train if int(i) >= 0]
        test = [int(i) for i in test if int(i) >= 0]
    except (LabelError, ValueError, TypeError):
        raise ConfigError(f"{doc} is not a valid Documentation pickle; re-create the training set.") from None
    if train and isinstance(entries, list) and not entries:
        raise LabelError(
            f"{doc}: 0 usable training entries (no training image has a labeled point inside the image). "
            "Check the labels (posenb.check_labels) and re-create the training set."
        )
    data = read_labels(h5)
    return data, train, test, fraction


def mergeandsplit(config: str | os.PathLike, trainindex: int = 0, uniform: bool = True):
    """Freeze a train/test split to reuse in :func:`create_training_dataset` (DLC's ``mergeandsplit``).

    ``uniform=True``: a seeded split with fraction ``TrainingFraction[trainindex]``, padded with ``-1`` so
    the ratio is exact. ``uniform=False``: leave-one-folder-out, the test set is every image of the
    ``trainindex``-th video of ``video_sets``. Returns ``(trainIndices, testIndices)`` (lists of ints).
    """
    cfg = read_config(config)
    folder = Path(cfg["project_path"]) / paths.get_training_set_folder(cfg)
    h5 = folder / f"CollectedData_{cfg['scorer']}.h5"
    if h5.is_file():
        data = read_labels(h5)
    else:
        data = merge_annotated_datasets(cfg)
        folder.mkdir(parents=True, exist_ok=True)
        write_labels(data, h5, backup=False)
    if uniform:
        fractions = cfg["TrainingFraction"]
        if not 0 <= trainindex < len(fractions):
            raise ConfigError(f"trainindex={trainindex} is out of range for TrainingFraction {fractions}.")
        fraction = fractions[trainindex]
        return split_trials(len(data), fraction, split_seed(fraction, 0), enforce_train_fraction=True)
    stems = _video_stems(cfg)
    if not 0 <= trainindex < len(stems):
        raise ConfigError(f"trainindex={trainindex} is out of range: config.yaml lists {len(stems)} videos.")
    test_stem = stems[trainindex]
    folders = [str(i[1]) for i in data.index]
    train = [i for i, f in enumerate(folders) if f != test_stem]
    test = [i for i, f in enumerate(folders) if f == test_stem]
    return train, test
