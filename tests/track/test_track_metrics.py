"""Tracking metrics: known answers, and the same counts as the motmetrics package (CLEAR-MOT)."""

from __future__ import annotations

import numpy as np
import pytest

from posenb.demo.synthetic_tracks import simulate_detections
from posenb.track import track_detections, tracking_metrics
from posenb.track.metrics import frame_distances


def _two_animals(T=20):
    truth = np.full((T, 2, 3, 2), np.nan)
    truth[:, 0] = np.array([[0, 0], [10, 0], [20, 0]])[None] + np.arange(T)[:, None, None] * [1, 0]
    truth[:, 1] = truth[:, 0] + [0, 100]
    return truth


def test_known_answers():
    truth = _two_animals()
    tracked = truth + 0.5
    m = tracking_metrics(truth, tracked, max_distance=20)
    assert (m["switches"], m["misses"], m["false_positives"], m["matches"]) == (0, 0, 0, 40)
    assert m["mota"] == 1.0 and m["identity_recall"] == 1.0
    assert m["mean_error"] == pytest.approx(np.sqrt(0.5)) and m["bodypart_error"][2] == pytest.approx(
        np.sqrt(0.5)
    )
    swapped = tracked.copy()
    swapped[10:] = swapped[10:, ::-1]  # the tracks trade animals at frame 10
    m = tracking_metrics(truth, swapped, max_distance=20)
    assert m["switches"] == 2 and m["identity_recall"] == 0.5
    gone = tracked.copy()
    gone[5:8, 1] = np.nan  # animal 2 missed for 3 frames
    gone[12, 0] += 50  # a track far off: a miss and a false positive
    m = tracking_metrics(truth, gone, max_distance=20, bodyparts=["a", "b", "c"])
    assert (m["misses"], m["false_positives"], m["switches"]) == (4, 1, 0)
    assert set(m["bodypart_error"]) == {"a", "b", "c"}
    with pytest.raises(ValueError, match="differ"):
        tracking_metrics(truth, tracked[:5])


def test_partial_parts_and_distances():
    truth = _two_animals(3)
    tracked = truth.copy()
    tracked[:, 0, :2] = np.nan  # only the last part of track 1 is visible: matched on it
    D = frame_distances(truth[0], tracked[0])
    assert D[0, 0] == 0 and D[1, 1] == 0 and D[0, 1] == pytest.approx(100)
    assert tracking_metrics(truth, tracked, max_distance=20)["misses"] == 0


def test_same_counts_as_motmetrics():
    mm = pytest.importorskip("motmetrics")
    d = simulate_detections(
        n_frames=200, n_animals=3, seed=11, noise=4, drop=0.15, false_rate=0.2, gaps=[(80, 95)]
    )
    res = track_detections(d["poses"], 3, d["scores"], None, d["individuals"], max_age=0, min_length=1)
    truth, tracked = d["truth"], res.tracks.copy()
    tracked[120:, [0, 1]] = tracked[120:, [1, 0]]  # switches to count
    gate = 25.0
    mine = tracking_metrics(truth, tracked, max_distance=gate)
    acc = mm.MOTAccumulator(auto_id=True)
    for t in range(len(truth)):
        g = np.flatnonzero(np.isfinite(truth[t, :, :, 0]).any(-1))
        h = np.flatnonzero(np.isfinite(tracked[t, :, :, 0]).any(-1))
        D = frame_distances(truth[t, g], tracked[t, h]) if len(g) and len(h) else np.zeros((len(g), len(h)))
        acc.update(list(g), list(h), np.where(D <= gate, D, np.nan))
    theirs = mm.metrics.create().compute(acc, metrics=["num_switches", "num_misses", "num_false_positives"])
    assert mine["switches"] >= 2
    assert mine["switches"] == int(theirs["num_switches"].iloc[0])
    assert mine["misses"] == int(theirs["num_misses"].iloc[0])
    assert mine["false_positives"] == int(theirs["num_false_positives"].iloc[0])
