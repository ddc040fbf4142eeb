"""posenb.train.follow: tail learning_stats.csv written by a fake trainer (partial lines, restarts, polling)."""

import math
import os
import threading
import time

import pytest

from posenb.train.follow import (
    StatsRow,
    StatsTail,
    follow_learning_stats,
    learning_stats_path,
    read_learning_stats,
    training_progress,
)

HEADER = "iteration,loss,lr,seconds\n"


def _row(i):
    return f"{i},{1.0 / i:.6f},0.0005,{0.1 * i:.3f}\n"


def test_path_resolution(tmp_path):
    assert learning_stats_path(tmp_path) == tmp_path / "train" / "learning_stats.csv"
    assert learning_stats_path(tmp_path / "train") == tmp_path / "train" / "learning_stats.csv"
    f = tmp_path / "x.csv"
    assert learning_stats_path(f) == f


def test_tail_reads_only_new_complete_lines(tmp_path):
    f = tmp_path / "train" / "learning_stats.csv"
    tail = StatsTail(tmp_path)
    assert tail.read_new() == []  # file not there yet
    f.parent.mkdir()
    with open(f, "w") as fh:
        fh.write(HEADER + _row(10) + _row(20) + "30,0.03")  # last line unfinished
        fh.flush()
        rows = tail.read_new()
        assert [r.iteration for r in rows] == [10, 20]
        assert rows[0] == StatsRow(10, 0.1, 0.0005, 1.0)
        assert tail.read_new() == []
        fh.write("3,0.0005,3.0\n" + _row(40))
        fh.flush()
        rows = tail.read_new()
    assert [r.iteration for r in rows] == [30, 40]
    assert rows[0].loss == pytest.approx(0.033)
    assert tail.restarted is False
    assert [r.iteration for r in read_learning_stats(tmp_path)] == [10, 20, 30, 40]


def test_tail_detects_replaced_file_and_skips_bad_lines(tmp_path):
    f = tmp_path / "learning_stats.csv"
    f.write_text(HEADER + _row(10) + _row(20) + _row(30))
    tail = StatsTail(f)
    assert len(tail.read_new()) == 3
    tmp = tmp_path / "new.csv"
    tmp.write_text(HEADER + _row(5) + "garbage,line\n" + "7,nan,0.001,0.5\n")
    os.replace(tmp, f)  # a new training in the same folder
    rows = tail.read_new()
    assert tail.restarted is True
    assert [r.iteration for r in rows] == [5, 7]
    assert math.isnan(rows[1].loss)
    assert tail.n_skipped == 1


def test_headerless_and_reordered_columns(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("10,0.5,0.01,2.0\n")
    assert read_learning_stats(f) == [StatsRow(10, 0.5, 0.01, 2.0)]
    f.write_text("seconds,iteration,lr,loss\n2.0,10,0.01,0.5\n")
    assert read_learning_stats(f) == [StatsRow(10, 0.5, 0.01, 2.0)]


def test_training_progress_rate_and_eta():
    assert training_progress([]) is None
    rows = [StatsRow(i, 1.0, 0.001, i / 50.0) for i in range(10, 110, 10)]  # 50 it/s
    p = training_progress(rows, max_iters=1000)
    assert p.iteration == 100
    assert p.iters_per_s == pytest.approx(50.0)
    assert p.eta_s == pytest.approx(900 / 50.0)
    # a resume resets the clock: rows of the earlier run are not mixed in
    resumed = rows + [StatsRow(110, 1.0, 0.001, 0.5), StatsRow(120, 1.0, 0.001, 1.5)]
    assert training_progress(resumed, max_iters=200).iters_per_s == pytest.approx(10.0)
    assert training_progress(rows).eta_s is None


def test_follow_a_fake_writer(tmp_path):
    """A writer thread appends rows (sometimes half a line) while follow_learning_stats polls."""
    f = tmp_path / "model" / "train" / "learning_stats.csv"
    received, restarts = [], []
    stop = threading.Event()

    def writer():
        time.sleep(0.05)
        f.parent.mkdir(parents=True)
        with open(f, "w") as fh:
            fh.write(HEADER)
            for i in range(1, 31):
                line = _row(i * 10)
                fh.write(line[:4])
                fh.flush()
                time.sleep(0.003)
                fh.write(line[4:])
                fh.flush()
                time.sleep(0.005)

    def on_rows(rows, restarted):
        received.extend(rows)
        restarts.append(restarted)

    w = threading.Thread(target=writer)
    w.start()
    t = threading.Thread(target=follow_learning_stats, args=(tmp_path / "model", on_rows, stop, 0.01, 300))
    t.start()
    w.join()
    t.join(5)
    assert not t.is_alive()  # ended by until_iteration
    assert [r.iteration for r in received] == list(range(10, 310, 10))
    assert len(restarts) > 1  # delivered incrementally, in several polls
    assert not any(restarts)


def test_follow_stops_on_event(tmp_path):
    stop = threading.Event()
    t = threading.Thread(target=follow_learning_stats, args=(tmp_path, lambda r, s: None, stop, 0.01))
    t.start()
    stop.set()
    t.join(2)
    assert not t.is_alive()


def test_run_marker_and_stop_request(tmp_path):
    import json
    import os
    import socket
    import subprocess
    import sys

    from posenb.train.follow import (
        RUN_MARKER,
        clear_run_marker,
        read_run_marker,
        request_stop,
        training_active,
        watch_stop_request,
        write_run_marker,
    )

    train = tmp_path / "train"
    train.mkdir()
    assert read_run_marker(train) is None and not training_active(train)
    write_run_marker(train, config="c.yaml")
    info = read_run_marker(train)
    assert info["pid"] == os.getpid() and info["config"] == "c.yaml"
    assert training_active(train)
    clear_run_marker(train)
    assert read_run_marker(train) is None
    # a marker left by a process that died is stale
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    marker = {"pid": int(dead.stdout), "host": socket.gethostname(), "started": 0}
    (train / RUN_MARKER).write_text(json.dumps(marker))
    assert read_run_marker(train) is None
    # a log written just now counts as an active training (a tool that writes no marker)
    (train / "learning_stats.csv").write_text(HEADER + _row(10))
    assert training_active(train) and not training_active(train, idle_s=-1)
    # the stop request reaches the training's stop_event
    stop, done = threading.Event(), threading.Event()
    t = threading.Thread(target=watch_stop_request, args=(train, stop, done, 0.01))
    t.start()
    time.sleep(0.05)
    assert not stop.is_set()
    request_stop(train)
    t.join(2)
    assert stop.is_set() and not t.is_alive()


def test_follow_until_callback(tmp_path):
    f = tmp_path / "learning_stats.csv"
    f.write_text(HEADER + _row(10))
    calls = []
    got = []
    stop = threading.Event()

    def until():
        calls.append(1)
        if len(calls) == 2:
            with open(f, "a") as fh:
                fh.write(_row(20))
            return True
        return False

    n = follow_learning_stats(f, lambda rows, r: got.extend(rows), stop, 0.01, until=until)
    assert n == 2 and [r.iteration for r in got] == [10, 20]  # one last read after until() said stop
