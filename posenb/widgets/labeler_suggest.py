"""Suggestions in the labeler's state (pure functions, no Jupyter import).

Suggestions (the model's predictions, or points carried forward from a nearby labeled frame) are kept apart from
the labels in ``state.suggestions`` (``(n_images, n_slots, 2)``, NaN = none) and shown as hollow markers for the
slots that are not labeled: Enter (or :func:`accept_suggestions`) accepts them all, a press on one accepts it and
starts dragging it, right-click or Delete on one dismisses it. Accepted points are ordinary labels (undoable,
saved as human labels). In a multi-animal project the slots are the individuals' parts then the unique parts,
so the same functions accept, move and dismiss the multi-animal model's suggestions one slot at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from posenb.widgets._canvas import image_to_canvas
from posenb.widgets.labeler_model import READONLY_MESSAGE, LabelerState, _select, _set_point, next_part

__all__ = [
    "set_suggestions",
    "clear_suggestions",
    "accept_suggestions",
    "dismiss_suggestion",
    "suggestion_hit",
    "shown_suggestions",
]


def shown_suggestions(state: LabelerState) -> np.ndarray:
    """``(n_slots, 2)`` suggestions of the current image for the slots it has no label for (NaN elsewhere)."""
    if state.suggestions is None or not state.images:
        return np.full((len(state.bodyparts), 2), np.nan)
    sugg = state.suggestions[state.frame].copy()
    sugg[~np.isnan(state.current_points[:, 0])] = np.nan
    return sugg


def set_suggestions(state: LabelerState, frame: int, xy: np.ndarray | None) -> LabelerState:
    """Store suggestions ``(n_slots, 2)`` (NaN = none) for image ``frame``; None clears them."""
    n_img, n_parts = len(state.images), len(state.bodyparts)
    sugg = state.suggestions.copy() if state.suggestions is not None else np.full((n_img, n_parts, 2), np.nan)
    sugg[frame] = np.nan if xy is None else np.asarray(xy, dtype=float).reshape(n_parts, -1)[:, :2]
    return replace(state, suggestions=sugg)


def clear_suggestions(state: LabelerState, frames) -> LabelerState:
    """Drop the suggestions of images ``frames`` (e.g. after the model was updated: they are asked again)."""
    if state.suggestions is None:
        return state
    sugg = state.suggestions.copy()
    sugg[list(frames)] = np.nan
    return replace(state, suggestions=sugg)


def accept_suggestions(state: LabelerState, parts: Sequence[int] | None = None) -> LabelerState:
    """Turn the shown suggestions of the current image (all, or ``parts``) into labels (one undo step each)."""
    if state.readonly:
        return replace(state, message=READONLY_MESSAGE)
    sugg = shown_suggestions(state)
    todo = [p for p in (range(len(state.bodyparts)) if parts is None else parts) if not np.isnan(sugg[p, 0])]
    if not todo:
        return replace(state, message="No suggestion to accept on this image.")
    for p in todo:
        state = _set_point(state, p, (float(sugg[p, 0]), float(sugg[p, 1])), record_old=True)
    return _select(state, next_part(state, None), message=f"Accepted {len(todo)} suggested point(s).")


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
