"""ONNX export of a pose network with fused pre-processing, and the ONNX Runtime / OpenVINO runners.

The exported graph takes what the video decoder gives: uint8 RGB ``(N, h, w, 3)`` frames at network size
(``N`` free, ``h x w`` fixed: posenb's backbones compute their TF-"SAME" paddings from the input size, which
the export records), converts them to the normalised channels-first float input exactly as
:func:`posenb.data.dataset.normalize_images` does, runs the network and returns its raw outputs ``heatmap``
``(N, K, h/s, w/s)`` (logits) and ``locref`` ``(N, 2K, h/s, w/s)``. BatchNorm layers are folded into the
convolutions first (:func:`posenb.nn.fuse.fuse_batchnorm`), so the runtimes see plain
Conv / Clip / Add graphs they fuse further (Conv + Clip, Pad + Conv).
"""

from __future__ import annotations

import copy
import io
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from posenb.errors import ModelError

__all__ = ["export_onnx", "OnnxRuntimeRunner", "OpenVinoRunner", "OPSET", "write_export_onnx"]

OPSET = 17


def _wrapper(model):
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    from posenb.nn.normalize import IMAGENET_MEAN, IMAGENET_STD  # noqa: PLC0415

    class _Fused(nn.Module):
        """uint8 NHWC RGB -> (heatmap, locref), with normalize_images' float32 operations in front."""

        def __init__(self, net):
            super().__init__()
            self.net = net
            self.register_buffer("mean", (torch.tensor(IMAGENET_MEAN) * 255.0).view(1, 3, 1, 1))
            self.register_buffer("inv_std", (1.0 / (torch.tensor(IMAGENET_STD) * 255.0)).view(1, 3, 1, 1))

        def forward(self, images):
            x = images.permute(0, 3, 1, 2).float()
            x = (x - self.mean) * self.inv_std
            out = self.net(x)
            return out["heatmap"], out["locref"]

    return _Fused(model).eval()


def export_onnx(model, example: np.ndarray, path: str | os.PathLike | None = None) -> bytes:
    """The ONNX model (bytes) of ``model`` for inputs of ``example``'s size; also written to ``path`` if given.

    ``model``: a :class:`posenb.nn.PoseModel` (not modified; a folded CPU float copy is exported);
    ``example``: ``(n, h, w, 3)`` uint8 RGB frames at network size. Raises :class:`ModelError` when the
    network cannot be exported.
    """
    import torch  # noqa: PLC0415

    from posenb.nn.fuse import fuse_batchnorm  # noqa: PLC0415
    from posenb.nn.normalize import normalize_images  # noqa: PLC0415

    example = np.ascontiguousarray(example[:2])
    net = copy.deepcopy(model).cpu().float().eval()
    net, _ = fuse_batchnorm(net, normalize_images(example))
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on the Python-computed paddings (fixed on purpose)
            with torch.no_grad():
                torch.onnx.export(
                    _wrapper(net),
                    (torch.from_numpy(example),),
                    buf,
                    input_names=["images"],
                    output_names=["heatmap", "locref"],
                    dynamic_axes={"images": {0: "n"}, "heatmap": {0: "n"}, "locref": {0: "n"}},
                    opset_version=OPSET,
                    dynamo=False,
                )
    except Exception as exc:  # noqa: BLE001 - any exporter failure means: this network cannot be exported
        raise ModelError(
            f"The {getattr(model, 'net_type', '')} network could not be exported to ONNX ({exc})."
        ) from exc
    data = buf.getvalue()
    if path is not None:
        tmp = f"{path}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return data


def _threads(threads: int | None) -> int:
    if threads:
        return max(1, int(threads))
    import torch  # noqa: PLC0415

    return max(1, torch.get_num_threads())


