"""Carrying labels forward with optical flow, on textured synthetic images with a known motion."""

from __future__ import annotations

import numpy as np
import pytest

from posenb.frames.carry import carry_points, previous_labeled_frame


def _texture(h=120, w=160, seed=0) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (h, w), dtype=np.uint8)
    img = cv2.GaussianBlur(noise, (0, 0), 2.0)
    img = cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX)
    return np.repeat(img[..., None], 3, axis=2)


def test_points_follow_a_known_shift():
    a = _texture()
    b = np.roll(a, shift=(2, 3), axis=(0, 1))  # content moves 3 px right, 2 px down
    pts = np.array([[40.0, 50.0], [80.5, 60.25], [np.nan, np.nan], [100.0, 30.0]])
    out = carry_points(a, b, pts)
    assert np.isnan(out[2]).all()
    np.testing.assert_allclose(out[[0, 1, 3]], pts[[0, 1, 3]] + [3.0, 2.0], atol=0.2)


def test_points_that_leave_or_lose_texture_are_dropped():
    a = _texture()
    b = a.copy()
    b[:, :60] = 128  # the left part of the next frame is blank: nothing there to track
    pts = np.array([[30.0, 60.0], [120.0, 60.0]])
    out = carry_points(a, b, pts)
    assert np.isnan(out[0]).all()
    np.testing.assert_allclose(out[1], pts[1], atol=0.2)


def test_sizes_must_match():
    with pytest.raises(ValueError, match="sizes differ"):
        carry_points(_texture(), _texture(100, 100), np.zeros((1, 2)))


def test_previous_labeled_frame(tmp_path):
    folder = tmp_path / "labeled-data" / "vid"
    other = tmp_path / "labeled-data" / "other"
    labeled = [folder / "img010.png", folder / "img040.png", folder / "img052.png", other / "img049.png"]
    assert previous_labeled_frame(folder / "img050.png", labeled) == folder / "img040.png"
    assert previous_labeled_frame(folder / "img005.png", labeled) == folder / "img010.png"  # none before: after
    assert previous_labeled_frame(folder / "img100.png", labeled, max_gap=30) is None
    assert previous_labeled_frame(folder / "frame.png", labeled) is None
