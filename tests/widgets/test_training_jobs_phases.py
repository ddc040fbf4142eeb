"""The training monitor's follower on a training of two networks (a multi-animal project: centroid, then pose).

A fake trainer in a thread does what posenb.train.ma_api does (posenb.train.follow.marked_run: the run marker names
the phase and its learning_stats.csv); the follower (the job the dashboard runs to follow a training of another
kernel or a terminal) must show the centroid model's curve, then the pose model's, then end.
"""

import threading
import time

from posenb.train import follow
from posenb.widgets._training_jobs import follow_target


class _Job:
    """What follow_target uses of a background job: emit() and stop_event."""

    def __init__(self):
        self.events, self.stop_event = [], threading.Event()

    def emit(self, event):
        self.events.append(event)


def _write_rows(path, iterations, loss0):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        if fh.tell() == 0:
            fh.write("iteration,loss,lr,seconds\n")
        for i in iterations:
            fh.write(f"{i},{loss0 / i:.5f},0.001,{i / 10:.1f}\n")
            fh.flush()
            time.sleep(0.01)


def test_follower_moves_from_the_centroid_log_to_the_pose_log(tmp_path):
    train_dir = tmp_path / "model" / "train"
    train_dir.mkdir(parents=True)
    centroid_log, pose_log = train_dir / "centroid" / follow.STATS_FILE, train_dir / follow.STATS_FILE
    ready, go = threading.Event(), threading.Event()

    def trainer():
        with follow.marked_run(train_dir, threading.Event(), shuffle=1, multianimal=True) as phase:
            phase(phase="centroid", max_iters=50, stats=str(centroid_log))
            ready.set()
            go.wait(10)
            _write_rows(centroid_log, range(10, 60, 10), 5.0)
            time.sleep(0.2)
            phase(phase="pose", max_iters=30, stats=str(pose_log))
            _write_rows(pose_log, range(10, 40, 10), 3.0)
            time.sleep(0.2)

    t = threading.Thread(target=trainer)
    t.start()
    assert ready.wait(10)
    assert follow.training_active(train_dir) and follow.run_stats_path(train_dir) == centroid_log
    job = _Job()
    follower = threading.Thread(target=follow_target(train_dir.parent, poll_s=0.02), args=(job,))
    follower.start()
    go.set()
    t.join(20)
    follower.join(20)
    assert not follower.is_alive()
    kinds = [(e.kind, e.iteration, e.max_iters) for e in job.events if e.kind != "snapshot"]
    assert kinds == [
        *[("display", i, 50) for i in range(10, 60, 10)],
        ("start", 0, 30),  # the pose model's curve starts afresh
        *[("display", i, 30) for i in range(10, 40, 10)],
        ("end", 30, 0),
    ]
    pose_losses = [e.loss for e in job.events if e.kind == "display" and e.max_iters == 30]
    assert pose_losses == [3.0 / 10, 3.0 / 20, 3.0 / 30]
    assert follow.read_run_marker(train_dir) is None and follow.run_stats_path(train_dir) == pose_log
