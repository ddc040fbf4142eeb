"""Datasets of posenb's top-down multi-animal model (as SLEAP's top-down): animal centres, then centred animals.

Two networks, both :class:`posenb.nn.PoseModel` (efficientnet-lite0 + FPN head by default), trained by the same loop
(:func:`posenb.train.loop.run_training`) on items with the keys of :class:`posenb.data.dataset.PoseDataset`:

- **centroid model** (:class:`CentroidDataset`): the frame downscaled by ``centroid_scale``; ONE score map whose
  target is the maximum of the Gaussians around every animal's anchor (a body part chosen by
  :func:`choose_anchor`, else the mean of the animal's labeled parts, :func:`animal_anchors`); locref from the
  nearest animal. Peaks of the map are the animals (:func:`posenb.nn.topdown.find_peaks`). With unique (scene)
  body parts, one more map per unique part on the same downscaled frame (one of each per frame: decoded like a
  single-animal map).
- **instance model** (:class:`InstanceDataset`): a ``crop_size`` square crop of the frame scaled by ``crop_scale``,
  centred on one animal's anchor (:func:`crop_matrix`); targets are that animal's parts only, the other animals in
  the crop are distractors (this separates touching animals). With identity, ``n_individuals`` more maps: a
  Gaussian at the crop centre in the channel of the animal's individual, zero in the others (trained everywhere).

Geometry: :func:`crop_matrix` maps frame pixels (pixel centres at integers, DLC's convention) to crop pixels,
``x' = s R (x - c) + (S - 1) / 2``; ``cv2.warpAffine`` with the same matrix makes the crop, so labels and pixels
agree exactly and inference inverts the matrix (:func:`invert_points`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from posenb.data.augment import Augmentation
from posenb.data.dataset import DEFAULT_DATA_PARAMS, PoseDataset, read_image
from posenb.data.targets import make_targets
from posenb.errors import LabelError
from posenb.nn.normalize import normalize_images

__all__ = [
    "choose_anchor",
    "animal_anchors",
    "crop_matrix",
    "warp_crop",
    "apply_matrix",
    "invert_points",
    "CentroidDataset",
    "InstanceDataset",
]


def choose_anchor(coords: np.ndarray) -> int | None:
    """Index of the anchor part: among the parts labeled in >= 90 % as many animals as the most labeled one, the
    one nearest (mean distance) to the centre of its animal's labeled parts. ``coords`` ``(N, A, P, 2)``; None when
    fewer than two parts are ever labeled together (the mean of the labeled parts is then the anchor)."""
    c = np.asarray(coords, dtype=np.float64)
    visible = np.isfinite(c).all(axis=-1)  # (N, A, P)
    counts = visible.sum(axis=(0, 1))
    if counts.max(initial=0) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN animals
        centre = np.nanmean(c, axis=2, keepdims=True)  # (N, A, 1, 2)
        dist = np.nanmean(np.linalg.norm(c - centre, axis=-1).reshape(-1, c.shape[2]), axis=0)  # (P,)
    candidates = np.flatnonzero(counts >= 0.9 * counts.max())
    dist = np.where(np.isfinite(dist), dist, np.inf)
    return int(candidates[np.argmin(dist[candidates])])


def animal_anchors(coords: np.ndarray, anchor: int | None) -> np.ndarray:
    """``(N, A, 2)`` anchor of each animal: part ``anchor`` where labeled, else the mean of the labeled parts; NaN for
    an animal without labels. ``coords`` ``(N, A, P, 2)`` in frame pixels."""
    c = np.asarray(coords, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = np.nanmean(c, axis=2)
    if anchor is not None:
        part = c[:, :, anchor]
        ok = np.isfinite(part).all(axis=-1)
        out[ok] = part[ok]
    return out


def crop_matrix(centre: Sequence[float], scale: float, size: int, angle: float = 0.0) -> np.ndarray:
    """``(2, 3)`` affine map from frame pixels to the pixels of a ``size`` x ``size`` crop centred on ``centre``,
    scaled by ``scale`` and turned by ``angle`` degrees (counter-clockwise on screen)."""
    rad = math.radians(angle)
    a = scale * np.array([[math.cos(rad), math.sin(rad)], [-math.sin(rad), math.cos(rad)]])
    mid = (size - 1) / 2.0
    t = np.array([mid, mid]) - a @ np.asarray(centre, dtype=np.float64)
    return np.hstack([a, t[:, None]])


def warp_crop(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """``(size, size, 3)`` uint8 crop of ``image`` through ``matrix`` (bilinear, black outside the frame)."""
    import cv2  # noqa: PLC0415

    return cv2.warpAffine(
        image,
        matrix,
        (int(size), int(size)),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )


def apply_matrix(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points ``(..., 2)`` mapped by a ``(2, 3)`` affine matrix (NaN stays NaN)."""
    p = np.asarray(points, dtype=np.float64)
    return p @ matrix[:, :2].T + matrix[:, 2]


