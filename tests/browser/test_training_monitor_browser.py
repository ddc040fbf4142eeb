"""The training monitor dashboard (voila_apps/training_monitor.ipynb) in a real browser: Start trains the tiny
demo project for real and the loss curve gains points in the page while it runs; after a page reload (a new
kernel) the panel follows that training and its Stop button stops it, leaving a snapshot."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("copy_logs_on_failure")]

# number of points of the loss curve as drawn: the markers (path.dot) of the figure's first curve (the loss Lines
# mark; the legend's sample dot is outside the curves)
N_POINTS_JS = """() => {
  const svg = document.querySelector('.posenb-train-figure svg.svg-figure');
  if (!svg) return -1;
  const curve = svg.querySelector('g.curve');
  return curve ? curve.querySelectorAll('path.dot').length : 0;
}"""


def _tiny_training_set(config: str) -> Path:
    """Training set of the demo with small steps (batch 2, whole 64x48 input, one log row per iteration)."""
    import posenb
    from posenb.project import paths
    from posenb.project.config import read_config

    with contextlib.redirect_stdout(io.StringIO()):
        posenb.create_training_dataset(config, num_shuffles=1)
    cfg = read_config(config)
    train_dir = (
        Path(cfg["project_path"]) / paths.get_model_folder(cfg["TrainingFraction"][0], 1, cfg) / "train"
    )
    pose_cfg = yaml.safe_load((train_dir / "pose_cfg.yaml").read_text())
    pose_cfg.update(batch_size=2, crop_size=None, display_iters=1, save_iters=1000, max_iters=500)
    (train_dir / "pose_cfg.yaml").write_text(yaml.safe_dump(pose_cfg, sort_keys=False))
    return train_dir


def test_curve_grows_while_training(voila_app, new_page, demo_project):
    pytest.importorskip("posenb.train.api")
    train_dir = _tiny_training_set(demo_project)
    page = new_page()
    page.goto(voila_app("training_monitor.ipynb", demo_project), timeout=120_000)
    page.wait_for_selector(".posenb-training-monitor", timeout=120_000)
    page.wait_for_selector(".posenb-train-figure svg.svg-figure", timeout=30_000)
    assert page.evaluate(N_POINTS_JS) == 0
    assert page.input_value(".posenb-train-maxiters input") == "500"  # options come from pose_cfg.yaml
    page.click(".posenb-train-start")
    # points appear in the page while the training runs, and keep coming
    page.wait_for_function(f"() => ({N_POINTS_JS})() >= 2", timeout=90_000)
    first = page.evaluate(N_POINTS_JS)
    page.wait_for_function(f"() => ({N_POINTS_JS})() > {first}", timeout=60_000)
    assert "it/s" in page.inner_text(".posenb-train-stats")
    # a reload opens a new kernel: the panel finds the training of the old one and follows its log
    page.reload()
    page.wait_for_selector(".posenb-train-figure svg.svg-figure", timeout=120_000)
    page.wait_for_selector(".posenb-status >> text=following its log", timeout=30_000)
    page.wait_for_function(f"() => ({N_POINTS_JS})() > {first}", timeout=60_000)
    after_reload = page.evaluate(N_POINTS_JS)
    page.wait_for_function(f"() => ({N_POINTS_JS})() > {after_reload}", timeout=60_000)
    # ... and its Stop button stops that training (through the stop request): a snapshot is saved
    page.click(".posenb-train-stop")
    page.wait_for_selector(".posenb-status >> text=last snapshot: snapshot-", timeout=90_000)
    snaps = sorted(train_dir.glob("snapshot-*.pt"))
    assert snaps, "Stop must leave a snapshot"
    page.wait_for_selector(".posenb-snapshots option", state="attached", timeout=30_000)
    assert snaps[-1].name in page.inner_text(".posenb-snapshots")
    n_rows = len((train_dir / "learning_stats.csv").read_text().splitlines()) - 1
    assert n_rows < 500  # stopped before max_iters
    page.wait_for_function(f"() => ({N_POINTS_JS})() === {n_rows}", timeout=10_000)
