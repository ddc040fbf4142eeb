"""Writing the frames of a :class:`FrameGroup` as PNG files (copied, converted, decoded from a video or embedded)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posenb.errors import LabelError, VideoError
from posenb.formats._model import VideoFrame, load_image
from posenb.io.atomic import atomic_write

__all__ = ["write_frame_images", "missing_images"]


def missing_images(folder: Path, names: Sequence[str], images: Sequence) -> list[str]:
    """Names of frames that have neither an image file in ``folder`` nor a source to write one from."""
    out = []
    for name, ref in zip(names, images):
        if (Path(folder) / name).is_file():
            continue
        if ref is None or (isinstance(ref, Path) and not ref.is_file()):
            out.append(name)
    return out


def _encode_png(arr: np.ndarray, target: Path) -> None:
    import cv2

    arr = np.ascontiguousarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".png", arr)
    if not ok:
        raise LabelError(f"Could not encode {target} as PNG.")
    atomic_write(target, lambda tmp: Path(tmp).write_bytes(buf.tobytes()), backup=False)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def write_frame_images(
    folder: str | os.PathLike, names: Sequence[str], images: Sequence, progress: bool = True
) -> int:
    """Write each frame ``folder/<name>`` (PNG) from its :data:`ImageRef`; existing files are kept.

    Video frames are decoded frame-exactly, one pass per video. Returns the number of files written; raises
    :class:`LabelError` (before writing anything) when a frame has no image source.
    """
    from tqdm.auto import tqdm

    folder = Path(folder)
    missing = missing_images(folder, names, images)
    if missing:
        raise LabelError(
            f"No image for {len(missing)} frame(s) of {folder.name} (e.g. {missing[:3]}): the file names neither images "
            "that exist nor a video. Put the images (or the video) where the file says and import again."
        )
    folder.mkdir(parents=True, exist_ok=True)
    todo = [(n, ref) for n, ref in zip(names, images) if not (folder / n).is_file()]
    by_video: dict[Path, list[tuple[int, str]]] = {}
    written = 0
    bar = tqdm(
        total=len(todo), desc=f"frames of {folder.name}", unit="frame", disable=not progress or not todo
    )
    try:
        for name, ref in todo:
            target = folder / name
            if isinstance(ref, VideoFrame):
                by_video.setdefault(Path(ref.video), []).append((int(ref.index), name))
                continue
            if isinstance(ref, Path):
                if _same_file(ref, target):
                    continue
                if ref.suffix.lower() == ".png":
                    atomic_write(target, lambda tmp, src=ref: shutil.copyfile(src, tmp), backup=False)
                else:
                    _encode_png(load_image(ref), target)
            else:
                _encode_png(np.asarray(ref()), target)
            written += 1
            bar.update(1)
        for video, wanted in by_video.items():
            from posenb.io.video import open_frame_exact

            if not video.is_file():
                raise VideoError(f"Video {video} not found: its frames are needed for {folder.name}.")
            with open_frame_exact(video) as reader:
                for idx, name in sorted(wanted):
                    _encode_png(reader.read(idx), folder / name)
                    written += 1
                    bar.update(1)
    finally:
        bar.close()
    return written
