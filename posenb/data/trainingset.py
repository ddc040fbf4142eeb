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

:func:`pose_cfg_template` is posenb's training recipe (the defaults measured in benchmarks/RESULTS.md); the
training code (``posenb.train.config``) reads its defaults from it, so the recipe lives in one place.
"""

from __future__ import annotations

import copy
import math
import os
import pickle
import struct
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from posenb.data.augment import DEFAULT_GLOBAL_SCALE
from posenb.data.label_checks import check_missing_parts, check_net_type, check_usable, resolve_duplicates
from posenb.errors import ConfigError, LabelError
from posenb.io.atomic import atomic_write, atomic_write_text
from posenb.io.labels import array_to_labels, labels_path, labels_to_array, read_labels, write_labels
from posenb.io.new_files import NewFiles
from posenb.project import paths
from posenb.project.config import (
    POSENB_DEFAULT_NET_TYPE,
    read_config,
    read_settings,
    resolve_net_type,
    write_config,
)

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

DEFAULT_NET_TYPE = POSENB_DEFAULT_NET_TYPE

# posenb's recipe, written into train/pose_cfg.yaml. DLC's keys keep DLC's meaning; posenb's keys are
# documented in posenb.train.config.TrainConfig. Values chosen from the openfield measurements in
# benchmarks/RESULTS.md ("Training (openfield)").
_RECIPE = {
    # --- DLC pose_cfg keys ---
    "all_joints": None,
    "all_joints_names": None,
    "alpha_r": 0.02,
    "apply_prob": 0.5,
    "batch_size": 8,
    "crop_pad": 0,
    "dataset": None,
    "dataset_type": "imgaug",
    "decay_steps": 30000,
    "display_iters": 50,
    "global_scale": DEFAULT_GLOBAL_SCALE,  # posenb: resize in training AND inference (DLC: training only); set per project by
    # auto_global_scale (long side -> 320 px) unless posenb.yaml's train settings give one
    "init_weights": "imagenet",
    "intermediate_supervision": False,
    "intermediate_supervision_layer": 12,
    "location_refinement": True,
    "locref_huber_loss": True,
    "locref_loss_weight": 0.05,
    "locref_stdev": 7.2801,
    "lr_init": 0.0005,
    "max_input_size": 1500,
    "metadataset": None,
    "min_input_size": 64,
    "mirror": False,
    "multi_stage": False,
    "multi_step": None,  # filled from lr / max_iters when written
    "net_type": DEFAULT_NET_TYPE,
    "num_joints": None,
    "pos_dist_thresh": 17,
    "project_path": None,
    "rotation": 25,
    "rotratio": 0.4,
    "save_iters": 1000,
    "scale_jitter_lo": 0.5,
    "scale_jitter_up": 1.25,
    "weigh_only_present_joints": False,
    # --- posenb keys ---
    "crop_size": [160, 160],  # training canvas (w, h) in network-input pixels (after global_scale); 160 trains
    # ~4x faster than 256 on a CPU (cache-friendly) and loses nothing on openfield
    "crop_sampling": "hybrid",  # uniform | keypoints | hybrid: where the training crop is taken
    "max_shift": 0.4,
    "scmap_type": "gaussian",  # gaussian (DLC 3) | plateau (DLC 2) score-map targets
    "heatmap_loss": "bce",  # bce (sigmoid cross-entropy) | mse
    "brightness": 0.2,
    "contrast": 0.2,
    "blur": 1.0,
    "motion_blur": True,
    "gaussian_noise": 12.75,
    "freeze_bn_stats": False,
    "optimizer": "adamw",  # adamw | sgd
    "lr": 0.001,  # peak learning rate
    "weight_decay": 0.0001,
    "lr_schedule": "cosine",  # cosine (linear warmup + cosine decay) | multi_step (DLC's piecewise list)
    "warmup_iters": 100,
    "max_iters": 3000,
    "max_minutes": None,  # time budget of a run [min]: the loop shortens max_iters to end in time (None: no limit)
    "plateau_stop": False,  # end a run early when the training loss has stopped falling
    "pretrained": True,
    "seed": 0,
    "num_workers": 0,
    "cache_images": True,
    "amp": True,  # mixed precision on CUDA (ignored on CPU)
    "split_seed": None,
}

_PROJECT_KEYS = ("dataset", "metadataset", "num_joints", "all_joints", "all_joints_names", "project_path")

_TEST_KEYS = (
    "dataset",
    "num_joints",
    "all_joints",
    "all_joints_names",
    "net_type",
    "init_weights",
    "global_scale",
    "location_refinement",
    "locref_stdev",
    "pos_dist_thresh",
)


def pose_cfg_template(net_type: str | None = None) -> dict:
    """posenb's default ``train/pose_cfg.yaml`` content for ``net_type`` (project keys left as None)."""
    cfg = copy.deepcopy(_RECIPE)
    cfg["net_type"] = net_type or DEFAULT_NET_TYPE
    return cfg


