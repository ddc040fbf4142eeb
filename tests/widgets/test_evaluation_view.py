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


@pytest.fixture
def trained_copy(trained_project, tmp_path):
    """A private copy of the trained project (this test's evaluations stay out of the shared one)."""
    from posenb.project.config import read_config

    src = Path(trained_project).parent
    dst = tmp_path / src.name
    shutil.copytree(src, dst, symlinks=True)
    read_config(dst / "config.yaml")
    return str(dst / "config.yaml")


def _shown(view) -> tuple[pd.DataFrame, float, float]:
    """The table the view shows (copied) and its overall train / test error."""
    return view.table.copy(), view.summary.loc["all", "train"], view.summary.loc["all", "test"]


def test_more_accurate_evaluation_and_back(trained_copy, monkeypatch):
    """The "Run" choice: evaluate at the scales x1.1 + x1.25 (their own file), then switch between the stored
    one-pass and scaled evaluations without predicting again; the status line names the scales shown."""
    import posenb
    import posenb.infer.evaluate as E
    from posenb.infer.multiscale import ACCURATE_SCALES
    from posenb.io.predictions import read_predictions
    from posenb.widgets._run_modes import RUN_MODES

    view = EvaluationView(trained_copy)
    assert view.scales_select.layout.display is None  # single-animal: offered
    assert view.scales_select.options == (
        (RUN_MODES["model"][0], "model"),
        (RUN_MODES["accurate"][0], "accurate"),  # no bfloat16: evaluate_network has no precision
    )
    view.evaluate_button.click()  # as the model is set up: one pass
    assert view.wait(300) and "(one pass): 12 images" in view.status_text, view.status_text
    one, one_train, one_test = _shown(view)
    eval_dir = next(Path(trained_copy).parent.glob("evaluation-results/iteration-0/*shuffle1"))
    assert [p.name.endswith("-snapshot-2.h5") for p in eval_dir.glob("*.h5")] == [True]

    view.scales_select.value = "accurate"  # not evaluated at these scales yet
    assert view.table is None and view.results_html.value == ""
    assert "not evaluated yet (test scales x1.1, x1.25): press Evaluate" in view.status_text, view.status_text
    view.evaluate_button.click()
    assert view.wait(300) and "failed" not in view.status_text, view.status_text
    assert "snapshot-2 (test scales x1.1, x1.25): 12 images" in view.status_text, view.status_text
    tagged = list(eval_dir.glob("*-snapshot-2-scales1.1_1.25.h5"))
    assert len(tagged) == 1
    assert view.results.attrs["test_scales"] == {1: list(ACCURATE_SCALES)}
    multi, multi_train, multi_test = _shown(view)
    # the table is the scaled predictions, and its errors are evaluate_network's figures at these scales
    stored = read_predictions(tagged[0]).to_numpy(dtype=float).reshape(12, 4, 3)
    np.testing.assert_allclose(multi["x"].to_numpy(), stored[..., 0].ravel())
    assert np.nanmax(np.abs(multi["x"].to_numpy() - one["x"].to_numpy())) > 1e-3  # not the one-pass points
    again = posenb.evaluate_network(
        trained_copy,
        snapshots_to_evaluate=["snapshot-2"],
        show_errors=False,
        test_scales=list(ACCURATE_SCALES),
    )
    for got, col in ((multi_train, " Train error(px)"), (multi_test, " Test error(px)")):
        assert round(got, 2) == pytest.approx(view.results[col].iloc[0], abs=0.011)
        assert again[col].iloc[0] == view.results[col].iloc[0]

    # switching reads the stored evaluations: nothing is predicted again
    def no_prediction(*args, **kwargs):
        raise AssertionError("a stored evaluation should have been read")

    monkeypatch.setattr(E, "predict_images", no_prediction)
    view.scales_select.value = "model"
    assert "snapshot-2 (one pass): 12 images" in view.status_text, view.status_text
    pd.testing.assert_frame_equal(view.table, one)
    assert (view.summary.loc["all", "train"], view.summary.loc["all", "test"]) == (one_train, one_test)
    view.scales_select.value = "accurate"
    assert "(test scales x1.1, x1.25): 12 images" in view.status_text, view.status_text
    pd.testing.assert_frame_equal(view.table, multi)
    # a new view opens as the model is set up, on the one-pass figures
    view2 = EvaluationView(trained_copy)
    assert view2.scales_select.value == "model" and "(one pass)" in view2.status_text
    assert view2.summary.loc["all", "train"] == one_train


def test_multi_animal_projects_hide_the_choice(trained_copy, ma_demo_project):
    view = EvaluationView(trained_copy)
    view.scales_select.value = "accurate"
    view.set_config(ma_demo_project)  # multi-animal evaluation runs one pass: no choice, back to "model"
    assert view.scales_select.layout.display == "none" and view.scales_select.value == "model"
    assert view._scales_args() == {}
    view.set_config(trained_copy)
    assert view.scales_select.layout.display is None
