"""The background-job registry: reattach to a running job, replay history, stop, errors, broken listeners."""

import threading

import pytest

from posenb.widgets import _background as bg


def test_job_lifecycle_and_reattach(tmp_path):
    go = threading.Event()

    def target(job):
        job.emit("start")
        go.wait(5)
        for i in range(3):
            job.emit(i)
        job.stop_event.wait(5)
        job.emit("stopped")
        return "folder"

    first = []
    job = bg.start_job(tmp_path / "m", target)
    job.add_listener(first.append)
    assert bg.get_job(tmp_path / "m" / ".." / "m") is job  # keyed by resolved path
    with pytest.raises(RuntimeError, match="already running"):
        bg.start_job(tmp_path / "m", target)
    go.set()
    # a second panel (page reload) reattaches and gets the history replayed, then live events
    for _ in range(100):
        if len(job.events) >= 4:
            break
        threading.Event().wait(0.01)
    second = []
    history = job.add_listener(second.append)
    assert history == ["start", 0, 1, 2]
    assert job in bg.running_jobs()
    assert bg.stop_job(tmp_path / "m", wait=5)
    assert job.result == "folder" and job.error is None
    assert first[:5] == ["start", 0, 1, 2, "stopped"]
    assert second == first
    assert first[5] == bg.JobFinished(error=None, result="folder")
    assert job not in bg.running_jobs()
    bg.forget_job(tmp_path / "m")
    assert bg.get_job(tmp_path / "m") is None


def test_errors_are_kept_and_bad_listeners_detached(tmp_path):
    done = []

    def target(job):
        job.emit(1)
        job.emit(2)
        raise ValueError("boom")

    calls = []

    def bad(event):
        calls.append(event)
        raise RuntimeError("closed panel")

    job = bg.Job("k", "train")
    job.add_listener(bad)
    job.emit(0)
    assert job.n_listeners == 0 and calls == [0]

    job = bg.start_job(tmp_path / "e", target, on_done=done.append)
    assert job.join(5)
    assert isinstance(job.error, ValueError) and "boom" in job.error_text
    assert done == [job]
    assert job.events[:2] == [1, 2]
    assert job.events[2].kind == "finished" and job.events[2].error == "ValueError: boom"
    # a finished job can be replaced by a new one
    job2 = bg.start_job(tmp_path / "e", lambda j: 3)
    assert job2.join(5) and job2.result == 3