def invert_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points ``(..., 2)`` in crop pixels back to frame pixels (inverse of :func:`apply_matrix`)."""
    a = np.asarray(matrix[:, :2], dtype=np.float64)
    p = np.asarray(points, dtype=np.float64) - matrix[:, 2]
    return p @ np.linalg.inv(a).T


class CentroidDataset(Dataset):
    """Downscaled frames with one score map of all animals' anchors (see module docstring).

    Wraps a :class:`~posenb.data.dataset.PoseDataset` over the anchors (one "joint" per animal slot), which does the
    scaling, caching, random crop and augmentation, and merges its per-animal targets into one map.

    Parameters
    ----------
    image_paths : N frames.
    anchors : ``(N, A, 2)`` anchors in frame pixels (NaN = animal absent).
    params : PoseDataset parameters; ``global_scale`` is the centroid scale, ``crop_size`` the training canvas,
        ``pos_dist_thresh`` in frame pixels.
    unique : ``(N, U, 2)`` unique body parts in frame pixels (NaN = not labeled: trained as absent), or None.
        Items then have ``1 + U`` maps: the anchors' map, then one per unique part.
    """

    def __init__(
        self,
        image_paths,
        anchors: np.ndarray,
        params: dict,
        augment: bool = True,
        *,
        unique: np.ndarray | None = None,
        cache=True,
        seed=None,
    ):
        anchors = np.asarray(anchors, dtype=np.float64)
        if anchors.ndim != 3 or anchors.shape[2] != 2:
            raise LabelError(f"anchors must be (n_images, n_animals, 2), got {anchors.shape}")
        unique = np.zeros((len(anchors), 0, 2)) if unique is None else np.asarray(unique, dtype=np.float64)
        if unique.ndim != 3 or unique.shape[0] != len(anchors) or unique.shape[2] != 2:
            raise LabelError(f"unique must be (n_images, n_unique, 2), got {unique.shape}")
        self.n_animals, self.n_unique = anchors.shape[1], unique.shape[1]
        params = {**params, "mirror": False, "symmetric_pairs": None, "bodyparts": None}
        joints = np.concatenate([anchors, unique], axis=1)
        self.inner = PoseDataset(image_paths, joints, params, augment=augment, cache=cache, seed=seed)

    def __len__(self) -> int:
        return len(self.inner)

    def set_epoch(self, epoch: int) -> None:
        self.inner.set_epoch(epoch)

    @property
    def input_size(self) -> tuple[int, int]:
        return self.inner.input_size

    @property
    def num_joints(self) -> int:
        """Maps of the centroid model: 1 (all anchors) + the unique parts."""
        return 1 + self.n_unique

    def __getitem__(self, i: int) -> dict:
        item = self.inner[i]
        a = self.n_animals
        heat = item["heatmap"][:a]  # (A, h, w)
        h, w = heat.shape[1:]
        nearest = heat.argmax(dim=0)  # (h, w): the animal whose Gaussian is highest at each cell
        loc = item["locref"][: 2 * a].reshape(a, 2, h, w)
        mask = item["locref_mask"][: 2 * a].reshape(a, 2, h, w)
        idx = nearest[None, None].expand(1, 2, h, w)
        item["heatmap"] = torch.cat([heat.max(dim=0, keepdim=True).values, item["heatmap"][a:]])
        item["locref"] = torch.cat([loc.gather(0, idx)[0], item["locref"][2 * a :]])
        item["locref_mask"] = torch.cat([mask.gather(0, idx)[0], item["locref_mask"][2 * a :]])
        # the anchors' map is always trained (a frame without animals teaches "no animal here")
        item["weight"] = torch.cat([torch.ones(1, dtype=torch.float32), item["weight"][a:]])
        return item


class InstanceDataset(Dataset):
    """One item per labeled animal: a crop centred on its anchor and the targets of its own parts.

    Parameters
    ----------
    image_paths : N frames (read once, kept in memory at full size when ``cache``).
    coords : ``(N, A, P, 2)`` labels in frame pixels (NaN = not visible).
    anchors : ``(N, A, 2)`` from :func:`animal_anchors`.
    crop_size : side S of the square crop [px]; crop_scale : frame -> crop scale.
    params : augmentation / target parameters (:data:`~posenb.data.dataset.DEFAULT_DATA_PARAMS` names):
        ``rotation`` / ``rotratio``, ``scale_jitter_lo`` / ``_up``, the photometric steps, ``pos_dist_thresh``
        (frame px), ``locref_stdev``, ``scmap_type``, ``center_jitter`` (fraction of S, default 0.05).
    identity : add ``A`` identity maps (animal slot ``a`` is individual ``a``).
    """

    def __init__(
        self,
        image_paths,
        coords: np.ndarray,
        anchors: np.ndarray,
        crop_size: int,
        crop_scale: float,
        params: dict | None = None,
        augment: bool = True,
        *,
        identity: bool = False,
        stride: float = 8.0,
        cache: bool = True,
        seed: int | None = None,
    ):
        self.params = p = {**DEFAULT_DATA_PARAMS, "center_jitter": 0.05, **(params or {})}
        self.image_paths = [Path(x) for x in image_paths]
        self.coords = np.asarray(coords, dtype=np.float64)
        self.anchors = np.asarray(anchors, dtype=np.float64)
        if self.coords.ndim != 4 or self.coords.shape[0] != len(self.image_paths):
            raise LabelError(f"coords must be (n_images, n_animals, n_parts, 2), got {self.coords.shape}")
        self.samples = [tuple(map(int, s)) for s in np.argwhere(np.isfinite(self.anchors).all(axis=-1))]
        self.size, self.scale = int(crop_size), float(crop_scale)
        self.augment, self.identity, self.seed, self.epoch = bool(augment), bool(identity), seed, 0
        self.stride = float(stride)
        self.pos_dist = float(p["pos_dist_thresh"]) * self.scale
        self.photo = Augmentation(p, train=True)
        self.cache = cache
        self._images: dict[int, np.ndarray] = {}

    @property
    def input_size(self) -> tuple[int, int]:
        return self.size, self.size

    @property
    def num_joints(self) -> int:
        return self.coords.shape[2] + (self.coords.shape[1] if self.identity else 0)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.samples)

    def _image(self, n: int) -> np.ndarray:
        if n in self._images:
            return self._images[n]
        image = read_image(self.image_paths[n])
        if self.cache:
            self._images[n] = image
        return image

    def _matrix(self, n: int, a: int, rng) -> np.ndarray:
        p, centre = self.params, self.anchors[n, a].copy()
        if not self.augment:
            return crop_matrix(centre, self.scale, self.size)
        centre += rng.uniform(-1, 1, 2) * float(p["center_jitter"]) * self.size / self.scale
        angle = rng.uniform(-p["rotation"], p["rotation"]) if rng.random() < p["rotratio"] else 0.0
        scale = self.scale * rng.uniform(float(p["scale_jitter_lo"]), float(p["scale_jitter_up"]))
        return crop_matrix(centre, scale, self.size, angle)

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < len(self):
            raise IndexError(i)
        n, a = self.samples[i]
        rng = np.random.default_rng(None if self.seed is None else [self.seed, self.epoch, i])
        matrix = self._matrix(n, a, rng)
        image = warp_crop(self._image(n), matrix, self.size)
        if self.augment:
            image = self.photo.photometric(image, rng)
        kp = apply_matrix(matrix, self.coords[n, a])
        p = self.params
        t = make_targets(
            kp, (self.size, self.size), self.stride, self.pos_dist, float(p["locref_stdev"]), p["scmap_type"]
        )
        if self.identity:
            ids = np.full((self.coords.shape[1], 2), np.nan)
            ids[a] = apply_matrix(matrix, self.anchors[n, a])
            t_id = make_targets(
                ids, (self.size, self.size), self.stride, self.pos_dist, float(p["locref_stdev"])
            )
            t_id["locref_mask"][:] = 0.0
            t_id["weight"][:] = 1.0  # the other individuals' maps are trained to zero
            t = {k: np.concatenate([t[k], t_id[k]]) for k in t}
        item = {k: torch.from_numpy(v) for k, v in t.items()}
        item["image"] = normalize_images(np.ascontiguousarray(image))
        item["keypoints"] = torch.from_numpy(kp.astype(np.float32))
        item["matrix"] = torch.from_numpy(matrix.astype(np.float32))
        item["index"] = torch.tensor(i, dtype=torch.int64)
        return item
