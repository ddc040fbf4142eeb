"""Keypoint-aware augmentation for training (and the plain rescale + pad used for evaluation).

One affine matrix carries every geometric step (scale jitter, rotation, mirror, crop / pad), so the image is
warped once with ``cv2.warpAffine`` straight into the output canvas and the keypoints are mapped by the same
matrix: they stay on the same image content to floating-point precision. OpenCV is used rather than
torchvision.transforms.v2 because it is already a dependency, works on the uint8 ``(H, W, 3)`` arrays the
loaders produce, and is several times faster on a CPU. Keypoints that leave the output become NaN (missing),
never wrong.

Coordinates follow DLC labels: pixel centres at integers, pixel ``i`` spanning ``[i - 0.5, i + 0.5]``. Scaling
by ``s`` maps ``x -> (x + 0.5) * s - 0.5`` (what ``cv2.resize`` does), see :func:`rescale` and
:func:`to_original`, which analysis should use to go back to the frame's pixels.

Parameters (:data:`DEFAULT_AUGMENTATION`, DLC ``pose_cfg.yaml`` names where they exist):

``global_scale`` (:data:`DEFAULT_GLOBAL_SCALE`, 0.5)
    every image is first resized by this factor (training and evaluation; analysis must use the same). The one
    default of posenb: the training recipe, this class and analysis of a snapshot that does not record its
    scale all use :data:`DEFAULT_GLOBAL_SCALE` (a project's training set usually sets its own, see
    ``posenb.data.trainingset.auto_global_scale``).
``scale_jitter_lo``, ``scale_jitter_up`` (0.5, 1.25)
    extra random scale per image, multiplied onto ``global_scale``.
``rotation``, ``rotratio`` (25, 0.4)
    with probability ``rotratio`` rotate by a uniform angle in ``[-rotation, rotation]`` degrees.
``mirror`` (False), ``symmetric_pairs`` (None), ``bodyparts`` (None)
    horizontal flip with probability 0.5; the joints of each left/right pair ``[i, j]`` swap names
    (``symmetric_pairs`` as index pairs, or found in ``bodyparts`` by :func:`find_symmetric_pairs`); without
    pairs only the image flips, as in DLC.
``crop_size`` ((400, 400))
    ``(width, height)`` (or one int) of the output canvas: larger images are cropped, smaller ones padded
    with black. ``crop_sampling`` (``"hybrid"``): ``"uniform"`` window position, ``"keypoints"`` centred on a
    random labelled joint shifted by up to ``max_shift`` (0.4) of the crop size, or half of each.
``apply_prob`` (0.5)
    probability of each photometric step below (DLC's "sometimes").
``brightness`` (0.2), ``contrast`` (0.2)
    uniform brightness shift of up to ``brightness * 255`` and contrast factor in ``1 +- contrast``.
``blur`` (1.0), ``motion_blur`` (True)
    Gaussian blur with sigma up to ``blur`` (0 disables) or, half of the time when enabled, a 7-pixel motion
    blur at a random angle (DLC's ``motion_blur``).
``gaussian_noise`` (12.75)
    standard deviation (0-255 units) of additive pixel noise (DLC 3's default; 0 disables).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from posenb.data.targets import keypoints_in_image
from posenb.errors import ConfigError

__all__ = [
    "DEFAULT_AUGMENTATION",
    "Augmentation",
    "build_augmentation",
    "DEFAULT_GLOBAL_SCALE",
    "rescale",
    "to_original",
    "find_symmetric_pairs",
    "parse_crop_size",
    "scaled_size",
    "to_frame_pixels",
]

DEFAULT_GLOBAL_SCALE = 0.5  # frames are resized by this before the network, in training and in analysis

DEFAULT_AUGMENTATION: dict = {
    "global_scale": DEFAULT_GLOBAL_SCALE,
    "scale_jitter_lo": 0.5,
    "scale_jitter_up": 1.25,
    "rotation": 25.0,
    "rotratio": 0.4,
    "mirror": False,
    "symmetric_pairs": None,
    "bodyparts": None,
    "crop_size": (400, 400),
    "crop_sampling": "hybrid",
    "max_shift": 0.4,
    "apply_prob": 0.5,
    "brightness": 0.2,
    "contrast": 0.2,
    "blur": 1.0,
    "motion_blur": True,
    "gaussian_noise": 12.75,
}

_CROP_SAMPLING = ("uniform", "keypoints", "hybrid")


def parse_crop_size(value) -> tuple[int, int]:
    """``crop_size`` as ``(width, height)`` ints from an int or a ``(width, height)`` pair."""
    if isinstance(value, (int, np.integer)):
        value = (value, value)
    try:
        w, h = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"crop_size must be an int or (width, height), got {value!r}") from None
    if w < 1 or h < 1:
        raise ConfigError(f"crop_size must be positive, got {value!r}")
    return w, h


def find_symmetric_pairs(bodyparts: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs of left/right body parts, e.g. ``leftear``/``rightear``, ``L_paw``/``R_paw``, ``ear_left``...

    A name pairs with the name obtained by swapping ``left``<->``right`` (any case), a leading / trailing
    ``l``<->``r`` separated by ``_``, ``-``, ``.`` or a space, or an upper-case ``L``<->``R`` after a lower-case
    letter at the end of the name or before its trailing digits (SLEAP's ``wingL``, ``forelegL4``).
    """
    index = {name: i for i, name in enumerate(bodyparts)}
    swaps = [
        (re.compile(r"left", re.I), lambda m: _same_case(m.group(0), "right")),
        (re.compile(r"right", re.I), lambda m: _same_case(m.group(0), "left")),
    ]
    pairs: list[tuple[int, int]] = []
    for name, i in index.items():
        candidates = [pattern.sub(repl, name) for pattern, repl in swaps if pattern.search(name)]
        m = re.fullmatch(r"([lLrR])([_\-. ].*)|(.*[_\-. ])([lLrR])", name)
        if m:
            if m.group(1):
                candidates.append(_swap_lr(m.group(1)) + m.group(2))
            else:
                candidates.append(m.group(3) + _swap_lr(m.group(4)))
        camel = re.fullmatch(r"(.*[a-z])([LR])(\d*)", name)
        if camel:
            candidates.append(camel.group(1) + ("R" if camel.group(2) == "L" else "L") + camel.group(3))
        for other in candidates:
            j = index.get(other)
            if j is not None and j != i and (min(i, j), max(i, j)) not in pairs:
                pairs.append((min(i, j), max(i, j)))
    return sorted(pairs)


