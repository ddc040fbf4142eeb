"""evaluate_network: DeepLabCut's result files and exact column names; evaluation_table for the panel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

HEADER = (
    ",Training iterations:,%Training dataset,Shuffle number, Train error(px), Test error(px),p-cutoff used,"
    "Train error with p-cutoff,Test error with p-cutoff"
)


def test_results_files_and_columns(trained_copy):
    from posenb.infer.evaluate import RESULT_COLUMNS, evaluate_network
    from posenb.project.config import read_config

    cfg = read_config(trained_copy)
    res = evaluate_network(trained_copy, Shuffles=[1], plotting=True)
    assert list(res.columns) == RESULT_COLUMNS
    assert res.iloc[0]["Training iterations:"] == 50 and res.iloc[0]["%Training dataset"] == 80
    assert res.iloc[0]["Shuffle number"] == 1 and res.iloc[0]["p-cutoff used"] == cfg["pcutoff"]
    assert 0 < res.iloc[0][" Test error(px)"] < 10  # same bound as tests/train

    scorer = f"DLC_effnet_lite0_{cfg['Task']}{cfg['date']}shuffle1_50"
    folder = (
        Path(cfg["project_path"])
        / "evaluation-results"
        / "iteration-0"
        / f"{cfg['Task']}{cfg['date']}-trainset80shuffle1"
    )
    results = folder / f"{scorer}-results.csv"
    assert results.read_text().splitlines()[0] == HEADER
    combined = folder.parent / "CombinedEvaluation-results.csv"
    assert combined.read_text().splitlines()[0] == HEADER
    pred = pd.read_hdf(folder / f"{scorer}-snapshot-50.h5", key="df_with_missing")
    assert pred.shape == (20, 12) and pred.index.nlevels == 3
    kp = pd.read_csv(folder / f"{scorer}-keypoint-results.csv", index_col=0)
    assert kp.index.name == "Error Type"
    assert list(kp.index) == [
        "Train error (px)",
        "Test error (px)",
        "Train error (px) with p-cutoff",
        "Test error (px) with p-cutoff",
    ]
    assert list(kp.columns) == cfg["bodyparts"]
    images = sorted(p.name for p in (folder / f"LabeledImages_{scorer}_snapshot-50").iterdir())
    assert len(images) == 20
    assert sum(n.startswith("Training-demo_mouse-img") for n in images) == 16
    assert sum(n.startswith("Test-demo_mouse-img") for n in images) == 4

    # again: the snapshot is not predicted again, a row is added to each results file
    mtime = (folder / f"{scorer}-snapshot-50.h5").stat().st_mtime_ns
    evaluate_network(trained_copy, Shuffles=[1], show_errors=False, per_keypoint_evaluation=False)
    assert (folder / f"{scorer}-snapshot-50.h5").stat().st_mtime_ns == mtime
    assert len(pd.read_csv(results, index_col=0)) == 2 and len(pd.read_csv(combined, index_col=0)) == 2


def test_all_snapshots_and_comparison_bodyparts(trained_copy):
    from posenb.infer.evaluate import evaluate_network
    from posenb.project.config import read_config, write_config

    cfg = read_config(trained_copy)
    cfg["snapshotindex"] = "all"
    write_config(trained_copy, cfg)
    res = evaluate_network(trained_copy, comparisonbodyparts=["snout"], show_errors=False)
    assert list(res["Training iterations:"]) == [25, 50]
    full = evaluate_network(trained_copy, snapshots_to_evaluate=["snapshot-50"], show_errors=False)
    assert len(full) == 1
    assert not np.isclose(full.iloc[0][" Train error(px)"], res.iloc[1][" Train error(px)"])


def test_evaluation_table_for_the_panel(trained_copy):
    from posenb.infer.evaluate import evaluation_table

    table = evaluation_table(trained_copy)
    assert list(table.columns) == [
        "image",
        "split",
        "bodypart",
        "x_label",
        "y_label",
        "x",
        "y",
        "likelihood",
        "error_px",
    ]
    assert len(table) == 20 * 4
    assert (table["split"] == "test").sum() == 4 * 4 and (table["split"] == "train").sum() == 16 * 4
    assert table["image"].str.startswith("labeled-data/demo_mouse/img").all()
    err = np.sqrt((table.x - table.x_label) ** 2 + (table.y - table.y_label) ** 2)
    np.testing.assert_allclose(err, table.error_px)
    # a second call reads the stored evaluation without building the network: no torch import, same table
    import subprocess
    import sys

    code = (
        "import sys; from posenb.infer.evaluate import evaluation_table; "
        f"t = evaluation_table({str(trained_copy)!r}); t.to_pickle(sys.argv[1]); print('torch' in sys.modules)"
    )
    out = Path(trained_copy).parent / "table.pkl"
    proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True, check=True)
    assert proc.stdout.split()[-1] == "False"
    pd.testing.assert_frame_equal(pd.read_pickle(out), table)


def test_one_error_summary_for_the_csv_files_and_the_panel():
    from posenb.infer.eval_results import error_summary, keypoint_table, pixel_errors, summarize_errors

    labels = np.array([[[10, 10], [20, 20]], [[30, 30], [np.nan, np.nan]], [[0, 0], [5, 5]]], float)
    pred = np.array(
        [[[13, 14, 0.9], [20, 22, 0.2]], [[30, 40, 0.7], [5, 5, 0.1]], [[0, 1, 0.95], [5, 5, 0.3]]]
    )
    err, err_p = pixel_errors(labels, pred, 0.5)
    s = summarize_errors(err, err_p, [0, 2], [1], ["snout", "tail"])
    assert s.loc["snout", "train"] == pytest.approx(3.0) and s.loc["tail", "train"] == pytest.approx(1.0)
    assert s.loc["all", "train"] == pytest.approx(2.0) and s.loc["all", "test"] == pytest.approx(10.0)
    assert s.loc["all", "train (p-cutoff)"] == pytest.approx(3.0)  # the tail's (0.2, 0.3) are left out
    assert np.isnan(s.loc["tail", "test"])  # never labeled in the test split
    keypoints = keypoint_table(err, err_p, [0, 2], [1], ["snout", "tail"])
    assert keypoints.loc["Train error (px)", "snout"] == s.loc["snout", "train"]
    # the panel's summary of evaluation_table rows is the same numbers
    table = pd.DataFrame(
        {
            "image": np.repeat(["a", "b", "c"], 2),
            "split": np.repeat(["train", "test", "train"], 2),
            "bodypart": ["snout", "tail"] * 3,
            "likelihood": pred[..., 2].ravel(),
            "error_px": err.ravel(),
        }
    )
    pd.testing.assert_frame_equal(error_summary(table, 0.5), s)


def test_the_multi_animal_panel_summary_is_the_same_rule_with_one_row_per_labeled_animal():
    """evaluation_table_ma's rows (an ``individual`` column): each labeled animal of an image is one row of the
    error grid; error_summary (and its multi-animal name) gives summarize_errors of that grid."""
    from posenb.infer.eval_results import error_summary, summarize_errors
    from posenb.infer.evaluate_ma_table import error_summary_ma

    # images a (train) and b (test), animals m1 and m2, parts snout and tail: err (image, animal, part)
    err = np.array([[[1.0, 3.0], [5.0, np.nan]], [[2.0, 4.0], [8.0, 6.0]]])
    like = np.array([[[0.9, 0.2], [0.8, np.nan]], [[0.9, 0.9], [0.1, 0.7]]])
    table = pd.DataFrame(
        {
            "image": np.repeat(["a", "b"], 4),
            "split": np.repeat(["train", "test"], 4),
            "individual": np.tile(np.repeat(["m1", "m2"], 2), 2),
            "bodypart": ["snout", "tail"] * 4,
            "error_px": err.ravel(),
            "likelihood": like.ravel(),
        }
    )
    grid, grid_like = err.reshape(4, 2), like.reshape(4, 2)  # rows: (a, m1), (a, m2), (b, m1), (b, m2)
    with np.errstate(invalid="ignore"):
        expected = summarize_errors(
            grid, np.where(grid_like >= 0.5, grid, np.nan), [0, 1], [2, 3], ["snout", "tail"]
        )
    pd.testing.assert_frame_equal(error_summary(table, 0.5), expected)
    pd.testing.assert_frame_equal(error_summary_ma(table, 0.5), expected)
    assert error_summary(table, 0.5).loc["snout", "train"] == pytest.approx(3.0)  # (1 + 5) / 2
    assert error_summary(table, 0.5).loc["snout", "test (p-cutoff)"] == pytest.approx(
        2.0
    )  # m2's 0.1 left out
