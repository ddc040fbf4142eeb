"""The labeler's mouse and key handling: (state, :class:`~posenb.widgets._canvas.CanvasEvent`) -> state.

Pure functions (no Jupyter import), tested with fabricated events; napari-style bindings:

- left press on empty image: place the current slot there and advance (``state.advance``); the press starts a
  drag, so keeping the button down and moving fine-tunes the point;
- left press on a point (within ``hit_radius`` canvas pixels, any individual's): drag it (Alt forces placing);
- right press on a point: remove it; a press on a suggestion accepts it (right press: dismisses it);
- shift + left drag, or middle drag: pan; wheel: zoom centred on the cursor;
- keys: arrows left/right previous/next image, up/down previous/next part of the current individual, digits
  pick a part of it (``0`` = 10th), Ctrl-Z / ``u`` undo, Delete / Backspace remove the point under the cursor
  (else the current part's), Space skip the current part, Enter accept suggestions, ``+`` / ``-`` zoom, ``r``
  reset the view, Escape cancel a drag, Home / End first / last image;
- multi-animal projects only: Tab / ``i`` next individual, Shift-Tab / ``I`` previous one, ``c`` copy the
  previous labeled image's animals, ``x`` swap the current individual with the next one.
"""

from __future__ import annotations

import math
from dataclasses import replace

from posenb.widgets._canvas import CanvasEvent, canvas_to_image, fit_view, pan_by, zoom_at
from posenb.widgets.labeler_animals import (
    copy_previous_animals,
    cycle_individual,
    select_group_part,
    swap_individuals,
)
from posenb.widgets.labeler_model import (
    Drag,
    Edit,
    LabelerState,
    _set_point,
    go_to_frame,
    hit_test,
    place_point,
    remove_point,
    skip_part,
    undo,
)
from posenb.widgets.labeler_suggest import accept_suggestions, dismiss_suggestion, suggestion_hit

__all__ = ["handle_event", "WHEEL_ZOOM_RATE", "KEY_ZOOM"]

WHEEL_ZOOM_RATE = 0.002  # zoom factor exp(-deltaY * rate): one mouse notch (deltaY 100) = x1.22
KEY_ZOOM = 1.25


def _inside(state: LabelerState, x: float, y: float) -> bool:
    return 0.0 <= x <= state.view.image_w and 0.0 <= y <= state.view.image_h


def _clamp_to_image(state: LabelerState, x: float, y: float) -> tuple[float, float]:
    return float(min(max(x, 0.0), state.view.image_w)), float(min(max(y, 0.0), state.view.image_h))


def _nothing_to_place(state: LabelerState) -> str:
    layout = state.slots
    if layout.multianimal and state.advance == "stay":
        who = layout.groups[state.group]
        return f"Every body part of {who} is labeled on this image: pick another individual (Tab), or drag a point."
    return (
        "Every body part of this image is labeled: drag a point to move it, or pick a part to place it again."
    )


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
        drag = Drag("point", part=shit, start=(ev.x, ev.y), old=(math.nan, math.nan), recorded=True)
        return replace(state, drag=drag)
    if state.part is None:
        return replace(state, message=_nothing_to_place(state))
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


# ---------------------------------------------------------------------------------------------- keys
def _nav_key(state: LabelerState, ev: CanvasEvent) -> LabelerState | None:
    """Image changes, zoom and view keys; None when ``ev`` is not one of them."""
    key = ev.key
    target = {
        "ArrowRight": state.frame + 1,
        "ArrowLeft": state.frame - 1,
        "Home": 0,
        "End": len(state.images) - 1,
    }
    if key in target:
        return go_to_frame(state, target[key])
    if key in ("+", "=", "-", "_"):
        factor = KEY_ZOOM if key in ("+", "=") else 1 / KEY_ZOOM
        v = state.view
        cx, cy = state.cursor if state.cursor is not None else (v.canvas_w / 2, v.canvas_h / 2)
        return replace(state, view=zoom_at(v, cx, cy, factor))
    if key in ("r", "R"):
        v = state.view
        return replace(state, view=fit_view(v.image_w, v.image_h, v.canvas_w, v.canvas_h))
    return None


def _part_key(state: LabelerState, ev: CanvasEvent) -> LabelerState | None:
    """Keys picking a part of the current individual; None when ``ev`` is not one of them."""
    key = ev.key
    slots = state.slots.group_slots(state.group)
    n_parts = len(slots)
    if key in ("ArrowDown", "ArrowUp"):
        if not n_parts:
            return state
        cur = -1 if state.part is None or state.part not in slots else state.part - slots.start
        step = 1 if key == "ArrowDown" else -1
        if cur == -1 and step < 0:
            cur = 0
        return select_group_part(state, (cur + step) % n_parts)
    if len(key) == 1 and key.isdigit() and not (ev.ctrl or ev.meta):
        idx = (int(key) - 1) % 10
        return select_group_part(state, idx) if idx < n_parts else state
    if key == " ":
        return skip_part(state)
    return None


def _animal_key(state: LabelerState, ev: CanvasEvent) -> LabelerState | None:
    """Multi-animal keys (Tab / i, Shift-Tab / I, c, x); None when ``ev`` is not one or the project has one animal."""
    layout = state.slots
    if not layout.multianimal or ev.ctrl or ev.meta or ev.alt:
        return None
    key = ev.key
    if key in ("Tab", "i", "I"):
        return cycle_individual(state, -1 if (ev.shift and key == "Tab") or key == "I" else 1)
    if key == "c":
        return copy_previous_animals(state)
    if key == "x":
        n_ind = len(layout.individuals)
        if state.group >= n_ind:
            return replace(state, message="Pick an individual to swap (the unique parts cannot be swapped).")
        return swap_individuals(state, state.group, (state.group + 1) % n_ind)
    return None


def _edit_key(state: LabelerState, ev: CanvasEvent) -> LabelerState | None:
    """Undo, accept, delete and Escape; None when ``ev`` is not one of them."""
    key = ev.key
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
    if key == "Escape" and state.drag is not None:
        drag = state.drag
        if drag.kind == "point" and drag.recorded:
            state = _set_point(state, drag.part, drag.old, record_old=False)
            state = replace(state, history=state.history[:-1])
        return replace(state, drag=None)
    return None


def _on_key(state: LabelerState, ev: CanvasEvent) -> LabelerState:
    for handler in (_nav_key, _animal_key, _part_key, _edit_key):
        new = handler(state, ev)
        if new is not None:
            return new
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
