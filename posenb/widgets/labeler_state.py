"""The labeler's state and its event handlers, as pure functions (no Jupyter import).

A :class:`LabelerState` holds everything the labeler shows for one ``labeled-data/<stem>`` folder: the body
parts, the image names, the key points of every image (``(n_images, n_bodyparts, 2)`` float64 image pixels,
NaN = not labeled), the current image and body part, the :class:`~posenb.widgets._canvas.View` (zoom/pan),
an ongoing drag, the undo history and the set of images changed since the last save.

Handlers take a state and a :class:`~posenb.widgets._canvas.CanvasEvent` and return a new state (napari-style
mouse bindings, tested with fabricated events):

- left press on empty image: place the current part there and advance to the next unlabeled part; the press
  starts a drag, so keeping the button down and moving fine-tunes the point;
- left press on a point (within ``hit_radius`` canvas pixels): drag it (Alt forces placing instead);
- right press on a point: remove it;
- shift + left drag, or middle drag: pan; wheel: zoom centred on the cursor;
- keys: arrows left/right previous/next image, up/down previous/next part, digits pick a part (``0`` = 10th),
  Ctrl-Z / ``u`` undo, Delete / Backspace remove the point under the cursor (else the current part's),
  Space skip the current part (not visible), ``+`` / ``-`` zoom, ``r`` reset the view, Escape cancel a drag,
  Home / End first / last image.

Suggestions (the model's predictions, or points carried forward from a nearby labeled frame) are kept apart
from the labels in ``suggestions`` and shown as hollow markers for the parts that are not labeled: Enter (or
:func:`accept_suggestions`) accepts them all, a press on one accepts it and starts dragging it, right-click or
Delete on one dismisses it. Accepted points are ordinary labels (undoable, saved as human labels).

:func:`draw_points` turns a state into arrays of canvas coordinates for the widget to draw.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from posenb.post.skeleton import skeleton_indices  # noqa: F401 - re-exported (the labeler's skeleton)
from posenb.widgets._canvas import CanvasEvent, View, canvas_to_image, image_to_canvas, pan_by, zoom_at

__all__ = [
    "Edit",
    "Drag",
    "LabelerState",
    "new_state",
    "handle_event",
    "go_to_frame",
    "select_part",
    "skip_part",
    "place_point",
    "remove_point",
    "undo",
    "add_bodyparts",
    "hit_test",
    "next_unlabeled_part",
    "labeled_counts",
    "PointsDrawing",
    "draw_points",
    "skeleton_indices",
    "set_suggestions",
    "accept_suggestions",
    "dismiss_suggestion",
    "suggestion_hit",
    "shown_suggestions",
    "HELP_TEXT",
]

HELP_TEXT = """\
<b>Click</b> on the image to place the highlighted body part; the next unlabeled part is selected.
Hold the button and move to fine-tune. <b>Drag</b> a point to move it; <b>right-click</b> a point to remove it
(or <b>Delete</b>/<b>Backspace</b> with the pointer on it). A part that is not visible is simply skipped:
press <b>Space</b> or click another part.<br>
<b>Arrow keys</b> &larr;/&rarr; previous/next image, &uarr;/&darr; previous/next part; <b>1</b>-<b>9</b>, <b>0</b>
pick a part; <b>Ctrl-Z</b> or <b>u</b> undo. <b>Wheel</b> zooms at the pointer, <b>Shift-drag</b> or
<b>middle-drag</b> pans, <b>r</b> resets the view, <b>+</b>/<b>-</b> zoom. Keys work while the pointer is over the
image.<br>
<b>Suggestions</b> (hollow circles: the model's guesses, or points carried over from a nearby labeled frame):
<b>Enter</b> accepts them all, <b>drag</b> one to accept and move it, <b>right-click</b> or <b>Delete</b> dismisses
one.<br>
Labels are saved (CollectedData_&lt;scorer&gt;.h5 and .csv, with a .bak of the previous file) when you change
image or folder and when you press <b>Save</b>.
"""

WHEEL_ZOOM_RATE = 0.002  # zoom factor exp(-deltaY * rate): one mouse notch (deltaY 100) = x1.22
KEY_ZOOM = 1.25


@dataclass(frozen=True)
class Edit:
    """One undoable change: the point of ``part`` in image ``frame`` was ``old`` (NaN, NaN if unlabeled)."""

    frame: int
    part: int
    old: tuple[float, float]


@dataclass(frozen=True)
class Drag:
    """A drag in progress: ``kind`` ``"point"`` (moving ``part``) or ``"pan"``.

    ``start``: canvas position of the press; ``view``: the view at the press (pan); ``old``: the point before
    the drag; ``recorded``: whether an :class:`Edit` was pushed for it already.
    """

    kind: str
    part: int = -1
    start: tuple[float, float] = (0.0, 0.0)
    view: View | None = None
    old: tuple[float, float] = (math.nan, math.nan)
    recorded: bool = False


@dataclass(frozen=True, eq=False)
class LabelerState:
    """Everything the labeler shows; see the module docstring.

    ``points``: ``(n_images, n_bodyparts, 2)`` float64 image pixels (NaN = not labeled); ``part``: index of the
    current body part, or None when every part of the image is labeled (a click on empty image then does
    nothing); ``cursor``: last pointer position in canvas pixels (None when outside); ``dirty``: images changed
    since the last save; ``hit_radius``: canvas pixels within which a press grabs a point.
    """

    bodyparts: tuple[str, ...]
    images: tuple[str, ...]
    points: np.ndarray
    view: View
    skeleton: tuple[tuple[int, int], ...] = ()
    frame: int = 0
    part: int | None = 0
    drag: Drag | None = None
    history: tuple[Edit, ...] = ()
    dirty: frozenset = field(default_factory=frozenset)
    cursor: tuple[float, float] | None = None
    message: str = ""
    readonly: bool = False
    hit_radius: float = 8.0
    suggestions: np.ndarray | None = None  # (n_images, n_bodyparts, 2) suggested x/y, NaN = none

    @property
    def n_images(self) -> int:
        return len(self.images)

    @property
    def current_points(self) -> np.ndarray:
        """``(n_bodyparts, 2)`` points of the current image."""
        return self.points[self.frame]


# ---------------------------------------------------------------------------------------------- helpers
def next_unlabeled_part(frame_points: np.ndarray, after: int | None) -> int | None:
    """First unlabeled part after index ``after`` (wrapping around), or None if every part is labeled."""
    n = len(frame_points)
    start = -1 if after is None else after
    for k in range(1, n + 1):
        j = (start + k) % n
        if np.isnan(frame_points[j, 0]):
            return j
    return None


def labeled_counts(state: LabelerState) -> np.ndarray:
    """``(n_images,)`` number of labeled parts per image."""
    if state.points.size == 0:
        return np.zeros(len(state.images), dtype=int)
    return np.sum(~np.isnan(state.points[:, :, 0]), axis=1)


def new_state(
    bodyparts: Sequence[str],
    images: Sequence[str],
    points: np.ndarray | None,
    view: View,
    skeleton: Sequence[Sequence[str]] = (),
    readonly: bool = False,
    frame: int = 0,
    hit_radius: float = 8.0,
) -> LabelerState:
    """A state on image ``frame`` with the first unlabeled part selected."""
    bodyparts = tuple(bodyparts)
    images = tuple(images)
    if points is None:
        points = np.full((len(images), len(bodyparts), 2), np.nan)
    points = np.array(points, dtype=float)
    if points.shape != (len(images), len(bodyparts), 2):
        raise ValueError(f"points must have shape {(len(images), len(bodyparts), 2)}, got {points.shape}")
    state = LabelerState(
        bodyparts=bodyparts,
        images=images,
        points=points,
        view=view,
        skeleton=skeleton_indices(bodyparts, skeleton),
        readonly=readonly,
        hit_radius=hit_radius,
    )
    return go_to_frame(state, frame) if images else state


def _set_point(state: LabelerState, part: int, xy: tuple[float, float], record_old: bool) -> LabelerState:
    points = state.points.copy()
    old = (float(points[state.frame, part, 0]), float(points[state.frame, part, 1]))
    points[state.frame, part] = xy
    history = state.history + (Edit(state.frame, part, old),) if record_old else state.history
    return replace(state, points=points, history=history, dirty=state.dirty | {state.frame})


def _inside(state: LabelerState, x: float, y: float) -> bool:
    return 0.0 <= x <= state.view.image_w and 0.0 <= y <= state.view.image_h


def _clamp_to_image(state: LabelerState, x: float, y: float) -> tuple[float, float]:
    return float(min(max(x, 0.0), state.view.image_w)), float(min(max(y, 0.0), state.view.image_h))


# ---------------------------------------------------------------------------------------------- actions
def go_to_frame(state: LabelerState, frame: int) -> LabelerState:
    """Show image ``frame`` (clamped); select its first unlabeled part. Zoom and pan are kept."""
    if not state.images:
        return state
    frame = int(min(max(frame, 0), len(state.images) - 1))
    part = next_unlabeled_part(state.points[frame], None)
    return replace(state, frame=frame, part=part, drag=None, message="")


def select_part(state: LabelerState, part: int) -> LabelerState:
    """Make ``part`` current (the next click places it, moving it if it is labeled)."""
    if 0 <= part < len(state.bodyparts):
        return replace(state, part=int(part), message="")
    return state


def skip_part(state: LabelerState) -> LabelerState:
    """Leave the current part unlabeled (not visible) and select the next unlabeled one."""
    if state.part is None:
        return state
    nxt = next_unlabeled_part(state.current_points, state.part)
    if nxt == state.part:
        nxt = None  # only the skipped part is left unlabeled
    msg = f"Skipped {state.bodyparts[state.part]} (left unlabeled)."
    return replace(state, part=nxt, message=msg)


def place_point(state: LabelerState, part: int, x: float, y: float) -> LabelerState:
    """Put ``part`` of the current image at image pixel ``(x, y)`` (undoable) and select the next unlabeled part."""
    if state.readonly:
        return replace(
            state, message="This folder is read-only (see the message above); labels cannot change."
        )
    state = _set_point(state, part, (float(x), float(y)), record_old=True)
    nxt = next_unlabeled_part(state.current_points, part)
    return replace(state, part=nxt, message="")


def remove_point(state: LabelerState, part: int) -> LabelerState:
    """Remove ``part``'s point from the current image (undoable); that part becomes current."""
    if state.readonly or np.isnan(state.points[state.frame, part, 0]):
        return state
    state = _set_point(state, part, (math.nan, math.nan), record_old=True)
    return replace(state, part=part, message=f"Removed {state.bodyparts[part]}.")


def undo(state: LabelerState) -> LabelerState:
    """Revert the last change (going back to its image); nothing happens with an empty history."""
    if not state.history:
        return replace(state, message="Nothing to undo.")
    edit = state.history[-1]
    points = state.points.copy()
    points[edit.frame, edit.part] = edit.old
    return replace(
        state,
        points=points,
        history=state.history[:-1],
        frame=edit.frame,
        part=edit.part,
        drag=None,
        dirty=state.dirty | {edit.frame},
        message=f"Undid the change of {state.bodyparts[edit.part]}.",
    )


def add_bodyparts(
    state: LabelerState, names: Sequence[str], skeleton: Sequence[Sequence[str]] = ()
) -> LabelerState:
    """Append body parts (NaN columns for every image); existing names are ignored."""
    new = [n for n in names if n not in state.bodyparts]
    if not new:
        return state
    bodyparts = state.bodyparts + tuple(new)
    pad = np.full((state.points.shape[0], len(new), 2), np.nan)
    points = np.concatenate([state.points, pad], axis=1)
    skel = skeleton_indices(bodyparts, skeleton) if skeleton else state.skeleton
    sugg = None if state.suggestions is None else np.concatenate([state.suggestions, pad], axis=1)
    state = replace(
        state, bodyparts=bodyparts, points=points, skeleton=skel, dirty=state.dirty | {state.frame}, suggestions=sugg
    )
    return replace(state, part=next_unlabeled_part(state.current_points, None))


def hit_test(state: LabelerState, cx: float, cy: float) -> int | None:
    """The labeled part of the current image nearest to canvas point ``(cx, cy)``, within ``hit_radius``."""
    pts = state.current_points
    px, py = image_to_canvas(state.view, pts[:, 0], pts[:, 1])
    d2 = (px - cx) ** 2 + (py - cy) ** 2
    d2 = np.where(np.isnan(d2), np.inf, d2)
    if d2.size == 0:
        return None
    j = int(np.argmin(d2))
    return j if d2[j] <= state.hit_radius**2 else None


# ---------------------------------------------------------------------------------------------- suggestions
def shown_suggestions(state: LabelerState) -> np.ndarray:
    """``(n_bodyparts, 2)`` suggestions of the current image for the parts it has no label for (NaN elsewhere)."""
    if state.suggestions is None or not state.images:
        return np.full((len(state.bodyparts), 2), np.nan)
    sugg = state.suggestions[state.frame].copy()
    sugg[~np.isnan(state.current_points[:, 0])] = np.nan
    return sugg


def set_suggestions(state: LabelerState, frame: int, xy: np.ndarray | None) -> LabelerState:
    """Store suggestions ``(n_bodyparts, 2)`` (NaN = none) for image ``frame``; None clears them."""
    n_img, n_parts = len(state.images), len(state.bodyparts)
    sugg = state.suggestions.copy() if state.suggestions is not None else np.full((n_img, n_parts, 2), np.nan)
    sugg[frame] = np.nan if xy is None else np.asarray(xy, dtype=float).reshape(n_parts, -1)[:, :2]
    return replace(state, suggestions=sugg)


def accept_suggestions(state: LabelerState, parts: Sequence[int] | None = None) -> LabelerState:
    """Turn the shown suggestions of the current image (all, or ``parts``) into labels (one undo step each)."""
    if state.readonly:
        return replace(state, message="This folder is read-only (see the message above); labels cannot change.")
    sugg = shown_suggestions(state)
    todo = [p for p in (range(len(state.bodyparts)) if parts is None else parts) if not np.isnan(sugg[p, 0])]
    if not todo:
        return replace(state, message="No suggestion to accept on this image.")
    for p in todo:
        state = _set_point(state, p, (float(sugg[p, 0]), float(sugg[p, 1])), record_old=True)
    nxt = next_unlabeled_part(state.current_points, None)
    return replace(state, part=nxt, message=f"Accepted {len(todo)} suggested point(s).")


def dismiss_suggestion(state: LabelerState, part: int) -> LabelerState:
    """Drop the suggestion of ``part`` on the current image (the label, if any, is untouched)."""
    if state.suggestions is None:
        return state
    sugg = state.suggestions.copy()
    sugg[state.frame, part] = np.nan
    return replace(state, suggestions=sugg, message=f"Dismissed the suggestion for {state.bodyparts[part]}.")


def suggestion_hit(state: LabelerState, cx: float, cy: float) -> int | None:
    """The shown suggestion nearest to canvas point ``(cx, cy)``, within ``hit_radius``."""
    sugg = shown_suggestions(state)
    px, py = image_to_canvas(state.view, sugg[:, 0], sugg[:, 1])
    d2 = np.where(np.isnan(px), np.inf, (px - cx) ** 2 + (py - cy) ** 2)
    if d2.size == 0:
        return None
    j = int(np.argmin(d2))
    return j if d2[j] <= state.hit_radius**2 else None


# ---------------------------------------------------------------------------------------------- events
def _on_down(state: LabelerState, ev: CanvasEvent) -> LabelerState:
    state = replace(state, cursor=(ev.x, ev.y))
    if ev.button == 1 or (ev.button == 0 and ev.shift):
        return replace(state, drag=Drag("pan", start=(ev.x, ev.y), view=state.view))
    if state.readonly or not state.images:
        return state
    if ev.button == 2:
        hit = hit_test(state, ev.x, ev.y)
        if hit is None:
            shit = suggestion_hit(state, ev.x, ev.y)
            return dismiss_suggestion(state, shit) if shit is not None else state
        return remove_point(state, hit)
    if ev.button != 0:
        return state
    hit = None if ev.alt else hit_test(state, ev.x, ev.y)
    if hit is not None:
        old = (float(state.current_points[hit, 0]), float(state.current_points[hit, 1]))
        return replace(state, drag=Drag("point", part=hit, start=(ev.x, ev.y), old=old))
    shit = None if ev.alt else suggestion_hit(state, ev.x, ev.y)
    if shit is not None:  # accept the suggestion, and keep the button down to move it
        state = accept_suggestions(state, [shit])
        return replace(state, drag=Drag("point", part=shit, start=(ev.x, ev.y), old=(math.nan, math.nan), recorded=True))
    if state.part is None:
        return replace(
            state,
            message="Every body part of this image is labeled: drag a point to move it, or pick a part to place it again.",
        )
    x, y = canvas_to_image(state.view, ev.x, ev.y)
    if not _inside(state, x, y):
        return replace(state, message="That click is outside the image.")
    part = state.part
    old = (float(state.current_points[part, 0]), float(state.current_points[part, 1]))
    state = place_point(state, part, x, y)
    return replace(state, drag=Drag("point", part=part, start=(ev.x, ev.y), old=old, recorded=True))


def _drag_point_to(state: LabelerState, ev: CanvasEvent) -> LabelerState:
    drag = state.drag
    x, y = _clamp_to_image(state, *canvas_to_image(state.view, ev.x, ev.y))
    state = _set_point(state, drag.part, (x, y), record_old=False)
    if not drag.recorded:
        state = replace(state, history=state.history + (Edit(state.frame, drag.part, drag.old),))
        state = replace(state, drag=replace(drag, recorded=True))
    return state


def _on_move(state: LabelerState, ev: CanvasEvent) -> LabelerState:
    state = replace(state, cursor=(ev.x, ev.y))
    drag = state.drag
    if drag is None:
        return state
    if ev.buttons == 0:  # the button was released where we did not see it
        return replace(state, drag=None)
    if drag.kind == "pan":
        return replace(state, view=pan_by(drag.view, ev.x - drag.start[0], ev.y - drag.start[1]))
    moved = abs(ev.x - drag.start[0]) >= 1 or abs(ev.y - drag.start[1]) >= 1
    if not moved and not drag.recorded:
        return state
    return _drag_point_to(state, ev)


def _on_up(state: LabelerState, ev: CanvasEvent) -> LabelerState:
    state = replace(state, cursor=(ev.x, ev.y))
    drag = state.drag
    if drag is None:
        return state
    if drag.kind == "pan":
        return replace(state, view=pan_by(drag.view, ev.x - drag.start[0], ev.y - drag.start[1]), drag=None)
    moved = abs(ev.x - drag.start[0]) >= 1 or abs(ev.y - drag.start[1]) >= 1
    if moved or drag.recorded:
        state = _drag_point_to(state, ev)
    return replace(state, drag=None)


def _on_wheel(state: LabelerState, ev: CanvasEvent) -> LabelerState:
    factor = math.exp(-max(min(ev.delta, 500.0), -500.0) * WHEEL_ZOOM_RATE)
    cx = ev.x if ev.x is not None else state.view.canvas_w / 2
    cy = ev.y if ev.y is not None else state.view.canvas_h / 2
    return replace(state, view=zoom_at(state.view, cx, cy, factor), cursor=(cx, cy))


def _on_key(state: LabelerState, ev: CanvasEvent) -> LabelerState:
    key = ev.key
    n_parts = len(state.bodyparts)
    if key == "ArrowRight":
        return go_to_frame(state, state.frame + 1)
    if key == "ArrowLeft":
        return go_to_frame(state, state.frame - 1)
    if key == "Home":
        return go_to_frame(state, 0)
    if key == "End":
        return go_to_frame(state, len(state.images) - 1)
    if key in ("ArrowDown", "ArrowUp") and n_parts:
        cur = -1 if state.part is None else state.part
        step = 1 if key == "ArrowDown" else -1
        if state.part is None and step < 0:
            cur = 0
        return select_part(state, (cur + step) % n_parts)
    if len(key) == 1 and key.isdigit() and not (ev.ctrl or ev.meta):
        idx = (int(key) - 1) % 10
        if idx < n_parts:
            return select_part(state, idx)
        return state
    if (key.lower() == "z" and (ev.ctrl or ev.meta)) or key == "u":
        return undo(state)
    if key == "Enter":
        return accept_suggestions(state)
    if key in ("Delete", "Backspace"):
        hit = hit_test(state, *state.cursor) if state.cursor is not None else None
        shit = suggestion_hit(state, *state.cursor) if state.cursor is not None and hit is None else None
        if shit is not None:
            return dismiss_suggestion(state, shit)
        if hit is None and state.part is not None:
            hit = state.part
        return remove_point(state, hit) if hit is not None else state
    if key == " ":
        return skip_part(state)
    if key == "Escape" and state.drag is not None:
        drag = state.drag
        if drag.kind == "point" and drag.recorded:
            state = _set_point(state, drag.part, drag.old, record_old=False)
            state = replace(state, history=state.history[:-1])
        return replace(state, drag=None)
    if key in ("+", "=", "-", "_"):
        factor = KEY_ZOOM if key in ("+", "=") else 1 / KEY_ZOOM
        cx, cy = (
            state.cursor if state.cursor is not None else (state.view.canvas_w / 2, state.view.canvas_h / 2)
        )
        return replace(state, view=zoom_at(state.view, cx, cy, factor))
    if key in ("r", "R"):
        from posenb.widgets._canvas import fit_view

        v = state.view
        return replace(state, view=fit_view(v.image_w, v.image_h, v.canvas_w, v.canvas_h))
    return state


def handle_event(state: LabelerState, ev: CanvasEvent) -> LabelerState:
    """Apply one mouse or key event; returns the new state (the input is never modified)."""
    if ev.kind == "down" and ev.x is not None:
        return _on_down(state, ev)
    if ev.kind == "move" and ev.x is not None:
        return _on_move(state, ev)
    if ev.kind == "up" and ev.x is not None:
        return _on_up(state, ev)
    if ev.kind == "wheel":
        return _on_wheel(state, ev)
    if ev.kind == "leave":
        return replace(
            state, cursor=None, drag=None if (state.drag and state.drag.kind == "pan") else state.drag
        )
    if ev.kind == "key":
        return _on_key(state, ev)
    return state


# ---------------------------------------------------------------------------------------------- drawing
@dataclass(frozen=True, eq=False)
class PointsDrawing:
    """What the points layer shows, in canvas pixels.

    ``xy``: ``(n, 2)`` centres of the labeled points; ``parts``: ``(n,)`` their body-part indices;
    ``colors``: ``(n, 3)`` uint8 RGB; ``segments``: ``(m, 2, 2)`` skeleton bones whose two ends are labeled;
    ``highlight``: ``(2,)`` centre of the current part's point (None if unlabeled or no current part);
    ``suggested_xy`` ``(s, 2)``, ``suggested_parts`` ``(s,)``, ``suggested_colors`` ``(s, 3)``: the suggestions
    shown (hollow markers) for unlabeled parts.
    """

    xy: np.ndarray
    parts: np.ndarray
    colors: np.ndarray
    segments: np.ndarray
    highlight: np.ndarray | None
    suggested_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    suggested_parts: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    suggested_colors: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.uint8))


