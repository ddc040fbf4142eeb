"""Thumbnails through one ffmpeg process (the fast path of :func:`posenb.frames.select.load_thumbnails`)."""

from __future__ import annotations

import os
import re
import subprocess
import threading

import numpy as np

from posenb.io.video_stream import ffmpeg_exe

__all__: list[str] = []


def _thumbnails_ffmpeg(
    video,
    lo: int,
    hi: int,
    step: int,
    size: tuple[int, int],
    crop,
    color: bool,
    bar,
    fps: float = 0.0,
    skip_bframes: bool = False,
    keyframes=None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray] | None:
    """Fast path: one ffmpeg process decodes ``range(lo, hi, step)`` sequentially, crops and scales in C.

    The decoder skips the deblocking filter (``-skip_loop_filter all``: invisible at thumbnail size, ~40 % less
    decoding work) and grayscale is the luma plane (no RGB conversion at all). Returns ``(n, d)`` uint8, or None
    when ffmpeg is unavailable, fails, or returns another number of frames than expected (then the caller falls
    back to the regular reader).

    ``skip_bframes`` (with ``step == 1``): the decoder skips B-frames altogether (``-skip_frame bidir``; nothing
    references them, so the other frames decode exactly), typically half the frames and most of the decoding
    work. The frame numbers of the frames it kept come from their timestamps (``showinfo``, ``fps``); returns
    ``(frame numbers, thumbnails)`` then, or None when the timestamps do not give distinct frame numbers.
    ``keyframes`` (``(frame numbers, seconds from the start)``) lets that pass use two processes.
    """
    if skip_bframes:
        return _thumbnails_ffmpeg_refs(video, lo, hi, size, crop, color, bar, fps, keyframes)

    exe = ffmpeg_exe()
    if exe is None:  # missing package or binary: the caller uses the reader instead
        return None
    w, h = size
    filters = [f"trim=start_frame={lo}:end_frame={hi}"]
    if step > 1:
        filters.append(f"select=not(mod(n\\,{step}))")
    if crop is not None:
        x1, x2, y1, y2 = crop
        filters.append(f"crop={x2 - x1}:{y2 - y1}:{x1}:{y1}")
    filters.append(f"scale={w}:{h}:flags=area")
    channels = 3 if color else 1
    cmd = [
        exe, "-nostdin", "-v", "error", "-skip_loop_filter", "all", "-i", str(video), "-map", "0:v:0", "-an", "-sn",
        "-vf", ",".join(filters), "-fps_mode", "passthrough",
        "-pix_fmt", "rgb24" if color else "gray", "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip
    expected = len(range(lo, hi, step))
    frame_bytes = w * h * channels
    out = np.empty((expected, frame_bytes), np.uint8)
    try:
        # stderr is discarded: an unread pipe would block ffmpeg once a damaged file fills it with messages
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )
    except OSError:
        return None
    n = 0
    try:
        while True:
            buf = proc.stdout.read(frame_bytes * 256)
            if not buf:
                break
            got = len(buf) // frame_bytes
            if len(buf) % frame_bytes or n + got > expected:
                return None
            out[n : n + got] = np.frombuffer(buf, np.uint8).reshape(got, frame_bytes)
            n += got
            bar.update(got)
        proc.wait()
    finally:
        _reap(proc)
    if proc.returncode != 0 or n != expected:
        return None
    return out


