"""``export_model``: a trained shuffle as a self-contained PyTorch model for real-time use (DLC §11).

DeepLabCut exports a TensorFlow frozen graph for DeepLabCut-Live; posenb exports a TorchScript module that
needs nothing but ``torch`` to run. Folder (DeepLabCut's name)::

    <project>/exported-models/DLC_<Task>_<net_type>_iteration-<N>_shuffle-<k>/
        pose_cfg.yaml                  test pose_cfg of the shuffle (+ paths, scale, stride), keys sorted
        snapshot-<iter>.pt             the posenb snapshot, weights only (no optimizer state)
        snapshot-<iter>.torchscript.pt the live model (torch.jit.load)
        snapshot-<iter>.onnx           the network for ONNX Runtime / OpenVINO (with ``posenb[fast]``): uint8 RGB
                                       (N, h, w, 3) in, raw heatmap and locref out (decode as posenb.nn.decode)
        README.txt, README.json        input format, body parts, global_scale, stride, input size
    <project>/exported-models/DLC_..._shuffle-<k>.tar.gz   (make_tar=True) the folder as one archive

The TorchScript module (:class:`posenb.infer._live.LivePoseModel`) takes RGB images at network size,
``(N, h, w, 3)`` or ``(h, w, 3)``, uint8 or float in 0-255, and returns ``(N, K, 3)`` float32: x, y in pixels
of that input and the likelihood in [0, 1]. It contains the ImageNet normalisation, the network (BatchNorm
folded into the convolutions, as :class:`~posenb.infer.predictor.Predictor` does) and the decoding of
:func:`posenb.nn.decode`. Two things stay outside, in the caller's hands:

- **global_scale**: posenb runs the network on frames resized by the snapshot's ``global_scale``. Resize a
  ``W x H`` frame to ``(round(W * s), round(H * s))`` (OpenCV ``INTER_AREA`` when shrinking, ``INTER_LINEAR``
  when enlarging) and map the poses back with ``x = (x' + 0.5) / sx - 0.5`` (``sx`` = new width / W; same for
  y). :func:`load_exported_model` returns a predictor that does both.
- **input size**: the network is traced for one input size (posenb's backbones compute paddings and crops in
  Python, which a trace freezes; ``torch.export`` of the dynamic-size model took minutes and could not be
  saved), by default the most common size of the shuffle's labeled frames times ``global_scale``. The module
  refuses other sizes with a message; export again with ``frame_size=(width, height)`` for another camera.

:func:`load_exported_model` runs the ONNX file with the fastest installed runtime on a CPU (``backend="auto"``,
about 2x the TorchScript module's speed; see :mod:`posenb.infer.backends`), else the TorchScript module.

``TFGPUinference`` is accepted for DeepLabCut compatibility and ignored (there is no TensorFlow graph); the
module runs on CPU or GPU (``torch.jit.load(path, map_location="cuda")``).
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import tempfile
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, ModelError, PosenbError
from posenb.infer.backends.onnx import write_export_onnx
from posenb.project import paths
from posenb.project.config import read_config

__all__ = [
    "export_model",
    "load_exported_model",
    "ExportedPredictor",
    "ExportExistsError",
    "export_folder_name",
    "trace_live_model",
    "EXPORT_FORMAT",
]

EXPORT_FORMAT = "posenb-export-1"
EXPORT_DIR = "exported-models"
_TORCHSCRIPT_SUFFIX = ".torchscript.pt"
_ONNX_SUFFIX = ".onnx"
_WIPED_KEYS = ("init_weights", "project_path", "snapshot_prefix")


class ExportExistsError(PosenbError, FileExistsError):
    """The export folder exists already and ``overwrite`` is False."""


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


def export_folder_name(task: str, net_type: str, iteration: int, shuffle: int) -> str:
    """DeepLabCut's folder name: ``DLC_<Task>_<net_type>_iteration-<N>_shuffle-<k>``."""
    return f"DLC_{task}_{net_type}_iteration-{int(iteration)}_shuffle-{int(shuffle)}"


