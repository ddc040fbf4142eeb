"""``PoseModel`` (backbone + heatmap head) and ``build_model``.

Heads (:mod:`posenb.nn.heads`): stride-16 backbones (ResNet) get DLC's head (one transposed convolution);
stride-32 backbones (MobileNetV2, EfficientNet, the default efficientnet-lite0) get the ``"fpn"`` head, whose
skips from the stride-8 and stride-16 maps make training converge several times faster on a CPU (openfield,
lite0 at global_scale 0.5, batch 8: test RMSE 6.8 px after 64 iterations on 256x256 crops with it, vs ~77 px,
i.e. nothing learnt yet, after 82 iterations on 400x300 crops with DLC's head).

Output convention (chosen for fast training on a CPU, documented once here):

- ``heatmap`` are **logits**; the likelihood of a joint is ``sigmoid(logit)`` at the argmax cell
  (:func:`posenb.nn.decode` with ``apply_sigmoid=True``, the default).
- Training targets are DLC 3's Gaussians (``scmap_type="gaussian"``) and the loss is DLC 2's sigmoid cross-entropy
  (:func:`posenb.nn.pose_loss`). Cross-entropy on logits gives the positive cells a strong gradient from the
  first iteration (MSE on raw outputs, DLC 3's choice, starts with near-zero gradients there and needs ~200
  epochs), the final bias starts at the background prior (``heatmaps.HEATMAP_PRIOR``), and Gaussian targets make
  the argmax cell the one nearest the joint (plateau targets leave the argmax anywhere in a disk and lean on
  locref). The likelihood then reads like DLC's: ~0.9-1 on a clearly visible joint, ~0 where absent.
- ``locref`` are DLC's interleaved offsets ``(dx, dy)`` per joint in units of ``locref_std`` (7.2801 px).
- Maps are ``(ceil(H / 8), ceil(W / 8))`` for an ``(H, W)`` input: ``model.stride == 8.0``.

Input: ``(N, 3, H, W)`` float RGB normalised with ImageNet mean / std (:meth:`PoseModel.normalize`), any H, W.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from posenb.nn.backbones import Backbone, create_backbone
from posenb.nn.decode import decode
from posenb.nn.heads import build_head
from posenb.nn.normalize import IMAGENET_MEAN, IMAGENET_STD, normalize_images

__all__ = ["PoseModel", "build_model", "default_head"]


def _black(x: torch.Tensor) -> torch.Tensor:
    """``(1, 3, 1, 1)``: a black pixel after ImageNet normalisation (what training crops are padded with)."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device)
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device)
    return (-mean / std).view(1, 3, 1, 1)


def default_head(backbone_stride: int) -> str:
    """``"heatmap"`` (DLC's single deconvolution) for stride-16 backbones, ``"fpn"`` for stride-32 ones."""
    return "heatmap" if backbone_stride <= 16 else "fpn"


