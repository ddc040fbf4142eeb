"""The refinement cycle (posenb.train.refine_cycle): a second, short cosine cycle after the first, its schedule, its
snapshots, stopping and resuming inside it, and when it is skipped."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from trained_demo import TINY


def _rows(train_dir):
    lines = (Path(train_dir) / "learning_stats.csv").read_text().splitlines()[1:]
    return {int(float(a)): float(c) for a, _, c, _ in (line.split(",") for line in lines)}


def _cfg(**kw):
    from posenb.train.config import TrainConfig

    return TrainConfig.from_pose_cfg({"all_joints_names": ["a", "b"], "lr": 1e-3, "max_iters": 100, **kw})


def test_schedule_of_a_new_cycle_warms_up_then_decays():
    """learning_rate with the anchor (a, rate, warm-up): floor at a, a linear rise to the rate over the warm-up, a
    cosine down to lr / 100 at max_iters; a resumed cycle keeps that anchor."""
    from posenb.train.config import learning_rate, resume_anchor

    cfg = _cfg(max_iters=140)
    anchor = (100, 3e-4, 8)
    lrs = [learning_rate(cfg, i, anchor) for i in range(100, 140)]
    assert lrs[0] == pytest.approx(1e-5 + (3e-4 - 1e-5) / 8)
    assert lrs[7] == pytest.approx(3e-4) and max(lrs) == pytest.approx(3e-4)
    assert all(b > a for a, b in zip(lrs[:8], lrs[1:8]))  # warm-up
    assert all(b <= a for a, b in zip(lrs[7:], lrs[8:]))  # then only down
    assert learning_rate(cfg, 140, anchor) == pytest.approx(1e-5)
    state = {"iteration": 120, "scheduler": {"max_iters": 140, "anchor": [100, 3e-4, 8]},
             "train_config": {"lr": 1e-3, "max_iters": 140}}  # fmt: skip
    assert resume_anchor(cfg, state) == (100, 3e-4, 8)


def test_next_cycle_is_skipped_when_it_should_be():
    from posenb.train.refine_cycle import next_cycle

    class Net:
        def state_dict(self):
            return {}

    done = {"iteration": 100, "stopped": False, "seconds": 60.0}
    assert next_cycle(_cfg(), done, None, Net())[0] is None  # refine_iters 0 (posenb's default)
    cfg = _cfg(refine_iters=30, max_minutes=2.0)
    stopped = next_cycle(cfg, {**done, "stopped": True}, None, Net())
    assert stopped[0] is None and "stopped" in stopped[2]
    multi = _cfg(refine_iters=30, lr_schedule="multi_step", multi_step=[[1e-3, 100]])
    assert "multi_step" in next_cycle(multi, done, None, Net())[2]
    slow = next_cycle(cfg, {**done, "seconds": 600.0}, None, Net())  # 30 x 6 s = 3 min > 0.4 x 2 min
    assert slow[0] is None and "3.0 min" in slow[2] and "0.4 x max_minutes 2" in slow[2]
    # several processes: each measured its own speed, so no rank may decide alone (the cycle runs)
    assert next_cycle(cfg, {**done, "seconds": 600.0}, None, Net(), timed=False)[0].max_iters == 130
    cycle_cfg, state, line = next_cycle(cfg, done, None, Net())  # 30 x 0.6 s = 18 s: it runs
    assert cycle_cfg.max_iters == 130 and not cycle_cfg.plateau_stop and cycle_cfg.max_minutes is None
    assert state["optimizer"] is None and state["scheduler"]["anchor"] == [100, pytest.approx(3e-4), 6]
    assert "iterations 100 -> 130" in line
    at_end = {"iteration": 130, "scheduler": {"cycle": "refine", "max_iters": 130}}
    assert next_cycle(cfg, done, at_end, Net()) == (None, None, "")  # a finished cycle is not run again


@pytest.mark.slow
def test_refinement_cycle_trains_on_then_resumes_inside_it(tiny_project):
    """30 iterations, then 10 more in the cycle: the rate rises again from the floor to 0.3 x lr and falls back;
    a stop inside the cycle saves a snapshot marked as the cycle's, and training again finishes the cycle (no new
    warm-up), then has nothing left to do."""
    from posenb.nn.snapshots import list_snapshots, load_snapshot
    from posenb.train.api import train_network

    opts = dict(maxiters=30, refine_iters=10, displayiters=1, saveiters=1000, progress=False, **TINY)
    stop = threading.Event()
    heard = []

    def stop_in_cycle(event):
        heard.append(event)
        if event.kind == "display" and event.iteration >= 35:
            stop.set()

    train_dir = train_network(tiny_project, callbacks=[stop_in_cycle], stop_event=stop, **opts)
    lrs = _rows(train_dir)
    lr = TINY["lr"]
    assert lrs[30] < 0.02 * lr  # the first cycle ended annealed
    assert lrs[32] == pytest.approx(0.3 * lr) and lrs[31] < lrs[32]  # warm-up over 2 iterations
    snap = list_snapshots(train_dir)[-1]
    state = load_snapshot(snap)
    assert 35 <= state["iteration"] < 40 and state["scheduler"]["cycle"] == "refine"
    assert state["scheduler"]["max_iters"] == 40
    log = (Path(train_dir) / "train.log").read_text()
    assert "refinement cycle: iterations 30 -> 40, fresh optimizer" in log

    assert [e.kind for e in heard if e.kind in ("end", "stopped")] == ["stopped"]  # the first cycle's end is held
    assert [e.iteration for e in heard if e.kind == "start"] == [0, 30]

    at = state["iteration"]
    heard.clear()
    train_network(tiny_project, callbacks=[heard.append], **opts)
    assert [(e.kind, e.iteration) for e in heard if e.kind in ("end", "stopped")] == [("end", 40)]
    lrs = _rows(train_dir)
    assert max(lrs) == 40 and load_snapshot(list_snapshots(train_dir)[-1])["iteration"] == 40
    after = [lrs[i] for i in range(at + 1, 41)]
    assert all(b <= a for a, b in zip(after, after[1:])) and after[-1] < 0.05 * lr
    assert f"refinement cycle: resumed at iteration {at}, ends at 40" in (Path(train_dir) / "train.log").read_text()
    train_network(tiny_project, **opts)  # finished: nothing more
    assert load_snapshot(list_snapshots(train_dir)[-1])["iteration"] == 40


@pytest.mark.slow
def test_explicit_maxiters_turns_the_cycle_off(tiny_project):
    """pose_cfg.yaml asks for a cycle, but an explicit maxiters means that many iterations."""
    import yaml

    from posenb.nn.snapshots import list_snapshots
    from posenb.project.config import read_config
    from posenb.train.api import get_train_dir, train_network

    train_dir, _ = get_train_dir(read_config(tiny_project), 1)
    pose = yaml.safe_load((train_dir / "pose_cfg.yaml").read_text())
    assert pose["refine_iters"] == 0  # posenb's default: none
    pose["refine_iters"] = 10
    (train_dir / "pose_cfg.yaml").write_text(yaml.safe_dump(pose))
    train_network(tiny_project, maxiters=6, displayiters=2, saveiters=1000, progress=False, **TINY)
    assert [p.name for p in list_snapshots(train_dir)] == ["snapshot-6.pt"]
    assert "refinement cycle" not in (train_dir / "train.log").read_text()
