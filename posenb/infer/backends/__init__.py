"""Inference back ends: the same network run by PyTorch, ONNX Runtime or OpenVINO (analysis only).

Training stays PyTorch. For analysis, :class:`~posenb.infer.predictor.Predictor` can hand the network to a
faster CPU runtime: the trained model (BatchNorm folded, ImageNet normalisation fused in front, uint8 RGB
``(N, h, w, 3)`` in, raw ``heatmap`` / ``locref`` out) is exported to ONNX once per network-input size
(:func:`posenb.infer.backends.onnx.export_onnx`, a few seconds, in memory) and compiled by the runtime. The
decoding (:func:`posenb.nn.decode`) stays the same torch code for every back end, so key points differ only
by the runtimes' float rounding (see tests/infer/test_backends.py and benchmarks/RESULTS.md).

Names (``backend=`` of ``analyze_videos``, ``load_predictor``, ``Predictor``, ``load_exported_model``):

- ``"torch"``: posenb's PyTorch path (channels-last, BatchNorm folded); the only one on a GPU.
- ``"onnxruntime"``: ONNX Runtime's CPU provider (``pip install "posenb[fast]"``).
- ``"openvino"``: OpenVINO's CPU plugin (``pip install "posenb[fast]"``).
- ``"auto"`` (default, also ``None``): on a CPU the first installed of :data:`AUTO_ORDER`, else ``"torch"``
  with a note saying how to get the faster ones; on a GPU ``"torch"``.

Files: ``onnx.py`` (export and the two runtime runners). Nothing heavy is imported here.
"""

from __future__ import annotations

import importlib.util
import warnings

from posenb.errors import ConfigError

__all__ = ["BACKENDS", "AUTO_ORDER", "available_backends", "resolve_backend", "make_runner"]

BACKENDS = ("torch", "onnxruntime", "openvino")
#: preference of ``backend="auto"`` on a CPU (benchmarks/RESULTS.md "Video analysis (openfield)")
AUTO_ORDER = ("openvino", "onnxruntime")
_MODULES = {"onnxruntime": "onnxruntime", "openvino": "openvino"}
_NOTED = False


def _installed(name: str) -> bool:
    module = _MODULES.get(name)
    if module is None:
        return True
    if importlib.util.find_spec(module) is None:
        return False
    return importlib.util.find_spec("onnx") is not None  # torch.onnx.export needs it


def available_backends() -> list[str]:
    """The back ends that can run here (``"torch"`` always)."""
    return [b for b in BACKENDS if _installed(b)]


def resolve_backend(backend: str | None, device_type: str = "cpu") -> str:
    """The back end to use for ``backend`` (a name of :data:`BACKENDS`, ``"auto"`` or None) on ``device_type``.

    ``"auto"``/None never fails: without ``posenb[fast]`` it falls back to ``"torch"`` (with a note, once per
    process). An explicit runtime that is not installed, or one asked for on a GPU, raises
    :class:`~posenb.errors.ConfigError` saying what to do.
    """
    global _NOTED
    name = "auto" if backend is None else str(backend).lower().replace("-", "").replace("_", "")
    name = {"ort": "onnxruntime", "ov": "openvino", "pytorch": "torch"}.get(name, name)
    if name == "auto":
        if device_type != "cpu":
            return "torch"
        for cand in AUTO_ORDER:
            if _installed(cand):
                return cand
        if not _NOTED:
            _NOTED = True
            warnings.warn(
                "posenb analyses with PyTorch: the faster CPU back ends (OpenVINO, ONNX Runtime; about 2x) are "
                'not installed. pip install "posenb[fast]" to use them.',
                stacklevel=3,
            )
        return "torch"
    if name not in BACKENDS:
        raise ConfigError(f"Unknown inference backend {backend!r}; use one of {', '.join(BACKENDS)} or 'auto'.")
    if name != "torch" and device_type != "cpu":
        raise ConfigError(f"backend={name!r} runs on the CPU only; use backend='torch' (or 'auto') on a GPU.")
    if not _installed(name):
        raise ConfigError(f'backend={name!r} is not installed: pip install "posenb[fast]" (or use backend="torch").')
    return name


def make_runner(backend: str, model, example, threads: int | None = None):
    """A callable ``uint8 (N, h, w, 3) -> (heatmap, locref)`` float32 numpy arrays for one input size ``h x w``.

    ``model``: the PoseModel (eval mode; BatchNorm folded or not); ``example``: ``(n, h, w, 3)`` uint8 frames
    used to trace the export. ``threads``: the runtime's compute threads (default: torch's thread count).
    """
    from posenb.infer.backends.onnx import OnnxRuntimeRunner, OpenVinoRunner, export_onnx  # noqa: PLC0415

    if backend not in ("onnxruntime", "openvino"):
        raise ConfigError(f"make_runner: no runner for backend {backend!r}.")
    onnx_bytes = export_onnx(model, example)
    cls = OnnxRuntimeRunner if backend == "onnxruntime" else OpenVinoRunner
    return cls(onnx_bytes, threads=threads)
