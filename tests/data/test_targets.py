"""make_targets: DLC geometry (map size, cell centres), Gaussian / plateau maps, locref, masks, weights."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posenb.data.targets import keypoints_in_image, make_targets, map_size


def test_map_size_is_ceil_of_input_over_stride():
    assert map_size((480, 640), 8) == (60, 80)
    assert map_size((61, 90), 8) == (8, 12)
    t = make_targets(np.array([[5.0, 5.0]]), (61, 90))
    assert t["heatmap"].shape == (1, 8, 12)
    assert t["locref"].shape == t["locref_mask"].shape == (2, 8, 12)
    assert all(v.dtype == np.float32 for v in t.values())


def test_gaussian_peak_is_at_the_keypoint_cell_and_values_follow_the_formula():
    kp = np.array([[37.0, 21.0], [3.0, 60.0]])
    t = make_targets(kp, (64, 80), stride=8, pos_dist_thresh=17, mode="gaussian")
    hm = t["heatmap"]
    for k, (x, y) in enumerate(kp):
        i, j = np.unravel_index(hm[k].argmax(), hm[k].shape)
        assert (i, j) == (int(y // 8), int(x // 8))
    sigma = 2 * 17 / 3
    # cell (2, 4) has centre (36, 20): distance^2 to (37, 21) is 2
    assert hm[0, 2, 4] == pytest.approx(math.exp(-2 / (2 * sigma**2)), rel=1e-6)
    assert hm[0, 7, 0] == pytest.approx(
        math.exp(-((4 - 37) ** 2 + (60 - 21) ** 2) / (2 * sigma**2)), rel=1e-5
    )
    assert hm.max() <= 1.0 and hm.min() >= 0.0


def test_plateau_is_a_disk_of_pos_dist_thresh():
    kp = np.array([[40.0, 40.0]])
    t = make_targets(kp, (80, 80), stride=8, pos_dist_thresh=17, mode="plateau")
    ys, xs = np.mgrid[0:10, 0:10] * 8 + 4
    disk = (xs - 40.0) ** 2 + (ys - 40.0) ** 2 <= 17**2
    assert np.array_equal(t["heatmap"][0] == 1, disk)
    assert set(np.unique(t["heatmap"])) == {0.0, 1.0}
    # locref is supervised exactly on the disk, for dx and dy alike
    assert np.array_equal(t["locref_mask"][0] == 1, disk) and np.array_equal(t["locref_mask"][1] == 1, disk)


def test_locref_is_interleaved_offsets_that_reconstruct_the_keypoint():
    kp = np.array([[13.25, 42.5], [70.0, 9.75], [33.3, 33.3]])
    std = 7.2801
    t = make_targets(kp, (56, 88), stride=8, locref_std=std)
    h, w = t["heatmap"].shape[1:]
    cx = np.arange(w) * 8 + 4.0
    cy = np.arange(h) * 8 + 4.0
    for k, (x, y) in enumerate(kp):
        mask = t["locref_mask"][2 * k] == 1
        assert mask.sum() > 5
        # every supervised cell, not only the argmax, points back to the joint
        rx = (cx[None, :] + t["locref"][2 * k] * std)[mask]
        ry = (cy[:, None] + t["locref"][2 * k + 1] * std)[mask]
        np.testing.assert_allclose(rx, x, atol=1e-4)
        np.testing.assert_allclose(ry, y, atol=1e-4)
        assert (t["locref"][2 * k][~mask] == 0).all()


def test_missing_and_outside_joints_get_zero_weight_and_empty_maps():
    kp = np.array([[10.0, 10.0], [np.nan, np.nan], [-3.0, 10.0], [10.0, 64.0], [63.5, 63.5]])
    t = make_targets(kp, (64, 64))
    assert t["weight"].tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]
    for k in (1, 2, 3):
        assert t["heatmap"][k].max() == 0
        assert t["locref_mask"][2 * k : 2 * k + 2].max() == 0
        assert t["locref"][2 * k : 2 * k + 2].max() == 0
    assert np.isfinite(t["locref"]).all()


def test_keypoints_in_image_uses_the_pixel_centre_convention():
    kp = np.array([[-0.5, 0], [-0.51, 0], [63.5, 47.5], [63.51, 0], [0, 47.6], [np.nan, 1]])
    assert keypoints_in_image(kp, (48, 64)).tolist() == [True, False, True, False, False, False]


def test_tiny_radius_still_supervises_the_nearest_cell():
    t = make_targets(np.array([[21.0, 13.0]]), (32, 32), pos_dist_thresh=1.0, mode="plateau")
    assert t["heatmap"][0].sum() == 1 and t["heatmap"][0, 1, 2] == 1
    assert t["locref_mask"][0].sum() == 1


def test_unknown_mode():
    with pytest.raises(ValueError):
        make_targets(np.zeros((1, 2)), (8, 8), mode="disk")
