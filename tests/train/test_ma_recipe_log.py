"""The multi-animal recipe in a project: create_training_dataset writes the budgets (posenb.data.recipe's rule) and
their reasons, overrides win over them, and each model's train.log records the values, reasons and overrides."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from ma_synth import make_ma_project

from posenb.data.ma_trainingset import CENTROID_SHARE, ma_label_arrays, read_ma_training_split
from posenb.data.recipe import training_budget
from posenb.project.config import project_parts, read_config, write_settings
from posenb.project.paths import get_train_dir


def _pose_cfg(config) -> tuple[dict, object]:
    train_dir, _ = get_train_dir(read_config(config), 1, 0)
    return yaml.safe_load((train_dir / "pose_cfg.yaml").read_text()), train_dir


@pytest.fixture
def ma_config(tmp_path):
    return make_ma_project(tmp_path, n=40, unique=True)


def test_training_set_budgets_follow_the_labels(ma_config):
    from posenb import create_training_dataset

    create_training_dataset(ma_config)
    cfg, _ = _pose_cfg(ma_config)
    data, train, _, _ = read_ma_training_split(read_config(ma_config), 1, 0)
    assert len(train) == 32
    side = cfg["crop_size"][0]
    # 32 training frames x 2 animals, 3 parts, the instance crop holds the animal
    assert {k: cfg[k] for k in ("max_iters", "max_minutes")} == training_budget(64, 3, side, side)[0]
    canvas = cfg["ma_centroid_crop"][0]  # 96 px frames at x1: the canvas is the whole frame
    centroid, _ = training_budget(32, 2, canvas, canvas, share=CENTROID_SHARE)  # anchors + the food
    assert (cfg["ma_centroid_iters"], cfg["ma_centroid_minutes"]) == (
        centroid["max_iters"],
        centroid["max_minutes"],
    )
    notes = cfg["recipe"]
    assert notes["max_iters"].startswith(f"{cfg['max_iters']}: pose model: 64 labeled animals")
    assert notes["ma_centroid_iters"].startswith(
        f"{cfg['ma_centroid_iters']}: centroid model, 1 map (the anchors) + 1 unique part(s): 32 labeled frames"
    )
    coords, _ = ma_label_arrays(data, project_parts(read_config(ma_config)))
    assert np.isfinite(coords[train]).all()  # every animal of the synthetic frames is labeled


def test_overrides_win_over_the_ma_recipe(ma_config):
    from posenb import create_training_dataset
    from posenb.train.ma_api import _centroid_config
    from posenb.train.run_config import load_train_config

    write_settings(read_config(ma_config)["project_path"], {"train": {"max_minutes": 5}})
    create_training_dataset(ma_config, max_iters=700, ma_centroid_iters=300, ma_centroid_minutes=2.5)
    cfg, train_dir = _pose_cfg(ma_config)
    assert (cfg["max_iters"], cfg["max_minutes"]) == (700, 5)
    assert (cfg["ma_centroid_iters"], cfg["ma_centroid_minutes"]) == (300, 2.5)
    chosen = training_budget(64, 3, cfg["crop_size"][0], cfg["crop_size"][0])[0]["max_iters"]  # 2500
    assert f"700: set by the caller (the recipe chose {chosen}: pose model:" in cfg["recipe"]["max_iters"]
    assert (
        "300: set by the caller (the recipe chose 700: centroid model" in cfg["recipe"]["ma_centroid_iters"]
    )
    assert "5: set in posenb.yaml train: (the recipe chose 12.0" in cfg["recipe"]["max_minutes"]
    assert cfg["multi_step"][-1] == [cfg["lr"] / 100, 700]  # the schedule follows the overridden budget
    # what train_network runs: pose_cfg.yaml's values (the centroid model's from its ma_centroid_* keys)
    tcfg = load_train_config(train_dir)
    ccfg = _centroid_config(tcfg, None)
    assert (tcfg.max_iters, tcfg.max_minutes, ccfg.max_iters, ccfg.max_minutes) == (700, 5.0, 300, 2.5)


def test_each_model_logs_its_recipe_and_overrides(tmp_path):
    """Two iterations per model (seconds): train_network's keyword overrides win, and each train.log says so."""
    from posenb import create_training_dataset, train_network

    config = make_ma_project(tmp_path, n=10)
    create_training_dataset(config)
    cfg, train_dir = _pose_cfg(config)
    fast = {"batch_size": 2, "warmup_iters": 1, "display_iters": 1, "save_iters": 2, "plateau_stop": False}
    train_network(config, progress=False, max_iters=2, ma_centroid_iters=2, ma_center_jitter=0.02, **fast)
    assert (train_dir / "snapshot-2.pt").is_file() and (train_dir / "centroid" / "snapshot-2.pt").is_file()
    pose = (train_dir / "train.log").read_text()
    centroid = (train_dir / "centroid" / "train.log").read_text()
    # the values in effect
    assert f"global_scale={cfg['global_scale']!r}" in pose and "max_iters=2," in pose
    assert f"global_scale={cfg['ma_centroid_scale']!r}" in centroid and "max_iters=2," in centroid
    assert f"crop_size={cfg['ma_centroid_crop']!r}" in centroid
    # the recipe's reasons, each model its own
    assert f"recipe max_iters = {cfg['recipe']['max_iters']}" in pose and "pose model: " in pose
    assert "recipe ma_centroid_iters" not in pose
    assert f"recipe ma_centroid_iters = {cfg['recipe']['ma_centroid_iters']}" in centroid
    assert f"recipe ma_centroid_minutes = {cfg['recipe']['ma_centroid_minutes']}" in centroid
    assert "recipe max_iters" not in centroid and "recipe crop_sampling = 'hybrid'" in centroid
    assert "recipe scale_jitter_lo = 0.75: the centroid model's fixed jitter" in centroid
    assert "recipe ma_anchor" in pose and "recipe ma_anchor" in centroid  # both models share the anchor
    # train_network's overrides
    assert "override max_iters = 2 (argument of train_network)" in pose
    assert "override ma_center_jitter = 0.02" in pose and "override ma_centroid_iters" not in pose
    assert "override ma_centroid_iters = 2 (argument of train_network)" in centroid
    assert "override max_iters" not in centroid and "override ma_center_jitter" not in centroid
    assert "override batch_size = 2" in pose and "override batch_size = 2" in centroid
