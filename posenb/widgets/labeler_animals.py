"""Multi-animal actions of the labeler (pure functions on :class:`~posenb.widgets.labeler_model.LabelerState`).

- :func:`select_individual` / :func:`cycle_individual`: make an individual (or ``"single"``, the unique parts)
  current; its first unlabeled part is selected (its first part when all are labeled).
- :func:`select_group_part`: pick the ``k``-th body part of the current individual (digit keys, part buttons).
- :func:`copy_previous_animals`: fill the current image's unlabeled slots from the nearest earlier image that
  has labels (every individual and the unique parts), as a starting point to drag from. One undo step.
- :func:`swap_individuals`: exchange two individuals' points on the current image (a wrong identity fixed in one
  go). One undo step.
- :func:`set_advance`: ``"next"`` or ``"stay"`` (see :mod:`posenb.widgets.labeler_model`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from posenb.widgets.labeler_model import (
    ADVANCE_MODES,
    READONLY_MESSAGE,
    LabelerState,
    _select,
    next_unlabeled_part,
    set_points,
)

__all__ = [
    "select_individual",
    "cycle_individual",
    "select_group_part",
    "copy_previous_animals",
    "swap_individuals",
    "set_advance",
    "group_index",
]


def group_index(state: LabelerState, name_or_index) -> int:
    """Index of an individual (or ``"single"``) given by name or index; ValueError when unknown."""
    groups = state.slots.groups
    if isinstance(name_or_index, str):
        if name_or_index not in groups:
            raise ValueError(f"unknown individual {name_or_index!r}; the project has {list(groups)}")
        return groups.index(name_or_index)
    index = int(name_or_index)
    if not 0 <= index < len(groups):
        raise ValueError(f"individual index {index} out of range (0..{len(groups) - 1})")
    return index


def select_individual(state: LabelerState, group: int) -> LabelerState:
    """Make individual ``group`` current and select its first unlabeled part (its first part if all labeled)."""
    layout = state.slots
    if not 0 <= group < len(layout.groups):
        return state
    slots = layout.group_slots(group)
    if not len(slots):
        return replace(state, group=group)
    pts = state.current_points[slots.start : slots.stop] if state.images else np.zeros((0, 2))
    sub = next_unlabeled_part(pts, None) if len(pts) else None
    return _select(replace(state, group=group), slots.start + (0 if sub is None else sub), message="")


def cycle_individual(state: LabelerState, step: int = 1) -> LabelerState:
    """The next (``step=1``) or previous (``-1``) individual, wrapping around (``"single"`` included)."""
    n = len(state.slots.groups)
    return select_individual(state, (state.group + step) % n) if n > 1 else state


def select_group_part(state: LabelerState, k: int) -> LabelerState:
    """Make the ``k``-th body part of the current individual current (nothing happens if it has none)."""
    slots = state.slots.group_slots(state.group)
    if 0 <= k < len(slots):
        return _select(state, slots.start + k, message="")
    return state


def copy_previous_animals(state: LabelerState) -> LabelerState:
    """Copy the points of the nearest earlier image with labels into the current image's unlabeled slots.

    Labeled slots of the current image are kept. One undo step; the next unlabeled slot is selected after it.
    """
    if state.readonly:
        return replace(state, message=READONLY_MESSAGE)
    labeled = ~np.isnan(state.points[: state.frame, :, 0])
    earlier = np.flatnonzero(labeled.any(axis=1))
    if not len(earlier):
        return replace(state, message="No earlier image has labels to copy.")
    src = int(earlier[-1])
    todo = np.flatnonzero(labeled[src] & np.isnan(state.current_points[:, 0]))
    if not len(todo):
        return replace(
            state, message=f"Nothing to copy from {state.images[src]}: those points are labeled here."
        )
    state = set_points(state, todo, state.points[src, todo], f"the copy from {state.images[src]}")
    nxt = next_unlabeled_part(state.current_points, None)
    msg = f"Copied {len(todo)} point(s) from {state.images[src]}: drag them onto the animals, or undo."
    return _select(state, nxt, message=msg)


def swap_individuals(state: LabelerState, a: int, b: int) -> LabelerState:
    """Exchange the points of individuals ``a`` and ``b`` (group indices) on the current image. One undo step.

    Only individuals can be swapped (not ``"single"``: the unique parts are not an animal)."""
    layout = state.slots
    if state.readonly:
        return replace(state, message=READONLY_MESSAGE)
    n_ind = len(layout.individuals)
    if not (0 <= a < n_ind and 0 <= b < n_ind) or a == b:
        return replace(state, message="Pick two different individuals to swap.")
    sa, sb = layout.group_slots(a), layout.group_slots(b)
    parts = list(sa) + list(sb)
    pts = state.current_points
    if np.isnan(pts[parts, 0]).all():
        return replace(state, message="Neither individual is labeled on this image: nothing to swap.")
    xy = np.concatenate([pts[sb.start : sb.stop], pts[sa.start : sa.stop]], axis=0)
    names = layout.groups[a], layout.groups[b]
    state = set_points(state, parts, xy, f"the swap of {names[0]} and {names[1]}")
    return replace(state, message=f"Swapped {names[0]} and {names[1]} on {state.images[state.frame]}.")


def set_advance(state: LabelerState, advance: str) -> LabelerState:
    """``"next"``: continue with the next individual after the last part; ``"stay"``: stay on the individual."""
    if advance not in ADVANCE_MODES:
        raise ValueError(f"advance {advance!r}: use one of {ADVANCE_MODES}")
    return replace(state, advance=advance)