def _frame_size(cfg: dict, shuffle: int, trainingsetindex: int) -> tuple[int, int]:
    """``(width, height)`` most common among the shuffle's labeled frames (read from the image headers)."""
    from posenb.data.trainingset import image_shape, read_training_split  # noqa: PLC0415

    data, _, _, _ = read_training_split(cfg, shuffle, trainingsetindex)
    project = Path(cfg["project_path"])
    sizes = Counter()
    for parts in data.index:
        try:
            _, h, w = image_shape(project.joinpath(*[str(p) for p in parts]))
        except PosenbError:
            continue
        sizes[(w, h)] += 1
    if not sizes:
        raise ConfigError(
            f"No labeled frame of shuffle {shuffle} could be read to find the frame size; pass "
            "frame_size=(width, height) to export_model."
        )
    (size, _), *others = sizes.most_common()
    if others:
        warnings.warn(
            f"The labeled frames have several sizes {sorted(sizes)}; exporting for {size[0]}x{size[1]}. "
            "Export again with frame_size=(width, height) for another camera.",
            stacklevel=3,
        )
    return size


def _example_frames(cfg: dict, shuffle: int, trainingsetindex: int, size: tuple[int, int]) -> np.ndarray:
    """Up to two labeled frames of ``size`` (``(n, H, W, 3)`` uint8), else a fixed random frame."""
    from posenb.data.dataset import read_image  # noqa: PLC0415
    from posenb.data.trainingset import image_shape, read_training_split  # noqa: PLC0415

    frames = []
    try:
        data, _, _, _ = read_training_split(cfg, shuffle, trainingsetindex)
        project = Path(cfg["project_path"])
        for parts in data.index:
            path = project.joinpath(*[str(p) for p in parts])
            if path.is_file() and image_shape(path)[1:] == (size[1], size[0]):
                frames.append(read_image(path))
                if len(frames) == 2:
                    break
    except PosenbError:
        pass
    if not frames:
        frames = [np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)]
    return np.stack(frames)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _readme_text(info: dict) -> str:
    w, h = info["input_size"]
    fw, fh = info["frame_size"]
    interp = "INTER_AREA" if info["global_scale"] < 1 else "INTER_LINEAR"
    return f"""posenb exported model ({info["format"]})
{"=" * 40}
Project task {info["task"]}, iteration {info["iteration"]}, shuffle {info["shuffle"]}, training fraction \
{info["train_fraction"]}, {info["snapshot"]} ({info["training_iterations"]} iterations), \
net_type {info["net_type"]}.

Files
  {info["torchscript"]}  TorchScript live model: needs only torch (torch.jit.load)
  {info["weights"]}  posenb snapshot, weights only (posenb.infer.predictor / torch.load(weights_only=True))
  pose_cfg.yaml  test pose configuration (keys sorted), README.json  the same facts as this file

Input
  RGB images at network size, shape (N, {h}, {w}, 3) or ({h}, {w}, 3), uint8 or float in 0-255 (not 0-1).
  The module normalises them itself (ImageNet mean / std). Other sizes are refused.
  Frames of the camera ({fw} x {fh}) must first be resized by global_scale = {info["global_scale"]}
  to {w} x {h} (OpenCV INTER_AREA when shrinking, INTER_LINEAR when enlarging).
Output
  (N, K, 3) float32: x, y in pixels of the network input, likelihood in [0, 1];
  K = {len(info["bodyparts"])} body parts in this order: {", ".join(info["bodyparts"])}
  Back to frame pixels: x = (x' + 0.5) / sx - 0.5 with sx = {w} / {fw}; y likewise with sy = {h} / {fh}.
Model
  output stride {info["stride"]} (score maps of ceil(h / {info["stride"]:g}) x ceil(w / {info["stride"]:g}) \
cells), locref_stdev {info["locref_std"]};
  argmax of each score map + location refinement, likelihood = sigmoid(score) at the argmax
  (DeepLabCut's decoding).

Use (torch only)
  import cv2, torch
  model = torch.jit.load("{info["torchscript"]}")          # map_location="cuda" for a GPU
  small = cv2.resize(frame_rgb, ({w}, {h}), interpolation=cv2.{interp})
  with torch.inference_mode():
      pose = model(torch.from_numpy(small))[0]            # (K, 3)
  x = (pose[:, 0] + 0.5) * {fw} / {w} - 0.5;  y = (pose[:, 1] + 0.5) * {fh} / {h} - 0.5
  model.bodyparts, model.global_scale, model.input_width, model.input_height are attributes of the module.
Use (posenb)
  predictor = posenb.infer.export.load_exported_model("<this folder>");  poses = predictor.predict(frames)

Exported with posenb {info["posenb_version"]}, torch {info["torch_version"]}.
"""


