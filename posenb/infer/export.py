"""``export_model``: a trained shuffle as a self-contained PyTorch model for real-time use (DLC §11).

DeepLabCut exports a TensorFlow frozen graph for DeepLabCut-Live; posenb exports a TorchScript module that
needs nothing but ``torch`` to run. Folder (DeepLabCut's name)::

    <project>/exported-models/DLC_<Task>_<net_type>_iteration-<N>_shuffle-<k>/
        pose_cfg.yaml                  test pose_cfg of the shuffle (+ paths, scale, stride), keys sorted
        snapshot-<iter>.pt             the posenb snapshot, weights only (no optimizer state)
        snapshot-<iter>.torchscript.pt the live model (torch.jit.load)
        snapshot-<iter>.onnx           the network for ONNX Runtime / OpenVINO (with ``posenb[fast]``): uint8 RGB
                                       (N, h, w, 3) in, raw heatmap and locref out (decode as posenb.nn.decode)
        snapshot-<iter>.window<S>.torchscript.pt, snapshot-<iter>.window<S>.onnx
                                       the same network for an S x S window that follows the animal (when the
                                       model was trained on crops much smaller than the frame; README.json
                                       "window"): see "Following the animal" below
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

Following the animal: a single animal that fills a small part of the frame is analysed, as ``analyze_videos``
does by default, in an S x S window that follows it (:mod:`posenb.infer.follow`; S = the training crop plus 48 px
on every side, a multiple of 32: 256 for the openfield recipe's 160 px crops). :func:`load_exported_model`'s
predictor does it frame after frame (``dynamic="auto"``, DeepLabCut-Live's argument): call ``reset()`` before
the frames of another video or camera, or pass ``dynamic=(False, 0.5, 10)`` for whole frames only.

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
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, ModelError, PosenbError
from posenb.infer.backends import available_backends
from posenb.infer.backends.onnx import write_export_onnx
from posenb.infer.export_readme import readme_text
from posenb.infer.exported import (  # noqa: F401 - public names of this module since the first release
    _ONNX_SUFFIX,
    _TORCHSCRIPT_SUFFIX,
    EXPORT_DIR,
    EXPORT_FORMAT,
    ExportedPredictor,
    _quiet_jit,
    load_exported_model,
)
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

_WIPED_KEYS = ("init_weights", "project_path", "snapshot_prefix")


class ExportExistsError(PosenbError, FileExistsError):
    """The export folder exists already and ``overwrite`` is False."""


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
    from posenb.infer.predictor import load_predictor  # noqa: PLC0415

    cfg = dict(read_config(cfg_path))
    if iteration is not None:
        cfg["iteration"] = int(iteration)
    project = Path(cfg["project_path"])
    fraction, model_dir, snapshot = _locate_snapshot(
        cfg, shuffle, int(trainingsetindex), snapshotindex, modelprefix
    )
    predictor, info = load_predictor(cfg, shuffle, int(trainingsetindex), snapshot=snapshot)

    export_root = project / EXPORT_DIR
    name = export_folder_name(cfg["Task"], info["net_type"], cfg["iteration"], shuffle)
    target = export_root / name
    if target.exists() and not overwrite:
        raise ExportExistsError(
            f"Export folder {target} already exists. Pass overwrite=True to replace it, or move it away "
            "first."
        )

    (frame_w, frame_h), small, scripted = _trace_for_frames(
        cfg, shuffle, int(trainingsetindex), predictor, frame_size
    )
    window = _trace_window(predictor, small)

    pose_cfg = _pose_cfg(
        _read_test_cfg(model_dir), snapshot=snapshot, train_dir=model_dir / "train", project=project,
        predictor=predictor, info=info, wipe=wipepaths,
    )  # fmt: skip
    readme = _readme_info(cfg, shuffle, fraction, snapshot, predictor, info, (frame_w, frame_h))
    export_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=export_root))
    tmp.chmod(0o755)  # mkdtemp makes it private
    try:
        _write_export_files(tmp, snapshot, pose_cfg, readme, scripted, predictor, small, window)
        _replace_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _write_tar(target, make_tar)
    return target


def _trace_for_frames(cfg: dict, shuffle: int, trainingsetindex: int, predictor, frame_size):
    """``((frame_w, frame_h), example inputs at network size, traced live model)`` for frames of ``frame_size``
    (None: the most common size of the labeled frames)."""
    from posenb.data.augment import rescale  # noqa: PLC0415

    if frame_size is None:
        frame_size = _frame_size(cfg, shuffle, trainingsetindex)
    frame_w, frame_h = (int(v) for v in frame_size)
    frames = _example_frames(cfg, shuffle, trainingsetindex, (frame_w, frame_h))
    small = np.stack([rescale(f, None, predictor.global_scale)[0] for f in frames])
    scripted, _ = trace_live_model(predictor, small)
    return (frame_w, frame_h), small, scripted


def _trace_window(predictor, small: np.ndarray):
    """``(side, example windows, traced live model)`` of the window that follows the animal, or None where
    following would not pay (:func:`posenb.infer.follow.export_window_side`)."""
    from posenb.infer.follow import export_window_side  # noqa: PLC0415

    h, w = small.shape[1:3]
    side = export_window_side(predictor.train_crop, (w, h))
    if side is None:
        return None
    y0, x0 = (h - side) // 64 * 32, (w - side) // 64 * 32  # an aligned window near the middle of the examples
    windows = np.ascontiguousarray(small[:, y0 : y0 + side, x0 : x0 + side])
    scripted, _ = trace_live_model(predictor, windows)
    return side, windows, scripted


def _read_test_cfg(model_dir: Path) -> dict:
    """The shuffle's ``test/pose_cfg.yaml`` ({} when missing)."""
    from posenb.data.pose_cfg import read_pose_cfg  # noqa: PLC0415

    path = model_dir / "test" / "pose_cfg.yaml"
    return read_pose_cfg(path) if path.is_file() else {}


