"""Issue 15: the whole workflow in the Voila app by clicks alone, on a fresh demo project: create the training
set -> train briefly -> evaluate (one pass, then more accurate) -> analyze -> filter -> labeled video; each step's
files are checked on disk."""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

import pytest
from _steps import open_tab, set_int, wait_files

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("copy_logs_on_failure")]


def test_the_whole_workflow_by_clicks(voila_app, new_page, tmp_path):
    from posenb.demo import make_demo_project
    from posenb.project.config import read_config
    from posenb.widgets._run_modes import RUN_MODES

    with contextlib.redirect_stdout(io.StringIO()):
        config = make_demo_project(tmp_path / "work", n_frames=60, n_labeled=12, width=128, height=96)
    project = Path(read_config(config)["project_path"])
    page = new_page()
    page.goto(voila_app("posenb_app.ipynb", config), timeout=120_000)
    page.wait_for_selector(".posenb-app", timeout=120_000)

    # 1. Training set
    open_tab(page, "Training set", ".posenb-trainingset-create")
    page.wait_for_selector(".posenb-trainingset-summary >> text=labeled frame", timeout=60_000)
    page.click(".posenb-trainingset-create")
    page.wait_for_selector(".posenb-trainingset-status >> text=Created 1 shuffle", timeout=120_000)
    pose_cfg = wait_files(project / "dlc-models", "iteration-0/*shuffle1/train/pose_cfg.yaml", 10)[0]
    train_dir = pose_cfg.parent
    assert list((project / "training-datasets").glob("iteration-0/*/CollectedData_*.h5"))

    # 2. Train: 2 iterations, tiny batches
    open_tab(page, "Train", ".posenb-train-start")
    page.wait_for_selector(".posenb-train-mode-hint >> text=No snapshot yet", timeout=60_000)
    for css, value in (
        (".posenb-train-maxiters", 2),
        (".posenb-train-batch-size", 2),
        (".posenb-train-saveiters", 2),
        (".posenb-train-displayiters", 1),
    ):
        set_int(page, css, value)
    page.click(".posenb-train-start")
    wait_files(train_dir, "snapshot-2.pt", 300)
    page.wait_for_selector(".posenb-status >> text=finished at iteration 2", timeout=120_000)
    assert "ETA" not in page.inner_text(".posenb-train-stats")
    # Start again with Max iters at the snapshot: the panel says why nothing happens
    page.click(".posenb-train-start")
    page.wait_for_selector(".posenb-status >> text=Nothing to do", timeout=30_000)

    # 3. Evaluate
    open_tab(page, "Evaluate", ".posenb-evaluate-button")
    page.click(".posenb-evaluate-button")
    results = wait_files(project / "evaluation-results", "iteration-0/*/*.csv", 300)
    assert results[0].stat().st_size > 0
    page.wait_for_selector('.posenb-status:has-text("snapshot-2 (one pass): ")', timeout=120_000)
    # more accurate: input scales x1.1 + x1.25, evaluated into their own file, and the status says so
    page.select_option(".posenb-eval-scales select", label=RUN_MODES["accurate"][0])
    page.wait_for_selector(
        '.posenb-status:has-text("not evaluated yet (test scales x1.1, x1.25)")', timeout=60_000
    )
    page.click(".posenb-evaluate-button")
    page.wait_for_selector(
        '.posenb-status:has-text("snapshot-2 (test scales x1.1, x1.25): ")', timeout=300_000
    )
    assert wait_files(project / "evaluation-results", "iteration-0/*/*-snapshot-2-scales1.1_1.25.h5", 10)
    page.select_option(".posenb-eval-scales select", label=RUN_MODES["model"][0])  # back: the stored one pass
    page.wait_for_selector('.posenb-status:has-text("snapshot-2 (one pass): ")', timeout=60_000)

    # 4. Analyze videos (the project's video, selected by default)
    open_tab(page, "Analyze videos", ".posenb-analyze-run")
    page.wait_for_selector(".posenb-analyze-shuffle >> text=snapshot 2", state="attached", timeout=60_000)
    page.click(".posenb-analyze-run")
    page.wait_for_selector(".posenb-status >> text=Analyzed 1 video", timeout=300_000)
    h5 = wait_files(project / "videos", "demo_mouseDLC_*shuffle1_2.h5", 10)
    assert h5[0].with_suffix(".csv").is_file()
    assert "demo_mouseDLC_" in page.inner_text(".posenb-analyze-results")

    # 5. Filter and 6. labeled video, in the review tab
    open_tab(page, "Analyze & review", ".posenb-filter-button")
    page.click(".posenb-filter-button")
    wait_files(project / "videos", "demo_mouseDLC_*_filtered.h5", 120)
    page.wait_for_function("() => !document.querySelector('.posenb-filter-button').disabled", timeout=60_000)
    page.click(".posenb-labeled-video-button")
    video = wait_files(project / "videos", "demo_mouseDLC_*_labeled.mp4", 300)[0]
    end = time.monotonic() + 60
    while video.stat().st_size == 0 and time.monotonic() < end:
        time.sleep(0.5)
    assert video.stat().st_size > 0
