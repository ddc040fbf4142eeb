"""Pure state of :class:`posenb.widgets.calibration_view.CalibrationView`: the tuple table, the RMS report, corner
previews and the bookkeeping of dropped / kept tuples (tested without a browser)."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

__all__ = [
    "TupleRow", "RmsEntry", "RMS_WARNING_PX", "tuple_status", "table_rows", "row_label", "rms_report",
    "corner_preview", "moved_tuple", "merge_calibration",
]  # fmt: skip

#: Reprojection errors (RMS, px) above this get a warning.
RMS_WARNING_PX = 1.0
_PLACEHOLDER = "{cam}"
_NBSP = "\u00a0"  # option labels are padded with non-breaking spaces (browsers collapse plain ones)


# ---------------------------------------------------------------------------------------------- pure helpers
@dataclass
class TupleRow:
    """One line of the tuple list.

    ``status``: ``"found"`` (board found in every view), ``"failed"`` (not found in ``failed_cameras``) or
    ``"removed"`` (images in ``removed_calibration_images/``); ``rms_px``: camera -> RMS reprojection error of
    this image after the last calibration (px; empty before).
    """

    key: str
    name: str
    status: str
    text: str
    failed_cameras: list[str] = field(default_factory=list)
    rms_px: dict[str, float] = field(default_factory=dict)

    @property
    def max_rms_px(self) -> float:
        """Largest per-image RMS over the cameras (NaN before calibration)."""
        return max(self.rms_px.values()) if self.rms_px else math.nan


def tuple_status(t) -> tuple[str, str, list[str]]:
    """``(status, text, failed cameras)`` of a :class:`~posenb.threed.CalibrationTuple`."""
    failed = [cam for cam in t.images if t.corners.get(cam) is None]
    if t.removed:
        detail = "board found in all views" if not failed else "not found in " + ", ".join(failed)
        return "removed", f"removed ({detail})", failed
    if failed:
        return "failed", "failed: not found in " + ", ".join(failed), failed
    return "found", "found in all views", failed


def _natural_key(s: str):
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", s)]


def table_rows(tuples: Sequence, per_image_rms_px: dict | None = None, order: str = "name") -> list[TupleRow]:
    """Rows of the tuple list, ``order`` ``"name"`` (natural order of the keys) or ``"error"`` (largest
    per-image RMS first, tuples without one last, then by name)."""
    per_image_rms_px = per_image_rms_px or {}
    rows = []
    for t in tuples:
        status, text, failed = tuple_status(t)
        rms = {cam: float(v) for cam, v in per_image_rms_px.get(t.key, {}).items()}
        rows.append(TupleRow(t.key, t.name, status, text, failed, rms))
    rows.sort(key=lambda r: _natural_key(r.key))
    if order == "error":
        rows.sort(key=lambda r: -r.max_rms_px if r.rms_px else math.inf)
    elif order != "name":
        raise ValueError(f"order must be 'name' or 'error', not {order!r}")
    return rows


def row_label(row: TupleRow, name_width: int = 10) -> str:
    """Fixed-width label ``"<name>  <status text>  <rms per camera> px"`` (non-breaking-space padding)."""
    mark = {"found": "\u2713", "failed": "\u2717", "removed": "\u2013"}[row.status]
    text = f"{mark} {row.name.ljust(name_width)}  {row.text.ljust(34)}"
    if row.rms_px:
        text += "  RMS " + " / ".join(f"{v:.2f}" for v in row.rms_px.values()) + " px"
    return text.rstrip().replace(" ", _NBSP)


@dataclass
class RmsEntry:
    """One reprojection error: ``kind`` ``"camera"`` or ``"pair"``, ``rms_px`` in pixels, ``above`` the warning
    threshold."""

    name: str
    kind: str
    rms_px: float
    above: bool


def rms_report(
    camera_rms_px: dict, pair_rms_px: dict, threshold_px: float = RMS_WARNING_PX
) -> list[RmsEntry]:
    """Cameras then pairs, each flagged when its RMS exceeds ``threshold_px`` (or is not finite)."""
    out = []
    for kind, values in (("camera", camera_rms_px), ("pair", pair_rms_px)):
        for name, v in values.items():
            v = float(v)
            out.append(RmsEntry(str(name), kind, v, not (v <= threshold_px)))
    return out


def corner_preview(
    image: np.ndarray, corners: np.ndarray | None, pattern: tuple[int, int], max_width: int = 640
) -> tuple[np.ndarray, float]:
    """The image shrunk to at most ``max_width`` px wide with the corners drawn (OpenCV's board drawing).

    ``image``: ``(H, W, 3)`` RGB uint8; ``corners``: ``(n, 2)`` px in the image, or None (nothing drawn);
    ``pattern``: ``(cbrow, cbcol)`` inner corners. Rows are joined in colour when ``n == cbrow * cbcol``, else
    each corner is marked alone. Returns ``(preview RGB uint8, scale)`` with ``preview px = image px * scale``.
    """
    import cv2

    img = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = img.shape[:2]
    scale = min(1.0, float(max_width) / w)
    if scale < 1.0:
        img = cv2.resize(
            img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
        )
    else:
        img = img.copy()
    if corners is not None and len(corners):
        pts = (np.asarray(corners, np.float32).reshape(-1, 1, 2) * scale).astype(np.float32)
        cbrow, cbcol = int(pattern[0]), int(pattern[1])
        bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        cv2.drawChessboardCorners(bgr, (cbcol, cbrow), pts, len(pts) == cbrow * cbcol)
        img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return img, scale


def moved_tuple(t, folder: str | os.PathLike, removed: bool):
    """Copy of tuple ``t`` whose images now lie in ``folder`` (after a drop or keep)."""
    folder = Path(folder)
    return replace(t, images={cam: folder / p.name for cam, p in t.images.items()}, removed=removed)


def merge_calibration(tuples: Sequence, result, removed_folder: str | os.PathLike) -> list:
    """The tuple list after :func:`~posenb.threed.calibrate_cameras`.

    Tuples it used come from ``result.tuples``; those it moved (``result.removed``) and those already removed
    stay listed as removed (with their detected corners when known). Tuples that vanished are left out.
    """
    from posenb.threed import CalibrationTuple

    used = {t.key for t in result.tuples}
    moved = set(result.removed)
    old = {t.key: t for t in tuples}
    out = list(result.tuples)
    for key in result.removed:
        if key in old:
            out.append(moved_tuple(old[key], removed_folder, removed=True))
        else:
            images = {
                cam: Path(removed_folder) / key.replace(_PLACEHOLDER, cam, 1) for cam in result.camera_names
            }
            out.append(CalibrationTuple(key, images, {cam: None for cam in images}, removed=True))
    out += [t for t in tuples if t.removed and t.key not in used and t.key not in moved]
    return sorted(out, key=lambda t: _natural_key(t.key))


# ---------------------------------------------------------------------------------------------------- panel
