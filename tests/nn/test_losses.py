"""pose_loss: sigmoid CE / MSE score maps, masked Huber locref, per-joint weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posenb.data.targets import make_targets
from posenb.nn import PoseLoss, pose_loss


def _batch(kp, hw=(48, 64)):
    t = [make_targets(k, hw) for k in kp]
    return {key: torch.from_numpy(np.stack([x[key] for x in t])) for key in t[0]}


def _logit(p):
    p = p.clamp(1e-6, 1 - 1e-6)
    return torch.log(p / (1 - p))


def test_locref_loss_is_zero_for_perfect_offsets_and_ignores_unmasked_cells():
    targets = _batch([np.array([[10.0, 12.0], [40.0, 30.0]])])
    locref = targets["locref"].clone()
    locref[targets["locref_mask"] == 0] = 123.0  # garbage where nothing is supervised
    out = {"heatmap": _logit(targets["heatmap"]), "locref": locref}
    losses = pose_loss(out, targets)
    assert losses["locref"].item() == 0.0
    bumped = {"heatmap": out["heatmap"], "locref": targets["locref"] + 0.5 * targets["locref_mask"]}
    got = pose_loss(bumped, targets, locref_loss_weight=0.05)
    assert got["locref"].item() == pytest.approx(0.5 * 0.5**2)  # Huber, |error| < delta = 1
    assert got["loss"].item() == pytest.approx(got["heatmap"].item() + 0.05 * 0.125, rel=1e-5)
    mse = pose_loss(bumped, targets, locref_huber_loss=False)
    assert mse["locref"].item() == pytest.approx(0.25)


def test_bce_is_smallest_at_the_target_and_gradients_point_to_it():
    targets = _batch([np.array([[10.0, 12.0], [40.0, 30.0]])])
    best = pose_loss({"heatmap": _logit(targets["heatmap"]), "locref": targets["locref"]}, targets)["heatmap"]
    logits = torch.zeros_like(targets["heatmap"], requires_grad=True)
    worse = pose_loss({"heatmap": logits, "locref": targets["locref"]}, targets)
    assert worse["heatmap"] > best
    worse["loss"].backward()
    peak = targets["heatmap"] > 0.9
    assert (logits.grad[peak] < 0).all()  # raise the logit at the joint
    assert (logits.grad[targets["heatmap"] < 0.01] > 0).all()  # lower it far away


def test_mse_option():
    targets = _batch([np.array([[10.0, 12.0]])])
    out = {"heatmap": _logit(targets["heatmap"]), "locref": targets["locref"]}
    assert pose_loss(out, targets, heatmap_loss="mse")["heatmap"].item() < 1e-8
    with pytest.raises(ValueError):
        pose_loss(out, targets, heatmap_loss="focal")


def test_missing_joints_all_negative_or_ignored():
    targets = _batch([np.array([[10.0, 12.0], [np.nan, np.nan]])])
    assert targets["weight"].tolist() == [[1.0, 0.0]]
    good = _logit(targets["heatmap"])
    confident_missing = good.clone()
    confident_missing[:, 1] = 5.0  # a confident detection of the unlabelled joint
    out_good = {"heatmap": good, "locref": targets["locref"]}
    out_bad = {"heatmap": confident_missing, "locref": targets["locref"]}
    # default (DLC): an unlabelled joint is trained to all-negative, so the confident map costs
    assert pose_loss(out_bad, targets)["heatmap"] > pose_loss(out_good, targets)["heatmap"] + 1.0
    # weigh_only_present_joints: it is ignored
    a = pose_loss(out_bad, targets, weigh_only_present_joints=True)["heatmap"]
    b = pose_loss(out_good, targets, weigh_only_present_joints=True)["heatmap"]
    assert a.item() == pytest.approx(b.item())


def test_pose_loss_module_binds_options():
    targets = _batch([np.array([[10.0, 12.0]])])
    out = {"heatmap": torch.zeros_like(targets["heatmap"]), "locref": torch.zeros_like(targets["locref"])}
    a = PoseLoss(locref_loss_weight=1.0)(out, targets)
    b = pose_loss(out, targets, locref_loss_weight=1.0)
    assert a["loss"].item() == pytest.approx(b["loss"].item())
