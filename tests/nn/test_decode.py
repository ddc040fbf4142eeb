"""decode(): argmax + locref, vectorised; round trip with make_targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posenb.data.targets import gaussian_sigma, make_targets
from posenb.nn import decode


def _targets_batch(keypoints, image_hw, **kw):
    t = [make_targets(kp, image_hw, **kw) for kp in keypoints]
    return (
        torch.from_numpy(np.stack([x["heatmap"] for x in t])),
        torch.from_numpy(np.stack([x["locref"] for x in t])),
    )


@pytest.mark.parametrize("mode", ["gaussian", "plateau"])
@pytest.mark.parametrize("image_hw", [(64, 64), (61, 90), (240, 320)])
def test_round_trip_from_targets_is_exact(mode, image_hw):
    rng = np.random.default_rng(0)
    h, w = image_hw
    kp = np.stack([rng.uniform(-0.5, w - 0.5, (3, 5)), rng.uniform(-0.5, h - 0.5, (3, 5))], axis=-1)
    kp[0, 0] = [-0.5, -0.5]  # corners and edges
    kp[1, 1] = [w - 0.5, h - 0.5]
    kp[2, 2] = [w - 0.5, 0.0]
    heatmap, locref = _targets_batch(kp, image_hw, mode=mode)
    poses = decode(heatmap, locref, stride=8, locref_std=7.2801, apply_sigmoid=False)
    assert poses.shape == (3, 5, 3) and poses.dtype == torch.float32
    np.testing.assert_allclose(poses[..., :2].numpy(), kp, atol=0.01)
    assert (poses[..., 2] > 0.85).all()  # target peak: exp(-d^2 / 2 sigma^2) with d <= 4 * sqrt(2)


def test_other_strides_and_locref_std():
    kp = np.array([[[13.3, 40.7], [50.0, 2.2]]])
    heatmap, locref = _targets_batch(kp, (48, 64), stride=4, locref_std=3.0, pos_dist_thresh=6)
    poses = decode(heatmap, locref, stride=4, locref_std=3.0, apply_sigmoid=False)
    np.testing.assert_allclose(poses[0, :, :2].numpy(), kp[0], atol=0.01)


def test_logits_are_turned_into_likelihoods():
    heatmap = torch.full((1, 2, 4, 5), -10.0)
    heatmap[0, 0, 2, 3] = 2.0
    heatmap[0, 1, 0, 1] = 0.0
    locref = torch.zeros(1, 4, 4, 5)
    locref[0, 0, 2, 3], locref[0, 1, 2, 3] = 0.5, -0.25  # joint 0: dx, dy at its argmax cell
    poses = decode(heatmap, locref, stride=8, locref_std=2.0)
    assert torch.allclose(
        poses[0, 0], torch.tensor([3 * 8 + 4 + 1.0, 2 * 8 + 4 - 0.5, torch.sigmoid(torch.tensor(2.0))])
    )
    assert torch.allclose(poses[0, 1], torch.tensor([1 * 8 + 4.0, 0 * 8 + 4.0, 0.5]))


def test_without_locref_gives_cell_centres_and_scores_are_clipped():
    heatmap = torch.zeros(2, 1, 3, 3)
    heatmap[0, 0, 1, 2] = 1.7
    heatmap[1, 0, 2, 0] = 0.4
    poses = decode(heatmap, None, stride=8, apply_sigmoid=False)
    assert poses[0, 0].tolist() == [20.0, 12.0, 1.0]
    assert torch.allclose(poses[1, 0], torch.tensor([4.0, 20.0, 0.4]))


def test_missing_joint_has_zero_likelihood():
    kp = np.array([[[20.0, 20.0], [np.nan, np.nan]]])
    heatmap, locref = _targets_batch(kp, (32, 32))
    poses = decode(heatmap, locref, apply_sigmoid=False)
    assert poses[0, 1, 2] == 0.0


def test_shape_errors():
    with pytest.raises(ValueError):
        decode(torch.zeros(2, 3, 4), None)
    with pytest.raises(ValueError):
        decode(torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4))


def _noisy_maps(seed: int, noise_px: float, *, h=9, w=11, stride=8, std=7.2801):
    """One joint at a known point; every cell within 1.5 cells proposes it with independent noise (px), scores
    falling with the distance (a trained network's maps, idealised). Returns heatmap logits, locref, the point."""
    rng = np.random.default_rng(seed)
    point = np.array([rng.uniform(20, w * stride - 20), rng.uniform(20, h * stride - 20)])
    cx, cy = np.meshgrid(np.arange(w) * stride + stride / 2, np.arange(h) * stride + stride / 2)
    d2 = (cx - point[0]) ** 2 + (cy - point[1]) ** 2
    score = np.exp(-d2 / (2 * 8.0**2))
    noise = rng.normal(0, noise_px, (2, h, w))
    locref = np.stack([(point[0] - cx + noise[0]) / std, (point[1] - cy + noise[1]) / std])
    logits = np.log(score / (1 - score + 1e-9) + 1e-9)
    return (
        torch.tensor(logits[None, None], dtype=torch.float32),
        torch.tensor(locref[None], dtype=torch.float32),
        point,
    )


def test_neighbourhood_average_is_closer_than_the_argmax_cell_alone():
    err = {0: [], 1: []}
    for seed in range(200):
        heatmap, locref, point = _noisy_maps(seed, noise_px=1.5)
        for radius in err:
            pose = decode(heatmap, locref, neighbourhood=radius)[0, 0]
            err[radius].append(np.hypot(*(pose[:2].numpy() - point)))
    # the argmax cell alone carries its 1.5 px noise; 3x3 proposals with independent noise average it down
    assert np.mean(err[1]) < 0.7 * np.mean(err[0])
    heatmap, locref, point = _noisy_maps(0, noise_px=0.0)
    for radius in (0, 1):  # noiseless proposals: both exact; likelihood = the argmax cell's score either way
        pose = decode(heatmap, locref, neighbourhood=radius)[0, 0]
        np.testing.assert_allclose(pose[:2].numpy(), point, atol=1e-3)
        assert pose[2] == torch.sigmoid(heatmap.max())


def test_neighbourhood_zero_is_deeplabcuts_argmax_decoding_and_disagreeing_cells_are_dropped():
    heatmap, locref, point = _noisy_maps(3, noise_px=1.0)
    n, k, h, w = heatmap.shape
    i, j = divmod(int(heatmap.reshape(-1).argmax()), w)
    dlc = [j * 8 + 4 + locref[0, 0, i, j].item() * 7.2801, i * 8 + 4 + locref[0, 1, i, j].item() * 7.2801]
    np.testing.assert_allclose(decode(heatmap, locref, neighbourhood=0)[0, 0, :2].numpy(), dlc, rtol=1e-6)
    wild = locref.clone()
    wild[0, :, i, j + 1] = 30.0  # a neighbour proposing a point ~220 px away (outside its trained region)
    silent = heatmap.clone()
    silent[0, 0, i, j + 1] = -1e4  # the same neighbour with no score at all
    np.testing.assert_allclose(
        decode(heatmap, wild)[0, 0, :2].numpy(), decode(silent, locref)[0, 0, :2].numpy(), atol=1e-5
    )
    assert np.hypot(*(decode(heatmap, wild)[0, 0, :2].numpy() - point)) < 1.5


@pytest.mark.parametrize("image_hw", [(64, 64), (61, 90), (240, 320)])
def test_gaussian_peak_of_the_score_map_alone_recovers_the_joint(image_hw):
    # the targets are exact Gaussians of known width: fitting one to the 3x3 log-scores finds the joint
    # without any locref, at the map's edges too
    rng = np.random.default_rng(1)
    h, w = image_hw
    kp = np.stack([rng.uniform(-0.5, w - 0.5, (2, 6)), rng.uniform(-0.5, h - 0.5, (2, 6))], axis=-1)
    kp[0, 0], kp[1, 1] = [-0.5, -0.5], [w - 0.5, h - 0.5]
    heatmap, _ = _targets_batch(kp, image_hw, pos_dist_thresh=17)
    sigma = gaussian_sigma(17)
    poses = decode(heatmap, None, apply_sigmoid=False, heatmap_sigma=sigma)
    np.testing.assert_allclose(poses[..., :2].numpy(), kp, atol=1e-3)
    cells = decode(
        heatmap, None, apply_sigmoid=False
    )  # without the fit: cell centres, up to 4 px * sqrt(2) off
    assert np.abs(cells[..., :2].numpy() - kp).max() > 1.0


def test_gaussian_peak_from_logits_and_its_average_with_locref():
    kp = np.array([[[37.3, 21.8], [80.6, 55.1]]])
    heatmap, locref = _targets_batch(kp, (96, 128), pos_dist_thresh=17)
    logits = torch.logit(heatmap.clamp(1e-6, 1 - 1e-6))
    exact = decode(logits, locref, heatmap_sigma=gaussian_sigma(17), peak_weight=0.5)
    np.testing.assert_allclose(exact[..., :2].numpy(), kp, atol=1e-3)
    # locref off by +2 px in x: the average with the score map's own estimate takes the peak's share of the error
    shifted = locref.clone()
    shifted[:, 0::2] += 2.0 / 7.2801
    sigma = gaussian_sigma(17)
    for weight, left in [(0.0, 2.0), (0.25, 1.5), (1.0, 0.0)]:
        got = decode(logits, shifted, heatmap_sigma=sigma, peak_weight=weight)[..., 0].numpy() - kp[..., 0]
        np.testing.assert_allclose(got, left, atol=1e-3)
    np.testing.assert_allclose(decode(logits, shifted)[..., 0].numpy() - kp[..., 0], 2.0, atol=1e-3)


def test_gaussian_peak_of_a_single_lit_cell_stays_in_that_cell():
    heatmap = torch.zeros(1, 1, 6, 6)
    heatmap[0, 0, 2, 3] = 1.0  # nothing around the argmax: no slope to fit, the ridge keeps the cell centre
    pose = decode(heatmap, None, apply_sigmoid=False, heatmap_sigma=11.3)[0, 0]
    assert torch.isfinite(pose).all()
    np.testing.assert_allclose(pose[:2].numpy(), [3 * 8 + 4, 2 * 8 + 4], atol=1e-3)
