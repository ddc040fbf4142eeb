"""The labeler's state, event handlers and drawing, as pure functions (no Jupyter import).

One import for the labeler and the panels built on it (refiner); each concept has its own module:

- :mod:`posenb.widgets.labeler_layout`: the *slots* of a frame -- the body parts of a single animal, or every
  individual's parts then the unique parts of a multi-animal project -- and their colours;
- :mod:`posenb.widgets.labeler_model`: :class:`LabelerState` (``(n_images, n_slots, 2)`` points, current image
  and slot, view, undo history, dirty images) and the basic actions (place, remove, skip, undo, go to image), with
  the rule of which part comes next (``advance``: ``"next"`` continues with the next individual after the last
  part of one, ``"stay"`` stays on the individual);
- :mod:`posenb.widgets.labeler_animals`: pick an individual, copy the previous labeled image's animals, swap two
  individuals on an image;
- :mod:`posenb.widgets.labeler_suggest`: the model's suggestions (hollow markers) accepted, moved, dismissed;
- :mod:`posenb.widgets.labeler_events`: (state, :class:`~posenb.widgets._canvas.CanvasEvent`) -> state, the
  mouse and key bindings (listed in :data:`HELP_TEXT`);
- :mod:`posenb.widgets.labeler_draw`: :func:`draw_points`, a state turned into canvas-pixel arrays.
"""

from __future__ import annotations

from posenb.post.skeleton import skeleton_indices  # noqa: F401 - re-exported (the labeler's skeleton)
from posenb.widgets.labeler_animals import (
    copy_previous_animals,
    cycle_individual,
    group_index,
    select_group_part,
    select_individual,
    set_advance,
    swap_individuals,
)
from posenb.widgets.labeler_draw import PointsDrawing, draw_points
from posenb.widgets.labeler_events import KEY_ZOOM, WHEEL_ZOOM_RATE, handle_event
from posenb.widgets.labeler_layout import SlotLayout, layout_from_parts, single_layout, slot_colors
from posenb.widgets.labeler_model import (
    ADVANCE_MODES,
    BulkEdit,
    Drag,
    Edit,
    LabelerState,
    add_bodyparts,
    go_to_frame,
    hit_test,
    labeled_counts,
    new_state,
    next_part,
    next_unlabeled_part,
    place_point,
    remove_point,
    select_part,
    set_points,
    skip_part,
    undo,
)
from posenb.widgets.labeler_suggest import (
    accept_suggestions,
    dismiss_suggestion,
    set_suggestions,
    shown_suggestions,
    suggestion_hit,
)

__all__ = [
    "ADVANCE_MODES",
    "KEY_ZOOM",
    "WHEEL_ZOOM_RATE",
    "Edit",
    "BulkEdit",
    "Drag",
    "LabelerState",
    "SlotLayout",
    "single_layout",
    "layout_from_parts",
    "slot_colors",
    "new_state",
    "handle_event",
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
    "PointsDrawing",
    "draw_points",
    "skeleton_indices",
    "set_suggestions",
    "accept_suggestions",
    "dismiss_suggestion",
    "suggestion_hit",
    "shown_suggestions",
    "select_individual",
    "cycle_individual",
    "select_group_part",
    "copy_previous_animals",
    "swap_individuals",
    "set_advance",
    "group_index",
    "HELP_TEXT",
    "MULTIANIMAL_HELP",
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

MULTIANIMAL_HELP = """\
<b>Several animals</b>: pick the individual with its button, or <b>Tab</b>/<b>i</b> (next) and
<b>Shift-Tab</b>/<b>I</b> (previous); the part buttons, digits and &uarr;/&darr; then pick that individual's parts.
After an individual's last part the labeler goes on with the next individual ("Then: next individual"), or stays
on it ("Then: stay"). <b>single</b> holds the unique parts, labeled once per image. <b>c</b> (Copy previous)
copies the animals of the previous labeled image into this one's unlabeled parts, to drag into place;
<b>x</b> (Swap) exchanges the current individual's points with the next individual's on this image (the button
swaps with the one chosen beside it). Colours: one per individual, or one per body part (then every animal's
skeleton has its individual's colour). Undo reverts a copy or a swap in one step.<br>
"""
