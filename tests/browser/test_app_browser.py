"""The full app (voila_apps/posenb_app.ipynb) in a real browser: every tab opens, the canvases draw."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("copy_logs_on_failure")]

TITLES = [
    "Project",
    "Extract frames",
    "Label",
    "Check labels",
    "Label QC & next frames",
    "Training set",
    "Train",
    "Evaluate",
    "Analyze videos",
    "Analyze & review",
    "Proofread tracks",
    "Refine",
    "3D calibration",
]


def _slug(title: str) -> str:
    return re.sub("-+", "-", "".join(c if c.isalnum() else "-" for c in title.lower())).strip("-")


def _canvas_drawn(page, selector: str) -> None:
    page.wait_for_function(
        f"""() => {{ const c = document.querySelector('{selector}');
                     return c && c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data[3] > 0; }}""",
        timeout=30_000,
    )


def test_walk_every_tab(voila_app, new_page, tmp_path):
    from posenb.demo import make_demo_project

    with contextlib.redirect_stdout(io.StringIO()):
        config = make_demo_project(tmp_path / "work", n_frames=60, n_labeled=6)
    page = new_page()
    page.goto(voila_app("posenb_app.ipynb", config), timeout=120_000)
    page.wait_for_selector(".posenb-app", timeout=120_000)
    # the Project tab opens on the project's status
    page.wait_for_selector(".posenb-project-status >> text=demo_mouse", timeout=30_000)
    tabs = page.locator(".posenb-app > .lm-TabBar .lm-TabBar-tab")
    titles = [t.strip() for t in tabs.all_inner_texts()]
    present = [t for t in TITLES if t in titles]
    assert titles == present and titles[:4] == TITLES[:4]  # workflow order
    for title in titles:
        page.locator(".posenb-app > .lm-TabBar .lm-TabBar-tab").filter(
            has_text=re.compile(f"^\\s*{re.escape(title)}\\s*$")  # exact: "Train" is not "Training set"
        ).first.click()
        box = page.locator(f".posenb-tab-{_slug(title)}")
        box.wait_for(state="visible", timeout=30_000)
        page.wait_for_function(
            f"() => !document.querySelector('.posenb-tab-{_slug(title)}').textContent.includes('Loading')",
            timeout=60_000,
        )
        errors = box.locator(".posenb-panel-error")
        assert errors.count() == 0, f"{title}: {errors.first.inner_text()}"
        if title == "Extract frames":
            _canvas_drawn(
                page, "canvas.posenb-grabber-canvas"
            )  # built after the page loaded: drawn on client_ready
        if title == "Label":
            _canvas_drawn(page, "canvas.posenb-labeler-canvas")
            assert "(1/6)" in page.inner_text(".posenb-labeler-status")
        if title == "Check labels":
            page.click(".posenb-run-check-labels")
            page.wait_for_selector(".posenb-check-caption >> text=demo_mouse_labeled", timeout=60_000)
