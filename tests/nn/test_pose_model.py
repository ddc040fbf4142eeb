"""PoseModel helpers: normalize, predict, config round trip, frozen BN, and a tiny real training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posenb.nn import PoseModel, build_model, pose_loss
from posenb.nn.normalize import IMAGENET_MEAN, IMAGENET_STD


def test_normalize_uint8_nhwc():
    images = np.random.default_rng(0).integers(0, 256, (2, 5, 7, 3), dtype=np.uint8)
    x = PoseModel.normalize(images)
    assert x.shape == (2, 3, 5, 7) and x.dtype == torch.float32
    ref = (images / 255.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(x.numpy(), ref.transpose(0, 3, 1, 2), atol=1e-5)
    cl = PoseModel.normalize(torch.from_numpy(images), channels_last=True)
    assert cl.is_contiguous(memory_format=torch.channels_last) and torch.equal(cl, x)


def test_predict_and_config_round_trip():
    torch.manual_seed(0)
    model = build_model("mobilenet_v2_0.35", 3, pretrained=False).eval()
    frames = np.random.default_rng(1).integers(0, 256, (2, 50, 70, 3), dtype=np.uint8)
    poses = model.predict(frames)
    assert poses.shape == (2, 3, 3)
    assert ((poses[..., 2] >= 0) & (poses[..., 2] <= 1)).all()
    clone = build_model(**model.config, pretrained=False)
    clone.load_state_dict(model.state_dict())
    clone.eval()
    assert torch.equal(clone.predict(frames), poses)
    assert model.config["net_type"] == "mobilenet_v2_0.35" and model.config["num_joints"] == 3


def test_freeze_bn_stats_keeps_running_statistics():
    model = build_model("mobilenet_v2_0.35", 1, pretrained=False, freeze_bn_stats=True)
    model.train()
    before = model.backbone.body.features[0][1].running_mean.clone()
    model(torch.randn(2, 3, 32, 32) * 3 + 1)
    assert torch.equal(before, model.backbone.body.features[0][1].running_mean)
    assert model.backbone.body.features[0][1].weight.requires_grad  # affine parameters still learn


@pytest.mark.slow
def test_lite0_learns_to_find_a_square():
    """A real (tiny) fine-tuning run: pretrained lite0 + FPN head locates a bright square on noise within 3 px
    after 40 iterations (the DLC head on stride 32 needs > 100)."""
    from posenb.data.targets import make_targets
    from posenb.nn import decode

    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    def batch(n):
        images = rng.integers(0, 60, (n, 64, 64, 3), dtype=np.uint8)
        kp = rng.uniform(8, 56, (n, 1, 2))
        for im, (x, y) in zip(images, kp[:, 0]):
            im[int(y) - 3 : int(y) + 4, int(x) - 3 : int(x) + 4] = 255
        kp = np.floor(kp) + 0.0  # centre of the 7x7 square
        t = [make_targets(k, (64, 64), pos_dist_thresh=8) for k in kp]
        targets = {key: torch.from_numpy(np.stack([x[key] for x in t])) for key in t[0]}
        return PoseModel.normalize(images), targets, kp

    model = build_model("efficientnet-lite0", 1, pretrained=True)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    for _ in range(40):
        x, targets, _ = batch(8)
        loss = pose_loss(model(x), targets)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x, _, kp = batch(16)
    with torch.no_grad():
        out = model(x)
    poses = decode(out["heatmap"], out["locref"], model.stride, model.locref_std).numpy()
    err = np.linalg.norm(poses[:, 0, :2] - kp[:, 0], axis=1)
    assert np.median(err) < 3.0
    assert np.median(poses[:, 0, 2]) > 0.5


def test_inputs_off_the_backbone_stride_are_padded_with_black():
    """A 70x50 frame gives the maps of the same frame padded with black to 96x64 (efficientnet-lite0's stride 32),
    cut to ceil(50 / 8) x ceil(70 / 8): its "SAME" paddings would otherwise shift the coarse maps against the fine
    ones (mirror-mouse-lp's 396x406 frames were predicted ~7 px off). The head gets random weights large enough
    for its output to depend on the image (a fresh head outputs nearly its constant prior)."""
    torch.manual_seed(0)
    model = build_model("efficientnet-lite0", 2, pretrained=True).eval()
    with torch.no_grad():
        for param in model.head.parameters():
            if param.ndim == 4:
                param.normal_(0, 0.05)
    frames = np.random.default_rng(2).integers(0, 256, (1, 50, 70, 3), dtype=np.uint8)
    padded = np.zeros((1, 64, 96, 3), np.uint8)
    padded[:, :50, :70] = frames
    with torch.inference_mode():
        out = model(model.normalize(frames))
        ref = model(model.normalize(padded))
        model.backbone.stride = 1  # no padding: the maps differ (the test can tell)
        unpadded = model(model.normalize(frames))
    assert out["heatmap"].shape[-2:] == (7, 9) and ref["heatmap"].shape[-2:] == (8, 12)
    torch.testing.assert_close(out["heatmap"], ref["heatmap"][..., :7, :9], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(out["locref"], ref["locref"][..., :7, :9], atol=1e-4, rtol=1e-4)
    assert (unpadded["heatmap"] - out["heatmap"]).abs().max() > 0.05
