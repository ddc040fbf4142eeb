"""The labeler on a multi-animal project in a real browser: Voila serves voila_apps/labeler.ipynb, chromium picks
the second individual, places points by clicks, swaps two individuals, saves; the 4-level CollectedData file on
disk must hold the clicked points (within 1 image pixel) under the swapped individuals."""

from __future__ import annotations

import time

import numpy as np
import pytest
from _steps import js_drawn

from posenb.errors import LabelError
from posenb.io.labels import read_labels

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("copy_logs_on_failure")]

CANVAS = "canvas.posenb-labeler-canvas"
JS_DRAWN = js_drawn(CANVAS)
JS_VIEW = "() => JSON.parse(document.querySelector('.posenb-labeler-view').textContent)"


def _wait_text(page, selector, text, timeout=15_000):
    page.wait_for_function(
        f"() => {{ const e = document.querySelector({selector!r}); return e && e.textContent.includes({text!r}); }}",
        timeout=timeout,
    )


def _wait_file(path, image, check, timeout=15.0):
    """Poll the label file until ``check(row)`` holds for ``image``'s row; returns the row."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            df = read_labels(path)
            row = df.loc[("labeled-data", "clip", image)]
            if check(row):
                return df, row
            last = row
        except (LabelError, KeyError, OSError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError(
        f"{path}: {image} did not get the expected points within {timeout} s; last row {last}"
    )


def test_pick_second_individual_click_swap_and_save(voila_app, new_page, tmp_path):
    from _ma_project import SCORER, make_ma_project, truth

    config, folder = make_ma_project(tmp_path / "work", n_images=3, n_labeled=1, width=320, height=240)
    page = new_page()
    page.goto(voila_app("labeler.ipynb", config), timeout=120_000)
    canvas = page.wait_for_selector(CANVAS, timeout=120_000)
    page.wait_for_function(JS_DRAWN, timeout=30_000)
    box = canvas.bounding_box()
    assert (box["width"], box["height"]) == (640, 480)  # CSS size = canvas size: page px = canvas px
    page.wait_for_selector(".posenb-individual-male", timeout=30_000)

    page.click(".posenb-next")
    _wait_text(page, ".posenb-labeler-status", "(2/3)")
    view = page.evaluate(JS_VIEW)

    def click_image(x, y):
        page.mouse.click(
            box["x"] + (x - view["x0"]) * view["zoom"], box["y"] + (y - view["y0"]) * view["zoom"]
        )

    # the second individual, by its button; its three parts by clicks
    page.click(".posenb-individual-male")
    _wait_text(page, ".posenb-labeler-status", "current: male head")
    animals, _ = truth(3, 320, 240)
    male_clicks = animals[1, 1]
    for k, (x, y) in enumerate(male_clicks):
        click_image(x, y)
        _wait_text(page, ".posenb-labeler-status", f"{k + 1}/7 parts")
    _wait_text(page, ".posenb-labeler-status", "current: single arena")  # next: the unique part
    # the first individual, by its button; its parts where the male should have been
    page.click(".posenb-individual-female")
    _wait_text(page, ".posenb-labeler-status", "current: female head")
    female_clicks = np.array([[200.5, 150.5], [210.5, 160.5], [220.5, 170.5]])
    for k, (x, y) in enumerate(female_clicks):
        click_image(x, y)
        _wait_text(page, ".posenb-labeler-status", f"{k + 4}/7 parts")
    _wait_text(page, ".posenb-labeler-status", "current: single arena")
    # swap the two on this image: the female again (the swap partner defaults to the other individual), then save
    page.click(".posenb-individual-female")
    _wait_text(page, ".posenb-labeler-status", "current: female head")
    page.click(".posenb-swap")
    _wait_text(page, ".posenb-labeler-message", "Swapped female and male")
    page.click(".posenb-save")

    def swapped(row):
        return bool(row.notna().sum() == 12)

    df, row = _wait_file(folder / f"CollectedData_{SCORER}.h5", "img001.png", swapped)
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    for k, part in enumerate(["head", "thorax", "abdomen"]):
        fx, fy = row[(SCORER, "female", part, "x")], row[(SCORER, "female", part, "y")]
        mx, my = row[(SCORER, "male", part, "x")], row[(SCORER, "male", part, "y")]
        assert abs(fx - male_clicks[k][0]) <= 1 and abs(fy - male_clicks[k][1]) <= 1, part  # swapped
        assert abs(mx - female_clicks[k][0]) <= 1 and abs(my - female_clicks[k][1]) <= 1, part
    assert np.isnan(row[(SCORER, "single", "arena", "x")])
    # the first image's labels are still there
    first = df.loc[("labeled-data", "clip", "img000.png")]
    assert first[(SCORER, "female", "head", "x")] == pytest.approx(animals[0, 0, 0, 0])
