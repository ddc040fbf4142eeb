"""The track proofreader in a real browser: Voila serves voila_apps/track_proofreader.ipynb on a two-mouse
project whose tracked file has the identities exchanged from frame SWAP on (tests/_proofread_project.py);
chromium clicks the timeline, picks the "swap" kind, jumps to the swap with "Next suspicious", swaps the two
from there with "Swap A/B from here" and saves. The ``_el.h5`` on disk (read with pandas) must have each mouse
on its true path before and after the swap frame, and the previous version must be kept as ``.bak``."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from posenb.io.atomic import backup_path

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("copy_logs_on_failure")]

CANVAS = "canvas.posenb-proofread-canvas"
TIMELINE = "canvas.posenb-proofread-timeline"
JS_DRAWN = f"""() => {{
  const c = document.querySelector('{CANVAS}');
  if (!c) return false;
  const d = c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data;
  return d[3] > 0;
}}"""


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
    box = timeline.bounding_box()
    width, height = (
        page.evaluate(f"() => document.querySelector('{TIMELINE}').{a}") for a in ("width", "height")
    )
    label_w, row_h, gap, top = 90, 16, 4, 4  # TimelineGeometry's defaults
    x = label_w + (10 + 0.5) * (width - label_w) / 60
    y = top + (row_h + gap) + row_h / 2
    page.mouse.click(box["x"] + x * box["width"] / width, box["y"] + y * box["height"] / height)
    _wait_text(page, ".posenb-proofread-info", "Frame 10 ")
    # only identity swaps, then the next one
    page.select_option(".posenb-proofread-kinds select", label="swap")
    page.click(".posenb-proofread-next-suspicious")
    _wait_text(page, ".posenb-proofread-info", f"Frame {SWAP} ")
    _wait_text(page, ".posenb-proofread-status", "swap")
    page.click(".posenb-proofread-swap")
    _wait_text(page, ".posenb-proofread-status", f"from frame {SWAP} on")
    _wait_text(page, ".posenb-proofread-info", "unsaved")
    page.click(".posenb-proofread-save")
    _wait_text(page, ".posenb-proofread-status", "Saved")
    df = _wait_saved(h5, mtime)
    scorer = df.columns.get_level_values("scorer")[0]
    for i, name in enumerate(["mouse1", "mouse2"]):
        x = df[(scorer, name, "snout", "x")].to_numpy()
        y = df[(scorer, name, "snout", "y")].to_numpy()
        ok = np.isfinite(x)
        assert ok[SWAP:LOST].all(), name
        np.testing.assert_allclose(x[ok], truth[ok, i, 0, 0], err_msg=name)  # right before and after SWAP
        np.testing.assert_allclose(y[ok], truth[ok, i, 0, 1], err_msg=name)
    old = pd.read_hdf(backup_path(h5))
    assert old[(scorer, "mouse1", "snout", "x")].to_numpy()[SWAP] == pytest.approx(truth[SWAP, 1, 0, 0])
