"""Following the animal: analyse a window around it instead of the whole frame (DeepLabCut's ``dynamic``).

A single animal usually fills a small part of the frame (openfield: a ~100 px mouse in 640x480), yet the network
costs in proportion to the pixels it sees. :class:`Follower` runs the network on a fixed square window around
where the animal was in the previous batch and falls back to the whole frame wherever the window may have missed
something, so the key points are those of the whole-frame analysis to a few hundredths of a pixel (median) at a
fraction of the cost (benchmarks/RESULTS.md, "Video analysis back ends").

How (all in network-input pixels, i.e. frames resized by the model's ``global_scale``):

- **The window** is a ``side x side`` square, ``side`` a multiple of :data:`ALIGN` = 32: the animal's extent
  (the long side of the box of its confident key points, median over the first batch analysed whole) plus
  ``margin`` on every side (DeepLabCut's margin in frame pixels, at least :data:`MIN_MARGIN` network pixels),
  and at least a training crop plus the same margin (``Predictor.train_crop``: the context the network learnt
  to use, and the recipe sizes crops to hold the animal, so a first batch that caught it curled up does not make
  the window too small; a network trained on whole frames is not followed unless asked, its key points depend
  on the whole frame).
  One size at a time, so a compiled runtime (OpenVINO, ONNX Runtime) compiles it once.
- **Its position**: the box of the confident key points of the batch's last frame, moved on by the animal's
  velocity to the middle of the next batch (at most a quarter window), gets the window, among the two aligned
  origins (multiples of ``ALIGN``) inside the frame around its centre, that leaves it the most room: the network's stride-32 grid then falls where it falls in the whole frame, which is what keeps
  the key points those of the whole frame (openfield: an unaligned window moved them by ~0.6 px median, an
  aligned one by ~0.03 px).
- **A window result is kept** for a frame only when something was found in it (a part with likelihood >=
  ``threshold``), no confident part lies within :data:`EDGE_GUARD` pixels of a window side that is not a frame
  side, no part that was confident in the last kept frame near a window side (within ``EDGE_GUARD`` + ``MAX_STEP``
  per frame since) has become unsure (it may have left the window; one that fades deep inside is as unsure in
  the whole frame) and no confident part moved more than :data:`MAX_STEP` pixels per frame since (a window that
  cut a part off may place it, confidently, on something else inside). Any other frame is analysed whole, in
  the same batch call. Frames before the first confident detection, and after the animal is lost, are analysed
  whole until it is found.
- **The window grows** to the animal's extent plus the margins when the animal outgrows it (it stretches, or
  the first batch caught it curled up), and by ``ALIGN`` when more than :data:`MAX_REDO_SHARE` of the last
  :data:`REDO_WINDOW` followed frames had to be analysed whole (it moves fast); following stops for the video
  when the window would cover more than :data:`MAX_WINDOW_SHARE` of the frame (it would not pay).

``dynamic`` (:func:`resolve_dynamic`): ``"auto"`` (posenb's default) follows wherever the window covers at most
``MAX_WINDOW_SHARE`` of the frame, with DeepLabCut's threshold 0.5 and margin 10; ``(True, threshold, margin)``
follows whatever the size (DeepLabCut's call; a window still has one size at a time);
``(False, ...)``/``False`` analyses whole frames (the key points of the whole-frame path exactly).

Multi-animal projects analyse whole frames (animals come and go anywhere); test-time scales too.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from posenb.data.augment import to_frame_pixels
from posenb.errors import ConfigError

__all__ = [
    "Follower",
    "resolve_dynamic",
    "export_window_side",
    "ALIGN",
    "MIN_MARGIN",
    "EDGE_GUARD",
    "MAX_WINDOW_SHARE",
]

#: window position and side are multiples of this (the network's coarsest stride: its grid stays the frame's)
ALIGN = 32
#: smallest margin around the animal's extent [network pixels]
MIN_MARGIN = 48
#: a confident part this close to a window side inside the frame sends the frame to the whole-frame path [px]
EDGE_GUARD = 32
#: a confident part that moved more than this per frame [network px] since the last kept frame is re-analysed
#: whole (a window that lost a part may place it, confidently, on something else inside)
MAX_STEP = 24
#: following stops (for the video) when the window would cover more than this share of the frame's pixels
MAX_WINDOW_SHARE = 0.5
#: the window grows when more than MAX_REDO_SHARE of the last REDO_WINDOW followed frames were analysed whole
REDO_WINDOW, MAX_REDO_SHARE = 256, 0.1
#: DeepLabCut's defaults of ``dynamic=(state, threshold, margin)``
DLC_THRESHOLD, DLC_MARGIN = 0.5, 10


def resolve_dynamic(dynamic) -> tuple[str, float, float]:
    """``(mode, threshold, margin)`` of an ``analyze_videos(dynamic=...)`` value; mode ``"off"``, ``"auto"``, ``"on"``.

    Accepts ``"auto"`` / None (posenb's default), a bool, or DeepLabCut's ``(state, threshold, margin)`` with
    ``state`` a bool or ``"auto"`` (threshold a likelihood in [0, 1], margin in frame pixels >= 0; either may be
    left out: 0.5 and 10).
    """
    if dynamic is None or (isinstance(dynamic, str) and dynamic == "auto"):
        return "auto", DLC_THRESHOLD, DLC_MARGIN
    if isinstance(dynamic, (bool, np.bool_)):
        return ("on" if dynamic else "off"), DLC_THRESHOLD, DLC_MARGIN
    try:
        state, *rest = dynamic  # DeepLabCut reads dynamic[0], then the threshold and margin
        if len(rest) > 2 or (isinstance(state, str) and state != "auto"):
            raise ValueError
        threshold = float(rest[0]) if rest else DLC_THRESHOLD
        margin = float(rest[1]) if len(rest) > 1 else DLC_MARGIN
    except (TypeError, ValueError):
        raise ConfigError(
            f"dynamic={dynamic!r}: use 'auto', True / False, or DeepLabCut's (state, threshold, margin), "
            "e.g. (True, 0.5, 10)."
        ) from None
    if not (0.0 <= threshold <= 1.0 and margin >= 0 and math.isfinite(margin)):
        raise ConfigError(f"dynamic={dynamic!r}: threshold must be in [0, 1] and margin >= 0 (pixels).")
    if isinstance(state, str) and state == "auto":
        return "auto", threshold, margin
    return ("on" if state else "off"), threshold, margin


def export_window_side(train_crop, net_size: tuple[int, int]) -> int | None:
    """The window an exported model is traced for (network pixels): the training crop plus :data:`MIN_MARGIN` on
    every side, aligned; None where following would not pay (or the network was trained on whole frames)."""
    if train_crop is None or (train_crop[0] >= net_size[0] and train_crop[1] >= net_size[1]):
        return None
    side = _least_side(train_crop)
    fits = side <= min(net_size) and side * side <= MAX_WINDOW_SHARE * net_size[0] * net_size[1]
    return side if fits else None


def _least_side(train_crop) -> int:
    """The smallest window for a network trained on ``train_crop`` crops: a crop (which the recipe sizes to hold
    the animal) plus :data:`MIN_MARGIN` on every side, aligned."""
    return _aligned(max(train_crop) + 2 * MIN_MARGIN)


def _aligned(length: float) -> int:
    """``length`` rounded up to a multiple of :data:`ALIGN`."""
    return int(math.ceil(length / ALIGN) * ALIGN)


class Follower:
    """Analyse consecutive batches of one video in a window that follows the animal (module docstring).

    Parameters
    ----------
    predictor : a :class:`~posenb.infer.predictor.Predictor` (``run`` on frames at network size, ``scaled_size``).
    frame_size : ``(W, H)`` of the frames the key points refer to (the video's, or the analysis crop's).
    mode, threshold, margin : from :func:`resolve_dynamic` (``margin`` in frame pixels).
    window : a fixed window side (network pixels; an exported model's, traced for that size) instead of one
        chosen from the animal; it never grows.

    Attributes: ``side`` (the window side in network pixels, None until chosen; 0 once following stopped),
    ``followed`` (frames analysed in the window), ``whole`` (frames analysed whole, fallbacks included),
    ``redone`` (followed frames that had to be analysed whole again).
    """

    def __init__(self, predictor, frame_size: tuple[int, int], mode: str = "auto", threshold: float = 0.5,
                 margin: float = DLC_MARGIN, window: int | None = None):  # fmt: skip
        self.predictor = predictor
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.net_size = predictor.scaled_size(*self.frame_size)
        self.mode, self.threshold = mode, float(threshold)
        self.margin = max(float(MIN_MARGIN), float(margin) * predictor.input_scale)
        crop = getattr(predictor, "train_crop", None)
        if crop is not None and crop[0] >= self.net_size[0] and crop[1] >= self.net_size[1]:
            crop = None  # crops as large as the frame: trained on whole frames
        self.min_side = _least_side(crop) if crop is not None else (0 if mode == "on" else None)
        self.window = None if window is None else int(window)
        if self.window is not None:
            self.min_side = self.window
        self.side: int | None = None
        self.followed = self.whole = self.redone = 0
        self._box = None  # expected (lo, hi) of the animal in the next batch
        self._last: np.ndarray | None = None  # (K, 3) last frame's key points, network pixels
        self._recent: deque[bool] = deque(maxlen=REDO_WINDOW)

    def summary(self) -> dict:
        """What following did, for the analysis metadata: mode, window side (network px), frame counts."""
        return {
            "mode": self.mode, "threshold": self.threshold, "margin": self.margin, "window": self.side or None,
            "followed": self.followed, "whole": self.whole, "redone": self.redone,
        }  # fmt: skip

    def predict(self, frames: np.ndarray) -> np.ndarray:
        """The next ``(n, h, w, 3)`` uint8 frames of the video (at ``frame_size`` or already at network size)
        -> ``(n, K, 3)`` float64 key points in frame pixels (x, y, likelihood)."""
        net = self._to_network_size(frames)
        if self._box is None or not self.side:
            pose = self._run_whole(net)
        else:
            pose = self._run_window(net)
        self._remember(pose)
        return self._to_frame_pixels(pose)

    # -- sizes -------------------------------------------------------------------------------------------
    def _to_network_size(self, frames: np.ndarray) -> np.ndarray:
        h, w = frames.shape[1:3]
        if (w, h) == self.net_size:  # resized by the decoder already
            return frames
        from posenb.data.augment import rescale  # noqa: PLC0415 - the one resize rule of training and analysis

        return np.stack([rescale(f, None, self.predictor.input_scale)[0] for f in frames])

    def _to_frame_pixels(self, pose: np.ndarray) -> np.ndarray:
        (w, h), (nw, nh) = self.frame_size, self.net_size
        if (w, h) == (nw, nh):
            return pose
        return to_frame_pixels(pose.copy(), (nw, nh), (w, h))

    def _choose_side(self, pose: np.ndarray) -> None:
        """The window side from the first batch with a confident animal (network px); 0 when it would not pay."""
        if not (pose[..., 2] >= self.threshold).any():
            return  # nothing found yet: choose later
        if self.window is not None:
            self._set_side(self.window)
            return
        # the median frame: one whole frame with a stray detection far away does not make the window huge
        self._set_side(max(_aligned(self._extent(pose, np.median) + 2 * self.margin), self.min_side or 0))

    def _set_side(self, side: int) -> None:
        nw, nh = self.net_size
        too_big = self.min_side is None or side > min(nw, nh)
        too_big = too_big or (self.mode == "auto" and side * side > MAX_WINDOW_SHARE * nw * nh)
        self.side = 0 if too_big else side
        self._recent.clear()

    # -- the two paths -----------------------------------------------------------------------------------
    def _run_whole(self, net: np.ndarray) -> np.ndarray:
        pose = self.predictor.run(net)
        self.whole += len(net)
        if self.side is None:
            self._choose_side(pose)
        return pose

    def _window_origin(self) -> tuple[int, int]:
        """The aligned origin whose window leaves the most room around the expected box of the animal."""
        (nw, nh), s = self.net_size, self.side
        lo, hi = self._box

        def place(lo: float, hi: float, size: int) -> int:
            # the last aligned origin that keeps the window inside the frame
            top = (size - s) // ALIGN * ALIGN
            want = (lo + hi - s) / 2
            candidates = {min(max(f(want / ALIGN) * ALIGN, 0), top) for f in (math.floor, math.ceil)}

            def room(o: int) -> float:  # the smaller clearance of the box from a window side inside the frame
                return min(lo - o if o > 0 else np.inf, o + s - hi if o + s < size else np.inf)

            return int(max(sorted(candidates), key=room))

        return place(lo[0], hi[0], nw), place(lo[1], hi[1], nh)

    def _run_window(self, net: np.ndarray) -> np.ndarray:
        s = self.side
        x0, y0 = self._window_origin()
        pose = self.predictor.run(np.ascontiguousarray(net[:, y0 : y0 + s, x0 : x0 + s]))
        pose[..., 0] += x0
        pose[..., 1] += y0
        keep = self._kept(pose, x0, y0)
        redo = np.flatnonzero(~keep)
        if len(redo):
            pose[redo] = self.predictor.run(np.ascontiguousarray(net[redo]))
        self.followed += int(keep.sum())
        self.whole += len(redo)
        self.redone += len(redo)
        self._recent.extend(bool(k) for k in keep)
        self._maybe_grow(pose, keep)
        return pose

    def _kept(self, pose: np.ndarray, x0: int, y0: int) -> np.ndarray:
        """Per frame: is the window's result the whole frame's? (module docstring: found, off the sides, no part
        lost, no part jumped). Each frame is compared with the last frame whose window result was kept (or the
        previous batch's last frame), so a run of rejected frames is judged against the last good one."""
        (nw, nh), s, g = self.net_size, self.side, EDGE_GUARD
        lo_x = x0 + g if x0 > 0 else -np.inf
        hi_x = x0 + s - g if x0 + s < nw else np.inf
        lo_y = y0 + g if y0 > 0 else -np.inf
        hi_y = y0 + s - g if y0 + s < nh else np.inf
        keep = np.zeros(len(pose), bool)
        ref, gap = self._last, 1
        for i, p in enumerate(pose):
            sure = p[:, 2] >= self.threshold
            x, y = p[sure, 0], p[sure, 1]
            ok = sure.any() and bool(((x >= lo_x) & (x <= hi_x) & (y >= lo_y) & (y <= hi_y)).all())
            if ok and ref is not None:
                before = ref[:, 2] >= self.threshold
                both = before & sure
                moved = np.linalg.norm(p[both, :2] - ref[both, :2], axis=-1)
                # a part that became unsure could have left the window only from near one of its sides
                reach = MAX_STEP * gap
                lost = before & ~sure
                lx, ly = ref[lost, 0], ref[lost, 1]
                deep = (lx >= lo_x + reach) & (lx <= hi_x - reach)
                deep &= (ly >= lo_y + reach) & (ly <= hi_y - reach)
                ok = bool(deep.all()) and bool((moved <= reach).all())
            keep[i] = ok
            if ok:
                ref, gap = p, 1
            else:
                gap += 1
        return keep

    def _maybe_grow(self, pose: np.ndarray, kept: np.ndarray) -> None:
        """A larger window when the animal outgrew it (its extent plus the margins, in the frames whose window
        result was ``kept``: a whole frame may hold a stray detection far away), or ``ALIGN`` larger when more
        than ``MAX_REDO_SHARE`` of the last ``REDO_WINDOW`` followed frames went whole (fast motion)."""
        if self.window is not None:
            return
        need = _aligned(self._extent(pose[kept]) + 2 * self.margin)
        busy = len(self._recent) == REDO_WINDOW and self._recent.count(False) > MAX_REDO_SHARE * REDO_WINDOW
        if need > self.side or busy:
            self._set_side(max(need, self.side + ALIGN))

    def _extent(self, pose: np.ndarray, how=np.max) -> float:
        """``how`` (max, median) over ``pose``'s frames of the long side of the box of their confident key points
        (network px; frames with fewer than two confident parts do not count, 0 without any)."""
        sides = []
        for p in pose:
            good = p[:, 2] >= self.threshold
            if good.sum() >= 2:
                sides.append(float(np.ptp(p[good, :2], axis=0).max()))
        return float(how(sides)) if sides else 0.0

    def _remember(self, pose: np.ndarray) -> None:
        """The next batch's expected box of the animal: the box of the last frame's confident key points, moved on
        by the animal's velocity over this batch to the middle of the next one (at most a quarter window); None
        when the last frame has no confident part (the animal is lost: whole frames until it is found)."""
        self._last = pose[-1]
        boxes = [self._box_of(p) for p in pose]
        if boxes[-1] is None:
            self._box = None
            return
        known = [(i, (b[0] + b[1]) / 2) for i, b in enumerate(boxes) if b is not None]
        (i0, c0), (i1, c1) = known[0], known[-1]
        step = (c1 - c0) / (i1 - i0) if i1 > i0 else np.zeros(2)
        ahead = step * (len(pose) + 1) / 2
        limit = (self.side or 0) / 4
        norm = float(np.linalg.norm(ahead))
        if norm > limit:
            ahead *= limit / norm
        lo, hi = boxes[-1]
        self._box = (lo + ahead, hi + ahead)

    def _box_of(self, p: np.ndarray):
        """``(lo, hi)`` corners of the box of ``p``'s confident key points (network px), None without one."""
        sure = p[:, 2] >= self.threshold
        if not sure.any():
            return None
        pts = p[sure, :2]
        return pts.min(axis=0), pts.max(axis=0)
