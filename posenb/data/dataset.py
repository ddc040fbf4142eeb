"""``PoseDataset``: labelled frames -> augmented, normalised tensors with heatmap / locref targets.

Each item is a dict of tensors (all items of a dataset have the same size, so the default ``collate_fn`` of
``torch.utils.data.DataLoader`` works):

=============== ====================== ===================================================================
key             shape, dtype           meaning
=============== ====================== ===================================================================
``image``       (3, H, W) float32      RGB normalised with ImageNet mean / std (:func:`normalize_images`)
``heatmap``     (K, h, w) float32      score-map target in [0, 1], ``h, w = ceil(H / stride), ceil(W / stride)``
``locref``      (2K, h, w) float32     location-refinement target (see :mod:`posenb.data.targets`)
``locref_mask`` (2K, h, w) float32     1 where locref is supervised
``weight``      (K,) float32           1 for joints labelled and inside the image, else 0
``keypoints``   (K, 2) float32         joints in input pixels (NaN where missing)
``matrix``      (2, 3) float32         affine map from original-frame pixels to input pixels
``index``       () int64               position of the item in the dataset
=============== ====================== ===================================================================

``H, W`` are fixed per dataset: with ``augment=True`` the canvas is ``crop_size`` shrunk to the largest image at
``global_scale * scale_jitter_up``; with ``augment=False`` it is the largest image at ``global_scale`` (no crop,
images anchored at the top-left, padded with black).

Images are read with OpenCV (BGR -> RGB), resized by ``global_scale`` once, and cached in memory when
``cache=True`` (100-200 frames of 640x480 are ~10-100 MB).

Determinism: with ``seed`` set, item ``i`` in epoch ``e`` is augmented with ``numpy.random.default_rng([seed, e,
i])``; call :meth:`PoseDataset.set_epoch` at the start of every epoch (it also reaches DataLoader workers unless
``persistent_workers=True``). With ``seed=None`` every call draws fresh randomness.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from posenb.data.augment import DEFAULT_AUGMENTATION, Augmentation, parse_crop_size, rescale
from posenb.data.targets import TARGET_MODES, make_targets
from posenb.errors import ConfigError, LabelError
from posenb.nn.normalize import IMAGENET_MEAN, IMAGENET_STD, normalize_images

__all__ = [
    "PoseDataset",
    "DEFAULT_DATA_PARAMS",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "normalize_images",
    "read_image",
]

#: ImageNet normalisation of the network input (RGB in 0-1), as torchvision and DLC 3

#: dataset parameters (DLC ``pose_cfg.yaml`` names) on top of :data:`~posenb.data.augment.DEFAULT_AUGMENTATION`
DEFAULT_DATA_PARAMS: dict = {
    **DEFAULT_AUGMENTATION,
    "stride": 8.0,
    "pos_dist_thresh": 17.0,  # px of the original frame; scaled by global_scale like DLC
    "locref_stdev": 7.2801,
    "scmap_type": "gaussian",  # or "plateau"
}


def read_image(path: str | Path) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB image read with OpenCV; :class:`~posenb.errors.LabelError` if unreadable."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise LabelError(f"Cannot read the labelled image {path}: the file is missing or not an image.")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _image_size(path: Path) -> tuple[int, int]:
    """``(H, W)`` from the header when Pillow is available, else by decoding."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            w, h = im.size
        return h, w
    except ImportError:
        pass
    except Exception:
        raise LabelError(
            f"Cannot read the labelled image {path}: the file is missing or not an image."
        ) from None
    return read_image(path).shape[:2]