def _same_case(template: str, word: str) -> str:
    if template.isupper():
        return word.upper()
    if template[0].isupper():
        return word.capitalize()
    return word


def _swap_lr(c: str) -> str:
    return {"l": "r", "r": "l", "L": "R", "R": "L"}[c]


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """``(w, h)`` of a ``width x height`` image resized by ``scale`` (what :func:`rescale` makes; >= 1 px)."""
    return max(1, round(width * scale)), max(1, round(height * scale))


def to_frame_pixels(pose: np.ndarray, resized: tuple[int, int], frame: tuple[int, int]) -> np.ndarray:
    """``pose`` ``(..., >= 2)`` with x, y in pixels of a ``resized = (w, h)`` image mapped, in place, to the
    ``frame = (W, H)`` it was resized from (:func:`rescale`'s pixel-centre convention inverted); returns it."""
    sx, sy = resized[0] / frame[0], resized[1] / frame[1]
    pose[..., 0] = (pose[..., 0] + 0.5) / sx - 0.5
    pose[..., 1] = (pose[..., 1] + 0.5) / sy - 0.5
    return pose


def rescale(image: np.ndarray, keypoints: np.ndarray | None, scale: float):
    """Resize ``image`` by ``scale`` (``cv2.resize``, area interpolation when shrinking) and map ``keypoints``.

    Returns ``(image, keypoints, matrix)``: the resized ``(round(H * s), round(W * s), C)`` image, ``(K, 2)``
    keypoints ``x' = (x + 0.5) * sx - 0.5`` (``sx`` = new width / old width, same for y; None passes through),
    and the ``(2, 3)`` float64 matrix of that map.
    """
    import cv2

    h, w = image.shape[:2]
    new_w, new_h = scaled_size(w, h, scale)
    sx, sy = new_w / w, new_h / h
    matrix = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5]])
    if (new_w, new_h) != (w, h):
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_w, new_h), interpolation=interp)
    if keypoints is not None:
        keypoints = _apply_matrix(matrix, keypoints)
    return image, keypoints, matrix


