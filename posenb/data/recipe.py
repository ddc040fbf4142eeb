"""The training recipe follows the data: input scale, crop, augmentation and budget from the labeled frames.

:func:`derive_recipe` is a pure function of the labels (no torch, no files): ``create_training_dataset`` calls it
per shuffle with the shuffle's training labels and writes the chosen values into ``train/pose_cfg.yaml``, with one
line of reason per value under the key ``recipe`` (the training log repeats them). Precedence, lowest first:
posenb's fixed defaults < this recipe < ``posenb.yaml`` ``train:`` settings < ``create_training_dataset``'s
``pose_cfg`` overrides < edits of ``pose_cfg.yaml`` < keyword arguments of ``train_network``.

Measured from the labels (pixels of the original frames):

- ``close``: the 5th percentile, over every labeled (frame, part), of the distance to the nearest other labeled
  part of the same frame (coincident labels closer than 1 px are ignored): how close neighbouring parts get.
- ``extent``: the median over frames of the long side of the bounding box of the labeled parts (the animal).
- the largest frame size, the number of labeled frames, the share of frames where each part is unlabeled.

Rules (the network's score maps have an output stride of ``STRIDE`` = 8 input pixels):

- ``global_scale``: the frame's long side is brought to ~``TARGET_INPUT_SIDE`` px (cost independent of the camera)
  *unless* that puts the closest parts less than ``CELLS_APART`` = 2.5 score-map cells apart, in which case the scale
  is raised to ``CELLS_APART * STRIDE / close``. It never exceeds 1 (no invented pixels), except for extremely close
  parts (``close`` < ``EXTREMELY_CLOSE_PX``), where it may go up to 2. Bounds [0.25, 2].
- ``crop_size``: square, holds the (median) animal at that scale plus a margin of two cells, rounded up to 32 px,
  in [160, ``MAX_CROP``] (``MAX_CROP`` = 192 keeps a CPU step affordable: 1.4x the time of 160 on an idle machine,
  2x loaded; 256 would be 2.6x / 4x, see the time model below) and no larger than the scaled frame. A crop that
  holds part of the animal is paid for with more iterations (the budget's coverage factor).
- ``scale_jitter_lo``: 0.5 (posenb's default) unless the closest parts are fewer than 2 cells apart at the chosen
  scale; then shrinking is limited to 0.75 so that they do not merge into one cell.
- ``rotation``: as far as the labeled animals turn. ``turn``: the 95th percentile, over labeled frames, of the angle
  between the animal's axis in that frame and its circular mean direction, the axis being the vector between the
  two parts farthest apart (median) among those labeled together in at least half of the frames (e.g. snout ->
  tail base). Rotation is ``turn`` rounded up to 5 degrees, in [``MIN_ROTATION``, 180]: a mouse seen from above in
  an open field turns (openfield: 79 deg -> +-80), a head-fixed mouse seen from the side does not
  (mirror-mouse-lp: 9 deg -> +-25, DeepLabCut's default range). Rotation preserves left and right, so no part names
  swap. The multi-animal pose model keeps +-180 (animals in a shared arena face every way).
- ``weigh_only_present_joints``: False: a NaN label means "not visible" (DeepLabCut's convention), so the part's
  score map is trained to zero there and its likelihood stays low where it is hidden (p-cutoff removes it).
- budget (:func:`training_budget`): the iterations grow with what there is to learn, ``max_iters = (1500 + 15 x
  frames) x sqrt(parts / 4) x (animal side / crop side)`` (both factors in [1, 2]; rounded to 100, in [2000,
  20000]): openfield (110 frames, 4 parts, the animal inside a 160 crop) keeps its tuned 3200, mirror-mouse-lp (85
  frames, 17 parts, a 416 px two-view animal in 192 crops) gets 11100. ``max_minutes`` is the time model's estimate
  for those iterations on 2 idle CPU cores, in [12, 60] (openfield 12, mirror-mouse-lp 59): the loop measures its
  speed and shortens the cosine schedule to end inside the minutes (:mod:`posenb.train.budget`), and
  ``plateau_stop`` ends a run whose training loss stopped falling (after annealing the learning rate). On a GPU the
  same recipe runs; the iterations bind before the minutes. The same function budgets both networks of a
  multi-animal project (:func:`posenb.data.ma_trainingset.derive_ma_recipe`): the pose model with labeled animals
  as the frames, the multi-animal body parts as the parts and its instance crop; the centroid model with labeled
  frames, its maps (anchors + unique parts) and its canvas, at ``share`` = 1/3 of the iterations and minutes
  bounds (one map of anchors that need only land inside the instance crop).

Time model (:func:`seconds_per_iteration`; efficientnet-lite0 + FPN head, batch 8, 2 CPU cores): a step costs
``batch / (36 img/s x (crop pixels / 160^2) ^ -1)`` seconds on an idle machine, i.e. 0.22 s at 160x160, 0.32 s at
192x192, 0.57 s at 256x256; linear in the batch size (the work is per image) and independent of the number of
parts (only the head's last layer grows). Measured: 36.2 training images/s at 160x160 on the idle machine
(benchmarks/RESULTS.md "Training (openfield)"); the cost per image grows with its pixels (benchmarks/
bench_step_time.py, CPU time per step with 1 thread at load ~10: 0.67 s at 160, 0.93 s at 192 = x1.40 for x1.44
the pixels). On a loaded machine wall time grows faster than the pixels (17.5 / 8.7 / 4.5 images/s at 160 / 192 /
256 at load ~5, cache contention) and the time budget, not the iterations, ends the run. Frames larger than the
crop cost nothing extra in training (crops are cut from cached images); at evaluation / analysis a frame costs
like a crop of its (scaled) size, padded to a multiple of 32.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "derive_recipe",
    "label_statistics",
    "orientation_spread",
    "seconds_per_iteration",
    "training_budget",
    "STRIDE",
    "CELLS_APART",
    "TARGET_INPUT_SIDE",
    "MAX_CROP",
    "MIN_CROP",
    "EXTREMELY_CLOSE_PX",
    "MIN_ROTATION",
]

#: output stride of posenb's score maps (every head of posenb.nn produces stride-8 maps)
STRIDE = 8
#: after scaling, the closest neighbouring parts should be at least this many score-map cells apart
CELLS_APART = 2.5
#: without close parts, the long side of the network input is brought to ~this many pixels (cost ~ camera-free)
TARGET_INPUT_SIDE = 320
#: parts closer than this (original pixels) may be enlarged beyond scale 1 (up to MAX_SCALE)
EXTREMELY_CLOSE_PX = 6.0
MIN_SCALE, MAX_SCALE = 0.25, 2.0
#: the smallest random rotation range [degrees]: DeepLabCut's default, for animals that keep one orientation
MIN_ROTATION = 25
MIN_CROP, MAX_CROP = 160, 192
#: time model: training images per second on 2 idle CPU cores (efficientnet-lite0 + FPN, 160x160 crops, batch 8;
#: benchmarks/RESULTS.md "Training (openfield)": 36.2 images/s quiet)
CPU_IMAGES_PER_S_160 = 36.0
#: images/s ~ (crop pixels / 160^2) ^ -CPU_AREA_EXPONENT: the work per image grows with its pixels
#: (benchmarks/bench_step_time.py, CPU time per step, 1 thread: 160 -> 192 px x1.40 for x1.44 the pixels)
CPU_AREA_EXPONENT = 1.0
#: a CUDA GPU: this many times the 2-core speed (rough; the loop measures the real speed)
GPU_SPEEDUP = 50.0
#: the budget's iterations: ``ITERS_BASE + ITERS_PER_FRAME x frames`` (3000 for 100 frames: openfield's tuned
#: figure), times the parts and coverage factors, within [MIN_ITERS, MAX_ITERS]
ITERS_BASE, ITERS_PER_FRAME = 1500, 15
MIN_ITERS, MAX_ITERS = 2000, 20000
#: ``max_minutes`` is the time model's estimate on 2 idle CPU cores within [MIN_MINUTES, MAX_MINUTES]
MIN_MINUTES, MAX_MINUTES = 12.0, 60.0


def label_statistics(keypoints: np.ndarray) -> dict:
    """Statistics of labeled points ``(N, K, 2)`` (x, y px, NaN = unlabeled) used by :func:`derive_recipe`.

    Returns ``{"frames", "labeled_frames", "parts", "close", "median_neighbour", "extent", "hidden_share",
    "turn", "axis"}``: frame counts, the number of parts labeled in at least one frame, the 5th / 50th percentile
    of nearest-neighbour distances [px] (None with < 2 parts per frame), the median bounding-box long side [px]
    (None without 2 labeled parts), the share of labeled frames where each part is NaN ``(K,)``, and the animal's
    turning (:func:`orientation_spread`: ``turn`` [degrees] and the part pair ``axis``; None without a pair).
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 2:
        raise ValueError(f"keypoints must have shape (n_frames, n_parts, 2), got {kp.shape}")
    ok = np.isfinite(kp).all(axis=-1)  # (N, K)
    labeled = ok.any(axis=1)
    nearest, extents = [], []
    for frame, mask in zip(kp[labeled], ok[labeled]):
        pts = frame[mask]
        if len(pts) < 2:
            continue
        d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
        d[d < 1.0] = np.inf  # the diagonal and coincident labels (e.g. two occluded parts put on one spot)
        dmin = d.min(axis=1)
        nearest.extend(dmin[np.isfinite(dmin)].tolist())
        extents.append(float(max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1]))))
    n_lab = int(labeled.sum())
    hidden = (~ok[labeled]).mean(axis=0) if n_lab else np.zeros(kp.shape[1])
    return {
        "frames": int(kp.shape[0]),
        "labeled_frames": n_lab,
        "parts": int(ok[labeled].any(axis=0).sum()),
        "close": float(np.percentile(nearest, 5)) if nearest else None,
        "median_neighbour": float(np.median(nearest)) if nearest else None,
        "extent": float(np.median(extents)) if extents else None,
        "hidden_share": [float(v) for v in hidden],
        **orientation_spread(kp),
    }


