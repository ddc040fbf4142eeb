"""Augmentation keeps keypoints on the image content; leaving keypoints become NaN; mirror swaps pairs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from posenb.data.augment import (
    DEFAULT_AUGMENTATION,
    build_augmentation,
    find_symmetric_pairs,
    rescale,
    to_original,
)
from posenb.errors import ConfigError

NO_PHOTOMETRIC = dict(brightness=0, contrast=0, blur=0, motion_blur=False, gaussian_noise=0)
COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def _dots(rng, hw=(120, 160), n=3):
    """Black image with one anti-aliased dot per keypoint, each in its own colour channel."""
    h, w = hw
    kp = np.stack([rng.uniform(10, w - 10, n), rng.uniform(10, h - 10, n)], axis=1)
    image = np.zeros((h, w, 3), np.uint8)
    for (x, y), color in zip(kp, COLORS):
        cv2.circle(image, (round(x * 16), round(y * 16)), 4 * 16, color, -1, cv2.LINE_AA, shift=4)
    return image, kp


def _centroid(channel, around, radius=9):
    """Intensity centroid of ``channel`` in a window around ``around`` (None if nothing there)."""
    x0, y0 = (int(round(v)) for v in around)
    h, w = channel.shape
    ys, xs = np.mgrid[
        max(0, y0 - radius) : min(h, y0 + radius + 1), max(0, x0 - radius) : min(w, x0 + radius + 1)
    ]
    m = channel[ys, xs].astype(float)
    if m.sum() < 50 * 255 / 10:
        return None
    return np.array([(m * xs).sum() / m.sum(), (m * ys).sum() / m.sum()])


@pytest.mark.parametrize("seed", range(12))
def test_keypoints_stay_on_the_same_image_content(seed):
    rng = np.random.default_rng(seed)
    image, kp = _dots(rng)
    params = dict(NO_PHOTOMETRIC, global_scale=0.8, rotation=30, rotratio=1.0, crop_size=(100, 90))
    out, out_kp, matrix = build_augmentation(params, seed=seed).apply(image, kp)
    assert out.shape == (90, 100, 3) and out.dtype == np.uint8
    assert out_kp.shape == (3, 2) and out_kp.dtype == np.float32
    for k in range(3):
        if np.isnan(out_kp[k]).any():  # NaN only when the joint really left the output
            x, y = kp[k] @ matrix[:, :2].T + matrix[:, 2]
            assert not (-0.5 <= x <= 99.5 and -0.5 <= y <= 89.5)
            continue
        x, y = out_kp[k]
        if not (5 < x < 95 and 5 < y < 85):  # dot partly cut by the border: centroid biased
            continue
        c = _centroid(out[..., k], out_kp[k])
        assert c is not None, "no dot at the augmented keypoint"
        np.testing.assert_allclose(c, out_kp[k], atol=0.35)


def test_many_augmentations_checked_at_once():
    """Across 40 random draws most dots are checked, and none is off."""
    checked = 0
    for seed in range(40):
        rng = np.random.default_rng(100 + seed)
        image, kp = _dots(rng)
        params = dict(
            NO_PHOTOMETRIC, global_scale=0.8, rotratio=0.5, mirror=True, crop_size=(128, 96)
        )  # no pairs
        out, out_kp = build_augmentation(params, seed=seed)(image, kp)
        for k in range(3):
            if np.isfinite(out_kp[k]).all() and 6 < out_kp[k, 0] < 122 and 6 < out_kp[k, 1] < 90:
                c = _centroid(out[..., k], out_kp[k])
                assert c is not None
                np.testing.assert_allclose(c, out_kp[k], atol=0.35)
                checked += 1
    assert checked > 60


def test_photometric_changes_keep_the_dot_under_the_keypoint():
    rng = np.random.default_rng(5)
    image, kp = _dots(rng)
    params = dict(apply_prob=1.0, global_scale=1.0, crop_size=(160, 120), rotratio=1.0, gaussian_noise=5)
    for seed in range(8):
        out, out_kp = build_augmentation(params, seed=seed)(image, kp)
        for k in range(3):
            if np.isfinite(out_kp[k]).all() and 8 < out_kp[k, 0] < 152 and 8 < out_kp[k, 1] < 112:
                x, y = np.round(out_kp[k]).astype(int)
                assert out[y, x, k] > out[..., k].mean() + 40  # still bright right there


def test_keypoints_leaving_the_image_become_nan_never_wrong():
    image = np.zeros((200, 300, 3), np.uint8)
    kp = np.array([[5.0, 5.0], [150.0, 100.0], [295.0, 195.0], [np.nan, np.nan]])
    params = dict(NO_PHOTOMETRIC, crop_size=(80, 60), global_scale=1.0, rotratio=1.0, rotation=45)
    aug = build_augmentation(params, seed=0)
    n_nan = 0
    for _ in range(50):
        _, out_kp, matrix = aug.apply(image, kp)
        assert np.isnan(out_kp[3]).all()  # missing stays missing
        expected = kp[:3] @ matrix[:, :2].T + matrix[:, 2]
        for k in range(3):
            inside = -0.5 <= expected[k, 0] <= 79.5 and -0.5 <= expected[k, 1] <= 59.5
            if inside:
                np.testing.assert_allclose(out_kp[k], expected[k], atol=1e-3)
            else:
                assert np.isnan(out_kp[k]).all()
                n_nan += 1
    assert n_nan > 50  # a small crop loses most joints most of the time


def test_mirror_swaps_left_and_right_names():
    rng = np.random.default_rng(3)
    image, kp = _dots(rng)  # joint 0 red, joint 1 green, joint 2 blue
    bodyparts = ["leftear", "rightear", "snout"]
    params = dict(NO_PHOTOMETRIC, mirror=True, bodyparts=bodyparts, rotratio=0, scale_jitter_lo=1,
                  scale_jitter_up=1, global_scale=1.0, crop_size=(160, 120))  # fmt: skip
    aug = build_augmentation(params, seed=0)
    assert aug.pairs == [(0, 1)]
    flipped = 0
    for _ in range(10):
        out, out_kp, matrix = aug.apply(image, kp)
        if matrix[0, 0] > 0:  # not mirrored: joints keep their dots
            np.testing.assert_allclose(_centroid(out[..., 0], out_kp[0]), out_kp[0], atol=0.35)
            continue
        flipped += 1
        np.testing.assert_allclose(out_kp[0, 0], 159 - kp[1, 0], atol=1e-3)  # x -> W - 1 - x
        # the new "leftear" sits on the old right ear's (green) dot and vice versa; the snout keeps its own
        np.testing.assert_allclose(_centroid(out[..., 1], out_kp[0]), out_kp[0], atol=0.35)
        np.testing.assert_allclose(_centroid(out[..., 0], out_kp[1]), out_kp[1], atol=0.35)
        np.testing.assert_allclose(_centroid(out[..., 2], out_kp[2]), out_kp[2], atol=0.35)
    assert 0 < flipped < 10


def test_find_symmetric_pairs():
    names = [
        "snout",
        "leftear",
        "rightear",
        "tailbase",
        "L_paw",
        "R_paw",
        "paw-l",
        "paw-r",
        "LeftHip",
        "RightHip",
    ]
    assert find_symmetric_pairs(names) == [(1, 2), (4, 5), (6, 7), (8, 9)]
    assert find_symmetric_pairs(["head", "tail"]) == []
    fly = ["head", "wingL", "wingR", "forelegL4", "forelegR4", "eyeL", "eyeR", "thoraxL", "HL", "HR"]
    assert find_symmetric_pairs(fly) == [
        (1, 2),
        (3, 4),
        (5, 6),
    ]  # SLEAP's names; "HL"/"HR": no lower-case stem


def test_deterministic_given_a_seed_or_generator():
    rng = np.random.default_rng(0)
    image, kp = _dots(rng)
    a = build_augmentation(dict(rotratio=1.0), seed=7)
    b = build_augmentation(dict(rotratio=1.0), seed=7)
    for _ in range(3):
        (ia, ka), (ib, kb) = a(image, kp), b(image, kp)
        assert np.array_equal(ia, ib) and np.array_equal(ka, kb, equal_nan=True)
    c = build_augmentation(dict(rotratio=1.0))
    i1, k1 = c(image, kp, rng=np.random.default_rng(42))
    i2, k2 = c(image, kp, rng=np.random.default_rng(42))
    assert np.array_equal(i1, i2) and np.array_equal(k1, k2, equal_nan=True)
    i3, _ = c(image, kp, rng=np.random.default_rng(43))
    assert not np.array_equal(i1, i3)


def test_evaluation_transform_is_rescale_and_pad():
    rng = np.random.default_rng(1)
    image, kp = _dots(rng)
    aug = build_augmentation(dict(global_scale=0.5, crop_size=(100, 70)), train=False)
    out, out_kp, matrix = aug.apply(image, kp)
    assert out.shape == (70, 100, 3)
    small = cv2.resize(image, (80, 60), interpolation=cv2.INTER_AREA)
    assert np.array_equal(out[:60, :80], small) and out[60:].max() == 0 and out[:, 80:].max() == 0
    np.testing.assert_allclose(out_kp, (kp + 0.5) * 0.5 - 0.5, atol=1e-4)
    np.testing.assert_allclose(to_original(out_kp, matrix), kp, atol=1e-3)


def test_rescale_and_to_original_round_trip():
    image = np.zeros((480, 640, 3), np.uint8)
    kp = np.array([[100.0, 200.0], [639.4, 0.0], [np.nan, 3.0]])
    small, skp, matrix = rescale(image, kp, 0.5)
    assert small.shape == (240, 320, 3)
    np.testing.assert_allclose(skp[0], [49.75, 99.75])
    back = to_original(skp, matrix)
    np.testing.assert_allclose(back[:2], kp[:2], atol=1e-9)
    assert np.isnan(back[2]).any()


def test_bad_parameters_are_config_errors():
    with pytest.raises(ConfigError):
        build_augmentation(dict(scale_jitter_lo=1.5, scale_jitter_up=1.0))
    with pytest.raises(ConfigError):
        build_augmentation(dict(crop_size="big"))
    with pytest.raises(ConfigError):
        build_augmentation(dict(crop_sampling="smart"))
    assert set(DEFAULT_AUGMENTATION) >= {"scale_jitter_lo", "scale_jitter_up", "rotation", "rotratio", "mirror",
                                          "crop_size", "global_scale"}  # fmt: skip


def test_one_global_scale_default_for_recipe_augmentation_and_training():
    from posenb.data.augment import DEFAULT_GLOBAL_SCALE, Augmentation
    from posenb.data.trainingset import pose_cfg_template
    from posenb.train.config import TrainConfig

    assert Augmentation({}).global_scale == DEFAULT_GLOBAL_SCALE
    assert TrainConfig().global_scale == DEFAULT_GLOBAL_SCALE
    assert pose_cfg_template()["global_scale"] == DEFAULT_GLOBAL_SCALE
