"""Folding BatchNorm layers into the convolutions before them, for inference (same outputs, less work on a CPU).

Used by the predictor, the exported models and the ONNX / OpenVINO back ends.
"""

from __future__ import annotations

__all__ = ["fuse_batchnorm"]


def fuse_batchnorm(model, example):
    """A copy of ``model`` (eval mode) with every BatchNorm that directly follows a convolution folded into it.

    Returns ``(model, n_folded)``. The pairs are found by running ``example`` once with hooks (a BatchNorm
    whose input is the very tensor a convolution returned); the folded copy is checked against the original
    on ``example``, and the original is returned unchanged (``n_folded == 0``) if they differ. Inference only:
    it saves one pass over every feature map per BatchNorm on a CPU.
    """
    import copy  # noqa: PLC0415

    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415
    from torch.nn.utils.fusion import fuse_conv_bn_eval  # noqa: PLC0415

    model.eval()
    names = {m: n for n, m in model.named_modules()}
    produced: dict[int, str] = {}
    pairs: list[tuple[str, str]] = []

    def conv_hook(mod, inp, out):
        produced[id(out)] = names[mod]

    def bn_pre_hook(mod, inp):
        if inp and id(inp[0]) in produced:
            pairs.append((produced[id(inp[0])], names[mod]))

    handles = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.BatchNorm2d):
            handles.append(m.register_forward_pre_hook(bn_pre_hook))
    try:
        with torch.inference_mode():
            reference = model(example)
    finally:
        for h in handles:
            h.remove()
    if not pairs:
        return model, 0
    fused = copy.deepcopy(model)
    modules = dict(fused.named_modules())

    def replace(name, new):
        parent, _, attr = name.rpartition(".")
        setattr(modules[parent] if parent else fused, attr, new)

    for conv_name, bn_name in pairs:
        conv = modules[conv_name]
        replace(conv_name, fuse_conv_bn_eval(conv, modules[bn_name], transpose=isinstance(conv, nn.ConvTranspose2d)))
        replace(bn_name, nn.Identity())
    with torch.inference_mode():
        out = fused(example)
    if not all(torch.allclose(out[k], reference[k], atol=1e-3, rtol=1e-3) for k in reference):
        return model, 0
    return fused, len(pairs)
