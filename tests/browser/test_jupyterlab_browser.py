"""The labeler inside JupyterLab (posenb's core use: label in a notebook on a headless server).

A notebook calling ``posenb.label_frames(config)`` is written into a tmp root dir, ``jupyter lab`` serves it on
127.0.0.1, chromium opens it, waits for the kernel's "Idle", runs all cells from the Run menu, clicks on the
labeler canvas, picks a body part with its button, clicks again and presses Save. The CollectedData file must hold
the points within 1 px (image pixels) of the clicks, and the cell must show no error output.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("copy_logs_on_failure")]

NOTEBOOK = "label.ipynb"
CANVAS = ".posenb-labeler-canvas"  # ipycanvas' MultiCanvas is one <canvas> carrying the class
RUN_ALL = '.lm-Menu-item[data-command="runmenu:run-all"]'
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'

JS_IDLE = """() => Array.from(document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem'))
  .some(e => /\\|\\s*Idle$/.test(e.textContent.trim()))"""  # "Python 3 (ipykernel) | Idle"
JS_PROMPTS = (
    "() => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'), e => e.textContent.trim())"
)
JS_DRAWN = f"""() => {{
  const c = document.querySelector('canvas{CANVAS}') || document.querySelector('{CANVAS} canvas');
  if (!c) return false;
  const d = c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data;
  return d[3] > 0;
}}"""
JS_CANVAS_SIZE = f"""() => {{
  const c = document.querySelector('canvas{CANVAS}') || document.querySelector('{CANVAS} canvas');
  return [c.width, c.height];
}}"""
JS_VIEW = "() => JSON.parse(document.querySelector('.posenb-labeler-view').textContent)"
JS_STATUS = "() => document.querySelector('.posenb-labeler-status').textContent"


def _notebook(config: str) -> dict:
    source = f"import posenb\n\nlabeler = posenb.label_frames({config!r})\nlabeler"
    return {
        "cells": [
            {"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "# Label frames"},
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "labeler",
                "metadata": {},
                "outputs": [],
                "source": source,
            },
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture
def lab_notebook(tmp_path, jupyter_lab, label_project):
    """(URL of the labeling notebook in JupyterLab, config path, labeled-data folder)."""
    config, folder = label_project()  # 6 unlabeled 320x240 frames
    root = tmp_path / "lab"
    root.mkdir()
    (root / NOTEBOOK).write_text(json.dumps(_notebook(str(config)), indent=1))
    return f"{jupyter_lab(root)}/lab/tree/{NOTEBOOK}", config, folder


def _wait_status(page, text, timeout=20_000):
    page.wait_for_function(
        f"() => (document.querySelector('.posenb-labeler-status') || {{}}).textContent?.includes({text!r})",
        timeout=timeout,
    )


def _run_all(page) -> None:
    """Run > Run All Cells; once more if no cell started within 20 s (an early Run All can be ignored)."""
    for attempt in range(2):
        page.click('#jp-MainMenu .lm-MenuBar-itemLabel:text-is("Run")')
        page.locator(RUN_ALL).click()
        try:
            page.wait_for_function(
                f"() => ({JS_PROMPTS})().some(p => /\\[(\\*|\\d+)\\]/.test(p))", timeout=20_000
            )
            return
        except Exception:
            if attempt:
                raise
            page.keyboard.press("Escape")  # close the menu if it is still open


def _click_canvas(page, box, scale, cx, cy) -> tuple[float, float]:
    """Click near canvas pixel (cx, cy) at whole page pixels (boxes can be fractional: the ceiling of the box
    plus the offset); returns the canvas pixel actually clicked."""
    px = math.ceil(box["x"]) + round(cx * scale[0])
    py = math.ceil(box["y"]) + round(cy * scale[1])
    page.mouse.click(px, py)
    return (px - box["x"]) / scale[0], (py - box["y"]) / scale[1]


def _to_image(view, cx, cy):
    return cx / view["zoom"] + view["x0"], cy / view["zoom"] + view["y0"]


def test_label_in_jupyterlab(lab_notebook, new_page, wait_labels):
    from posenb.project.config import read_config

    url, config, folder = lab_notebook
    scorer = read_config(config)["scorer"]
    t0 = time.monotonic()
    page = new_page()
    page.set_default_timeout(60_000)
    page.goto(url, timeout=120_000, wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
    page.wait_for_function(JS_IDLE, timeout=120_000)  # the kernel is up: Run All is not ignored
    _run_all(page)

    canvas = page.wait_for_selector(CANVAS, state="visible", timeout=120_000)
    page.wait_for_function(JS_DRAWN, timeout=60_000)
    _wait_status(page, "(1/6)")
    _wait_status(page, "current: snout")
    image = page.evaluate(JS_STATUS).split(" (")[0].strip()
    view = page.evaluate(JS_VIEW)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    cw, ch = page.evaluate(JS_CANVAS_SIZE)
    scale = (box["width"] / cw, box["height"] / ch)  # page px per canvas px (1 unless CSS shrinks the canvas)
    assert box["width"] >= 100 and box["height"] >= 100, box

    # a click labels the current part and selects the next unlabeled one
    c1 = _click_canvas(page, box, scale, 101, 61)
    _wait_status(page, "1/4 parts")
    _wait_status(page, "current: leftear")
    # pick another part with its button, click again
    page.click(".posenb-bodypart-rightear")
    _wait_status(page, "current: rightear")
    c2 = _click_canvas(page, box, scale, 201, 121)
    _wait_status(page, "2/4 parts")
    page.click(".posenb-save")
    page.wait_for_function(
        "() => document.querySelector('.posenb-labeler-message').textContent.includes('Saved')",
        timeout=20_000,
    )

    path = folder / f"CollectedData_{scorer}.h5"
    wait_labels(path, image, 2)
    df = pd.read_hdf(path, "df_with_missing")  # DeepLabCut's key
    row = df.loc[("labeled-data", folder.name, image)]
    for part, (cx, cy) in [("snout", c1), ("rightear", c2)]:
        ex, ey = _to_image(view, cx, cy)
        x, y = row[(scorer, part, "x")], row[(scorer, part, "y")]
        assert abs(x - ex) <= 1.0 and abs(y - ey) <= 1.0, (part, (x, y), (ex, ey))
    assert np.isnan(row[(scorer, "leftear", "x")]) and np.isnan(row[(scorer, "tailbase", "x")])

    # the cell ran once and shows no error (tracebacks and stderr render as stderr outputs in JupyterLab)
    assert "[1]:" in page.evaluate(JS_PROMPTS)
    errors = page.locator(STDERR).all_inner_texts()
    assert not errors, errors
    print(f"\nJupyterLab labeling test: {time.monotonic() - t0:.1f} s from page load to checked labels")
