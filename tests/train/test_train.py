"""train_network on the tiny demo project: learning, events, snapshots, stop/resume, kill -9, errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from trained_demo import LEARN_ITERS, TINY

pytestmark = pytest.mark.slow


def _rows(train_dir):
    lines = (Path(train_dir) / "learning_stats.csv").read_text().splitlines()
    assert lines[0] == "iteration,loss,lr,seconds"
    return [tuple(float(v) for v in line.split(",")) for line in lines[1:]]


def test_training_learns(trained, tmp_path):
    """Loss falls; test images and every frame of the video are predicted much better than by the mean pose."""
    from posenb.data.trainingset import read_training_split
    from posenb.demo import read_ground_truth
    from posenb.infer.analyze import analyze_videos
    from posenb.infer.evaluate import pixel_errors, predict_images
    from posenb.infer.predictor import load_predictor
    from posenb.io.labels import labels_to_array
    from posenb.io.predictions import predictions_to_array, read_predictions
    from posenb.nn.snapshots import list_snapshots
    from posenb.project.config import read_config

    rows = _rows(trained["train_dir"])
    losses = [r[1] for r in rows]
    assert [int(r[0]) for r in rows] == list(range(5, LEARN_ITERS + 1, 5))
    assert np.mean(losses[-2:]) < 0.7 * losses[0], losses
    assert [p.name for p in list_snapshots(trained["train_dir"])] == ["snapshot-25.pt", "snapshot-50.pt"]

    cfg = read_config(trained["config"])
    data, train_idx, test_idx, _ = read_training_split(cfg, 1, 0)
    labels = labels_to_array(data, cfg["bodyparts"])
    predictor, info = load_predictor(cfg, 1, 0)
    assert info["iteration"] == LEARN_ITERS and info["scorer"].endswith(f"shuffle1_{LEARN_ITERS}")
    pred = predict_images(predictor, Path(cfg["project_path"]), [data.index[i] for i in test_idx])
    err, _ = pixel_errors(labels[test_idx], pred, 0.0)
    # stated bound: measured ~6 px on 4 test images of 128x96 frames (the animal is ~21 px long)
    assert np.nanmean(err) < 10.0, np.nanmean(err)

    # all 150 frames of the video (130 never labeled) against the true key points
    scorer = analyze_videos(trained["config"], [str(Path(cfg["project_path"]) / "videos")], destfolder=str(tmp_path))
    video_pred = predictions_to_array(read_predictions(tmp_path / f"demo_mouse{scorer}.h5"))
    truth = read_ground_truth(trained["config"])
    err_all = np.sqrt(((video_pred[..., :2] - truth) ** 2).sum(-1)).mean()
    mean_pose = np.nanmean(labels[train_idx], axis=0)
    baseline_all = np.sqrt(((truth - mean_pose) ** 2).sum(-1)).mean()
    # measured ratio ~0.4; a network that learned nothing scores >= 1
    assert err_all < 0.6 * baseline_all, (err_all, baseline_all)


def test_stop_event_saves_and_resume_continues(tiny_project):
    from posenb.nn.snapshots import list_snapshots, load_snapshot
    from posenb.train.api import train_network

    stop = threading.Event()
    events = []

    def listener(ev):
        events.append(ev)
        if ev.kind == "display" and ev.iteration >= 10:
            stop.set()

    train_dir = train_network(
        tiny_project, maxiters=20, displayiters=5, saveiters=1000, callbacks=[listener], stop_event=stop,
        progress=False, **TINY
    )
    kinds = [e.kind for e in events]
    assert kinds[0] == "start" and kinds[-1] == "stopped"
    assert events[-1].iteration == 10 and events[-1].snapshot_path.endswith("snapshot-10.pt")
    assert [p.name for p in list_snapshots(train_dir)] == ["snapshot-10.pt"]
    state = load_snapshot(Path(train_dir) / "snapshot-10.pt")
    assert state["iteration"] == 10 and state["bodyparts"] == ["snout", "leftear", "rightear", "tailbase"]
    assert state["net_type"] == "efficientnet-lite0" and state["optimizer"]["state"]
    assert state["train_config"]["max_iters"] == 20

    events.clear()
    train_network(tiny_project, maxiters=20, displayiters=5, saveiters=1000, callbacks=[events.append],
                  progress=False, **TINY)
    assert events[0].kind == "start" and events[0].iteration == 10
    assert [e.iteration for e in events if e.kind == "display"] == [15, 20]
    assert events[-1].kind == "end" and events[-1].iteration == 20
    assert [int(r[0]) for r in _rows(train_dir)] == [5, 10, 15, 20]
    # seconds keep counting across the resume
    seconds = [r[3] for r in _rows(train_dir)]
    assert seconds == sorted(seconds)

    # already at max_iters: nothing to do, returns at once
    events.clear()
    train_network(tiny_project, maxiters=20, callbacks=[events.append], progress=False, **TINY)
    assert [e.kind for e in events] == ["start", "end"]


def test_max_snapshots_to_keep(tiny_project):
    from posenb.nn.snapshots import list_snapshots
    from posenb.train.api import train_network

    train_dir = train_network(tiny_project, maxiters=8, displayiters=4, saveiters=2, max_snapshots_to_keep=2,
                              progress=False, **TINY)
    assert [p.name for p in list_snapshots(train_dir)] == ["snapshot-6.pt", "snapshot-8.pt"]


_CHILD = textwrap.dedent(
    """
    import os, sys
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    sys.path.insert(0, {testdir!r})
    from trained_demo import LEARN_ITERS, TINY
    from posenb.train.api import train_network
    train_network({config!r}, maxiters=100000, displayiters=1, saveiters=2, max_snapshots_to_keep=3,
                  progress=False, **TINY)
    """
)


def test_kill_9_then_resume(tiny_project):
    """SIGKILL a training process right after it wrote snapshots: the newest snapshot loads, training resumes."""
    from posenb.nn.snapshots import list_snapshots, load_snapshot, snapshot_iteration
    from posenb.project.config import read_config
    from posenb.train.api import get_train_dir, train_network

    train_dir, _ = get_train_dir(read_config(tiny_project), 1, 0)
    code = _CHILD.format(testdir=str(Path(__file__).parent), config=tiny_project)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and len(list_snapshots(train_dir)) < 2:
            if proc.poll() is not None:
                pytest.fail(f"training process died: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.05)
        assert len(list_snapshots(train_dir)) >= 2, "no snapshots written in time"
        time.sleep(0.3)  # somewhere in the next iterations, possibly inside a save
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    snaps = list_snapshots(train_dir)
    last = snapshot_iteration(snaps[-1])
    assert load_snapshot(snaps[-1])["iteration"] == last  # intact
    events = []
    train_network(tiny_project, maxiters=last + 2, displayiters=1, saveiters=1000, callbacks=[events.append],
                  progress=False, **TINY)
    assert events[0].iteration == last
    assert events[-1].kind == "end" and events[-1].iteration == last + 2
    iters = [int(r[0]) for r in _rows(train_dir)]
    assert iters == sorted(set(iters)) and iters[-1] == last + 2  # no rows duplicated by the killed run


def test_snapshot_of_other_bodyparts_is_refused(tiny_project, trained):
    from posenb.errors import ModelError
    from posenb.nn.snapshots import load_snapshot, save_snapshot
    from posenb.project.config import read_config
    from posenb.train.api import get_train_dir, train_network

    state = load_snapshot(Path(trained["train_dir"]) / "snapshot-25.pt")
    state["bodyparts"] = ["nose", "tail"]
    train_dir, _ = get_train_dir(read_config(tiny_project), 1, 0)
    save_snapshot(train_dir, state)
    with pytest.raises(ModelError, match=r"trained on body parts \['nose', 'tail'\]"):
        train_network(tiny_project, maxiters=30, progress=False, **TINY)


def test_missing_training_set_is_a_clear_error(demo_project):
    from posenb.errors import ConfigError
    from posenb.train.api import train_network

    with pytest.raises(ConfigError, match="create_training_dataset"):
        train_network(demo_project, maxiters=1)


def test_stop_request_file_from_another_process_stops_training(tiny_project):
    """A dashboard in another kernel stops a run with follow.request_stop(train_dir)."""
    from posenb.train import follow
    from posenb.train.api import train_network

    seen = []

    def listener(ev):
        seen.append(ev)
        if ev.kind == "display":
            assert follow.read_run_marker(ev_dir[0])["pid"] == os.getpid()
            follow.request_stop(ev_dir[0])

    from posenb.project.config import read_config
    from posenb.train.api import get_train_dir

    ev_dir = [get_train_dir(read_config(tiny_project), 1, 0)[0]]
    train_dir = train_network(tiny_project, maxiters=50, displayiters=2, callbacks=[listener], progress=False, **TINY)
    assert seen[-1].kind == "stopped" and seen[-1].iteration < 50
    assert follow.read_run_marker(train_dir) is None and not (train_dir / follow.STOP_REQUEST).exists()


def test_resume_past_the_old_maxiters_does_not_raise_the_learning_rate(tiny_project):
    """Issue 15: training to 20, then resuming with maxiters 40, keeps the decayed learning rate."""
    from posenb.nn.snapshots import load_snapshot
    from posenb.train.api import train_network

    train_dir = train_network(tiny_project, maxiters=20, displayiters=5, saveiters=1000, progress=False, **TINY)
    first = _rows(train_dir)
    events = []
    train_network(tiny_project, maxiters=40, displayiters=5, saveiters=1000, callbacks=[events.append],
                  progress=False, **TINY)
    rows = _rows(train_dir)
    assert [int(r[0]) for r in rows] == [5, 10, 15, 20, 25, 30, 35, 40]
    lr_end = float(first[-1][2])
    later = [float(r[2]) for r in rows[4:]]
    assert max(later) <= lr_end * 1.0001, (lr_end, later)  # never back up
    assert events[0].kind == "start" and events[0].lr <= lr_end * 1.0001
    state = load_snapshot(Path(train_dir) / "snapshot-40.pt")
    assert state["scheduler"]["max_iters"] == 40 and state["scheduler"]["anchor"][0] == 20


def test_plateau_anneals_the_learning_rate_from_where_it_was(tiny_project, monkeypatch):
    """A loss plateau ends the run early, and the rate falls smoothly from its value at the plateau to the floor
    over the added iterations: no cliff (the cosine merely re-spanned over the shorter run would drop it ~4x in
    one step and skip the low-rate phase)."""
    from posenb.nn.snapshots import load_snapshot
    from posenb.train import budget
    from posenb.train.api import train_network

    monkeypatch.setattr(budget, "MIN_ITERS", 0)
    update = budget.RunBudget.update
    monkeypatch.setattr(budget.RunBudget, "update", lambda self, it, s, loss: update(self, it, s, 1.0))  # flat
    train_dir = train_network(tiny_project, maxiters=60, displayiters=2, saveiters=1000, plateau_stop=True,
                              progress=False, **TINY)
    rows = _rows(train_dir)
    end = 42 + int(budget.ANNEAL_SHARE * 60)  # the plateau is seen at the first check, 70 % of the run
    assert int(rows[-1][0]) == end
    lrs = {int(r[0]): float(r[2]) for r in rows}
    after = [lrs[i] for i in range(44, end, 2)]
    assert after[0] >= 0.7 * lrs[42], (lrs[42], after)  # no cliff
    assert all(b <= a for a, b in zip(after, after[1:]))  # then it only falls
    lr = load_snapshot(Path(train_dir) / f"snapshot-{end}.pt")["train_config"]["lr"]
    assert lrs[end] <= 0.05 * lr  # ... down to the floor (lr / 100) at the new end
    assert "plateau" in (Path(train_dir) / "train.log").read_text()


def test_deeplabcut_pose_cfg_trains_posenb_network(tiny_project, capsys):
    """A shuffle whose pose_cfg.yaml DeepLabCut wrote (net_type resnet_50) trains posenb's default network unless
    net_type is passed; the network trained is written back, so DeepLabCut names the predictions after it."""
    import yaml

    from posenb.errors import ModelError
    from posenb.nn.snapshots import load_snapshot, select_snapshot
    from posenb.project.config import read_config
    from posenb.train.api import train_network

    cfg = read_config(tiny_project)
    model = Path(cfg["project_path"]) / "dlc-models" / "iteration-0" / f"{cfg['Task']}{cfg['date']}-trainset80shuffle1"
    pose_path = model / "train" / "pose_cfg.yaml"
    pose = yaml.safe_load(pose_path.read_text())
    pose.pop("split_seed")  # as DeepLabCut writes it: no posenb keys, its template's network
    pose["net_type"] = "resnet_50"
    pose_path.write_text(yaml.safe_dump(pose))
    train_dir = train_network(tiny_project, maxiters=2, displayiters=1, saveiters=1000, progress=False, **TINY)
    out = capsys.readouterr().out
    assert "network efficientnet-lite0 (posenb's default" in out and "written by DeepLabCut for resnet_50" in out
    assert load_snapshot(select_snapshot(train_dir, -1))["net_type"] == "efficientnet-lite0"
    assert yaml.safe_load(pose_path.read_text())["net_type"] == "efficientnet-lite0"
    assert yaml.safe_load((model / "test" / "pose_cfg.yaml").read_text())["net_type"] == "efficientnet-lite0"
    with pytest.raises(ModelError, match="is a efficientnet-lite0 network but pose_cfg.yaml asks for mobilenet"):
        train_network(tiny_project, maxiters=3, progress=False, net_type="mobilenet_v2_0.35", **TINY)
    assert "network mobilenet_v2_0.35 (passed as net_type)" in capsys.readouterr().out


def test_worker_processes_give_the_same_batches(tiny_project, tmp_path):
    """Augmentation in DataLoader workers (as on CUDA) yields the same loss curve as in the training process:
    each item's augmentation is seeded by (seed, epoch, item), not by the process. train.log names the choice."""
    import shutil

    from posenb.train.api import train_network

    copy = tmp_path / "copy"
    shutil.copytree(Path(tiny_project).parent, copy, symlinks=True)
    kw = dict(maxiters=4, displayiters=1, saveiters=1000, progress=False, **TINY)
    in_process = train_network(tiny_project, **kw)
    assert "data loader: 0 worker processes (CPU: augmentation in the training process" in (
        in_process / "train.log"
    ).read_text()
    # in a child process: DataLoader workers fork, and a pytest process that forked them (with decord's and
    # torch's threads alive) was seen to crash much later in the run
    code = (
        "import sys; sys.path.insert(0, sys.argv[2]); from trained_demo import TINY; "
        "from posenb.train.api import train_network; "
        "train_network(sys.argv[1], num_workers=2, maxiters=4, displayiters=1, saveiters=1000, progress=False, **TINY)"
    )
    here = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-c", code, str(copy / "config.yaml"), here], capture_output=True, text=True,
                         env=env, timeout=600)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    with_workers = copy / in_process.relative_to(Path(tiny_project).parent)
    assert "data loader:" not in (with_workers / "train.log").read_text()  # set by the user: nothing to explain
    losses = [[r[1] for r in _rows(d)] for d in (in_process, with_workers)]
    assert len(losses[0]) == 4
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-4)
