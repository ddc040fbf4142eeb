"""Draw a :class:`~posenb.widgets.labeler_draw.PointsDrawing` on an ipycanvas layer (the labeler's points layer).

Only draw calls, vectorised (one call per kind of mark); what to draw is computed by the pure
:func:`posenb.widgets.labeler_draw.draw_points`.
"""

from __future__ import annotations

import numpy as np

from posenb.widgets.labeler_draw import PointsDrawing

__all__ = ["paint_points"]


def _hex(rgb) -> str:
    r, g, b = (int(c) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def paint_points(
    layer,
    d: PointsDrawing,
    radius: float,
    alpha: float,
    skeleton_css: str,
    bone_colors: np.ndarray | None = None,
    show_suggestions: bool = True,
) -> None:
    """Clear ``layer`` and draw bones, points, suggestions (hollow) and the current part's ring.

    ``bone_colors``: ``(n_groups, 3)`` uint8, each individual's bones in its colour (multi-animal projects
    coloured by body part); None: every bone in ``skeleton_css``. The current individual's points get a thicker
    outline.
    """
    layer.clear()
    if len(d.segments):
        layer.line_width = 2
        layer.global_alpha = alpha
        if bone_colors is None:
            layer.stroke_style = skeleton_css
            layer.stroke_line_segments(d.segments)
        else:
            for g in np.unique(d.segment_groups):
                layer.stroke_style = _hex(bone_colors[g])
                layer.stroke_line_segments(d.segments[d.segment_groups == g])
        layer.global_alpha = 1.0
    if len(d.xy):
        layer.fill_styled_circles(d.xy[:, 0], d.xy[:, 1], radius, d.colors, alpha)
        layer.stroke_style = "black"
        layer.line_width = 1
        layer.stroke_circles(d.xy[:, 0], d.xy[:, 1], radius)
        cur = d.xy[d.current] if len(d.current) == len(d.xy) else d.xy[:0]
        if len(cur):
            layer.line_width = 2.5
            layer.stroke_circles(cur[:, 0], cur[:, 1], radius)
    if len(d.suggested_xy) and show_suggestions:
        layer.line_width = 2
        layer.stroke_styled_circles(
            d.suggested_xy[:, 0], d.suggested_xy[:, 1], radius, d.suggested_colors, 1.0
        )
    if d.highlight is not None:
        layer.stroke_style = "white"
        layer.line_width = 2
        layer.stroke_circle(float(d.highlight[0]), float(d.highlight[1]), radius + 3)
