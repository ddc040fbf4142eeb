"""ImageNet normalisation of network inputs: one home for the mean, the standard deviation and the conversion.

Every pretrained backbone expects it; the training Dataset (:mod:`posenb.data.dataset`), the model
(:meth:`posenb.nn.model.PoseModel.normalize`), the exported models and the inference back ends use these.
"""

from __future__ import annotations

import torch

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "normalize_images"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def normalize_images(images, device=None, channels_last: bool = False):
    """uint8 RGB ``(N, H, W, 3)`` or ``(H, W, 3)`` (numpy or torch) -> float32 ``(N, 3, H, W)`` / ``(3, H, W)``.

    ``(x / 255 - IMAGENET_MEAN) / IMAGENET_STD`` per channel; ``device`` moves the uint8 data first (cheaper
    transfer); ``channels_last`` returns a channels-last tensor (faster convolutions on some CPUs).
    """
    x = torch.as_tensor(images)
    if device is not None:
        x = x.to(device, non_blocking=True)
    single = x.ndim == 3
    if single:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected (N, H, W, 3) or (H, W, 3) RGB images, got shape {tuple(x.shape)}")
    mean = (torch.tensor(IMAGENET_MEAN, device=x.device) * 255.0).view(1, 3, 1, 1)
    inv_std = (1.0 / (torch.tensor(IMAGENET_STD, device=x.device) * 255.0)).view(1, 3, 1, 1)
    x = x.permute(0, 3, 1, 2)  # NCHW view of NHWC memory (= channels-last)
    x = x.contiguous(memory_format=torch.channels_last) if channels_last else x.contiguous()
    x = x.float().sub_(mean).mul_(inv_std)  # .float() keeps the memory format
    return x[0] if single else x
