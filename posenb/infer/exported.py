"""Loading what :func:`posenb.infer.export.export_model` wrote: :func:`load_exported_model` and
:class:`ExportedPredictor` (the folder's layout and the model's input and output: :mod:`posenb.infer.export`)."""

from __future__ import annotations

import json
import os
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from posenb.errors import ModelError

__all__ = ["ExportedPredictor", "load_exported_model", "EXPORT_FORMAT", "EXPORT_DIR"]

EXPORT_FORMAT = "posenb-export-1"
EXPORT_DIR = "exported-models"
_TORCHSCRIPT_SUFFIX = ".torchscript.pt"
_ONNX_SUFFIX = ".onnx"


@contextmanager
def _quiet_jit():
    """Silence torch.jit's deprecation notices (torch >= 2.10 marks TorchScript as deprecated; it still works,
    and it is what lets a live user run the model with torch alone) and the tracer's shape-check warnings."""
    import torch  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        yield


class ExportedPredictor:
    """An exported model with posenb's frame handling: frames in original pixels in and out.

    Attributes: ``module`` (the TorchScript model), ``info`` (README.json), ``bodyparts``, ``global_scale``,
    ``frame_size`` and ``input_size`` (``(width, height)`` before and after ``global_scale``), ``device``,
    ``backend`` and ``precision`` (``"float32"``, or ``"bfloat16"`` with OpenVINO when asked), ``window`` (the
    side of the export's window model, None without one) and ``dynamic`` (:func:`posenb.infer.follow.
    resolve_dynamic`'s ``(mode, threshold, margin)``).

    With a window model and ``dynamic`` not off, consecutive :meth:`predict` calls follow the animal
    (:mod:`posenb.infer.follow`): the frames must come from one video or camera in order; :meth:`reset` before
    another one. ``follower`` is the :class:`~posenb.infer.follow.Follower` of the current one (None before).
    """

    def __init__(self, module, info: dict, device, runner=None, window_module=None, window_runner=None,
                 dynamic="auto"):  # fmt: skip
        from posenb.infer.follow import resolve_dynamic  # noqa: PLC0415

        self.module = module
        self.runner = runner  # ONNX Runtime / OpenVINO runner of the .onnx file, or None (TorchScript)
        self.window_module, self.window_runner = window_module, window_runner
        self.backend = getattr(runner, "name", "torch")
        self.precision = getattr(runner, "precision", "float32")
        self.info = dict(info)
        self.device = device
        self.bodyparts = list(module.bodyparts)
        self.num_joints = len(self.bodyparts)
        self.global_scale = float(module.global_scale)
        self.input_size = (int(module.input_width), int(module.input_height))
        self.frame_size = tuple(self.info.get("frame_size") or ())
        self.window = int(window_module.input_width) if window_module is not None else None
        self.dynamic = resolve_dynamic(dynamic)
        self.follower = None

    @property
    def input_scale(self) -> float:
        return self.global_scale

    def scaled_size(self, width: int, height: int, scale: float = 1.0) -> tuple[int, int]:
        """``(w, h)`` of the network input for a ``width x height`` frame (as ``Predictor.scaled_size``)."""
        from posenb.data.augment import scaled_size  # noqa: PLC0415

        return scaled_size(width, height, self.global_scale * float(scale))

    def reset(self) -> None:
        """Forget where the animal was: the next frames start a new video or camera."""
        self.follower = None

    def run(self, small: np.ndarray) -> np.ndarray:
        """The exported network on ``(n, h, w, 3)`` uint8 frames at network size (``input_size``, or the
        window's ``window x window``): ``(n, K, 3)`` float64, x, y in network-input pixels, likelihood."""
        import torch  # noqa: PLC0415

        h, w = small.shape[1:3]
        if (w, h) == self.input_size:
            module, runner = self.module, self.runner
        elif self.window is not None and (w, h) == (self.window, self.window):
            module, runner = self.window_module, self.window_runner
        else:
            raise ModelError(
                f"This exported model takes {self.input_size[0]}x{self.input_size[1]} inputs, got {w}x{h}."
            )
        if runner is not None:
            from posenb.nn import decode  # noqa: PLC0415

            heatmap, locref = (torch.from_numpy(a) for a in runner(small))
            stride, std = float(self.info["stride"]), float(self.info["locref_std"])
            sigma, share = self.info.get("heatmap_sigma"), float(self.info.get("peak_weight") or 0.0)
            pose = decode(heatmap, locref, stride, std, heatmap_sigma=sigma, peak_weight=share)
        else:
            with torch.inference_mode():
                pose = module(torch.from_numpy(np.ascontiguousarray(small)).to(self.device))
        return pose.cpu().numpy().astype(np.float64)

    def predict(self, frames: np.ndarray) -> np.ndarray:
        """``(n, H, W, 3)`` (or ``(H, W, 3)``) uint8 RGB frames -> ``(n, K, 3)`` float64 in frame pixels.

        Frames are resized by ``global_scale`` like :meth:`posenb.infer.predictor.Predictor.predict`; their
        resized size must be the exported ``input_size`` (:class:`ModelError` otherwise).
        """
        from posenb.data.augment import rescale, to_frame_pixels  # noqa: PLC0415

        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if len(frames) == 0:
            return np.zeros((0, self.num_joints, 3))
        h, w = frames.shape[1:3]
        if self.scaled_size(w, h) != self.input_size:
            sw, sh = self.scaled_size(w, h)
            raise ModelError(
                f"Frames of {w}x{h} become {sw}x{sh} at global_scale "
                f"{self.global_scale}, but this model was exported for "
                f"{self.input_size[0]}x{self.input_size[1]} inputs. Export again "
                f"with export_model(..., frame_size=({w}, {h}), overwrite=True)."
            )
        mode, threshold, margin = self.dynamic
        if self.window is not None and mode != "off":
            from posenb.infer.follow import Follower  # noqa: PLC0415

            if self.follower is None:
                self.follower = Follower(self, (w, h), mode, threshold, margin, window=self.window)
            return self.follower.predict(frames)
        small = np.stack([rescale(f, None, self.global_scale)[0] for f in frames])
        return to_frame_pixels(self.run(small), (small.shape[2], small.shape[1]), (w, h))

    __call__ = predict