def to_original(keypoints, matrix: np.ndarray) -> np.ndarray:
    """Map ``(..., 2)`` network-input coordinates back through the inverse of the ``(2, 3)`` ``matrix``.

    With the matrix from :func:`rescale` this gives frame pixels: ``x = (x' + 0.5) / sx - 0.5``.
    """
    full = np.vstack([np.asarray(matrix, dtype=np.float64), [0.0, 0.0, 1.0]])
    return _apply_matrix(np.linalg.inv(full)[:2], keypoints)


def _apply_matrix(matrix: np.ndarray, keypoints) -> np.ndarray:
    kp = np.asarray(keypoints, dtype=np.float64)
    return kp @ matrix[:, :2].T + matrix[:, 2]


def _compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The (2, 3) matrix of ``a`` after ``b``."""
    return np.hstack([a[:, :2] @ b[:, :2], (a[:, :2] @ b[:, 2] + a[:, 2])[:, None]])


class Augmentation:
    """Callable ``(image uint8 (H, W, 3), keypoints (K, 2) float with NaN) -> (image, keypoints)``.

    The output image is ``crop_size`` (``(height, width)`` = ``crop_size[::-1]``), the keypoints are in its
    pixels, NaN where missing or outside. With ``train=False`` only ``global_scale`` and the crop / pad to
    ``crop_size`` (anchored at the top-left corner) are applied, deterministically.

    Randomness comes from the ``rng`` argument (a ``numpy.random.Generator``) or, without one, from the
    generator built from ``seed``: the same seed gives the same sequence of augmentations.
    """

    def __init__(self, params: dict | None = None, *, train: bool = True, seed=None):
        p = {**DEFAULT_AUGMENTATION, **(params or {})}
        self.params = p
        self.train = bool(train)
        self.rng = np.random.default_rng(seed)
        self.global_scale = float(p["global_scale"])
        self.jitter = (float(p["scale_jitter_lo"]), float(p["scale_jitter_up"]))
        self.crop_size = parse_crop_size(p["crop_size"])
        if self.global_scale <= 0 or not 0 < self.jitter[0] <= self.jitter[1]:
            raise ConfigError(
                f"global_scale must be > 0 and 0 < scale_jitter_lo <= scale_jitter_up; got {self.global_scale}, "
                f"{self.jitter}"
            )
        if p["crop_sampling"] not in _CROP_SAMPLING:
            raise ConfigError(f"crop_sampling must be one of {_CROP_SAMPLING}, got {p['crop_sampling']!r}")
        self.pairs: list[tuple[int, int]] = []
        if p["mirror"]:
            if p["symmetric_pairs"] is not None:
                self.pairs = [(int(i), int(j)) for i, j in p["symmetric_pairs"]]
            elif p["bodyparts"] is not None:
                self.pairs = find_symmetric_pairs(p["bodyparts"])

    @property
    def out_size(self) -> tuple[int, int]:
        """``(width, height)`` of the output images."""
        return self.crop_size

    def __call__(self, image: np.ndarray, keypoints: np.ndarray, rng: np.random.Generator | None = None):
        image, keypoints, _ = self.apply(image, keypoints, rng)
        return image, keypoints

    def apply(self, image: np.ndarray, keypoints: np.ndarray, rng: np.random.Generator | None = None):
        """Like ``__call__`` but also returns the ``(2, 3)`` matrix from input to output pixels."""
        rng = self.rng if rng is None else rng
        keypoints = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
        m_scale = np.array([[1.0, 0, 0], [0, 1.0, 0]])
        if self.global_scale != 1.0:
            image, keypoints, m_scale = rescale(image, keypoints, self.global_scale)
        image, keypoints, m_geo = self._geometric(image, keypoints, rng)
        if self.train:
            image = self._photometric(image, rng)
        return image, keypoints.astype(np.float32), _compose(m_geo, m_scale)

    # -- geometry --------------------------------------------------------------------------------------------

    def _geometric(self, image: np.ndarray, kp: np.ndarray, rng: np.random.Generator):
        import cv2

        p = self.params
        h, w = image.shape[:2]
        out_w, out_h = self.crop_size
        centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
        a = np.eye(2)
        flip = False
        if self.train:
            s = rng.uniform(*self.jitter)
            angle = rng.uniform(-p["rotation"], p["rotation"]) if rng.random() < p["rotratio"] else 0.0
            flip = bool(p["mirror"]) and rng.random() < 0.5
            rad = math.radians(angle)
            # image y points down: a positive angle turns the content counter-clockwise on screen
            a = s * np.array([[math.cos(rad), math.sin(rad)], [-math.sin(rad), math.cos(rad)]])
            if flip:
                a = a @ np.diag([-1.0, 1.0])
        corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [-0.5, h - 0.5], [w - 0.5, h - 0.5]]) - centre
        ext = corners @ a.T
        lo, hi = ext.min(axis=0), ext.max(axis=0)
        valid = keypoints_in_image(kp, (h, w))
        t = np.empty(2)
        for d, size in enumerate((out_w, out_h)):
            # t[d]: where the image centre lands in the output; the image spans [t + lo, t + hi]
            first, last = -0.5 - lo[d], size - 0.5 - hi[d]  # image flush with the start / the end
            if not self.train:
                t[d] = first
                continue
            t_lo, t_hi = min(first, last), max(first, last)
            mode = p["crop_sampling"]
            if mode == "hybrid":
                mode = "keypoints" if rng.random() < 0.5 else "uniform"
            if mode == "keypoints" and valid.any() and first > last:  # image larger than the canvas
                k = rng.choice(np.flatnonzero(valid))
                target = size / 2.0 + rng.uniform(-p["max_shift"], p["max_shift"]) * size
                t[d] = np.clip(target - (a @ (kp[k] - centre))[d], t_lo, t_hi)
            else:
                t[d] = rng.uniform(t_lo, t_hi)
        matrix = np.hstack([a, (t - a @ centre)[:, None]])
        if not self.train:
            # pure integer translation: copy instead of resampling
            out = np.zeros((out_h, out_w) + image.shape[2:], dtype=image.dtype)
            ox, oy = int(round(matrix[0, 2])), int(round(matrix[1, 2]))
            src = image[max(0, -oy) : max(0, -oy) + out_h, max(0, -ox) : max(0, -ox) + out_w]
            out[max(0, oy) : max(0, oy) + src.shape[0], max(0, ox) : max(0, ox) + src.shape[1]] = src
            image = out
        else:
            image = cv2.warpAffine(
                image,
                matrix,
                (out_w, out_h),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            )
        kp = _apply_matrix(matrix, kp)
        if flip and self.pairs:
            order = np.arange(len(kp))
            for i, j in self.pairs:
                order[i], order[j] = j, i
            kp = kp[order]
        kp[~keypoints_in_image(kp, (out_h, out_w))] = np.nan
        return image, kp, matrix

    # -- photometric -----------------------------------------------------------------------------------------

    def photometric(self, image: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """The photometric steps alone (brightness / contrast, blur, noise), e.g. on a crop warped elsewhere."""
        return self._photometric(image, self.rng if rng is None else rng)

    def _photometric(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        import cv2

        p = self.params
        prob = p["apply_prob"]
        if (p["brightness"] or p["contrast"]) and rng.random() < prob:
            gain = 1.0 + rng.uniform(-p["contrast"], p["contrast"])
            shift = rng.uniform(-p["brightness"], p["brightness"]) * 255.0
            mean = float(image.mean())
            lut = np.clip((np.arange(256) - mean) * gain + mean + shift, 0, 255).astype(np.uint8)
            image = cv2.LUT(image, lut)
        if (p["blur"] or p["motion_blur"]) and rng.random() < prob:
            use_motion = p["motion_blur"] and (not p["blur"] or rng.random() < 0.5)
            if use_motion:
                k = 7
                kernel = np.zeros((k, k), np.float32)
                kernel[k // 2, :] = 1.0
                rot = cv2.getRotationMatrix2D(((k - 1) / 2, (k - 1) / 2), rng.uniform(-90, 90), 1.0)
                kernel = cv2.warpAffine(kernel, rot, (k, k))
                image = cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))
            else:
                image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, max(float(p["blur"]), 0.3)))
        if p["gaussian_noise"] and rng.random() < prob:
            noise = rng.standard_normal(image.shape, dtype=np.float32)
            noise *= float(p["gaussian_noise"])
            noise += image
            image = np.clip(noise, 0, 255, out=noise).astype(np.uint8)
        return image


def build_augmentation(params: dict | None = None, *, train: bool = True, seed=None) -> Augmentation:
    """The augmentation pipeline for ``params`` (missing keys from :data:`DEFAULT_AUGMENTATION`).

    ``train=True``: random scale jitter, rotation, mirror, crop / pad and photometric changes;
    ``train=False``: ``global_scale`` then crop / pad to ``crop_size`` at the top-left, no randomness.
    """
    return Augmentation(params, train=train, seed=seed)
