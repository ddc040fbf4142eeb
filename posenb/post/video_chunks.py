"""The chunk loop of labeled videos, shared by the fast (numpy) and high-quality (matplotlib) renderers.

:func:`pose_chunks` decodes the frames to draw in a background thread (:func:`prefetch`: decoding overlaps drawing
and encoding), a chunk at a time (:func:`frame_chunks`), crops them, and pairs each chunk with its poses and the
poses of the ``trailpoints`` previous frames (:func:`poses_for`). The renderers only draw.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator

import numpy as np

__all__ = ["prefetch", "frame_chunks", "poses_for", "pose_chunks"]


def prefetch(iterable: Iterable, depth: int = 2) -> Iterator:
    """Run ``iterable`` in a background thread, ``depth`` items ahead (decoding overlaps drawing/encoding)."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work():
        try:
            for item in iterable:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # re-raised in the consumer
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True, name="posenb-decode")
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def frame_chunks(reader, indices: np.ndarray | None, chunk: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(frame indices, frames)``: sequential chunks when ``indices`` is None, else those frames."""
    if indices is None:
        for i0, frames in reader.iter_frames(0, None, chunk=chunk):
            yield np.arange(i0, i0 + len(frames)), frames
    else:
        for s in range(0, len(indices), chunk):
            idx = indices[s : s + chunk]
            yield idx, reader.get_batch([int(i) for i in idx])


def poses_for(arr: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Poses of frames ``idx`` (frames past the end of the predictions get likelihood -1: not drawn)."""
    out = np.full((len(idx), arr.shape[1], 3), np.nan)
    out[..., 2] = -1.0
    ok = (idx >= 0) & (idx < len(arr))
    out[ok] = arr[idx[ok]]
    return out


def pose_chunks(
    reader,
    arr: np.ndarray,
    indices: np.ndarray | None,
    crop,
    trailpoints: int,
    keypoints_only: bool,
    chunk: int,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]]:
    """Yield ``(frame indices (n,), frames (n, h, w, 3) uint8 writeable, poses (n, K, 3), trail (T, n, K, 3) or
    None)`` for the frames to draw; frames cropped to ``crop = (x1, x2, y1, y2)`` (black with ``keypoints_only``)."""
    x1, x2, y1, y2 = crop
    for idx, frames in prefetch(frame_chunks(reader, indices, chunk)):
        if crop != (0, reader.width, 0, reader.height):
            frames = frames[:, y1:y2, x1:x2]
        frames = np.zeros_like(frames) if keypoints_only else np.ascontiguousarray(frames)
        if not frames.flags.writeable:
            frames = frames.copy()
        trail = (
            np.stack([poses_for(arr, idx - t) for t in range(1, trailpoints + 1)])
            if trailpoints > 0
            else None
        )
        yield idx, frames, poses_for(arr, idx), trail
