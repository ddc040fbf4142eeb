"""Test-time scales (posenb.infer.multiscale): a frame run at several input scales, key points averaged in frame
pixels; the labeler's suggestions use it. On the shared tiny trained demo project."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from posenb.errors import ConfigError
from posenb.infer.multiscale import SUGGESTION_SCALES, check_scales, predict_multiscale
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
