"""The labeler's state and its basic actions, as pure functions (no Jupyter import).

:class:`LabelerState` holds the points of every image as ``(n_images, n_slots, 2)`` float64 image pixels (NaN =
not labeled); a slot is a body part of one individual (:mod:`posenb.widgets.labeler_layout`: for a single-animal
project the slots are the body parts). Every action takes a state and returns a new one; the input is never
modified. Event handling lives in :mod:`posenb.widgets.labeler_events`, suggestions in
:mod:`posenb.widgets.labeler_suggest`, multi-animal actions in :mod:`posenb.widgets.labeler_animals`, drawing in
:mod:`posenb.widgets.labeler_draw`; :mod:`posenb.widgets.labeler_state` gathers them.

Which part comes next (``advance``) once a point is placed:

- ``"next"`` (default): the next unlabeled slot in order, so after the last part of an individual the labeler
  continues with the next individual's first unlabeled part (wrapping around; the unique parts come last). On a
  new image, the first unlabeled slot of the first individual that has one.
- ``"stay"``: the next unlabeled part of the *same* individual (wrapping within it); when all of its parts are
  labeled no part is selected, and the user picks the next individual (a button, Tab or ``i``). On a new image,
  the first unlabeled part of the current individual.

A single-animal project has one group, so both rules are the labeler's usual one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from posenb.post.skeleton import skeleton_indices
from posenb.widgets._canvas import View, image_to_canvas
from posenb.widgets.labeler_layout import SlotLayout, single_layout

__all__ = [
    "ADVANCE_MODES",
    "Edit",
    "BulkEdit",
    "Drag",
    "LabelerState",
    "new_state",
    "go_to_frame",
    "select_part",
    "skip_part",
    "place_point",
    "remove_point",
    "set_points",
    "undo",
    "add_bodyparts",
    "hit_test",
    "next_unlabeled_part",
    "next_part",
    "labeled_counts",
    "READONLY_MESSAGE",
]

ADVANCE_MODES = ("next", "stay")
READONLY_MESSAGE = "This folder is read-only (see the message above); labels cannot change."


@dataclass(frozen=True)
class Edit:
    """One undoable change: the point of slot ``part`` in image ``frame`` was ``old`` (NaN, NaN if unlabeled)."""

    frame: int
    part: int
    old: tuple[float, float]


@dataclass(frozen=True)
class BulkEdit:
    """One undoable change of several slots of image ``frame`` (copy from another image, swap of individuals):
    slot ``parts[k]`` was ``old[k]``; ``what`` names the change for the undo message."""

    frame: int
    parts: tuple[int, ...]
    old: tuple[tuple[float, float], ...]
    what: str = "change"


@dataclass(frozen=True)
class Drag:
    """A drag in progress: ``kind`` ``"point"`` (moving slot ``part``) or ``"pan"``.

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
    """Everything the labeler shows.

    ``bodyparts``: the name of every slot (the body parts of a single-animal project, ``"<individual> <part>"``
    otherwise); ``points``: ``(n_images, n_slots, 2)`` float64 image pixels (NaN = not labeled); ``part``: the
    current slot, or None when there is none to place (a click on empty image then does nothing); ``group``: the
    current individual (index into ``layout.groups``); ``advance``: ``"next"`` or ``"stay"`` (module
    docstring); ``cursor``: last pointer position in canvas pixels (None when outside); ``dirty``: images changed
    since the last save; ``hit_radius``: canvas pixels within which a press grabs a point; ``suggestions``:
    ``(n_images, n_slots, 2)`` suggested x/y (NaN = none) or None.
    """

    bodyparts: tuple[str, ...]
    images: tuple[str, ...]
    points: np.ndarray
    view: View
    skeleton: tuple[tuple[int, int], ...] = ()
    frame: int = 0
    part: int | None = 0
    drag: Drag | None = None
    history: tuple[Edit | BulkEdit, ...] = ()
    dirty: frozenset = field(default_factory=frozenset)
    cursor: tuple[float, float] | None = None
    message: str = ""
    readonly: bool = False
    hit_radius: float = 8.0
    suggestions: np.ndarray | None = None
    layout: SlotLayout | None = None
    group: int = 0
    advance: str = "next"

    @property
    def n_images(self) -> int:
        return len(self.images)

    @property
    def current_points(self) -> np.ndarray:
        """``(n_slots, 2)`` points of the current image."""
        return self.points[self.frame]

    @property
    def slots(self) -> SlotLayout:
        """The slot layout (a single-animal one when none was given)."""
        return self.layout if self.layout is not None else single_layout(self.bodyparts)


