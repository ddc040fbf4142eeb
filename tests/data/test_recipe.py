"""The training recipe follows the labels (posenb.data.recipe) and is written into train/pose_cfg.yaml."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from posenb.data.recipe import (
    STRIDE,
    derive_recipe,
    label_statistics,
    orientation_spread,
    seconds_per_iteration,
    training_budget,
)


def _animal(
    n_frames: int, width: int, height: int, spacing: float, n_parts: int = 4, seed: int = 0
) -> np.ndarray:
    """``(n, K, 2)`` labels: a row of ``n_parts`` parts ``spacing`` px apart at random places in the frame."""
    rng = np.random.default_rng(seed)
    offsets = np.arange(n_parts) * spacing
    span = offsets[-1]
    x0 = rng.uniform(10, width - span - 10, n_frames)
    y0 = rng.uniform(10, height - 10, n_frames)
    return np.stack([x0[:, None] + offsets[None], np.repeat(y0[:, None], n_parts, 1)], axis=-1)


def test_statistics_of_a_known_layout():
    kp = _animal(20, 640, 480, spacing=12.0)
    kp[0, 1] = np.nan  # one hidden part: its frame still counts, its neighbours' distances do not change
    stats = label_statistics(kp)
    assert stats["labeled_frames"] == 20
    assert stats["close"] == pytest.approx(12.0)
    assert stats["extent"] == pytest.approx(36.0)
    assert stats["hidden_share"] == pytest.approx([0.0, 0.05, 0.0, 0.0])
    assert stats["parts"] == 4
    kp[:, 3] = np.nan  # a part never labeled is nothing to learn
    assert label_statistics(kp)["parts"] == 3


def _turning(n_frames: int, headings_deg: np.ndarray, length: float = 60.0) -> np.ndarray:
    """``(n, 4, 2)`` labels of an animal whose axis (part 0 -> part 3) points along ``headings_deg`` in each frame,
    with two parts between them off the axis (ears)."""
    th = np.radians(headings_deg)[:, None]
    along = np.array([0.0, 0.3, 0.3, 1.0]) * length
    across = np.array([0.0, -8.0, 8.0, 0.0])
    x = 320 + along * np.cos(th) - across * np.sin(th)
    y = 240 + along * np.sin(th) + across * np.cos(th)
    return np.stack([x, y], axis=-1)


def test_rotation_follows_how_far_the_animal_turns():
    """A head-fixed animal (side view) keeps DeepLabCut's +-25; an animal that turns gets the range it turns
    through; one that faces every way gets (nearly) +-180. The reason names the axis and the measured turn."""
    rng = np.random.default_rng(1)
    fixed, why_fixed = derive_recipe((640, 480), _turning(80, rng.normal(30, 4, 80)))
    assert fixed["rotation"] == 25 and "turns" in why_fixed["rotation"] and "-> 3" in why_fixed["rotation"]
    turning = _turning(80, np.linspace(-60, 60, 80) + 90)
    stats = orientation_spread(turning)
    assert stats["axis"] == (0, 3) and stats["turn"] == pytest.approx(
        57.0, abs=1.0
    )  # 95th pct of |U(-60, 60)|
    values, why = derive_recipe((640, 480), turning)
    assert values["rotation"] == 60 and "turns 57 deg" in why["rotation"]
    assert derive_recipe((640, 480), _turning(80, rng.uniform(-180, 180, 80)))[0]["rotation"] >= 170
    # the mean direction wraps around +-180 without inflating the turn
    assert orientation_spread(_turning(80, 180 + rng.normal(0, 4, 80)))["turn"] < 10


def test_rotation_without_an_axis_keeps_the_default():
    """Parts never labeled together in half of the frames say nothing about the orientation."""
    kp = _turning(30, np.zeros(30))
    kp[:10, [2, 3]] = np.nan  # frames 0-9 hold parts 0-1, frames 10-19 parts 2-3, frames 20-29 parts 1-2
    kp[10:20, [0, 1]] = np.nan
    kp[20:, [0, 3]] = np.nan
    assert orientation_spread(kp) == {"turn": None, "axis": None}
    values, why = derive_recipe((640, 480), kp)
    assert values["rotation"] == 25 and "say nothing" in why["rotation"]


def test_big_frames_with_close_parts_keep_them_apart():
    """The issue's case: 832x747 frames, parts ~25 px apart. The long-side rule (x0.38) would put them ~1.2 cells
    apart; the recipe raises the scale so that they are >= ~2.5 cells apart, without upsampling."""
    values, reasons = derive_recipe((832, 747), _animal(55, 832, 747, spacing=25.0))
    assert values["global_scale"] == pytest.approx(0.8)
    assert 25.0 * values["global_scale"] / STRIDE >= 2.5 - 1e-9
    assert "closest parts 25.0 px" in reasons["global_scale"]
    assert values["crop_size"] == [160, 160]  # animal 75 px x 0.8 + margin fits the smallest crop
    assert values["scale_jitter_lo"] == 0.5  # 2.5 cells apart: shrinking to 0.5 is allowed
    # 1500 + 15 x 55, 4 parts, the whole animal in the crop
    assert values["max_iters"] == 2300 and values["max_minutes"] == 12.0
    assert set(reasons) == set(values)


def test_parts_far_apart_keep_the_cheap_long_side_rule():
    values, reasons = derive_recipe((1280, 960), _animal(100, 1280, 960, spacing=120.0))
    assert values["global_scale"] == 0.25  # 320 / 1280; parts stay 120 x 0.25 / 8 = 3.75 cells apart
    assert "long side" in reasons["global_scale"]
    assert values["crop_size"] == [160, 160]


def test_scale_does_not_exceed_one_unless_parts_are_extremely_close():
    v_close, _ = derive_recipe((320, 240), _animal(30, 320, 240, spacing=10.0))
    assert v_close["global_scale"] == 1.0  # would need x2 for 2.5 cells, but no upsampling for 10 px
    assert v_close["scale_jitter_lo"] == 0.75  # only 1.25 cells apart: do not shrink them together
    v_tiny, reasons = derive_recipe((160, 120), _animal(30, 160, 120, spacing=4.0))
    assert v_tiny["global_scale"] == 2.0  # extremely close: up to x2
    assert "extremely close" in reasons["global_scale"]
    assert v_tiny["crop_size"] == [160, 160]  # 320x240 scaled frame holds a 160 crop


def test_small_frames_and_few_frames():
    values, reasons = derive_recipe((128, 96), _animal(8, 128, 96, spacing=30.0))
    assert values["global_scale"] == 1.0
    assert values["crop_size"] == [128, 128]  # limited to the scaled frame (128 px rounded to 32)
    assert "scaled frame" in reasons["crop_size"]
    assert values["max_iters"] == 2000  # the floor for few frames
    assert "8 labeled frames" in reasons["max_iters"]


def test_big_animal_gets_a_bigger_crop_up_to_the_cap():
    values, reasons = derive_recipe((640, 480), _animal(200, 640, 480, spacing=60.0, n_parts=6))
    assert values["global_scale"] == 0.5
    assert values["crop_size"] == [192, 192]  # 300 px x 0.5 x 1.1 + 16 = 181 -> 192
    assert "holds the animal" in reasons["crop_size"]
    # 1500 + 15 x 200 = 4500, x sqrt(6 / 4) = 1.22 for 6 parts, the animal inside the crop: 5511 -> 5500;
    # 5500 x 0.32 s (192 crops: 8 / (36 / 1.44)) = 29.3 min
    assert values["max_iters"] == 5500 and values["max_minutes"] == 29.3
    assert "x1.22 for 6 parts" in reasons["max_iters"] and "x1.00 crop coverage" in reasons["max_iters"]


def test_hidden_parts_are_trained_as_absent_and_named():
    kp = _animal(40, 640, 480, spacing=30.0)
    kp[::2, 3] = np.nan
    values, reasons = derive_recipe((640, 480), kp)
    assert values["weigh_only_present_joints"] is False
    assert "parts [3]" in reasons["weigh_only_present_joints"]


def test_time_model_grows_with_the_crop_and_the_batch():
    assert seconds_per_iteration((160, 160), 8) == pytest.approx(8 / 36.0)  # 36 images/s on 2 idle cores
    # the cost follows the pixels
    assert seconds_per_iteration((192, 192), 8) == pytest.approx(8 / 36.0 * 1.44)
    assert seconds_per_iteration((256, 256), 16) == pytest.approx(2 * 8 / 36.0 * 2.56)
    assert seconds_per_iteration((160, 160), 8, "cuda") < seconds_per_iteration((160, 160), 8) / 10


def test_budget_grows_with_frames_parts_and_crop_coverage():
    """Exact values for given label statistics (the openfield and mirror-mouse-lp figures of the docstring)."""
    openfield, why = training_budget(frames=110, parts=4, crop_side=160, animal_side=160)
    assert openfield == {"max_iters": 3200, "max_minutes": 12.0}  # 3150 -> 3200; 11.9 min -> the 12 min floor
    assert "110 labeled frames: 1500 + 15 per frame = 3150" in why["max_iters"]
    assert "time model: 3200 x 0.22 s" in why["max_minutes"]
    # 17 parts: x2 (sqrt(17 / 4) = 2.06, capped); a 416 px animal in 192 crops: x2 (2.17, capped)
    mirror, why = training_budget(frames=85, parts=17, crop_side=192, animal_side=416)
    assert mirror == {"max_iters": 11100, "max_minutes": 59.2}  # 2775 x 4; 11100 x 0.32 s = 59.2 min
    assert "x2.00 for 17 parts" in why["max_iters"] and "x2.00 crop coverage" in why["max_iters"]
    assert training_budget(85, 9, 192, 288)[0]["max_iters"] == 6200  # 2775 x 1.5 x 1.5 = 6243.75
    assert training_budget(85, 4, 192, 160)[0]["max_iters"] == 2800  # a crop larger than the animal: x1
    assert training_budget(5000, 20, 192, 416)[0] == {"max_iters": 20000, "max_minutes": 60.0}  # the caps
    assert training_budget(3, 1, 160, 160)[0] == {"max_iters": 2000, "max_minutes": 12.0}  # the floors


def test_recipe_budget_for_many_parts_in_a_two_view_frame():
    """mirror-mouse-lp's shape: 17 parts, half of them in a top view and half in a bottom view of a 396x406 frame:
    the animal (both views) does not fit the largest crop, so the budget pays for the coverage too."""
    rng = np.random.default_rng(0)
    top = np.stack([rng.uniform(20, 380, (85, 8)), rng.uniform(20, 120, (85, 8))], axis=-1)
    bottom = np.stack([rng.uniform(20, 380, (85, 9)), rng.uniform(200, 390, (85, 9))], axis=-1)
    values, reasons = derive_recipe((396, 406), np.concatenate([top, bottom], axis=1))
    assert values["crop_size"] == [192, 192] and "holds part of the animal" in reasons["crop_size"]
    assert values["max_iters"] == 11100 and values["max_minutes"] == 59.2
    assert "for 17 parts" in reasons["max_iters"] and "416 px animal / 192 px crop" in reasons["max_iters"]


@pytest.fixture
def demo_config(tmp_path):
    from posenb.demo import make_demo_project

    return make_demo_project(tmp_path, n_frames=60, n_labeled=20, width=320, height=240)


def _train_cfg(config):
    from posenb.project.config import read_config
    from posenb.train.api import get_train_dir

    train_dir, _ = get_train_dir(read_config(config), 1)
    return yaml.safe_load((train_dir / "pose_cfg.yaml").read_text())


def test_create_training_dataset_writes_values_and_reasons(demo_config):
    from posenb.data.trainingset import create_training_dataset

    create_training_dataset(demo_config)
    cfg = _train_cfg(demo_config)
    for key in ("global_scale", "crop_size", "scale_jitter_lo", "max_iters", "max_minutes", "plateau_stop"):
        assert key in cfg["recipe"], key
        assert cfg["recipe"][key].startswith(repr(cfg[key]) + ":")
    assert cfg["global_scale"] == 1.0  # 320x240 frames, parts ~16 px apart: x1
    assert cfg["plateau_stop"] is True


def test_overrides_win_over_the_recipe(demo_config):
    from posenb.data.trainingset import create_training_dataset
    from posenb.errors import ConfigError
    from posenb.project.config import write_settings

    write_settings(Path(demo_config).parent, {"train": {"crop_size": [224, 224]}})
    create_training_dataset(demo_config, global_scale=0.6, max_minutes=3, max_iters=700)
    cfg = _train_cfg(demo_config)
    assert cfg["global_scale"] == 0.6 and cfg["max_minutes"] == 3 and cfg["max_iters"] == 700
    assert "set by the caller (the recipe chose 2000" in cfg["recipe"]["max_iters"]
    assert "set by the caller (the recipe chose 1.0" in cfg["recipe"]["global_scale"]
    assert cfg["crop_size"] == [224, 224]
    assert "posenb.yaml" in cfg["recipe"]["crop_size"]
    with pytest.raises(ConfigError, match="global_scal"):
        create_training_dataset(demo_config, global_scal=0.6)
    create_training_dataset(demo_config, recipe=False)
    assert "recipe" not in _train_cfg(demo_config)