class PoseModel(nn.Module):
    """Backbone + heatmap head.

    Attributes
    ----------
    stride : 8.0, output stride of the maps.
    net_type : registry name of the backbone.
    num_joints : K.
    locref_std : scale of the locref outputs in pixels (``locref_stdev``).
    heatmap_sigma : standard deviation in input pixels of the Gaussian score maps it was trained on
        (:func:`posenb.data.targets.heatmap_sigma`), used in decoding (:func:`~posenb.nn.decode`); None: plateau
        targets or not known (no peak fit).
    peak_weight : weight of the score map's peak against locref in decoding, chosen on the training images at the
        end of training (:mod:`posenb.train.peak_weight`); 0: locref alone (older snapshots).
    config : the keyword arguments that rebuild this architecture: ``build_model(**model.config,
        pretrained=False)`` then ``load_state_dict`` (what snapshots store).
    freeze_bn_stats : keep BatchNorm running statistics fixed during training (DLC 3's option; useful with
        batches of 1-2 images).
    """

    stride: float = 8.0

    def __init__(
        self,
        backbone: Backbone,
        num_joints: int,
        *,
        locref_std: float = 7.2801,
        heatmap_sigma: float | None = None,
        peak_weight: float = 0.0,
        head: str | None = None,
        mid_channels: int = 128,
        freeze_bn_stats: bool = False,
    ):
        super().__init__()
        if num_joints < 1:
            raise ValueError(f"num_joints must be >= 1, got {num_joints}")
        head = head or default_head(backbone.stride)
        self.backbone = backbone
        self.head = build_head(
            head, backbone.feature_channels, num_joints, backbone.stride, mid_channels=mid_channels
        )
        self.net_type = backbone.net_type
        self.num_joints = int(num_joints)
        self.locref_std = float(locref_std)
        self.heatmap_sigma = None if heatmap_sigma is None else float(heatmap_sigma)
        self.peak_weight = float(peak_weight)
        self.freeze_bn_stats = bool(freeze_bn_stats)
        self.config = {
            "net_type": self.net_type,
            "num_joints": self.num_joints,
            "locref_std": self.locref_std,
            "heatmap_sigma": self.heatmap_sigma,
            "peak_weight": self.peak_weight,
            "head": head,
            "mid_channels": int(mid_channels),
        }

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """``(ceil(H / 8), ceil(W / 8))``: size of the maps for an ``(H, W)`` input."""
        return math.ceil(height / self.stride), math.ceil(width / self.stride)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x`` ``(N, 3, H, W)`` -> ``{"heatmap": (N, K, h, w) logits, "locref": (N, 2K, h, w)}``.

        An input whose sides are not multiples of the backbone's stride (32 for efficientnet-lite0) is padded with
        black at the bottom / right first: otherwise the "SAME" paddings of the strided convolutions shift the
        coarse maps against the fine ones, and every prediction moves by up to half a cell (measured on
        mirror-mouse-lp's 396x406 frames with a model trained on 192x192 crops: mean bias (+4.0, +5.9) px and a
        7.6 px train error; padded to 416x416, bias < 0.4 px and 2.6 px; benchmarks/RESULTS.md, bench_recipe).
        """
        h, w = self.output_size(x.shape[-2], x.shape[-1])
        s = int(self.backbone.stride)
        pad_h, pad_w = (-x.shape[-2]) % s, (-x.shape[-1]) % s
        if pad_h or pad_w:
            black = _black(x)
            last = x.is_contiguous(memory_format=torch.channels_last)
            x = F.pad(x - black, [0, pad_w, 0, pad_h]) + black
            x = x.contiguous(memory_format=torch.channels_last if last else torch.contiguous_format)
        heatmap, locref = self.head(self.backbone.forward_features(x))
        if heatmap.shape[-2] < h or heatmap.shape[-1] < w:  # cannot happen with the built-in backbones
            raise RuntimeError(f"head output {tuple(heatmap.shape[-2:])} smaller than {(h, w)}")
        return {"heatmap": heatmap[..., :h, :w], "locref": locref[..., :h, :w]}

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.freeze_bn_stats:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

    @staticmethod
    def normalize(images, device=None, channels_last: bool = False) -> torch.Tensor:
        """uint8 RGB ``(N, H, W, 3)`` (numpy or torch) -> normalised float ``(N, 3, H, W)`` input tensor."""
        return normalize_images(images, device=device, channels_last=channels_last)

    @torch.inference_mode()
    def predict(self, images) -> torch.Tensor:
        """Keypoints ``(N, K, 3)`` (x, y in input pixels, likelihood) for uint8 RGB ``(N, H, W, 3)`` images or an
        already normalised ``(N, 3, H, W)`` float tensor. Uses the model in its current train / eval mode."""
        if isinstance(images, np.ndarray) or (
            isinstance(images, torch.Tensor) and images.dtype == torch.uint8
        ):
            param = next(self.parameters())
            channels_last = param.is_contiguous(memory_format=torch.channels_last) and param.ndim == 4
            images = self.normalize(images, device=param.device, channels_last=channels_last)
        out = self(images)
        return self.decode_outputs(out["heatmap"], out["locref"])

    def decode_outputs(self, heatmap: torch.Tensor, locref: torch.Tensor | None, peak_weight: float | None = None):
        """:func:`~posenb.nn.decode` with this model's stride, locref scale, score-map width and peak weight
        (``peak_weight`` given: that one instead) -> ``(N, K, 3)``."""
        share = self.peak_weight if peak_weight is None else float(peak_weight)
        return decode(
            heatmap, locref, self.stride, self.locref_std, heatmap_sigma=self.heatmap_sigma, peak_weight=share
        )


def build_model(
    net_type: str,
    num_joints: int,
    pretrained=True,
    *,
    locref_std: float = 7.2801,
    heatmap_sigma: float | None = None,
    peak_weight: float = 0.0,
    head: str | None = None,
    mid_channels: int = 128,
    freeze_bn_stats: bool = False,
) -> PoseModel:
    """Build a :class:`PoseModel` for ``net_type`` (see :func:`posenb.nn.list_backbones`) and ``num_joints``.

    ``pretrained``: ``True`` ImageNet weights (torch hub cache, or shipped for ``efficientnet-lite0``),
    a path to a local state dict, or ``False`` (random). :class:`~posenb.errors.ModelError` if the weights
    cannot be had, saying what to do instead. ``head``: ``"heatmap"`` (DLC) or ``"fpn"``; None picks
    :func:`default_head` for the backbone's stride. ``mid_channels``: width of the head's upsampling path.
    """
    backbone = create_backbone(net_type, pretrained)
    return PoseModel(
        backbone,
        num_joints,
        locref_std=locref_std,
        heatmap_sigma=heatmap_sigma,
        peak_weight=peak_weight,
        head=head,
        mid_channels=mid_channels,
        freeze_bn_stats=freeze_bn_stats,
    )
