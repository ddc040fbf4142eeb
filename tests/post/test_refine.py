"""Refinement core (load, classify, edit, drop, save) and merge_datasets."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from posenb.errors import LabelError
from posenb.frames.outliers import extract_outlier_frames
from posenb.io.labels import read_labels
from posenb.io.predictions import array_to_predictions, write_predictions
from posenb.post.refine import (
    CONFIDENT,
    HUMAN,
    MISSING,
    UNCERTAIN,
    RefinementSession,
    classify_points,
    merge_datasets,
    merge_refined,
)
from posenb.project.config import read_config
from posenb.project.paths import get_scorer_name

MACHINE_FRAMES = [2, 8, 30]  # not among the demo's labelled frames (0, 5, 11, 16, 21, 27, 32, ...)


def with_machine_labels(config: str) -> tuple[dict, Path, np.ndarray]:
    """Predictions for the demo video and machine labels for frames 2, 8 and 30."""
    cfg = read_config(config)
    arr = np.zeros((60, 4, 3))
    arr[:, :, :2] = [[30, 30], [90, 30], [30, 70], [90, 70]]
    arr[:, :, 0] += np.arange(60)[:, None] * 0.1
    arr[:, :, 2] = 0.9
    arr[8, 1, 2] = 0.2  # an uncertain point
    arr[30, 3, :2] = [140, 50]  # outside the 128x96 image
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = get_scorer_name(cfg, 1, 0.8, "resnet_50", 1000)
    write_predictions(
        array_to_predictions(arr, scorer, cfg["bodyparts"]), video.with_name(f"demo_mouse{scorer}.h5")
    )
    extract_outlier_frames(
        config, [str(video)], outlieralgorithm="list", frames2use=MACHINE_FRAMES, automatic=True
    )
    return cfg, Path(cfg["project_path"]) / "labeled-data" / "demo_mouse", arr


def test_classify_points():
    xy = np.array([[[1.0, 1.0], [2.0, 2.0], [np.nan, np.nan], [3.0, 3.0]]])
    lik = np.array([[0.9, 0.1, 0.9, np.nan]])
    np.testing.assert_array_equal(classify_points(xy, lik, 0.5), [[CONFIDENT, UNCERTAIN, MISSING, HUMAN]])


def test_merge_refined_prefers_refined_rows():
    cols = pd.MultiIndex.from_product([["me"], ["a"], ["x", "y"]])
    idx = lambda names: pd.MultiIndex.from_tuples([("labeled-data", "v", n) for n in names])  # noqa: E731
    existing = pd.DataFrame([[1.0, 1.0], [2.0, 2.0]], index=idx(["img1.png", "img2.png"]), columns=cols)
    refined = pd.DataFrame([[9.0, 9.0], [3.0, 3.0]], index=idx(["img2.png", "img3.png"]), columns=cols)
    merged = merge_refined(refined, existing, drop=[("labeled-data", "v", "img1.png")])
    assert [i[2] for i in merged.index] == ["img2.png", "img3.png"]
    assert merged.loc[("labeled-data", "v", "img2.png")].tolist() == [9.0, 9.0]


def test_session_round_trip(demo_project):
    cfg, folder, arr = with_machine_labels(demo_project)
    human_file = folder / f"CollectedData_{cfg['scorer']}.h5"
    human_before = read_labels(human_file)
    s = RefinementSession.load(demo_project, "demo_mouse")
    assert len(s) == len(human_before) + 3
    assert s.scorer == cfg["scorer"] and s.bodyparts == cfg["bodyparts"]
    rows = {name: s.row(name) for name in ("img02.png", "img08.png", "img30.png", "img05.png")}
    assert s.source[rows["img02.png"]] == "machine" and s.source[rows["img05.png"]] == "human"
    classes = s.classify(0.5)
    assert classes[rows["img08.png"], 1] == UNCERTAIN and classes[rows["img08.png"], 0] == CONFIDENT
    assert (classes[rows["img05.png"]] == HUMAN).all()
    np.testing.assert_allclose(s.xy[rows["img02.png"]], arr[2, :, :2])

    s.move_point("img08.png", "leftear", 91.5, 33.25)  # fix the uncertain point
    s.delete_point("img02.png", "tailbase")
    s.move_point("img05.png", "snout", 12.0, 13.0)  # human labels can be corrected too
    s.drop_frame("img30.png")  # invalid frame: out of the table, its PNG to .trash
    assert s.classify(0.5)[s.row("img08.png"), 1] == HUMAN
    path = s.save()

    assert path == human_file and Path(str(human_file) + ".bak").exists()
    saved = read_labels(human_file)
    assert saved.columns.get_level_values(0).unique().tolist() == [cfg["scorer"]]
    assert saved.columns.get_level_values(2).unique().tolist() == ["x", "y"]  # no likelihood
    names = [i[2] for i in saved.index]
    assert "img02.png" in names and "img08.png" in names and "img30.png" not in names
    assert len(saved) == len(human_before) + 2 and saved.index.is_monotonic_increasing
    me = cfg["scorer"]
    assert saved.loc[("labeled-data", "demo_mouse", "img08.png"), (me, "leftear", "x")] == 91.5
    assert np.isnan(saved.loc[("labeled-data", "demo_mouse", "img02.png"), (me, "tailbase", "x")])
    assert saved.loc[("labeled-data", "demo_mouse", "img05.png"), (me, "snout", "y")] == 13.0
    other = ("labeled-data", "demo_mouse", "img11.png")  # untouched human row kept as it was
    pd.testing.assert_series_equal(saved.loc[other], human_before.loc[other])
    assert not (folder / "img30.png").exists() and (folder / ".trash" / "img30.png").exists()

    again = RefinementSession.load(demo_project, folder)  # round trip: what was saved comes back
    assert len(again) == len(saved) and set(again.source) == {"human"}
    np.testing.assert_allclose(again.xy[again.row("img08.png"), 1], [91.5, 33.25])
    assert "img30.png" not in [i[2] for i in again.images]


def test_points_outside_the_image_become_nan(demo_project):
    cfg, folder, arr = with_machine_labels(demo_project)
    s = RefinementSession.load(demo_project, "demo_mouse")
    s.move_point("img02.png", "snout", -3.0, 10.0)
    s.save()
    saved = read_labels(folder / f"CollectedData_{cfg['scorer']}.h5")
    me = cfg["scorer"]
    assert np.isnan(
        saved.loc[("labeled-data", "demo_mouse", "img30.png"), (me, "tailbase", "x")]
    )  # x = 140 > 128
    assert np.isnan(saved.loc[("labeled-data", "demo_mouse", "img02.png"), (me, "snout", "y")])
    assert saved.loc[("labeled-data", "demo_mouse", "img30.png"), (me, "snout", "x")] == pytest.approx(
        arr[30, 0, 0]
    )


def test_unknown_frame_or_part(demo_project):
    with_machine_labels(demo_project)
    s = RefinementSession.load(demo_project, "demo_mouse")
    with pytest.raises(LabelError, match="img99"):
        s.move_point("img99.png", "snout", 1, 1)
    with pytest.raises(LabelError, match="nose"):
        s.move_point("img02.png", "nose", 1, 1)


def test_merge_datasets_bumps_iteration(demo_project):
    cfg = read_config(demo_project)
    base = Path(cfg["project_path"]) / "labeled-data"
    (base / "demo_mouse_labeled").mkdir()  # check_labels output: skipped
    (base / "demo_mouse_labeled" / "img00.png").write_bytes(b"")
    (base / "empty").mkdir()  # no images at all: skipped
    assert merge_datasets(demo_project) == 1 and read_config(demo_project)["iteration"] == 1
    assert merge_datasets(demo_project, forceiterate=5) == 5 and read_config(demo_project)["iteration"] == 5


def test_merge_datasets_refuses_unlabeled_folder(demo_project):
    cfg = read_config(demo_project)
    other = Path(cfg["project_path"]) / "labeled-data" / "other"
    other.mkdir()
    cv2.imwrite(str(other / "img1.png"), np.zeros((8, 8, 3), np.uint8))
    config_bytes = hashlib.sha256(Path(demo_project).read_bytes()).hexdigest()
    with pytest.raises(LabelError, match="other"):
        merge_datasets(demo_project)
    assert hashlib.sha256(Path(demo_project).read_bytes()).hexdigest() == config_bytes


def test_merge_datasets_warns_about_unrefined_machine_labels(demo_project):
    with_machine_labels(demo_project)
    with pytest.warns(UserWarning, match="machine-labelled"):
        assert merge_datasets(demo_project) == 1
