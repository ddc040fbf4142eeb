"""The drawing and mouse handling of :class:`posenb.widgets.track_proofreader.TrackProofreader` (a mixin).

Only ipycanvas calls and event plumbing: what to draw is computed by the pure
:func:`posenb.widgets._track_timeline.timeline_drawing` and :func:`posenb.widgets._track_frame.frame_drawing`,
the mouse on the frame by :func:`posenb.widgets._track_frame.frame_event`.
"""

from __future__ import annotations

import numpy as np

from posenb.errors import PosenbError
from posenb.widgets._canvas import CanvasEvent, fit_view, to_canvas_event
from posenb.widgets._proofreader_layout import swap_stop
from posenb.widgets._track_frame import FrameDrawing, frame_drawing, frame_event
from posenb.widgets._track_timeline import (
    TimelineDrawing,
    TimelineGeometry,
    cursor_geometry,
    follow,
    row_labels,
    span_geometry,
    timeline_drawing,
    zoom_timeline,
)

__all__ = ["ProofreaderDrawing"]

_KEYS = {
    "n": "next_suspicious",
    "p": "prev_suspicious",
    "s": "swap",
    "e": "swap_until_next",
    "c": "cut",
    "j": "join",
}
TIMELINE_WIDTH = 900


def _hex(rgb) -> str:
    r, g, b = (int(c) for c in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


class ProofreaderDrawing:
    """The timeline canvas and the frame canvas of the proofreader."""

    # ------------------------------------------------------------------ timeline
    def _make_timeline(self) -> None:
        """A canvas with one row per individual (made again when the number of rows changes)."""
        from ipycanvas import MultiCanvas
        from ipyevents import Event

        ed = self.editor
        g = TimelineGeometry(n_frames=ed.n_frames, n_rows=len(ed.individuals), width=TIMELINE_WIDTH)
        if self.timeline is not None and self.geometry is not None and self.geometry.height == g.height:
            self.geometry = g
            return
        if self.timeline is not None:
            self.timeline.close()
        self.geometry = g
        canvas = MultiCanvas(2, width=g.width, height=g.height)  # the tracks, then the cursor
        canvas.layout.width, canvas.layout.height = f"{g.width}px", f"{g.height}px"
        canvas.add_class("posenb-proofread-timeline")
        self._timeline_events = Event(
            source=canvas, watched_events=["mousedown", "wheel"], prevent_default_action=True
        )
        self._timeline_moves = Event(
            source=canvas, watched_events=["mousemove"], throttle_or_debounce="throttle", wait=40
        )
        self._timeline_events.on_dom_event(self._on_timeline_dom)
        self._timeline_moves.on_dom_event(self._on_timeline_dom)
        canvas.on_client_ready(self._redraw_timeline)  # Voila runs the notebook before the browser connects
        self.timeline = canvas
        self.timeline_box.children = [canvas]

    def _on_timeline_dom(self, event: dict) -> None:
        g = self.geometry
        ev = to_canvas_event(event, g.width, g.height) if g is not None else None
        if ev is not None:
            self.timeline_event(ev)

    def timeline_event(self, ev: CanvasEvent) -> None:
        """A press (or a move with the button held) on the timeline: jump to its frame; a press on a row picks
        that individual as A. The wheel zooms the timeline around the frame under the mouse."""
        g = self.geometry
        if self.editor is None or g is None or ev.x is None:
            return
        if ev.kind == "wheel":
            self.geometry = zoom_timeline(g, g.x_to_frame(ev.x), 1.25 if ev.delta > 0 else 0.8)
            self._redraw_timeline()
            return
        if ev.kind == "move" and not ev.buttons & 1:
            return
        if ev.kind == "down":
            row = g.y_to_row(ev.y)
            if row is not None and row < len(self.editor.individuals):
                self.pick(self.editor.individuals[row])
        self.go_to(g.x_to_frame(ev.x))

    @property
    def timeline_view(self) -> TimelineDrawing | None:
        """What the timeline shows now (for tests)."""
        ed, g = self.editor, self.geometry
        if ed is None or g is None:
            return None
        names = list(ed.individuals)
        return timeline_drawing(
            g,
            names,
            [ed.segments(n) for n in names],
            [ed.low_confidence(n, self.pcutoff.value) for n in names],
            self.suspicions,
            cursor=self.current,
            selected=self._selected_rows(),
        )

    @property
    def swap_span(self) -> np.ndarray | None:
        """``(4,)`` x, y, w, h on the timeline of the frames a swap would exchange now (the cursor up to the
        "until" frame), None while that field is empty or not a frame after the cursor."""
        try:
            stop = swap_stop(self.swap_to.value)
        except ValueError:
            return None
        if stop is None or self.geometry is None or self.editor is None:
            return None
        return span_geometry(self.geometry, self.current, min(stop, self.editor.n_frames))

    def _selected_rows(self) -> list[int]:
        """The row of individual A (its name is drawn bold)."""
        names = list(self.editor.individuals) if self.editor is not None else []
        return [names.index(self.ind_a.value)] if self.ind_a.value in names else []

    def _redraw_timeline(self, cursor_only: bool = False) -> None:
        """Draw the timeline: the tracks' layer (after edits) unless ``cursor_only``, then the top layer (the
        cursor and the row names, A's bold)."""
        from ipycanvas import hold_canvas

        if self.timeline is None:
            return
        if self.geometry is not None and self.editor is not None:
            shown = follow(self.geometry, self.current)  # the cursor left the frames shown: scroll
            cursor_only = cursor_only and shown == self.geometry
            self.geometry = shown
        tracks, top = self.timeline[0], self.timeline[1]
        with hold_canvas():
            top.clear()
            if not cursor_only:
                tracks.clear()
                d = self.timeline_view
                if d is not None:
                    self._paint_tracks(tracks, d)
            if self.editor is None or self.geometry is None:
                return
            span = self.swap_span
            if span is not None:  # the frames the swap would exchange
                top.fill_style = "rgba(31, 119, 180, 0.18)"
                top.fill_rect(*(float(v) for v in span))
            line, rect = cursor_geometry(self.geometry, self.current)
            top.fill_style = "rgba(214, 39, 40, 0.15)"
            top.fill_rect(*(float(v) for v in rect))
            top.stroke_style, top.line_width = "#d62728", 2
            top.stroke_line(*(float(v) for v in line.reshape(-1)))
            top.fill_style = "#222222"
            for name, x, y, bold in row_labels(self.geometry, self.editor.individuals, self._selected_rows()):
                top.font = f"{'bold ' if bold else ''}12px sans-serif"
                top.fill_text(name[:12], x, y)

    def _paint_tracks(self, c, d: TimelineDrawing) -> None:
        c.fill_style = "#eeeeee"
        c.fill_rects(d.rows[:, 0], d.rows[:, 1], d.rows[:, 2], d.rows[:, 3])
        for row in np.unique(d.segment_rows):
            box = d.segments[d.segment_rows == row]
            c.fill_style = _hex(self.colors[row])
            c.fill_rects(box[:, 0], box[:, 1], box[:, 2], box[:, 3])
        if len(d.low):
            c.fill_style = "#222222"
            c.global_alpha = 0.55
            c.fill_rects(d.low[:, 0], d.low[:, 1], d.low[:, 2], d.low[:, 3])
            c.global_alpha = 1.0
        c.line_width = 1.5
        colors = np.array(d.tick_colors)
        for color in dict.fromkeys(d.tick_colors):
            c.stroke_style = color
            c.stroke_line_segments(d.ticks[colors == color])

    # ------------------------------------------------------------------ frame view
    def _make_canvas(self) -> None:
        from posenb.widgets._canvas import attach_canvas

        size = (self._reader.width, self._reader.height) if self._reader is not None else (640, 480)
        if self.image_canvas is not None and self.image_canvas.image_size == tuple(size):
            return
        if self.image_canvas is not None:
            self.image_canvas.close()
        self.image_canvas = attach_canvas(
            self.canvas_box, size, "posenb-proofread-canvas", self.handle, self._draw_overlay,
            max_w=900, max_h=600, min_w=640,
        )  # fmt: skip
        if self._reader is None:  # no image: the tracks alone on a blank frame of that size
            cw, ch = self.image_canvas.canvas_size
            self.image_canvas.view = fit_view(size[0], size[1], cw, ch)
        self._image_key = None

    @property
    def radius(self) -> float:
        return float(max(4.0, min(float(self.cfg.get("dotsize") or 8) / 2.0 + 2, 9.0)))

    @property
    def drawing(self) -> FrameDrawing | None:
        """What the frame view shows now (for tests)."""
        ed, ic = self.editor, self.image_canvas
        if ed is None or ic is None or ic.view is None:
            return None
        t = self.current
        return frame_drawing(
            ed.poses[t], ed.likelihood[t], ic.view, self.colors, ed.individuals, self.skeleton,
            self.pcutoff.value, drag=self.mouse.drag,
            unique=None if ed.unique is None else ed.unique[t],
        )  # fmt: skip

    def _redraw_frame(self) -> None:
        """Send the current frame's image when it changed, then draw the tracks over it."""
        from posenb.widgets._image import encode_image

        ic = self.image_canvas
        if ic is None:
            return
        with self._lock:
            t = self.current
            if self._reader is not None and self._image_key != t and t < len(self._reader):
                try:
                    img = self._reader.read(t)
                except PosenbError as exc:
                    self._set_status(str(exc), "warning")
                else:
                    ic.set_image(encode_image(img, "jpeg", 90), (img.shape[1], img.shape[0]))
                    self._image_key = t
                    return
            ic.redraw(overlays_only=self._reader is not None)

    def _draw_overlay(self) -> None:
        layer = self.image_canvas.layers[1]
        layer.clear()
        d = self.drawing
        if d is None:
            return
        r = self.radius
        layer.line_width = 2
        for i in np.unique(d.segment_individual):
            layer.stroke_style = _hex(self.colors[i])
            layer.stroke_line_segments(d.segments[d.segment_individual == i])
        solid = ~d.hollow
        if solid.any():
            layer.fill_styled_circles(d.xy[solid, 0], d.xy[solid, 1], r, d.colors[solid], 0.9)
            layer.stroke_style, layer.line_width = "black", 1
            layer.stroke_circles(d.xy[solid, 0], d.xy[solid, 1], r)
        if d.hollow.any():
            layer.line_width = 2.5
            layer.stroke_styled_circles(d.xy[d.hollow, 0], d.xy[d.hollow, 1], r, d.colors[d.hollow], 1.0)
        if len(d.unique_xy):
            layer.fill_style = "#9a9a9a"
            side = np.full(len(d.unique_xy), 1.6 * r)
            layer.fill_rects(d.unique_xy[:, 0] - 0.8 * r, d.unique_xy[:, 1] - 0.8 * r, side, side)
        layer.font = "bold 12px sans-serif"
        for name, x, y, i in d.labels:
            layer.fill_style = _hex(self.colors[i])
            layer.fill_text(name, x, y)

    def handle(self, ev: CanvasEvent) -> None:
        """One mouse or key event on the frame: drag a point to fix it, right-click deletes it, wheel zooms,
        drag pans; keys step frames and call the buttons' actions."""
        ic = self.image_canvas
        if self.editor is None or ic is None or ic.view is None:
            return
        self.mouse, effect = frame_event(self.mouse, ev, ic.view, self.drawing, self.radius + 3)
        if effect is None:
            return
        kind = effect[0]
        if kind == "set":
            self.set_point(effect[1], effect[2], effect[3], effect[4])
        elif kind == "place":
            self.place_point(effect[1], effect[2])
        elif kind == "delete":
            self.delete_point(effect[1], effect[2])
        elif kind == "view":
            ic.set_view(effect[1])
        elif kind == "fit":
            ic.reset_view()
        elif kind == "redraw":
            ic.redraw(overlays_only=True)
        elif kind == "key":
            self._key(effect[1], effect[2])

    def _key(self, key: str, ctrl: bool) -> None:
        if key in ("ArrowLeft", "ArrowRight"):
            self.go_to(self.current + (1 if key == "ArrowRight" else -1))
        elif ctrl and key.lower() == "z":
            self.undo()
        elif ctrl and key.lower() == "y":
            self.redo()
        elif not ctrl and key in _KEYS:
            getattr(self, _KEYS[key])()
