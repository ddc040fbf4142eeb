"""Suggestions in the labeler, in a real browser: points carried forward from a labeled frame appear as hollow
markers; dragging one accepts and moves it, Enter accepts the rest, and the saved file holds them as labels."""

from __future__ import annotations

import numpy as np
import pytest
from _steps import js_drawn

from posenb.io.labels import labels_to_array, read_labels

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("copy_logs_on_failure")]

CANVAS = "canvas.posenb-labeler-canvas"
JS_VIEW = "() => JSON.parse(document.querySelector('.posenb-labeler-view').textContent)"
JS_DRAWN = js_drawn(CANVAS)
BP = ["snout", "leftear", "rightear", "tailbase"]


def _wait_status(page, text, timeout=20_000):
    page.wait_for_function(
        f"() => document.querySelector('.posenb-labeler-status').textContent.includes({text!r})", timeout=timeout
    )


def test_drag_and_enter_accept_suggestions(voila_app, new_page, label_project, wait_labels):
    config, folder = label_project()  # 320x240 frames shown at 640x480 (zoom 2)
    page = new_page()
    page.goto(voila_app("labeler.ipynb", config), timeout=120_000)
    canvas = page.wait_for_selector(CANVAS, timeout=120_000)
    page.wait_for_function(JS_DRAWN, timeout=30_000)
    box = canvas.bounding_box()
    # label the first frame by hand: four points on the (static, textured) floor
    clicks = [(60, 50), (580, 60), (70, 420), (560, 410)]
    for x, y in clicks:
        page.mouse.click(box["x"] + x, box["y"] + y)
    _wait_status(page, "4/4 parts")
    page.click(".posenb-next")
    _wait_status(page, "(2/6)")
    _wait_status(page, "suggested (carried")
    view = page.evaluate(JS_VIEW)
    sugg = {k: (x, y) for k, x, y in view["suggestions"]}
    assert len(sugg) >= 2, view
    first_part = min(sugg)
    # drag the first suggestion 10 canvas px right and 6 down: accepted and moved (the status line above the canvas
    # may have changed its height since the first clicks: measure the canvas again, once it stands still)
    box = canvas.bounding_box()
    for _ in range(20):
        page.wait_for_timeout(250)
        again = canvas.bounding_box()
        if again == box:
            break
        box = again
    sx, sy = (sugg[first_part][0] - view["x0"]) * view["zoom"], (sugg[first_part][1] - view["y0"]) * view["zoom"]
    page.mouse.move(box["x"] + sx, box["y"] + sy)
    page.mouse.down()
    page.mouse.move(box["x"] + sx + 5, box["y"] + sy + 3)
    page.mouse.move(box["x"] + sx + 10, box["y"] + sy + 6)
    page.mouse.up()
    _wait_status(page, "1/4 parts")
    # Enter (pointer over the image) accepts the others
    page.mouse.move(box["x"] + 320, box["y"] + 240)
    page.keyboard.press("Enter")
    _wait_status(page, f"{len(sugg)}/4 parts")
    page.click(".posenb-save")
    status = page.evaluate("() => document.querySelector('.posenb-labeler-status').textContent")
    name = status.split(" (")[0].strip()
    row = wait_labels(folder / "CollectedData_posenb.h5", name, len(sugg))
    saved = labels_to_array(read_labels(folder / "CollectedData_posenb.h5").loc[[row.name]], BP)[0]
    moved = (sugg[first_part][0] + 10 / view["zoom"], sugg[first_part][1] + 6 / view["zoom"])
    assert np.hypot(*(saved[first_part] - moved)) <= 1.0
    for k, xy in sugg.items():
        if k != first_part:
            np.testing.assert_allclose(saved[k], xy, atol=1e-3)
