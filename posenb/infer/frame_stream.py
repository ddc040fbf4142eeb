"""Reading a video for analysis: the decoder thread's bounded batch stream and the analysis crop.

Shared by the single- and multi-animal analyses (posenb/infer/analyze.py, posenb/infer/analyze_ma.py).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, VideoError

__all__ = ["FrameStream", "get_cropping"]

_SENTINEL = object()


class FrameStream:
    """Decode ``(first_index, frames)`` batches in a background thread into a bounded queue.

    Iterate over it to get ``(i0, frames (n, H, W, 3) uint8)`` in order. A decoding error is re-raised in
    the consumer as :class:`VideoError`. ``close()`` (or leaving a ``with`` block) stops the thread early.
    """

    def __init__(
        self, reader, batch_size: int, crop: tuple[int, int, int, int] | None = None, max_queue: int = 3
    ):
        self.reader = reader
        self.batch_size = max(1, int(batch_size))
        self.crop = crop
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, max_queue))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="posenb-decode", daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for i0, frames in self.reader.iter_frames(chunk=self.batch_size):
                if self.crop is not None:
                    x1, x2, y1, y2 = self.crop
                    frames = np.ascontiguousarray(frames[:, y1:y2, x1:x2])
                if not self._put((i0, frames)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put(exc)
            return
        self._put(_SENTINEL)

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        while True:
            item = self._queue.get()
            if item is _SENTINEL:
                return
            if isinstance(item, BaseException):
                if isinstance(item, VideoError):
                    raise item
                raise VideoError(f"Decoding {self.reader.path} failed: {item}") from item
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def get_cropping(
    cfg: dict, cropping, width: int, height: int, video: Path
) -> tuple[int, int, int, int] | None:
    """The analysis crop ``(x1, x2, y1, y2)`` (argument first, else config ``cropping``), checked against the frame."""
    if cropping is not None and cropping is not False:
        try:
            x1, x2, y1, y2 = (int(v) for v in cropping)
        except (TypeError, ValueError):
            raise ConfigError(f"cropping={cropping!r} must be [x1, x2, y1, y2] in pixels.") from None
        where = "cropping argument"
    elif cfg.get("cropping"):
        x1, x2, y1, y2 = (int(cfg[k]) for k in ("x1", "x2", "y1", "y2"))
        where = "config.yaml (cropping: true)"
    else:
        return None
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise ConfigError(
            f"{where}: crop x1={x1}, x2={x2}, y1={y1}, y2={y2} does not fit {video.name} ({width}x{height}). "
            "Use 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height."
        )
    return x1, x2, y1, y2