def split_seed(train_fraction: float, shuffle: int) -> int:
    """Seed of the permutation for (``train_fraction``, ``shuffle``): ``1000 * shuffle + pct``."""
    return 1000 * int(shuffle) + paths.train_fraction_pct(train_fraction)


def _pad_split(train: list[int], test: list[int], fraction: float) -> tuple[list[int], list[int]]:
    """Pad with -1 entries so that ``len(train) / (len(train) + len(test))`` is exactly ``fraction`` (DLC)."""
    n = len(train) + len(test)
    if n == 0 or len(train) / n == fraction:
        return train, test
    step = 100 // math.gcd(100, int(round(100 * fraction)))
    length = math.ceil(n / step) * step
    n_train = int(round(length * fraction))
    n_test = length - n_train
    if n_train < len(train) or n_test < len(test):
        return train, test
    return train + [-1] * (n_train - len(train)), test + [-1] * (n_test - len(test))


def split_trials(n: int, train_fraction: float, seed: int, enforce_train_fraction: bool = False):
    """Seeded train/test split of ``range(n)``: the first ``int(n * fraction)`` permuted positions train.

    Returns ``(train, test)`` lists of ints (in permutation order). With ``enforce_train_fraction``, pads
    with -1 so the ratio is exact (DLC's ``mergeandsplit``).
    """
    if not 0 <= train_fraction <= 1:
        raise ConfigError(f"TrainingFraction {train_fraction} must lie in [0, 1].")
    fraction = round(train_fraction, 2)
    perm = [int(i) for i in np.random.default_rng(seed).permutation(n)]
    n_train = int(n * fraction)
    train, test = perm[:n_train], perm[n_train:]
    if enforce_train_fraction and not float(n * fraction).is_integer():
        train, test = _pad_split(train, test, fraction)
    return train, test


