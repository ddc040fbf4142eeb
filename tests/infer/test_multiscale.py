"""Test-time scales (posenb.infer.multiscale): a frame run at several input scales, key points averaged in frame
pixels; the labeler's suggestions use it. On the shared tiny trained demo project."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from posenb.errors import ConfigError
from posenb.infer.multiscale import (
    SUGGESTION_ANGLES,
    SUGGESTION_SCALES,
    check_scales,
    predict_multiscale,
    usable_angles,
)
from posenb.infer.predictor import load_predictor
from posenb.infer.suggest import LabelSuggester
from posenb.io.labels import labels_to_array, read_labels
from posenb.project.config import read_config


def _frames(config, n=6):
    cfg = read_config(config)
    folder = next(p for p in (Path(cfg["project_path"]) / "labeled-data").iterdir() if p.is_dir())
    df = read_labels(folder / f"CollectedData_{cfg['scorer']}.h5")
    rows = df.index[:n]
    frames = np.stack(
        [cv2.cvtColor(cv2.imread(str(Path(cfg["project_path"], *r))), cv2.COLOR_BGR2RGB) for r in rows]
    )
    return cfg, frames, labels_to_array(df, cfg["bodyparts"])[:n], [str(Path(*r)) for r in rows]


def test_one_scale_of_one_is_the_single_pass(trained):
    cfg, frames, _, _ = _frames(trained["config"])
    single, _ = load_predictor(cfg)
    assert single.test_scales is None
    assert np.array_equal(predict_multiscale(single, frames, (1.0,)), single.predict(frames))
    same, _ = load_predictor(cfg, test_scales=[1.0])  # (1.0,) means one pass
    assert same.test_scales is None


def test_scales_average_the_passes_in_frame_pixels(trained):
    cfg, frames, truth, _ = _frames(trained["config"])
    single, _ = load_predictor(cfg)
    multi, _ = load_predictor(cfg, test_scales=(1.1, 1.25))
    got = multi.predict(frames)
    h, w = frames.shape[1:3]
    gs = single.global_scale
    # each pass by hand: the frames resized to global_scale x s, mapped back to frame pixels, then the mean
    passes = []
    for s in (1.1, 1.25):
        size = (round(w * gs * s), round(h * gs * s))
        resized = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) for f in frames])
        passes.append(single.predict_resized(resized, (w, h)))
    np.testing.assert_allclose(got, np.mean(passes, axis=0), atol=1e-6)
    assert got.shape == (len(frames), single.num_joints, 3)
    # in frame pixels, as close to the labels as one pass is (128x96 frames, tiny model)
    one = single.predict(frames)
    err_multi = np.nanmedian(np.hypot(*(got[..., :2] - truth).transpose(2, 0, 1)))
    err_one = np.nanmedian(np.hypot(*(one[..., :2] - truth).transpose(2, 0, 1)))
    assert err_multi < 12 and err_multi < err_one + 3
    assert np.all((got[..., 2] >= 0) & (got[..., 2] <= 1))


def test_a_part_lost_at_one_scale_takes_the_other(trained, monkeypatch):
    cfg, frames, _, _ = _frames(trained["config"], n=2)
    pred, _ = load_predictor(cfg)
    real = pred.predict_resized
    calls = []

    def flaky(resized, full_size):
        out = real(resized, full_size)
        calls.append(out.copy())
        if len(calls) == 1:
            out[:, 0] = np.nan  # part 0 lost at the first scale
        return out

    monkeypatch.setattr(pred, "predict_resized", flaky)
    got = predict_multiscale(pred, frames, (1.1, 1.25))
    np.testing.assert_allclose(got[:, 0], calls[1][:, 0])
    np.testing.assert_allclose(got[:, 1:], (calls[0][:, 1:] + calls[1][:, 1:]) / 2)


@pytest.mark.parametrize("bad", [[], [0.0], [1.0, -2], ["x"], 5.0])
def test_bad_scales_are_refused(bad):
    with pytest.raises(ConfigError, match="test_scales"):
        check_scales(bad)


def test_the_labeler_suggestions_use_the_suggestion_scales(trained):
    cfg, frames, _, images = _frames(trained["config"], n=3)
    suggester = LabelSuggester(trained["config"])
    assert suggester.predictor.test_scales == SUGGESTION_SCALES
    multi, _ = load_predictor(cfg, test_scales=SUGGESTION_SCALES)
    expected = multi.predict(frames)
    pcutoff = float(cfg.get("pcutoff", 0.6))
    for image, want in zip(images, expected):
        got, source = suggester.suggest(image)
        assert source == "model"
        np.testing.assert_allclose(got[:, 2], want[:, 2], atol=1e-6)
        shown = want[:, 2] >= pcutoff
        np.testing.assert_allclose(got[shown, :2], want[shown, :2], atol=1e-6)
        assert np.isnan(got[~shown, :2]).all()
    one = LabelSuggester(trained["config"], test_scales=None)
    assert one.predictor.test_scales is None


class _DotFinder:
    """A stand-in predictor: part 0 is the brightest red pixel, part 1 the brightest green one (frame pixels,
    likelihood 1; NaN where the channel is dark). Records the frames it was given."""

    num_joints = 2

    def __init__(self):
        self.seen = []

    def predict_at(self, frames, scale=1.0):
        self.seen.append(frames.copy())
        out = np.full((len(frames), 2, 3), np.nan)
        for i, f in enumerate(frames):
            for k in range(2):
                if f[..., k].max() > 50:
                    y, x = np.unravel_index(np.argmax(f[..., k]), f.shape[:2])
                    out[i, k] = (x, y, 1.0)
        return out


def _dots(points=((30, 40), (70, 60)), size=(120, 100)):
    frame = np.zeros((size[1], size[0], 3), np.uint8)
    for k, (x, y) in enumerate(points):
        frame[y, x, k] = 255
    return frame


def test_rotated_passes_turn_about_the_animal_and_map_back():
    finder = _DotFinder()
    frame = _dots()
    got = predict_multiscale(finder, frame[None], (1.0,), angles=(-15.0, 15.0))
    assert len(finder.seen) == 3  # the unrotated pass, then one per angle
    np.testing.assert_allclose(got[0, :, :2], [[30, 40], [70, 60]], atol=1.0)
    centre = np.array([50.0, 50.0])  # the mean key point of the unrotated pass
    turns = []
    for seen in finder.seen[1:]:
        pts = _DotFinder().predict_at(seen)[0, :, :2]
        # rotation about the animal's centre: each dot keeps its distance to it and the pair turns as a whole
        np.testing.assert_allclose(
            np.hypot(*(pts - centre).T), np.hypot(*(np.array([[30, 40], [70, 60]]) - centre).T), atol=1.0
        )
        d = pts[1] - pts[0]
        turns.append(np.degrees(np.arctan2(d[1], d[0]) - np.arctan2(20, 40)))
    np.testing.assert_allclose(np.abs(turns), [15, 15], atol=1.5)  # whole-pixel dots: +-1 deg
    assert np.sign(turns[0]) != np.sign(turns[1])


def test_a_frame_without_key_points_gets_no_rotated_pass():
    finder = _DotFinder()
    frames = np.stack([_dots(), np.zeros_like(_dots())])
    got = predict_multiscale(finder, frames, (1.0,), angles=(15.0,))
    assert np.isnan(got[1]).all()
    np.testing.assert_allclose(got[0, :, :2], [[30, 40], [70, 60]], atol=1.0)
    assert len(finder.seen[1]) == 1  # only the first frame was rotated


@pytest.mark.parametrize(
    "trained_rotation, usable",
    [(70, (-15.0, 15.0)), (30, (-15.0, 15.0)), (25, ()), (0, ()), (None, ())],
)
def test_angles_stay_within_half_the_trained_rotation(trained_rotation, usable):
    assert usable_angles(SUGGESTION_ANGLES, trained_rotation) == usable
    assert usable_angles((-5, 0, 5), 10) == (-5.0, 5.0)


def test_the_labeler_rotates_as_far_as_the_model_was_trained(trained):
    import torch

    cfg, frames, _, images = _frames(trained["config"], n=2)
    multi, info = load_predictor(cfg, test_scales=SUGGESTION_SCALES)
    state = torch.load(info["snapshot"], map_location="cpu", weights_only=True)
    assert multi.train_rotation == state["train_config"]["rotation"] == 10
    # the default +-15 deg is beyond half of the demo model's +-10: no rotation (the existing test above holds)
    assert usable_angles(SUGGESTION_ANGLES, multi.train_rotation) == ()
    small = LabelSuggester(trained["config"], test_angles=(-5, 5))
    expected = predict_multiscale(multi, frames, SUGGESTION_SCALES, (-5.0, 5.0))
    pcutoff = float(cfg.get("pcutoff", 0.6))
    for image, want in zip(images, expected):
        got, _ = small.suggest(image)
        np.testing.assert_allclose(got[:, 2], want[:, 2], atol=1e-6)
        shown = want[:, 2] >= pcutoff
        np.testing.assert_allclose(got[shown, :2], want[shown, :2], atol=1e-6)
    plain = predict_multiscale(multi, frames, SUGGESTION_SCALES)
    assert not np.allclose(expected[..., :2], plain[..., :2])  # the rotated passes took part
