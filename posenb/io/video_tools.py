"""DeepLabCut's video helpers: ``ShortenVideo``, ``CropVideo``, ``DownSampleVideo``, ``check_video_integrity``.

DeepLabCut runs an ``ffmpeg`` binary for these; posenb decodes with :func:`posenb.io.video.open_video` and encodes
with :class:`posenb.io.video.VideoWriter` (H.264, yuv420p, through imageio-ffmpeg's bundled ffmpeg), so they work
wherever posenb reads and writes videos, with no ffmpeg on the PATH.

Each writes ``<name><outsuffix><ext>`` next to the input (or into ``outpath``) and returns its path (str):

- the input is never overwritten (an output path equal to the input is an error);
- the output is written under a temporary name and renamed when complete (an interrupted run leaves nothing);
- an existing output is kept and returned, as DeepLabCut's ``ffmpeg -n`` does (pass ``overwrite=True`` to redo);
- audio is not copied (DeepLabCut copies it); the frame rate is kept; frames are re-encoded (``ShortenVideo`` at
  CRF 18, near-lossless, where DeepLabCut stream-copies; the others at libx264's default CRF 23, as DeepLabCut's
  ffmpeg does);
- libx264 needs even frame sizes: an odd width or height gets one edge-replicated pixel column / row
  (e.g. a 101 x 80 crop is stored as 102 x 80);
- containers that cannot hold H.264 (``.mpg``, ``.mpeg``, ``.mpv``, ``.yuv``, ``.m2v``) are written as ``.mp4``.

Bad arguments raise :class:`~posenb.errors.ConfigError` (a ``ValueError``), unreadable videos
:class:`~posenb.errors.VideoError`, both naming the file and what to do.
"""

from __future__ import annotations

import os
import re
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError, VideoError
from posenb.io.video import VideoReader, VideoWriter, open_video

__all__ = ["ShortenVideo", "CropVideo", "DownSampleVideo", "check_video_integrity", "parse_time"]

_NO_H264 = {".mpg", ".mpeg", ".mpv", ".yuv", ".m2v"}
_TIME = re.compile(r"^\s*(?:(\d+):)??(?:(\d+):)?(\d+(?:\.\d*)?)\s*$")


def parse_time(value: str | float | int, name: str = "time") -> float:
    """Seconds of a ``"hh:mm:ss"`` / ``"mm:ss"`` / ``"ss"`` string (fractions of a second allowed) or a number.

    >>> parse_time("00:01:02.5")
    62.5
    """
    if isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} is not a time; write it as 'hh:mm:ss', e.g. '00:01:30'.")
    if isinstance(value, (int, float, np.integer, np.floating)):
        seconds = float(value)
    else:
        m = _TIME.match(str(value))
        if not m:
            raise ConfigError(f"{name}={value!r} is not a time; write it as 'hh:mm:ss', e.g. '00:01:30'.")
        hours, minutes, secs = m.groups()
        if (minutes is not None and float(secs) >= 60) or (hours is not None and int(minutes) >= 60):
            raise ConfigError(f"{name}={value!r}: minutes and seconds must be below 60 in 'hh:mm:ss'.")
        seconds = int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs)
    if not np.isfinite(seconds) or seconds < 0:
        raise ConfigError(f"{name}={value!r} must be a time >= 0.")
    return seconds