def image_shape(path: Path) -> tuple[int, int, int]:
    """``(channels, height, width)`` of an image, read from the PNG header (any format through OpenCV)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(26)
    except OSError:
        raise LabelError(
            f"Labeled image {path} is missing. Re-extract the frame or remove its row "
            "(posenb.dropannotationfileentriesduetodeletedimages)."
        ) from None
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        color_type = head[25]
        channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(color_type, 3)
        return (3 if channels in (3, 4) else channels), int(h), int(w)
    import cv2  # noqa: PLC0415

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise LabelError(f"Labeled image {path} cannot be read (not an image?).")
    return (img.shape[2] if img.ndim == 3 else 1), img.shape[0], img.shape[1]


def _video_stems(cfg: dict) -> list[str]:
    stems: list[str] = []
    for video in cfg.get("video_sets") or {}:
        stem = paths.video_stem(video)
        if stem in stems:
            warnings.warn(f"video_sets lists two videos with stem {stem!r}; its labels are used once.", stacklevel=3)
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
                warnings.warn(f"{path}: body part(s) {extra} are not in config.yaml and are ignored.", stacklevel=4)
            columns_by_file[str(path)] = set(df.columns.get_level_values(1))
            sources.update({str(i[1]): str(path) for i in df.index if isinstance(i, tuple) and len(i) > 1})
            arr = labels_to_array(df, bodyparts)
            frames.append(array_to_labels(arr, scorer, bodyparts, list(df.index)))
        return frames

    frames = _collect(_video_stems(cfg))
    if not frames:
        folder = project / "labeled-data"
        others = sorted(p.name for p in folder.iterdir() if p.is_dir() and "_labeled" not in p.name) if folder.is_dir() else []
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
        outside += [("/".join(image), f"({x:g}, {y:g}) in {size[2]}x{size[1]}") for _, x, y in joints[~inside]]
        joints = joints[inside].astype(int)
        if not joints.size:
            continue
        data.append({"image": image, "size": list(size), "joints": joints.tolist()})
        cell = np.empty((1, 1), dtype=object)
        cell[0, 0] = joints.astype("int64")
        mat_rows.append((np.array([image], dtype="U"), np.array([size]), cell))
    return data, mat_rows, n_labeled, outside


def _write_mat(path: Path, mat_rows: list) -> None:
    import scipy.io as sio  # noqa: PLC0415

    table = np.empty(len(mat_rows), dtype=[("image", "O"), ("size", "O"), ("joints", "O")])
    for i, row in enumerate(mat_rows):
        table[i] = row
    atomic_write(path, lambda tmp: sio.savemat(str(tmp), {"dataset": table}), backup=False)


def _write_pickle(path: Path, obj) -> None:
    payload = pickle.dumps(obj, protocol=4)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(payload), backup=False)


_METADATA_HEADER = (
    "# This file is automatically generated - DO NOT EDIT\n"
    "# It contains the information about the shuffles created for the dataset\n---\n"
)


def _split_key(folder: Path, cfg: dict, entry: dict):
    """(sorted train, sorted test) of a shuffle, read from its Documentation pickle (None if unreadable)."""
    from posenb.io.predictions import safe_pickle_load  # noqa: PLC0415

    _, doc = paths.get_data_and_metadata_filenames(folder, entry["train_fraction"], entry["index"], cfg)
    try:
        _, train, test, _ = safe_pickle_load(doc)
        return tuple(sorted(int(i) for i in train)), tuple(sorted(int(i) for i in test))
    except Exception:  # noqa: BLE001 - a missing/unreadable pickle just gets its own split id
        return None


def _write_metadata(folder: Path, cfg: dict, entries: dict) -> None:
    """``metadata.yaml`` as DLC 3 writes it (+ posenb's ``seed``); other shuffles already listed are kept.

    Shuffles with identical (train, test) sets share one ``split`` id, as in DLC.
    """
    path = folder / "metadata.yaml"
    shuffles: dict = {}
    if path.is_file():
        try:
            old = yaml.safe_load(path.read_text(encoding="utf-8").split("---\n", 1)[-1]) or {}
            shuffles.update(old.get("shuffles") or {})
        except yaml.YAMLError:
            pass
    shuffles.update(entries)
    ordered = dict(sorted(shuffles.items(), key=lambda kv: (kv[1]["train_fraction"], kv[1]["index"])))
    ids: dict = {}
    for name, entry in ordered.items():
        key = _split_key(folder, cfg, entry) or ("unique", name)
        entry["split"] = ids.setdefault(key, len(ids) + 1)
    atomic_write_text(path, _METADATA_HEADER + yaml.safe_dump({"shuffles": ordered}, sort_keys=False), backup=False)


def read_pose_cfg(path: str | os.PathLike) -> dict:
    """Read a ``pose_cfg.yaml`` (safe YAML); :class:`ConfigError` naming the file if it is malformed."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} not found. Run posenb.create_training_dataset(config) first.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}). Fix it or re-create the training set.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of training parameters.")
    return data


def _write_yaml(path: Path, data: dict) -> None:
    atomic_write_text(path, yaml.safe_dump(data, sort_keys=True, default_flow_style=None), backup=False)


#: posenb sizes the network input so that the long side of a frame is about this many pixels (see auto_global_scale)
TARGET_INPUT_SIDE = 320


def auto_global_scale(width: int, height: int) -> float:
    """posenb's default ``global_scale`` for ``width x height`` frames: long side -> ~320 px, within [0.25, 2].

    The cost of training and analysis then hardly depends on the camera resolution (640x480 -> 0.5: analysis
    at ~320x240), and small frames are enlarged so that a stride-32 backbone still sees a few feature cells
    per animal. Measured on the openfield project (benchmarks/RESULTS.md).
    """
    side = max(int(width), int(height), 1)
    return float(round(min(2.0, max(0.25, TARGET_INPUT_SIDE / side)), 2))


