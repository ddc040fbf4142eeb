"""Outlier search (exact on constructed data) and extract_outlier_frames (files, no overwrites, no hanging)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from posenb.errors import ConfigError, LabelError, PosenbError
from posenb.frames.outliers import (
    extract_outlier_frames,
    find_outliers_fitting,
    find_outliers_jump,
    find_outliers_uncertain,
)
from posenb.io.labels import read_hdf_any
from posenb.io.predictions import array_to_predictions, write_meta, write_predictions
from posenb.project.config import read_config
from posenb.project.paths import get_scorer_name


def smooth(n: int = 200, k: int = 3) -> np.ndarray:
    t = np.arange(n)
    arr = np.zeros((n, k, 3))
    for j in range(k):
        arr[:, j, 0] = 60 + 10 * j + 20 * np.sin(t / 20 + j)
        arr[:, j, 1] = 50 + 15 * np.cos(t / 25 + j)
    arr[:, :, 2] = 0.95
    return arr


def write_analysis(config: str, arr: np.ndarray, meta: dict | None = None) -> tuple[Path, Path, str]:
    cfg = read_config(config)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 1000)
    h5 = video.with_name(video.stem + scorer + ".h5")
    write_predictions(array_to_predictions(arr, scorer, cfg["bodyparts"]), h5)
    if meta:
        write_meta(h5, meta)
    return video, h5, scorer


def demo_poses(n: int = 60) -> np.ndarray:
    """Smooth predictions for the 4 demo body parts, inside the 128x96 frame."""
    arr = smooth(n, 4)
    arr[:, :, 0] += 10
    return arr


# ------------------------------------------------------------------------------------------- searches
def test_jump_finds_the_glitches_and_their_return_frames():
    arr = smooth()
    glitches = [17, 60, 61, 140]  # 60-61: a two-frame glitch
    arr[17, 0, 0] += 40
    arr[[60, 61], 1, 1] -= 30
    arr[140, 2, :2] += 25
    found = find_outliers_jump(arr, epsilon=20)
    # convention: the frame after each move is reported -> the glitch frames and the frames where the point returns
    np.testing.assert_array_equal(found, [17, 18, 60, 62, 140, 141])
    assert set(glitches) - set(found) == {61}  # inside a glitch nothing moves
    step = smooth()
    step[100:, 0, 0] += 50  # a lasting displacement is one jump
    np.testing.assert_array_equal(find_outliers_jump(step, 20), [100])
    step[50, 0, 0] = np.nan  # NaN never counts as a jump
    np.testing.assert_array_equal(find_outliers_jump(step, 20), [100])
    assert find_outliers_jump(arr[:1], 20).size == 0


def test_uncertain_selects_by_likelihood():
    arr = smooth()
    arr[[5, 77], 1, 2] = 0.005
    arr[120, 2, 2] = 0.01  # not below p_bound
    np.testing.assert_array_equal(find_outliers_uncertain(arr, 0.01), [5, 77])
    np.testing.assert_array_equal(find_outliers_uncertain(arr, 0.02), [5, 77, 120])


def test_fitting_flags_a_spike_and_falls_back_to_the_most_distant():
    arr = smooth(150, 1)
    arr[90, 0, :2] += 60
    found = find_outliers_fitting(arr, epsilon=20, ARdegree=1, MAdegree=0)
    assert 90 in found and len(found) <= 4
    top = find_outliers_fitting(arr, epsilon=1000, ARdegree=1, MAdegree=0, numframes2pick=3)
    assert len(top) == 6 and 90 in top


# ------------------------------------------------------------------------------------ extraction files
def test_extract_writes_frames_and_machinelabels(demo_project):
    cfg = read_config(demo_project)
    arr = demo_poses()
    arr[[25, 42], 0, 0] += 35  # two glitches; frames 25, 26, 42, 43 qualify
    video, h5, scorer = write_analysis(demo_project, arr)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    human = folder / f"CollectedData_{cfg['scorer']}.h5"
    human_bytes = human.read_bytes()
    before = {p.name for p in folder.iterdir()}
    out = extract_outlier_frames(demo_project, [str(video)], automatic=True, savelabeled=True, seed=0)
    picked = out[str(video)]
    assert picked == [25, 26, 42]  # img43.png exists already (a labelled demo frame): not a candidate
    new = {p.name for p in folder.iterdir()} - before
    assert {
        "img25.png",
        "img26.png",
        "img42.png",
        "img25labeled.png",
        "machinelabels-iter0.h5",
        "machinelabels.csv",
    } <= new
    assert human.read_bytes() == human_bytes
    png = cv2.cvtColor(cv2.imread(str(folder / "img42.png")), cv2.COLOR_BGR2RGB)
    from posenb.io.video import open_frame_exact

    with open_frame_exact(video) as reader:  # the frame-exact reader extract_frames uses too
        assert png.shape == (96, 128, 3) and np.abs(png.astype(int) - reader.read(42).astype(int)).max() == 0
    ml = read_hdf_any(folder / "machinelabels-iter0.h5")
    assert list(ml.index) == [("labeled-data", "demo_mouse", f"img{i}.png") for i in (25, 26, 42)]
    assert (
        ml.columns.names == ["scorer", "bodyparts", "coords"] and ml.columns.get_level_values(0)[0] == scorer
    )
    assert list(ml.columns.get_level_values(2)[:3]) == ["x", "y", "likelihood"]
    np.testing.assert_allclose(ml.to_numpy().reshape(3, 4, 3), arr[[25, 26, 42]])
    csv = pd.read_csv(folder / "machinelabels.csv", header=[0, 1, 2], index_col=[0, 1, 2])
    np.testing.assert_allclose(csv.to_numpy(), ml.to_numpy())


def test_a_labeled_frame_whose_png_is_gone_is_not_a_candidate(demo_project):
    """extract_frames' rule (frames.extract.taken_frames): a row of a label file takes its frame even when the
    PNG was deleted, so outlier extraction never writes machine labels over a human-labelled frame."""
    cfg = read_config(demo_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    (folder / "img43.png").unlink()  # labelled in CollectedData, image removed by hand
    video, h5, scorer = write_analysis(demo_project, demo_poses())
    out = extract_outlier_frames(
        demo_project, [str(video)], outlieralgorithm="list", frames2use=[43, 44], automatic=True
    )
    assert out[str(video)] == [44] and not (folder / "img43.png").exists()


def test_extract_never_overwrites_and_appends_machinelabels(demo_project):
    cfg = read_config(demo_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    arr = demo_poses()
    video, h5, scorer = write_analysis(demo_project, arr)
    extract_outlier_frames(
        demo_project, [str(video)], outlieralgorithm="list", frames2use=[3, 4], automatic=True
    )
    first = read_hdf_any(folder / "machinelabels-iter0.h5")
    marker = np.full((96, 128, 3), 7, np.uint8)
    cv2.imwrite(str(folder / "img04.png"), marker)  # pretend img04 was edited: it must stay as is
    sha = hashlib.sha256((folder / "img04.png").read_bytes()).hexdigest()
    arr2 = arr.copy()
    arr2[:, :, :2] += 1.0  # new predictions
    write_predictions(array_to_predictions(arr2, scorer, cfg["bodyparts"]), h5)
    out = extract_outlier_frames(
        demo_project, [str(video)], outlieralgorithm="list", frames2use=[4, 8], automatic=True
    )
    assert out[str(video)] == [8]  # frame 4 already has a PNG
    assert hashlib.sha256((folder / "img04.png").read_bytes()).hexdigest() == sha
    ml = read_hdf_any(folder / "machinelabels-iter0.h5")
    assert [i[2] for i in ml.index] == ["img03.png", "img04.png", "img08.png"]
    pd.testing.assert_frame_equal(ml.loc[first.index], first)  # the older rows win
    np.testing.assert_allclose(
        ml.loc[("labeled-data", "demo_mouse", "img08.png")].to_numpy().reshape(4, 3), arr2[8]
    )


def test_cropped_analysis_gets_offset_added(demo_project):
    cfg = read_config(demo_project)
    arr = demo_poses()
    arr[:, :, :2] -= [10, 5]
    video, _, _ = write_analysis(
        demo_project, arr, {"cropping": True, "cropping_parameters": [10, 120, 5, 90]}
    )
    extract_outlier_frames(
        demo_project, [str(video)], outlieralgorithm="list", frames2use=[2], automatic=True
    )
    ml = read_hdf_any(Path(cfg["project_path"]) / "labeled-data" / "demo_mouse" / "machinelabels-iter0.h5")
    np.testing.assert_allclose(ml.to_numpy().reshape(4, 3)[:, :2], arr[2, :, :2] + [10, 5])


def test_no_answer_means_no_extraction(demo_project, capsys, monkeypatch):
    arr = demo_poses()
    arr[30, 0, 0] += 40
    video, _, _ = write_analysis(demo_project, arr)
    monkeypatch.setattr(
        "builtins.input", lambda *a: pytest.fail("input() must not be called without a terminal")
    )
    out = extract_outlier_frames(demo_project, [str(video)], outlieralgorithm="jump")
    assert out[str(video)] == []
    assert "automatic=True" in capsys.readouterr().out
    assert not (
        Path(read_config(demo_project)["project_path"]) / "labeled-data" / "demo_mouse" / "img30.png"
    ).exists()


def test_interactive_answer_is_respected(demo_project, monkeypatch):
    arr = demo_poses()
    arr[30, 0, 0] += 40
    video, _, _ = write_analysis(demo_project, arr)
    monkeypatch.setattr("posenb.io.prompt.stdin_is_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *a: "no")
    assert extract_outlier_frames(demo_project, [str(video)])[str(video)] == []
    monkeypatch.setattr("builtins.input", lambda *a: "yes")
    assert extract_outlier_frames(demo_project, [str(video)], extractionalgorithm="uniform")[str(video)] == [
        30,
        31,
    ]


def test_new_video_is_added_to_the_project(demo_project, tiny_video):
    cfg = read_config(demo_project)
    arr = np.zeros((40, 4, 3))
    arr[:, :, :2] = [[10, 10], [20, 10], [10, 20], [20, 20]]
    arr[:, :, 2] = 0.9
    arr[12, :, 2] = 0.001
    scorer = get_scorer_name(cfg, 1, 0.8, "resnet_50", 1000)
    write_predictions(
        array_to_predictions(arr, scorer, cfg["bodyparts"]), tiny_video.with_name(f"tiny{scorer}.h5")
    )
    out = extract_outlier_frames(
        demo_project, [str(tiny_video)], outlieralgorithm="uncertain", automatic=True
    )
    assert out[str(tiny_video)] == [12]
    cfg = read_config(demo_project)
    assert any(Path(v).stem == "tiny" for v in cfg["video_sets"])
    assert (Path(cfg["project_path"]) / "labeled-data" / "tiny" / "img12.png").exists()


def test_bad_arguments(demo_project):
    arr = demo_poses()
    video, _, _ = write_analysis(demo_project, arr)
    with pytest.raises(ConfigError, match="outlieralgorithm"):
        extract_outlier_frames(demo_project, [str(video)], outlieralgorithm="magic")
    with pytest.raises(ConfigError, match="outside"):
        extract_outlier_frames(
            demo_project, [str(video)], outlieralgorithm="list", frames2use=[70], automatic=True
        )
    with pytest.raises(ConfigError, match="frames2use"):
        extract_outlier_frames(demo_project, [str(video)], outlieralgorithm="list", automatic=True)
    with pytest.raises(LabelError, match="analyze_videos"):
        extract_outlier_frames(demo_project, [str(video)], shuffle=3, automatic=True)
    with pytest.raises(ConfigError, match="extractionalgorithm"):
        extract_outlier_frames(
            demo_project,
            [str(video)],
            outlieralgorithm="list",
            frames2use=list(range(30)),
            extractionalgorithm="random",
            automatic=True,
        )


def test_core_manual_names_the_panel_and_the_public_function(demo_project):
    video, _, _ = write_analysis(demo_project, demo_poses())
    with pytest.raises(PosenbError, match=r"TrajectoryViewer.*posenb.extract_outlier_frames"):
        extract_outlier_frames(demo_project, [str(video)], outlieralgorithm="manual")


def test_public_manual_without_widgets_names_the_panel(demo_project, monkeypatch):
    import posenb

    video, _, _ = write_analysis(demo_project, demo_poses())
    monkeypatch.setitem(
        sys.modules, "posenb.widgets.trajectory_viewer", None
    )  # as without the Jupyter extras
    with pytest.raises(PosenbError, match=r"TrajectoryViewer.*posenb\[jupyter\]"):
        posenb.extract_outlier_frames(demo_project, [str(video)], outlieralgorithm="manual")


def test_public_manual_returns_the_trajectory_panel(demo_project):
    pytest.importorskip("ipywidgets")
    import posenb

    video, _, _ = write_analysis(demo_project, demo_poses())
    panel = posenb.extract_outlier_frames(demo_project, [str(video)], outlieralgorithm="manual")
    assert type(panel).__name__ == "TrajectoryViewer"
    assert panel.data.shape == (60, 4, 3)  # the predictions are loaded
