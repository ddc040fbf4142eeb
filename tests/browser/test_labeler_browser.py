"""The labeler in a real browser: Voila serves voila_apps/labeler.ipynb, chromium clicks on the canvas.

The points written to CollectedData must lie within 1 px (image pixels) of where the mouse clicked, also after
zooming with the wheel. ``test_responsiveness`` measures click-to-dot and frame-switch times in the page's own
clock and writes them to the test's tmp folder, or to ``$POSENB_RESPONSIVENESS_JSON`` when set (as
``benchmarks/bench_labeler_browser.py`` does, then writes them into benchmarks/RESULTS.md); nothing is asserted on
speed, and nothing is written into the repository.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import pytest
from _steps import js_drawn

from posenb.errors import LabelError
from posenb.io.labels import read_labels

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("copy_logs_on_failure")]

REPO = Path(__file__).resolve().parents[2]
CANVAS = "canvas.posenb-labeler-canvas"

# JavaScript run in the page ------------------------------------------------------------------------------------
JS_DRAWN = js_drawn(CANVAS)
JS_VIEW = "() => JSON.parse(document.querySelector('.posenb-labeler-view').textContent)"
JS_STATUS = "() => document.querySelector('.posenb-labeler-status').textContent"
JS_PIXEL = f"""([x, y]) => Array.from(document.querySelector('{CANVAS}').getContext('2d').getImageData(x, y, 1, 1).data)"""
# Timing hooks (installed once per page, cheap: no polling). Timestamps of the last mousedown and click, taken
# in the capture phase before any widget sees them, and of every composite of the labeler canvas (ipycanvas'
# MultiCanvas view draws its layers onto the visible <canvas> with drawImage whenever a layer changed).
JS_INSTALL_CLOCK = f"""() => {{
  window.__pb = {{down: 0, click: 0, draws: []}};
  document.addEventListener('mousedown', () => {{ window.__pb.down = performance.now(); }}, true);
  document.addEventListener('click', () => {{ window.__pb.click = performance.now(); }}, true);
  const orig = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function(...args) {{
    const r = orig.apply(this, args);
    if (this.canvas && this.canvas.matches && this.canvas.matches('{CANVAS}')) window.__pb.draws.push(performance.now());
    return r;
  }};
}}"""
JS_RESET = "() => { window.__pb.draws = []; }"
# ms from the mousedown to the first redraw of the canvas after it (the dot appears)
JS_CLICK_TO_DOT = """() => { const t = window.__pb.draws.filter(d => d >= window.__pb.down);
                             return t.length ? t[0] - window.__pb.down : null; }"""
# ms from the click to the last redraw after it (the new frame and its points are on screen)
JS_CLICK_TO_SETTLED = """() => { const t = window.__pb.draws.filter(d => d >= window.__pb.click);
                                 return t.length ? t[t.length - 1] - window.__pb.click : null; }"""


def _open(new_page, url):
    page = new_page()
    page.goto(url, timeout=120_000)
    canvas = page.wait_for_selector(CANVAS, timeout=120_000)
    page.wait_for_function(JS_DRAWN, timeout=30_000)
    page.evaluate(JS_INSTALL_CLOCK)
    return page, canvas


def _wait_status(page, text, timeout=10_000):
    page.wait_for_function(
        f"() => document.querySelector('.posenb-labeler-status').textContent.includes({text!r})",
        timeout=timeout,
    )


def _to_image(view, cx, cy):
    return cx / view["zoom"] + view["x0"], cy / view["zoom"] + view["y0"]


def test_clicks_zoom_and_next_frame_write_labels_within_one_pixel(
    voila_app, new_page, label_project, wait_labels
):
    config, folder = label_project()  # 320x240 frames shown at 640x480 (zoom 2)
    page, canvas = _open(new_page, voila_app("labeler.ipynb", config))
    box = canvas.bounding_box()
    assert (box["width"], box["height"]) == (640, 480)  # CSS size = canvas size: page px = canvas px
    v0 = page.evaluate(JS_VIEW)
    assert v0["zoom"] == 2
    first = page.evaluate(JS_STATUS).split(" (")[0].strip()

    clicks = [(101, 61), (201, 121)]
    for x, y in clicks:
        page.mouse.click(box["x"] + x, box["y"] + y)
    _wait_status(page, "2/4 parts")

    # zoom with the wheel at (400, 300): the image point under the cursor stays under it
    page.mouse.move(box["x"] + 400, box["y"] + 300)
    page.mouse.wheel(0, -200)
    page.wait_for_function(f"() => ({JS_VIEW})().zoom > 2.5", timeout=10_000)
    v1 = page.evaluate(JS_VIEW)
    assert _to_image(v1, 400, 300) == pytest.approx(_to_image(v0, 400, 300), abs=0.5)
    page.mouse.click(box["x"] + 410, box["y"] + 310)
    _wait_status(page, "3/4 parts")

    page.click(".posenb-next")  # changing image saves the labels
    _wait_status(page, "(2/6)")
    row = wait_labels(folder / "CollectedData_posenb.h5", first, 3)
    expected = [_to_image(v0, *clicks[0]), _to_image(v0, *clicks[1]), _to_image(v1, 410, 310)]
    for part, (ex, ey) in zip(["snout", "leftear", "rightear"], expected):
        assert abs(row[("posenb", part, "x")] - ex) <= 1.0 and abs(row[("posenb", part, "y")] - ey) <= 1.0, (
            part
        )
    assert np.isnan(row[("posenb", "tailbase", "x")])

    # keys work while the pointer is over the image: back to the first image, its points are there
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.keyboard.press("ArrowLeft")
    _wait_status(page, "(1/6)")
    _wait_status(page, "3/4 parts")
    # right-click removes a point (no context menu), Save writes it
    page.mouse.click(box["x"] + 410, box["y"] + 310, button="right")
    _wait_status(page, "2/4 parts")
    page.click(".posenb-save")
    wait_labels(folder / "CollectedData_posenb.h5", first, 2)


def test_responsiveness(voila_app, new_page, label_project, tmp_path):
    """Click-to-dot and frame-switch times at 640x480 (written to a JSON file, not asserted)."""
    config, folder = label_project(width=640, height=480)
    page, canvas = _open(new_page, voila_app("labeler.ipynb", config))
    box = canvas.bounding_box()
    click_ms, switch_ms = [], []
    n_frames = 6
    for frame in range(n_frames):
        _wait_status(page, f"({frame + 1}/{n_frames})")
        for k in range(4):
            x, y = 80 + 140 * k, 60 + 60 * frame
            base = page.evaluate(JS_PIXEL, [x, y])
            page.evaluate(JS_RESET)
            page.mouse.click(box["x"] + x, box["y"] + y)
            # the dot is drawn: the pixel under the click changed
            page.wait_for_function(
                f"() => ({JS_PIXEL})([{x}, {y}]).slice(0, 3).join() !== {json.dumps(','.join(map(str, base[:3])))}",
                timeout=10_000,
            )
            click_ms.append(page.evaluate(JS_CLICK_TO_DOT))
        _wait_status(page, "4/4 parts")
        if frame < n_frames - 1:
            page.evaluate(JS_RESET)
            page.click(".posenb-next")
            _wait_status(page, f"({frame + 2}/{n_frames})")
            time.sleep(0.5)  # let every redraw of the switch land
            switch_ms.append(page.evaluate(JS_CLICK_TO_SETTLED))
    page.click(".posenb-save")
    df = None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            df = read_labels(folder / "CollectedData_posenb.h5")
            if len(df) == n_frames and df.notna().all().all():
                break
        except (LabelError, OSError, ValueError):
            pass
        time.sleep(0.1)
    assert df is not None and len(df) == n_frames and df.notna().all().all()
    assert all(t is not None and t > 0 for t in click_ms + switch_ms), (click_ms, switch_ms)
    result = {
        "frame_size": "640x480",
        "click_to_dot_ms": {
            "n": len(click_ms),
            "median": statistics.median(click_ms),
            "max": max(click_ms),
            "p90": float(np.percentile(click_ms, 90)),
        },
        "frame_switch_ms": {
            "n": len(switch_ms),
            "median": statistics.median(switch_ms),
            "max": max(switch_ms),
        },
        "raw": {"click_to_dot_ms": click_ms, "frame_switch_ms": switch_ms},
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
    }
    out = Path(os.environ.get("POSENB_RESPONSIVENESS_JSON") or tmp_path / "labeler_responsiveness.json")
    out.write_text(json.dumps(result, indent=2))
    assert json.loads(out.read_text())["click_to_dot_ms"]["n"] == 4 * n_frames
    print(
        f"\nclick-to-dot median {result['click_to_dot_ms']['median']:.0f} ms, "
        f"frame switch median {result['frame_switch_ms']['median']:.0f} ms"
    )