def _pose_cfgs(
    cfg: dict,
    fraction: float,
    shuffle: int,
    net_type: str,
    augmenter: str,
    seed: int | None,
    frame_size=None,
    derived: tuple[dict, dict] | None = None,
    user: dict | None = None,
) -> tuple[dict, dict]:
    """(train, test) pose_cfg dicts: template < recipe (``derived``) < posenb.yaml ``train:`` < ``user``.

    With a recipe, ``train["recipe"]`` maps each derived key to ``"<value>: <reason>"`` (or says who overrode it).
    """
    project = Path(cfg["project_path"])
    bodyparts = list(cfg["bodyparts"])
    tset = paths.get_training_set_folder(cfg)
    mat, doc = paths.get_data_and_metadata_filenames(tset, fraction, shuffle, cfg)
    train = pose_cfg_template(net_type)
    if derived is not None:
        train.update(derived[0])
    elif frame_size is not None:
        train["global_scale"] = auto_global_scale(*frame_size)
    settings = (read_settings(project).get("train") or {}) if project.is_dir() else {}
    if not isinstance(settings, dict):
        raise ConfigError(f"{project / 'posenb.yaml'}: 'train' must be a mapping of pose_cfg keys.")
    train.update(settings)
    train.update(user or {})
    if derived is not None:
        notes = {}
        for key, reason in derived[1].items():
            chosen = derived[0][key]
            if key in (user or {}):
                notes[key] = f"{train[key]!r}: set by the caller (the recipe chose {chosen!r}: {reason})"
            elif key in settings:
                notes[key] = f"{train[key]!r}: set in posenb.yaml train: (the recipe chose {chosen!r}: {reason})"
            else:
                notes[key] = f"{chosen!r}: {reason}"
        train["recipe"] = notes
    train.update(
        dataset=str(mat.as_posix()),
        metadataset=str(doc.as_posix()),
        num_joints=len(bodyparts),
        all_joints=[[i] for i in range(len(bodyparts))],
        all_joints_names=bodyparts,
        net_type=net_type,
        project_path=str(project),
        dataset_type=augmenter,
        split_seed=seed,
    )
    max_iters = int(train["max_iters"])
    lr = float(train["lr"])
    if not train.get("multi_step"):
        train["multi_step"] = [[lr, max_iters // 2], [lr / 10, (3 * max_iters) // 4], [lr / 100, max_iters]]
    test = {k: train[k] for k in _TEST_KEYS if k in train}
    test["scoremap_dir"] = "test"
    return train, test


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
        from posenb.data.ma_trainingset import create_ma_training_dataset  # noqa: PLC0415

        return create_ma_training_dataset(
            config, num_shuffles, Shuffles, trainIndices, testIndices, net_type, augmenter_type, userfeedback, **pose_cfg
        )
    unknown = sorted(k for k in pose_cfg if k not in _RECIPE)
    if unknown:
        raise ConfigError(
            f"create_training_dataset: unknown pose_cfg setting(s) {unknown}. Known: {', '.join(sorted(_RECIPE))}."
        )
    cfg = read_config(config)
    project = Path(cfg["project_path"])
    net_type, why = resolve_net_type(cfg, net_type)
    print(f"create_training_dataset: network {net_type} ({why}).")
    augmenter = augmenter_type or cfg.get("default_augmenter") or "default"
    check_net_type(net_type)
    data = merge_annotated_datasets(cfg)
    folder = project / paths.get_training_set_folder(cfg)
    n = len(data)
    splits, new_fractions = _plan_splits(cfg, n, num_shuffles, Shuffles, trainIndices, testIndices)
    template_extra = read_pose_cfg(posecfg_template) if posecfg_template else {}

    # 1. everything that can fail on bad input (missing images, unusable labels), before anything is written
    sizes = [image_shape(project.joinpath(*[str(p) for p in data.index[i]])) for i in range(0, n, max(1, n // 10))]
    frame_size = (max(s[2] for s in sizes), max(s[1] for s in sizes))  # (width, height) of the largest frames
    plans = []
    for fraction, shuffle, train, test, seed in splits:
        model_dir = project / paths.get_model_folder(fraction, shuffle, cfg)
        if userfeedback and (model_dir / "train" / "pose_cfg.yaml").exists():
            answer = input(f"{model_dir} exists. Overwrite its pose_cfg.yaml? yes/no: ")
            if answer.strip().lower() not in ("yes", "y"):
                continue
        docs, mat_rows, n_labeled, outside = _training_data(data, train, project, len(cfg["bodyparts"]))
        check_usable(len(docs), n_labeled, outside, shuffle, fraction)
        derived = None
        if recipe:
            from posenb.data.recipe import derive_recipe  # noqa: PLC0415

            derived = derive_recipe(frame_size, labels_to_array(data, list(cfg["bodyparts"]))[[i for i in train if i >= 0]])
        user = {**{k: v for k, v in template_extra.items() if k not in _PROJECT_KEYS}, **pose_cfg}
        train_cfg, test_cfg = _pose_cfgs(cfg, fraction, shuffle, net_type, augmenter, seed, frame_size, derived, user)
        plans.append((fraction, shuffle, train, test, seed, model_dir, docs, mat_rows, train_cfg, test_cfg))

    # 2. write; a failure here removes what this call created (no half-built training set)
    with NewFiles() as created:
        created.mkdir(folder)
        created.note(folder / f"CollectedData_{cfg['scorer']}.csv")
        created.write(folder / f"CollectedData_{cfg['scorer']}.h5", lambda p: write_labels(data, p, backup=False))
        entries, written = {}, []
        for fraction, shuffle, train, test, seed, model_dir, docs, mat_rows, train_cfg, test_cfg in plans:
            mat, doc = paths.get_data_and_metadata_filenames(folder, fraction, shuffle, cfg)
            created.write(mat, lambda p, rows=mat_rows: _write_mat(p, rows))
            created.write(doc, lambda p, d=docs, tr=train, te=test, f=fraction: _write_pickle(p, [d, list(tr), list(te), float(f)]))
            created.mkdir(model_dir / "train")
            created.mkdir(model_dir / "test")
            _warn_old_snapshots(model_dir)
            created.write(model_dir / "train" / "pose_cfg.yaml", lambda p, c=train_cfg: _write_yaml(p, c))
            created.write(model_dir / "test" / "pose_cfg.yaml", lambda p, c=test_cfg: _write_yaml(p, c))
            name = paths.get_model_folder(fraction, shuffle, cfg).name
            entries[name] = {"train_fraction": float(fraction), "index": int(shuffle), "split": None,
                             "engine": "tensorflow", "seed": seed}  # fmt: skip
            written.append((float(fraction), int(shuffle), list(train), list(test)))
        if entries:
            created.write(folder / "metadata.yaml", lambda p: _write_metadata(folder, cfg, entries))
        if new_fractions:
            write_config(config, cfg)
    return written


def _plan_splits(cfg: dict, n: int, num_shuffles, Shuffles, trainIndices, testIndices):  # noqa: N803 - DLC names
    """``([(fraction, shuffle, train, test, seed), ...], new fractions)``; fractions added to ``cfg`` in memory."""
    Shuffles = list(range(1, int(num_shuffles) + 1)) if Shuffles is None else [int(s) for s in Shuffles]  # noqa: N806
    splits: list[tuple[float, int, list[int], list[int], int | None]] = []
    if trainIndices is None and testIndices is None:
        for fraction in cfg["TrainingFraction"]:
            for shuffle in Shuffles:
                seed = split_seed(fraction, shuffle)
                train, test = split_trials(n, fraction, seed)
                splits.append((fraction, shuffle, train, test, seed))
        return splits, []
    if trainIndices is None or testIndices is None or len(trainIndices) != len(testIndices):
        raise ConfigError("Pass trainIndices and testIndices together, one list of each per shuffle.")
    if len(Shuffles) < len(trainIndices):
        Shuffles = list(range(1, len(trainIndices) + 1))  # noqa: N806
    new = []
    for shuffle, tr, te in zip(Shuffles, trainIndices, testIndices):
        tr, te = [int(i) for i in tr], [int(i) for i in te]
        fraction = round(len(tr) / (len(tr) + len(te)), 2)
        tr, te = [i for i in tr if i != -1], [i for i in te if i != -1]
        bad = [i for i in tr + te if not 0 <= i < n]
        if bad:
            raise ConfigError(f"trainIndices/testIndices hold positions {bad[:5]} outside the {n} labeled images.")
        if fraction not in cfg["TrainingFraction"]:
            cfg["TrainingFraction"].append(fraction)
            new.append(fraction)
        splits.append((fraction, shuffle, tr, te, None))
    return splits, new


def _warn_old_snapshots(model_dir: Path) -> None:
    snaps = list((model_dir / "train").glob("snapshot-*.pt"))
    if snaps:
        warnings.warn(
            f"{model_dir / 'train'} already holds {len(snaps)} snapshot(s); train_network will resume from the "
            "last one. Delete them to train this shuffle from scratch.",
            stacklevel=3,
        )


def read_training_split(config: str | os.PathLike | dict, shuffle: int = 1, trainingsetindex: int = 0):
    """``(data, train_indices, test_indices, train_fraction)`` of a shuffle.

    ``data`` is the merged ``CollectedData`` table of the training set; indices are row positions in it
    (``-1`` padding removed). Raises :class:`ConfigError` when the shuffle was never created.
    """
    cfg = config if isinstance(config, dict) else read_config(config)
    fractions = cfg["TrainingFraction"]
    if not 0 <= trainingsetindex < len(fractions):
        raise ConfigError(
            f"trainingsetindex={trainingsetindex} is out of range: config.yaml has TrainingFraction {fractions}."
        )
    fraction = fractions[trainingsetindex]
    project = Path(cfg["project_path"])
    folder = project / paths.get_training_set_folder(cfg)
    _, doc = paths.get_data_and_metadata_filenames(folder, fraction, shuffle, cfg)
    h5 = folder / f"CollectedData_{cfg['scorer']}.h5"
    if not doc.is_file() or not h5.is_file():
        raise ConfigError(
            f"Shuffle {shuffle} (TrainingFraction {fraction}) does not exist: {doc} is missing. "
            "Run posenb.create_training_dataset(config) first."
        )
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