def draw_points(state: LabelerState, colors: np.ndarray) -> PointsDrawing:
    """The points and skeleton of the current image in canvas coordinates (``colors``: ``(n_bodyparts, 3)``)."""
    if not state.images:
        empty = np.zeros((0, 2))
        return PointsDrawing(empty, np.zeros(0, int), np.zeros((0, 3), np.uint8), np.zeros((0, 2, 2)), None)
    pts = state.current_points
    cx, cy = image_to_canvas(state.view, pts[:, 0], pts[:, 1])
    canvas_pts = np.stack([cx, cy], axis=1)
    labeled = ~np.isnan(pts[:, 0])
    parts = np.flatnonzero(labeled)
    segs = [(canvas_pts[a], canvas_pts[b]) for a, b in state.skeleton if labeled[a] and labeled[b]]
    segments = np.array(segs, dtype=float).reshape(-1, 2, 2)
    highlight = None
    if state.part is not None and labeled[state.part]:
        highlight = canvas_pts[state.part]
    colors = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
    sugg = shown_suggestions(state)
    sparts = np.flatnonzero(~np.isnan(sugg[:, 0]))
    sx, sy = image_to_canvas(state.view, sugg[sparts, 0], sugg[sparts, 1])
    return PointsDrawing(
        canvas_pts[parts],
        parts,
        colors[parts],
        segments,
        highlight,
        np.stack([sx, sy], axis=1).reshape(-1, 2),
        sparts,
        colors[sparts],
    )
