"""Video reading and writing behind one small interface.

Readers (a registry: add a backend by subclassing :class:`VideoReader` and adding it to ``READERS``):

- ``decord`` (default): fast sequential and random access, decoding at reduced size in the decoder.
- ``opencv``: the fallback when decord is missing or cannot open a file, and the frame-exact reader
  (:func:`open_frame_exact`): random access seeks to the key frame before and decodes forward, and reads forward
  (no seek) when the next frame is near. The frame grabber, frame and outlier extraction, the track proofreader
  and the trajectory viewer read through it.

All readers return RGB ``uint8`` arrays of shape ``(H, W, 3)`` (``(n, H, W, 3)`` for batches), frame indices
are 0-based. A missing or corrupt file raises :class:`posenb.errors.VideoError` naming the file.

Writing: :class:`VideoWriter` encodes H.264 mp4 (yuv420p) through imageio-ffmpeg's bundled ffmpeg.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from posenb.errors import VideoError

__all__ = [
    "VideoReader", "DecordReader", "OpenCVReader", "open_video", "open_frame_exact", "open_for_viewing", "probe_video",
    "VideoWriter",
    "write_video", "READERS", "MAX_GRAB",
]  # fmt: skip

#: a frame at most this many frames after the current position is reached by decoding forward, not by a seek
MAX_GRAB = 48


class VideoReader:
    """Interface of all readers.

    Attributes
    ----------
    path : Path of the video.
    n_frames : number of frames.
    fps : frames per second (float).
    width, height : size of the frames *returned* (after ``resize``), pixels.
    full_width, full_height : size of the frames in the file, pixels.
    """

    backend = "base"

    def __init__(self, path: str | os.PathLike, resize: tuple[int, int] | None = None):
        self.path = Path(path)
        self.resize = resize
        if not self.path.exists():
            raise VideoError(
                f"Video not found: {self.path}. Check the path (or the link in the project's videos/)."
            )
        if self.path.is_dir():
            raise VideoError(f"{self.path} is a folder, not a video file.")
        self.n_frames = 0
        self.fps = 0.0
        self.full_width = self.full_height = 0

    @property
    def width(self) -> int:
        return self.resize[0] if self.resize else self.full_width

    @property
    def height(self) -> int:
        return self.resize[1] if self.resize else self.full_height

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of returned frames."""
        return self.width, self.height

    def __len__(self) -> int:
        return self.n_frames

    def _check_index(self, idx: int) -> int:
        idx = int(idx)
        if idx < 0:
            idx += self.n_frames
        if not 0 <= idx < self.n_frames:
            raise IndexError(f"frame {idx} out of range for {self.path.name} ({self.n_frames} frames)")
        return idx

    def read(self, idx: int) -> np.ndarray:
        """Frame ``idx`` as ``(H, W, 3) uint8`` RGB."""
        return self.get_batch([idx])[0]

    def get_batch(self, indices: Sequence[int]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def iter_frames(
        self, start: int = 0, stop: int | None = None, chunk: int = 64
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Sequential decoding in chunks: yields ``(first_index, frames (n, H, W, 3) uint8)``."""
        stop = self.n_frames if stop is None else min(stop, self.n_frames)
        for i0 in range(start, stop, chunk):
            idx = list(range(i0, min(i0 + chunk, stop)))
            yield i0, self.get_batch(idx)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({str(self.path)!r}, n_frames={self.n_frames}, fps={self.fps:.2f}, "
            f"size={self.full_width}x{self.full_height})"
        )


class DecordReader(VideoReader):
    """decord (``decord2`` on PyPI) reader; decodes at reduced size when ``resize=(w, h)`` is given."""

    backend = "decord"

    def __init__(self, path, resize=None, num_threads: int = 1):
        super().__init__(path, resize)
        from posenb.io._decord import import_decord  # noqa: PLC0415

        decord = import_decord()

        kwargs = {"num_threads": num_threads, "ctx": decord.cpu(0)}
        if resize:
            kwargs.update(width=int(resize[0]), height=int(resize[1]))
        try:
            self._vr = decord.VideoReader(str(self.path), **kwargs)
            self.n_frames = len(self._vr)
            self.fps = float(self._vr.get_avg_fps() or 0.0)
            if resize:
                probe = decord.VideoReader(str(self.path), num_threads=1, ctx=decord.cpu(0))
                h, w = probe[0].shape[:2] if len(probe) else (0, 0)
                del probe
            else:
                h, w = self._vr[0].shape[:2] if self.n_frames else (0, 0)
            # decode a batch now: decord opens some files it cannot batch-decode (e.g. H.264 at 24x16 or
            # 48x32: "from_size == to_size"), and an error here lets open_video fall back to OpenCV
            if self.n_frames:
                test = self._vr.get_batch([0, 1] if self.n_frames > 1 else [0]).asnumpy()
                want = (int(resize[1]), int(resize[0])) if resize else (int(h), int(w))
                if test.shape[1:3] != want:
                    raise RuntimeError(
                        f"decord decodes {test.shape[2]}x{test.shape[1]} frames, not {want[1]}x{want[0]}"
                    )
            self._vr.seek(0)
            self._next = 0
            self._seek_reader = None
        except Exception as exc:  # decord raises DECORDError / RuntimeError for corrupt files
            raise VideoError(f"Cannot decode video {self.path}: {exc}".strip()) from None
        if self.n_frames == 0:
            raise VideoError(f"Video {self.path} has no frames (empty or corrupt file).")
        self.full_height, self.full_width = int(h), int(w)

    def _fallback_reader(self) -> VideoReader:
        if self._seek_reader is None:
            self._seek_reader = OpenCVReader(self.path, resize=self.resize)
        return self._seek_reader

    def get_batch(self, indices):
        """Frames ``indices``; decord decodes runs that continue the sequential read, OpenCV seeks for the rest.

        decord's own seeking returns corrupt frames on H.264 files whose key frames are not IDR frames (seen on
        DeepLabCut's openfield video), so posenb never lets decord seek: random access goes through OpenCV,
        whose seeks decode from a safe point.
        """
        idx = [self._check_index(i) for i in indices]
        if not idx:
            return np.zeros((0, self.height, self.width, 3), np.uint8)
        if self._vr is None:
            raise VideoError(f"{self.path}: the reader is closed.")
        consecutive = all(b - a == 1 for a, b in zip(idx, idx[1:]))
        if not (consecutive and idx[0] == self._next):
            return self._fallback_reader().get_batch(idx)
        try:
            frames = self._vr.get_batch(idx).asnumpy()
        except Exception as exc:
            raise VideoError(f"Decoding frames {idx[0]}..{idx[-1]} of {self.path} failed: {exc}") from None
        self._next = idx[-1] + 1
        return frames

    def iter_frames(self, start: int = 0, stop: int | None = None, chunk: int = 64):
        if start != self._next:
            if start == 0:
                self._vr.seek(0)  # rewinding to the first frame is always safe
                self._next = 0
            else:
                yield from self._fallback_reader().iter_frames(start, stop, chunk)
                return
        yield from super().iter_frames(start, stop, chunk)

    def close(self):
        """Release decord's reader now: its decoding thread runs ahead of the reads and would otherwise keep
        decoding frames into memory for as long as this object lives (dmlc/decord issues 157, 208)."""
        if self._seek_reader is not None:
            self._seek_reader.close()
            self._seek_reader = None
        self._vr = None


class OpenCVReader(VideoReader):
    """OpenCV reader (fallback, and the frame-exact reader): reads forward when the frame asked for is at most
    :data:`MAX_GRAB` frames ahead, and seeks (OpenCV decodes from the key frame before) otherwise.
    ``decoder_threads``: the decoder's threads (None: OpenCV's default, one per core)."""

    backend = "opencv"

    def __init__(self, path, resize=None, decoder_threads: int | None = None):
        super().__init__(path, resize)
        import cv2  # noqa: PLC0415

        self._cv2 = cv2
        if decoder_threads:
            params = [cv2.CAP_PROP_N_THREADS, int(decoder_threads)]
            self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_ANY, params)
        else:
            self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise VideoError(f"Cannot open video {self.path} (not a video, or a codec OpenCV lacks).")
        self.n_frames = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.fps = float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.full_width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.full_height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        ok, _ = self._cap.read()
        if not ok or self.n_frames <= 0:
            raise VideoError(f"Video {self.path} has no decodable frames (empty or corrupt file).")
        self._pos = 1

    def _read_at(self, idx: int) -> np.ndarray:
        cv2 = self._cv2
        if self._pos < 0 or idx < self._pos or idx - self._pos > MAX_GRAB:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
            self._pos = idx
        while self._pos < idx and self._cap.grab():
            self._pos += 1
        ok, frame = self._cap.read() if self._pos == idx else (False, None)
        if not ok:
            self._pos = -1  # unknown position: seek next time
            raise VideoError(
                f"Decoding frame {idx} of {self.path} failed (truncated or corrupt file?). Check the video, e.g. "
                "re-encode it with ffmpeg."
            )
        self._pos = idx + 1
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        if self.resize:
            frame = cv2.resize(frame, tuple(int(v) for v in self.resize), interpolation=cv2.INTER_AREA)
        return frame

    def get_batch(self, indices):
        idx = [self._check_index(i) for i in indices]
        out = np.empty((len(idx), self.height, self.width, 3), np.uint8)
        for k in np.argsort(idx):
            out[k] = self._read_at(idx[k])
        return out

    def close(self):
        self._cap.release()


READERS: dict[str, type[VideoReader]] = {"decord": DecordReader, "opencv": OpenCVReader}


def open_video(
    path: str | os.PathLike, resize: tuple[int, int] | None = None, backend: str | None = None
) -> VideoReader:
    """Open a video with decord, falling back to OpenCV.

    Parameters
    ----------
    path : video file.
    resize : ``(width, height)`` to decode at reduced size (e.g. thumbnails for k-means).
    backend : ``"decord"`` or ``"opencv"`` to force one.
    """
    path = Path(path)
    if not path.exists():
        raise VideoError(f"Video not found: {path}. Check the path (or the link in the project's videos/).")
    names = [backend] if backend else list(READERS)
    errors = []
    for name in names:
        if name not in READERS:
            raise VideoError(f"Unknown video backend {name!r}; choose one of {sorted(READERS)}.")
        try:
            return READERS[name](path, resize=resize)
        except ImportError as exc:
            errors.append(f"{name}: not installed ({exc})")
        except VideoError as exc:
            errors.append(f"{name}: {exc}")
    raise VideoError(f"Cannot read video {path}: " + "; ".join(errors))


def open_frame_exact(path: str | os.PathLike, decoder_threads: int | None = None) -> VideoReader:
    """A reader whose random access (``read(i)``, ``get_batch(indices)``) returns exactly frame ``i``.

    OpenCV's reader (:class:`OpenCVReader`): decord's seeks can return a wrong frame inside a GOP (H.264 files
    whose key frames are not IDR frames), so decord serves sequential decoding only. Raises
    :class:`~posenb.errors.VideoError` when OpenCV cannot open the file (callers that must still read it decode
    it sequentially with :func:`open_video`). ``decoder_threads``: see :class:`OpenCVReader`.
    """
    if not decoder_threads:
        return open_video(path, backend="opencv")
    if not Path(path).exists():
        raise VideoError(f"Video not found: {path}. Check the path (or the link in the project's videos/).")
    return OpenCVReader(path, decoder_threads=decoder_threads)


def open_for_viewing(path: str | os.PathLike) -> VideoReader:
    """A reader for panels that show frames one at a time: frame-exact (:func:`open_frame_exact`) when OpenCV can
    open the file, else :func:`open_video`'s reader (its far seeks may be inexact). Raises
    :class:`~posenb.errors.VideoError` when neither can read it."""
    try:
        return open_frame_exact(path)
    except VideoError:
        return open_video(path)


class VideoWriter:
    """Write RGB frames to an H.264 mp4 (yuv420p, via imageio-ffmpeg).

    >>> with VideoWriter("out.mp4", fps=30, size=(640, 480)) as w:   # doctest: +SKIP
    ...     w.write(frame)  # (480, 640, 3) uint8 RGB

    The file is written to a temporary name and renamed when closed, so an interrupted write never leaves
    a truncated video under the final name.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        size: tuple[int, int],
        quality: int = 23,
        preset: str = "veryfast",
    ):
        self.path = Path(path)
        self.fps = float(fps) if fps and fps > 0 else 30.0
        self.width, self.height = int(size[0]), int(size[1])
        self.n_written = 0
        self._tmp = self.path.with_name(f".{self.path.stem}.tmp{self.path.suffix or '.mp4'}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        import imageio_ffmpeg  # noqa: PLC0415

        # libx264 with yuv420p needs even sizes: pad by one pixel if odd.
        self._pad_w, self._pad_h = self.width % 2, self.height % 2
        self._gen = imageio_ffmpeg.write_frames(
            str(self._tmp),
            (self.width + self._pad_w, self.height + self._pad_h),
            fps=self.fps,
            codec="libx264",
            pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p",
            output_params=["-crf", str(quality), "-preset", preset],
            macro_block_size=1,
            ffmpeg_log_level="error",
        )
        self._gen.send(None)

    def write(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3) uint8`` RGB frame (or a batch ``(n, H, W, 3)``)."""
        frame = np.asarray(frame)
        if frame.ndim == 4:
            for f in frame:
                self.write(f)
            return
        if frame.shape[:2] != (self.height, self.width):
            raise ValueError(
                f"frame of shape {frame.shape} does not match the video size {self.width}x{self.height}"
            )
        if self._pad_w or self._pad_h:
            frame = np.pad(frame, ((0, self._pad_h), (0, self._pad_w), (0, 0)), mode="edge")
        self._gen.send(np.ascontiguousarray(frame, dtype=np.uint8))
        self.n_written += 1

    def close(self, discard: bool = False) -> Path:
        if self._gen is not None:
            self._gen.close()
            self._gen = None
            if discard or self.n_written == 0:
                self._tmp.unlink(missing_ok=True)
            else:
                os.replace(self._tmp, self.path)
        return self.path

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        self.close(discard=exc_type is not None)


def write_video(path: str | os.PathLike, frames, fps: float = 30.0) -> Path:
    """Write an iterable of RGB frames (all the same size) to an H.264 mp4; returns the path."""
    writer = None
    try:
        for frame in frames:
            if writer is None:
                writer = VideoWriter(path, fps, (frame.shape[1], frame.shape[0]))
            writer.write(frame)
    except BaseException:
        if writer is not None:
            writer.close(discard=True)
        raise
    if writer is None:
        raise ValueError(f"no frames to write to {path}")
    return writer.close()


def probe_video(path: str | os.PathLike) -> tuple[int, int, int]:
    """(width, height, n_frames) of a video, or :class:`VideoError` if it cannot be decoded."""
    reader = open_video(path)
    try:
        reader.read(0)
        return reader.full_width, reader.full_height, reader.n_frames
    finally:
        reader.close()