def _thumbnails_ffmpeg_refs(
    video, lo, hi, size, crop, color, bar, fps, keyframes=None
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_thumbnails_ffmpeg` decoding I- and P-frames only; ``(frame numbers, thumbnails)`` in ``[lo, hi)``.

    One decoder thread per ffmpeg process: each P-frame needs the previous one, so frame threads mostly wait for
    each other (on the shared 2-core machine, 2026-12-02, load 7: 6-7 s wall with one thread against 8-10 s with
    ffmpeg's default for the I/P-frames of a 10-minute 640x480 video, the same CPU time). With more than one core
    and ``keyframes`` (``(frame numbers, seconds from the start)``, decord's index) of a long video, two processes
    decode the two halves at once (:func:`_split_pass`); the result is the single pass's, or the single pass runs.
    """
    exe = ffmpeg_exe()
    if exe is None or not fps or fps <= 0:
        return None
    w, h = size
    filters = [] if crop is None else [f"crop={crop[1] - crop[0]}:{crop[3] - crop[2]}:{crop[0]}:{crop[2]}"]
    filters += [f"scale={w}:{h}:flags=area", "showinfo"]
    args = (exe, str(video), filters, w * h * (3 if color else 1), "rgb24" if color else "gray", bar)
    result = None
    try:
        if keyframes is not None and _cores() > 1:
            result = _split_pass(args, keyframes, fps)
            if result is None:
                bar.reset()
        if result is None:
            one = _RefsPass(*args)
            one.read_all()
    except OSError:
        return None
    if result is None:
        if not one.ok():
            return None
        index = np.rint((one.times - one.times[0]) * fps).astype(np.int64)
        result = index, one.thumbs
    index, thumbs = result
    if index[0] != 0 or np.any(np.diff(index) <= 0):
        return None  # variable frame rate or odd timestamps: the caller decodes every frame instead
    keep = (index >= lo) & (index < hi)
    return index[keep], thumbs[keep]


def _reap(proc) -> None:
    """End an ffmpeg process that is still running (kill, wait) and close its output pipe."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    proc.stdout.close()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


#: split the I/P-frame pass over two processes only for videos with at least this many frames
SPLIT_MIN_FRAMES = 3000


class _RefsPass:
    """One ffmpeg process decoding I/P-frames (B-frames skipped, no loop filter) to raw thumbnails + ``showinfo``
    timestamps (seconds from the file's start). ``seek`` (seconds): start at the key frame at or before it;
    ``end`` (seconds): frames from there on are dropped (``trim``). Errors or warnings of the decoder are counted."""

    _pattern = re.compile(rb"\bn:\s*\d+\s+pts:\s*-?\d+\s+pts_time:\s*(-?[0-9.]+)")

    def __init__(self, exe, video, filters, frame_bytes, pix_fmt, bar, seek=None, end=None):
        if end is not None:
            filters = [f"trim=end={end:.6f}", *filters]
        where = (
            [] if seek is None else ["-copyts", "-start_at_zero", "-ss", f"{seek:.6f}", "-noaccurate_seek"]
        )
        cmd = [
            exe, "-nostdin", "-hide_banner", "-v", "repeat+level+info", "-skip_loop_filter", "all",
            "-skip_frame", "bidir", "-threads", "1", *where, "-i", video, "-map", "0:v:0", "-an", "-sn",
            "-vf", ",".join(filters), "-fps_mode", "passthrough", "-pix_fmt", pix_fmt, "-f", "rawvideo", "pipe:1",
        ]  # fmt: skip
        self.frame_bytes, self.bar = frame_bytes, bar
        self.times_list: list[float] = []
        self.problems = 0
        self.data = b""
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        self._started = threading.Event()  # first frame decoded, a problem logged, or the end
        self._log = threading.Thread(target=self._read_log, daemon=True)
        self._log.start()

    def _read_log(self):  # read stderr all along: a full pipe would block ffmpeg
        for line in self.proc.stderr:
            m = self._pattern.search(line)
            if m:
                self.times_list.append(float(m.group(1)))
            elif (
                b"[error]" in line
                or b"[fatal]" in line
                or (b"[warning]" in line and b"[swscaler" not in line)
            ):
                self.problems += (
                    1  # (the scaler's warning about full-range "yuvj" input is no decoding problem)
                )
            else:
                continue
            self._started.set()
        self._started.set()

    def starts_cleanly(self, timeout: float = 30.0) -> bool:
        """Wait for the first decoded frame: True when it came without an error or warning, else kill ffmpeg."""
        self._started.wait(timeout)
        if self.times_list and not self.problems:
            return True
        self.kill()
        return False

    def kill(self) -> None:
        _reap(self.proc)
        self._log.join(timeout=10)

    def read_all(self) -> None:
        """Read the frames until ffmpeg ends (or kill it on an exception)."""
        proc, chunks = self.proc, []
        try:
            while True:
                buf = proc.stdout.read(self.frame_bytes * 256)
                if not buf:
                    break
                chunks.append(buf)
                self.bar.update(len(buf) // self.frame_bytes)
            proc.wait()
        finally:
            _reap(proc)
        self._log.join(timeout=10)
        self.data = b"".join(chunks)
        self.times = np.asarray(self.times_list, dtype=np.float64)

    def ok(self) -> bool:
        n, rest = divmod(len(self.data), self.frame_bytes)
        return self.proc.returncode == 0 and not rest and n == len(self.times) and n > 0

    @property
    def thumbs(self) -> np.ndarray:
        return np.frombuffer(self.data, np.uint8).reshape(len(self.times), self.frame_bytes)


def _split_candidates(index: np.ndarray, n_try: int = 8) -> list[int]:
    """Positions in ``index`` (key frame numbers) of up to ``n_try`` key frames in the middle half of the video,
    nearest the middle first (never the first or the last key frame); none for a video shorter than about
    :data:`SPLIT_MIN_FRAMES` (there a second process would not pay for itself)."""
    if len(index) < 3 or index[0] != 0 or index[-1] < SPLIT_MIN_FRAMES // 2:
        return []
    mid = index[-1] / 2
    inner = [k for k in range(1, len(index) - 1) if abs(index[k] - mid) <= mid / 2]
    return sorted(inner, key=lambda k: abs(index[k] - mid))[:n_try]


def _split_pass(args, keyframes, fps):
    """Two processes at once: the first decodes from the start up to the key frame after the split ``K`` (one
    group of pictures of overlap), the second starts at ``K`` (``-ss`` before ``-i``: it seeks to that key frame).
    ``K`` is the key frame nearest the middle whose first frame decodes without an error or warning (tried one
    after the other, at most 8).

    The halves are joined at ``K`` only when the second process decoded without any error or warning and its
    thumbnails of the overlap ``[K, next key frame)`` equal the first's, frame for frame: a key frame the decoder
    cannot start from cleanly (most key frames of the 10-minute openfield test video: gray frames) gives other pixels,
    and then None comes back (the caller runs the single pass). Returns ``(frame numbers, thumbnails)`` or None.
    """
    index, seconds = np.asarray(keyframes[0], np.int64), np.asarray(keyframes[1], np.float64)
    half = 0.5 / fps
    for k in _split_candidates(index):  # the first key frame the decoder starts from without complaint
        second = _RefsPass(*args, seek=float(seconds[k]) + half)
        if second.starts_cleanly():
            break
    else:
        return None
    K, K2 = int(index[k]), int(index[k + 1])
    try:
        first = _RefsPass(*args, end=float(seconds[k + 1]) - half)
    except OSError:
        second.kill()
        raise
    reader = threading.Thread(target=second.read_all, daemon=True)
    reader.start()
    try:
        first.read_all()
    except BaseException:
        second.proc.kill()  # interrupted: stop the other half too
        raise
    finally:
        reader.join()
    if not (first.ok() and second.ok()) or second.problems:
        return None
    t0 = first.times[0]
    i1 = np.rint((first.times - t0) * fps).astype(np.int64)
    i2 = np.rint((second.times - t0) * fps).astype(np.int64)
    a, b = first.thumbs, second.thumbs
    over1, over2 = (i1 >= K) & (i1 < K2), (i2 >= K) & (i2 < K2)
    if i2[0] > K or not over1.any() or not np.array_equal(i1[over1], i2[over2]):
        return None
    if not np.array_equal(a[over1], b[over2]):
        return None
    return np.concatenate([i1[i1 < K], i2[i2 >= K]]), np.concatenate([a[i1 < K], b[i2 >= K]])
