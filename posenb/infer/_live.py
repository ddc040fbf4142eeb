"""The torch modules inside an exported model (:mod:`posenb.infer.export`); imports torch at module level.

- :class:`PoseCore` (traced with ``torch.jit.trace``): ImageNet-normalised ``(N, 3, h, w)`` float ->
  network -> :func:`posenb.nn.decode` -> ``(N, K, 3)``.
- :class:`LivePoseModel` (compiled with ``torch.jit.script`` around the traced core): the file a live user
  loads with ``torch.jit.load``. It checks the input, converts uint8 / float RGB ``(N, h, w, 3)`` to the
  normalised input exactly as :func:`posenb.nn.normalize.normalize_images` does, and returns the poses. It
  carries ``bodyparts``, ``global_scale``, ``stride``, ``input_height`` and ``input_width`` as attributes.

The trace fixes the input size (``input_height x input_width``): posenb's backbones compute paddings and crops
from the input size in Python, which a trace records as constants. The scripted wrapper therefore refuses any
other size with a message instead of returning wrong poses.
"""

from __future__ import annotations

import torch
from torch import nn

from posenb.nn.normalize import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["PoseCore", "LivePoseModel"]


class PoseCore(nn.Module):
    """Network + decoding: normalised ``(N, 3, h, w)`` -> ``(N, K, 3)`` (x, y in input pixels, likelihood)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.stride = float(model.stride)
        self.locref_std = float(model.locref_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        return self.model.decode_outputs(out["heatmap"], out["locref"])


class LivePoseModel(nn.Module):
    """RGB frames at network size -> poses (module docstring); ``core`` is the traced :class:`PoseCore`."""

    def __init__(
        self,
        core: nn.Module,
        input_height: int,
        input_width: int,
        bodyparts: list[str],
        global_scale: float,
        stride: float,
    ):
        super().__init__()
        self.core = core
        self.input_height = int(input_height)
        self.input_width = int(input_width)
        self.bodyparts = [str(b) for b in bodyparts]  # TorchScript attribute List[str]
        self.global_scale = float(global_scale)
        self.stride = float(stride)
        # the same float32 operations as normalize_images, so the outputs match posenb's Predictor
        self.register_buffer("mean", (torch.tensor(IMAGENET_MEAN) * 255.0).view(1, 3, 1, 1))
        self.register_buffer("inv_std", (1.0 / (torch.tensor(IMAGENET_STD) * 255.0)).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, h, w, 3)`` or ``(h, w, 3)`` RGB, uint8 or float in 0-255 -> ``(N, K, 3)`` float32."""
        x = images
        if x.dim() == 3:
            x = x.unsqueeze(0)
        if x.dim() != 4 or x.size(3) != 3:
            raise ValueError(
                "expected RGB images of shape (N, H, W, 3) or (H, W, 3), got " + str(images.shape)
            )
        if x.size(1) != self.input_height or x.size(2) != self.input_width:
            raise ValueError(
                "this model was exported for "
                + str(self.input_width)
                + "x"
                + str(self.input_height)
                + " (width x height) network inputs, got "
                + str(x.size(2))
                + "x"
                + str(x.size(1))
                + ": resize frames by global_scale = "
                + str(self.global_scale)
                + " first, or export again for this frame size"
            )
        x = x.to(self.mean.device).permute(0, 3, 1, 2).float()
        x = (x - self.mean) * self.inv_std
        return self.core(x)
