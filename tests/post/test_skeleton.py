"""analyzeskeleton: bone lengths and orientations exact on constructed data, DLC's file layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posenb.errors import ConfigError
from posenb.io.predictions import array_to_predictions, write_predictions
from posenb.post.skeleton import analyzeskeleton, bone_features, skeleton_table
from posenb.project.config import read_config, write_config
from posenb.project.paths import get_scorer_name


def test_lengths_orientations_likelihoods_exact():
    # a at the origin; b around it: right, down (image y grows downwards), left, up, and (3, 4)
    b = np.array([[10.0, 0.0], [0.0, 10.0], [-10.0, 0.0], [0.0, -10.0], [3.0, 4.0], [-1e-12, -0.0]])
    arr = np.zeros((len(b), 2, 3))
    arr[:, 1, :2] = b
    arr[:, 0, 2] = [0.9, 0.2, 0.5, 0.7, 1.0, 0.3]
    arr[:, 1, 2] = [0.4, 0.8, 0.5, 0.1, 0.6, 0.9]
    feats = bone_features(arr, ["a", "b"], [["a", "b"]])[:, 0]
    np.testing.assert_allclose(feats[:, 0], [10, 10, 10, 10, 5, 1e-12])
    np.testing.assert_allclose(feats[:5, 1], [0, 90, 180, 270, np.degrees(np.arctan2(4, 3))])
    assert (feats[:, 1] >= 0).all() and (feats[:, 1] < 360).all()
    np.testing.assert_allclose(feats[:, 2], [0.4, 0.2, 0.5, 0.1, 0.6, 0.3])  # min of both ends


def test_missing_end_gives_nan_and_unknown_part_is_reported():
    arr = np.zeros((2, 2, 3))
    arr[1, 0, :2] = np.nan
    feats = bone_features(arr, ["a", "b"], [["a", "b"]])
    assert np.isnan(feats[1, 0, :2]).all() and np.isfinite(feats[0, 0]).all()
    with pytest.raises(ConfigError, match="nose"):
        bone_features(arr, ["a", "b"], [["a", "nose"]])


def test_table_layout():
    arr = np.zeros((3, 3, 3))
    table = skeleton_table(arr, ["a", "b", "c"], [["a", "b"], ["b", "c"]])
    assert list(table.columns) == [
        (bone, m) for bone in ("a_b", "b_c") for m in ("length", "orientation", "likelihood")
    ]
    assert list(table.index) == [0, 1, 2]


def test_analyzeskeleton_writes_skeleton_files(demo_project):
    cfg = read_config(demo_project)
    cfg["skeleton"] = [["snout", "tailbase"], ["leftear", "rightear"]]
    write_config(demo_project, cfg)
    arr = np.zeros((60, 4, 3))
    arr[:, 0, :2] = [50, 40]  # snout
    arr[:, 3, :2] = [50, 70]  # tailbase, 30 px below
    arr[:, 1, :2] = [40, 45]
    arr[:, 2, :2] = [60, 45]
    arr[:, :, 2] = 0.8
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = get_scorer_name(cfg, 1, 0.8, "resnet_50", 1000)
    h5 = video.with_name(f"demo_mouse{scorer}.h5")
    write_predictions(array_to_predictions(arr, scorer, cfg["bodyparts"]), h5)
    out = analyzeskeleton(demo_project, [str(video)], save_as_csv=True)
    assert out == [h5.with_name(h5.stem + "_skeleton.h5")] and out[0].with_suffix(".csv").exists()
    table = pd.read_hdf(out[0], "df_with_missing")
    np.testing.assert_allclose(table[("snout_tailbase", "length")], 30)
    np.testing.assert_allclose(table[("snout_tailbase", "orientation")], 90)
    np.testing.assert_allclose(table[("leftear_rightear", "length")], 20)
    np.testing.assert_allclose(table[("leftear_rightear", "orientation")], 0)
    # filtered predictions give ..._filtered_skeleton.h5, and the skeleton file is never taken for predictions
    write_predictions(
        array_to_predictions(arr, scorer, cfg["bodyparts"]), h5.with_name(h5.stem + "_filtered.h5")
    )
    out_f = analyzeskeleton(demo_project, [str(video)], filtered=True)
    assert out_f[0].name == h5.stem + "_filtered_skeleton.h5"


def test_analyzeskeleton_needs_a_skeleton(demo_project):
    cfg = read_config(demo_project)
    cfg["skeleton"] = []
    write_config(demo_project, cfg)
    with pytest.raises(ConfigError, match="skeleton"):
        analyzeskeleton(demo_project, [str(Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4")])


def test_skeleton_indices_is_the_one_rule_for_drawing_bones():
    from posenb.post.skeleton import skeleton_indices
    from posenb.widgets import labeler_state

    parts = ["snout", "leftear", "rightear", "tailbase"]
    skeleton = [["snout", "leftear"], ["snout", "tailbase"], ["snout", "paw"], ["rightear"], ("leftear", "rightear")]
    assert skeleton_indices(parts, skeleton) == ((0, 1), (0, 3), (1, 2))  # unknown parts and non-pairs dropped
    assert skeleton_indices(parts, None) == ()
    assert labeler_state.skeleton_indices is skeleton_indices  # the labeler draws with the same rule
