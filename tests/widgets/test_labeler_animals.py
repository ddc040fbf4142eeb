"""Multi-animal labeling as pure state: slots, picking individuals, next/stay, copy, swap, unique parts, drawing."""

import numpy as np
import pytest

from posenb.project.config import ProjectParts
from posenb.widgets._canvas import CanvasEvent, fit_view, image_to_canvas
from posenb.widgets.labeler_layout import (
    SlotLayout,
    animals_to_slots,
    group_colors,
    layout_from_parts,
    slot_colors,
    slots_to_animals,
)
from posenb.widgets.labeler_state import (
    copy_previous_animals,
    draw_points,
    handle_event,
    new_state,
    select_individual,
    set_advance,
    swap_individuals,
    undo,
)

LAYOUT = SlotLayout(("female", "male"), ("head", "thorax", "abdomen"), ("arena",))
SKELETON = [["head", "thorax"], ["thorax", "abdomen"]]


def make_state(n_images=3, advance="next", points=None):
    view = fit_view(160, 120, 640, 480)  # zoom 4
    images = [f"img{i:03d}.png" for i in range(n_images)]
    return new_state((), images, points, view, skeleton=SKELETON, layout=LAYOUT, advance=advance)


def click_image(state, x, y, **kw):
    """A left click at image pixel (x, y)."""
    cx, cy = image_to_canvas(state.view, x, y)
    state = handle_event(state, CanvasEvent("down", float(cx), float(cy), button=0, buttons=1, **kw))
    return handle_event(state, CanvasEvent("up", float(cx), float(cy), button=0))


def key(state, k, **kw):
    return handle_event(state, CanvasEvent("key", key=k, **kw))


def test_layout_slots_follow_the_4_level_column_order():
    assert LAYOUT.groups == ("female", "male", "single")
    assert LAYOUT.n_slots == 7 and LAYOUT.group_starts == (0, 3, 6, 7)
    assert LAYOUT.slot_names[:4] == ("female head", "female thorax", "female abdomen", "male head")
    assert LAYOUT.slot_names[6] == "single arena"
    assert list(LAYOUT.slot_group) == [0, 0, 0, 1, 1, 1, 2]
    assert LAYOUT.skeleton_slots(SKELETON) == ((0, 1), (1, 2), (3, 4), (4, 5))
    parts = ProjectParts(True, ("female", "male"), ("head", "thorax", "abdomen"), ("arena",))
    assert layout_from_parts(parts) == LAYOUT
    single = layout_from_parts(ProjectParts(False, (), ("snout", "tail")))
    assert not single.multianimal and single.slot_names == ("snout", "tail") and single.groups == ("",)
    rng = np.random.default_rng(0)
    animals, unique = rng.random((5, 2, 3, 2)), rng.random((5, 1, 2))
    slots = animals_to_slots(LAYOUT, animals, unique)
    assert slots.shape == (5, 7, 2) and np.array_equal(slots[:, 3], animals[:, 1, 0])
    back_a, back_u = slots_to_animals(LAYOUT, slots)
    assert np.array_equal(back_a, animals) and np.array_equal(back_u, unique)


def test_next_mode_continues_with_the_next_individual_then_the_unique_part():
    s = make_state()
    assert s.part == 0 and s.group == 0
    for k in range(3):
        s = click_image(s, 20 + 10 * k, 30)
    assert s.part == 3 and s.group == 1  # the male's head after the female's abdomen
    for k in range(3):
        s = click_image(s, 90 + 10 * k, 70)
    assert s.part == 6 and s.group == 2  # then the unique part ("single")
    s = click_image(s, 150, 10)
    assert s.part is None
    assert s.points[0, 4] == pytest.approx([100, 70]) and s.points[0, 6] == pytest.approx([150, 10])
    msg = click_image(s, 50, 50).message
    assert "Every body part" in msg


def test_stay_mode_keeps_the_individual_and_keys_pick_another():
    s = make_state(advance="stay")
    s = key(s, "Tab")  # the male
    assert s.group == 1 and s.part == 3
    for k in range(3):
        s = click_image(s, 90 + 10 * k, 70)
    assert s.part is None and s.group == 1  # stays on the male, all placed
    assert "pick another individual" in click_image(s, 20, 20).message
    assert np.isnan(s.points[0, :3]).all()  # the female was not touched
    s = key(s, "Tab", shift=True)
    assert s.group == 0 and s.part == 0
    s = key(s, "I")  # previous, wrapping: "single"
    assert s.group == 2 and s.part == 6
    s = key(s, "i")
    assert s.group == 0
    # digits and arrows pick parts of the current individual
    s = key(s, "Tab")
    s = key(s, "2")
    assert s.part == 4
    s = key(s, "ArrowDown")
    assert s.part == 5
    s = key(s, "ArrowDown")
    assert s.part == 3  # wraps within the male
    assert key(s, "9").part == 3  # no 9th part: nothing happens
    # on a new image, stay starts at the current individual
    s = key(s, "ArrowRight")
    assert s.frame == 1 and s.group == 1 and s.part == 3
    assert set_advance(s, "next").advance == "next"
    with pytest.raises(ValueError):
        set_advance(s, "sideways")


