"""The labeler's pure state and handlers, driven with fabricated events (no widgets)."""

import math

import numpy as np
import pytest

from posenb.widgets._canvas import CanvasEvent, canvas_to_image, fit_view, image_to_canvas
from posenb.widgets.labeler_state import (
    add_bodyparts,
    draw_points,
    go_to_frame,
    handle_event,
    hit_test,
    labeled_counts,
    new_state,
    next_unlabeled_part,
    skip_part,
    undo,
)

PARTS = ["snout", "leftear", "rightear", "tailbase"]
SKELETON = [["snout", "leftear"], ["snout", "rightear"], ["leftear", "tailbase"]]


def make_state(n_images=3, points=None):
    view = fit_view(320, 240, 640, 480)  # zoom 2
    return new_state(PARTS, [f"img{i:02d}.png" for i in range(n_images)], points, view, skeleton=SKELETON)


def down(x, y, button=0, **kw):
    return CanvasEvent("down", x, y, button=button, buttons=1 << {0: 0, 1: 2, 2: 1}[button], **kw)


def move(x, y, buttons=1):
    return CanvasEvent("move", x, y, buttons=buttons)


def up(x, y, button=0):
    return CanvasEvent("up", x, y, button=button)


def key(k, **kw):
    return CanvasEvent("key", key=k, **kw)


def click(state, x, y, **kw):
    state = handle_event(state, down(x, y, **kw))
    return handle_event(state, up(x, y))


def test_click_places_current_part_and_advances():
    s = make_state()
    assert s.part == 0
    s2 = click(s, 101.0, 51.0)
    assert s2.points[0, 0] == pytest.approx([50.5, 25.5])  # canvas / zoom 2, sub-pixel kept
    assert s2.part == 1 and s2.dirty == {0}
    assert np.isnan(s.points).all()  # the input state is untouched
    s3 = click(s2, 200.0, 100.0)
    assert s3.part == 2 and s3.points[0, 1] == pytest.approx([100.0, 50.0])


def test_next_unlabeled_wraps_and_ends_with_none():
    pts = np.full((4, 2), np.nan)
    pts[2] = 1.0
    assert next_unlabeled_part(pts, 1) == 3
    assert next_unlabeled_part(pts, 3) == 0
    assert next_unlabeled_part(np.ones((4, 2)), 0) is None
    s = make_state()
    for i in range(4):
        s = click(s, 50 + 40 * i, 50)
    assert s.part is None
    s2 = click(s, 600, 400)  # every part labeled: a click on empty image does nothing
    assert np.array_equal(s2.points, s.points, equal_nan=True) and "labeled" in s2.message


def test_drag_moves_a_point_and_undo_restores_it():
    s = click(make_state(), 100, 100)
    s = handle_event(s, down(101, 99))  # within the hit radius of the snout
    assert s.drag is not None and s.drag.part == 0
    s = handle_event(s, move(150, 120))
    s = handle_event(s, move(161, 131))
    s = handle_event(s, up(161, 131))
    assert s.points[0, 0] == pytest.approx([80.5, 65.5])
    assert s.part == 1  # dragging does not change the part to place next
    s = undo(s)
    assert s.points[0, 0] == pytest.approx([50.0, 50.0])
    s = undo(s)
    assert np.isnan(s.points[0, 0]).all()
    assert "Nothing" in undo(s).message


def test_press_and_hold_fine_tunes_a_new_point():
    s = handle_event(make_state(), down(100, 100))
    s = handle_event(s, move(110, 104))
    s = handle_event(s, up(112, 106))
    assert s.points[0, 0] == pytest.approx([56.0, 53.0])
    assert len(s.history) == 1  # one undo step for place + fine-tune


def test_click_on_an_existing_point_does_not_move_it_but_alt_click_places():
    s = click(make_state(), 100, 100)
    s2 = click(s, 101.5, 100.5)
    assert s2.points[0, 0] == pytest.approx([50.0, 50.0]) and np.isnan(s2.points[0, 1]).all()
    s3 = click(s, 101.5, 100.5, alt=True)
    assert s3.points[0, 1] == pytest.approx([50.75, 50.25])


def test_right_click_and_delete_remove_points():
    s = click(click(make_state(), 100, 100), 300, 300)
    s = handle_event(s, down(300, 301, button=2))
    assert np.isnan(s.points[0, 1]).all() and s.part == 1
    s = handle_event(s, move(100, 100, buttons=0))  # hover the snout
    s = handle_event(s, key("Delete"))
    assert np.isnan(s.points[0, 0]).all()
    s = undo(undo(s))
    assert not np.isnan(s.points[0]).all(axis=1)[:2].any()


def test_right_click_on_empty_space_changes_nothing():
    s = click(make_state(), 100, 100)
    s2 = handle_event(s, down(400, 400, button=2))
    assert np.array_equal(s2.points, s.points, equal_nan=True)


def test_keys_navigate_frames_and_parts():
    s = make_state()
    s = handle_event(s, key("ArrowRight"))
    assert s.frame == 1
    s = handle_event(s, key("ArrowRight"))
    s = handle_event(s, key("ArrowRight"))
    assert s.frame == 2  # clamped
    s = handle_event(s, key("Home"))
    assert s.frame == 0
    s = handle_event(s, key("3"))
    assert s.part == 2
    s = handle_event(s, key("9"))  # no 9th part: unchanged
    assert s.part == 2
    s = handle_event(s, key("ArrowDown"))
    assert s.part == 3
    s = handle_event(s, key("ArrowDown"))
    assert s.part == 0
    s = handle_event(s, key("ArrowUp"))
    assert s.part == 3