class OnnxRuntimeRunner:
    """ONNX Runtime CPU session; ``runner(frames uint8 (N, h, w, 3)) -> (heatmap, locref)`` numpy float32.

    Threads do not spin while waiting (other processes and posenb's decoder thread share the cores).
    """

    name = "onnxruntime"

    def __init__(self, onnx_model: bytes | str | os.PathLike, threads: int | None = None):
        import onnxruntime as ort  # noqa: PLC0415

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = _threads(threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3  # errors only (not the exporter's harmless unused-constant notes)
        model = onnx_model if isinstance(onnx_model, bytes) else str(onnx_model)
        self.session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])

    def __call__(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        heatmap, locref = self.session.run(None, {"images": np.ascontiguousarray(frames, dtype=np.uint8)})
        return heatmap, locref


class OpenVinoRunner:
    """OpenVINO CPU compiled model (latency hint, ``threads`` inference threads); same call as above.

    ``precision``: ``"float32"`` (default; ``INFERENCE_PRECISION_HINT=f32``) or ``"bfloat16"`` (``bf16``: about
    2x faster on CPUs with AMX / AVX512-BF16, key points within a fraction of a pixel; see
    :mod:`posenb.infer.backends`). The outputs are float32 arrays either way.
    """

    name = "openvino"

    def __init__(
        self, onnx_model: bytes | str | os.PathLike, threads: int | None = None, precision: str = "float32"
    ):
        import openvino as ov  # noqa: PLC0415

        core = ov.Core()
        if isinstance(onnx_model, bytes):
            with tempfile.TemporaryDirectory(prefix="posenb-ov-") as tmp:
                path = os.path.join(tmp, "model.onnx")
                with open(path, "wb") as f:
                    f.write(onnx_model)
                model = core.read_model(path)
        else:
            model = core.read_model(str(onnx_model))
        # f32 unless bfloat16 is asked for: on CPUs with bf16 units (AMX / AVX512-BF16) OpenVINO otherwise infers
        # in bf16 by default, which moves key points by up to a few pixels; float32 gives torch's key points
        config = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": _threads(threads),
            "INFERENCE_PRECISION_HINT": {"float32": "f32", "bfloat16": "bf16"}[precision],
        }
        self.precision = precision
        self.compiled = core.compile_model(model, "CPU", config)
        self.request = self.compiled.create_infer_request()

    def __call__(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        res = self.request.infer({0: np.ascontiguousarray(frames, dtype=np.uint8)})
        return np.array(res[0], copy=True), np.array(res[1], copy=True)


def write_export_onnx(predictor, small: np.ndarray, scripted, path: Path, runtimes: list[str]) -> bool:
    """``export_model``'s ONNX file: the network of ``predictor`` for ``small``'s size, checked with a runtime.

    ``small``: ``(n, h, w, 3)`` uint8 frames at network size; ``scripted``: the exported TorchScript model
    (the poses the runtime must reproduce); ``runtimes``: the installed ONNX runtimes, preferred first (the
    first one checks the file; :func:`posenb.infer.backends.available_backends` without ``"torch"``).

    Returns whether the file was written. Without ``posenb[fast]`` (or when the network cannot be exported, or
    a runtime's poses differ from the TorchScript module's) there is no ONNX file, with a note.
    """
    import importlib.util  # noqa: PLC0415

    import torch  # noqa: PLC0415

    if importlib.util.find_spec("onnx") is None:
        print('No ONNX file exported: pip install "posenb[fast]" for the faster CPU runtimes.')
        return False
    try:
        export_onnx(predictor.model, small, path)
        if runtimes:
            runner = (OnnxRuntimeRunner if runtimes[0] == "onnxruntime" else OpenVinoRunner)(path, threads=1)
            heatmap, locref = (torch.from_numpy(a) for a in runner(small))
            got = predictor.decode_maps(heatmap, locref)
            with torch.inference_mode():
                want = scripted(torch.from_numpy(np.ascontiguousarray(small)))
            if not torch.allclose(got, want, atol=1e-2, rtol=0):
                raise ModelError(f"{runtimes[0]} does not reproduce the TorchScript model's poses")
    except ModelError as exc:
        path.unlink(missing_ok=True)
        warnings.warn(f"No ONNX file exported: {exc}", stacklevel=3)
        return False
    return True
