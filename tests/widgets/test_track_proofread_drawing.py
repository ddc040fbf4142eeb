"""The proofreader's pure drawing and mouse functions: timeline geometry per individual (segments, gaps,
low-confidence bands, suspicious ticks, cursor, click -> frame and row) and the frame view (per-individual
colours, skeleton, hollow low-confidence points, hit test, drag -> set point)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from posenb.widgets._canvas import CanvasEvent, fit_view
from posenb.widgets._track_frame import Mouse, frame_drawing, frame_event, hit_point
from posenb.widgets._track_timeline import (
    SUSPICION_COLORS,
    TimelineGeometry,
    cursor_geometry,
    follow,
    segment_at,
    span_geometry,
    timeline_drawing,
    zoom_timeline,
)


@dataclass(frozen=True)
class Flag:  # what the core's Suspicion carries that the timeline reads
    frame: int
    kind: str
    individuals: tuple = ()


def test_geometry_maps_frames_and_clicks_both_ways():
    g = TimelineGeometry(n_frames=100, n_rows=2, width=590, label_w=90, row_h=16, gap=4, top=4)
    assert g.px_per_frame == pytest.approx(5.0)
    assert g.frame_to_x(0) == 90 and g.frame_to_x(100) == 590
    for f in (0, 1, 37, 99):
        assert g.x_to_frame(g.frame_to_x(f) + 2.5) == f  # the middle of frame f's column
    assert g.x_to_frame(10) == 0 and g.x_to_frame(10_000) == 99  # label column and beyond: clamped
    assert g.y_to_row(4) == 0 and g.y_to_row(19) == 0
    assert g.y_to_row(21) is None  # between the rows
    assert g.y_to_row(24) == 1 and g.y_to_row(39) == 1
    assert g.y_to_row(45) is None and g.y_to_row(-1) is None
    assert g.height == 4 + 2 * 20 + 4


def test_timeline_draws_segments_gaps_low_confidence_ticks_and_cursor():
    g = TimelineGeometry(n_frames=100, n_rows=2, width=590, label_w=90)
    segs = [[(0, 40), (60, 100)], [(0, 100)]]  # female has a gap 40..60
    low = [[(10, 15)], []]
    flags = [Flag(20, "swap", ("female", "male")), Flag(50, "gap", ("female",)), Flag(70, "close")]
    d = timeline_drawing(g, ["female", "male"], segs, low, flags, cursor=20, selected=[1])
    # segments: female's two runs (the gap is not drawn), male's one, in their rows
    np.testing.assert_allclose(d.segments[:, 0], [90, 390, 90])
    np.testing.assert_allclose(d.segments[:, 2], [200, 200, 500])
    assert d.segment_rows.tolist() == [0, 0, 1]
    np.testing.assert_allclose(d.segments[:, 1], [g.row_y(0), g.row_y(0), g.row_y(1)])
    # the low-confidence band lies in the female's row, frames 10..15
    np.testing.assert_allclose(d.low[0, [0, 2]], [140, 25])
    assert g.row_y(0) < d.low[0, 1] < g.row_y(0) + g.row_h
    # ticks: the swap on both rows, the gap on the female's, an unnamed "close" on every row
    assert len(d.ticks) == 5
    assert d.tick_colors.count(SUSPICION_COLORS["swap"]) == 2
    xs = d.ticks[:, 0, 0]
    assert g.x_to_frame(xs[0]) == 20 and g.x_to_frame(xs[2]) == 50 and g.x_to_frame(xs[4]) == 70
    # cursor in the middle of frame 20's column, over every row
    assert g.x_to_frame(d.cursor[0, 0]) == 20 and d.cursor[1, 1] >= g.row_y(1) + g.row_h
    assert [(name, bold) for name, _x, _y, bold in d.labels] == [("female", False), ("male", True)]


def test_cursor_geometry_is_the_drawings_cursor():
    g = TimelineGeometry(n_frames=100, n_rows=3, width=590, label_w=90)
    line, rect = cursor_geometry(g, 99)
    d = timeline_drawing(g, ["a", "b", "c"], [[], [], []], [[], [], []], cursor=99)
    np.testing.assert_allclose(line, d.cursor)
    np.testing.assert_allclose(rect, [585, 0, 5, g.row_y(3)])


def test_span_geometry_is_the_swap_range_clipped_to_the_window():
    g = TimelineGeometry(n_frames=100, n_rows=3, width=590, label_w=90)  # 5 px a frame
    np.testing.assert_allclose(span_geometry(g, 20, 35), [190, 0, 75, g.row_y(3)])
    assert span_geometry(g, 20, 20) is None and span_geometry(g, 30, 20) is None
    z = TimelineGeometry(n_frames=1000, n_rows=1, width=590, label_w=90, first=200, span=100)
    np.testing.assert_allclose(span_geometry(z, 150, 1000)[[0, 2]], [90, 500])  # clipped both sides
    assert span_geometry(z, 400, 500) is None


def test_a_one_frame_run_is_still_visible():
    g = TimelineGeometry(n_frames=10_000, n_rows=1, width=590, label_w=90)
    d = timeline_drawing(g, ["a"], [[(5000, 5001)]], [[]])
    assert d.segments[0, 2] >= 1.0


def test_zoomed_timeline_shows_a_window_of_frames():
    g = TimelineGeometry(n_frames=1000, n_rows=1, width=590, label_w=90, first=200, span=100)
    assert (g.visible, g.last, g.px_per_frame) == (100, 299, 5.0)
    assert g.x_to_frame(90 + 2.5) == 200 and g.x_to_frame(589) == 299 and g.x_to_frame(0) == 200
    flags = [Flag(150, "swap"), Flag(250, "jump"), Flag(400, "gap")]
    d = timeline_drawing(g, ["a"], [[(0, 210), (290, 1000)]], [[(100, 150)]], flags, cursor=250)
    # runs clipped to the window, the one outside it (and its tick) not drawn
    np.testing.assert_allclose(d.segments[:, [0, 2]], [[90, 50], [540, 50]])
    assert len(d.low) == 0 and len(d.ticks) == 1 and g.x_to_frame(d.ticks[0, 0, 0]) == 250


def test_zoom_keeps_the_frame_under_the_mouse_and_follow_scrolls():
    g = TimelineGeometry(n_frames=1000, n_rows=1, width=590, label_w=90)
    z = zoom_timeline(g, 500, 0.1)
    assert z.visible == 100 and abs(z.frame_to_x(500) - g.frame_to_x(500)) <= z.px_per_frame
    assert zoom_timeline(z, 500, 0.01).visible == 20  # at least 20 frames
    assert zoom_timeline(z, 500, 100).span == 0  # at most the whole video
    edge = zoom_timeline(g, 999, 0.1)
    assert edge.last == 999 and edge.visible == 100  # not past the end
    for f in (0, 1, 333, 990, 998, 999):  # the frame zoomed at stays shown
        z2 = zoom_timeline(g, f, 0.1)
        assert z2.first <= f <= z2.last and zoom_timeline(z2, f, 0.5).first <= f
    assert follow(z, 520) is z
    moved = follow(z, 900)
    assert moved.first <= 900 <= moved.last and moved.visible == 100
    assert follow(z, 999).last == 999


def test_segment_at():
    segs = [(0, 10), (20, 30)]
    assert segment_at(segs, 5) == (0, 10)
    assert segment_at(segs, 10) is None
    assert segment_at(segs, 15, after=True) == (20, 30)
    assert segment_at(segs, 35, after=True) is None


def _frame():
    poses = np.array(
        [[[10.0, 10.0], [20.0, 10.0], [np.nan, np.nan]], [[50.0, 40.0], [60.0, 40.0], [70.0, 40.0]]]
    )  # (N=2, P=3, 2): female's third part is missing
    lik = np.array([[0.9, 0.2, 0.0], [0.9, 0.9, 0.9]])
    colors = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    view = fit_view(100, 50, 200, 100)  # zoom 2
    return poses, lik, colors, view


def test_frame_drawing_colours_by_individual_and_hollows_low_confidence():
    poses, lik, colors, view = _frame()
    d = frame_drawing(poses, lik, view, colors, ["female", "male"], [(0, 1), (1, 2)], pcutoff=0.6)
    assert d.individual.tolist() == [0, 0, 1, 1, 1] and d.part.tolist() == [0, 1, 0, 1, 2]
    np.testing.assert_allclose(d.xy[0], [20, 20])  # image (10, 10) at zoom 2
    assert d.colors[:2].tolist() == [[255, 0, 0]] * 2 and d.colors[2].tolist() == [0, 0, 255]
    assert d.hollow.tolist() == [False, True, False, False, False]
    # female: one bone (her third part is missing), male: two; in canvas px
    assert d.segment_individual.tolist() == [0, 1, 1]
    np.testing.assert_allclose(d.segments[0], [[20, 20], [40, 20]])
    assert [(name, i) for name, _x, _y, i in d.labels] == [("female", 0), ("male", 1)]
    assert d.unique_xy.shape == (0, 2)
    # unique parts (x, y, likelihood), the missing one left out
    d = frame_drawing(poses, lik, view, colors, unique=np.array([[5.0, 6.0, 0.9], [np.nan, np.nan, 0.0]]))
    np.testing.assert_allclose(d.unique_xy, [[10.0, 12.0]])


def test_drag_a_point_and_release_sets_it_in_image_pixels():
    poses, lik, colors, view = _frame()
    d = frame_drawing(poses, lik, view, colors)
    assert hit_point(d, 41, 21, 5) == (0, 1)  # female's second part at canvas (40, 20)
    assert hit_point(d, 70, 70, 5) is None
    m, effect = frame_event(Mouse(), CanvasEvent("down", 41, 21), view, d, 5)
    assert effect == ("redraw",) and m.drag[:2] == (0, 1)
    m, effect = frame_event(m, CanvasEvent("move", 60, 30, buttons=1), view, d, 5)
    assert effect == ("redraw",) and m.drag[2:] == pytest.approx((30.0, 15.0))
    # while dragging, the point is drawn where the mouse is, and solid (a fixed point is confident)
    d2 = frame_drawing(poses, lik, view, colors, drag=m.drag)
    np.testing.assert_allclose(d2.xy[1], [60, 30])
    assert not d2.hollow[1]
    m, effect = frame_event(m, CanvasEvent("up", 62, 30), view, d2, 5)
    assert m == Mouse() and effect[:3] == ("set", 0, 1)
    assert effect[3:] == pytest.approx((31.0, 15.0))


def test_right_click_deletes_press_elsewhere_pans_wheel_zooms_keys_pass():
    poses, lik, colors, view = _frame()
    d = frame_drawing(poses, lik, view, colors)
    assert frame_event(Mouse(), CanvasEvent("down", 100, 80, button=2), view, d, 5)[1] == ("delete", 1, 0)
    m, effect = frame_event(Mouse(), CanvasEvent("down", 150, 90), view, d, 5)
    assert effect is None and m.pan == (150, 90)
    m, effect = frame_event(m, CanvasEvent("move", 160, 90, buttons=1), view, d, 5)
    assert effect[0] == "view" and effect[1].x0 == pytest.approx(view.x0 - 5)
    _, effect = frame_event(Mouse(), CanvasEvent("wheel", 100, 50, delta=-100), view, d, 5)
    assert effect[0] == "view" and effect[1].zoom > view.zoom
    assert frame_event(Mouse(), CanvasEvent("key", key="n"), view, d, 5)[1] == ("key", "n", False)
    assert frame_event(Mouse(), CanvasEvent("key", key="z", ctrl=True), view, d, 5)[1] == ("key", "z", True)
    assert frame_event(Mouse(), CanvasEvent("key", key="0"), view, d, 5)[1] == ("fit",)


def test_alt_click_places_a_point_inside_the_image():
    poses, lik, colors, view = _frame()
    d = frame_drawing(poses, lik, view, colors)
    _, effect = frame_event(Mouse(), CanvasEvent("down", 41, 21, alt=True), view, d, 5)  # even on a point
    assert effect[0] == "place" and effect[1:] == pytest.approx((20.5, 10.5))
    m, effect = frame_event(Mouse(), CanvasEvent("down", 199, 99, alt=True), view, d, 5)
    assert effect[0] == "place"
    view_small = fit_view(100, 50, 400, 100)  # the image centred: the left margin is outside it
    assert frame_event(Mouse(), CanvasEvent("down", 5, 50, alt=True), view_small, None, 5)[1] is None
