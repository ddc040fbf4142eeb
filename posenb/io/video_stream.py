"""Sequential decoding for analysis whose memory does not depend on the consumer's speed.

decord decodes in a background thread of its own that runs ahead of the reader without bound: when the consumer
(the network) is slower than the decoder, decoded frames pile up inside decord (dmlc/decord issues 157, 208, 304).
Analysing a 10-minute video then held gigabytes of frames (issue 11, item 7: peak RSS grew ~0.2 MB per frame
with the network, ~2 MB per frame on a loaded machine; decoding alone, with nobody waiting, stayed flat).

:class:`FFmpegPipeReader` decodes in an ``ffmpeg`` process (imageio-ffmpeg's bundled binary) writing raw RGB
frames to a pipe: the pipe holds at most a few frames, so ffmpeg waits for the consumer and memory stays flat
whatever the video length and however slow the network. The scaler and the cropping run inside ffmpeg (at
reduced size when ``resize`` is given, like decord's in-decoder resize), and decoding uses another core.

Random access (``read``/``get_batch`` of frames not next in line) goes through OpenCV's frame-exact reader.

:func:`open_stream` opens this reader when the ffmpeg binary is there and falls back to :func:`open_video`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from posenb.errors import VideoError
from posenb.io.video import VideoReader, open_frame_exact, open_video

__all__ = ["FFmpegPipeReader", "open_stream", "ffmpeg_exe"]


def ffmpeg_exe() -> str | None:
    """The ffmpeg binary of imageio-ffmpeg, or None when it is missing."""
    try:
        import imageio_ffmpeg  # noqa: PLC0415

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - missing package or binary
        return None


class FFmpegPipeReader(VideoReader):
    """Sequential reader through an ``ffmpeg`` pipe (module docstring); same interface as the other readers.

    The size, frame count and fps are :func:`open_video`'s (the same probe as the analysis' output size); random
    access opens OpenCV's frame-exact reader when first needed.
    ``iter_frames`` yields ``(first_index, frames (n, H, W, 3) uint8)`` in order; at most ``n_frames`` frames.
    """

    backend = "ffmpeg"

    def __init__(self, path, resize=None, exe: str | None = None):
        super().__init__(path, resize)
        self.exe = exe or ffmpeg_exe()
        if self.exe is None:
            raise VideoError("ffmpeg (imageio-ffmpeg's binary) is not available.")
        with open_video(self.path) as probe:
            self.n_frames, self.fps = probe.n_frames, probe.fps
            self.full_width, self.full_height = probe.full_width, probe.full_height
        self._exact: VideoReader | None = None
        self._proc: subprocess.Popen | None = None

    def get_batch(self, indices):
        """Frames ``indices`` (any order), frame-exact, through OpenCV (:func:`~posenb.io.video.open_frame_exact`)."""
        if self._exact is None:
            self._exact = open_frame_exact(self.path)
            self._exact.resize = self.resize
        return self._exact.get_batch(indices)

    def _command(self, start: int) -> list[str]:
        filters = [f"trim=start_frame={start}"] if start else []
        if self.resize:
            filters.append(f"scale={int(self.resize[0])}:{int(self.resize[1])}")
        vf = ["-vf", ",".join(filters)] if filters else []
        return [
            self.exe, "-nostdin", "-v", "error", "-i", str(self.path), "-map", "0:v:0", "-an", "-sn", *vf,
            "-fps_mode", "passthrough", "-pix_fmt", "rgb24", "-f", "rawvideo", "pipe:1",
        ]  # fmt: skip

    def iter_frames(
        self, start: int = 0, stop: int | None = None, chunk: int = 64
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Decode ``[start, stop)`` in one ffmpeg process; a decoding failure raises :class:`VideoError`."""
        stop = self.n_frames if stop is None else min(stop, self.n_frames)
        if start >= stop:
            return
        w, h = self.width, self.height
        frame_bytes = w * h * 3
        try:
            # stderr is discarded: an unread pipe would block ffmpeg once a damaged file fills it with messages
            proc = subprocess.Popen(
                self._command(start),
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise VideoError(f"Cannot start ffmpeg to decode {self.path}: {exc}") from None
        self._proc = proc
        i0 = start
        try:
            while i0 < stop:
                n = min(chunk, stop - i0)
                frames = np.empty((n, h, w, 3), np.uint8)
                got = _read_into(proc.stdout, memoryview(frames).cast("B")) // frame_bytes
                if got:
                    yield i0, frames[:got]
                    i0 += got
                if got < n:
                    break
        finally:
            self._stop_process()
        if i0 < stop and proc.returncode not in (0, None, -9):
            raise VideoError(
                f"Decoding {self.path} failed at frame {i0} (ffmpeg exit code {proc.returncode}; truncated or corrupt "
                "file?)."
            )

    def _stop_process(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()

    def close(self) -> None:
        self._stop_process()
        if self._exact is not None:
            self._exact.close()
            self._exact = None


def _read_into(stream, view: memoryview) -> int:
    """Fill ``view`` from ``stream`` (fewer bytes only at the end of the stream); returns the bytes read."""
    done = 0
    while done < len(view):
        got = stream.readinto(view[done:])
        if not got:
            break
        done += got
    return done


def open_stream(path: str | os.PathLike, resize: tuple[int, int] | None = None) -> VideoReader:
    """A reader for decoding a whole video in order with flat memory: :class:`FFmpegPipeReader` when ffmpeg and
    OpenCV can open the file, else :func:`open_video`'s reader (decord)."""
    path = Path(path)
    try:
        return FFmpegPipeReader(path, resize=resize)
    except (VideoError, ImportError):
        return open_video(path, resize=resize)
