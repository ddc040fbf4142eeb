"""The labeler's status line and its hidden view record, as pure functions of the state (no Jupyter import)."""

from __future__ import annotations

import html
import json

import numpy as np

from posenb.widgets.labeler_model import LabelerState, labeled_counts
from posenb.widgets.labeler_suggest import shown_suggestions

__all__ = ["status_html", "view_json", "unsaved_note"]


def unsaved_note(state: LabelerState) -> str:
    """`` · unsaved`` for an image with changes not yet written (other changed images are counted)."""
    if not state.dirty:
        return ""
    if state.frame in state.dirty:
        others = len(state.dirty) - 1
        return " · <i>unsaved</i>" + (f" (+{others} other image(s))" if others else "")
    return f" · <i>unsaved changes on {len(state.dirty)} other image(s)</i>"


def status_html(state: LabelerState, extra: str = "") -> str:
    """``img.png (k/n) · labeled/slots parts · images labeled · current part · zoom`` (+ unsaved, + ``extra``)."""
    s = state
    if not s.images:
        return ""
    counts = labeled_counts(s)
    n_done = int(np.sum(counts > 0))
    part = s.bodyparts[s.part] if s.part is not None else "(all labeled)"
    return (
        f"<b>{html.escape(s.images[s.frame])}</b> ({s.frame + 1}/{s.n_images}) · "
        f"{int(counts[s.frame])}/{len(s.bodyparts)} parts · {n_done} of {s.n_images} image(s) labeled by hand · "
        f"current: <b>{html.escape(part)}</b> · zoom {s.view.zoom:.2f}" + unsaved_note(s) + extra
    )


def view_json(state: LabelerState, show_suggestions: bool = True) -> str:
    """Zoom/pan, the current individual and the shown suggestions (image pixels) as JSON: the panel keeps it in a
    hidden element so browser tests can map page pixels to image pixels."""
    v = state.view
    sugg = shown_suggestions(state) if show_suggestions else np.full((len(state.bodyparts), 2), np.nan)
    return json.dumps(
        {
            "zoom": v.zoom,
            "x0": v.x0,
            "y0": v.y0,
            "canvas_w": v.canvas_w,
            "canvas_h": v.canvas_h,
            "individual": state.slots.groups[state.group],
            "suggestions": [[int(k), float(x), float(y)] for k, (x, y) in enumerate(sugg) if not np.isnan(x)],
        }
    )
