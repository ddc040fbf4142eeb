"""Training events and learning_stats.csv."""

from __future__ import annotations

import pytest

from posenb.train.events import EventBus, LearningStatsWriter, TrainingEvent


def test_stats_file_is_appended_and_trimmed_on_resume(tmp_path):
    path = tmp_path / "learning_stats.csv"
    w = LearningStatsWriter(path)
    for it in (10, 20, 30):
        w.write(it, 1.0 / it, 1e-3, it * 0.5)
    w.close()
    with open(path, "a") as fh:
        fh.write("40,0.0")  # torn last line of a killed run
    # resume from the snapshot at iteration 20: rows beyond it are dropped, seconds continue
    w = LearningStatsWriter(path, start_iteration=20)
    w.write(30, 0.03, 1e-4, 1.0)
    w.close()
    lines = path.read_text().splitlines()
    assert lines[0] == "iteration,loss,lr,seconds"
    assert [line.split(",")[0] for line in lines[1:]] == ["10", "20", "30"]
    assert float(lines[-1].split(",")[3]) == pytest.approx(10.0 + 1.0)


def test_failing_callback_is_dropped_with_a_warning():
    seen = []

    def bad(event):
        raise RuntimeError("listener bug")

    bus = EventBus([bad, seen.append])
    with pytest.warns(UserWarning, match="listener bug"):
        bus.emit(TrainingEvent("start", 0, 10))
    bus.emit(TrainingEvent("end", 10, 10))
    assert [e.kind for e in seen] == ["start", "end"]
    assert bus.callbacks == [seen.append]
