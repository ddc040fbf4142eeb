"""Suspicious frames on synthetic tracks: a planted swap, confidence drop, jump, gap and a close encounter are
found at their frames, and clean tracks give nothing."""

from __future__ import annotations

import numpy as np
import pytest

from posenb.track.suspicious import Suspicion, runs, suspicious_frames

NAMES = ["female", "male"]
OFFSETS = np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]])  # 3 parts on a line: body scale 20 px


def scene(T=60, noise=0.3, seed=0):
    """Two animals walking right at 2 px/frame, 100 px apart in y; (T, 2, 3, 2) poses, (T, 2, 3) likelihood."""
    rng = np.random.default_rng(seed)
    t = np.arange(T, dtype=float)
    centres = np.stack(
        [np.stack([10 + 2 * t, np.full(T, 50.0)], -1), np.stack([10 + 2 * t, np.full(T, 150.0)], -1)], 1
    )
    poses = centres[:, :, None, :] + OFFSETS[None, None] + rng.normal(0, noise, (T, 2, 3, 2))
    likelihood = 0.9 + 0.05 * rng.random((T, 2, 3))
    return poses, likelihood


def found(poses, likelihood, **kw):
    return [(s.frame, s.kind, s.individuals) for s in suspicious_frames(poses, likelihood, NAMES, **kw)]


def test_clean_tracks_have_nothing_suspicious():
    poses, like = scene()
    assert suspicious_frames(poses, like, NAMES) == []


def test_planted_swap_is_found_at_its_frame_and_not_as_jumps():
    poses, like = scene()
    poses[20:] = poses[20:, ::-1].copy()  # the tracker exchanged the animals from frame 20 on
    out = suspicious_frames(poses, like, NAMES)
    assert [(s.frame, s.kind, s.individuals) for s in out] == [(20, "swap", ("female", "male"))]
    assert out[0].score > 1 and "exchange" in out[0].detail
    # jumps alone: the swap frame is reported as two jumps when swaps are not looked for
    assert found(poses, like, kinds=("jump",)) == [(20, "jump", ("female",)), (20, "jump", ("male",))]


def test_planted_confidence_drop():
    poses, like = scene()
    like[30:35, 1] = 0.2  # the male's likelihood drops on frames 30-34
    out = suspicious_frames(poses, like, NAMES, pcutoff=0.6)
    assert [(s.frame, s.kind, s.individuals) for s in out] == [(30, "confidence", ("male",))]
    assert out[0].score == pytest.approx(1 - 0.2 / 0.6)
    assert "frames 30-34" in out[0].detail


def test_planted_jump_reports_the_jump_and_the_return():
    poses, like = scene()
    poses[40, 0] += (0.0, 30.0)  # one-frame glitch of the female, 30 px down (body scale 20: jump > 10 px)
    assert found(poses, like) == [(40, "jump", ("female",)), (41, "jump", ("female",))]
    out = suspicious_frames(poses, like, NAMES)
    assert out[0].score == pytest.approx(30 / 10, rel=0.1)


def test_two_animals_close_one_suspicion_at_the_closest_frame():
    poses, like = scene(T=50, noise=0.0)
    t = np.arange(50, dtype=float)
    poses[:, 1] = np.stack([110 - 2 * t, np.full(50, 50.0)], -1)[:, None] + OFFSETS  # male comes head-on
    out = suspicious_frames(poses, like, NAMES)
    # centres 100 - 4t apart: under 10 px (half the body scale) on frames 23-27, closest (0 px) at 25
    assert [(s.frame, s.kind, s.individuals) for s in out] == [(25, "close", ("female", "male"))]
    assert out[0].score == pytest.approx(1.0) and "frames 23-27" in out[0].detail
    assert found(poses, like, close=5) == [(25, "close", ("female", "male"))]
    assert found(poses, like, kinds=("close",), close=20)[0][0] == 25


def test_gap_reported_where_the_track_comes_back_dropouts_bridged():
    poses, like = scene()
    poses[10:15, 0] = np.nan
    poses[30:32, 1] = np.nan  # a 2-frame dropout: not a gap (min_gap=3)
    out = suspicious_frames(poses, like, NAMES)
    assert [(s.frame, s.kind, s.individuals) for s in out] == [(15, "gap", ("female",))]
    assert "5 missing" in out[0].detail
    assert found(poses, like, min_gap=2) == [(15, "gap", ("female",)), (32, "gap", ("male",))]


def test_swap_and_jump_across_a_dropout_are_found():
    poses, like = scene()
    poses[20:] = poses[20:, ::-1].copy()
    poses[19] = np.nan  # neither animal detected on the frame before the exchange
    poses[40, 0] += (0.0, 30.0)
    poses[39, 0] = np.nan
    assert found(poses, like) == [
        (20, "swap", ("female", "male")),
        (40, "jump", ("female",)),
        (41, "jump", ("female",)),
    ]


def test_real_tracker_output_crossing_animals():
    """The tracker's own tracks of two mice walking head-on past each other (noise, dropped detections): one
    close episode where they cross, nothing else; a swap planted in them is found at its frame."""
    from posenb.demo.synthetic_tracks import simulate_detections
    from posenb.track.api import track_detections

    det = simulate_detections(300, 2, seed=1, crossing=True, drop=0.03, noise=2.0)
    res = track_detections(det["poses"], 2, det["scores"], individuals=det["individuals"])
    poses, like = res.tracks[..., :2], res.tracks[..., 2]
    out = suspicious_frames(poses, like, res.names)
    centre = det["truth"][..., :2].mean(2)
    closest = int(np.argmin(np.hypot(*(centre[:, 0] - centre[:, 1]).T)))
    assert closest == 143
    assert [(s.frame, s.kind) for s in out] == [(closest, "close")]
    planted = res.tracks.copy()
    planted[200:] = planted[200:, ::-1]
    out = suspicious_frames(planted[..., :2], planted[..., 2], res.names)
    assert [(s.frame, s.kind) for s in out] == [(closest, "close"), (200, "swap")]


def test_several_plants_sorted_by_frame():
    poses, like = scene()
    poses[20:] = poses[20:, ::-1].copy()
    like[30:33, 0] = 0.1
    poses[45, 1] += (40.0, 0.0)
    out = suspicious_frames(poses, like, NAMES)
    assert [(s.frame, s.kind) for s in out] == [(20, "swap"), (30, "confidence"), (45, "jump"), (46, "jump")]
    assert all(isinstance(s, Suspicion) for s in out)


def test_bad_shapes_and_kinds_are_refused():
    poses, like = scene(T=5)
    with pytest.raises(ValueError, match="expected"):
        suspicious_frames(poses, like[:, :1], NAMES)
    with pytest.raises(ValueError, match="unknown kind"):
        suspicious_frames(poses, like, NAMES, kinds=("nope",))


def test_runs():
    assert runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]
    assert runs(np.array([0, 1, 1, 0, 1, 0, 0, 1], bool), bridge=1) == [(1, 5), (7, 8)]
    assert runs(np.zeros(3, bool)) == []
