"""Heatmap heads: backbone features -> ``K`` score maps + ``2K`` location-refinement maps at output stride 8.

Output channels: ``K`` score maps (logits, see :mod:`posenb.nn.model`) and ``2K`` location-refinement maps,
interleaved per joint like DLC (channel ``2j`` = dx, ``2j + 1`` = dy of joint ``j``, in units of ``locref_std``
pixels). A head's ``forward`` takes the backbone's ``forward_features`` dict ``{stride: map}`` and returns
``(heatmap, locref)``; the maps may be up to one cell larger than ``ceil(H / 8)`` (the model crops them).

``"heatmap"`` (:class:`HeatmapHead`, DLC's head)
    reads only the deepest map. From stride 16 (ResNet): one ``ConvTranspose2d(C, 3K, 3, stride=2)``, exactly
    DLC's ``part_pred`` and ``locref_pred`` (two layers on the same features = one layer with ``3K`` outputs).
    From stride 32: a 1x1 convolution to ``mid_channels`` + BN + ReLU and a learned 2x upsampling
    (``ConvTranspose2d(mid, mid, 4, stride=2)`` + BN + ReLU) first; reducing channels first keeps it cheap.
``"fpn"`` (:class:`HeatmapFPNHead`)
    a light feature-pyramid decoder: the deepest map reduced to ``mid_channels`` (1x1 conv), then per 2x step
    nearest upsampling + a 1x1 lateral projection of the backbone map at that stride, summed (FPN); at stride 8
    a depthwise-separable 3x3 smoothing and the final 3x3 convolution to ``3K``. The stride-8 / 16 skips give
    the score maps fine spatial detail from the first iterations: it trains much faster than ``"heatmap"`` on
    stride-32 backbones, for a few percent more compute.

Add a head: a class with ``__init__(feature_channels: dict[int, int], num_joints, in_stride, **kwargs)`` and the
``forward`` above, listed in :data:`HEADS`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["HeatmapHead", "HeatmapFPNHead", "HEADS", "build_head", "HEATMAP_PRIOR"]

#: initial score-map probability: the final bias starts at logit(HEATMAP_PRIOR), so training does not first spend
#: iterations pushing the (overwhelmingly negative) background down (focal-loss style prior initialisation)
HEATMAP_PRIOR = 0.01


def _init_final(final: nn.Module, num_joints: int) -> None:
    nn.init.normal_(final.weight, std=0.001)
    nn.init.zeros_(final.bias)
    with torch.no_grad():
        final.bias[:num_joints] = math.log(HEATMAP_PRIOR / (1 - HEATMAP_PRIOR))


def _init_convs(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


class HeatmapHead(nn.Module):
    """DLC's head on the deepest feature map: ``(N, C, h, w)`` at ``in_stride`` -> maps at stride 8.

    Parameters
    ----------
    feature_channels : ``{stride: channels}`` of the backbone (or the channel count of the deepest map).
    num_joints : K.
    in_stride : stride of the deepest map (8, 16 or 32).
    mid_channels : width of the upsampling trunk used for stride 32.
    """

    def __init__(self, feature_channels, num_joints: int, in_stride: int, mid_channels: int = 128):
        super().__init__()
        if in_stride not in (8, 16, 32):
            raise ValueError(f"in_stride must be 8, 16 or 32, got {in_stride}")
        c = feature_channels[in_stride] if isinstance(feature_channels, dict) else int(feature_channels)
        self.num_joints = num_joints
        self.in_stride = in_stride
        layers: list[nn.Module] = []
        if in_stride == 32:
            layers += [
                nn.Conv2d(c, mid_channels, 1, bias=False),
                nn.BatchNorm2d(mid_channels),
                nn.ReLU(inplace=True),
                nn.ConvTranspose2d(mid_channels, mid_channels, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(mid_channels),
                nn.ReLU(inplace=True),
            ]
            c = mid_channels
        self.trunk = nn.Sequential(*layers)
        k = 3 * num_joints
        if in_stride == 8:
            self.final = nn.Conv2d(c, k, 3, padding=1)
        else:
            self.final = nn.ConvTranspose2d(c, k, 3, stride=2, padding=1, output_padding=1)
        _init_convs(self.trunk)
        _init_final(self.final, num_joints)

    def forward(self, features) -> tuple[torch.Tensor, torch.Tensor]:
        """``features``: dict from ``Backbone.forward_features`` (or the deepest map) -> (heatmap, locref)."""
        x = features[self.in_stride] if isinstance(features, dict) else features
        y = self.final(self.trunk(x))
        return y[:, : self.num_joints], y[:, self.num_joints :]


def _conv_bn(c_in: int, c_out: int, k: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, k, padding=k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out)
    )


class HeatmapFPNHead(nn.Module):
    """Feature-pyramid head: deepest map + lateral skips at strides 16 and 8 -> maps at stride 8.

    Parameters
    ----------
    feature_channels : ``{stride: channels}`` from the backbone; must contain 8 and ``in_stride``.
    num_joints : K.
    in_stride : stride of the deepest map (16 or 32).
    mid_channels : width of the decoder.
    """

    def __init__(self, feature_channels: dict, num_joints: int, in_stride: int, mid_channels: int = 128):
        super().__init__()
        if (
            not isinstance(feature_channels, dict)
            or 8 not in feature_channels
            or in_stride not in feature_channels
        ):
            raise ValueError("HeatmapFPNHead needs feature_channels with strides 8 and in_stride")
        self.num_joints = num_joints
        self.in_stride = in_stride
        self.top = _conv_bn(feature_channels[in_stride], mid_channels)
        self.lateral_strides = [s for s in (16, 8) if s < in_stride and s in feature_channels]
        self.laterals = nn.ModuleDict(
            {str(s): _conv_bn(feature_channels[s], mid_channels) for s in self.lateral_strides}
        )
        self.smooth = nn.Sequential(
            _conv_bn(mid_channels, mid_channels, 3, groups=mid_channels),
            nn.ReLU(inplace=True),
            _conv_bn(mid_channels, mid_channels),
            nn.ReLU(inplace=True),
        )
        self.final = nn.Conv2d(mid_channels, 3 * num_joints, 3, padding=1)
        _init_convs(self)
        _init_final(self.final, num_joints)

    def forward(self, features: dict) -> tuple[torch.Tensor, torch.Tensor]:
        y = F.relu(self.top(features[self.in_stride]))
        for s in self.lateral_strides:
            lateral = self.laterals[str(s)](features[s])
            y = F.interpolate(y, scale_factor=2.0, mode="nearest")[
                ..., : lateral.shape[-2], : lateral.shape[-1]
            ]
            y = F.relu(y + lateral)
        y = self.final(self.smooth(y))
        return y[:, : self.num_joints], y[:, self.num_joints :]


HEADS = {"heatmap": HeatmapHead, "fpn": HeatmapFPNHead}


def build_head(name: str, feature_channels, num_joints: int, in_stride: int, **kwargs) -> nn.Module:
    """Build the registered head ``name`` (``"heatmap"`` or ``"fpn"``)."""
    try:
        cls = HEADS[name]
    except KeyError:
        raise ValueError(f"unknown head {name!r}; known: {sorted(HEADS)}") from None
    return cls(feature_channels, num_joints, in_stride, **kwargs)
