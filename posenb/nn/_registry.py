"""Backbone registry (timm ``_registry.py`` style): names -> builder functions plus metadata.

A backbone module registers its builders with :func:`register_backbone`. This module imports nothing of posenb
but its errors: the built-in backbones register themselves when :mod:`posenb.nn.backbones` is imported, and
the lookups users call (``posenb.nn.list_backbones`` / ``is_backbone`` / ``get_backbone_spec``) come from
there, so they always see them (one direction of imports: backbones -> registry).

Adding a backbone: write ``def _my_net(pretrained) -> Backbone`` in :mod:`posenb.nn.backbones` (or a new module
imported there), decorate it with ``@register_backbone("my_net", stride=32, out_channels=..., weights=...)``,
and the contract tests in ``tests/nn/test_backbones.py`` pick it up automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from posenb.errors import ModelError

__all__ = ["BackboneSpec", "register_backbone", "get_backbone_spec"]


@dataclass(frozen=True)
class BackboneSpec:
    """What the registry knows about one backbone.

    Attributes
    ----------
    name : DLC ``net_type`` string, e.g. ``"resnet_50"``, ``"mobilenet_v2_0.35"``, ``"efficientnet-lite0"``.
    builder : ``builder(pretrained) -> Backbone``; ``pretrained`` is ``True``, ``False`` or a path.
    stride : output stride of the feature map (16 or 32); the head upsamples to stride 8.
    out_channels : channels of the feature map.
    weights : where ImageNet weights come from when ``pretrained=True``: ``"torchvision"`` (torch hub cache),
        ``"package"`` (shipped inside a pip package, works offline) or ``"none"`` (no ImageNet weights exist).
    weights_urls : download URLs of the torchvision ImageNet files this backbone accepts, preferred first
        (empty unless ``weights == "torchvision"``).
    description : one line for listings.
    """

    name: str
    builder: Callable
    stride: int
    out_channels: int
    weights: str = "torchvision"
    weights_urls: tuple[str, ...] = ()
    description: str = ""

    @property
    def weights_filenames(self) -> tuple[str, ...]:
        """File names the torch hub cache uses for ``weights_urls`` (preferred first)."""
        return tuple(url.rsplit("/", 1)[-1] for url in self.weights_urls)


_REGISTRY: dict[str, BackboneSpec] = {}


def register_backbone(
    name: str,
    *,
    stride: int,
    out_channels: int,
    weights: str = "torchvision",
    weights_urls: tuple[str, ...] = (),
    description: str = "",
) -> Callable[[Callable], Callable]:
    """Decorator registering ``builder(pretrained) -> Backbone`` under ``name``."""
    if stride not in (16, 32):
        raise ValueError(f"backbone {name!r}: stride must be 16 or 32, got {stride}")
    if weights not in ("torchvision", "package", "none"):
        raise ValueError(f"backbone {name!r}: unknown weights source {weights!r}")

    def decorate(builder: Callable) -> Callable:
        if name in _REGISTRY and _REGISTRY[name].builder is not builder:
            raise ValueError(f"backbone {name!r} is already registered")
        _REGISTRY[name] = BackboneSpec(
            name, builder, stride, out_channels, weights, tuple(weights_urls), description
        )
        return builder

    return decorate


def get_backbone_spec(name: str) -> BackboneSpec:
    """The :class:`BackboneSpec` of ``name``; :class:`~posenb.errors.ModelError` listing the known names if absent."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ModelError(
            f"Unknown net_type {name!r}. Known backbones: {', '.join(sorted(_REGISTRY))}. "
            "Pass net_type= or set net_type in posenb.yaml to one of them."
        ) from None