def load_exported_model(
    folder: str | os.PathLike,
    device=None,
    backend: str | None = "auto",
    threads: int | None = None,
    precision: str | None = "float32",
    dynamic="auto",
) -> ExportedPredictor:
    """Load an ``export_model`` folder (or its ``.torchscript.pt`` file) with ``torch.jit.load``.

    ``device``: ``"cpu"`` (default), ``"cuda"``, ... Returns an :class:`ExportedPredictor`; its ``module`` is
    the plain TorchScript model (see the module docstring for its input and output). ``backend``: ``"auto"``
    runs the folder's ``.onnx`` network with OpenVINO or ONNX Runtime on a CPU when installed (``predictor.
    backend`` says which), ``"torch"`` the TorchScript module; ``threads``: the runtime's compute threads.
    ``precision``: ``"float32"`` (default) or ``"bfloat16"``: OpenVINO computes in bfloat16 on CPUs with AMX /
    AVX512-BF16 (about 2x faster, key points ~0.15 px median from float32; :mod:`posenb.infer.backends`);
    the TorchScript module and ONNX Runtime stay float32 (with a warning). ``dynamic`` (DeepLabCut-Live's
    argument): ``"auto"`` (default) follows a single animal in the export's window model, when it has one
    (:class:`ExportedPredictor`); ``(False, 0.5, 10)``: whole frames only; ``(True, threshold, margin)``.

    A TorchScript file is a program (its code runs when the model is used): load only models you exported
    yourself or got from people you trust (see SECURITY.md).
    """
    import torch  # noqa: PLC0415

    from posenb.infer.backends import resolve_backend, resolve_precision  # noqa: PLC0415

    path = Path(folder)
    if path.is_dir():
        found = sorted(path.glob(f"*{_TORCHSCRIPT_SUFFIX}"))
        if not found:
            raise ModelError(
                f"{path} holds no *{_TORCHSCRIPT_SUFFIX} file; is it a posenb export_model folder?"
            )
        found = [f for f in found if ".window" not in f.name]  # the window model sits beside the main one
        if not found:
            raise ModelError(
                f"{path} holds no *{_TORCHSCRIPT_SUFFIX} file; is it a posenb export_model folder?"
            )
        path = found[-1]
    if not path.is_file():
        raise ModelError(f"Exported model {path} not found. Run posenb export_model(config) first.")
    device = torch.device(device or "cpu")
    extra = {"posenb_export.json": ""}
    try:
        with _quiet_jit():
            module = torch.jit.load(str(path), map_location=device, _extra_files=extra)
    except RuntimeError as exc:
        raise ModelError(f"{path} is not a TorchScript model ({exc}).") from None
    try:
        info = json.loads(extra["posenb_export.json"] or "{}")
    except json.JSONDecodeError:
        info = {}
    if not hasattr(module, "bodyparts"):
        raise ModelError(f"{path} is a TorchScript model but not one written by posenb's export_model.")
    # the ONNX file sits next to the TorchScript one (written after it: the file's embedded README lacks it)
    onnx_path = path.with_name(path.name[: -len(_TORCHSCRIPT_SUFFIX)] + _ONNX_SUFFIX)
    usable = path.name.endswith(_TORCHSCRIPT_SUFFIX) and onnx_path.is_file()
    name = resolve_backend(backend, device.type) if usable else "torch"
    precision = resolve_precision(precision, name, device.type)
    if name == "torch" and precision != "float32":
        warnings.warn("precision='bfloat16': the TorchScript module runs in float32.", stacklevel=2)
    runner = _runner(name, onnx_path, threads, precision)
    window_module = window_runner = None
    window = info.get("window") or {}
    if window.get("torchscript") and (path.parent / window["torchscript"]).is_file():
        window_path = path.parent / window["torchscript"]
        try:
            with _quiet_jit():
                window_module = torch.jit.load(str(window_path), map_location=device).eval()
        except RuntimeError as exc:
            raise ModelError(f"{window_path} is not a TorchScript model ({exc}).") from None
        window_onnx = window_path.with_name(window_path.name[: -len(_TORCHSCRIPT_SUFFIX)] + _ONNX_SUFFIX)
        if runner is not None and window_onnx.is_file():
            window_runner = _runner(name, window_onnx, threads, precision)
    return ExportedPredictor(
        module.eval(), info, device, runner=runner, window_module=window_module, window_runner=window_runner,
        dynamic=dynamic,
    )  # fmt: skip


def _runner(name: str, onnx_path: Path, threads, precision):
    """The ONNX Runtime / OpenVINO runner of an exported ``.onnx`` file, or None for ``"torch"``."""
    if name == "onnxruntime":
        from posenb.infer.backends.onnx import OnnxRuntimeRunner  # noqa: PLC0415

        return OnnxRuntimeRunner(onnx_path, threads=threads)
    if name == "openvino":
        from posenb.infer.backends.onnx import OpenVinoRunner  # noqa: PLC0415

        return OpenVinoRunner(onnx_path, threads=threads, precision=precision)
    return None
