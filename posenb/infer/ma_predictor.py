"""Inference of posenb's top-down multi-animal model: every animal of a frame, its parts and (optionally) identity.

::

    pred = load_ma_predictor(config, shuffle=1)            # or MAPredictor.from_snapshots(pose_pt, centroid_pt)
    out = pred.predict_animals(frames)                     # frames: uint8 RGB (B, H, W, 3)
    out["poses"]     # float32 (B, A, P, 3): x, y in frame pixels, likelihood; NaN where no animal
    out["scores"]    # float32 (B, A): animal score (the centroid peak's likelihood), descending; NaN where none
    out["identity"]  # float32 (B, A, n_individuals) probabilities (rows sum to 1), or None without identity
    out["unique"]    # float32 (B, U, 3) unique (scene) body parts: x, y, likelihood; None without unique parts

Steps: the frame scaled by ``centroid_scale`` goes through the centroid model; its peaks (at most ``max_animals``,
likelihood >= ``min_score``, :func:`posenb.nn.topdown.find_peaks`) are the animals' anchors; a ``crop_size`` crop
around each anchor (scale ``crop_scale``, :func:`posenb.data.ma_dataset.crop_matrix`) goes through the pose model,
whose first P maps are the centred animal's parts (decoded like single-animal maps, then mapped back to frame
pixels) and whose last ``n_individuals`` maps (identity models) give the identity. ``A = max_animals`` = the number
of config individuals unless set. The centroid model's maps after the anchors' one are the unique (scene) body
parts (``uniquebodyparts``; one of each per frame), decoded like single-animal maps on the downscaled frame. Both
networks run on ``device`` (CUDA when present by default), BatchNorm folded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from posenb.errors import ModelError

__all__ = ["MAPredictor", "load_ma_predictor"]


class _Net:
    """A PoseModel in eval mode on a device, BatchNorm folded at the first batch; uint8 NHWC in, maps out."""

    def __init__(self, model, device):
        import torch  # noqa: PLC0415

        self.device = device
        self.model = model.to(device).eval()
        self.channels_last = device.type == "cpu"
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self._fused = False

    def __call__(self, images: np.ndarray) -> dict:
        import torch  # noqa: PLC0415

        from posenb.nn.fuse import fuse_batchnorm  # noqa: PLC0415

        x = self.model.normalize(
            np.ascontiguousarray(images), device=self.device, channels_last=self.channels_last
        )
        with torch.inference_mode():
            if not self._fused:
                self._fused = True
                self.model, _ = fuse_batchnorm(self.model, x)
                if self.channels_last:
                    self.model.to(memory_format=torch.channels_last)
            with torch.autocast(self.device.type, enabled=self.device.type == "cuda"):
                out = self.model(x)
        return {k: v.float() for k, v in out.items()}


def _build(state: dict, path: Path):
    from posenb.nn import build_model  # noqa: PLC0415

    info = state.get("topdown")
    if not isinstance(info, dict):
        raise ModelError(f"{path} is not a snapshot of posenb's multi-animal (top-down) model.")
    try:
        model = build_model(**dict(state["model_config"]), pretrained=False)
        model.load_state_dict(state["model"])
    except (RuntimeError, TypeError, KeyError) as exc:
        raise ModelError(f"{path} does not match its recorded architecture ({exc}).") from None
    return model, info


class MAPredictor:
    """The two networks of a top-down model and the geometry between them (see module docstring).

    Attributes: ``bodyparts``, ``individuals``, ``unique_bodyparts`` (U names, ``[]`` without), ``identity``, ``max_animals``,
    ``snapshot`` (pose snapshot path), ``centroid_snapshot``, ``iteration``, ``net_type``, ``device``,
    ``crop_size``, ``crop_scale``, ``centroid_scale``, ``min_score``, ``batch_size``.
    """

    def __init__(self, pose_state: dict, centroid_state: dict, *, paths=("", ""), device=None, batch_size: int = 8,
                 max_animals: int | None = None, min_score: float = 0.1):  # fmt: skip
        from posenb.nn.device import pick_device  # noqa: PLC0415

        pose, info = _build(pose_state, Path(paths[0]))
        centroid, cinfo = _build(centroid_state, Path(paths[1]))
        if info.get("kind") != "instance" or cinfo.get("kind") != "centroid":
            raise ModelError(f"{paths[0]} / {paths[1]}: expected a pose (instance) and a centroid snapshot.")
        if isinstance(device, str):
            import torch  # noqa: PLC0415

            device = torch.device(device)
        self.device = device or pick_device(None)
        self.pose, self.centroid = _Net(pose, self.device), _Net(centroid, self.device)
        self.bodyparts, self.individuals = list(info["bodyparts"]), list(info["individuals"])
        self.unique_bodyparts: list[str] = list(cinfo.get("unique_bodyparts") or [])
        self.identity = bool(info["identity"])
        self.max_animals = int(max_animals or max(1, len(self.individuals)))
        self.crop_size, self.crop_scale = int(info["crop_size"]), float(info["crop_scale"])
        self.centroid_scale = float(info["centroid_scale"])
        self.min_distance = float(info["centroid_pos_dist"])  # frame px: closer peaks are one animal
        self.min_score, self.batch_size = float(min_score), int(batch_size)
        self.snapshot, self.centroid_snapshot = Path(paths[0]), Path(paths[1])
        self.iteration = int(pose_state.get("iteration", 0))
        self.net_type = pose.net_type

    @classmethod
    def from_snapshots(cls, pose_snapshot, centroid_snapshot, **kwargs) -> MAPredictor:
        """From the two snapshot files (``train/snapshot-<iter>.pt``, ``train/centroid/snapshot-<iter>.pt``)."""
        from posenb.nn.snapshots import load_snapshot  # noqa: PLC0415

        paths = (Path(pose_snapshot), Path(centroid_snapshot))
        return cls(load_snapshot(paths[0]), load_snapshot(paths[1]), paths=paths, **kwargs)

    def find_animals(self, frames: np.ndarray) -> list[np.ndarray]:
        """Anchors per frame: a list of float32 ``(n_b, 3)`` (x, y frame pixels, score), by score descending."""
        return self._centroid_pass(frames)[0]

    def _centroid_pass(self, frames: np.ndarray) -> tuple[list[np.ndarray], np.ndarray | None]:
        """(anchors per frame as :meth:`find_animals`, unique parts float32 ``(B, U, 3)`` in frame pixels or None)."""
        import cv2  # noqa: PLC0415

        from posenb.nn import decode  # noqa: PLC0415
        from posenb.nn.topdown import find_peaks  # noqa: PLC0415

        h, w = frames.shape[1:3]
        s = self.centroid_scale
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        out: list[np.ndarray] = []
        uniques: list[np.ndarray] = []
        for i in range(0, len(frames), self.batch_size):
            chunk = frames[i : i + self.batch_size]
            if (nw, nh) != (w, h):
                interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
                chunk = np.stack([cv2.resize(f, (nw, nh), interpolation=interp) for f in chunk])
            maps = self.centroid(chunk)
            model = self.centroid.model
            peaks = find_peaks(maps["heatmap"][:, :1], maps["locref"][:, :2], model.stride, model.locref_std,
                               threshold=self.min_score, max_peaks=self.max_animals,
                               min_distance=self.min_distance * s)  # fmt: skip
            if self.unique_bodyparts:
                u = decode(maps["heatmap"][:, 1:], maps["locref"][:, 2:], model.stride, model.locref_std)
                uniques.append(u.cpu().numpy().astype(np.float32))
            out += [p.copy() for p in peaks]
        for p in [*out, *uniques]:  # input pixels of the scaled frame -> frame pixels (pixel centres)
            p[..., 0] = (p[..., 0] + 0.5) * (w / nw) - 0.5
            p[..., 1] = (p[..., 1] + 0.5) * (h / nh) - 0.5
        return out, (np.concatenate(uniques) if uniques else None)

    def _pose_crops(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``(M, P, 3)`` parts in crop pixels and ``(M, I)`` identity probabilities (or None) of centred crops."""
        from posenb.nn import decode  # noqa: PLC0415
        from posenb.nn.topdown import identity_probabilities  # noqa: PLC0415

        p = len(self.bodyparts)
        poses, ids = [], []
        model = self.pose.model
        for i in range(0, len(crops), self.batch_size):
            maps = self.pose(crops[i : i + self.batch_size])
            poses.append(
                decode(maps["heatmap"][:, :p], maps["locref"][:, : 2 * p], model.stride, model.locref_std)
            )
            if self.identity:
                ids.append(identity_probabilities(maps["heatmap"][:, p:]))
        pose = np.concatenate([x.cpu().numpy() for x in poses]) if poses else np.zeros((0, p, 3), np.float32)
        return pose, (np.concatenate(ids) if ids else None)

    def predict_animals(self, frames: np.ndarray) -> dict:
        """Animals of a batch of frames: see the module docstring for the returned dict."""
        from posenb.data.ma_dataset import crop_matrix, invert_points, warp_crop  # noqa: PLC0415

        frames = np.asarray(frames)
        if frames.ndim == 3:
            frames = frames[None]
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be uint8 (B, H, W, 3), got {frames.dtype} {frames.shape}")
        b_n, a_n, p_n, i_n = len(frames), self.max_animals, len(self.bodyparts), len(self.individuals)
        poses = np.full((b_n, a_n, p_n, 3), np.nan, np.float32)
        scores = np.full((b_n, a_n), np.nan, np.float32)
        identity = np.full((b_n, a_n, i_n), np.nan, np.float32) if self.identity else None
        owners, mats, crops = [], [], []
        anchors, unique = self._centroid_pass(frames)
        for b, peaks in enumerate(anchors):
            for a, (x, y, score) in enumerate(peaks[:a_n]):
                m = crop_matrix((x, y), self.crop_scale, self.crop_size)
                owners.append((b, a))
                mats.append(m)
                crops.append(warp_crop(frames[b], m, self.crop_size))
                scores[b, a] = score
        if crops:
            pose, ids = self._pose_crops(np.stack(crops))
            for k, ((b, a), m) in enumerate(zip(owners, mats)):
                poses[b, a, :, :2] = invert_points(m, pose[k, :, :2])
                poses[b, a, :, 2] = pose[k, :, 2]
                if identity is not None:
                    identity[b, a] = ids[k]
        return {"poses": poses, "scores": scores, "identity": identity, "unique": unique}


def load_ma_predictor(
    config: str | os.PathLike | dict,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    snapshotindex: int | str = -1,
    device=None,
    batch_size: int = 8,
    max_animals: int | None = None,
    min_score: float = 0.1,
) -> MAPredictor:
    """The :class:`MAPredictor` of a multi-animal shuffle: pose snapshot ``snapshotindex`` of ``train/`` (an index or
    ``"snapshot-<iter>"``), the newest centroid snapshot of ``train/centroid/``. ModelError when either is missing."""
    from posenb.nn.snapshots import select_snapshot  # noqa: PLC0415
    from posenb.project.config import read_config  # noqa: PLC0415
    from posenb.project.paths import get_train_dir  # noqa: PLC0415

    cfg = config if isinstance(config, dict) else read_config(config)
    train_dir, _ = get_train_dir(cfg, shuffle, trainingsetindex)
    pose = select_snapshot(train_dir, -1 if snapshotindex == "all" else snapshotindex)
    centroid = select_snapshot(train_dir / "centroid", -1)
    return MAPredictor.from_snapshots(
        pose, centroid, device=device, batch_size=batch_size, max_animals=max_animals, min_score=min_score
    )