def _pose_cfg(
    test_cfg: dict, *, snapshot: Path, train_dir: Path, project: Path, predictor, info: dict, wipe: bool
):
    bodyparts = list(predictor.bodyparts)
    cfg = dict(test_cfg)
    cfg.update(
        all_joints=[[i] for i in range(len(bodyparts))],
        all_joints_names=bodyparts,
        num_joints=len(bodyparts),
        net_type=info["net_type"],
        global_scale=float(predictor.global_scale),  # the scale the snapshot was trained and runs at
        stride=float(predictor.model.stride),
        locref_stdev=float(predictor.model.locref_std),
        location_refinement=True,
        num_outputs=1,
        init_weights=str(snapshot.with_suffix("")),  # DeepLabCut: the snapshot used, without extension
        project_path=str(project),
        snapshot_prefix=str(train_dir / "snapshot"),
    )
    if wipe:
        cfg.update({k: "TBA" for k in _WIPED_KEYS})
    return {k: cfg[k] for k in sorted(cfg)}


def trace_live_model(predictor, example_small: np.ndarray):
    """The TorchScript live model of a :class:`~posenb.infer.predictor.Predictor`, for inputs of one size.

    ``example_small``: ``(n, h, w, 3)`` uint8 RGB frames already at network size (resized by
    ``global_scale``); the model accepts exactly ``h x w``. Returns ``(scripted LivePoseModel, number of
    BatchNorm layers folded)``; :class:`ModelError` if the traced module does not reproduce the network's
    poses on the example.
    """
    import copy  # noqa: PLC0415

    import torch  # noqa: PLC0415

    from posenb.infer._live import LivePoseModel, PoseCore  # noqa: PLC0415
    from posenb.nn.fuse import fuse_batchnorm  # noqa: PLC0415
    from posenb.nn.normalize import normalize_images  # noqa: PLC0415

    # channels-last weights and input, as the Predictor on a CPU: the same kernels give the same numbers (so
    # even near-ties between score-map cells, e.g. in an untrained model, are decided as the Predictor does)
    model = copy.deepcopy(predictor.model).cpu().float().eval().to(memory_format=torch.channels_last)
    x = normalize_images(example_small, channels_last=True)
    model, n_fused = fuse_batchnorm(model, x)
    model.to(memory_format=torch.channels_last)
    core = PoseCore(model).eval()
    with _quiet_jit():  # the trace fixes the input size on purpose
        with torch.no_grad():
            traced = torch.jit.trace(core, x, check_trace=False)
        h, w = example_small.shape[1:3]
        live = LivePoseModel(traced, h, w, predictor.bodyparts, predictor.global_scale, float(model.stride))
        scripted = torch.jit.script(live.eval())
    with torch.inference_mode():
        expected = core(x)
        got = scripted(torch.from_numpy(np.ascontiguousarray(example_small)))
    if got.shape != expected.shape or not torch.allclose(got, expected, atol=1e-3, rtol=0):
        raise ModelError("The traced model does not reproduce the network's poses; it was not exported.")
    return scripted, n_fused


