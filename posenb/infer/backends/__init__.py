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

Precision (``precision=`` of ``analyze_videos``, ``load_predictor``, ``Predictor``, ``make_runner``):

- ``"float32"`` (default): the key points above, identical to the torch path's to float rounding.
- ``"bfloat16"``: the network computes in bfloat16 on CPUs with native bfloat16 units (Intel AMX /
  AVX512-BF16, OpenVINO's ``OPTIMIZATION_CAPABILITIES`` lists ``BF16``; :func:`native_bf16`): OpenVINO
  compiles with ``INFERENCE_PRECISION_HINT=bf16``, the torch path runs under ``torch.autocast("cpu",
  torch.bfloat16)``. About 2x faster with OpenVINO (openfield model, batch 8, 2 threads: 14 -> 26-30
  frames/s at 640x480 network input, 48 -> 75-80 at 320x240), and the key points move a little from
  float32's: median 0.13-0.17 px, 99th percentile 0.6 px at 320x240 and 2.9 px at 640x480
  (``benchmarks/bench_backends.py --precisions float32 bfloat16``). The torch path gains too (network
  alone, 640x480, batch 8: ~2.3x on a loaded 2-core machine; not yet measured quiet). ONNX Runtime has no bfloat16 CPU path
  worth having (its CPU kernels are float32 / int8): ``backend="onnxruntime"`` stays float32 with a
  warning. A CPU without native bfloat16 would only emulate it (slower than float32): float32 with a
  warning. On a GPU the torch path runs under autocast as before: float16, or bfloat16 when asked.

Files: ``onnx.py`` (export and the two runtime runners). Nothing heavy is imported here.
"""

from __future__ import annotations

import functools
import importlib.util
import warnings

from posenb.errors import ConfigError

__all__ = [
    "BACKENDS", "AUTO_ORDER", "PRECISIONS", "available_backends", "resolve_backend", "resolve_precision",
    "precision_name", "native_bf16", "make_runner",
]  # fmt: skip

BACKENDS = ("torch", "onnxruntime", "openvino")
#: preference of ``backend="auto"`` on a CPU (benchmarks/RESULTS.md "Video analysis (openfield)")
AUTO_ORDER = ("openvino", "onnxruntime")
_MODULES = {"onnxruntime": "onnxruntime", "openvino": "openvino"}
#: ``precision=`` values; aliases: "fp32"/"f32" and "bf16"
PRECISIONS = ("float32", "bfloat16")
_PRECISION_ALIASES = {"fp32": "float32", "f32": "float32", "bf16": "bfloat16"}
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
        raise ConfigError(
            f"Unknown inference backend {backend!r}; use one of {', '.join(BACKENDS)} or 'auto'."
        )
    if name != "torch" and device_type != "cpu":
        raise ConfigError(f"backend={name!r} runs on the CPU only; use backend='torch' (or 'auto') on a GPU.")
    if not _installed(name):
        raise ConfigError(
            f'backend={name!r} is not installed: pip install "posenb[fast]" (or use backend="torch").'
        )
    return name


@functools.cache
def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (OpenVINO's ``OPTIMIZATION_CAPABILITIES`` has ``BF16``).

    Without OpenVINO: the CPU flags ``amx_bf16`` / ``avx512_bf16`` of ``/proc/cpuinfo`` (False elsewhere).
    """
    if _installed("openvino"):
        try:
            import openvino as ov  # noqa: PLC0415

            return "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        except Exception:  # noqa: BLE001 - no CPU plugin: ask the kernel instead
            pass
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def precision_name(precision: str | None) -> str:
    """The name of :data:`PRECISIONS` that ``precision`` (an alias; None: ``"float32"``) means, whatever the
    machine (no fallback: that is :func:`resolve_precision`'s); an unknown name raises
    :class:`~posenb.errors.ConfigError`."""
    name = "float32" if precision is None else str(precision).lower().replace("-", "").replace("_", "")
    name = _PRECISION_ALIASES.get(name, name)
    if name not in PRECISIONS:
        raise ConfigError(
            f"Unknown precision {precision!r}; use {' or '.join(repr(p) for p in PRECISIONS)} "
            "(posenb.infer.backends)."
        )
    return name


def resolve_precision(precision: str | None, backend: str = "torch", device_type: str = "cpu") -> str:
    """The precision to compute in: ``"float32"`` or ``"bfloat16"`` (module docstring), for a resolved back end.

    ``precision``: one of :data:`PRECISIONS` (or an alias; None: ``"float32"``); an unknown name raises
    :class:`~posenb.errors.ConfigError`. ``"bfloat16"`` becomes ``"float32"`` with a warning where it would not
    pay: ``backend="onnxruntime"``, a CPU without native bfloat16 (:func:`native_bf16`), a GPU without bfloat16.
    """
    name = precision_name(precision)
    if name == "float32":
        return name
    why = None
    if device_type == "cuda":
        import torch  # noqa: PLC0415

        if not torch.cuda.is_bf16_supported():
            why = "this GPU has no bfloat16"
    elif device_type != "cpu":
        why = f"no bfloat16 path on {device_type!r}"
    elif backend == "onnxruntime":
        why = "ONNX Runtime has no bfloat16 CPU path worth having (use backend='openvino' for bfloat16)"
    elif not native_bf16():
        why = "this CPU has no native bfloat16 (AMX / AVX512-BF16); emulated bfloat16 would be slower"
    if why is not None:
        warnings.warn(f"precision='bfloat16' not used, analysing in float32: {why}.", stacklevel=3)
        return "float32"
    return name


def make_runner(backend: str, model, example, threads: int | None = None, precision: str = "float32"):
    """A callable ``uint8 (N, h, w, 3) -> (heatmap, locref)`` float32 numpy arrays for one input size ``h x w``.

    ``model``: the PoseModel (eval mode; BatchNorm folded or not); ``example``: ``(n, h, w, 3)`` uint8 frames
    used to trace the export. ``threads``: the runtime's compute threads (default: torch's thread count).
    ``precision``: ``"float32"`` or ``"bfloat16"`` (OpenVINO only; resolve it with :func:`resolve_precision`).
    The outputs are float32 arrays either way.
    """
    from posenb.infer.backends.onnx import OnnxRuntimeRunner, OpenVinoRunner, export_onnx  # noqa: PLC0415

    if backend not in ("onnxruntime", "openvino"):
        raise ConfigError(f"make_runner: no runner for backend {backend!r}.")
    if precision not in PRECISIONS:
        raise ConfigError(f"make_runner: unknown precision {precision!r}; use {' or '.join(PRECISIONS)}.")
    if backend == "onnxruntime" and precision != "float32":
        raise ConfigError("make_runner: ONNX Runtime runs in float32 only; backend='openvino' has bfloat16.")
    onnx_bytes = export_onnx(model, example)
    if backend == "onnxruntime":
        return OnnxRuntimeRunner(onnx_bytes, threads=threads)
    return OpenVinoRunner(onnx_bytes, threads=threads, precision=precision)
