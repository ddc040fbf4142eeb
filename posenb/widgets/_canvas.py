"""Shared canvas machinery for the image panels (labeler, frame grabber, refiner, ...).

Pure part (no Jupyter import, unit-tested with plain numbers):

- :class:`View`: how an image of ``image_w x image_h`` pixels sits on a canvas of ``canvas_w x canvas_h`` pixels:
  ``canvas = (image - (x0, y0)) * zoom``. :func:`fit_view`, :func:`zoom_at` (keeps the image point under the
  cursor fixed), :func:`pan_by`, :func:`image_to_canvas`, :func:`canvas_to_image`.
- :func:`canvas_size_for_image`: the canvas size a panel gives an image (small images are enlarged by an integer
  factor, large ones shrunk to fit).
- :class:`CanvasEvent` and :func:`to_canvas_event`: an ipyevents DOM event dict turned into canvas pixel
  coordinates. The canvas may be displayed at a different CSS size than its pixel size; ipyevents reports
  ``clientX`` and the element's ``boundingRect*`` in CSS pixels, which are mapped to canvas pixels here (with
  sub-pixel precision; ``relativeX`` is rounded by ipyevents and only used as a fallback).

Widget part: :class:`ImageCanvas` holds a ``MultiCanvas`` (layer 0 image, then overlays), a hidden source
``Canvas`` that keeps the full-resolution frame (sent once per frame as PNG/JPEG bytes, so zoom and pan only
re-draw it), the current :class:`View`, and ipyevents listeners. It redraws everything in ``on_client_ready``
because Voila runs the notebook before the browser connects. :func:`attach_canvas` makes the two-layer one a
panel shows in a box.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "View",
    "fit_view",
    "zoom_at",
    "pan_by",
    "image_to_canvas",
    "canvas_to_image",
    "canvas_size_for_image",
    "CanvasEvent",
    "to_canvas_event",
    "ImageCanvas",
    "attach_canvas",
    "part_colors",
    "css_color",
    "MIN_ZOOM_FACTOR",
    "MAX_ZOOM",
]

MIN_ZOOM_FACTOR = 0.5  # smallest zoom, relative to the fitted zoom
MAX_ZOOM = 40.0  # canvas pixels per image pixel


@dataclass(frozen=True)
class View:
    """Placement of the image on the canvas: ``canvas_xy = (image_xy - (x0, y0)) * zoom``.

    ``canvas_w``, ``canvas_h``: canvas size in canvas pixels; ``image_w``, ``image_h``: image size in image
    pixels; ``zoom``: canvas pixels per image pixel; ``x0``, ``y0``: image coordinates of the canvas's top-left
    corner (may be negative when the image is centred in a larger canvas).
    """

    canvas_w: int
    canvas_h: int
    image_w: int
    image_h: int
    zoom: float = 1.0
    x0: float = 0.0
    y0: float = 0.0

    @property
    def fit_zoom(self) -> float:
        return min(self.canvas_w / self.image_w, self.canvas_h / self.image_h)


def fit_view(image_w: int, image_h: int, canvas_w: int, canvas_h: int) -> View:
    """The whole image, as large as fits, centred on the canvas."""
    zoom = min(canvas_w / image_w, canvas_h / image_h)
    x0 = (image_w - canvas_w / zoom) / 2.0
    y0 = (image_h - canvas_h / zoom) / 2.0
    return View(int(canvas_w), int(canvas_h), int(image_w), int(image_h), float(zoom), float(x0), float(y0))


def image_to_canvas(view: View, x, y):
    """Image pixel coordinates (scalars or arrays) to canvas pixel coordinates."""
    return (np.asarray(x, dtype=float) - view.x0) * view.zoom, (
        np.asarray(y, dtype=float) - view.y0
    ) * view.zoom


def canvas_to_image(view: View, cx, cy):
    """Canvas pixel coordinates (scalars or arrays) to image pixel coordinates (sub-pixel floats)."""
    x = np.asarray(cx, dtype=float) / view.zoom + view.x0
    y = np.asarray(cy, dtype=float) / view.zoom + view.y0
    if np.ndim(x) == 0:
        return float(x), float(y)
    return x, y


def _clamp_origin(view: View) -> View:
    """Keep at least a quarter of the visible area on the image, so the image cannot be panned out of sight."""
    vis_w = view.canvas_w / view.zoom
    vis_h = view.canvas_h / view.zoom
    margin_x = min(vis_w, view.image_w) / 4
    margin_y = min(vis_h, view.image_h) / 4
    x0 = min(max(view.x0, margin_x - vis_w), view.image_w - margin_x)
    y0 = min(max(view.y0, margin_y - vis_h), view.image_h - margin_y)
    return replace(view, x0=float(x0), y0=float(y0))


def zoom_at(view: View, cx: float, cy: float, factor: float) -> View:
    """Zoom by ``factor`` keeping the image point under canvas point ``(cx, cy)`` where it is.

    The zoom stays within ``[MIN_ZOOM_FACTOR * fit_zoom, MAX_ZOOM]``.
    """
    lo = MIN_ZOOM_FACTOR * view.fit_zoom
    hi = max(MAX_ZOOM, view.fit_zoom)
    new_zoom = float(min(max(view.zoom * factor, lo), hi))
    ix, iy = canvas_to_image(view, cx, cy)
    return _clamp_origin(replace(view, zoom=new_zoom, x0=ix - cx / new_zoom, y0=iy - cy / new_zoom))


def pan_by(view: View, dcx: float, dcy: float) -> View:
    """Move the image by ``(dcx, dcy)`` canvas pixels (a drag to the right moves the image to the right)."""
    return _clamp_origin(replace(view, x0=view.x0 - dcx / view.zoom, y0=view.y0 - dcy / view.zoom))


def canvas_size_for_image(
    image_w: int, image_h: int, max_w: int = 960, max_h: int = 720, min_w: int = 640
) -> tuple[int, int]:
    """Canvas pixel size for an image: small images enlarged by an integer factor (up to about ``min_w`` wide),
    large ones shrunk to fit ``max_w x max_h``; the aspect ratio is kept."""
    scale = min(max_w / image_w, max_h / image_h)
    if scale >= 1:
        scale = max(1, min(math.floor(scale), math.ceil(min_w / image_w)))
    return max(1, int(round(image_w * scale))), max(1, int(round(image_h * scale)))


def part_colors(n: int, colormap: str = "rainbow") -> np.ndarray:
    """``(n, 3)`` uint8 RGB colours of ``n`` body parts (:func:`posenb.post._common.bodypart_colors`, as DeepLabCut
    picks them). A panel still opens with an unknown colormap name: it warns and draws with ``rainbow``."""
    import warnings

    from posenb.errors import ConfigError
    from posenb.post._common import bodypart_colors

    try:
        rgb = bodypart_colors(colormap, n)
    except ConfigError as exc:
        warnings.warn(f"{exc} Drawing with 'rainbow'.", stacklevel=2)
        rgb = bodypart_colors("rainbow", n)
    return np.round(rgb * 255).astype(np.uint8)


def css_color(color, default: str = "black") -> str:
    """A matplotlib colour (name, hex, RGB tuple in 0-1) as a CSS hex string."""
    import matplotlib.colors as mcolors

    try:
        return mcolors.to_hex(color)
    except (ValueError, TypeError):
        return mcolors.to_hex(default)


@dataclass(frozen=True)
class CanvasEvent:
    """A mouse or key event in canvas pixel coordinates.

    ``kind``: ``"down"``, ``"up"``, ``"move"``, ``"wheel"``, ``"leave"`` or ``"key"``; ``x``, ``y``: canvas
    pixels (sub-pixel floats; None for key events without a position); ``button``: 0 left, 1 middle, 2 right;
    ``buttons``: bit mask of pressed buttons; ``delta``: wheel ``deltaY`` (positive = scroll down = zoom out);
    ``key``: the DOM ``key`` (``"ArrowRight"``, ``"z"``, ``"Delete"``, ``"3"``, ...).
    """

    kind: str
    x: float | None = None
    y: float | None = None
    button: int = 0
    buttons: int = 0
    shift: bool = False
    ctrl: bool = False
    alt: bool = False
    meta: bool = False
    delta: float = 0.0
    key: str = ""


_KINDS = {
    "mousedown": "down",
    "mouseup": "up",
    "mousemove": "move",
    "wheel": "wheel",
    "mouseleave": "leave",
    "keydown": "key",
}


def to_canvas_event(event: dict, canvas_w: int, canvas_h: int) -> CanvasEvent | None:
    """Convert an ipyevents event dict to a :class:`CanvasEvent` (None for events we do not use).

    Position: ``clientX - boundingRectLeft`` (CSS pixels, not rounded) scaled by ``canvas_w /
    boundingRectWidth``; ``relativeX`` when the bounding rectangle is missing.
    """
    kind = _KINDS.get(event.get("type", ""))
    if kind is None:
        return None
    x = y = None
    width = event.get("boundingRectWidth") or 0
    height = event.get("boundingRectHeight") or 0
    if "clientX" in event and "boundingRectLeft" in event:
        x_css = float(event["clientX"]) - float(event["boundingRectLeft"])
        y_css = float(event["clientY"]) - float(event["boundingRectTop"])
    elif "relativeX" in event:
        x_css, y_css = float(event["relativeX"]), float(event["relativeY"])
    else:
        x_css = y_css = None
    if x_css is not None:
        x = x_css * (canvas_w / width) if width else x_css
        y = y_css * (canvas_h / height) if height else y_css
    return CanvasEvent(
        kind=kind,
        x=x,
        y=y,
        button=int(event.get("button", 0) or 0),
        buttons=int(event.get("buttons", 0) or 0),
        shift=bool(event.get("shiftKey", False)),
        ctrl=bool(event.get("ctrlKey", False)),
        alt=bool(event.get("altKey", False)),
        meta=bool(event.get("metaKey", False)),
        delta=float(event.get("deltaY", 0.0) or 0.0),
        key=str(event.get("key", "") or ""),
    )


class ImageCanvas:
    """A MultiCanvas showing one image with zoom/pan, overlay layers and normalised mouse/key events.

    Parameters
    ----------
    canvas_size : ``(width, height)`` of the canvas in canvas pixels (fixed for the panel's life).
    n_layers : layers of the MultiCanvas; layer 0 holds the image, the others are overlays
        (``self.layers[1:]``) drawn by the panel in its redraw callback.
    css_class : CSS class of the canvas element (for browser tests).
    move_wait_ms : throttle of mouse-move events sent to the kernel.

    Use :meth:`on_event` to receive :class:`CanvasEvent` objects, :meth:`on_redraw` to draw overlays whenever
    the image or view changes (called inside ``hold_canvas``), :meth:`set_image` to show a new frame (PNG/JPEG
    bytes) and :meth:`set_view` to zoom or pan.
    """

    def __init__(
        self,
        canvas_size: tuple[int, int] = (640, 480),
        n_layers: int = 3,
        css_class: str = "posenb-canvas",
        move_wait_ms: int = 15,
    ):
        from ipycanvas import MultiCanvas
        from ipyevents import Event

        cw, ch = (int(v) for v in canvas_size)
        self.widget = MultiCanvas(n_layers, width=cw, height=ch)
        self.widget.add_class(css_class)
        self.widget.layout.width = f"{cw}px"
        self.widget.layout.height = f"{ch}px"
        self.widget.layout.flex = "0 0 auto"
        self.layers = [self.widget[i] for i in range(n_layers)]
        self.view: View | None = None
        self._source = None  # hidden ipycanvas.Canvas holding the full-resolution image
        self._image_bytes: bytes | None = None
        self._image_size: tuple[int, int] | None = None
        self._smoothing: bool | None = None
        self._event_callbacks: list[Callable[[CanvasEvent], None]] = []
        self._redraw_callbacks: list[Callable[[], None]] = []
        self.n_client_ready = 0
        self._events = Event(
            source=self.widget,
            watched_events=["mousedown", "mouseup", "wheel", "contextmenu", "keydown"],
            prevent_default_action=True,
        )
        self._moves = Event(
            source=self.widget,
            watched_events=["mousemove", "mouseleave"],
            throttle_or_debounce="throttle",
            wait=int(move_wait_ms),
        )
        self._events.on_dom_event(self._dispatch)
        self._moves.on_dom_event(self._dispatch)
        self.widget.on_client_ready(self._on_client_ready)

    # ------------------------------------------------------------------ properties
    @property
    def canvas_size(self) -> tuple[int, int]:
        return int(self.widget.width), int(self.widget.height)

    @property
    def image_size(self) -> tuple[int, int] | None:
        return self._image_size

    # ------------------------------------------------------------------ callbacks
    def on_event(self, callback: Callable[[CanvasEvent], None]) -> None:
        """Call ``callback(event)`` for every mouse/key event on the canvas."""
        self._event_callbacks.append(callback)

    def on_redraw(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (inside ``hold_canvas``) after the image layer is redrawn, to draw overlays."""
        self._redraw_callbacks.append(callback)

    def _dispatch(self, event: dict) -> None:
        cw, ch = self.canvas_size
        ev = to_canvas_event(event, cw, ch)
        if ev is None:
            return
        for cb in list(self._event_callbacks):
            cb(ev)

    def _on_client_ready(self) -> None:
        # A browser (re)connected: its canvases are blank. Re-send the image and redraw everything.
        self.n_client_ready += 1
        self._smoothing = None  # a fresh front-end context has the default smoothing
        self.redraw(resend=True)

    # ------------------------------------------------------------------ drawing
    def _ensure_source(self, size: tuple[int, int]):
        from ipycanvas import Canvas

        if self._source is None or (int(self._source.width), int(self._source.height)) != tuple(size):
            if self._source is not None:
                self._source.close()
            # A new widget is created with its final size, so no resize can race with the drawing commands.
            self._source = Canvas(width=int(size[0]), height=int(size[1]))
            self._source.on_client_ready(self._on_client_ready)
        return self._source

    def _put_bytes(self, canvas, data: bytes) -> None:
        """Draw PNG/JPEG ``data`` at (0, 0) of ``canvas`` without decoding it in Python."""
        try:
            from ipycanvas.canvas import COMMANDS

            canvas._canvas_manager.send_draw_command(canvas, COMMANDS["putImageData"], [0, 0], [data])
        except (ImportError, AttributeError, KeyError):  # pragma: no cover - ipycanvas internals changed
            import cv2

            arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            canvas.put_image_data(cv2.cvtColor(arr, cv2.COLOR_BGR2RGB), 0, 0)

    def set_image(self, data: bytes, size: tuple[int, int], reset_view: bool = False) -> None:
        """Show a new image (PNG/JPEG ``data`` of ``size = (width, height)`` pixels).

        The view is kept when the size is unchanged (zoom survives a frame change), else fitted.
        """
        size = (int(size[0]), int(size[1]))
        same_size = self._image_size == size
        self._image_bytes = data
        self._image_size = size
        if reset_view or not same_size or self.view is None:
            cw, ch = self.canvas_size
            self.view = fit_view(size[0], size[1], cw, ch)
        self.redraw(resend=True)

    def clear_image(self) -> None:
        """Show no image (e.g. a missing file); overlays are still redrawn."""
        self._image_bytes = None
        self.redraw()

    def set_view(self, view: View) -> None:
        """Change zoom/pan and redraw (the image is not re-sent)."""
        self.view = view
        self.redraw()

    def reset_view(self) -> None:
        if self._image_size is not None:
            cw, ch = self.canvas_size
            self.set_view(fit_view(self._image_size[0], self._image_size[1], cw, ch))

    def redraw(self, resend: bool = False, overlays_only: bool = False) -> None:
        """Redraw the image layer from the source canvas (re-sending the bytes if ``resend``), then overlays."""
        from ipycanvas import hold_canvas

        with hold_canvas():
            if not overlays_only:
                layer = self.layers[0]
                layer.clear()
                if self._image_bytes is not None and self.view is not None:
                    source = self._ensure_source(self._image_size)
                    if resend:
                        source.clear()
                        self._put_bytes(source, self._image_bytes)
                    v = self.view
                    smooth = v.zoom < 3.0
                    if smooth != self._smoothing:
                        layer.image_smoothing_enabled = smooth
                        self._smoothing = smooth
                    layer.draw_image(
                        source, -v.x0 * v.zoom, -v.y0 * v.zoom, v.image_w * v.zoom, v.image_h * v.zoom
                    )
            for cb in list(self._redraw_callbacks):
                cb()

    def close(self) -> None:
        for w in (self._events, self._moves, self._source, self.widget):
            if w is not None:
                w.close()


def attach_canvas(
    box,
    image_wh: tuple[int, int],
    css_class: str,
    on_event: Callable[[CanvasEvent], None],
    on_redraw: Callable[[], None],
    **size_limits,
) -> ImageCanvas:
    """A two-layer :class:`ImageCanvas` (image, then one overlay) shown as the only child of ``box``.

    Its size is :func:`canvas_size_for_image` of ``image_wh = (width, height)`` (``size_limits``: that
    function's ``max_w``, ``max_h``, ``min_w``); ``css_class`` names the canvas element for browser tests;
    ``on_event`` receives its mouse/key events and ``on_redraw`` draws the overlay layer.
    """
    canvas = ImageCanvas(canvas_size_for_image(*image_wh, **size_limits), n_layers=2, css_class=css_class)
    canvas.on_event(on_event)
    canvas.on_redraw(on_redraw)
    box.children = [canvas.widget]
    return canvas