def export_model(
    cfg_path: str | os.PathLike,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    snapshotindex: int | str | None = None,
    iteration: int | None = None,
    TFGPUinference: bool = True,
    overwrite: bool = False,
    make_tar: bool = True,
    wipepaths: bool = False,
    modelprefix: str = "",
    *,
    frame_size: tuple[int, int] | None = None,
) -> Path:
    """Export a trained shuffle for real-time use (DeepLabCut's API; TorchScript instead of a TF graph).

    Parameters
    ----------
    cfg_path : project config.yaml.
    shuffle, trainingsetindex : which model (``TrainingFraction[trainingsetindex]``).
    snapshotindex : index into the shuffle's snapshots (ascending; -1 = last); None: config ``snapshotindex``
        (``"all"`` exports the last one).
    iteration : active-learning iteration of the model folder; None: config ``iteration``.
    TFGPUinference : ignored (DeepLabCut compatibility; there is no TensorFlow graph).
    overwrite : replace an existing export of this shuffle (else :class:`ExportExistsError`, which is also a
        ``FileExistsError`` as DeepLabCut raises). The new export is written to a temporary folder first.
    make_tar : also write ``<folder>.tar.gz`` next to the folder (without it, an older archive of the same
        name is removed: it would describe the replaced export).
    wipepaths : write ``"TBA"`` for ``init_weights``, ``project_path`` and ``snapshot_prefix`` in
        pose_cfg.yaml.
    modelprefix : sub-folder of the project holding ``dlc-models`` (DeepLabCut's option).
    frame_size : posenb only: ``(width, height)`` of the camera frames the live model will get (before
        ``global_scale``); default the most common size of the shuffle's labeled frames.

    Returns the export folder. See the module docstring for its files and the model's input and output.
    """
    del TFGPUinference
    import torch  # noqa: PLC0415

    from posenb import __version__  # noqa: PLC0415
    from posenb.data.augment import rescale  # noqa: PLC0415
    from posenb.data.trainingset import read_pose_cfg  # noqa: PLC0415
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415
    from posenb.nn.snapshots import load_snapshot, select_snapshot, snapshot_iteration  # noqa: PLC0415

    cfg = dict(read_config(cfg_path))
    if iteration is not None:
        cfg["iteration"] = int(iteration)
    project = Path(cfg["project_path"])
    fractions = cfg["TrainingFraction"]
    if not 0 <= int(trainingsetindex) < len(fractions):
        raise ConfigError(
            f"trainingsetindex={trainingsetindex} is out of range: TrainingFraction is {fractions}."
        )
    fraction = fractions[int(trainingsetindex)]
    model_dir = project / paths.get_model_folder(fraction, shuffle, cfg, modelprefix)
    train_dir = model_dir / "train"
    if snapshotindex is None:
        snapshotindex = cfg.get("snapshotindex", -1)
    if snapshotindex == "all":
        print("snapshotindex is 'all': exporting the last snapshot.")
        snapshotindex = -1
    snapshot = select_snapshot(train_dir, snapshotindex)
    predictor, info = load_predictor(cfg, shuffle, int(trainingsetindex), snapshot=snapshot)

    export_root = project / EXPORT_DIR
    name = export_folder_name(cfg["Task"], info["net_type"], cfg["iteration"], shuffle)
    target = export_root / name
    if target.exists() and not overwrite:
        raise ExportExistsError(
            f"Export folder {target} already exists. Pass overwrite=True to replace it, or move it away "
            "first."
        )

    if frame_size is None:
        frame_size = _frame_size(cfg, shuffle, int(trainingsetindex))
    frame_w, frame_h = (int(v) for v in frame_size)
    input_w, input_h = predictor.scaled_size(frame_w, frame_h)
    frames = _example_frames(cfg, shuffle, int(trainingsetindex), (frame_w, frame_h))
    small = np.stack([rescale(f, None, predictor.global_scale)[0] for f in frames])
    scripted, _ = trace_live_model(predictor, small)

    test_cfg_path = model_dir / "test" / "pose_cfg.yaml"
    test_cfg = read_pose_cfg(test_cfg_path) if test_cfg_path.is_file() else {}
    pose_cfg = _pose_cfg(
        test_cfg,
        snapshot=snapshot,
        train_dir=train_dir,
        project=project,
        predictor=predictor,
        info=info,
        wipe=wipepaths,
    )
    weights_name = snapshot.name
    script_name = snapshot.stem + _TORCHSCRIPT_SUFFIX
    readme = {
        "format": EXPORT_FORMAT,
        "task": cfg["Task"],
        "iteration": int(cfg["iteration"]),
        "shuffle": int(shuffle),
        "train_fraction": float(fraction),
        "snapshot": snapshot.stem,
        "training_iterations": snapshot_iteration(snapshot),
        "scorer": info["scorer"],
        "net_type": info["net_type"],
        "bodyparts": list(predictor.bodyparts),
        "global_scale": float(predictor.global_scale),
        "stride": float(predictor.model.stride),
        "locref_std": float(predictor.model.locref_std),
        "frame_size": [frame_w, frame_h],
        "input_size": [input_w, input_h],
        "input": "RGB (N, H, W, 3) or (H, W, 3), uint8 or float in 0-255; (W, H) = input_size",
        "output": "(N, K, 3) float32: x, y in input pixels, likelihood in [0, 1]",
        "torchscript": script_name,
        "weights": weights_name,
        "posenb_version": __version__,
        "torch_version": torch.__version__,
    }
    state = load_snapshot(snapshot)
    weights = {k: v for k, v in state.items() if k not in ("optimizer", "scheduler", "scaler")}

    export_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=export_root))
    tmp.chmod(0o755)  # mkdtemp makes it private
    try:
        import yaml  # noqa: PLC0415

        _write_text(tmp / "pose_cfg.yaml", yaml.safe_dump(pose_cfg, sort_keys=True, default_flow_style=None))
        torch.save(weights, tmp / weights_name)
        text = json.dumps(readme, indent=2)
        with _quiet_jit():
            torch.jit.save(scripted, str(tmp / script_name), _extra_files={"posenb_export.json": text})
        _write_text(tmp / "README.json", text + "\n")
        _write_text(tmp / "README.txt", _readme_text(readme))
        _check_saved(tmp / script_name, small, scripted)
        if write_export_onnx(predictor, small, scripted, tmp / (snapshot.stem + _ONNX_SUFFIX)):
            readme["onnx"] = snapshot.stem + _ONNX_SUFFIX
            text = json.dumps(readme, indent=2)
            _write_text(tmp / "README.json", text + "\n")
        old = None
        if target.exists():
            old = target.with_name(f".{name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    tar_path = export_root / f"{name}.tar.gz"
    if not make_tar:
        tar_path.unlink(missing_ok=True)  # an archive of the export just replaced would no longer match it
    else:
        fd, tmp_tar = tempfile.mkstemp(prefix=f".{name}.", suffix=".tar.gz", dir=export_root)
        os.close(fd)
        os.chmod(tmp_tar, 0o644)
        try:
            with tarfile.open(tmp_tar, "w:gz") as tar:
                tar.add(target, arcname=name)
            os.replace(tmp_tar, tar_path)
        except BaseException:
            Path(tmp_tar).unlink(missing_ok=True)
            raise
    return target


def _check_saved(path: Path, small: np.ndarray, scripted) -> None:
    """The saved file, loaded back, gives the in-memory module's poses."""
    import torch  # noqa: PLC0415

    with _quiet_jit():
        loaded = torch.jit.load(str(path), map_location="cpu")
    x = torch.from_numpy(np.ascontiguousarray(small))
    with torch.inference_mode():
        if not torch.allclose(loaded(x), scripted(x), atol=1e-4, rtol=0):
            raise ModelError(
                f"{path} does not reproduce the exported model after loading; nothing was exported."
            )


class ExportedPredictor:
    """An exported model with posenb's frame handling: frames in original pixels in and out.

    Attributes: ``module`` (the TorchScript model), ``info`` (README.json), ``bodyparts``, ``global_scale``,
    ``frame_size`` and ``input_size`` (``(width, height)`` before and after ``global_scale``), ``device``.
    """

    def __init__(self, module, info: dict, device, runner=None):
        self.module = module
        self.runner = runner  # ONNX Runtime / OpenVINO runner of the .onnx file, or None (TorchScript)
        self.backend = getattr(runner, "name", "torch")
        self.info = dict(info)
        self.device = device
        self.bodyparts = list(module.bodyparts)
        self.num_joints = len(self.bodyparts)
        self.global_scale = float(module.global_scale)
        self.input_size = (int(module.input_width), int(module.input_height))
        self.frame_size = tuple(self.info.get("frame_size") or ())

    def predict(self, frames: np.ndarray) -> np.ndarray:
        """``(n, H, W, 3)`` (or ``(H, W, 3)``) uint8 RGB frames -> ``(n, K, 3)`` float64 in frame pixels.

        Frames are resized by ``global_scale`` like :meth:`posenb.infer.predictor.Predictor.predict`; their
        resized size must be the exported ``input_size`` (:class:`ModelError` otherwise).
        """
        import torch  # noqa: PLC0415

        from posenb.data.augment import rescale  # noqa: PLC0415

        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if len(frames) == 0:
            return np.zeros((0, self.num_joints, 3))
        h, w = frames.shape[1:3]
        small = np.stack([rescale(f, None, self.global_scale)[0] for f in frames])
        if small.shape[2] != self.input_size[0] or small.shape[1] != self.input_size[1]:
            raise ModelError(
                f"Frames of {w}x{h} become {small.shape[2]}x{small.shape[1]} at global_scale "
                f"{self.global_scale}, but this model was exported for "
                f"{self.input_size[0]}x{self.input_size[1]} inputs. Export again "
                f"with export_model(..., frame_size=({w}, {h}), overwrite=True)."
            )
        if self.runner is not None:
            from posenb.nn import decode  # noqa: PLC0415

            heatmap, locref = (torch.from_numpy(a) for a in self.runner(small))
            pose = decode(heatmap, locref, float(self.info["stride"]), float(self.info["locref_std"]))
        else:
            with torch.inference_mode():
                pose = self.module(torch.from_numpy(np.ascontiguousarray(small)).to(self.device))
        pose = pose.cpu().numpy().astype(np.float64)
        sx, sy = small.shape[2] / w, small.shape[1] / h
        pose[..., 0] = (pose[..., 0] + 0.5) / sx - 0.5
        pose[..., 1] = (pose[..., 1] + 0.5) / sy - 0.5
        return pose

    __call__ = predict


def load_exported_model(
    folder: str | os.PathLike, device=None, backend: str | None = "auto", threads: int | None = None
) -> ExportedPredictor:
    """Load an ``export_model`` folder (or its ``.torchscript.pt`` file) with ``torch.jit.load``.

    ``device``: ``"cpu"`` (default), ``"cuda"``, ... Returns an :class:`ExportedPredictor`; its ``module`` is
    the plain TorchScript model (see the module docstring for its input and output). ``backend``: ``"auto"``
    runs the folder's ``.onnx`` network with OpenVINO or ONNX Runtime on a CPU when installed (``predictor.
    backend`` says which), ``"torch"`` the TorchScript module; ``threads``: the runtime's compute threads.

    A TorchScript file is a program (its code runs when the model is used): load only models you exported
    yourself or got from people you trust (see SECURITY.md).
    """
    import torch  # noqa: PLC0415

    from posenb.infer.backends import resolve_backend  # noqa: PLC0415

    path = Path(folder)
    if path.is_dir():
        found = sorted(path.glob(f"*{_TORCHSCRIPT_SUFFIX}"))
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
    runner = None
    # the ONNX file sits next to the TorchScript one (written after it: the file's embedded README lacks it)
    onnx_path = path.with_name(path.name[: -len(_TORCHSCRIPT_SUFFIX)] + _ONNX_SUFFIX)
    usable = path.name.endswith(_TORCHSCRIPT_SUFFIX) and onnx_path.is_file()
    name = resolve_backend(backend, device.type) if usable else "torch"
    if name != "torch":
        from posenb.infer.backends.onnx import OnnxRuntimeRunner, OpenVinoRunner  # noqa: PLC0415

        runner = (OnnxRuntimeRunner if name == "onnxruntime" else OpenVinoRunner)(onnx_path, threads=threads)
    return ExportedPredictor(module.eval(), info, device, runner=runner)
