"""Suggestions in the labeler: hollow markers accepted, moved and dismissed (pure state), and carried forward from
a labeled frame into the next one in the panel, then saved as human labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posenb.widgets._canvas import CanvasEvent, fit_view, image_to_canvas
from posenb.widgets.labeler_state import (
    accept_suggestions,
    draw_points,
    handle_event,
    new_state,
    set_suggestions,
    shown_suggestions,
    undo,
)

BP = ["snout", "leftear", "rightear", "tailbase"]


def _state():
    state = new_state(BP, ["img0.png", "img1.png"], None, fit_view(100, 80, 500, 400))
    pts = state.points.copy()
    pts[0, 0] = (10.0, 10.0)  # snout labeled by hand
    state = new_state(BP, ["img0.png", "img1.png"], pts, fit_view(100, 80, 500, 400))
    return set_suggestions(state, 0, np.array([[50.0, 50.0], [20.0, 30.0], [40.0, 30.0], [np.nan, np.nan]]))


def _ev(kind, x=None, y=None, **kw):
    return CanvasEvent(kind=kind, x=x, y=y, **kw)


def _canvas(state, x, y):
    cx, cy = image_to_canvas(state.view, np.array([x]), np.array([y]))
    return float(cx[0]), float(cy[0])


def test_suggestions_never_cover_human_labels():
    state = _state()
    shown = shown_suggestions(state)
    assert np.isnan(shown[0]).all() and np.isnan(shown[3]).all()  # labeled snout; no suggestion for tailbase
    d = draw_points(state, np.zeros((4, 3), np.uint8))
    assert list(d.suggested_parts) == [1, 2] and list(d.parts) == [0]


def test_enter_accepts_all_and_undo_restores():
    state = _state()
    state = handle_event(state, _ev("key", key="Enter"))
    np.testing.assert_allclose(state.points[0, :3], [[10, 10], [20, 30], [40, 30]])
    assert np.isnan(state.points[0, 3]).all() and state.dirty == {0}
    assert state.part == 3  # the next unlabeled part
    assert "Accepted 2" in state.message
    assert len(draw_points(state, np.zeros((4, 3), np.uint8)).suggested_xy) == 0
    state = undo(state)
    assert np.isnan(state.points[0, 2]).all() and list(np.flatnonzero(~np.isnan(shown_suggestions(state)[:, 0]))) == [2]


def test_press_on_a_suggestion_accepts_it_and_dragging_moves_it():
    state = _state()
    x, y = _canvas(state, 20.0, 30.0)
    state = handle_event(state, _ev("down", x, y, button=0, buttons=1))
    np.testing.assert_allclose(state.points[0, 1], [20, 30])
    x2, y2 = _canvas(state, 25.0, 33.0)
    state = handle_event(state, _ev("move", x2, y2, buttons=1))
    state = handle_event(state, _ev("up", x2, y2, button=0, buttons=0))
    np.testing.assert_allclose(state.points[0, 1], [25, 33])
    assert np.isnan(state.points[0, 2]).all()  # the other suggestion stays a suggestion
    state = undo(state)
    assert np.isnan(state.points[0, 1]).all()


def test_right_click_and_delete_dismiss_a_suggestion():
    state = _state()
    x, y = _canvas(state, 20.0, 30.0)
    state = handle_event(state, _ev("down", x, y, button=2, buttons=2))
    assert np.isnan(shown_suggestions(state)[1]).all() and np.isnan(state.points[0, 1]).all()
    x, y = _canvas(state, 40.0, 30.0)
    state = handle_event(state, _ev("move", x, y, buttons=0))
    state = handle_event(state, _ev("key", key="Delete"))
    assert np.isnan(shown_suggestions(state)).all()
    assert accept_suggestions(state).message == "No suggestion to accept on this image."


def test_readonly_folder_accepts_nothing():
    state = new_state(BP, ["a.png"], None, fit_view(100, 80, 500, 400), readonly=True)
    state = set_suggestions(state, 0, np.ones((4, 2)))
    assert np.isnan(accept_suggestions(state).points).all()


def test_panel_carries_labels_forward_and_saves_accepted_points(demo_project):
    pytest.importorskip("ipycanvas")
    from posenb.io.labels import labels_to_array, read_labels
    from posenb.project.config import read_config
    from posenb.widgets.labeler import Labeler

    cfg = read_config(demo_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    truth_df = read_labels(folder / "CollectedData_posenb.h5")
    truth = dict(zip((i[2] for i in truth_df.index), labels_to_array(truth_df, BP), strict=True))
    for f in folder.glob("CollectedData_*"):
        f.unlink()
    lab = Labeler(demo_project)
    images = lab.state.images
    first, second = images[0], images[1]
    assert first in truth and second in truth
    for k in range(4):  # label the first image by hand, at the true points
        cx, cy = _canvas(lab.state, *truth[first][k])
        lab.handle(_ev("down", cx, cy, button=0, buttons=1))
        lab.handle(_ev("up", cx, cy, button=0, buttons=0))
    np.testing.assert_allclose(lab.state.points[0], truth[first], atol=1e-6)
    lab.next_button.click()  # saves, shows the next image, asks for suggestions (no model: carried forward)
    shown = shown_suggestions(lab.state)
    found = ~np.isnan(shown[:, 0])
    assert found.sum() >= 2, shown
    assert np.nanmax(np.hypot(*(shown[found] - truth[second][found]).T)) < 3.0
    assert f"{found.sum()} suggested (carried from a nearby labeled frame)" in lab.status.value
    lab.accept_button.click()
    assert "suggested" not in lab.status.value
    assert lab.save(force=True) is not None
    saved = labels_to_array(read_labels(folder / "CollectedData_posenb.h5"), BP)
    np.testing.assert_allclose(saved[1][found], shown[found])
    lab.suggest_toggle.value = False
    assert lab.suggest() is False
