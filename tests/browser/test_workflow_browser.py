"""Issue 15: the whole workflow in the Voila app by clicks alone, on a fresh demo project: create the training
set -> train briefly -> evaluate -> analyze -> filter -> labeled video; each step's files are checked on disk."""

from __future__ import annotations

import contextlib
import io
import re
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("copy_logs_on_failure")]

TAB = ".posenb-app > .lm-TabBar .lm-TabBar-tab"


def _wait_files(folder: Path, pattern: str, timeout: float) -> list[Path]:
    """Poll until ``folder.glob(pattern)`` finds a file; fail naming the pattern if it does not."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = sorted(folder.glob(pattern))
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"no {pattern} under {folder} after {timeout:.0f} s")


def _open_tab(page, title: str, css: str) -> None:
    page.locator(TAB).filter(has_text=re.compile(f"^\\s*{re.escape(title)}\\s*$")).first.click()
    page.wait_for_selector(css, state="visible", timeout=120_000)


def _set_int(page, css: str, value: int) -> None:
    box = page.locator(f"{css} input")
    box.fill(str(value))
    box.press("Enter")


def test_the_whole_workflow_by_clicks(voila_app, new_page, tmp_path):
    from posenb.demo import make_demo_project
    from posenb.project.config import read_config

    with contextlib.redirect_stdout(io.StringIO()):
        config = make_demo_project(tmp_path / "work", n_frames=60, n_labeled=12, width=128, height=96)
    project = Path(read_config(config)["project_path"])
    page = new_page()
    page.goto(voila_app("posenb_app.ipynb", config), timeout=120_000)
    page.wait_for_selector(".posenb-app", timeout=120_000)

    # 1. Training set
    _open_tab(page, "Training set", ".posenb-trainingset-create")
    page.wait_for_selector(".posenb-trainingset-summary >> text=labeled frame", timeout=60_000)
    page.click(".posenb-trainingset-create")
    page.wait_for_selector(".posenb-trainingset-status >> text=Created 1 shuffle", timeout=120_000)
    pose_cfg = _wait_files(project / "dlc-models", "iteration-0/*shuffle1/train/pose_cfg.yaml", 10)[0]
    train_dir = pose_cfg.parent
    assert list((project / "training-datasets").glob("iteration-0/*/CollectedData_*.h5"))

    # 2. Train: 2 iterations, tiny batches
    _open_tab(page, "Train", ".posenb-train-start")
    page.wait_for_selector(".posenb-train-mode-hint >> text=No snapshot yet", timeout=60_000)
    for css, value in ((".posenb-train-maxiters", 2), (".posenb-train-batch-size", 2),
                       (".posenb-train-saveiters", 2), (".posenb-train-displayiters", 1)):
        _set_int(page, css, value)
    page.click(".posenb-train-start")
    _wait_files(train_dir, "snapshot-2.pt", 300)
    page.wait_for_selector(".posenb-status >> text=finished at iteration 2", timeout=120_000)
    assert "ETA" not in page.inner_text(".posenb-train-stats")
    # Start again with Max iters at the snapshot: the panel says why nothing happens
    page.click(".posenb-train-start")
    page.wait_for_selector(".posenb-status >> text=Nothing to do", timeout=30_000)

    # 3. Evaluate
    _open_tab(page, "Evaluate", ".posenb-evaluate-button")
    page.click(".posenb-evaluate-button")
    results = _wait_files(project / "evaluation-results", "iteration-0/*/*.csv", 300)
    assert results[0].stat().st_size > 0

    # 4. Analyze videos (the project's video, selected by default)
    _open_tab(page, "Analyze videos", ".posenb-analyze-run")
    page.wait_for_selector(".posenb-analyze-shuffle >> text=snapshot 2", state="attached", timeout=60_000)
    page.click(".posenb-analyze-run")
    page.wait_for_selector(".posenb-status >> text=Analyzed 1 video", timeout=300_000)
    h5 = _wait_files(project / "videos", "demo_mouseDLC_*shuffle1_2.h5", 10)
    assert h5[0].with_suffix(".csv").is_file()
    assert "demo_mouseDLC_" in page.inner_text(".posenb-analyze-results")

    # 5. Filter and 6. labeled video, in the review tab
    _open_tab(page, "Analyze & review", ".posenb-filter-button")
    page.click(".posenb-filter-button")
    _wait_files(project / "videos", "demo_mouseDLC_*_filtered.h5", 120)
    page.wait_for_function(
        "() => !document.querySelector('.posenb-filter-button').disabled", timeout=60_000
    )
    page.click(".posenb-labeled-video-button")
    video = _wait_files(project / "videos", "demo_mouseDLC_*_labeled.mp4", 300)[0]
    end = time.monotonic() + 60
    while video.stat().st_size == 0 and time.monotonic() < end:
        time.sleep(0.5)
    assert video.stat().st_size > 0
