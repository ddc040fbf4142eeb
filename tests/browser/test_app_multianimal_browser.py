"""Issue 17: the multi-animal workflow in the Voila app by clicks, on a fresh two-mouse demo project.

Project opened -> labels present (Label tab, one button per individual) -> training set -> a 2-iteration
training of both networks (Train tab) -> analyze the short synthetic video with tracking -> the review tab shows
the individuals (selector, legend, one animal at a time). The files written are checked on disk: the tracked
``_el.h5`` with the project's individuals.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pandas as pd
import pytest
from _steps import open_tab, set_int, wait_files

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("copy_logs_on_failure")]


def test_the_multianimal_workflow_by_clicks(voila_app, new_page, tmp_path):
    from posenb.demo import make_demo_project
    from posenb.project.config import read_config

    with contextlib.redirect_stdout(io.StringIO()):
        config = make_demo_project(
            tmp_path / "work", n_frames=40, n_labeled=8, width=128, height=96, animals=2
        )
    project = Path(read_config(config)["project_path"])
    page = new_page()
    page.goto(voila_app("posenb_app.ipynb", config), timeout=120_000)
    page.wait_for_selector(".posenb-app", timeout=120_000)

    # 1. The project is open; 2. its labels are there, one button per individual in the Label tab
    page.wait_for_selector(".posenb-project-status >> text=demo_mice", timeout=60_000)
    open_tab(page, "Label", "canvas.posenb-labeler-canvas")
    page.wait_for_selector(".posenb-individual-mouse2", timeout=60_000)
    assert "/7)" in page.inner_text(".posenb-labeler-status")  # the labeled frames of demo_mice

    # 3. Training set (multi-animal: the top-down model)
    open_tab(page, "Training set", ".posenb-trainingset-create")
    page.wait_for_selector(".posenb-trainingset-summary >> text=labeled frame", timeout=60_000)
    page.click(".posenb-trainingset-create")
    page.wait_for_selector(".posenb-trainingset-status >> text=Created 1 shuffle", timeout=120_000)
    train_dir = wait_files(project / "dlc-models", "iteration-0/*shuffle1/train/pose_cfg.yaml", 10)[0].parent

    # 4. Train: 2 iterations of each network, tiny batches
    open_tab(page, "Train", ".posenb-train-start")
    page.wait_for_selector(".posenb-train-mode-hint >> text=No snapshot yet", timeout=60_000)
    for css, value in ((".posenb-train-maxiters", 2), (".posenb-train-batch-size", 2),
                       (".posenb-train-saveiters", 2), (".posenb-train-displayiters", 1)):  # fmt: skip
        set_int(page, css, value)
    page.click(".posenb-train-start")
    wait_files(train_dir, "snapshot-2.pt", 300)
    page.wait_for_selector(".posenb-status >> text=finished at iteration 2", timeout=120_000)
    assert (train_dir / "centroid" / "snapshot-2.pt").is_file()

    # 5. Analyze the video with tracking (the project's two individuals)
    open_tab(page, "Analyze videos", ".posenb-analyze-run")
    page.wait_for_selector(".posenb-analyze-shuffle >> text=snapshot 2", state="attached", timeout=60_000)
    page.wait_for_selector(".posenb-analyze-track", state="visible", timeout=10_000)
    assert page.input_value(".posenb-analyze-n-tracks input") == "2"
    page.click(".posenb-analyze-run")
    page.wait_for_selector(".posenb-status >> text=Analyzed 1 video", timeout=300_000)
    el = wait_files(project / "videos", "demo_miceDLC_*shuffle1_2_el.h5", 10)[0]
    df = pd.read_hdf(el)
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert list(dict.fromkeys(df.columns.get_level_values("individuals"))) == ["mouse1", "mouse2"]
    assert len(df) == 40 and el.with_suffix(".csv").is_file()
    assert "_el.h5" in page.inner_text(".posenb-analyze-results")

    # 6. The review tab shows the individuals: legend, selector, one animal at a time
    open_tab(page, "Analyze & review", ".posenb-individual-select")
    page.wait_for_selector(".posenb-status >> text=2 individuals (mouse1, mouse2)", timeout=60_000)
    legend = page.inner_text(".posenb-individuals-legend")
    assert "mouse1" in legend and "mouse2" in legend
    select = page.locator(".posenb-individual-select select")
    assert select.locator("option").all_inner_texts() == ["all", "mouse1", "mouse2"]
    select.select_option("mouse2")  # one animal: the other one greyed out in the legend
    page.wait_for_selector(
        ".posenb-individuals-legend .posenb-individual-hidden >> text=mouse1", timeout=30_000
    )
    assert page.locator(".posenb-individuals-legend .posenb-individual-hidden").count() == 1
    assert page.inner_text(".posenb-part-toggle >> nth=0") == "snout"
    page.wait_for_selector("canvas.posenb-trajectory-canvas", timeout=30_000)
