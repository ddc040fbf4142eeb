"""Decode score maps + location refinement into keypoints (DLC ``argmax_pose_predict``), vectorised.

For each joint: the argmax cell ``(i, j)`` of its score map,
``x = j * stride + stride / 2 + dx * locref_std``, ``y = i * stride + stride / 2 + dy * locref_std`` (``dx, dy``
the joint's locref channels ``2k, 2k + 1`` at that cell), likelihood = the score at that cell.

(torch is imported inside :func:`decode` so that ``posenb.nn`` can bind the function name eagerly: the
submodule and the function share the name ``decode``.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

__all__ = ["decode"]


def decode(
    heatmap: torch.Tensor,
    locref: torch.Tensor | None,
    stride: float = 8.0,
    locref_std: float = 7.2801,
    *,
    apply_sigmoid: bool = True,
) -> torch.Tensor:
    """Keypoints from network outputs, without a Python loop over joints.

    Parameters
    ----------
    heatmap : ``(N, K, h, w)``: logits as returned by :class:`~posenb.nn.PoseModel` (``apply_sigmoid=True``),
        or scores already in [0, 1] such as a target (``apply_sigmoid=False``; clipped to [0, 1], like DLC 3).
    locref : ``(N, 2K, h, w)`` interleaved (dx, dy) per joint in units of ``locref_std``; None: cell centres.
    stride : output stride (8).
    locref_std : the ``locref_stdev`` the targets were divided by.

    Returns
    -------
    ``(N, K, 3)`` float32 tensor on the input's device: x, y in input-image pixels, likelihood in [0, 1].
    """
    import torch

    if heatmap.ndim != 4:
        raise ValueError(f"heatmap must be (N, K, h, w), got {tuple(heatmap.shape)}")
    n, k, h, w = heatmap.shape
    scores, idx = heatmap.detach().reshape(n, k, h * w).float().max(dim=-1)  # (N, K)
    rows = torch.div(idx, w, rounding_mode="floor")
    cols = idx - rows * w
    x = cols.float() * stride + stride / 2.0
    y = rows.float() * stride + stride / 2.0
    if locref is not None:
        if locref.shape != (n, 2 * k, h, w):
            raise ValueError(f"locref must be {(n, 2 * k, h, w)}, got {tuple(locref.shape)}")
        offsets = locref.detach().reshape(n, k, 2, h * w).float()
        offsets = offsets.gather(-1, idx[:, :, None, None].expand(n, k, 2, 1)).squeeze(-1)  # (N, K, 2)
        x = x + offsets[..., 0] * locref_std
        y = y + offsets[..., 1] * locref_std
    likelihood = torch.sigmoid(scores) if apply_sigmoid else scores.clamp(0.0, 1.0)
    return torch.stack([x, y, likelihood], dim=-1)
