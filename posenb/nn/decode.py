"""Decode score maps + location refinement into keypoints (DLC ``argmax_pose_predict``), vectorised.

For each joint: the argmax cell ``(i, j)`` of its score map; every cell ``(r, c)`` proposes the position
``(c * stride + stride / 2 + dx * locref_std, r * stride + stride / 2 + dy * locref_std)`` (``dx, dy`` the joint's
locref channels ``2k, 2k + 1`` at that cell). DeepLabCut keeps the argmax cell's proposal; posenb averages the
proposals of the 3x3 cells around the argmax, weighted by their score squared (``neighbourhood=1``, the default):
in a trained network the neighbours' offsets point at the same place with independent errors, so the average is
less noisy (openfield, three shuffles of the default recipe: train error 1.32 -> 1.22 px, test 1.85 -> 1.81 px).
``neighbourhood=0`` gives DeepLabCut's decoding. The likelihood is the score at the argmax cell either way.

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
    neighbourhood: int = 1,
) -> torch.Tensor:
    """Keypoints from network outputs, without a Python loop over joints.

    Parameters
    ----------
    heatmap : ``(N, K, h, w)``: logits as returned by :class:`~posenb.nn.PoseModel` (``apply_sigmoid=True``),
        or scores already in [0, 1] such as a target (``apply_sigmoid=False``; clipped to [0, 1], like DLC 3).
    locref : ``(N, 2K, h, w)`` interleaved (dx, dy) per joint in units of ``locref_std``; None: cell centres.
    stride : output stride (8).
    locref_std : the ``locref_stdev`` the targets were divided by.
    neighbourhood : radius in cells of the score-weighted average of the locref proposals around the argmax
        (1: 3x3 cells, 0: the argmax cell only, as DeepLabCut); without ``locref`` the cell centre is returned.

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
        if neighbourhood > 0:
            x, y = _neighbourhood_average(
                heatmap, locref, rows, cols, stride, locref_std, neighbourhood, apply_sigmoid
            )
        else:
            offsets = locref.detach().reshape(n, k, 2, h * w).float()
            offsets = offsets.gather(-1, idx[:, :, None, None].expand(n, k, 2, 1)).squeeze(-1)  # (N, K, 2)
            x = x + offsets[..., 0] * locref_std
            y = y + offsets[..., 1] * locref_std
    likelihood = torch.sigmoid(scores) if apply_sigmoid else scores.clamp(0.0, 1.0)
    return torch.stack([x, y, likelihood], dim=-1)


def _neighbourhood_average(heatmap, locref, rows, cols, stride, locref_std, radius: int, apply_sigmoid: bool):
    """Score²-weighted mean of the locref proposals of the cells within ``radius`` of the argmax ``(rows, cols)``
    (``(N, K)`` each); cells outside the map, or whose proposal is more than ``stride`` px from the argmax cell's,
    get no weight. Returns ``x, y`` ``(N, K)`` in input pixels."""
    import torch  # noqa: PLC0415

    n, k, h, w = heatmap.shape
    d = torch.arange(-radius, radius + 1, device=heatmap.device)
    rr = rows[..., None, None] + d[:, None]  # (N, K, S, 1)
    cc = cols[..., None, None] + d[None, :]  # (N, K, 1, S)
    inside = ((rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)).reshape(n, k, -1)  # (N, K, S*S)
    rr, cc = rr.clamp(0, h - 1).expand(-1, -1, -1, len(d)), cc.clamp(0, w - 1).expand(-1, -1, len(d), -1)
    flat = (rr * w + cc).reshape(n, k, -1)  # (N, K, S*S)
    scores = heatmap.detach().reshape(n, k, h * w).float().gather(-1, flat)
    scores = torch.sigmoid(scores) if apply_sigmoid else scores.clamp(0.0, 1.0)
    offsets = locref.detach().reshape(n, k, 2, h * w).float()
    offsets = offsets.gather(-1, flat[:, :, None, :].expand(n, k, 2, flat.shape[-1]))  # (N, K, 2, S*S)
    px = cc.reshape(n, k, -1).float() * stride + stride / 2.0 + offsets[:, :, 0] * locref_std
    py = rr.reshape(n, k, -1).float() * stride + stride / 2.0 + offsets[:, :, 1] * locref_std
    centre = px.shape[-1] // 2  # the argmax cell's own proposal
    # a neighbour that points elsewhere (beyond one cell: outside the region its offsets were trained in) is dropped
    agrees = (px - px[..., centre : centre + 1]).square() + (
        py - py[..., centre : centre + 1]
    ).square() <= stride**2
    weights = scores.square() * inside * agrees
    weights[..., centre] += 1e-12  # never a zero total weight
    total = weights.sum(-1)
    return (weights * px).sum(-1) / total, (weights * py).sum(-1) / total