class PoseDataset(Dataset):
    """Labelled frames as a map-style ``torch.utils.data.Dataset`` of dicts of tensors (see module docstring).

    Parameters
    ----------
    image_paths : N image files.
    keypoints : ``(N, K, 2)`` float, x / y in pixels of the original frames; NaN for unlabelled joints.
    params : overrides of :data:`DEFAULT_DATA_PARAMS` (augmentation, ``global_scale``, ``pos_dist_thresh``,
        ``locref_stdev``, ``scmap_type``, ``crop_size``, ...).
    augment : True for training (random augmentation), False for evaluation (rescale + pad only).
    stride : output stride of the network (overrides ``params["stride"]``).
    cache : keep the decoded, rescaled images in memory.
    seed : base seed of the per-item generators (None: non-deterministic).
    """

    def __init__(
        self,
        image_paths: Sequence[str | Path],
        keypoints: np.ndarray,
        params: dict | None = None,
        augment: bool = True,
        stride: float | None = None,
        *,
        cache: bool = True,
        seed: int | None = None,
    ):
        p = {**DEFAULT_DATA_PARAMS, **(params or {})}
        if stride is not None:
            p["stride"] = float(stride)
        self.params = p
        self.image_paths = [Path(x) for x in image_paths]
        kp = np.asarray(keypoints, dtype=np.float64)
        if kp.ndim != 3 or kp.shape[2] != 2 or kp.shape[0] != len(self.image_paths):
            raise LabelError(
                f"keypoints must have shape (n_images, n_joints, 2) with n_images = {len(self.image_paths)}, "
                f"got {kp.shape}."
            )
        if p["scmap_type"] not in TARGET_MODES:
            raise ConfigError(f"scmap_type must be one of {TARGET_MODES}, got {p['scmap_type']!r}")
        missing = [str(x) for x in self.image_paths if not x.is_file()]
        if missing:
            raise LabelError(
                f"{len(missing)} labelled images are missing, e.g. {missing[0]}. Re-extract the frames or remove "
                "their rows from the label file."
            )
        self.keypoints = kp
        self.augment = bool(augment)
        self.seed = seed
        self.epoch = 0
        self.stride = float(p["stride"])
        self.global_scale = float(p["global_scale"])
        self.pos_dist_thresh = float(p["pos_dist_thresh"]) * self.global_scale
        self.locref_std = float(p["locref_stdev"])
        self.mode = p["scmap_type"]
        self.cache = cache
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

        sizes = []
        for i, path in enumerate(self.image_paths):
            if cache:
                self._cache[i] = self._load(i)
                sizes.append(self._cache[i][0].shape[:2])
            else:
                h, w = _image_size(path)
                sizes.append((max(1, round(h * self.global_scale)), max(1, round(w * self.global_scale))))
        max_h = max((s[0] for s in sizes), default=1)
        max_w = max((s[1] for s in sizes), default=1)
        if self.augment:
            crop_w, crop_h = parse_crop_size(p["crop_size"])
            up = float(p["scale_jitter_up"])
            size = (min(crop_w, math.ceil(max_w * up)), min(crop_h, math.ceil(max_h * up)))
        else:
            size = (max_w, max_h)
        # global_scale is applied (and cached) here, so the pipeline itself runs at scale 1
        self.transform = Augmentation({**p, "global_scale": 1.0, "crop_size": size}, train=self.augment)

    @property
    def input_size(self) -> tuple[int, int]:
        """``(height, width)`` of every ``image`` this dataset returns."""
        w, h = self.transform.out_size
        return h, w

    @property
    def num_joints(self) -> int:
        return self.keypoints.shape[1]

    def set_epoch(self, epoch: int) -> None:
        """Select the augmentation stream of ``epoch`` (only matters with a ``seed``)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.image_paths)

    def _load(self, i: int):
        image = read_image(self.image_paths[i])
        return rescale(image, self.keypoints[i], self.global_scale)

    def network_input(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Image ``i`` whole, at the network's input scale (``global_scale``), without augmentation: ``(H, W, 3)``
        uint8 RGB and its ``(K, 2)`` key points in those pixels (NaN = unlabeled)."""
        image, kp, _ = self._cache[i] if self.cache else self._load(i)
        return image, kp

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < len(self):
            raise IndexError(i)
        image, kp, m_scale = self._cache[i] if self.cache else self._load(i)
        rng = np.random.default_rng(None if self.seed is None else [self.seed, self.epoch, i])
        image, kp, m_aug = self.transform.apply(image, kp, rng)
        matrix = np.hstack(
            [m_aug[:, :2] @ m_scale[:, :2], (m_aug[:, :2] @ m_scale[:, 2] + m_aug[:, 2])[:, None]]
        )
        targets = make_targets(
            kp, image.shape[:2], self.stride, self.pos_dist_thresh, self.locref_std, self.mode
        )
        item = {key: torch.from_numpy(value) for key, value in targets.items()}
        item["image"] = normalize_images(np.ascontiguousarray(image))
        item["keypoints"] = torch.from_numpy(np.asarray(kp, dtype=np.float32))
        item["matrix"] = torch.from_numpy(matrix.astype(np.float32))
        item["index"] = torch.tensor(i, dtype=torch.int64)
        return item

    def __repr__(self) -> str:
        h, w = self.input_size
        return (
            f"PoseDataset({len(self)} images, {self.num_joints} joints, input {w}x{h}, augment={self.augment}, "
            f"global_scale={self.global_scale}, scmap_type={self.mode!r})"
        )
