"""Training targets for the DLC heatmap head: score maps, location-refinement maps, masks and joint weights.

Geometry (DLC): the maps have ``h = ceil(H / stride)`` rows and ``w = ceil(W / stride)`` columns; cell ``(i, j)``
has its centre at ``(x, y) = (j * stride + stride / 2, i * stride + stride / 2)`` in input-image pixels.
For joint ``k`` at ``(x_k, y_k)`` and ``d`` the distance from a cell centre to the joint:

- ``mode="gaussian"`` (DLC 3 default): ``heatmap = exp(-d^2 / (2 sigma^2))``, ``sigma = 2 * pos_dist_thresh / 3``.
- ``mode="plateau"`` (DLC 2): ``heatmap = 1`` where ``d <= pos_dist_thresh`` (and at the cell nearest the
  joint), else 0.
- locref (both modes), interleaved per joint (channel ``2k`` = dx, ``2k + 1`` = dy):
  ``(x_k - centre_x) / locref_std`` and ``(y_k - centre_y) / locref_std`` where ``locref_mask`` is 1, that is
  for cells with ``d <= pos_dist_thresh`` plus always the cell nearest the joint (so decoding the argmax cell
  recovers the joint exactly even for a tiny ``pos_dist_thresh``); 0 elsewhere.
- ``weight[k]`` is 1 for a labelled joint inside the image (``-0.5 <= x <= W - 0.5``, same for y: the pixel-centre
  convention of DLC labels, where pixel ``i`` spans ``[i - 0.5, i + 0.5]``), 0 for NaN or outside joints,
  whose maps are all zero.

``pos_dist_thresh`` and ``locref_std`` are in input-image pixels: when images are rescaled (``global_scale``),
scale ``pos_dist_thresh`` too, as DLC does (:class:`posenb.data.dataset.PoseDataset` does it).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "make_targets",
    "map_size",
    "keypoints_in_image",
    "gaussian_sigma",
    "heatmap_sigma",
    "TARGET_MODES",
]

TARGET_MODES = ("gaussian", "plateau")


def map_size(image_hw: tuple[int, int], stride: float = 8) -> tuple[int, int]:
    """``(ceil(H / stride), ceil(W / stride))``: the score-map size for an input of ``image_hw``."""
    return math.ceil(image_hw[0] / stride), math.ceil(image_hw[1] / stride)


def gaussian_sigma(pos_dist_thresh: float) -> float:
    """Standard deviation in pixels of the ``"gaussian"`` score-map targets: ``2 * pos_dist_thresh / 3`` (DLC 3)."""
    return 2.0 * float(pos_dist_thresh) / 3.0


def heatmap_sigma(scmap_type: str, pos_dist_thresh: float, global_scale: float = 1.0) -> float | None:
    """What a model trained on these targets decodes with (:func:`posenb.nn.decode`'s ``heatmap_sigma``): the
    Gaussians' standard deviation in network-input pixels (``pos_dist_thresh`` is in frame pixels, scaled by
    ``global_scale`` like the targets), or None for ``"plateau"`` maps, which carry no sub-cell position."""
    if scmap_type != "gaussian":
        return None
    return gaussian_sigma(float(pos_dist_thresh) * float(global_scale))


def keypoints_in_image(keypoints: np.ndarray, image_hw: tuple[int, int]) -> np.ndarray:
    """``(..., K)`` bool: finite and inside the image (``-0.5 <= x <= W - 0.5``, ``-0.5 <= y <= H - 0.5``)."""
    kp = np.asarray(keypoints, dtype=np.float64)
    h, w = image_hw
    with np.errstate(invalid="ignore"):
        return (
            np.isfinite(kp).all(axis=-1)
            & (kp[..., 0] >= -0.5)
            & (kp[..., 0] <= w - 0.5)
            & (kp[..., 1] >= -0.5)
            & (kp[..., 1] <= h - 0.5)
        )


def make_targets(
    keypoints: np.ndarray,
    image_hw: tuple[int, int],
    stride: float = 8,
    pos_dist_thresh: float = 17,
    locref_std: float = 7.2801,
    mode: str = "gaussian",
) -> dict[str, np.ndarray]:
    """Score-map and location-refinement targets for one image (vectorised over joints and cells).

    Parameters
    ----------
    keypoints : ``(K, 2)`` float, x / y in input-image pixels; NaN for unlabelled joints.
    image_hw : ``(H, W)`` of the network input.
    stride : output stride of the network (8).
    pos_dist_thresh : radius in pixels of the positive region (plateau) / 1.5 sigma (gaussian).
    locref_std : offsets are divided by this.
    mode : ``"gaussian"`` or ``"plateau"``.

    Returns
    -------
    dict of float32 arrays: ``heatmap`` ``(K, h, w)`` in [0, 1], ``locref`` ``(2K, h, w)``, ``locref_mask``
    ``(2K, h, w)`` in {0, 1}, ``weight`` ``(K,)`` in {0, 1}; ``h, w = map_size(image_hw, stride)``.
    """
    if mode not in TARGET_MODES:
        raise ValueError(f"mode must be one of {TARGET_MODES}, got {mode!r}")
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
    n_joints = kp.shape[0]
    h, w = map_size(image_hw, stride)
    valid = keypoints_in_image(kp, image_hw)
    kp = np.where(valid[:, None], kp, 0.0)

    centres_x = np.arange(w) * stride + stride / 2  # (w,)
    centres_y = np.arange(h) * stride + stride / 2  # (h,)
    dx = kp[:, 0, None] - centres_x[None, :]  # (K, w)
    dy = kp[:, 1, None] - centres_y[None, :]  # (K, h)
    dist2 = dy[:, :, None] ** 2 + dx[:, None, :] ** 2  # (K, h, w)

    mask = dist2 <= pos_dist_thresh**2  # (K, h, w)
    nearest_j = np.clip(np.floor(kp[:, 0] / stride).astype(int), 0, w - 1)
    nearest_i = np.clip(np.floor(kp[:, 1] / stride).astype(int), 0, h - 1)
    mask[np.arange(n_joints), nearest_i, nearest_j] = True
    mask &= valid[:, None, None]

    if mode == "gaussian":
        sigma = gaussian_sigma(pos_dist_thresh)
        heatmap = np.exp(-dist2 / (2.0 * sigma * sigma)) * valid[:, None, None]
    else:
        heatmap = mask.astype(np.float64)

    locref = np.empty((n_joints, 2, h, w), dtype=np.float32)
    locref[:, 0] = np.broadcast_to(dx[:, None, :], (n_joints, h, w)) / locref_std
    locref[:, 1] = np.broadcast_to(dy[:, :, None], (n_joints, h, w)) / locref_std
    locref *= mask[:, None]
    locref_mask = np.repeat(mask[:, None], 2, axis=1).astype(np.float32)

    return {
        "heatmap": heatmap.astype(np.float32),
        "locref": locref.reshape(2 * n_joints, h, w),
        "locref_mask": locref_mask.reshape(2 * n_joints, h, w),
        "weight": valid.astype(np.float32),
    }
