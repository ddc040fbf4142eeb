"""The track proofreader in a real browser: Voila serves voila_apps/track_proofreader.ipynb on a two-mouse
project whose tracked file has the identities exchanged from frame SWAP on (tests/_proofread_project.py);
chromium clicks the timeline, picks the "swap" kind, jumps to the swap with "Next suspicious", swaps the two
from there with "Swap A/B from here", drags one point on another frame and saves. The ``_el.h5`` on disk (read
with pandas) must have each mouse on its true path before and after the swap frame, the dragged point where it
was dropped, and the previous version kept as ``.bak``. A second test does it with the keyboard alone (pointer on
the frame): arrows step, ``n`` jumps to the swap, ``e`` ends the swap at the next one, ``s`` swaps, Ctrl-Z / Ctrl-Y
undo and redo; the saved file must have each mouse on its own path."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from _steps import js_drawn

from posenb.io.atomic import backup_path
from posenb.widgets._canvas import canvas_size_for_image, fit_view, image_to_canvas
from posenb.widgets._track_timeline import TimelineGeometry

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("copy_logs_on_failure")]

CANVAS = "canvas.posenb-proofread-canvas"
TIMELINE = "canvas.posenb-proofread-timeline"
JS_DRAWN = js_drawn(CANVAS)


def _wait_text(page, selector, text, timeout=15_000):
    page.wait_for_function(
        f"() => {{ const e = document.querySelector({selector!r}); return e && e.textContent.includes({text!r}); }}",
        timeout=timeout,
    )


def _wait_saved(h5, mtime, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if backup_path(h5).exists() and h5.stat().st_mtime > mtime:
            return pd.read_hdf(h5)
        time.sleep(0.1)
    raise AssertionError(f"{h5} was not rewritten within {timeout} s")


def _click_timeline(page, timeline, frame: int, row: int, n_frames: int = 60) -> None:
    """Click ``frame`` in ``row`` of the timeline (TimelineGeometry's default layout)."""
    box = timeline.bounding_box()
    width, height = (
        page.evaluate(f"() => document.querySelector('{TIMELINE}').{a}") for a in ("width", "height")
    )
    g = TimelineGeometry(n_frames=n_frames, n_rows=2, width=width)
    assert g.height == height
    x = g.frame_to_x(frame) + g.px_per_frame / 2
    y = g.row_y(row) + g.row_h / 2
    page.mouse.click(box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height)


def test_jump_to_the_swap_swap_by_clicks_and_save(voila_app, new_page, tmp_path):
    from _proofread_project import LOST, SWAP, make_proofread_project, truth_tracks, write_swapped_tracks

    config = make_proofread_project(tmp_path / "work")
    h5 = write_swapped_tracks(config)
    truth = truth_tracks(config)
    mtime = h5.stat().st_mtime
    page = new_page()
    page.goto(voila_app("track_proofreader.ipynb", config), timeout=120_000)
    page.wait_for_selector(CANVAS, timeout=120_000)
    page.wait_for_function(JS_DRAWN, timeout=30_000)  # the video frame is on the canvas
    _wait_text(page, ".posenb-proofread-status", "suspicious frames")
    # a click on the timeline, mouse2's row, at frame 10: the cursor and A follow
    timeline = page.wait_for_selector(TIMELINE)
    _click_timeline(page, timeline, 10, 1)
    _wait_text(page, ".posenb-proofread-info", "Frame 10 ")
    assert (
        page.eval_on_selector(".posenb-proofread-ind-a select", "e => e.selectedOptions[0].textContent")
        == "mouse2"
    )
    # only identity swaps, then the next one
    page.select_option(".posenb-proofread-kinds select", label="swap")
    page.click(".posenb-proofread-next-suspicious")
    _wait_text(page, ".posenb-proofread-info", f"Frame {SWAP} ")
    _wait_text(page, ".posenb-proofread-status", "swap")
    page.click(".posenb-proofread-swap")
    _wait_text(page, ".posenb-proofread-status", f"from frame {SWAP} on")
    _wait_text(page, ".posenb-proofread-info", "unsaved")
    # drag mouse1's snout on frame 30 by (+3, +2) image px (the frame is shown at a fixed fit: no zoom yet)
    _click_timeline(page, timeline, 30, 0)
    _wait_text(page, ".posenb-proofread-info", "Frame 30 ")
    canvas = page.query_selector(CANVAS).bounding_box()
    view = fit_view(128, 96, *canvas_size_for_image(128, 96, max_w=900, max_h=600, min_w=640))
    assert (canvas["width"], canvas["height"]) == (view.canvas_w, view.canvas_h)
    sx, sy = image_to_canvas(view, *truth[30, 0, 0])
    ex, ey = image_to_canvas(view, *(truth[30, 0, 0] + [3.0, 2.0]))
    page.mouse.move(canvas["x"] + float(sx), canvas["y"] + float(sy))
    page.mouse.down()
    page.mouse.move(canvas["x"] + float(ex), canvas["y"] + float(ey), steps=5)
    page.mouse.up()
    _wait_text(page, ".posenb-proofread-status", "mouse1 snout set to")
    page.click(".posenb-proofread-save")
    _wait_text(page, ".posenb-proofread-status", "Saved")
    df = _wait_saved(h5, mtime)
    scorer = df.columns.get_level_values("scorer")[0]
    expected = truth.copy()
    expected[30, 0, 0] += [3.0, 2.0]  # the dragged snout
    for i, name in enumerate(["mouse1", "mouse2"]):
        x = df[(scorer, name, "snout", "x")].to_numpy()
        y = df[(scorer, name, "snout", "y")].to_numpy()
        ok = np.isfinite(x)
        assert ok[SWAP:LOST].all(), name
        # right before and after SWAP; the dragged point within a pixel (mouse positions are whole CSS px)
        np.testing.assert_allclose(x[ok], expected[ok, i, 0, 0], atol=0.5, err_msg=name)
        np.testing.assert_allclose(y[ok], expected[ok, i, 0, 1], atol=0.5, err_msg=name)
        others = np.delete(np.arange(len(x)), 30)
        np.testing.assert_allclose(x[others][ok[others]], truth[others, i, 0, 0][ok[others]], err_msg=name)
    assert df[(scorer, "mouse1", "snout", "likelihood")].to_numpy()[30] == 1.0
    old = pd.read_hdf(backup_path(h5))
    assert old[(scorer, "mouse1", "snout", "x")].to_numpy()[SWAP] == pytest.approx(truth[SWAP, 1, 0, 0])


def _wait_value(page, selector, value, timeout=15_000):
    page.wait_for_function(
        f"() => {{ const e = document.querySelector({selector!r}); return e && e.value === {value!r}; }}",
        timeout=timeout,
    )


def test_keyboard_steps_jumps_swaps_a_range_undoes_and_redoes(voila_app, new_page, tmp_path):
    """The tracker swapped the mice on frames SWAP-34 only; the keys alone fix it."""
    from _proofread_project import SWAP, make_proofread_project, truth_tracks, write_swapped_tracks

    config = make_proofread_project(tmp_path / "work")
    h5 = write_swapped_tracks(config, swap_until=35)
    truth = truth_tracks(config)
    mtime = h5.stat().st_mtime
    page = new_page()
    page.goto(voila_app("track_proofreader.ipynb", config), timeout=120_000)
    page.wait_for_selector(CANVAS, timeout=120_000)
    page.wait_for_function(JS_DRAWN, timeout=30_000)
    _wait_text(page, ".posenb-proofread-status", "suspicious frames")
    page.select_option(".posenb-proofread-kinds select", label="swap")
    canvas = page.query_selector(CANVAS).bounding_box()
    page.mouse.move(canvas["x"] + 5, canvas["y"] + 5)  # the pointer on the frame: its keys are watched
    page.wait_for_selector(f"{CANVAS}.ipyevents-watched", timeout=10_000)

    def press(key, selector, text):
        page.keyboard.press(key)
        _wait_text(page, selector, text)

    press("ArrowRight", ".posenb-proofread-info", "Frame 1 ")
    press("ArrowRight", ".posenb-proofread-info", "Frame 2 ")
    press("ArrowLeft", ".posenb-proofread-info", "Frame 1 ")
    press("n", ".posenb-proofread-info", f"Frame {SWAP} ")
    assert page.input_value(".posenb-proofread-frame input") == str(SWAP)
    page.keyboard.press("e")
    _wait_value(page, ".posenb-proofread-swap-to input", "35")
    press("s", ".posenb-proofread-status", f"on frames {SWAP}-34")
    _wait_value(page, ".posenb-proofread-swap-to input", "")
    _wait_text(page, ".posenb-proofread-info", "unsaved")
    press("Control+z", ".posenb-proofread-status", "Undone.")
    page.wait_for_function(  # back to the file's state: "saved", not "unsaved"
        "() => { const t = document.querySelector('.posenb-proofread-info').textContent;"
        " return t.endsWith('saved') && !t.includes('unsaved'); }",
        timeout=15_000,
    )
    press("Control+y", ".posenb-proofread-status", "Redone.")
    _wait_text(page, ".posenb-proofread-info", "unsaved")
    press("n", ".posenb-proofread-status", "No suspicious frame after")  # the swap at 35 is gone too
    page.click(".posenb-proofread-save")
    _wait_text(page, ".posenb-proofread-status", "Saved")
    df = _wait_saved(h5, mtime)
    scorer = df.columns.get_level_values("scorer")[0]
    for i, name in enumerate(["mouse1", "mouse2"]):
        x = df[(scorer, name, "snout", "x")].to_numpy()
        ok = np.isfinite(x)
        assert ok[SWAP:35].all(), name
        np.testing.assert_allclose(x[ok], truth[ok, i, 0, 0], err_msg=name)
    old = pd.read_hdf(backup_path(h5))
    assert old[(scorer, "mouse1", "snout", "x")].to_numpy()[SWAP] == pytest.approx(truth[SWAP, 1, 0, 0])