# ---------------------------------------------------------------------------------------------- helpers
def next_unlabeled_part(frame_points: np.ndarray, after: int | None) -> int | None:
    """First unlabeled slot after index ``after`` (wrapping around), or None if every slot is labeled."""
    n = len(frame_points)
    start = -1 if after is None else after
    for k in range(1, n + 1):
        j = (start + k) % n
        if np.isnan(frame_points[j, 0]):
            return j
    return None


def next_part(state: LabelerState, after: int | None) -> int | None:
    """The slot to select after ``after`` (None: on arriving at an image) under ``state.advance``."""
    pts = state.current_points
    layout = state.slots
    if not layout.multianimal or state.advance != "stay":
        return next_unlabeled_part(pts, after)
    group = state.group if after is None else int(layout.slot_group[after])
    slots = layout.group_slots(group)
    sub = next_unlabeled_part(pts[slots.start : slots.stop], None if after is None else after - slots.start)
    return None if sub is None else slots.start + sub


def labeled_counts(state: LabelerState) -> np.ndarray:
    """``(n_images,)`` number of labeled slots per image."""
    if state.points.size == 0:
        return np.zeros(len(state.images), dtype=int)
    return np.sum(~np.isnan(state.points[:, :, 0]), axis=1)


def _select(state: LabelerState, part: int | None, **changes) -> LabelerState:
    """``state`` with slot ``part`` current (its individual too)."""
    group = state.group if part is None else int(state.slots.slot_group[part])
    return replace(state, part=part, group=group, **changes)


def new_state(
    bodyparts: Sequence[str],
    images: Sequence[str],
    points: np.ndarray | None,
    view: View,
    skeleton: Sequence[Sequence[str]] = (),
    readonly: bool = False,
    frame: int = 0,
    hit_radius: float = 8.0,
    layout: SlotLayout | None = None,
    advance: str = "next",
) -> LabelerState:
    """A state on image ``frame`` with the first unlabeled slot selected.

    ``layout`` None: a single-animal project whose slots are ``bodyparts``. With a layout, ``bodyparts`` is
    ignored (the slots are named by the layout) and ``skeleton`` joins the parts of every individual.
    """
    if advance not in ADVANCE_MODES:
        raise ValueError(f"advance {advance!r}: use one of {ADVANCE_MODES}")
    layout = layout if layout is not None else single_layout(bodyparts)
    bodyparts = layout.slot_names
    images = tuple(images)
    if points is None:
        points = np.full((len(images), len(bodyparts), 2), np.nan)
    points = np.array(points, dtype=float)
    if points.shape != (len(images), len(bodyparts), 2):
        raise ValueError(f"points must have shape {(len(images), len(bodyparts), 2)}, got {points.shape}")
    bones = layout.skeleton_slots(skeleton) if layout.multianimal else skeleton_indices(bodyparts, skeleton)
    state = LabelerState(
        bodyparts=bodyparts,
        images=images,
        points=points,
        view=view,
        skeleton=bones,
        readonly=readonly,
        hit_radius=hit_radius,
        layout=layout,
        advance=advance,
    )
    return go_to_frame(state, frame) if images else state


def _set_point(state: LabelerState, part: int, xy: tuple[float, float], record_old: bool) -> LabelerState:
    points = state.points.copy()
    old = (float(points[state.frame, part, 0]), float(points[state.frame, part, 1]))
    points[state.frame, part] = xy
    history = state.history + (Edit(state.frame, part, old),) if record_old else state.history
    return replace(state, points=points, history=history, dirty=state.dirty | {state.frame})


def set_points(state: LabelerState, parts: Sequence[int], xy: np.ndarray, what: str) -> LabelerState:
    """Set slots ``parts`` of the current image to ``xy`` (``(len(parts), 2)``) as ONE undo step named ``what``."""
    parts = tuple(int(p) for p in parts)
    if not parts:
        return state
    points = state.points.copy()
    old = tuple((float(x), float(y)) for x, y in points[state.frame, list(parts)])
    points[state.frame, list(parts)] = np.asarray(xy, dtype=float).reshape(len(parts), 2)
    edit = BulkEdit(state.frame, parts, old, what)
    return replace(state, points=points, history=state.history + (edit,), dirty=state.dirty | {state.frame})


