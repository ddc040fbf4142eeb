"""Everything after analysis knows individuals: filter, plot, labeled video, skeleton and outlier frames run on a
tracked file ``<stem><DLCscorer>_el.h5`` (two mice + a unique part) as a user runs them, checked on the files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from posenb.errors import ConfigError
from posenb.frames.outliers import extract_outlier_frames
from posenb.frames.swaps import find_identity_swaps
from posenb.io.labels import read_hdf_any
from posenb.io.predictions import array_to_predictions, write_predictions
from posenb.io.video import open_video
from posenb.post._multi import arrays_to_table, read_pose_table, table_arrays
from posenb.post.filtering import filter_array, filterpredictions
from posenb.post.individuals_drawing import point_colors
from posenb.post.labeled_video import create_labeled_video
from posenb.post.plotting import plot_trajectories
from posenb.post.skeleton import analyzeskeleton
from posenb.project.config import project_parts, read_config, write_config
from posenb.project.paths import frame_name, get_scorer_name

N = 60  # demo video: 60 frames, 128x96
SWAP = 40  # tracks of mouse1 and mouse2 exchange from this frame on


def animal(x0: float, vx: float, n: int = N) -> np.ndarray:
    """``(n, 2, 3)``: snout above tailbase (30 px apart), drifting ``vx`` px/frame, likelihood 0.9."""
    t = np.arange(n)
    arr = np.zeros((n, 2, 3))
    arr[:, 0, 0] = arr[:, 1, 0] = x0 + vx * t
    arr[:, 0, 1], arr[:, 1, 1] = 25.0, 55.0
    arr[:, :, 2] = 0.9
    return arr


@pytest.fixture
def ma_project(demo_project):
    """The demo project made multi-animal (mouse1, mouse2 with snout/tailbase; unique part 'corner')."""
    cfg = read_config(demo_project)
    cfg.update(
        multianimalproject=True,
        identity=False,
        individuals=["mouse1", "mouse2"],
        multianimalbodyparts=["snout", "tailbase"],
        uniquebodyparts=["corner"],
        bodyparts="MULTI!",
        skeleton=[["snout", "tailbase"]],
        default_track_method="ellipse",
        pcutoff=0.5,
    )
    write_config(demo_project, cfg)
    return demo_project


def write_tracked(config: str, m1: np.ndarray, m2: np.ndarray, corner: np.ndarray | None = None) -> Path:
    """The tracked file as tracking writes it, plus decoys the search must skip."""
    cfg = read_config(config)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 1000)
    if corner is None:
        corner = np.tile([64.0, 85.0, 0.95], (N, 1, 1))
    parts = project_parts(cfg)
    groups = [("mouse1", list(parts.bodyparts), m1), ("mouse2", list(parts.bodyparts), m2)]
    groups.append(("single", list(parts.unique_bodyparts), corner))
    h5 = video.with_name(video.stem + scorer + "_el.h5")
    write_predictions(arrays_to_table(scorer, groups), h5)
    # decoys: an untracked single-animal-style table and a detections file are not the analysis
    decoy = np.full((N, 2, 3), 1.0)
    write_predictions(
        array_to_predictions(decoy, scorer, ["snout", "tailbase"]),
        video.with_name(video.stem + scorer + ".h5"),
    )
    video.with_name(video.stem + scorer + "_detections.h5").write_bytes(b"")
    return h5


def swapped_tracks() -> tuple[np.ndarray, np.ndarray]:
    a, b = animal(25.0, 0.3), animal(95.0, -0.3)
    a2, b2 = a.copy(), b.copy()
    a2[SWAP:], b2[SWAP:] = b[SWAP:], a[SWAP:]
    return a2, b2


# ------------------------------------------------------------------------------------------------- filter
def test_filterpredictions_filters_each_individual_of_the_tracked_file(ma_project):
    m1, m2 = animal(25.0, 0.3), animal(95.0, -0.3)
    m1[30, 0, 0] += 40  # a one-frame glitch of mouse1's snout
    h5 = write_tracked(ma_project, m1, m2)
    written = filterpredictions(
        ma_project, str(h5.parent / "demo_mouse.mp4"), filtertype="median", windowlength=5
    )
    out = h5.with_name(h5.stem + "_filtered.h5")
    assert written == [out] and out.name.endswith("_el_filtered.h5")
    assert out.with_suffix(".csv").is_file()
    df_in, df_out = read_pose_table(h5), read_pose_table(out)
    assert list(df_out.columns) == list(df_in.columns)
    assert df_out.columns.names == ["scorer", "individuals", "bodyparts", "coords"]
    scorer = df_in.columns[0][0]
    assert df_out[(scorer, "mouse1", "snout", "x")][30] == pytest.approx(25.0 + 0.3 * 30, abs=0.31)
    for ind, bps, arr in table_arrays(df_in):  # each individual filtered on its own
        expect = filter_array(arr, "median", windowlength=5)
        got = df_out.loc[:, (scorer, ind)].to_numpy().reshape(N, len(bps), 3)
        np.testing.assert_allclose(got, expect)
    csv = read_pose_table(out.with_suffix(".csv"))  # DLC's 4 header rows
    assert list(csv.columns) == list(df_out.columns)
    np.testing.assert_allclose(csv.to_numpy(), df_out.to_numpy())
    # the tracked file is untouched; the decoy (untracked) table was not filtered
    assert read_pose_table(h5)[(scorer, "mouse1", "snout", "x")][30] == pytest.approx(m1[30, 0, 0])
    assert not any(p.name.endswith(scorer + "_filtered.h5") for p in h5.parent.iterdir())


def test_missing_tracked_file_says_to_track(ma_project):
    cfg = read_config(ma_project)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 1000)
    write_predictions(
        array_to_predictions(animal(10, 0), scorer, ["snout", "tailbase"]),
        video.with_name(video.stem + scorer + ".h5"),
    )
    with pytest.raises(Exception, match="auto_track=True"):
        filterpredictions(ma_project, str(video))
    with pytest.raises(ConfigError, match="track_method"):
        filterpredictions(ma_project, str(video), track_method="kalman")


# ------------------------------------------------------------------------------------------------- plots
def test_plot_trajectories_one_set_of_figures_per_individual(ma_project):
    h5 = write_tracked(ma_project, animal(25.0, 0.3), animal(95.0, -0.3))
    video = str(h5.parent / "demo_mouse.mp4")
    result = plot_trajectories(ma_project, video)
    folder = h5.parent / "plot-poses" / "demo_mouse"
    names = {"trajectory", "plot", "plot-likelihood", "hist"}
    expected = {f"{n}{ind}.png" for n in names for ind in ("mouse1", "mouse2", "single")}
    assert {p.name for p in result[video]} == expected
    assert all((folder / e).stat().st_size > 1000 for e in expected)
    figs = plot_trajectories(ma_project, video, displayedindividuals=["mouse2"], showfigures=True)[video]
    assert set(figs) == {"mouse2"} and set(figs["mouse2"]) == names
    # mouse2's trajectory figure holds mouse2's points only
    lines = figs["mouse2"]["trajectory"].axes[0].get_lines()
    xs = np.concatenate([ln.get_xdata() for ln in lines])
    assert np.nanmin(xs) > 70
    filterpredictions(ma_project, video)
    paths = plot_trajectories(ma_project, video, filtered=True, displayedbodyparts=["snout"])[video]
    assert {p.name for p in paths} == {
        f"{n}_filtered{ind}.png" for n in names for ind in ("mouse1", "mouse2")
    }


# ----------------------------------------------------------------------------------------- labeled video
def _frames(path: Path, idx: list[int]) -> np.ndarray:
    reader = open_video(path)
    try:
        return reader.get_batch(idx)
    finally:
        reader.close()


def test_labeled_video_colours_each_individual(ma_project):
    m1, m2 = animal(25.0, 0.3), animal(95.0, -0.3)
    h5 = write_tracked(ma_project, m1, m2)
    video = str(h5.parent / "demo_mouse.mp4")
    (out,) = create_labeled_video(ma_project, video, color_by="individual", dotsize=5, alphavalue=1.0)
    assert out.name == h5.stem + "_id_labeled.mp4"
    colors = point_colors(
        [("mouse1", "snout"), ("mouse2", "snout"), ("single", "corner")], "rainbow", "individual"
    )
    frames = _frames(out, [0, 30, 59])
    for frame, t in zip(frames, [0, 30, 59]):
        for arr, own, other in ((m1, colors[0], colors[1]), (m2, colors[1], colors[0])):
            for part in (0, 1):  # both parts of an animal in its own colour
                x, y = arr[t, part, :2]
                px = frame[int(round(y)) - 1 : int(round(y)) + 2, int(round(x)) - 1 : int(round(x)) + 2]
                px = px.reshape(-1, 3).mean(axis=0)
                assert np.abs(px - own).max() < 40 and np.abs(px - other).max() > 80
        corner = frame[84:87, 63:66].reshape(-1, 3).mean(axis=0)
        assert np.abs(corner - colors[2]).max() < 40
    (bp_out,) = create_labeled_video(ma_project, video, color_by="bodypart", dotsize=5, alphavalue=1.0)
    assert bp_out.name == h5.stem + "_bp_labeled.mp4"
    # coloured by body part: both snouts share a colour, snout and tailbase differ
    frame = _frames(bp_out, [10])[0]
    s1, s2 = frame[24:27, 27:30].reshape(-1, 3).mean(0), frame[24:27, 90:93].reshape(-1, 3).mean(0)
    t1 = frame[54:57, 27:30].reshape(-1, 3).mean(0)
    assert np.abs(s1 - s2).max() < 30 and np.abs(s1 - t1).max() > 80


def test_labeled_video_skeleton_per_animal_and_identity_labels(ma_project):
    m1, m2 = animal(25.0, 0.0), animal(95.0, 0.0)  # still animals: bones at x=25 and x=95, y in 25..55
    h5 = write_tracked(ma_project, m1, m2)
    video = str(h5.parent / "demo_mouse.mp4")
    common = dict(color_by="individual", dotsize=3, alphavalue=1.0, keypoints_only=True, overwrite=True)
    (out,) = create_labeled_video(ma_project, video, draw_skeleton=True, skeleton_color="white", **common)
    frame = _frames(out, [5])[0].astype(float)
    assert frame[40, 24:27].max() > 150 and frame[40, 94:97].max() > 150  # a bone inside each animal
    assert frame[25, 45:75].mean() < 30 and frame[55, 45:75].mean() < 30  # no bone across animals
    plain = frame
    (out,) = create_labeled_video(ma_project, video, individual_labels=True, **common)
    labeled = _frames(out, [5])[0].astype(float)
    right_of_1, right_of_2 = (slice(22, 40), slice(31, 60)), (slice(22, 40), slice(102, 128))
    for region in (right_of_1, right_of_2):  # text next to each animal (keypoints_only: black elsewhere)
        assert labeled[region].max() > 100 and plain[region].max() < 40
    assert labeled[60:80, 40:80].max() < 40  # nothing between and below the animals
    (out,) = create_labeled_video(
        ma_project, video, individual_labels=True, fastmode=False, Frames2plot=[5], **common
    )
    slow = _frames(out, [0])[0].astype(float)  # the high-quality (matplotlib) path writes the labels too
    assert slow[right_of_1].max() > 100 and slow[right_of_2].max() > 100


# ---------------------------------------------------------------------------------------------- skeleton
def test_analyzeskeleton_bones_per_individual(ma_project):
    m1, m2 = animal(25.0, 0.3), animal(95.0, -0.3)
    m2[:, 1, 1] = 65.0  # mouse2 is longer: 40 px
    h5 = write_tracked(ma_project, m1, m2)
    (out,) = analyzeskeleton(ma_project, str(h5.parent / "demo_mouse.mp4"), save_as_csv=True)
    assert out.name == h5.stem + "_skeleton.h5"
    table = read_hdf_any(out)
    assert list(dict.fromkeys(table.columns.get_level_values(0))) == [
        "mouse1_snout_tailbase",
        "mouse2_snout_tailbase",
    ]
    np.testing.assert_allclose(table[("mouse1_snout_tailbase", "length")], 30.0)
    np.testing.assert_allclose(table[("mouse2_snout_tailbase", "length")], 40.0)
    np.testing.assert_allclose(table[("mouse1_snout_tailbase", "orientation")], 90.0)  # tailbase below snout
    assert out.with_suffix(".csv").is_file()


# ------------------------------------------------------------------------------------------ outlier frames
def test_find_identity_swaps_on_arrays():
    a, b = swapped_tracks()
    poses = np.stack([a, b], axis=1)  # (n, 2, K, 3)
    np.testing.assert_array_equal(find_identity_swaps(poses, epsilon=20), [SWAP])
    # a jump of one animal alone, or two animals jumping without meeting, is no swap
    glitch = poses.copy()
    glitch[20, 0, :, 0] += 50
    glitch[25, :, :, 1] += 30
    np.testing.assert_array_equal(find_identity_swaps(glitch, epsilon=20), [SWAP])
    np.testing.assert_array_equal(find_identity_swaps(poses[:, :1], epsilon=20), [])
    # two animals running side by side, 12 px apart, 25 px per frame: large moves, no exchange
    run = np.zeros((30, 2, 2, 3))
    run[:, :, :, 0] = 25.0 * np.arange(30)[:, None, None]
    run[:, 1, :, 1] = 12.0
    run[:, :, 1, 1] += 5.0
    np.testing.assert_array_equal(find_identity_swaps(run, epsilon=20), [])
    fast = run.copy()
    fast[15:, 0], fast[15:, 1] = run[15:, 1], run[15:, 0]  # ... until their tracks exchange at 15
    np.testing.assert_array_equal(find_identity_swaps(fast, epsilon=10), [15])


def test_extract_outlier_frames_finds_the_planted_swap(ma_project):
    m1, m2 = swapped_tracks()
    h5 = write_tracked(ma_project, m1, m2)
    video = str(h5.parent / "demo_mouse.mp4")
    picked = extract_outlier_frames(
        ma_project,
        video,
        outlieralgorithm="swap",
        automatic=True,
        extractionalgorithm="uniform",
        savelabeled=True,
    )
    assert picked == {video: [SWAP]}
    cfg = read_config(ma_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    assert (folder / f"img{SWAP}.png").is_file()
    drawn = cv2.cvtColor(cv2.imread(str(folder / f"img{SWAP}labeled.png")), cv2.COLOR_BGR2RGB).astype(float)
    colors = point_colors(
        [("mouse1", "snout"), ("mouse2", "snout"), ("single", "corner")], "rainbow", "individual"
    )
    for arr, color in ((m1, colors[0]), (m2, colors[1])):  # each track drawn in its individual's colour
        x, y = np.rint(arr[SWAP, 0, :2]).astype(int)
        assert np.abs(drawn[y, x] - (0.3 * drawn[y, x + 20] + 0.7 * color)).max() < 8  # alphavalue 0.7 blend
    ml = read_hdf_any(folder / "machinelabels-iter0.h5")
    tracked = read_pose_table(h5)
    assert ml.columns.nlevels == 4 and list(ml.columns) == list(tracked.columns)
    assert list(ml.index) == [("labeled-data", "demo_mouse", f"img{SWAP}.png")]
    np.testing.assert_allclose(ml.to_numpy()[0], tracked.to_numpy()[SWAP])
    assert (
        pd.read_csv(folder / "machinelabels.csv", header=[0, 1, 2, 3], index_col=[0, 1, 2]).shape == ml.shape
    )


def test_extract_outlier_frames_jump_per_individual(ma_project):
    m1, m2 = animal(25.0, 0.3), animal(95.0, -0.3)
    cfg = read_config(ma_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    existing = {p.name for p in folder.glob("img*.png")}  # frames labeled already are never candidates
    glitch = next(t for t in range(5, N - 1) if {frame_name(t, N), frame_name(t + 1, N)}.isdisjoint(existing))
    m2[glitch, 1, 0] += 50  # mouse2's tailbase glitches at one frame only
    write_tracked(ma_project, m1, m2)
    video = str(Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4")
    snouts = extract_outlier_frames(
        ma_project, video, outlieralgorithm="jump", comparisonbodyparts=["snout"], automatic=True
    )
    assert snouts == {video: []}  # comparing only the snouts: no jump
    found = extract_outlier_frames(
        ma_project, video, outlieralgorithm="jump", epsilon=20, automatic=True, extractionalgorithm="uniform"
    )
    assert found == {video: [glitch, glitch + 1]}  # the jump away and the return frame


def test_swap_search_needs_individuals(demo_project):
    cfg = read_config(demo_project)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 1000)
    arr = np.tile(animal(30, 0.0)[:, :1], (1, len(cfg["bodyparts"]), 1))
    write_predictions(
        array_to_predictions(arr, scorer, cfg["bodyparts"]), video.with_name(video.stem + scorer + ".h5")
    )
    with pytest.raises(ConfigError, match="multi-animal"):
        extract_outlier_frames(demo_project, str(video), outlieralgorithm="swap", automatic=True)
