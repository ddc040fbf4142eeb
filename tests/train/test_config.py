"""TrainConfig: pose_cfg.yaml + overrides, validation, learning-rate schedules."""

from __future__ import annotations

import math

import pytest

from posenb.data.trainingset import pose_cfg_template
from posenb.errors import ConfigError
from posenb.train.config import TrainConfig, learning_rate


def _cfg(**kw):
    return TrainConfig.from_pose_cfg({"all_joints_names": ["a", "b"], **kw.pop("pose", {})}, kw)


def test_defaults_come_from_the_recipe_and_overrides_win():
    recipe = pose_cfg_template()
    cfg = TrainConfig.from_pose_cfg({"all_joints_names": ["a"], "batch_size": 3, "dataset": "x.mat"}, {"lr": 0.01})
    assert cfg.batch_size == 3  # pose_cfg.yaml beats the recipe
    assert cfg.lr == 0.01  # override beats pose_cfg.yaml
    assert cfg.global_scale == recipe["global_scale"]
    assert cfg.extra["dataset"] == "x.mat"  # DLC keys posenb does not use are kept
    assert cfg.data_params()["bodyparts"] == ["a"]


def test_bad_values_name_the_key():
    with pytest.raises(ConfigError, match="Unknown training setting 'learning_rate'"):
        _cfg(learning_rate=1)
    with pytest.raises(ConfigError, match="batch_size"):
        _cfg(batch_size=0)
    with pytest.raises(ConfigError, match="optimizer"):
        _cfg(optimizer="lbfgs")
    with pytest.raises(ConfigError, match="multi_step"):
        _cfg(lr_schedule="multi_step", multi_step=[1, 2])
    with pytest.raises(ConfigError, match="all_joints_names"):
        TrainConfig.from_pose_cfg({})


def test_cosine_schedule_warms_up_then_decays():
    cfg = _cfg(lr=1e-3, max_iters=1000, warmup_iters=100)
    lrs = [learning_rate(cfg, i) for i in range(1000)]
    assert lrs[0] < 1e-4 and math.isclose(lrs[99], 1e-3)
    assert all(a <= b for a, b in zip(lrs[:100], lrs[1:100]))  # rising warm-up
    assert all(a >= b for a, b in zip(lrs[100:], lrs[101:]))  # falling cosine
    assert lrs[-1] < 2e-5
    short = _cfg(lr=1e-3, max_iters=20, warmup_iters=100)  # warm-up capped at max_iters // 5
    assert math.isclose(learning_rate(short, 3), 1e-3)


def test_multi_step_schedule_is_dlcs():
    cfg = _cfg(lr_schedule="multi_step", multi_step=[[0.005, 10], [0.02, 20], [0.001, 30]], max_iters=30)
    assert [learning_rate(cfg, i) for i in (0, 9, 10, 19, 20, 29, 40)] == [0.005, 0.005, 0.02, 0.02, 0.001, 0.001, 0.001]