def test_ctrl_z_and_u_undo():
    s = click(click(make_state(), 100, 100), 200, 200)
    s = handle_event(s, key("z", ctrl=True))
    assert np.isnan(s.points[0, 1]).all() and s.part == 1
    s = handle_event(s, key("u"))
    assert np.isnan(s.points[0]).all()


def test_undo_returns_to_the_frame_of_the_change():
    s = click(make_state(), 100, 100)
    s = go_to_frame(s, 2)
    s = undo(s)
    assert s.frame == 0 and np.isnan(s.points[0, 0]).all()


def test_space_skips_a_part_that_is_not_visible():
    s = handle_event(make_state(), key(" "))
    assert s.part == 1 and "Skipped snout" in s.message
    s = click(s, 100, 100)
    assert np.isnan(s.points[0, 0]).all() and s.points[0, 1] == pytest.approx([50, 50])
    assert s.part == 2
    s = skip_part(skip_part(s))
    assert s.part == 0  # wraps to the skipped part
    assert skip_part(s).part == 2  # next unlabeled after the snout


def test_wheel_zooms_at_the_cursor_and_shift_drag_pans():
    s = make_state()
    target = canvas_to_image(s.view, 200, 150)
    s = handle_event(s, CanvasEvent("wheel", 200, 150, delta=-300))
    assert s.view.zoom > 2.0
    assert canvas_to_image(s.view, 200, 150) == pytest.approx(target)
    # a click after zooming lands where the cursor is, in image pixels
    s2 = click(s, 333.0, 222.0)
    assert s2.points[0, 0] == pytest.approx(canvas_to_image(s.view, 333.0, 222.0))
    before = image_to_canvas(s.view, 100, 100)
    s3 = handle_event(s, down(300, 300, shift=True))
    s3 = handle_event(s3, move(330, 290))
    s3 = handle_event(s3, up(340, 280))
    after = image_to_canvas(s3.view, 100, 100)
    assert (after[0] - before[0], after[1] - before[1]) == pytest.approx((40, -20))
    assert np.isnan(s3.points).all()  # panning placed nothing
    s4 = handle_event(s, down(300, 300, button=1))  # middle-drag pans too
    assert s4.drag.kind == "pan"
    s5 = handle_event(s, key("r"))
    assert s5.view == fit_view(320, 240, 640, 480)


def test_clicks_outside_the_image_are_refused():
    view = fit_view(100, 100, 640, 480)  # image centred, empty bands left and right
    s = new_state(PARTS, ["a.png"], None, view)
    s = click(s, 10, 240)
    assert np.isnan(s.points).all() and "outside" in s.message


def test_escape_cancels_a_drag():
    s = click(make_state(), 100, 100)
    s = handle_event(s, down(100, 100))
    s = handle_event(s, move(200, 200))
    s = handle_event(s, key("Escape"))
    assert s.points[0, 0] == pytest.approx([50, 50]) and s.drag is None and len(s.history) == 1


def test_add_bodyparts_pads_with_nan():
    s = click(make_state(), 100, 100)
    s2 = add_bodyparts(s, ["tailtip", "snout"])
    assert s2.bodyparts == tuple(PARTS) + ("tailtip",)
    assert s2.points.shape == (3, 5, 2) and np.isnan(s2.points[:, 4]).all()
    assert s2.points[0, 0] == pytest.approx([50, 50])


def test_readonly_state_refuses_edits_but_allows_zoom():
    s = new_state(PARTS, ["a.png"], None, fit_view(320, 240, 640, 480), readonly=True)
    s2 = click(s, 100, 100)
    assert np.isnan(s2.points).all()
    assert handle_event(s, CanvasEvent("wheel", 100, 100, delta=-100)).view.zoom > s.view.zoom


def test_draw_points_gives_canvas_arrays():
    s = click(click(make_state(), 100, 100), 200, 100)  # snout and leftear
    colors = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]], np.uint8)
    d = draw_points(s, colors)
    assert d.xy == pytest.approx(np.array([[100, 100], [200, 100]]))
    assert list(d.parts) == [0, 1] and d.colors.tolist() == [[255, 0, 0], [0, 255, 0]]
    assert d.segments.shape == (1, 2, 2)  # only snout-leftear has both ends
    assert d.highlight is None  # current part (rightear) is unlabeled
    s = handle_event(s, key("1"))
    assert draw_points(s, colors).highlight == pytest.approx([100, 100])
    assert labeled_counts(s).tolist() == [2, 0, 0]


def test_hit_test_radius_is_in_canvas_pixels():
    s = click(make_state(), 100, 100)
    assert hit_test(s, 107, 100) == 0
    assert hit_test(s, 110, 100) is None


def test_new_state_checks_shapes_and_selects_first_unlabeled():
    pts = np.full((2, 4, 2), np.nan)
    pts[0, 0] = (1, 2)
    s = make_state(2, pts)
    assert s.part == 1
    with pytest.raises(ValueError):
        make_state(3, pts)
    assert math.isnan(make_state().points[0, 0, 0])