def test_select_individual_selects_its_first_unlabeled_part():
    pts = np.full((3, 7, 2), np.nan)
    pts[0, 3] = (90, 70)
    s = make_state(points=pts)
    s = select_individual(s, 1)
    assert s.group == 1 and s.part == 4
    pts[0, 3:6] = 1.0
    s = select_individual(make_state(points=pts), 1)
    assert s.part == 3  # all labeled: its first part (a click moves it)


def test_copy_previous_fills_only_unlabeled_slots_in_one_undo_step():
    pts = np.full((3, 7, 2), np.nan)
    pts[0] = np.arange(14, dtype=float).reshape(7, 2)
    pts[2, 0] = (1.0, 1.0)  # the female's head already labeled on image 2
    s = make_state(points=pts)
    s = key(s, "End")
    assert s.frame == 2
    s = key(s, "c")  # image 1 has no labels: copies from image 0
    assert "Copied 6 point(s) from img000.png" in s.message
    assert s.points[2, 0] == pytest.approx([1, 1])
    assert np.array_equal(s.points[2, 1:], pts[0, 1:])
    assert s.part is None and 2 in s.dirty
    s = undo(s)
    assert np.array_equal(s.points[2], pts[2], equal_nan=True)
    assert "the copy from img000.png" in s.message
    first = make_state(points=pts)
    assert "No earlier image" in copy_previous_animals(first).message


def test_swap_exchanges_two_individuals_on_the_current_image_only():
    pts = np.full((2, 7, 2), np.nan)
    pts[:, 0:3] = 10.0
    pts[:, 3:6] = 50.0
    pts[:, 6] = 99.0
    s = make_state(n_images=2, points=pts)
    s = swap_individuals(s, 0, 1)
    assert (s.points[0, 0:3] == 50).all() and (s.points[0, 3:6] == 10).all() and (s.points[0, 6] == 99).all()
    assert (s.points[1, 0:3] == 10).all()  # the other image is untouched
    assert s.message.startswith("Swapped female and male")
    assert np.array_equal(undo(s).points, pts)
    assert len(s.history) == 1
    # the key x swaps the current individual with the next one; "single" cannot be swapped
    s2 = key(make_state(n_images=2, points=pts), "x")
    assert (s2.points[0, 0:3] == 50).all()
    assert "unique parts cannot be swapped" in key(select_individual(s2, 2), "x").message
    assert "two different" in swap_individuals(s2, 1, 1).message
    assert "nothing to swap" in swap_individuals(make_state(), 0, 1).message


def test_points_of_other_individuals_can_be_dragged_and_removed():
    pts = np.full((1, 7, 2), np.nan)
    pts[0, 4] = (100, 70)
    s = make_state(n_images=1, points=pts)
    assert s.group == 0
    cx, cy = image_to_canvas(s.view, 100, 70)
    s = handle_event(s, CanvasEvent("down", float(cx), float(cy), button=0, buttons=1))
    s = handle_event(s, CanvasEvent("move", float(cx) + 8, float(cy), buttons=1))
    s = handle_event(s, CanvasEvent("up", float(cx) + 8, float(cy), button=0))
    assert s.points[0, 4] == pytest.approx([102, 70])
    s = handle_event(s, CanvasEvent("down", float(cx) + 8, float(cy), button=2, buttons=2))
    assert np.isnan(s.points[0, 4]).all() and s.part == 4 and s.group == 1


def test_drawing_colours_bones_and_current_individual():
    pts = np.full((1, 7, 2), np.nan)
    pts[0, 0:3] = [(20, 30), (30, 34), (40, 38)]
    pts[0, 3:5] = [(90, 70), (100, 74)]
    pts[0, 6] = (150, 10)
    s = select_individual(make_state(n_images=1, points=pts), 1)
    by_ind = slot_colors(LAYOUT, "individual")
    assert (by_ind[0] == by_ind[2]).all() and not (by_ind[0] == by_ind[3]).all()
    by_part = slot_colors(LAYOUT, "bodypart")
    assert (by_part[0] == by_part[3]).all() and not (by_part[0] == by_part[1]).all()
    assert not (by_part[6] == by_part[0]).all()
    d = draw_points(s, by_ind)
    assert list(d.parts) == [0, 1, 2, 3, 4, 6]
    assert list(d.groups) == [0, 0, 0, 1, 1, 2]
    assert list(d.current) == [False, False, False, True, True, False]
    assert len(d.segments) == 3 and list(d.segment_groups) == [0, 0, 1]  # male: head-thorax only
    assert d.xy[3] == pytest.approx(image_to_canvas(s.view, 90, 70))
    assert (d.colors[3] == by_ind[3]).all()
    gc = group_colors(LAYOUT)
    assert gc.shape == (3, 3) and (gc[1] == by_ind[3]).all()
    with pytest.raises(ValueError):
        slot_colors(LAYOUT, "rainbow")


def test_single_animal_state_ignores_multianimal_keys():
    view = fit_view(160, 120, 640, 480)
    s = new_state(["snout", "tail"], ["a.png", "b.png"], None, view)
    assert not s.slots.multianimal
    for k in ("Tab", "i", "c", "x"):
        assert key(s, k) is s or key(s, k).points is s.points
    d = draw_points(click_image(s, 10, 10), np.zeros((2, 3), np.uint8))
    assert not d.current.any() and list(d.groups) == [0]
