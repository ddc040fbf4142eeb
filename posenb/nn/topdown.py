"""Decoding of posenb's top-down multi-animal model: animal peaks of the centroid map, identity of a centred animal.

The centroid model is a :class:`~posenb.nn.PoseModel` with one score map (all animals' anchors); an animal is a local
maximum of that map (3x3 neighbourhood) whose likelihood ``sigmoid(logit)`` is at least ``threshold``, refined by
its locref offsets like :func:`posenb.nn.decode`. The instance model's identity maps (one per individual, a peak at
the crop centre in the animal's channel) are read at their maxima and normalised into probabilities.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["find_peaks", "identity_probabilities"]


def find_peaks(
    heatmap: torch.Tensor,
    locref: torch.Tensor | None,
    stride: float = 8.0,
    locref_std: float = 7.2801,
    *,
    threshold: float = 0.1,
    max_peaks: int = 2,
    min_distance: float = 0.0,
) -> list[np.ndarray]:
    """Animals of a batch of centroid maps.

    Parameters
    ----------
    heatmap : ``(N, 1, h, w)`` logits; locref : ``(N, 2, h, w)`` offsets in units of ``locref_std`` (or None).
    threshold : minimal likelihood of a peak.
    max_peaks : at most this many peaks per image (the highest).
    min_distance : peaks closer than this (input pixels) to a higher one are dropped.

    Returns
    -------
    One float32 array ``(n_i, 3)`` per image: x, y in input pixels, likelihood; sorted by likelihood, descending.
    """
    if heatmap.ndim != 4 or heatmap.shape[1] != 1:
        raise ValueError(f"heatmap must be (N, 1, h, w), got {tuple(heatmap.shape)}")
    prob = torch.sigmoid(heatmap.detach().float())
    is_max = prob == F.max_pool2d(prob, 3, stride=1, padding=1)
    n, _, h, w = prob.shape
    out = []
    for b in range(n):
        cand = torch.nonzero(is_max[b, 0] & (prob[b, 0] >= threshold))  # (m, 2) rows, cols
        scores = prob[b, 0, cand[:, 0], cand[:, 1]]
        order = torch.argsort(scores, descending=True)
        cand, scores = cand[order], scores[order]
        x = cand[:, 1].float() * stride + stride / 2.0
        y = cand[:, 0].float() * stride + stride / 2.0
        if locref is not None and len(cand):
            x = x + locref[b, 0, cand[:, 0], cand[:, 1]].float() * locref_std
            y = y + locref[b, 1, cand[:, 0], cand[:, 1]].float() * locref_std
        peaks = torch.stack([x, y, scores], dim=-1).cpu().numpy().astype(np.float32)
        kept: list[np.ndarray] = []
        for peak in peaks:
            if len(kept) >= max_peaks:
                break
            if all(np.hypot(*(peak[:2] - k[:2])) >= min_distance for k in kept):
                kept.append(peak)
        out.append(np.stack(kept) if kept else np.zeros((0, 3), np.float32))
    return out


def identity_probabilities(identity_maps: torch.Tensor) -> np.ndarray:
    """``(M, I, h, w)`` identity logits of M centred animals -> ``(M, I)`` float32 probabilities (rows sum to 1):
    each individual's peak likelihood, normalised (uniform when all are ~0)."""
    peak = torch.sigmoid(identity_maps.detach().float()).flatten(2).max(dim=-1).values  # (M, I)
    peak = peak.clamp_min(1e-6)
    return (peak / peak.sum(dim=1, keepdim=True)).cpu().numpy().astype(np.float32)