def orientation_spread(keypoints: np.ndarray, min_frames: int = 5) -> dict:
    """How far the labeled animal turns: ``{"turn": degrees or None, "axis": (i, j) or None}``.

    ``axis``: the pair of parts ``i < j`` with the largest median distance among pairs labeled together in at least
    half of the labeled frames (the animal's long axis, e.g. snout and tail base); its direction ``p_j - p_i`` is
    the animal's orientation in a frame. ``turn``: the 95th percentile of the absolute angle between each frame's
    orientation and their circular mean, in [0, 180]. None (both) with fewer than ``min_frames`` frames holding
    such a pair. ``keypoints``: ``(N, K, 2)`` px, NaN = unlabeled.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    kp = kp[np.isfinite(kp).all(axis=-1).any(axis=1)]  # labeled frames
    ok = np.isfinite(kp).all(axis=-1)  # (M, K)
    best, axis = -1.0, None
    for i in range(kp.shape[1]):
        for j in range(i + 1, kp.shape[1]):
            both = ok[:, i] & ok[:, j]
            if both.sum() < max(min_frames, 0.5 * len(ok)):
                continue
            length = float(np.median(np.linalg.norm(kp[both, j] - kp[both, i], axis=-1)))
            if length > best:
                best, axis = length, (i, j)
    if axis is None or best < 1.0:
        return {"turn": None, "axis": None}
    i, j = axis
    both = ok[:, i] & ok[:, j]
    v = kp[both, j] - kp[both, i]
    unit = np.exp(1j * np.arctan2(v[:, 1], v[:, 0]))  # (M,) orientations on the unit circle
    mean = unit.mean()
    if abs(mean) < 1e-9:  # no mean direction: the animal faces every way
        return {"turn": 180.0, "axis": axis}
    deviation = np.degrees(np.abs(np.angle(unit / (mean / abs(mean)))))
    return {"turn": float(np.percentile(deviation, 95)), "axis": axis}


def seconds_per_iteration(crop_size: Sequence[int], batch_size: int = 8, device: str = "cpu") -> float:
    """Time model of one training step [s] on 2 idle CPU cores: ``batch / (36 img/s x (pixels / 160^2) ^ -1)``
    (efficientnet-lite0 + FPN head; figures in the module docstring). ``device="cuda"``: ~50x faster (rough)."""
    area = float(crop_size[0]) * float(crop_size[1]) / (160.0 * 160.0)
    ips = CPU_IMAGES_PER_S_160 * area ** (-CPU_AREA_EXPONENT)
    if device != "cpu":
        ips *= GPU_SPEEDUP
    return float(batch_size) / ips


def training_budget(
    frames: int,
    parts: int,
    crop_side: int,
    animal_side: int,
    batch_size: int = 8,
    *,
    share: float = 1.0,
    unit: str = "frame",
    region: str = "animal",
) -> tuple[dict, dict]:
    """``max_iters`` and ``max_minutes`` for what there is to learn, with one line of reason each.

    The one budget rule of posenb's models (single-animal, and both networks of the multi-animal top-down model:
    :func:`posenb.data.ma_trainingset.derive_ma_recipe`).

    ``frames``: labeled training items (frames; labeled animals for the top-down pose model, whose items are
    instance crops); ``parts``: score maps to learn (body parts labeled at least once); ``crop_side``: the training
    crop [network-input px]; ``animal_side``: the crop that would hold the whole (median) animal, at most the
    scaled frame [px] (the scaled frame for the centroid model). Iterations: ``(1500 + 15 x frames) x parts factor
    x coverage factor x share`` rounded to 100, in ``[2000, 20000] x share``, where the parts factor is
    ``sqrt(parts / 4)`` in [1, 2] (each part is one more score map to tell apart from its neighbours; openfield's
    4 parts are the reference) and the coverage factor is ``animal_side / crop_side`` in [1, 2] (a crop that holds
    part of the animal shows that share of its labeled parts per image). ``share``: the model's share of a pose
    model's budget (1; the multi-animal centroid model, whose one map of anchors only has to land inside the
    instance crop, takes less). Minutes: the time model's estimate (:func:`seconds_per_iteration` at
    ``crop_side``, ``batch_size``) on 2 idle CPU cores, in ``[12, 60] x share``. ``unit`` / ``region`` name the
    items and what the coverage is measured on in the reasons.
    """
    base = ITERS_BASE + ITERS_PER_FRAME * int(frames)
    f_parts = min(2.0, max(1.0, math.sqrt(max(int(parts), 1) / 4.0)))
    f_cover = min(2.0, max(1.0, float(animal_side) / float(crop_side)))
    lo, hi = _round_up(MIN_ITERS * share, 100), _round_up(MAX_ITERS * share, 100)
    iters = int(min(hi, max(lo, round(base * f_parts * f_cover * share / 100) * 100)))
    spi = seconds_per_iteration((crop_side, crop_side), batch_size)
    est = iters * spi / 60
    lo_min, hi_min = round(MIN_MINUTES * share, 1), round(MAX_MINUTES * share, 1)
    minutes = float(round(min(hi_min, max(lo_min, est)), 1))
    values = {"max_iters": iters, "max_minutes": minutes}
    of_pose = "" if share == 1 else f", x{share:.2f} of a pose model's budget"
    reasons = {
        "max_iters": (
            f"{frames} labeled {unit}s: {ITERS_BASE} + {ITERS_PER_FRAME} per {unit} = {base}, x{f_parts:.2f} for "
            f"{parts} part{'s' if parts != 1 else ''} (sqrt(parts / 4) in [1, 2]), x{f_cover:.2f} crop coverage "
            f"({animal_side} px {region} / {crop_side} px crop in [1, 2]){of_pose}, in [{lo}, {hi}]"
        ),
        "max_minutes": (
            f"time model: {iters} x {spi:.2f} s ({crop_side}x{crop_side} crops, batch {batch_size}, 2 idle CPU "
            f"cores) = {est:.0f} min, in [{lo_min:g}, {hi_min:g}]; a slower machine ends the cosine "
            "schedule earlier to stay inside the minutes, a GPU is bound by the iterations"
        ),
    }
    return values, reasons


def _round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def _choose_scale(frame_wh, stats) -> tuple[float, str]:
    long_side = max(int(frame_wh[0]), int(frame_wh[1]), 1)
    base = min(1.0, TARGET_INPUT_SIDE / long_side)
    why = f"frames {frame_wh[0]}x{frame_wh[1]}: long side -> ~{TARGET_INPUT_SIDE} px, at most x1"
    close = stats["close"]
    if close is None:
        return _clip_scale(base), why + " (fewer than 2 labeled parts per frame: no part distances)"
    need = CELLS_APART * STRIDE / close
    if base >= need:
        cells = close * base / STRIDE
        return _clip_scale(base), f"{why}; closest parts ({close:.1f} px, 5th pct) {cells:.1f} cells apart"
    cap = MAX_SCALE if close < EXTREMELY_CLOSE_PX else 1.0
    scale = _clip_scale(min(need, cap))
    why = (
        f"closest parts {close:.1f} px apart (5th pct) would be {close * base / STRIDE:.1f} cells at x{base:.2f} "
        f"({why}); raised towards {CELLS_APART} cells (x{need:.2f}), capped at x{cap:g}"
        + (" (extremely close parts)" if cap > 1 else " (no upsampling)")
        + f": {close * scale / STRIDE:.1f} cells"
    )
    return scale, why


def _clip_scale(scale: float) -> float:
    return float(round(min(MAX_SCALE, max(MIN_SCALE, scale)), 2))


def _choose_crop(frame_wh, scale: float, extent: float | None) -> tuple[int, int, str]:
    """(crop side, side that would hold the whole animal, reason) at ``scale`` [network-input px]."""
    frame_side = max(32, _round_up(max(frame_wh) * scale, 32))
    if extent is None:
        side = want = MIN_CROP
        why = "no animal extent (fewer than 2 labeled parts per frame): smallest crop"
    else:
        want = _round_up(extent * scale * 1.1 + 2 * STRIDE, 32)
        side = min(MAX_CROP, max(MIN_CROP, want))
        fits = "holds" if side >= want else f"is capped at {MAX_CROP} (CPU cost) and holds part of"
        why = f"{side}x{side} {fits} the animal ({extent:.0f} px median extent x {scale:g} + margin)"
    if side > frame_side:
        side = max(MIN_CROP // 2, frame_side)
        why += f"; limited to the scaled frame ({frame_side} px)"
    return side, min(want, frame_side), why


def _choose_rotation(stats) -> tuple[int, str]:
    turn, axis = stats["turn"], stats["axis"]
    if turn is None:
        return MIN_ROTATION, (
            f"+-{MIN_ROTATION} deg, posenb's default (no pair of parts labeled together in half of the frames: the "
            "labels say nothing about the animal's orientation)"
        )
    rotation = int(min(180, max(MIN_ROTATION, _round_up(turn, 5))))
    return rotation, (
        f"the animal's axis (body parts {axis[0]} -> {axis[1]}, config.yaml order) turns {turn:.0f} deg from its mean direction (95th pct "
        f"over labeled frames): +-{rotation} deg (rounded up to 5, in [{MIN_ROTATION}, 180])"
    )


def derive_recipe(frame_size: Sequence[int], keypoints: np.ndarray) -> tuple[dict, dict]:
    """The data-dependent ``pose_cfg.yaml`` values and one line of reason for each.

    Parameters
    ----------
    frame_size : ``(width, height)`` of the largest labeled frames [px].
    keypoints : ``(N, K, 2)`` labels of the training frames in original pixels, NaN = unlabeled (not visible).

    Returns
    -------
    ``(values, reasons)``: ``values`` maps pose_cfg keys (``global_scale``, ``crop_size``, ``scale_jitter_lo``,
    ``scale_jitter_up``, ``rotation``, ``weigh_only_present_joints``, ``max_iters``, ``max_minutes``,
    ``plateau_stop``) to values; ``reasons`` maps the same keys to one-line strings.
    """
    w, h = int(frame_size[0]), int(frame_size[1])
    stats = label_statistics(keypoints)
    values, reasons = {}, {}

    scale, why = _choose_scale((w, h), stats)
    values["global_scale"], reasons["global_scale"] = scale, why

    side, want_side, why = _choose_crop((w, h), scale, stats["extent"])
    values["crop_size"], reasons["crop_size"] = [side, side], why

    close = stats["close"]
    cells = None if close is None else close * scale / STRIDE
    if cells is not None and cells < 2.0:
        values["scale_jitter_lo"], values["scale_jitter_up"] = 0.75, 1.25
        reasons["scale_jitter_lo"] = (
            f"closest parts {cells:.1f} cells apart at scale {scale:g}: shrink at most to 0.75 (no merged cells)"
        )
    else:
        values["scale_jitter_lo"], values["scale_jitter_up"] = 0.5, 1.25
        reasons["scale_jitter_lo"] = "posenb's default jitter 0.5-1.25" + (
            "" if cells is None else f" (closest parts {cells:.1f} cells apart at scale {scale:g})"
        )
    reasons["scale_jitter_up"] = "posenb's default (x1.25)"
    values["rotation"], reasons["rotation"] = _choose_rotation(stats)

    hidden = stats["hidden_share"]
    often = [i for i, v in enumerate(hidden) if v >= 0.1]
    values["weigh_only_present_joints"] = False
    reasons["weigh_only_present_joints"] = (
        "NaN = not visible (DeepLabCut): unlabeled parts are trained as absent (score map 0)"
        + (f"; parts {often} are unlabeled in >= 10% of frames" if often else "")
    )

    budget, why = training_budget(stats["labeled_frames"], stats["parts"], side, want_side)
    values.update(budget)
    reasons.update(why)
    values["plateau_stop"] = True
    reasons["plateau_stop"] = (
        "end early when the training loss stops falling over the last 20% of the run (the learning rate then "
        "anneals to its floor: posenb.train.budget)"
    )
    return values, reasons
