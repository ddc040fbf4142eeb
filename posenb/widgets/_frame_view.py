"""``FrameView``: the frame view of the labeling panels (the labeler and the refiner).

One image of a label folder on an :class:`~posenb.widgets._canvas.ImageCanvas` (placed in the host's
``canvas_box``), its points on the overlay layer, and the labeler's pure handlers
(:mod:`posenb.widgets.labeler_state`) for the mouse and keys. The host panel provides ``state`` (a
``LabelerState`` or None), ``cfg``, ``canvas_box``, ``_updating``, ``_apply(new_state)``, ``_draw_overlay()``,
``_set_status``, and sets ``CANVAS_CLASS`` (the canvas's CSS class, which browser tests select by).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from posenb.widgets._canvas import CanvasEvent, ImageCanvas, View, attach_canvas, fit_view
from posenb.widgets._image import image_file_bytes, image_size
from posenb.widgets.labeler_state import LabelerState, go_to_frame, handle_event, select_part

__all__ = ["FrameView", "dot_radius"]


def dot_radius(cfg: dict | None) -> float:
    """The radius (canvas pixels) of the drawn points: half config.yaml's ``dotsize`` (default 12), in [4, 9]."""
    dotsize = float((cfg or {}).get("dotsize") or 12)
    return float(max(4.0, min(dotsize / 2.0, 9.0)))


class FrameView:
    """Mixin of the labeling panels: the canvas, the current frame and the navigation (module docstring)."""

    CANVAS_CLASS = "posenb-frame-canvas"
    image_canvas: ImageCanvas | None = None
    image_format = "auto"
    radius = 6.0

    # ------------------------------------------------------------------ navigation
    def go_to(self, index: int) -> None:
        """Show image ``index`` of the folder."""
        if self.state is not None:
            self._apply(go_to_frame(self.state, index))

    def select_part(self, part: int | str) -> None:
        """Make a body part current (by name or index): the part a click on the image places."""
        if self.state is not None:
            idx = self.state.bodyparts.index(part) if isinstance(part, str) else int(part)
            self._apply(select_part(self.state, idx))

    def handle(self, event: CanvasEvent) -> None:
        """Apply one canvas event (what the canvas's mouse and key listeners call)."""
        if self.state is not None:
            self._apply(handle_event(self.state, event))

    def _on_image_change(self, change) -> None:
        if not self._updating and change["new"] is not None and self.state is not None:
            self.go_to(int(change["new"]))

    # ------------------------------------------------------------------ canvas and view
    @staticmethod
    def _first_image_size(folder: Path, names) -> tuple[int, int] | None:
        """``(width, height)`` of the first of ``names`` in ``folder`` (from its header), None if unknown."""
        for name in list(names)[:1]:
            path = Path(folder) / name
            if path.exists():
                with open(path, "rb") as fh:
                    return image_size(fh.read(65536))
        return None

    def _open_view(self, size: tuple[int, int] | None) -> View:
        """Create the canvas if needed (for images of ``size``), set ``radius`` from the config, and return the
        view that fits ``size`` (default: the canvas size) into the canvas."""
        if self.image_canvas is None:
            self.image_canvas = attach_canvas(
                self.canvas_box, size or (640, 480), self.CANVAS_CLASS, self.handle, self._draw_overlay
            )
        self.radius = dot_radius(self.cfg)
        cw, ch = self.image_canvas.canvas_size
        iw, ih = size or (cw, ch)
        return fit_view(iw, ih, cw, ch)

    def _fit_state(self) -> LabelerState:
        """The state with the view reset (zoom and pan) to fit the image into the canvas."""
        v = self.state.view
        return replace(self.state, view=fit_view(v.image_w, v.image_h, v.canvas_w, v.canvas_h))

    def _load_frame(self, path: Path) -> tuple[bytes, tuple[int, int]] | None:
        """The bytes and size of image ``path`` for the canvas, the view refitted if the image size changed; None
        (the error in the status line, the canvas cleared) if it cannot be read."""
        ic = self.image_canvas
        try:
            data, size = image_file_bytes(path, self.image_format)
        except (OSError, ValueError) as exc:
            self._set_status(f"Cannot show {path}: {exc}", "error")
            ic.clear_image()
            return None
        s = self.state
        if (s.view.image_w, s.view.image_h) != tuple(size):
            cw, ch = ic.canvas_size
            self.state = replace(s, view=fit_view(size[0], size[1], cw, ch))
        ic.view = self.state.view
        return data, size

    def _redraw_points(self) -> None:
        """Redraw the overlay (points, skeleton) of the current frame."""
        if self.image_canvas is not None and self.state is not None:
            self.image_canvas.view = self.state.view
            self.image_canvas.redraw(overlays_only=True)
