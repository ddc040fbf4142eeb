"""TrainConfig: pose_cfg.yaml + overrides, validation, learning-rate schedules."""

from __future__ import annotations

import math

import pytest

from posenb.data.trainingset import pose_cfg_template
from posenb.errors import ConfigError
from posenb.train.config import TrainConfig, learning_rate, resume_anchor


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


def _state(iteration, cfg, anchor=None):
    """What a snapshot of a run with ``cfg`` at ``iteration`` holds about its schedule."""
    sched = {"type": "cosine", "iteration": iteration, "max_iters": cfg.max_iters}
    sched["anchor"] = list(anchor) if anchor else None
    return {"iteration": iteration, "scheduler": sched, "train_config": cfg.to_dict()}


def test_resuming_past_the_old_end_keeps_the_decayed_rate():
    """Issue 15: a run trained to 300 (lr at its floor, 1e-5) resumed to 600 must not jump back to 6e-4."""
    old = _cfg(lr=1e-3, max_iters=300, warmup_iters=20)
    new = _cfg(lr=1e-3, max_iters=600, warmup_iters=20)
    end_rate = learning_rate(old, 299)
    assert learning_rate(new, 300) > 0.5e-3  # the plain schedule over 600 would jump up: the bug
    anchor = resume_anchor(new, _state(300, old))
    assert anchor[0] == 300 and math.isclose(anchor[1], 1e-5)
    lrs = [learning_rate(new, i, anchor) for i in range(300, 600)]
    assert max(lrs) <= end_rate * 1.0001 and all(math.isclose(v, 1e-5) for v in lrs)


def test_resuming_midway_with_a_longer_run_continues_the_decay_from_where_it_was():
    old = _cfg(lr=1e-3, max_iters=300, warmup_iters=20)
    new = _cfg(lr=1e-3, max_iters=900, warmup_iters=20)
    at_150 = learning_rate(old, 150)
    anchor = resume_anchor(new, _state(150, old))
    assert anchor[0] == 150 and math.isclose(anchor[1], at_150)
    lrs = [learning_rate(new, i, anchor) for i in range(150, 900)]
    assert math.isclose(lrs[0], at_150)  # no step at the resume point
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))  # falling all the way
    assert lrs[-1] < 2e-5  # and reaching the floor at the new end
    # the resumed run's own snapshot keeps the anchor: a further resume (same length) continues that curve
    assert resume_anchor(new, _state(500, new, anchor)) == anchor
    # and a resume with the same length and no anchor is the plain schedule
    assert resume_anchor(old, _state(150, old)) is None
    assert resume_anchor(new, None) is None


def test_resuming_with_a_shorter_run_ends_at_the_floor():
    old = _cfg(lr=1e-3, max_iters=1000, warmup_iters=20)
    new = _cfg(lr=1e-3, max_iters=400, warmup_iters=20)
    anchor = resume_anchor(new, _state(300, old))
    lrs = [learning_rate(new, i, anchor) for i in range(300, 400)]
    assert lrs[0] <= learning_rate(old, 300) and math.isclose(lrs[-1], 1e-5, rel_tol=0.05)
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))


def test_loader_workers_follow_the_device_unless_set():
    """None: no workers on a CPU (the cores run the network), min(8, cores - 1) on CUDA; a set value wins."""
    import torch

    from posenb.train.loop import loader_workers

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert loader_workers(None, cpu, cpu_count=16)[0] == 0
    assert loader_workers(None, cuda, cpu_count=16) == (8, "CUDA: augmentation in 8 processes feeds the GPU (16 cores)")
    assert loader_workers(None, cuda, cpu_count=4)[0] == 3
    assert loader_workers(None, cuda, cpu_count=1)[0] == 0
    assert loader_workers(2, cpu, cpu_count=16) == (2, "num_workers set in pose_cfg.yaml")
    assert loader_workers(0, cuda, cpu_count=16)[0] == 0
    # torchrun with 4 GPUs on 16 cores: 4 cores per training process, 3 workers each
    four = "CUDA: augmentation in 3 processes feeds the GPU (16 cores / 4 training processes)"
    assert loader_workers(None, cuda, cpu_count=16, processes=4) == (3, four)
    assert pose_cfg_template()["num_workers"] is None
