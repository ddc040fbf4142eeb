"""Thumbnails through one ffmpeg process (the fast path of :func:`posenb.frames.select.load_thumbnails`)."""

from __future__ import annotations

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
    """
    if skip_bframes:
        return _thumbnails_ffmpeg_refs(video, lo, hi, size, crop, color, bar, fps)
    import subprocess

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
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    if proc.returncode != 0 or n != expected:
        return None
    return out


def _thumbnails_ffmpeg_refs(
    video, lo, hi, size, crop, color, bar, fps
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_thumbnails_ffmpeg` decoding I- and P-frames only; ``(frame numbers, thumbnails)`` in ``[lo, hi)``.

    One decoder thread: each P-frame needs the previous one, so frame threads mostly wait for each other (on the
    shared 2-core machine, 2026-12-02, load 7: 6-7 s wall with one thread against 8-10 s with ffmpeg's default
    for the I/P-frames of a 10-minute 640x480 video, the same CPU time).
    """
    import re
    import subprocess
    import threading

    exe = ffmpeg_exe()
    if exe is None or not fps or fps <= 0:
        return None
    w, h = size
    filters = [] if crop is None else [f"crop={crop[1] - crop[0]}:{crop[3] - crop[2]}:{crop[0]}:{crop[2]}"]
    filters += [f"scale={w}:{h}:flags=area", "showinfo"]
    cmd = [
        exe, "-nostdin", "-hide_banner", "-v", "info", "-skip_loop_filter", "all", "-skip_frame", "bidir",
        "-threads", "1", "-i", str(video), "-map", "0:v:0", "-an", "-sn", "-vf", ",".join(filters), "-fps_mode", "passthrough",
        "-pix_fmt", "rgb24" if color else "gray", "-f", "rawvideo", "pipe:1",
    ]  # fmt: skip
    frame_bytes = w * h * (3 if color else 1)
    times: list[float] = []
    pattern = re.compile(rb"\bn:\s*\d+\s+pts:\s*-?\d+\s+pts_time:\s*(-?[0-9.]+)")
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    except OSError:
        return None

    def read_log():  # read stderr all along: a full pipe would block ffmpeg
        for line in proc.stderr:
            m = pattern.search(line)
            if m:
                times.append(float(m.group(1)))

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    chunks = []
    try:
        while True:
            buf = proc.stdout.read(frame_bytes * 256)
            if not buf:
                break
            chunks.append(buf)
            bar.update(len(buf) // frame_bytes)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    reader.join(timeout=10)
    data = b"".join(chunks)
    if proc.returncode != 0 or len(data) % frame_bytes or len(data) // frame_bytes != len(times) or not times:
        return None
    index = np.rint((np.asarray(times) - times[0]) * fps).astype(np.int64)
    if index[0] != 0 or np.any(np.diff(index) <= 0):
        return None  # variable frame rate or odd timestamps: the caller decodes every frame instead
    thumbs = np.frombuffer(data, np.uint8).reshape(len(times), frame_bytes)
    keep = (index >= lo) & (index < hi)
    return index[keep], thumbs[keep]
