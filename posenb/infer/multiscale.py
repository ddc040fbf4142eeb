"""Test-time scales: run the network on a frame at several input scales and average the key points.

A pose model trained with scale jitter (``scale_jitter_lo`` .. ``scale_jitter_up`` around ``global_scale``) sees
the same animal at other sizes during training; running it at slightly enlarged inputs puts more score-map cells
on each part, and averaging two scales halves the variance of the two estimates. Measured on the recipe's
snapshots (benchmarks/RESULTS.md, "Test-time scales"): mean error of openfield's three test sets 1.81 -> 1.73 px,
synthetic frames against the exact truth 0.50 / 0.61 -> 0.43 / 0.36 px, at the cost of one network pass per
scale at ``scale**2`` the pixels (~2.8x the compute of one pass for ``(1.1, 1.25)``). It is what the labeler's
suggestions use (:class:`posenb.infer.suggest.LabelSuggester`), where a frame is predicted once and accuracy is
worth the time.

Analysis and evaluation keep one pass by default (analysis speed) and take the scales as an option:
``analyze_videos(..., test_scales=[1.1, 1.25])``, ``evaluate_network(..., test_scales=...)``, ``posenb analyze /
evaluate --test-scales 1.1 1.25``, or for a whole shuffle the key ``test_scales`` of its ``train/pose_cfg.yaml``
(written as ``null`` by ``create_training_dataset``; settable there, in ``posenb.yaml``'s ``train:`` or by editing the
file). The keyword wins over the file (:func:`resolve_test_scales`); ``test_scales=[1]`` asks for one pass whatever
the file says. Single-animal projects only for now (:func:`refuse_multianimal_scales`). What ran is recorded:
``posenb_test_scales`` in an analysis' ``_meta.pickle``, and an evaluation with scales writes its own files
(:func:`scales_tag`), never mixed with the one-pass ones.

Test-time rotations (the labeler's suggestions only): after the passes at each scale, the frame is also rotated by
a few angles about the animal's centre (the mean key point of those passes), run at each scale, and the key points
rotated back before the average (:func:`predict_multiscale`'s ``angles``). A model trained with rotation
augmentation (the recipe's ``rotation``, ``Predictor.train_rotation``) has seen such poses; angles beyond half that
range are dropped (:func:`usable_angles`). Rotating about the frame's own centre instead moves an animal near the
border partly out of the frame: measured, it lost whole parts (mean errors of 4-6 px), about the animal it did not.
Measured on the clicks benchmark's first labeling model (20 labeled openfield frames, its 96 other frames):
x1.1 + x1.25 alone 79.6 % of the suggestions within 3 px (1.83 clicks per frame), with +-15 deg 82.7 % (1.71).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError

__all__ = [
    "ACCURATE_SCALES",
    "SUGGESTION_ANGLES",
    "SUGGESTION_SCALES",
    "POSE_CFG_KEY",
    "check_scales",
    "predict_multiscale",
    "resolve_test_scales",
    "refuse_multianimal_scales",
    "scales_tag",
    "scales_text",
    "usable_angles",
]

#: the key of a shuffle's ``train/pose_cfg.yaml`` that holds its default test-time scales (null: one pass)
POSE_CFG_KEY = "test_scales"

#: the measured set of test-time scales, relative to the model's ``global_scale`` (inside the default scale
#: jitter, x0.75-x1.25, that training covers): what "more accurate" means in the dashboard's analysis
ACCURATE_SCALES: tuple[float, ...] = (1.1, 1.25)
#: test-time scales of the labeler's suggestions
SUGGESTION_SCALES: tuple[float, ...] = ACCURATE_SCALES
#: test-time rotations (degrees, about the animal's centre) of the labeler's suggestions, beside the unrotated passes
SUGGESTION_ANGLES: tuple[float, ...] = (-15.0, 15.0)


def check_scales(scales: Sequence[float] | None) -> tuple[float, ...] | None:
    """``scales`` as a tuple of positive floats; None or ``(1.0,)`` -> None (one pass at the model's scale)."""
    if scales is None:
        return None
    try:
        out = tuple(float(s) for s in scales)
    except (TypeError, ValueError):
        raise ConfigError(f"test_scales must be a list of numbers, got {scales!r}.") from None
    if not out or any(not (0.1 <= s <= 4.0) for s in out):
        raise ConfigError(
            f"test_scales must be between 0.1 and 4 (relative to global_scale), got {scales!r}."
        )
    return None if out == (1.0,) else out


def predict_multiscale(
    predictor, frames: np.ndarray, scales: Sequence[float], angles: Sequence[float] = ()
) -> np.ndarray:
    """Key points of ``frames`` ``(n, H, W, 3)`` uint8 RGB averaged over the input ``scales`` (relative to the
    predictor's ``global_scale``): ``(n, K, 3)`` float64, x, y in frame pixels (mean over the passes) and
    likelihood (mean). A part missing (NaN) in one pass takes the others' mean.

    ``angles`` (degrees, counter-clockwise in the image): each frame is also rotated by each angle about its
    animal's centre (the mean key point of the unrotated passes), run at each scale and the key points rotated
    back; ``len(scales) * (1 + len(angles))`` passes in all. A frame with no key point in the unrotated passes
    gets no rotated ones."""
    runs = [predictor.predict_at(frames, s) for s in scales]  # one pass per scale, in frame pixels
    if len(angles):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a frame without any key point: no centre
            centres = np.nanmean(np.stack(runs)[..., :2], axis=(0, 2))  # (n, 2) frame pixels
        runs += [_rotated_pass(predictor, frames, s, a, centres) for a in angles for s in scales]
    stack = np.stack(runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a part NaN in every pass stays NaN
        return np.nanmean(stack, axis=0)


def _rotated_pass(predictor, frames: np.ndarray, scale: float, angle: float, centres: np.ndarray) -> np.ndarray:
    """One pass at ``scale`` over ``frames`` rotated by ``angle`` degrees about ``centres`` ``(n, 2)`` (frame
    pixels; NaN: that frame's result is NaN), key points rotated back: ``(n, K, 3)``."""
    import cv2  # noqa: PLC0415

    h, w = frames.shape[1:3]
    ok = np.isfinite(centres).all(axis=1)
    out = np.full((len(frames), predictor.num_joints, 3), np.nan)
    if not ok.any():
        return out
    mats = {i: cv2.getRotationMatrix2D((float(centres[i, 0]), float(centres[i, 1])), float(angle), 1.0)
            for i in np.flatnonzero(ok)}  # fmt: skip
    rotated = np.stack([cv2.warpAffine(frames[i], m, (w, h), flags=cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_REPLICATE) for i, m in mats.items()])  # fmt: skip
    pred = predictor.predict_at(rotated, scale)
    for j, (i, m) in enumerate(mats.items()):
        back = cv2.invertAffineTransform(m)
        out[i, :, :2] = pred[j, :, :2] @ back[:, :2].T + back[:, 2]
        out[i, :, 2] = pred[j, :, 2]
    return out


def usable_angles(angles: Sequence[float], train_rotation: float | None) -> tuple[float, ...]:
    """The ``angles`` (degrees) within half the rotation range a model was trained with (``train_rotation``,
    +-degrees; None: not recorded, so none): a model rotated in training by up to 70 deg gets +-15, one trained
    without rotation gets none."""
    if not train_rotation:
        return ()
    return tuple(float(a) for a in angles if a != 0 and abs(float(a)) <= float(train_rotation) / 2)


def resolve_test_scales(test_scales, train_dir: str | os.PathLike | None) -> tuple[float, ...] | None:
    """The scales an analysis or evaluation of a shuffle uses: ``test_scales`` when given (not None), else the
    ``test_scales`` key of ``<train_dir>/pose_cfg.yaml`` (absent or null: one pass). Checked by
    :func:`check_scales` (None: one pass); a bad value in the file is a :class:`ConfigError` naming the file."""
    if test_scales is not None:
        return check_scales(test_scales)
    if train_dir is None:
        return None
    path = Path(train_dir) / "pose_cfg.yaml"
    if not path.is_file():
        return None
    from posenb.data.pose_cfg import read_pose_cfg  # noqa: PLC0415

    value = read_pose_cfg(path).get(POSE_CFG_KEY)
    if value is None:
        return None
    try:
        return check_scales(value)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc} Fix the key, or set it to null for one pass.") from None


def refuse_multianimal_scales(cfg: dict, shuffle: int, trainingsetindex: int, test_scales) -> None:
    """:class:`ConfigError` when test-time scales are asked (keyword, or the shuffle's ``pose_cfg.yaml``) for a
    multi-animal project: they are single-animal only for now (never silently ignored)."""
    from posenb.project import paths  # noqa: PLC0415

    try:
        train_dir = paths.get_train_dir(cfg, shuffle, trainingsetindex)[0]
    except (ConfigError, ValueError, TypeError, KeyError):
        train_dir = None  # the caller's own checks name a bad shuffle or index
    scales = resolve_test_scales(test_scales, train_dir)
    if scales is not None:
        where = (
            "test_scales=" if test_scales is not None else f"{Path(train_dir) / 'pose_cfg.yaml'}: test_scales"
        )
        raise ConfigError(
            f"{where} {list(scales)}: test-time scales are single-animal only for now; multi-animal projects "
            "are analysed and evaluated in one pass. Drop the argument (or set the key to null)."
        )


def scales_tag(scales: Sequence[float] | None) -> str:
    """File-name tag of a scale set: ``""`` for one pass, ``"-scales1.1_1.25"`` for ``(1.1, 1.25)``."""
    if scales is None:
        return ""
    return "-scales" + "_".join(f"{float(s):g}" for s in scales)


def scales_text(scales: Sequence[float] | None) -> str:
    """In words, for messages: ``"one pass"`` or ``"test scales x1.1, x1.25"``."""
    if scales is None:
        return "one pass"
    return "test scales " + ", ".join(f"x{float(s):g}" for s in scales)
