"""Tracking on synthetic animals with known truth: identities kept, gaps bridged, identities used when present."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from posenb.demo.synthetic_tracks import body_keypoints, simulate_detections
from posenb.track import track_detections, tracking_metrics
from posenb.track.stitch import stitch
from posenb.track.tracklets import build_tracklets


def _track(d: dict, **params):
    res = track_detections(
        d["poses"], len(d["individuals"]), d["scores"], d["identity"], d["individuals"], **params
    )
    truth = d["truth"].copy()
    truth[~d["detected"]] = np.nan  # what the detector saw: tracking cannot invent the rest
    return res, tracking_metrics(truth, res.tracks)


def _same_animal_frames(tracks: np.ndarray, truth: np.ndarray, k: int, tol: float = 10.0) -> int:
    """Frames where track k is on true animal k (mean part distance below tol px)."""
    d = np.linalg.norm(tracks[:, k, :, :2] - truth[:, k, :, :2], axis=-1).mean(-1)
    return int((d < tol).sum())


@pytest.mark.parametrize("n_animals,seed", [(2, 1), (3, 2)])
def test_clean_animals_keep_their_identity(n_animals, seed):
    d = simulate_detections(n_frames=300, n_animals=n_animals, seed=seed)
    assert not np.array_equal(d["poses"][:, 0, 0, 0], d["truth"][:, 0, 0, 0])  # detections come in any order
    res, m = _track(d)
    assert res.tracks.shape == (300, n_animals, 4, 3)
    assert m["switches"] == 0 and m["misses"] == 0 and m["false_positives"] == 0
    assert m["identity_recall"] == 1.0
    assert m["mean_error"] < 2.0  # the detections' noise (1 px sd per axis), nothing added


def test_noise_dropped_frames_and_parts():
    d = simulate_detections(n_frames=300, n_animals=3, seed=3, noise=3.0, drop=0.1, part_drop=0.2)
    _res, m = _track(d)
    assert m["switches"] == 0
    assert m["misses"] <= 0.01 * m["truth_animals"]  # at most single detections left out as too short
    assert m["identity_recall"] > 0.99


def test_animals_crossing_and_touching_do_not_swap():
    d = simulate_detections(n_frames=300, n_animals=2, crossing=True, noise=2.0)
    centres = d["truth"][..., :2].mean(2)
    assert np.linalg.norm(centres[:, 0] - centres[:, 1], axis=-1).min() < 0.3 * 60  # bodies overlap midway
    _res, m = _track(d)
    assert m["switches"] == 0 and m["misses"] == 0


def test_crossing_with_missing_detections_while_touching():
    d = simulate_detections(n_frames=300, n_animals=2, crossing=True, noise=2.0, gaps=[(140, 160)], drop=0.05)
    _res, m = _track(d)
    assert m["switches"] == 0
    assert m["identity_recall"] > 0.99


def test_false_detections_are_left_out():
    d = simulate_detections(n_frames=300, n_animals=2, seed=4, false_rate=0.3)
    res, m = _track(d)
    assert res.tracklets.n_tracklets > 50  # every false detection started a tracklet
    assert m["switches"] == 0 and m["misses"] == 0 and m["false_positives"] == 0


def test_many_false_detections_never_push_out_true_tracklets():
    # every single-frame false detection may join a track here; the long true tracklets must stay linked
    d = simulate_detections(
        n_frames=600, n_animals=2, seed=3, noise=2.0, drop=0.05, false_rate=0.3, gaps=[(300, 340)]
    )
    _res, m = _track(d, min_length=1)
    assert m["switches"] == 0 and m["misses"] == 0
    assert m["false_positives"] <= 5  # a few blips inside gaps at most


def test_sparse_detections_every_few_frames():
    # detections only every 5-15 frames (like labeled frames): tracklets are single detections, stitched by motion
    d = simulate_detections(n_frames=600, n_animals=2, seed=12)
    keep = np.zeros(600, bool)
    keep[np.cumsum(np.random.default_rng(0).integers(5, 16, 60))[:50]] = True
    d["poses"][~keep] = np.nan
    d["detected"] &= keep[:, None]
    _res, m = _track(d, min_length=1)
    assert m["switches"] == 0 and m["misses"] == 0


def test_recovery_after_gaps():
    d = simulate_detections(n_frames=300, n_animals=2, seed=5, gaps=[(100, 160)])
    res, m = _track(d)
    assert m["switches"] == 0 and m["misses"] == 0
    assert np.isnan(res.tracks[100:160]).all()  # no animal invented in the gap
    assert np.isfinite(res.tracks[160:, :, 0, 0]).all()


def _swap_during_gap(identity: float | None, seed: int = 0, T: int = 200, gap=(80, 130)) -> dict:
    """Two resting animals that trade places while out of sight: motion says 'same place', identity says 'swap'."""
    rng = np.random.default_rng(seed)
    L = 60.0
    left, right = np.array([150.0, 240.0]), np.array([450.0, 240.0])
    centre = np.zeros((T, 2, 2))
    centre[: gap[0], 0], centre[: gap[0], 1] = left, right
    centre[gap[0] :, 0], centre[gap[0] :, 1] = right, left
    truth_xy = np.stack([body_keypoints(centre[:, k], np.full(T, 0.5 * k), L) for k in range(2)], 1)
    poses = np.full((T, 2, 4, 3), np.nan)
    ident = np.full((T, 2, 2), np.nan) if identity is not None else None
    detected = np.ones((T, 2), bool)
    detected[gap[0] : gap[1]] = False
    for t in range(T):
        if not detected[t].any():
            continue
        order = rng.permutation(2)
        for slot, k in enumerate(order):
            poses[t, slot, :, :2] = truth_xy[t, k] + rng.normal(0, 1.0, (4, 2))
            poses[t, slot, :, 2] = 0.9
            if ident is not None:
                p = float(np.clip(rng.normal(identity, 0.15), 0.05, 0.95))
                ident[t, slot] = [p, 1 - p] if k == 0 else [1 - p, p]
    truth = np.concatenate([truth_xy, np.ones((T, 2, 4, 1))], -1)
    return {
        "poses": poses,
        "scores": None,
        "identity": ident,
        "individuals": ["a", "b"],
        "truth": truth,
        "detected": detected,
    }


def test_identities_decide_who_is_who_across_a_gap():
    d = _swap_during_gap(identity=0.8)
    res, m = _track(d)
    assert res.names == ["a", "b"]
    assert m["switches"] == 0 and m["misses"] == 0
    for k in range(2):  # track "a" follows animal a on both sides of the gap, though a moved to b's place
        assert _same_animal_frames(res.tracks, d["truth"], k) == int(d["detected"][:, k].sum())


def test_without_identities_motion_decides():
    d = _swap_during_gap(identity=None)
    _res, m = _track(d)
    assert m["switches"] == 2  # the honest answer without identity: each animal seems to stay where it was


def test_identities_name_the_tracks_over_a_long_gap_of_random_walks():
    d = simulate_detections(n_frames=400, n_animals=3, seed=6, gaps=[(100, 250)], identity=0.7, drop=0.05)
    res, m = _track(d)
    assert res.names == ["mouse1", "mouse2", "mouse3"]
    assert m["switches"] == 0
    for k in range(3):
        assert _same_animal_frames(res.tracks, d["truth"], k) == int(d["detected"][:, k].sum())


def test_fewer_tracks_than_animals_and_more():
    d = simulate_detections(n_frames=120, n_animals=3, seed=7)
    res = track_detections(d["poses"], 2, d["scores"], None, d["individuals"])
    assert res.names == ["ind1", "ind2"] and res.tracks.shape[1] == 2
    assert np.isfinite(res.tracks[..., 0, 0]).all()  # two of the three followed throughout
    res = track_detections(d["poses"], 4, d["scores"], None, d["individuals"])
    assert res.names == ["ind1", "ind2", "ind3", "ind4"]
    truth = d["truth"]
    assert tracking_metrics(truth, res.tracks)["misses"] == 0  # every animal in every frame is in some track


def test_tracklets_and_stitching_parameters():
    d = simulate_detections(n_frames=200, n_animals=2, seed=8, gaps=[(80, 120)])
    tk = build_tracklets(d["poses"], d["scores"])
    assert tk.n_tracklets >= 4 and len(tk.frame) == int(d["detected"].sum())
    assert all(np.all(np.diff(tk.frame[g]) > 0) for g in tk.groups())  # one detection per frame per tracklet
    assert len(stitch(tk, 2)) == 2
    chains = stitch(tk, 2, max_gap=10)  # the 40-frame gap may not be bridged: each track keeps one side
    assert all(
        max(tk.frame[tk.groups()[c[-1]]]) < 80 or min(tk.frame[tk.groups()[c[0]]]) >= 120 for c in chains
    )
    with pytest.raises(TypeError, match="unknown tracking parameter"):
        track_detections(d["poses"], 2, max_dist=3)


def test_tracking_1500_frames_takes_seconds():
    import time

    d = simulate_detections(n_frames=1500, n_animals=2, seed=9, drop=0.02, false_rate=0.05)
    t0 = time.process_time()
    _res, m = _track(d)
    assert time.process_time() - t0 < 30  # CPU seconds; about 1-2 on an idle core
    assert m["switches"] == 0


def test_no_animals_and_single_frames():
    empty = np.full((10, 2, 4, 3), np.nan)
    res = track_detections(empty, 2)
    assert res.tracks.shape == (10, 2, 4, 3) and np.isnan(res.tracks).all() and res.names == ["ind1", "ind2"]
    one = np.ones((1, 2, 4, 3))
    one[0, 1, :, :2] += 100
    assert np.isnan(track_detections(one, 2).tracks).all()  # a single-frame blip is not an animal by default
    res = track_detections(one, 2, min_length=1)
    np.testing.assert_array_equal(np.sort(res.tracks[0, :, 0, 0]), [1.0, 101.0])


def _named_share(res, d) -> float:
    """Share of detected animal-frames whose track (named after an individual) is on that individual."""
    with warnings.catch_warnings():  # frames where a track holds no part: NaN, not on anyone
        warnings.simplefilter("ignore", RuntimeWarning)
        dist = np.nanmean(np.linalg.norm(res.tracks[..., :2] - d["truth"][..., :2], axis=-1), -1)
    return float((dist < 20)[d["detected"]].mean())


def test_identities_keep_crowded_animals_apart():
    # three animals in an arena hardly bigger than they are: they touch and overlap all the time
    crowd = dict(n_frames=1000, n_animals=3, width=260, height=220, seed=0, noise=3, drop=0.05, part_drop=0.1)
    _res, m = _track(simulate_detections(**crowd))
    assert m["switches"] > 0  # motion alone is not enough here
    d = simulate_detections(**crowd, identity=0.75)
    res, m = _track(d)
    assert m["switches"] == 0 and m["misses"] <= 0.01 * m["truth_animals"]
    assert _named_share(res, d) > 0.98


def test_thousands_of_tracklets_stitch_in_seconds():
    # a poor detector: a third of the animals missed, a false animal in a third of the frames, no tracklet longer
    # than one frame; links are searched among the next tracklets only, and the flow is a linear program
    import time

    d = simulate_detections(n_frames=1500, n_animals=3, seed=3, noise=2.0, drop=0.3, false_rate=0.3)
    tk = build_tracklets(d["poses"], d["scores"], max_age=0)
    assert tk.n_tracklets > 1000
    t0 = time.process_time()
    chains = stitch(tk, 3, min_length=1)
    assert time.process_time() - t0 < 60  # about 2 CPU s
    assert len(chains) == 3


def test_short_tracklets_left_out_before_long_ones_keep_the_order():
    """Regression: single-frame blips that start first are left out (min_length=2); the kept tracklets'
    chains are ordered by their own start frames (an index mix-up crashed stitching on real detections)."""
    T, P = 30, 3
    poses = np.full((T, 3, P, 3), np.nan, np.float32)
    t = np.arange(T, dtype=np.float32)
    for a, (x0, y0) in enumerate([(20.0, 20.0), (80.0, 80.0)]):
        for p in range(P):
            poses[5:, a, p] = np.c_[x0 + t[5:] + 3 * p, np.full(T - 5, y0 + 2 * p), np.ones(T - 5)]
    for f in (0, 2, 4):  # blips far apart in space and time: one-frame tracklets, earlier than the animals
        poses[f, 2, :, :2] = 200.0 + 40 * f + np.arange(P)[:, None]
        poses[f, 2, :, 2] = 1.0
    res = track_detections(poses, 2)
    tracks = res.tracks
    assert np.isfinite(tracks[5:, :, :, :2]).all()
    xs = sorted(tracks[10, :, 0, 0].tolist())
    assert xs == pytest.approx([20 + 10, 80 + 10])