# ---------------------------------------------------------------------------------------------- actions
def go_to_frame(state: LabelerState, frame: int) -> LabelerState:
    """Show image ``frame`` (clamped) and select the slot to start with (module docstring). Zoom and pan are kept."""
    if not state.images:
        return state
    frame = int(min(max(frame, 0), len(state.images) - 1))
    state = replace(state, frame=frame, drag=None, message="")
    return _select(state, next_part(state, None))


def select_part(state: LabelerState, part: int) -> LabelerState:
    """Make slot ``part`` current (the next click places it, moving it if it is labeled)."""
    if 0 <= part < len(state.bodyparts):
        return _select(state, int(part), message="")
    return state


def skip_part(state: LabelerState) -> LabelerState:
    """Leave the current slot unlabeled (not visible) and select the next one to place."""
    if state.part is None:
        return state
    nxt = next_part(state, state.part)
    if nxt == state.part:
        nxt = None  # only the skipped part is left unlabeled
    return _select(state, nxt, message=f"Skipped {state.bodyparts[state.part]} (left unlabeled).")


def place_point(state: LabelerState, part: int, x: float, y: float) -> LabelerState:
    """Put slot ``part`` of the current image at image pixel ``(x, y)`` (undoable) and select the next slot."""
    if state.readonly:
        return replace(state, message=READONLY_MESSAGE)
    state = _set_point(state, part, (float(x), float(y)), record_old=True)
    state = replace(state, group=int(state.slots.slot_group[part]))
    return _select(state, next_part(state, part), message="")


def remove_point(state: LabelerState, part: int) -> LabelerState:
    """Remove slot ``part``'s point from the current image (undoable); that slot becomes current."""
    if state.readonly or np.isnan(state.points[state.frame, part, 0]):
        return state
    state = _set_point(state, part, (math.nan, math.nan), record_old=True)
    return _select(state, part, message=f"Removed {state.bodyparts[part]}.")


def undo(state: LabelerState) -> LabelerState:
    """Revert the last change (going back to its image); nothing happens with an empty history."""
    if not state.history:
        return replace(state, message="Nothing to undo.")
    edit = state.history[-1]
    points = state.points.copy()
    if isinstance(edit, BulkEdit):
        points[edit.frame, list(edit.parts)] = edit.old
        part, what = edit.parts[0], edit.what
    else:
        points[edit.frame, edit.part] = edit.old
        part, what = edit.part, f"the change of {state.bodyparts[edit.part]}"
    state = replace(
        state,
        points=points,
        history=state.history[:-1],
        frame=edit.frame,
        drag=None,
        dirty=state.dirty | {edit.frame},
    )
    return _select(state, part, message=f"Undid {what}.")


def add_bodyparts(
    state: LabelerState, names: Sequence[str], skeleton: Sequence[Sequence[str]] = ()
) -> LabelerState:
    """Append body parts (NaN columns for every image); existing names are ignored. Single-animal projects only
    (a multi-animal project's parts are edited in config.yaml): the state is returned with a message."""
    if state.slots.multianimal:
        return replace(
            state, message="Add body parts of a multi-animal project in config.yaml (multianimalbodyparts)."
        )
    new = [n for n in names if n not in state.bodyparts]
    if not new:
        return state
    bodyparts = state.bodyparts + tuple(new)
    pad = np.full((state.points.shape[0], len(new), 2), np.nan)
    points = np.concatenate([state.points, pad], axis=1)
    skel = skeleton_indices(bodyparts, skeleton) if skeleton else state.skeleton
    sugg = None if state.suggestions is None else np.concatenate([state.suggestions, pad], axis=1)
    state = replace(
        state,
        bodyparts=bodyparts,
        points=points,
        skeleton=skel,
        dirty=state.dirty | {state.frame},
        suggestions=sugg,
        layout=single_layout(bodyparts),
    )
    return _select(state, next_unlabeled_part(state.current_points, None))


def hit_test(state: LabelerState, cx: float, cy: float) -> int | None:
    """The labeled slot of the current image nearest to canvas point ``(cx, cy)``, within ``hit_radius``."""
    pts = state.current_points
    px, py = image_to_canvas(state.view, pts[:, 0], pts[:, 1])
    d2 = (px - cx) ** 2 + (py - cy) ** 2
    d2 = np.where(np.isnan(d2), np.inf, d2)
    if d2.size == 0:
        return None
    j = int(np.argmin(d2))
    return j if d2[j] <= state.hit_radius**2 else None
