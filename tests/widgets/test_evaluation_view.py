"""EvaluationView without a browser: pure marker/error logic, then evaluate a 2-iteration model of the tiny demo."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("ipycanvas")

from posenb.infer.evaluate import error_summary  # noqa: E402
from posenb.widgets._review import marker_segments  # noqa: E402
from posenb.widgets.evaluation_view import EvaluationView, evaluation_markers  # noqa: E402


def _table():
    """Two images x two body parts, as posenb.infer.evaluate.evaluation_table returns them."""
    return pd.DataFrame(
        {
            "image": ["a.png", "a.png", "b.png", "b.png"],
            "split": ["train", "train", "test", "test"],
            "bodypart": ["snout", "tail", "snout", "tail"],
            "x_label": [10.0, 20.0, 30.0, np.nan],
            "y_label": [10.0, 20.0, 30.0, np.nan],
            "x": [13.0, 20.0, 30.0, 5.0],
            "y": [14.0, 22.0, 40.0, 5.0],
            "likelihood": [0.9, 0.2, 0.7, 0.1],
            "error_px": [5.0, 2.0, 10.0, np.nan],
        }
    )


def test_error_summary_follows_pcutoff():
    t = _table()
    s = error_summary(t, 0.5)
    assert list(s.index) == ["snout", "tail", "all"]
    assert s.loc["snout", "train"] == 5.0 and s.loc["tail", "train"] == 2.0
    assert s.loc["all", "train"] == pytest.approx(3.5)
    assert s.loc["all", "test"] == 10.0
    assert s.loc["all", "train (p-cutoff)"] == 5.0  # the tail (0.2) is left out
    assert np.isnan(s.loc["tail", "train (p-cutoff)"])
    s2 = error_summary(t, 0.8)
    assert np.isnan(s2.loc["all", "test (p-cutoff)"]) and s2.loc["all", "train (p-cutoff)"] == 5.0


def test_markers_as_dlc_plots():
    t = _table()
    m = evaluation_markers(t[t["image"] == "b.png"], ["snout", "tail"], 0.5)
    assert m.human_part.tolist() == [0]  # the tail is not labeled: no "+"
    assert m.confident_part.tolist() == [0] and m.low_part.tolist() == [1]
    assert m.low_xy.tolist() == [[5.0, 5.0]]
    segs = marker_segments(np.array([[10.0, 10.0]]), 3, "+")
    assert segs.tolist() == [[[7, 10], [13, 10]], [[10, 7], [10, 13]]]
    assert marker_segments(np.zeros((2, 2)), 3, "x").shape == (4, 2, 2)


@pytest.fixture(scope="module")
def trained_project(_demo_project_session, tmp_path_factory):
    """A copy of the tiny demo project with a 2-iteration model (shuffle 1)."""
    pytest.importorskip("posenb.train.api")
    import posenb
    from posenb.project.config import read_config

    src = Path(_demo_project_session).parent
    dst = tmp_path_factory.mktemp("eval") / src.name
    shutil.copytree(src, dst, symlinks=True)
    config = str(dst / "config.yaml")
    read_config(config)
    posenb.create_training_dataset(config, num_shuffles=1)
    posenb.train_network(
        config, maxiters=2, displayiters=1, saveiters=2, progress=False, batch_size=2, crop_size=None
    )
    return config


def test_evaluate_and_browse(trained_project):
    view = EvaluationView(trained_project)
    assert view.shuffle == 1
    assert view.snapshot_select.value == "snapshot-2"
    assert view.table is None and "press Evaluate" in view.status_text
    view.evaluate_button.click()
    assert view.wait(300)
    assert "failed" not in view.status_text, view.status_text
    # evaluate_network's DataFrame (DLC's columns) and the per-body-part table
    assert list(view.results["Training iterations:"]) == [2]
    assert "Train error(px)" in view.results_html.value
    assert len(view.table) == 12 * 4
    s = view.summary
    assert list(s.index) == ["snout", "leftear", "rightear", "tailbase", "all"]
    train_err = view.table.loc[view.table["split"] == "train", "error_px"].mean()
    assert s.loc["all", "train"] == pytest.approx(train_err)
    assert round(s.loc["all", "train"], 2) == pytest.approx(
        view.results[" Train error(px)"].iloc[0], abs=0.011
    )
    # p-cutoff slider: the p-cutoff columns follow it, without predicting again
    view.pcutoff.value = 1.0
    assert np.isnan(view.summary.loc["all", "train (p-cutoff)"]) or (view.table["likelihood"] >= 1.0).any()
    view.pcutoff.value = 0.0
    assert view.summary.loc["all", "train (p-cutoff)"] == pytest.approx(s.loc["all", "train"])
    # browse: 12 images, test ones only, worst first
    assert len(view.images) == 12
    view.split.value = "test"
    n_test = view.table.drop_duplicates("image")["split"].eq("test").sum()
    assert len(view.images) == n_test >= 1
    view.split.value = "all"
    view.order.value = "error"
    worst = view.table.groupby("image")["error_px"].max().idxmax()
    assert view.images[0] == worst
    view.image_select.value = worst
    assert view.image_canvas.image_size == (128, 96)
    m = view.markers
    assert len(m.human_xy) == 4  # every body part labeled on the demo
    assert len(m.confident_xy) + len(m.low_xy) == 4
    first = view.image_select.value
    view.next_button.click()
    assert view.image_select.value == view.images[1] != first
    # a new view on the same project shows the stored evaluation at once
    view2 = EvaluationView(trained_project)
    assert view2.table is not None and len(view2.table) == 48
