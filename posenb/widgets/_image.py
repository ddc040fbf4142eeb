"""Images for the canvas: frames become compressed PNG/JPEG bytes, never raw arrays on the wire.

- :func:`encode_image` compresses an ``(H, W, 3)`` RGB ``uint8`` frame (OpenCV) to PNG or JPEG bytes.
- :func:`image_file_bytes` returns the bytes of an image file ready for the canvas: the file itself when it is a
  small enough PNG/JPEG (no decode, no re-encode), else a JPEG re-encoding.
- :func:`image_size` reads the pixel size from PNG/JPEG headers without decoding.
- :func:`read_image` decodes an image file to RGB ``uint8``.

No Jupyter import here; OpenCV is imported inside the functions that need it.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np

__all__ = ["encode_image", "image_file_bytes", "image_size", "read_image", "AUTO_PNG_MAX_BYTES"]

# "auto" format: PNG files up to this size are sent as they are; larger ones are re-encoded as JPEG.
AUTO_PNG_MAX_BYTES = 400_000


def encode_image(frame: np.ndarray, fmt: str = "jpeg", quality: int = 90) -> bytes:
    """Compress an ``(H, W, 3)`` RGB (or ``(H, W)`` gray) ``uint8`` image to ``"png"`` or ``"jpeg"`` bytes."""
    import cv2

    arr = np.asarray(frame)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[2] == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGBA2BGRA)
    fmt = fmt.lower()
    if fmt in ("jpg", "jpeg"):
        ok, buf = cv2.imencode(".jpg", arr, [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    elif fmt == "png":
        ok, buf = cv2.imencode(".png", arr, [int(cv2.IMWRITE_PNG_COMPRESSION), 1])
    else:
        raise ValueError(f"image format must be 'png' or 'jpeg', got {fmt!r}")
    if not ok:  # pragma: no cover - OpenCV failure
        raise ValueError("could not encode the image")
    return buf.tobytes()


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` in pixels from a PNG or JPEG header, or None if the header is not recognised."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:2] == b"\xff\xd8":
        i = 2
        n = len(data)
        while i + 9 < n:
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + length
    return None


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to ``(H, W, 3)`` RGB ``uint8``; ``FileNotFoundError`` / ``ValueError`` if impossible."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Image not found: {path}")
    arr = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    if arr is None:
        raise ValueError(f"{path} is not a readable image")
    return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)


def image_file_bytes(
    path: str | os.PathLike, fmt: str = "auto", quality: int = 90
) -> tuple[bytes, tuple[int, int]]:
    """Bytes of an image file for the canvas and its ``(width, height)``.

    ``fmt``: ``"auto"`` sends PNG/JPEG files up to :data:`AUTO_PNG_MAX_BYTES` unchanged and re-encodes larger
    ones as JPEG (remote browsers); ``"png"`` / ``"jpeg"`` force a format (re-encoding when needed).
    """
    path = Path(path)
    data = path.read_bytes()
    size = image_size(data)
    is_png = data[:8] == b"\x89PNG\r\n\x1a\n"
    is_jpeg = data[:2] == b"\xff\xd8"
    if size is not None:
        if fmt == "auto" and (is_jpeg or len(data) <= AUTO_PNG_MAX_BYTES):
            return data, size
        if (fmt == "png" and is_png) or (fmt in ("jpeg", "jpg") and is_jpeg):
            return data, size
    frame = read_image(path)
    out_fmt = "jpeg" if fmt in ("auto", "jpeg", "jpg") else "png"
    return encode_image(frame, out_fmt, quality), (frame.shape[1], frame.shape[0])