def _format_time(seconds: float) -> str:
    h, rest = divmod(float(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def _output_path(vname: str | os.PathLike, outsuffix: str, outpath: str | os.PathLike | None) -> Path:
    """``<outpath or input folder>/<stem><outsuffix><ext>``; ConfigError when it would be the input itself."""
    src = Path(vname)
    if not src.is_file():
        raise VideoError(f"Video not found: {src}. Check the path.")
    ext = src.suffix
    if ext.lower() in _NO_H264:
        print(f"{src.name}: a {ext} file cannot hold H.264 video; the output is written as .mp4.")
        ext = ".mp4"
    folder = Path(outpath) if outpath is not None else src.parent
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"outpath {folder} is a file; give a folder for the output video.")
    if folder.is_dir() and not os.access(folder, os.W_OK):
        raise ConfigError(f"Cannot write into {folder} (read-only); pass outpath= a writable folder.")
    out = folder / f"{src.stem}{outsuffix or ''}{ext}"
    same = out.resolve() == src.resolve()
    if not same and out.exists():
        try:
            same = os.path.samefile(out, src)
        except OSError:
            same = False
    if same:
        raise ConfigError(
            f"The output {out} would overwrite the input video; give a non-empty outsuffix or another outpath."
        )
    return out


def _open(vname: str | os.PathLike) -> VideoReader:
    """The default reader, or OpenCV's when the default one cannot decode the first frame.

    (decord 0.6 fails on some small frame sizes, e.g. 24 x 16 and 48 x 32, only when decoding.)
    """
    path = Path(vname)
    if not path.is_file():
        raise VideoError(f"Video not found: {path}. Check the path.")
    reader = open_video(path)
    try:
        reader.read(0)
    except VideoError:
        reader.close()
        reader = open_video(path, backend="opencv")
    return reader


def _transcode(
    reader: VideoReader,
    out: Path,
    size: tuple[int, int],
    transform: Callable[[np.ndarray], np.ndarray],
    start: int = 0,
    stop: int | None = None,
    quality: int = 23,
    desc: str = "",
) -> Path:
    """Decode frames ``start..stop-1``, apply ``transform`` ((n, H, W, 3) -> (n, h, w, 3) uint8), encode to ``out``.

    ``size`` is the (width, height) ``transform`` returns. The writer renames its temporary file only when done.
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    stop = reader.n_frames if stop is None else min(stop, reader.n_frames)
    try:
        with (
            VideoWriter(out, reader.fps, size, quality=quality) as writer,
            tqdm(total=stop - start, desc=desc or out.name, unit="frame") as bar,
        ):
            for _, frames in reader.iter_frames(start, stop, chunk=16):
                writer.write(np.ascontiguousarray(transform(frames)))
                bar.update(len(frames))
            if writer.n_written == 0:
                raise VideoError(f"No frame of {reader.path} could be decoded in the requested range.")
    finally:
        reader.close()
    return out


def _existing(out: Path, overwrite: bool) -> bool:
    if out.exists() and not overwrite:
        print(f"{out} exists already: kept (delete it, or pass overwrite=True, to make it again).")
        return True
    return False


def ShortenVideo(  # noqa: N802 - DeepLabCut's name
    vname: str | os.PathLike,
    start: str | float = "00:00:01",
    stop: str | float = "00:01:00",
    outsuffix: str = "short",
    outpath: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> str:
    """Cut the part ``start`` .. ``stop`` of a video into ``<name><outsuffix><ext>``.

    Parameters
    ----------
    vname : video file.
    start, stop : positions in the video, ``"hh:mm:ss"`` (``"mm:ss"``, ``"ss"``, fractions and numbers of seconds
        accepted). Frames ``round(start * fps)`` .. ``round(stop * fps) - 1`` are kept; a ``stop`` past the end
        keeps the rest of the video (with a warning).
    outsuffix, outpath : output name suffix and folder (default: the input's folder).
    overwrite : redo an existing output (posenb addition; DeepLabCut never overwrites).

    Returns the output path. ConfigError for bad times, ``start`` not before ``stop``, or ``start`` past the end.
    """
    t0, t1 = parse_time(start, "start"), parse_time(stop, "stop")
    if t0 >= t1:
        raise ConfigError(f"ShortenVideo: start ({start}) must come before stop ({stop}).")
    out = _output_path(vname, outsuffix, outpath)
    if _existing(out, overwrite):
        return str(out)
    reader = _open(vname)
    fps = reader.fps or 30.0
    duration = reader.n_frames / fps
    i0, i1 = int(round(t0 * fps)), int(round(t1 * fps))
    if i0 >= reader.n_frames:
        reader.close()
        raise ConfigError(
            f"ShortenVideo: start {start} is past the end of {vname} ({reader.n_frames} frames, "
            f"{_format_time(duration)} at {fps:g} fps)."
        )
    if i1 > reader.n_frames:
        warnings.warn(
            f"ShortenVideo: stop {stop} is past the end of {Path(vname).name} ({_format_time(duration)}); "
            "the output ends with the video.",
            stacklevel=2,
        )
    i1 = max(min(i1, reader.n_frames), i0 + 1)
    size = (reader.width, reader.height)
    return str(
        _transcode(reader, out, size, lambda f: f, i0, i1, quality=18, desc=f"shorten {Path(vname).name}")
    )


def CropVideo(  # noqa: N802 - DeepLabCut's name
    vname: str | os.PathLike,
    width: int = 256,
    height: int = 256,
    origin_x: int = 0,
    origin_y: int = 0,
    outsuffix: str = "cropped",
    outpath: str | os.PathLike | None = None,
    useGUI: bool = False,  # noqa: N803 - DeepLabCut's name
    overwrite: bool = False,
) -> str:
    """Crop every frame to the box ``x in [origin_x, origin_x + width)``, ``y in [origin_y, origin_y + height)``.

    Pixels, origin at the top-left corner. A box reaching past the frame edge is clipped to the frame (as
    DeepLabCut does, with a warning); a box outside the frame, a negative origin or a size < 1 is a ConfigError.
    ``useGUI=True`` (DeepLabCut's box-drawing window) is not available: draw the box in posenb's frame grabber
    panel instead (see the error message). Returns the output path.
    """
    if useGUI:
        raise ConfigError(
            "CropVideo(useGUI=True): posenb has no pop-up window. Draw the crop box on a frame in the frame grabber "
            "panel (posenb.widgets.FrameGrabber, or the 'Frames' tab of posenb.launch(config)): 'Draw crop box', "
            "then read its x1, x2, y1, y2 and call CropVideo(vname, width=x2 - x1, height=y2 - y1, origin_x=x1, "
            "origin_y=y1)."
        )
    try:
        x0, y0, w, h = (int(v) for v in (origin_x, origin_y, width, height))
    except (TypeError, ValueError):
        raise ConfigError(
            f"CropVideo: width, height, origin_x, origin_y must be integers (pixels), got "
            f"{width!r}, {height!r}, {origin_x!r}, {origin_y!r}."
        ) from None
    if w < 1 or h < 1 or x0 < 0 or y0 < 0:
        raise ConfigError(
            f"CropVideo: the crop box needs width, height >= 1 and origin_x, origin_y >= 0 (got width={w}, "
            f"height={h}, origin_x={x0}, origin_y={y0})."
        )
    out = _output_path(vname, outsuffix, outpath)
    if _existing(out, overwrite):
        return str(out)
    reader = _open(vname)
    fw, fh = reader.width, reader.height
    if x0 >= fw or y0 >= fh:
        reader.close()
        raise ConfigError(
            f"CropVideo: the crop box origin ({x0}, {y0}) lies outside the {fw} x {fh} frames of {vname}."
        )
    x1, y1 = min(x0 + w, fw), min(y0 + h, fh)
    if (x1, y1) != (x0 + w, y0 + h):
        warnings.warn(
            f"CropVideo: the box {w} x {h} at ({x0}, {y0}) reaches past the {fw} x {fh} frame of "
            f"{Path(vname).name}; cropped to {x1 - x0} x {y1 - y0}.",
            stacklevel=2,
        )
    size = (x1 - x0, y1 - y0)
    return str(_transcode(reader, out, size, lambda f: f[:, y0:y1, x0:x1], desc=f"crop {Path(vname).name}"))


def _target_size(width: int, height: int, fw: int, fh: int) -> tuple[int, int]:
    """(w, h) of DeepLabCut's ``scale=width:height``: -1 keeps the aspect ratio (rounded to an even number)."""

    def even(v: float) -> int:
        return max(2, int(round(v / 2.0)) * 2)

    if width == -1 and height == -1:
        return fw, fh
    if width == -1:
        return even(fw * height / fh), height
    if height == -1:
        return width, even(fh * width / fw)
    return width, height


def _rotate(frames: np.ndarray, angle: float) -> np.ndarray:
    """Rotate frames ``angle`` degrees clockwise about their centre, same size, black corners (ffmpeg ``rotate``)."""
    import cv2  # noqa: PLC0415

    h, w = frames.shape[1:3]
    m = cv2.getRotationMatrix2D(
        ((w - 1) / 2.0, (h - 1) / 2.0), -float(angle), 1.0
    )  # cv2: positive = counter-cw
    return np.stack(
        [cv2.warpAffine(f, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT) for f in frames]
    )


def DownSampleVideo(  # noqa: N802 - DeepLabCut's name
    vname: str | os.PathLike,
    width: int = -1,
    height: int = 200,
    outsuffix: str = "downsampled",
    outpath: str | os.PathLike | None = None,
    rotatecw: str = "No",
    angle: float = 0.0,
    overwrite: bool = False,
) -> str:
    """Resize a video to ``width`` x ``height`` pixels (``-1``: from the other one, keeping the aspect ratio).

    Parameters
    ----------
    width, height : output size in pixels; ``-1`` for one of them keeps the aspect ratio (rounded to an even
        number, like ffmpeg's ``-2``); both ``-1`` keeps the size (useful with a rotation).
    rotatecw : ``"No"``; ``"Yes"``: rotate 90 degrees clockwise after resizing (output ``height`` x ``width``,
        ffmpeg ``transpose=1``); ``"Arbitrary"``: rotate ``angle`` degrees clockwise about the centre, same size,
        black corners (ffmpeg ``rotate``; DeepLabCut's ``DownSampleVideo`` never passed ``angle`` on, posenb does).
    angle : degrees, clockwise, for ``rotatecw="Arbitrary"`` (negative: counter-clockwise).
    outsuffix, outpath, overwrite : as :func:`ShortenVideo`.

    Returns the output path.
    """
    rot = {True: "Yes", False: "No"}.get(rotatecw, rotatecw) if isinstance(rotatecw, bool) else str(rotatecw)
    rot = rot.strip().capitalize()
    if rot not in ("Yes", "No", "Arbitrary"):
        raise ConfigError(f"DownSampleVideo: rotatecw must be 'Yes', 'No' or 'Arbitrary', got {rotatecw!r}.")
    try:
        w_arg, h_arg, angle = int(width), int(height), float(angle)
    except (TypeError, ValueError):
        raise ConfigError(
            f"DownSampleVideo: width and height must be integers (pixels, or -1) and angle a number, got "
            f"{width!r}, {height!r}, {angle!r}."
        ) from None
    for name, v in (("width", w_arg), ("height", h_arg)):
        if v != -1 and v < 1:
            raise ConfigError(
                f"DownSampleVideo: {name}={v}; give a size in pixels >= 1, or -1 to keep the aspect ratio."
            )
    if not np.isfinite(angle):
        raise ConfigError(f"DownSampleVideo: angle={angle} must be a finite number of degrees.")
    out = _output_path(vname, outsuffix, outpath)
    if _existing(out, overwrite):
        return str(out)
    reader = _open(vname)
    w, h = _target_size(w_arg, h_arg, reader.width, reader.height)
    import cv2  # noqa: PLC0415

    def transform(frames: np.ndarray) -> np.ndarray:
        if (w, h) != (reader.width, reader.height):
            interp = cv2.INTER_AREA if w * h < reader.width * reader.height else cv2.INTER_LINEAR
            frames = np.stack([cv2.resize(f, (w, h), interpolation=interp) for f in frames])
        if rot == "Yes":
            frames = np.rot90(frames, k=-1, axes=(1, 2))  # clockwise
        elif rot == "Arbitrary" and angle % 360:
            frames = _rotate(frames, angle)
        return frames

    size = (h, w) if rot == "Yes" else (w, h)
    return str(_transcode(reader, out, size, transform, desc=f"downsample {Path(vname).name}"))


def check_video_integrity(video: str | os.PathLike) -> dict:
    """Decode every frame of ``video`` and compare with the frame count its header announces.

    Returns a report (dict):

    - ``video``: the path (str); ``header_frames``: the frame count the container announces;
    - ``decoded_frames``: how many frames decode (frames past the announced count included);
    - ``failed_frames``: indices (< ``header_frames``) that failed to decode;
    - ``decoder_errors``: error lines of ffmpeg's full decode (``ffmpeg -v error -f null``, DeepLabCut's check;
      catches damaged frames that decoders conceal), at most 50;
    - ``ok``: True when every announced frame decodes, none more, and ffmpeg reports no error.

    A problem is also reported as a warning. A file that cannot be opened, or whose first frame does not decode,
    raises :class:`~posenb.errors.VideoError`. Re-encode a damaged video (e.g. ``DownSampleVideo(v, -1, -1)``)
    or use the decodable part (``ShortenVideo``).
    """
    import cv2  # noqa: PLC0415
    from tqdm.auto import tqdm  # noqa: PLC0415

    path = Path(video)
    if not path.is_file():
        raise VideoError(f"Video not found: {path}. Check the path.")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoError(f"{path} cannot be opened as a video (not a video, or its header is damaged).")
    header = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
    decoded, failed = 0, []
    try:
        with tqdm(total=header, desc=f"check {path.name}", unit="frame") as bar:
            for i in range(header):
                ok, frame = cap.read()
                if ok and frame is not None:
                    decoded += 1
                else:
                    failed.append(i)
                bar.update(1)
            while True:  # frames the header does not announce
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                decoded += 1
    finally:
        cap.release()
    if decoded == 0:
        raise VideoError(
            f"{path}: no frame decodes (the header announces {header}); the file is corrupt. "
            "Re-export or re-copy it from its source."
        )
    errors = _ffmpeg_errors(path)
    report = {
        "video": str(path),
        "header_frames": header,
        "decoded_frames": decoded,
        "failed_frames": failed,
        "decoder_errors": errors,
        "ok": decoded == header and not failed and not errors,
    }
    if not report["ok"]:
        first = f"; first failing frame {failed[0]}" if failed else ""
        more = f"; ffmpeg: {errors[0]}" if errors else ""
        warnings.warn(
            f"{path}: the header announces {header} frames, {decoded} decode{first}{more}. Re-encode it "
            "(posenb.DownSampleVideo(video, -1, -1)) or cut out the good part (posenb.ShortenVideo).",
            stacklevel=2,
        )
    return report


def _ffmpeg_errors(path: Path, limit: int = 50) -> list[str]:
    """Error lines of ``ffmpeg -v error -i <path> -f null -`` (imageio-ffmpeg's binary); [] if it cannot run."""
    try:
        import imageio_ffmpeg  # noqa: PLC0415

        exe = imageio_ffmpeg.get_ffmpeg_exe()
        proc = subprocess.run(
            [exe, "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=None,
            check=False,
        )
    except (ImportError, OSError, RuntimeError):
        return []
    lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
    if proc.returncode != 0 and not lines:
        lines = [f"ffmpeg exited with code {proc.returncode}"]
    return lines[:limit]
