"""What the labeler's points layer shows, as arrays in canvas pixels (pure, no Jupyter import).

:func:`draw_points` turns a state and the slot colours (:func:`posenb.widgets.labeler_layout.slot_colors`:
per individual or per body part) into a :class:`PointsDrawing`; the widget only issues the draw calls. In a
multi-animal project each bone knows its individual (``segment_groups``) so the widget can draw every animal's
skeleton in its own colour, and the current individual's points are listed (``current``) to be ringed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posenb.widgets._canvas import image_to_canvas
from posenb.widgets.labeler_model import LabelerState
from posenb.widgets.labeler_suggest import shown_suggestions

__all__ = ["PointsDrawing", "draw_points"]


@dataclass(frozen=True, eq=False)
class PointsDrawing:
    """What the points layer shows, in canvas pixels.

    ``xy``: ``(n, 2)`` centres of the labeled points; ``parts``: ``(n,)`` their slot indices; ``colors``:
    ``(n, 3)`` uint8 RGB; ``segments``: ``(m, 2, 2)`` skeleton bones whose two ends are labeled; ``highlight``:
    ``(2,)`` centre of the current slot's point (None if unlabeled or no current slot); ``suggested_xy``
    ``(s, 2)``, ``suggested_parts`` ``(s,)``, ``suggested_colors`` ``(s, 3)``: the suggestions shown (hollow
    markers) for unlabeled slots; ``groups`` ``(n,)``: the individual of each point; ``segment_groups``
    ``(m,)``: the individual of each bone; ``current`` ``(n,)`` bool: the point belongs to the current individual
    (all False in a single-animal project).
    """

    xy: np.ndarray
    parts: np.ndarray
    colors: np.ndarray
    segments: np.ndarray
    highlight: np.ndarray | None
    suggested_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    suggested_parts: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    suggested_colors: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.uint8))
    groups: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    segment_groups: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    current: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


def draw_points(state: LabelerState, colors: np.ndarray) -> PointsDrawing:
    """The points and skeleton of the current image in canvas coordinates (``colors``: ``(n_slots, 3)``)."""
    if not state.images:
        empty = np.zeros((0, 2))
        return PointsDrawing(empty, np.zeros(0, int), np.zeros((0, 3), np.uint8), np.zeros((0, 2, 2)), None)
    layout = state.slots
    pts = state.current_points
    cx, cy = image_to_canvas(state.view, pts[:, 0], pts[:, 1])
    canvas_pts = np.stack([cx, cy], axis=1)
    labeled = ~np.isnan(pts[:, 0])
    parts = np.flatnonzero(labeled)
    bones = [(a, b) for a, b in state.skeleton if labeled[a] and labeled[b]]
    segments = np.array([(canvas_pts[a], canvas_pts[b]) for a, b in bones], dtype=float).reshape(-1, 2, 2)
    highlight = None
    if state.part is not None and labeled[state.part]:
        highlight = canvas_pts[state.part]
    colors = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
    sugg = shown_suggestions(state)
    sparts = np.flatnonzero(~np.isnan(sugg[:, 0]))
    sx, sy = image_to_canvas(state.view, sugg[sparts, 0], sugg[sparts, 1])
    groups = layout.slot_group[parts]
    return PointsDrawing(
        canvas_pts[parts],
        parts,
        colors[parts],
        segments,
        highlight,
        np.stack([sx, sy], axis=1).reshape(-1, 2),
        sparts,
        colors[sparts],
        groups,
        np.array([layout.slot_group[a] for a, _ in bones], dtype=int),
        (groups == state.group) if layout.multianimal else np.zeros(len(parts), bool),
    )
