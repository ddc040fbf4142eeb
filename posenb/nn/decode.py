"""Decode score maps + location refinement into keypoints (DLC ``argmax_pose_predict``), vectorised.

For each joint: the argmax cell ``(i, j)`` of its score map; every cell ``(r, c)`` proposes the position
``(c * stride + stride / 2 + dx * locref_std, r * stride + stride / 2 + dy * locref_std)`` (``dx, dy`` the joint's
locref channels ``2k, 2k + 1`` at that cell). DeepLabCut keeps the argmax cell's proposal; posenb averages the
proposals of the 3x3 cells around the argmax, weighted by their score squared (``neighbourhood=1``, the default):
in a trained network the neighbours' offsets point at the same place with independent errors, so the average is
less noisy (openfield, three shuffles of the default recipe: train error 1.32 -> 1.22 px, test 1.85 -> 1.81 px).
``neighbourhood=0`` gives DeepLabCut's decoding. The likelihood is the score at the argmax cell either way.

A model trained on Gaussian score maps (DLC 3's targets, posenb's default) carries a second estimate of the
position below the cell size: the shape of the score map itself. With ``heatmap_sigma`` (the targets' standard
deviation in input pixels, :func:`posenb.data.targets.heatmap_sigma`) the peak of a Gaussian of that width is
fitted to the log-scores of the 3x3 cells around the argmax (weighted least squares, weights score squared) and
averaged with the locref estimate, the peak weighing ``peak_weight``. Alone the peak is the coarser estimate
(synthetic frames with exact labels: 1.13 px against locref's 0.58), but its errors are its own: with a quarter on
the peak openfield's test error fell 1.76 / 1.57 / 2.12 -> 1.72 / 1.54 / 2.06 px over three shuffles and the
synthetic frames' 0.58 -> 0.56 px against the truth, while mirror-mouse-lp after a short run got worse (5.46 ->
5.55 px). So the weight is chosen per model, on its training images, when training ends
(:mod:`posenb.train.peak_weight`: 0 or 0.25) and stored with it: :class:`~posenb.nn.PoseModel`'s
``heatmap_sigma`` and ``peak_weight``, which every posenb predictor passes here (benchmarks/RESULTS.md,
"Decoding: the score map's own peak"). Without them (plateau targets, snapshots from before, multi-animal models)
the locref estimate stands alone, as DeepLabCut's.

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
    heatmap_sigma: float | None = None,
    peak_weight: float = 0.0,
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
    heatmap_sigma : standard deviation in input pixels of the Gaussian score-map targets the model was trained on
        (:func:`posenb.data.targets.heatmap_sigma`); given, the peak of a Gaussian fitted to the 3x3 log-scores
        around the argmax, for ``peak_weight`` or, without ``locref``, alone. None: no peak fit.
    peak_weight : weight of that peak in the average with the locref estimate, in [0, 1] (0: locref alone);
        a trained model's is chosen on its training images (:mod:`posenb.train.peak_weight`).

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
    if heatmap_sigma is not None and (locref is None or peak_weight > 0):
        gx, gy = _gaussian_peak(heatmap, rows, cols, stride, float(heatmap_sigma), apply_sigmoid)
        share = 1.0 if locref is None else float(peak_weight)
        x, y = x + share * (gx - x), y + share * (gy - y)
    likelihood = torch.sigmoid(scores) if apply_sigmoid else scores.clamp(0.0, 1.0)
    return torch.stack([x, y, likelihood], dim=-1)


def _window(heatmap, rows, cols, radius: int):
    """The ``S*S`` cells within ``radius`` of the argmax ``(rows, cols)`` (``(N, K)``): their row and column
    indices (clamped to the map), ``inside`` (False where outside the map), their flat indices into ``h * w``
    and the heatmap values there; each ``(N, K, S*S)``."""
    import torch  # noqa: PLC0415

    n, k, h, w = heatmap.shape
    d = torch.arange(-radius, radius + 1, device=heatmap.device)
    rr = rows[..., None, None] + d[:, None]  # (N, K, S, 1)
    cc = cols[..., None, None] + d[None, :]  # (N, K, 1, S)
    inside = ((rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)).reshape(n, k, -1)
    rr, cc = rr.clamp(0, h - 1).expand(-1, -1, -1, len(d)), cc.clamp(0, w - 1).expand(-1, -1, len(d), -1)
    flat = (rr * w + cc).reshape(n, k, -1)
    values = heatmap.detach().reshape(n, k, h * w).float().gather(-1, flat)
    return rr.reshape(n, k, -1), cc.reshape(n, k, -1), inside, flat, values


def _gaussian_peak(heatmap, rows, cols, stride: float, sigma: float, apply_sigmoid: bool):
    """Peak of ``exp(-|c - mu|^2 / (2 sigma^2))`` fitted to the 3x3 scores around the argmax, ``x, y`` ``(N, K)``.

    With the width known, ``log s(c) + |c|^2 / (2 sigma^2) = b + c . mu / sigma^2`` is linear in ``(b, mu)``:
    a weighted least-squares fit (weights score squared, cells outside the map none) over the cell centres ``c``
    relative to the argmax cell; ``mu`` is clipped to one cell around it."""
    import torch  # noqa: PLC0415
    import torch.nn.functional as F  # noqa: N812, PLC0415

    rr, cc, inside, _, values = _window(heatmap, rows, cols, 1)
    log_s = -F.softplus(-values) if apply_sigmoid else values.clamp(1e-6, 1.0).log()
    dx = (cc - cols[..., None]).float() * stride  # (N, K, 9) px from the argmax cell's centre
    dy = (rr - rows[..., None]).float() * stride
    z = log_s + (dx.square() + dy.square()) / (2.0 * sigma * sigma)
    wts = log_s.exp().square() * inside
    design = torch.stack([torch.ones_like(dx), dx, dy], dim=-1)  # (N, K, 9, 3)
    normal = torch.einsum("nksi,nks,nksj->nkij", design, wts, design)
    ridge = torch.tensor([0.0, 1e-6, 1e-6], device=normal.device).diag()  # a lone cell: mu -> 0, not singular
    normal = normal + ridge * wts.sum(-1)[..., None, None]
    rhs = torch.einsum("nksi,nks,nks->nki", design, wts, z)
    coef = torch.linalg.solve(normal, rhs[..., None])[..., 0]  # (N, K, 3)
    mu = (coef[..., 1:] * sigma * sigma).clamp(-stride, stride)
    x = cols.float() * stride + stride / 2.0 + mu[..., 0]
    y = rows.float() * stride + stride / 2.0 + mu[..., 1]
    return x, y


def _neighbourhood_average(heatmap, locref, rows, cols, stride, locref_std, radius: int, apply_sigmoid: bool):
    """Score²-weighted mean of the locref proposals of the cells within ``radius`` of the argmax ``(rows, cols)``
    (``(N, K)`` each); cells outside the map, or whose proposal is more than ``stride`` px from the argmax cell's,
    get no weight. Returns ``x, y`` ``(N, K)`` in input pixels."""
    n, k, h, w = heatmap.shape
    rr, cc, inside, flat, scores = _window(heatmap, rows, cols, radius)
    scores = scores.sigmoid() if apply_sigmoid else scores.clamp(0.0, 1.0)
    offsets = locref.detach().reshape(n, k, 2, h * w).float()
    offsets = offsets.gather(-1, flat[:, :, None, :].expand(n, k, 2, flat.shape[-1]))  # (N, K, 2, S*S)
    px = cc.float() * stride + stride / 2.0 + offsets[:, :, 0] * locref_std
    py = rr.float() * stride + stride / 2.0 + offsets[:, :, 1] * locref_std
    centre = px.shape[-1] // 2  # the argmax cell's own proposal
    # a neighbour that points elsewhere (beyond one cell: outside the region its offsets were trained in) is dropped
    agrees = (px - px[..., centre : centre + 1]).square() + (
        py - py[..., centre : centre + 1]
    ).square() <= stride**2
    weights = scores.square() * inside * agrees
    weights[..., centre] += 1e-12  # never a zero total weight
    total = weights.sum(-1)
    return (weights * px).sum(-1) / total, (weights * py).sum(-1) / total