def _locate_snapshot(cfg: dict, shuffle: int, trainingsetindex: int, snapshotindex, modelprefix: str):
    """``(train fraction, model folder, snapshot path)`` of the shuffle (``snapshotindex`` None: config's)."""
    from posenb.nn.snapshots import select_snapshot  # noqa: PLC0415

    fractions = cfg["TrainingFraction"]
    if not 0 <= trainingsetindex < len(fractions):
        raise ConfigError(
            f"trainingsetindex={trainingsetindex} is out of range: TrainingFraction is {fractions}."
        )
    fraction = fractions[trainingsetindex]
    model_dir = Path(cfg["project_path"]) / paths.get_model_folder(fraction, shuffle, cfg, modelprefix)
    if snapshotindex is None:
        snapshotindex = cfg.get("snapshotindex", -1)
    if snapshotindex == "all":
        print("snapshotindex is 'all': exporting the last snapshot.")
        snapshotindex = -1
    return fraction, model_dir, select_snapshot(model_dir / "train", snapshotindex)


def _readme_info(
    cfg: dict, shuffle: int, fraction, snapshot: Path, predictor, info: dict, frame_size
) -> dict:
    """README.json's content (also embedded in the TorchScript file)."""
    import torch  # noqa: PLC0415

    from posenb import __version__  # noqa: PLC0415
    from posenb.nn.snapshots import snapshot_iteration  # noqa: PLC0415

    frame_w, frame_h = frame_size
    return {
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
        "heatmap_sigma": predictor.model.heatmap_sigma,
        "peak_weight": predictor.model.peak_weight,
        "frame_size": [frame_w, frame_h],
        "input_size": list(predictor.scaled_size(frame_w, frame_h)),
        "input": "RGB (N, H, W, 3) or (H, W, 3), uint8 or float in 0-255; (W, H) = input_size",
        "output": "(N, K, 3) float32: x, y in input pixels, likelihood in [0, 1]",
        "torchscript": snapshot.stem + _TORCHSCRIPT_SUFFIX,
        "weights": snapshot.name,
        "posenb_version": __version__,
        "torch_version": torch.__version__,
    }


def _write_export_files(
    folder: Path, snapshot: Path, pose_cfg: dict, readme: dict, scripted, predictor, small, window=None
):
    """The export's files in ``folder`` (the temporary one); the TorchScript file is checked after loading.
    ``window``: :func:`_trace_window`'s ``(side, example windows, traced model)`` or None."""
    import torch  # noqa: PLC0415
    import yaml  # noqa: PLC0415

    from posenb.nn.snapshots import load_snapshot  # noqa: PLC0415

    state = load_snapshot(snapshot)
    weights = {k: v for k, v in state.items() if k not in ("optimizer", "scheduler", "scaler")}
    script_name = readme["torchscript"]
    if window is not None:  # named in the README embedded in the main TorchScript file
        side, windows, scripted_window = window
        stem = f"{snapshot.stem}.window{side}"
        readme["window"] = {"side": side, "torchscript": stem + _TORCHSCRIPT_SUFFIX}
    _write_text(folder / "pose_cfg.yaml", yaml.safe_dump(pose_cfg, sort_keys=True, default_flow_style=None))
    torch.save(weights, folder / readme["weights"])
    text = json.dumps(readme, indent=2)
    with _quiet_jit():
        torch.jit.save(scripted, str(folder / script_name), _extra_files={"posenb_export.json": text})
    _write_text(folder / "README.txt", readme_text(readme))
    _check_saved(folder / script_name, small, scripted)
    if window is not None:
        with _quiet_jit():
            torch.jit.save(scripted_window, str(folder / (stem + _TORCHSCRIPT_SUFFIX)))
        _check_saved(folder / (stem + _TORCHSCRIPT_SUFFIX), windows, scripted_window)
    runtimes = [b for b in available_backends() if b != "torch"]
    if write_export_onnx(predictor, small, scripted, folder / (snapshot.stem + _ONNX_SUFFIX), runtimes):
        readme["onnx"] = snapshot.stem + _ONNX_SUFFIX
        if window is not None and write_export_onnx(
            predictor, windows, scripted_window, folder / (stem + _ONNX_SUFFIX), runtimes
        ):
            readme["window"]["onnx"] = stem + _ONNX_SUFFIX
    _write_text(folder / "README.json", json.dumps(readme, indent=2) + "\n")


def _replace_folder(tmp: Path, target: Path) -> None:
    """Move the finished ``tmp`` folder to ``target``, replacing an older export (kept aside until then)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_tar(target: Path, make_tar: bool) -> None:
    """``<target>.tar.gz`` next to the folder, atomically; without ``make_tar`` an older archive is removed."""
    name = target.name
    tar_path = target.with_name(f"{name}.tar.gz")
    if not make_tar:
        tar_path.unlink(missing_ok=True)  # an archive of the export just replaced would no longer match it
        return
    fd, tmp_tar = tempfile.mkstemp(prefix=f".{name}.", suffix=".tar.gz", dir=target.parent)
    os.close(fd)
    os.chmod(tmp_tar, 0o644)
    try:
        with tarfile.open(tmp_tar, "w:gz") as tar:
            tar.add(target, arcname=name)
        os.replace(tmp_tar, tar_path)
    except BaseException:
        Path(tmp_tar).unlink(missing_ok=True)
        raise


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
