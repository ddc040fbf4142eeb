"""Contract tests over every registered backbone and head (timm tests/test_models.py style), random init, tiny inputs."""

from __future__ import annotations

import math

import pytest
import torch

from posenb.errors import ModelError
from posenb.nn import build_model, get_backbone_spec, list_backbones, pose_loss
from posenb.nn.backbones import create_backbone
from posenb.nn.heads import HEADS

EXPECTED = {
    "resnet_50", "resnet_101", "resnet_152",
    "mobilenet_v2_1.0", "mobilenet_v2_0.75", "mobilenet_v2_0.5", "mobilenet_v2_0.35",
    "efficientnet-b0", "efficientnet-b1", "efficientnet-b2", "efficientnet-b3",
    "efficientnet-lite0", "efficientnet-lite1", "efficientnet-lite2",
}  # fmt: skip


def test_registry_lists_the_dlc_net_types():
    names = list_backbones()
    assert EXPECTED <= set(names)
    assert names == sorted(names)
    for name in names:
        spec = get_backbone_spec(name)
        assert spec.stride in (16, 32)
        assert spec.out_channels > 0


def test_unknown_net_type_is_a_model_error_listing_the_known_ones():
    with pytest.raises(ModelError, match="resnet_50") as info:
        build_model("resnet_49", 4, pretrained=False)
    assert "resnet_49" in str(info.value)


@pytest.mark.parametrize("net_type", list_backbones())  # every registered backbone, a new one included
def test_backbone_feature_map_matches_its_declared_stride_and_channels(net_type):
    torch.manual_seed(0)
    backbone = create_backbone(net_type, pretrained=False).eval()
    spec = get_backbone_spec(net_type)
    assert (backbone.stride, backbone.out_channels, backbone.net_type) == (
        spec.stride,
        spec.out_channels,
        net_type,
    )
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        features = backbone(x)
        pyramid = backbone.forward_features(x)
    assert features.shape == (1, spec.out_channels, math.ceil(64 / spec.stride), math.ceil(96 / spec.stride))
    assert set(pyramid) == {8, 16, spec.stride} == set(backbone.feature_channels)
    for stride, fmap in pyramid.items():
        assert fmap.shape == (
            1,
            backbone.feature_channels[stride],
            math.ceil(64 / stride),
            math.ceil(96 / stride),
        )
    assert torch.equal(pyramid[spec.stride], features)
    assert backbone.pretrained_source == "random"


@pytest.mark.parametrize("net_type", list_backbones())  # every registered backbone, a new one included
def test_pose_model_contract(net_type):
    """Output shapes at stride 8 (also for sizes that are not multiples of 32), no NaN, all parameters learn."""
    torch.manual_seed(0)
    k = 3
    model = build_model(net_type, k, pretrained=False)
    assert model.stride == 8.0 and model.net_type == net_type and model.num_joints == k
    model.train()
    x = torch.randn(2, 3, 67, 93)
    out = model(x)
    h, w = math.ceil(67 / 8), math.ceil(93 / 8)
    assert out["heatmap"].shape == (2, k, h, w)
    assert out["locref"].shape == (2, 2 * k, h, w)
    assert torch.isfinite(out["heatmap"]).all() and torch.isfinite(out["locref"]).all()

    targets = {
        "heatmap": torch.rand(2, k, h, w),
        "locref": torch.randn(2, 2 * k, h, w),
        "locref_mask": torch.ones(2, 2 * k, h, w),
        "weight": torch.ones(2, k),
    }
    loss = pose_loss(out, targets)["loss"]
    assert torch.isfinite(loss)
    loss.backward()
    no_grad = [
        n
        for n, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)
    ]
    assert no_grad == []
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("net_type", ["mobilenet_v2_0.35", "resnet_50"])  # stride 32 and 16
@pytest.mark.parametrize("head", sorted(HEADS))  # every registered head, a new one included
def test_every_head_on_both_backbone_strides(net_type, head):
    torch.manual_seed(0)
    model = build_model(net_type, 2, pretrained=False, head=head)
    assert model.config["head"] == head
    out = model(torch.randn(2, 3, 61, 77))
    assert out["heatmap"].shape == (2, 2, 8, 10) and out["locref"].shape == (2, 4, 8, 10)
    (out["heatmap"].sum() + out["locref"].sum()).backward()
    assert all(p.grad is not None for p in model.head.parameters())


def test_default_head_is_dlc_for_stride_16_and_fpn_for_stride_32():
    assert build_model("resnet_50", 1, pretrained=False).config["head"] == "heatmap"
    assert build_model("mobilenet_v2_0.35", 1, pretrained=False).config["head"] == "fpn"


def test_heatmap_bias_starts_at_the_background_prior():
    model = build_model("mobilenet_v2_0.35", 2, pretrained=False).eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 3, 64, 64))
    p = torch.sigmoid(out["heatmap"])
    assert torch.allclose(p, torch.full_like(p, 0.01), atol=0.005)
    assert out["locref"].abs().max() < 0.1


def test_channels_last_gives_the_same_outputs():
    torch.manual_seed(0)
    model = build_model("efficientnet-lite0", 2, pretrained=False).eval()
    x = torch.randn(1, 3, 64, 80)
    with torch.no_grad():
        ref = model(x)
        model = model.to(memory_format=torch.channels_last)
        out = model(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(ref["heatmap"], out["heatmap"], atol=1e-4)
    assert torch.allclose(ref["locref"], out["locref"], atol=1e-4)
