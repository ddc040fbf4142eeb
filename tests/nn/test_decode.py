"""decode(): argmax + locref, vectorised; round trip with make_targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posenb.data.targets import make_targets
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
