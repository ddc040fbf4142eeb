"""``pose_cfg.yaml``: posenb's training recipe (DeepLabCut's keys and posenb's own), reading, writing and building
the train / test files of a shuffle.

:func:`pose_cfg_template` is posenb's training recipe (the defaults measured in benchmarks/RESULTS.md); the
training code (``posenb.train.config``) reads its defaults from it, so the recipe lives in one place.
:func:`build_pose_cfgs` layers a shuffle's values: template < derived recipe (:mod:`posenb.data.recipe`) <
posenb.yaml's ``train:`` < the caller's keys, then the project's keys (dataset files, body parts, split seed).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import yaml

from posenb.data.augment import DEFAULT_GLOBAL_SCALE
from posenb.data.recipe import TARGET_INPUT_SIDE
from posenb.errors import ConfigError
from posenb.io.atomic import atomic_write_text
from posenb.project import paths
from posenb.project.config import POSENB_DEFAULT_NET_TYPE, read_settings

__all__ = [
    "POSE_CFG_DEFAULTS",
    "PROJECT_KEYS",
    "TEST_KEYS",
    "DEFAULT_NET_TYPE",
    "TARGET_INPUT_SIDE",
    "pose_cfg_template",
    "read_pose_cfg",
    "write_pose_cfg",
    "auto_global_scale",
    "build_pose_cfgs",
]

DEFAULT_NET_TYPE = POSENB_DEFAULT_NET_TYPE

# posenb's recipe, written into train/pose_cfg.yaml. DLC's keys keep DLC's meaning; posenb's keys are
# documented in posenb.train.config.TrainConfig. Values chosen from the openfield measurements in
# benchmarks/RESULTS.md ("Training (openfield)").
POSE_CFG_DEFAULTS = {
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
    "crop_size": [
        160,
        160,
    ],  # training canvas (w, h) in network-input pixels (after global_scale); 160 trains
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
    "refine_iters": 0,  # a second, short cosine cycle after the first (posenb.train.refine_cycle); 0: none
    "refine_lr": 0.3,  # its peak learning rate, as a share of lr
    "pretrained": True,
    "seed": 0,
    "num_workers": None,  # DataLoader workers; None: 0 on a CPU, up to 8 on CUDA (posenb.train.loop.loader_workers)
    "cache_images": True,
    "amp": True,  # mixed precision on CUDA (ignored on CPU)
    "split_seed": None,
    # --- posenb inference key (not used by training) ---
    "test_scales": None,  # analysis / evaluation default: null = one pass at global_scale; e.g. [1.1, 1.25] averages
    # a pass per input scale (more accurate, ~2.8x the compute; posenb.infer.multiscale); off by default (speed)
}

PROJECT_KEYS = ("dataset", "metadataset", "num_joints", "all_joints", "all_joints_names", "project_path")

TEST_KEYS = (
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
    cfg = copy.deepcopy(POSE_CFG_DEFAULTS)
    cfg["net_type"] = net_type or DEFAULT_NET_TYPE
    return cfg


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


def write_pose_cfg(path: Path, data: dict) -> None:
    """Write a ``pose_cfg.yaml`` (atomic, sorted keys, DeepLabCut's flow style for lists)."""
    atomic_write_text(path, yaml.safe_dump(data, sort_keys=True, default_flow_style=None), backup=False)


def auto_global_scale(width: int, height: int) -> float:
    """posenb's default ``global_scale`` for ``width x height`` frames: long side -> ~320 px, within [0.25, 2].

    The cost of training and analysis then hardly depends on the camera resolution (640x480 -> 0.5: analysis
    at ~320x240), and small frames are enlarged so that a stride-32 backbone still sees a few feature cells
    per animal. Measured on the openfield project (benchmarks/RESULTS.md).
    """
    side = max(int(width), int(height), 1)
    return float(round(min(2.0, max(0.25, TARGET_INPUT_SIDE / side)), 2))


def build_pose_cfgs(
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
                notes[key] = (
                    f"{train[key]!r}: set in posenb.yaml train: (the recipe chose {chosen!r}: {reason})"
                )
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
    test = {k: train[k] for k in TEST_KEYS if k in train}
    test["scoremap_dir"] = "test"
    return train, test
