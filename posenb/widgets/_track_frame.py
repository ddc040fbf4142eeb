"""The proofreader's frame view: each individual's points and skeleton in its colour, and the mouse on them.

Pure functions (no Jupyter import):

- :func:`individual_colors`: one colour per individual (the config's colormap sampled as for body parts);
- :func:`frame_drawing`: one frame of the tracks (``(N, P, 2)`` image px, NaN = missing) -> points, skeleton
  segments and name labels in canvas pixels; points below the likelihood cutoff are hollow; a point being
  dragged is drawn where the mouse is;
- :func:`hit_point`: the point under a canvas position;
- :func:`frame_event`: one :class:`~posenb.widgets._canvas.CanvasEvent` -> the new mouse state and what the panel
  should do (``"set"`` a point, ``"place"`` a missing one, ``"delete"`` one, change the ``"view"``, ``"redraw"`` a drag, or a ``"key"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from posenb.widgets._canvas import CanvasEvent, View, canvas_to_image, image_to_canvas, pan_by, zoom_at

__all__ = ["FrameDrawing", "Mouse", "individual_colors", "frame_drawing", "hit_point", "frame_event"]


def individual_colors(n: int, colormap: str = "rainbow") -> np.ndarray:
    """``(n, 3)`` uint8 RGB, one colour per individual."""
    from posenb.widgets._canvas import part_colors  # noqa: PLC0415 (matplotlib only when drawing)

    return part_colors(max(n, 1), colormap)[:n]


@dataclass
class FrameDrawing:
    """One frame's tracks in canvas pixels.

    ``xy`` ``(n, 2)``; ``individual``, ``part`` ``(n,)`` int; ``colors`` ``(n, 3)`` uint8 (the individual's);
    ``hollow`` ``(n,)`` bool (likelihood below the cutoff); ``segments`` ``(m, 2, 2)`` skeleton bones and
    ``segment_individual`` ``(m,)``; ``labels``: (name, x, y, individual) beside each individual's first point;
    ``unique_xy`` ``(u, 2)`` the unique body parts (not editable here), drawn grey.
    """

    xy: np.ndarray
    individual: np.ndarray
    part: np.ndarray
    colors: np.ndarray
    hollow: np.ndarray
    segments: np.ndarray
    segment_individual: np.ndarray
    labels: list[tuple[str, float, float, int]]
    unique_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))


@dataclass(frozen=True)
class Mouse:
    """What the mouse is doing on the frame: ``drag`` = (individual, part, image x, image y) of a point being
    moved, ``pan`` = the last canvas position of a pan, both None when idle."""

    drag: tuple[int, int, float, float] | None = None
    pan: tuple[float, float] | None = None


def frame_drawing(
    poses: np.ndarray,
    likelihood: np.ndarray,
    view: View,
    colors: np.ndarray,
    individuals: Sequence[str] = (),
    skeleton: Sequence[tuple[int, int]] = (),
    pcutoff: float = 0.6,
    drag: tuple[int, int, float, float] | None = None,
    unique: np.ndarray | None = None,
) -> FrameDrawing:
    """Points of one frame: ``poses`` ``(N, P, 2)`` image px (NaN = missing), ``likelihood`` ``(N, P)``;
    ``colors`` ``(N, 3)``; ``skeleton``: part index pairs; ``drag``: a point shown at another image position;
    ``unique``: ``(U, 2+)`` the frame's unique body parts (x, y[, likelihood]) or None."""
    xy = np.array(poses, dtype=float, copy=True).reshape(len(poses), -1, 2)
    lik = np.asarray(likelihood, dtype=float).reshape(xy.shape[:2])
    if drag is not None:
        i, k, x, y = drag
        xy[i, k] = (x, y)
    n, p = xy.shape[:2]
    ind, part = np.divmod(np.arange(n * p), p)
    flat = xy.reshape(-1, 2)
    keep = np.isfinite(flat).all(axis=1)
    cx, cy = image_to_canvas(view, flat[keep, 0], flat[keep, 1])
    hollow = ~(lik.reshape(-1)[keep] >= pcutoff)
    if drag is not None:
        hollow &= ~((ind[keep] == drag[0]) & (part[keep] == drag[1]))
    colors = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
    segs, seg_ind = [], []
    for i in range(n):
        for a, b in skeleton:
            if np.isfinite(xy[i, a]).all() and np.isfinite(xy[i, b]).all():
                segs.append(xy[i, [a, b]])
                seg_ind.append(i)
    segs = np.asarray(segs, dtype=float).reshape(-1, 2, 2)
    if len(segs):
        sx, sy = image_to_canvas(view, segs[..., 0], segs[..., 1])
        segs = np.stack([sx, sy], axis=-1)
    labels = []
    for i, name in enumerate(individuals):
        finite = np.flatnonzero(np.isfinite(xy[i]).all(axis=1))
        if len(finite):
            lx, ly = image_to_canvas(view, xy[i, finite[0], 0], xy[i, finite[0], 1])
            labels.append((str(name), float(lx) + 6.0, float(ly) - 6.0, i))
    u = (
        np.zeros((0, 2))
        if unique is None
        else np.asarray(unique, dtype=float).reshape(-1, np.shape(unique)[-1])
    )
    u = u[np.isfinite(u[:, :2]).all(axis=1), :2]
    ux, uy = image_to_canvas(view, u[:, 0], u[:, 1])
    return FrameDrawing(
        unique_xy=np.stack([ux, uy], axis=1).reshape(-1, 2),
        xy=np.stack([cx, cy], axis=1).reshape(-1, 2),
        individual=ind[keep],
        part=part[keep],
        colors=colors[ind[keep]] if len(colors) else np.zeros((int(keep.sum()), 3), np.uint8),
        hollow=hollow,
        segments=segs,
        segment_individual=np.asarray(seg_ind, dtype=int),
        labels=labels,
    )


def hit_point(d: FrameDrawing, cx: float, cy: float, radius: float) -> tuple[int, int] | None:
    """``(individual, part)`` of the drawn point nearest to canvas ``(cx, cy)`` within ``radius``, else None."""
    if not len(d.xy):
        return None
    dist = np.hypot(d.xy[:, 0] - cx, d.xy[:, 1] - cy)
    j = int(np.argmin(dist))
    return (int(d.individual[j]), int(d.part[j])) if dist[j] <= radius else None


def frame_event(
    mouse: Mouse, ev: CanvasEvent, view: View, drawing: FrameDrawing | None, radius: float
) -> tuple[Mouse, tuple | None]:
    """Apply one canvas event; returns ``(mouse, effect)``.

    Alt + left press on the image: ``("place", x, y)`` (image px; the panel puts its chosen part there); left
    press on a point starts dragging it, moving previews (``("redraw",)``), release sets it
    (``("set", individual, part, x, y)`` image px); right press on a point: ``("delete", individual, part)``;
    left press elsewhere (or Shift / middle press) pans: ``("view", View)``; wheel zooms at the cursor;
    keys: ``("key", key, ctrl)`` (``0`` fits the view: ``("fit",)``).
    """
    if ev.kind == "key":
        return mouse, (("fit",) if ev.key == "0" else ("key", ev.key, ev.ctrl or ev.meta))
    if ev.kind == "wheel" and ev.x is not None:
        return mouse, ("view", zoom_at(view, ev.x, ev.y, 0.8 if ev.delta > 0 else 1.25))
    if ev.kind == "down" and ev.x is not None:
        if ev.alt and ev.button == 0:
            x, y = canvas_to_image(view, ev.x, ev.y)
            if 0 <= x <= view.image_w and 0 <= y <= view.image_h:
                return Mouse(), ("place", x, y)
        hit = hit_point(drawing, ev.x, ev.y, radius) if drawing is not None else None
        if hit is not None and ev.button == 2:
            return Mouse(), ("delete", *hit)
        if hit is not None and ev.button == 0 and not ev.shift:
            x, y = canvas_to_image(view, ev.x, ev.y)
            return Mouse(drag=(hit[0], hit[1], x, y)), ("redraw",)
        return Mouse(pan=(ev.x, ev.y)), None
    if ev.kind == "move" and ev.x is not None:
        if mouse.drag is not None and ev.buttons & 1:
            x, y = canvas_to_image(view, ev.x, ev.y)
            return Mouse(drag=(mouse.drag[0], mouse.drag[1], x, y)), ("redraw",)
        if mouse.pan is not None and ev.buttons:
            x0, y0 = mouse.pan
            return Mouse(pan=(ev.x, ev.y)), ("view", pan_by(view, ev.x - x0, ev.y - y0))
        return mouse, None
    if ev.kind in ("up", "leave"):
        if mouse.drag is not None:
            i, k, x, y = mouse.drag
            if ev.x is not None and ev.kind == "up":
                x, y = canvas_to_image(view, ev.x, ev.y)
            x = float(min(max(x, 0.0), view.image_w))
            y = float(min(max(y, 0.0), view.image_h))
            return Mouse(), ("set", i, k, x, y)
        return Mouse(), None
    return mouse, None
