"""Training loss: score-map loss + ``locref_loss_weight`` x (Huber) location-refinement loss, per-joint weights.

``heatmap_loss="bce"`` (default): sigmoid cross-entropy of the heatmap logits against the targets in [0, 1]
(DLC 2's loss, here usually with DLC 3's Gaussian targets); ``"mse"``: squared error of ``sigmoid(logits)``.
The score-map loss is the mean over every weighted map cell (DLC's ``SUM_BY_NONZERO_WEIGHTS``); the locref loss
is the mean over masked entries (cells near labelled joints).

Missing joints (``weigh_only_present_joints``, DLC's name): ``False`` (DLC's default) trains their score maps
towards all-zero ("the joint is not visible here"); ``True`` gives them weight 0 (no score-map gradient at all),
for projects where a NaN means "not labelled" rather than "not visible". Locref is only ever supervised at
labelled joints.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["pose_loss", "PoseLoss"]


def pose_loss(
    outputs: dict,
    targets: dict,
    *,
    locref_loss_weight: float = 0.05,
    heatmap_loss: str = "bce",
    locref_huber_loss: bool = True,
    weigh_only_present_joints: bool = False,
) -> dict[str, torch.Tensor]:
    """Loss of one batch.

    Parameters
    ----------
    outputs : ``{"heatmap": (N, K, h, w) logits, "locref": (N, 2K, h, w)}`` from :class:`~posenb.nn.PoseModel`.
    targets : batch of :class:`~posenb.data.dataset.PoseDataset` items: ``heatmap`` ``(N, K, h, w)``,
        ``locref`` / ``locref_mask`` ``(N, 2K, h, w)``, ``weight`` ``(N, K)``.
    locref_loss_weight : DLC ``locref_loss_weight`` (0.05).
    heatmap_loss : ``"bce"`` or ``"mse"``.
    locref_huber_loss : Huber (delta 1, DLC) else squared error.
    weigh_only_present_joints : see module docstring.

    Returns
    -------
    ``{"loss": total, "heatmap": score-map loss, "locref": locref loss}`` (scalar tensors; ``loss`` has a graph).
    """
    logits = outputs["heatmap"]
    target = targets["heatmap"].to(logits.dtype)
    if target.shape != logits.shape:
        raise ValueError(f"heatmap target {tuple(target.shape)} does not match output {tuple(logits.shape)}")
    if heatmap_loss == "bce":
        per_cell = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    elif heatmap_loss == "mse":
        per_cell = (torch.sigmoid(logits) - target) ** 2
    else:
        raise ValueError(f"heatmap_loss must be 'bce' or 'mse', got {heatmap_loss!r}")
    n, k, h, w = logits.shape
    if weigh_only_present_joints:
        joint_w = targets["weight"].to(logits.dtype).reshape(n, k, 1, 1)
        hm = (per_cell * joint_w).sum() / (joint_w.sum() * h * w).clamp_min(1.0)
    else:
        hm = per_cell.mean()

    pred = outputs["locref"]
    mask = targets["locref_mask"].to(pred.dtype)
    lt = targets["locref"].to(pred.dtype)
    if locref_huber_loss:
        per_entry = F.huber_loss(pred, lt, reduction="none", delta=1.0)
    else:
        per_entry = (pred - lt) ** 2
    lr = (per_entry * mask).sum() / mask.sum().clamp_min(1.0)
    return {"loss": hm + locref_loss_weight * lr, "heatmap": hm.detach(), "locref": lr.detach()}


class PoseLoss(nn.Module):
    """:func:`pose_loss` with its options bound: ``PoseLoss(**options)(outputs, targets) -> dict``."""

    def __init__(
        self,
        locref_loss_weight: float = 0.05,
        heatmap_loss: str = "bce",
        locref_huber_loss: bool = True,
        weigh_only_present_joints: bool = False,
    ):
        super().__init__()
        self.options = dict(
            locref_loss_weight=locref_loss_weight,
            heatmap_loss=heatmap_loss,
            locref_huber_loss=locref_huber_loss,
            weigh_only_present_joints=weigh_only_present_joints,
        )

    def forward(self, outputs: dict, targets: dict) -> dict[str, torch.Tensor]:
        return pose_loss(outputs, targets, **self.options)
