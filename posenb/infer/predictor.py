"""Batched inference shared by ``analyze_videos`` and ``evaluate_network``.

:class:`Predictor` wraps a trained :class:`posenb.nn.PoseModel` loaded from a snapshot: frames (uint8 RGB,
original pixels) in, key points ``(n, K, 3)`` (x, y in original frame pixels, likelihood in [0, 1]) out. The
frames are resized by the snapshot's ``global_scale`` first (posenb trains and infers at the same scale), and
coordinates are mapped back with the pixel-centre convention of :func:`posenb.data.augment.rescale`:
``x = (x' + 0.5) / sx - 0.5``.

:func:`load_predictor` picks the snapshot of a shuffle (config ``snapshotindex`` or an explicit one), checks
that it was trained on the project's body parts, and returns the DLC scorer string with it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from posenb.data.augment import DEFAULT_GLOBAL_SCALE, scaled_size, to_frame_pixels
from posenb.errors import ModelError
from posenb.nn.fuse import fuse_batchnorm
from posenb.project import paths

__all__ = ["Predictor", "load_predictor", "resolve_snapshot", "fuse_batchnorm"]

# re-exported: BatchNorm folding lives in posenb.nn.fuse (the ONNX back end and the exporter use it too)

#: a bfloat16 runtime is used when, at its first batch, the median distance of its key points to torch's float32
#: ones is at most this (network-input pixels; the openfield model measures 0.1-0.2 px); raw maps are not compared
BF16_CHECK_PX = 0.5


class Predictor:
    """Run a pose model on batches of frames.

    Attributes
    ----------
    model : the PoseModel (eval mode, on ``device``).
    global_scale : frames are resized by this before the network.
    num_joints, bodyparts, device, iteration (of the snapshot), net_type.
    fuse : fold BatchNorm layers into the preceding convolutions at the first batch (same outputs, faster).
    backend : ``"torch"`` (default), ``"onnxruntime"``, ``"openvino"`` or ``"auto"``/None (the fastest installed
        on a CPU; see :mod:`posenb.infer.backends`); the resolved name is kept in ``backend``. A runtime compiles
        the network once per input size (seconds), so it pays for videos, not for a few labeled images.
    threads : compute threads of an ONNX Runtime / OpenVINO back end (default: torch's thread count).
    precision : ``"float32"`` (default: key points identical to the torch path's to float rounding) or
        ``"bfloat16"`` (about 2x faster on CPUs with AMX / AVX512-BF16, key points ~0.15 px median from float32;
        see :mod:`posenb.infer.backends`). Resolved by :func:`~posenb.infer.backends.resolve_precision` (float32
        with a warning where bfloat16 would not pay); the result is kept in ``precision``. On a GPU the torch
        path runs under autocast as before: ``precision`` is ``"float16"`` there, or ``"bfloat16"`` when asked.
    test_scales : None (default: one pass at ``global_scale``) or input scales relative to it, e.g. ``(1.1, 1.25)``:
        :meth:`predict` runs each and averages the key points (:mod:`posenb.infer.multiscale`; more accurate,
        one pass per scale). :meth:`predict_resized` always runs one pass.
    train_crop : ``(width, height)`` of the crops the network was trained on (network-input pixels), or None
        (trained on whole frames, or not recorded): how much context it needs around an animal, so the least a
        window that follows the animal must show (:mod:`posenb.infer.follow`).
    train_rotation : the rotation augmentation the network was trained with (+-degrees; 0: none, None: not
        recorded): which test-time rotations it can take (:func:`posenb.infer.multiscale.usable_angles`).
    ran : the ``(back end, precision)`` pairs that actually ran (a runtime that failed its check at an input
        size runs as torch there); :meth:`run_summary` puts them in words for the analysis metadata.
    """

    def __init__(
        self,
        model,
        global_scale: float = 1.0,
        device=None,
        bodyparts=None,
        iteration: int = 0,
        fuse: bool = True,
        backend: str | None = "torch",
        threads: int | None = None,
        precision: str | None = "float32",
        test_scales=None,
        train_crop=None,
        train_rotation=None,
    ):
        import torch  # noqa: PLC0415

        from posenb.infer.backends import resolve_backend, resolve_precision  # noqa: PLC0415
        from posenb.infer.multiscale import check_scales  # noqa: PLC0415

        self.device = device or torch.device("cpu")
        self.model = model.to(self.device).eval()
        self.channels_last = self.device.type == "cpu"
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.global_scale = float(global_scale)
        self.num_joints = int(model.num_joints)
        self.bodyparts = (
            list(bodyparts) if bodyparts is not None else [f"bp{i}" for i in range(self.num_joints)]
        )
        self.iteration = int(iteration)
        self.net_type = model.net_type
        self.fuse = bool(fuse)  # fold BatchNorm into the convolutions before the first batch (fuse_batchnorm)
        self._fused = False
        self.n_fused = 0
        self.backend = resolve_backend(backend, self.device.type)
        self.threads = threads
        precision = resolve_precision(precision, self.backend, self.device.type)
        self.precision = "float16" if self.device.type == "cuda" and precision == "float32" else precision
        self.test_scales = check_scales(test_scales)
        self.train_crop = None if train_crop is None else (int(train_crop[0]), int(train_crop[1]))
        self.train_rotation = None if train_rotation is None else float(train_rotation)
        self.ran: set[tuple[str, str]] = set()
        self._runners: dict[tuple[int, int], object] = {}  # per input size (h, w); None: torch for that size

    @property
    def input_scale(self) -> float:
        return self.global_scale

    def scaled_size(self, width: int, height: int, scale: float = 1.0) -> tuple[int, int]:
        """``(w, h)`` of the network input for a ``width x height`` frame (at ``scale`` x ``global_scale``)."""
        return scaled_size(width, height, self.global_scale * float(scale))

    def _runner(self, frames: np.ndarray):
        """The runtime runner for this input size (made and checked against torch at its first batch), or None."""
        key = tuple(frames.shape[1:3])
        if key in self._runners:
            return self._runners[key]
        from posenb.infer.backends import make_runner  # noqa: PLC0415

        runner = None
        try:
            runner = make_runner(
                self.backend, self.model, frames, threads=self.threads, precision=self.precision
            )
            self._check_runtime(runner(frames), self._torch_outputs(frames, reduced=False))
        except Exception as exc:  # noqa: BLE001 - any failure of the runtime: analyse with torch instead
            import warnings  # noqa: PLC0415

            note = "" if self.precision == "float32" else f" (torch computes in {self.precision})"
            msg = f"{self.backend} back end not used, analysing with torch: {exc}{note}"
            warnings.warn(msg, stacklevel=3)
            runner = None
        self._runners[key] = runner
        return runner

    def _check_runtime(self, got, want) -> None:
        """Raise ValueError unless the runtime's ``(heatmap, locref)`` agree with torch's float32 ones.

        float32: every raw output within 1e-3 (relative to the map's largest value). bfloat16: the decoded key
        points, median distance at most :data:`BF16_CHECK_PX` network pixels (all finite).
        """
        import torch  # noqa: PLC0415

        for g, w in zip(got, want):
            if g.shape != w.shape:
                raise ValueError(f"outputs of shape {g.shape}, torch's {w.shape}")
            if self.precision == "float32" and np.abs(g - w).max() > 1e-3 * (1.0 + np.abs(w).max()):
                raise ValueError(f"outputs differ from torch's by up to {np.abs(g - w).max():.3g}")
        if self.precision == "float32":
            return
        g, w = (self.decode_maps(torch.from_numpy(h), torch.from_numpy(r)).numpy() for h, r in (got, want))
        dist = np.median(np.linalg.norm(g[..., :2] - w[..., :2], axis=-1))
        if not np.isfinite(g).all() or not dist <= BF16_CHECK_PX:
            raise ValueError(
                f"{self.precision} key points {dist:.3g} px (median) from torch's float32 ones "
                f"(more than {BF16_CHECK_PX})"
            )

    def _torch_outputs(self, frames: np.ndarray, reduced: bool = True) -> tuple[np.ndarray, np.ndarray]:
        import torch  # noqa: PLC0415

        with torch.inference_mode():
            out = self._forward(frames, reduced=reduced)
        return out["heatmap"].float().cpu().numpy(), out["locref"].float().cpu().numpy()

    def _forward(self, frames: np.ndarray, reduced: bool = True) -> dict:
        """The torch network on frames at network size (BatchNorm folded at the first call).

        ``reduced=False``: float32 on a CPU whatever ``precision`` (the reference of a runtime's check).
        """
        import torch  # noqa: PLC0415

        x = self.model.normalize(
            np.ascontiguousarray(frames), device=self.device, channels_last=self.channels_last
        )
        if self.fuse and not self._fused:
            self._fused = True
            self.model, self.n_fused = fuse_batchnorm(self.model, x)
            if self.channels_last:
                self.model.to(memory_format=torch.channels_last)
        dtype = torch.bfloat16 if self.precision == "bfloat16" else torch.float16
        cpu_bf16 = self.device.type == "cpu" and reduced and self.precision == "bfloat16"
        on = self.device.type == "cuda" or cpu_bf16
        with torch.autocast(self.device.type, dtype=dtype, enabled=on):
            return self.model(x)

    def decode_maps(self, heatmap, locref):
        """:func:`~posenb.nn.decode` with this model's stride, locref scale, score-map width and peak weight."""
        return self.model.decode_outputs(heatmap, locref)

    def run_summary(self) -> dict[str, str]:
        """``{"backend", "precision"}`` of what ran since ``ran`` was last cleared (``"+"``-joined when mixed)."""
        ran = sorted(self.ran) or [(self.backend, self.precision)]
        return {
            "backend": "+".join(dict.fromkeys(b for b, _ in ran)),
            "precision": "+".join(dict.fromkeys(p for _, p in ran)),
        }

    def run(self, frames: np.ndarray) -> np.ndarray:
        """Network + decode on ``(n, h, w, 3)`` uint8 frames already at network size (a whole resized frame or a
        window of one, :mod:`posenb.infer.follow`); ``(n, K, 3)`` float64 in network-input pixels."""
        import torch  # noqa: PLC0415

        runner = self._runner(frames) if self.backend != "torch" else None
        self.ran.add((self.backend if runner is not None else "torch", self.precision))
        if runner is not None:
            heatmap, locref = (torch.from_numpy(a) for a in runner(frames))
            pose = self.decode_maps(heatmap, locref)
            return pose.numpy().astype(np.float64)
        with torch.inference_mode():
            out = self._forward(frames)
            pose = self.decode_maps(out["heatmap"].float(), out["locref"].float())
        return pose.cpu().numpy().astype(np.float64)

    def predict_resized(self, frames: np.ndarray, full_size: tuple[int, int]) -> np.ndarray:
        """Frames already resized (e.g. by the video decoder) from ``full_size = (W, H)``; coordinates in full pixels."""
        n, h, w = frames.shape[:3]
        return to_frame_pixels(self.run(frames), (w, h), full_size)

    def predict(self, frames: np.ndarray) -> np.ndarray:
        """``(n, H, W, 3)`` uint8 RGB frames -> ``(n, K, 3)`` float64: x, y (frame pixels), likelihood."""
        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if len(frames) == 0:
            return np.zeros((0, self.num_joints, 3))
        if self.test_scales is not None:
            from posenb.infer.multiscale import predict_multiscale  # noqa: PLC0415

            return predict_multiscale(self, frames, self.test_scales)
        return self.predict_at(frames)

    def predict_at(self, frames: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """One pass over ``(n, H, W, 3)`` uint8 RGB frames resized by ``scale`` x ``global_scale``: ``(n, K, 3)``
        float64, x, y in frame pixels, likelihood (:meth:`predict` without ``test_scales`` is ``scale=1``)."""
        h, w = frames.shape[1:3]
        new_w, new_h = self.scaled_size(w, h, scale)
        if (new_w, new_h) == (w, h):
            return self.run(frames)
        import cv2  # noqa: PLC0415

        interp = cv2.INTER_AREA if self.global_scale * float(scale) < 1 else cv2.INTER_LINEAR
        small = np.stack([cv2.resize(f, (new_w, new_h), interpolation=interp) for f in frames])
        return self.predict_resized(small, (w, h))


def resolve_snapshot(cfg: dict, shuffle: int = 1, trainingsetindex: int = 0, snapshot=None):
    """The snapshot an analysis of this shuffle uses: config ``snapshotindex`` (``"all"``: the last), or ``snapshot``.

    Returns ``(path, state, train_dir, train_fraction, net_type)``; the state is loaded (weights only) and checked
    against config's body parts. Raises :class:`ModelError` when there is no usable snapshot.
    """
    from posenb.nn.snapshots import (  # noqa: PLC0415
        check_bodyparts,
        load_snapshot,
        select_snapshot,
        sync_dlc_index_files,
    )

    train_dir, fraction = paths.get_train_dir(cfg, shuffle, trainingsetindex)
    try:
        sync_dlc_index_files(train_dir)  # models trained before posenb wrote them: DLC finds the predictions
    except OSError:
        pass  # read-only project: posenb itself does not need them
    if snapshot is None:
        index = cfg.get("snapshotindex", -1)
        path = select_snapshot(train_dir, -1 if index == "all" else index)
    else:
        path = select_snapshot(train_dir, snapshot)
    state = load_snapshot(path)
    check_bodyparts(state, list(cfg["bodyparts"]), path)
    net_type = state.get("net_type") or (state.get("model_config") or {}).get("net_type")
    if not net_type:
        raise ModelError(f"{path} does not record its network type; it was not written by posenb.")
    return path, state, train_dir, fraction, net_type


def _train_rotation(train_cfg: dict) -> float | None:
    """The +-degrees a snapshot's network was rotated by in training (0 when ``rotratio`` is 0), None if unknown."""
    if "rotation" not in train_cfg:
        return None
    return float(train_cfg["rotation"] or 0) if float(train_cfg.get("rotratio", 1) or 0) > 0 else 0.0


def load_predictor(
    cfg: dict,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    gputouse: int | None = None,
    snapshot: str | os.PathLike | None = None,
    backend: str | None = "torch",
    precision: str | None = "float32",
    test_scales=None,
) -> tuple[Predictor, dict]:
    """The predictor of a shuffle and what the output files need to know.

    ``backend``: inference back end of the :class:`Predictor` (``"auto"``/None: the fastest installed, see
    :mod:`posenb.infer.backends`; ``analyze_videos`` uses ``"auto"``). ``precision``: ``"float32"`` (default)
    or ``"bfloat16"`` (faster on CPUs with AMX / AVX512-BF16, key points within a fraction of a pixel; see
    :class:`Predictor`). ``test_scales``: see :class:`Predictor` (None: one pass; the shuffle's ``pose_cfg.yaml``
    default is read by ``analyze_videos`` / ``evaluate_network``, :func:`~posenb.infer.multiscale.resolve_test_scales`,
    not here).

    Returns ``(predictor, info)`` with ``info`` = ``{"scorer", "snapshot" (path str), "iteration", "net_type",
    "train_fraction", "test_cfg" (test/pose_cfg.yaml as a dict), "train_dir"}``. Raises :class:`ModelError`
    when there is no snapshot or it belongs to another body-part set.
    """
    from posenb.nn import build_model  # noqa: PLC0415
    from posenb.nn.device import pick_device  # noqa: PLC0415
    from posenb.nn.snapshots import snapshot_iteration  # noqa: PLC0415

    path, state, train_dir, fraction, net_type = resolve_snapshot(cfg, shuffle, trainingsetindex, snapshot)
    train_cfg = state.get("train_config") or {}
    model_cfg = dict(state.get("model_config") or {})
    model_cfg.setdefault("net_type", net_type)
    model_cfg.setdefault("num_joints", len(cfg["bodyparts"]))
    try:
        model = build_model(**model_cfg, pretrained=False)
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, KeyError) as exc:
        raise ModelError(f"{path} does not match the {net_type} architecture ({exc}).") from None
    iteration = int(state.get("iteration", snapshot_iteration(path)))
    predictor = Predictor(
        model,
        global_scale=float(train_cfg.get("global_scale", DEFAULT_GLOBAL_SCALE)),
        device=pick_device(gputouse),
        bodyparts=cfg["bodyparts"],
        iteration=iteration,
        backend=backend,
        precision=precision,
        test_scales=test_scales,
        train_crop=train_cfg.get("crop_size"),
        train_rotation=_train_rotation(train_cfg),
    )
    test_cfg_path = train_dir.parent / "test" / "pose_cfg.yaml"
    test_cfg = {}
    if test_cfg_path.is_file():
        from posenb.data.trainingset import read_pose_cfg  # noqa: PLC0415

        test_cfg = read_pose_cfg(test_cfg_path)
    info = {
        "scorer": paths.get_scorer_name(cfg, shuffle, fraction, net_type, iteration),
        "snapshot": str(path),
        "iteration": iteration,
        "net_type": net_type,
        "train_fraction": fraction,
        "test_cfg": test_cfg,
        "train_dir": str(Path(train_dir)),
    }
    return predictor, info
