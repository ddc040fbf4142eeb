"""Track proofreading: edits on small arrays with exact values, undo/redo, save (DeepLabCut's table, .bak, csv),
load_track_editor's lookup and error, and send_to_training_set into a tiny multi-animal project."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from posenb.errors import LabelError, ProofreadError
from posenb.track.files import tracked_table, write_tracked
from posenb.track.proofread import TrackEditor, load_track_editor
from posenb.track.training_set import send_to_training_set

NAN = np.nan


def small_tracks(T=6) -> np.ndarray:
    """(T, 3, 2, 3): track a at x = 10 + t, track b at x = 100 + t (head; tail 1 px right), track c empty."""
    tracks = np.full((T, 3, 2, 3), NAN)
    for t in range(T):
        tracks[t, 0] = [[10 + t, 1, 0.9], [11 + t, 1, 0.8]]
        tracks[t, 1] = [[100 + t, 2, 0.7], [101 + t, 2, 0.6]]
    return tracks


def editor(tracks=None, **kw) -> TrackEditor:
    tracks = small_tracks() if tracks is None else tracks
    return TrackEditor(tracks, ["a", "b", "c"], ["head", "tail"], scorer="DLC_test", **kw)


def test_editor_copies_and_exposes_read_only_views():
    tracks = small_tracks()
    ed = editor(tracks)
    assert ed.n_frames == 6 and ed.poses.shape == (6, 3, 2, 2) and ed.likelihood.shape == (6, 3, 2)
    with pytest.raises(ValueError):
        ed.poses[0, 0, 0, 0] = 5.0
    ed.set_point(0, "a", "head", 1.0, 2.0)
    assert tracks[0, 0, 0, 0] == 10  # the caller's array is not edited
    assert ed.segments("a") == [(0, 6)] and ed.segments(2) == [] and ed.dirty


def test_swap_from_a_frame_on_and_on_a_range_with_undo_redo():
    ed, orig = editor(), small_tracks()
    ed.swap("a", "b", 2)
    np.testing.assert_array_equal(ed.tracks[2:, 0], orig[2:, 1])
    np.testing.assert_array_equal(ed.tracks[2:, 1], orig[2:, 0])
    np.testing.assert_array_equal(ed.tracks[:2], orig[:2])
    assert ed.edited_frames == {2} and ed.dirty and ed.history == ["swap a <-> b on frames 2-5"]
    assert ed.undo() and not ed.dirty and ed.edited_frames == set()
    np.testing.assert_array_equal(ed.tracks, orig)
    assert ed.redo() and ed.tracks[5, 0, 0, 0] == 105 and not ed.redo()
    ed.swap(1, 0, 3, 4)  # back on frame 3 only
    assert ed.tracks[3, 0, 0, 0] == 13 and ed.tracks[4, 0, 0, 0] == 104
    with pytest.raises(ProofreadError, match="two different"):
        ed.swap("a", "a", 0)
    with pytest.raises(ProofreadError, match="Unknown individual 'zed'"):
        ed.swap("a", "zed", 0)


def test_cut_moves_the_rest_of_the_segment_to_a_free_track():
    ed, orig = editor(), small_tracks()
    assert ed.cut("a", 3) == "c"
    np.testing.assert_array_equal(ed.tracks[3:, 2], orig[3:, 0])
    assert np.isnan(ed.poses[3:, 0]).all() and (ed.likelihood[3:, 0] == 0).all()
    np.testing.assert_array_equal(ed.tracks[:3, 0], orig[:3, 0])
    assert ed.segments("a") == [(0, 3)] and ed.segments("c") == [(3, 6)] and ed.edited_frames == {3}
    with pytest.raises(ProofreadError, match="b has points on frames \\[4, 5\\]"):
        ed.cut("c", 4, to="b")
    with pytest.raises(ProofreadError, match="no point at frame 4"):
        ed.cut("a", 4)
    ed.delete("c", 0, 6)
    ed.undo()
    with pytest.raises(ProofreadError, match="No track is free"):
        ed.cut("b", 0)  # a (frames 0-2) and c (3-5) both busy somewhere on 0-5


def test_cut_stops_at_the_end_of_the_segment():
    tracks = small_tracks(8)
    tracks[5, 0] = NAN  # a gap: a's segments are 0-4 and 6-7
    ed = editor(tracks)
    assert ed.cut("a", 2, to="c") == "c"
    assert ed.segments("a") == [(0, 2), (6, 8)] and ed.segments("c") == [(2, 5)]


def test_join_moves_points_into_an_empty_track_and_restores_a_cut():
    ed, orig = editor(), small_tracks()
    ed.cut("a", 3)
    ed.join("c", "a", 0, 6)
    np.testing.assert_array_equal(ed.tracks[:, :2], orig[:, :2])
    assert np.isnan(ed.poses[:, 2]).all() and (ed.likelihood[3:, 2] == 0).all()  # emptied: likelihood 0
    assert ed.edited_frames == {0, 3} and len(ed.history) == 2
    with pytest.raises(ProofreadError, match="already has points on frames \\[0, 1, 2, 3, 4\\]"):
        ed.join("a", "b", 0, 6)
    with pytest.raises(ProofreadError, match="c has no point"):
        ed.join("c", "a", 0, 6)


def test_delete_and_points():
    ed = editor()
    ed.delete("b", 1, 3)
    assert np.isnan(ed.poses[1:3, 1]).all() and (ed.likelihood[1:3, 1] == 0).all()
    assert ed.segments("b") == [(0, 1), (3, 6)] and ed.tracks[3, 1, 0, 0] == 103
    ed.set_point(4, "a", "tail", 50, 60)
    np.testing.assert_array_equal(ed.tracks[4, 0], [[14, 1, 0.9], [50, 60, 1.0]])
    ed.delete_point(4, "a", 0)
    assert np.isnan(ed.tracks[4, 0, 0, :2]).all() and ed.tracks[4, 0, 0, 2] == 0
    assert ed.edited_frames == {1, 4}
    ed.set_point(2, "c", "head", 7, 8)  # a point on an empty track starts it
    assert ed.segments("c") == [(2, 3)]
    with pytest.raises(ProofreadError, match="Unknown body part"):
        ed.set_point(0, "a", "wing", 1, 1)
    with pytest.raises(ProofreadError, match="frame 6 out of range"):
        ed.set_point(6, "a", "head", 1, 1)
    while ed.undo():
        pass
    np.testing.assert_array_equal(ed.tracks, small_tracks())
    assert not ed.dirty


@pytest.mark.parametrize(
    "edit",
    [
        lambda ed: ed.swap("a", "b", 1, 4),
        lambda ed: ed.cut("b", 2),
        lambda ed: (ed.cut("a", 2, to="c"), ed.join("c", "a", 0, 6)),
        lambda ed: ed.delete("a", 0, 6),
        lambda ed: ed.set_point(5, "c", "tail", 1.5, 2.5),
        lambda ed: ed.delete_point(0, "b", "tail"),
    ],
)
def test_every_edit_undoes_and_redoes_exactly(edit):
    ed = editor()
    edit(ed)
    edited = ed.tracks.copy()
    assert ed.dirty and not np.array_equal(edited, small_tracks(), equal_nan=True)
    while ed.undo():
        pass
    np.testing.assert_array_equal(ed.tracks, small_tracks())
    assert not ed.dirty and ed.edited_frames == set()
    while ed.redo():
        pass
    np.testing.assert_array_equal(ed.tracks, edited)


def test_a_refused_edit_changes_nothing():
    ed = editor()
    for bad in (
        lambda: ed.cut("a", 0, to="b"),
        lambda: ed.join("a", "b", 0, 6),
        lambda: ed.swap("a", "b", 9),
    ):
        with pytest.raises(ProofreadError):
            bad()
    np.testing.assert_array_equal(ed.tracks, small_tracks())
    assert ed.history == [] and not ed.dirty


def test_a_new_edit_clears_redo_and_a_no_op_records_nothing():
    ed = editor()
    ed.delete("c", 0, 6)  # c is already empty... but its likelihood was NaN: becomes 0
    ed.delete("c", 0, 6)  # now nothing changes
    assert len(ed.history) == 1
    ed.undo()
    ed.swap("a", "b", 0)
    assert not ed.redo()


def test_low_confidence_runs():
    tracks = small_tracks()
    tracks[2:4, 1, :, 2] = 0.3
    ed = editor(tracks)
    assert ed.low_confidence("b", 0.6) == [(2, 4)]
    assert ed.low_confidence("b", 0.65) == [(0, 6)]  # b's mean likelihood is 0.65
    assert ed.low_confidence("a", 0.6) == [] and ed.low_confidence("c", 0.6) == []


def walking(T=40) -> np.ndarray:
    t = np.arange(T, dtype=float)
    tracks = np.zeros((T, 2, 3, 3))
    for i, y in enumerate((50.0, 150.0)):
        for k in range(3):
            tracks[:, i, k] = np.stack([10 + 2 * t + 10 * k, np.full(T, y), np.full(T, 0.9)], -1)
    return tracks


def test_next_and_prev_suspicious_follow_the_edits():
    tracks = walking()
    tracks[20:] = tracks[20:, ::-1].copy()  # swapped by the tracker from frame 20
    tracks[30, 0, :, 2] = 0.1
    ed = TrackEditor(tracks, ["female", "male"], ["head", "thorax", "abdomen"])
    s = ed.next_suspicious(0)
    assert (s.frame, s.kind, s.individuals) == (20, "swap", ("female", "male"))
    assert ed.next_suspicious(20).frame == 30 and ed.next_suspicious(30) is None
    assert ed.prev_suspicious(30).frame == 20 and ed.prev_suspicious(20) is None
    assert ed.next_suspicious(0, kinds="confidence").frame == 30
    ed.swap("female", "male", s.frame)  # fixed
    assert [(x.frame, x.kind, x.individuals) for x in ed.suspicious()] == [(30, "confidence", ("male",))]
    ed.undo()
    assert ed.next_suspicious(0).kind == "swap"
    assert ed.suspicious(pcutoff=0.05) == ed.suspicious()[:1] and ed.next_suspicious(20) is None


def test_swap_on_a_range_until_the_animals_meet_again_with_undo_and_save(tmp_path):
    truth = walking()
    tracks = truth.copy()
    tracks[20:32] = tracks[20:32, ::-1].copy()  # the tracker swapped them on frames 20-31 only
    path = write_tracked(
        tracked_table(tracks, "DLC_test", ["female", "male"], ["head", "thorax", "abdomen"]),
        tmp_path / "walkDLC_test_el.h5",
    )
    ed = TrackEditor.load(path)
    start = ed.next_suspicious(0, kinds="swap")
    stop = ed.next_suspicious(start.frame, kinds="swap", individuals=["male"])
    assert (start.frame, stop.frame) == (20, 32)
    assert ed.prev_suspicious(32, individuals=["female"]).frame == 20
    assert ed.next_suspicious(0, individuals=[1]).frame == 20
    ed.swap("female", "male", start.frame, stop.frame)
    np.testing.assert_array_equal(ed.tracks, truth)  # both ends fixed, the frames after 31 untouched
    assert ed.history == ["swap female <-> male on frames 20-31"] and ed.edited_frames == {20}
    assert not [s for s in ed.suspicious() if s.kind == "swap"]
    assert ed.undo()
    np.testing.assert_array_equal(ed.tracks, tracks)
    assert ed.redo()
    np.testing.assert_array_equal(ed.tracks, truth)
    assert ed.save() == path
    df = pd.read_hdf(path)
    for i, name in enumerate(["female", "male"]):
        np.testing.assert_array_equal(
            df.loc[:, ("DLC_test", name, "head", "y")].to_numpy(), truth[:, i, 0, 1]
        )
    old = pd.read_hdf(str(path) + ".bak")
    np.testing.assert_array_equal(
        old.loc[:, ("DLC_test", "female", "head", "y")].to_numpy(), tracks[:, 0, 0, 1]
    )
    # stop = n_frames is "to the end", like None
    ed.swap("female", "male", 35, 40)
    np.testing.assert_array_equal(ed.tracks[35:], truth[35:, ::-1])
    assert ed.history[-1] == "swap female <-> male on frames 35-39"


@pytest.mark.parametrize("stop", [20, 19, 0, 41, 1000])
def test_a_swap_with_a_bad_end_frame_says_so_and_changes_nothing(stop):
    ed = TrackEditor(walking(), ["female", "male"], ["head", "thorax", "abdomen"])
    with pytest.raises(
        ProofreadError, match=rf"end frame {stop} must be after the start frame 20 and at most 40"
    ):
        ed.swap("female", "male", 20, stop)
    np.testing.assert_array_equal(ed.tracks, walking())
    assert ed.history == [] and not ed.dirty


def write_file(path: Path, tracks, individuals=("a", "b", "c"), csv=True) -> Path:
    T = len(tracks)
    unique = np.stack([np.full(T, 5.0), np.arange(T, dtype=float), np.full(T, 0.5)], -1)[:, None]
    df = tracked_table(tracks, "DLC_test", list(individuals), ["head", "tail"], unique, ["arena"])
    return write_tracked(df, path, save_as_csv=csv)


def test_save_is_atomic_keeps_the_previous_file_and_round_trips(tmp_path):
    path = write_file(tmp_path / "videoDLC_test_el.h5", small_tracks())
    before = pd.read_hdf(path)
    ed = TrackEditor.load(path)
    assert ed.individuals == ["a", "b", "c"] and ed.bodyparts == ["head", "tail"] and ed.scorer == "DLC_test"
    assert ed.unique_bodyparts == ["arena"] and ed.unique.shape == (6, 1, 3)
    ed.swap("a", "b", 2)
    ed.set_point(1, "c", "tail", 33.5, 44.25)
    assert ed.save() == path and not ed.dirty
    df = pd.read_hdf(path, "df_with_missing")  # what DeepLabCut does
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert list(dict.fromkeys(df.columns.get_level_values("individuals"))) == ["a", "b", "c", "single"]
    np.testing.assert_array_equal(
        df.loc[:, ("DLC_test", "a", "head", "x")].to_numpy(), [10, 11, 102, 103, 104, 105]
    )
    assert (
        df.loc[1, ("DLC_test", "c", "tail", "x")] == 33.5
        and df.loc[1, ("DLC_test", "c", "tail", "likelihood")] == 1.0
    )
    pd.testing.assert_frame_equal(df.loc[:, (slice(None), "single")], before.loc[:, (slice(None), "single")])
    pd.testing.assert_frame_equal(pd.read_hdf(str(path) + ".bak"), before)  # the previous version kept
    csv = pd.read_csv(path.with_suffix(".csv"), header=[0, 1, 2, 3], index_col=0)
    np.testing.assert_allclose(csv.to_numpy(), df.to_numpy())
    assert path.with_suffix(".csv.bak").is_file()
    again = TrackEditor.load(path)
    np.testing.assert_array_equal(again.tracks, ed.tracks)
    from_csv = TrackEditor.load(path.with_suffix(".csv"))
    np.testing.assert_array_equal(from_csv.tracks, ed.tracks)
    np.testing.assert_array_equal(from_csv.unique, again.unique)
    # save as: a new file, no csv unless one is there
    other = ed.save(tmp_path / "copy_el.h5")
    assert other.is_file() and not other.with_suffix(".csv").exists() and ed.path == other


def project(tmp_path, T=12):
    """The tiny multi-animal project of tests/_ma_project.py plus its video ``videos/clip.mp4`` (T frames)."""
    from _ma_project import make_ma_project

    from posenb.io.video import write_video

    config, folder = make_ma_project(tmp_path, n_images=4, n_labeled=1)
    frames = [np.full((120, 160, 3), 10 * i, np.uint8) for i in range(T)]
    video = Path(write_video(Path(config).parent / "videos" / "clip.mp4", frames, fps=10))
    return config, folder, video


def ma_tracks(T=12) -> np.ndarray:
    tracks = np.zeros((T, 2, 3, 3))
    for t in range(T):
        for a in range(2):
            for k in range(3):
                tracks[t, a, k] = (20 + 60 * a + 2 * t + 10 * k, 30 + 40 * a + 4 * k, 0.9)
    return tracks


def test_load_track_editor_finds_the_tracked_file_or_says_what_to_run(tmp_path):
    config, _folder, video = project(tmp_path)
    with pytest.raises(LabelError) as err:
        load_track_editor(config, video)
    msg = str(err.value)
    assert "clip" in msg and "_el.h5" in msg and "auto_track=True" in msg and str(video.parent) in msg
    name = "clipDLC_resnet50_fliesDec2shuffle1_100_el.h5"
    T = 12
    df = tracked_table(
        ma_tracks(T), "DLC_resnet50_fliesDec2shuffle1_100", ["female", "male"], ["head", "thorax", "abdomen"]
    )
    write_tracked(df, video.parent / name)
    ed = load_track_editor(config, video)
    assert ed.path == video.parent / name and ed.video == video and ed.individuals == ["female", "male"]
    assert ed.unique is None and ed.n_frames == T
    with pytest.raises(LabelError, match="shuffle2") as err:
        load_track_editor(config, video, shuffle=2)
    assert "Found files of other models/shuffles" in str(err.value) and name in str(err.value)
    assert load_track_editor(config, video, tracked=video.parent / name).path == video.parent / name


def test_send_to_training_set_writes_images_and_labels_keeping_human_ones(tmp_path):
    from posenb.io.label_folder import LabelFolder
    from posenb.io.labels import read_labels
    from posenb.io.video import open_frame_exact
    from posenb.project.config import project_parts, read_config

    config, folder, video = project(tmp_path)
    human = read_labels(folder / "CollectedData_tester.h5")
    ed = TrackEditor(ma_tracks(), ["female", "male"], ["head", "thorax", "abdomen"], video=video)
    ed.set_point(0, "female", "head", 1, 1)  # frame 0 has human labels (img000.png): never overwritten
    ed.set_point(2, "male", "head", 91.5, 72.25)  # img002.png exists without labels: reused
    ed.swap("female", "male", 5)
    ed.set_point(7, "female", "thorax", 3, 4)
    ed.delete_point(7, "female", "head")
    with pytest.warns(UserWarning, match="\\[0\\] already have human labels"):
        out = send_to_training_set(config, ed)
    assert out == folder / "CollectedData_tester.h5"
    assert sorted(p.name for p in folder.glob("*.png")) == [
        "img000.png",
        "img001.png",
        "img002.png",
        "img003.png",
        "img05.png",
        "img07.png",
    ]
    with open_frame_exact(video) as reader:
        import cv2

        png = cv2.cvtColor(cv2.imread(str(folder / "img05.png")), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(png, reader.read(5))
    cfg = read_config(config)
    lf = LabelFolder.load(folder, "tester", parts=project_parts(cfg))
    assert sorted(lf.file_rows) == ["img000.png", "img002.png", "img05.png", "img07.png"]
    np.testing.assert_array_equal(lf.points[lf.row("img000.png")], human.to_numpy()[0][:12].reshape(2, 3, 2))
    truth = ma_tracks()
    np.testing.assert_array_equal(lf.points[lf.row("img002.png"), 1, 0], [91.5, 72.25])
    np.testing.assert_array_equal(lf.points[lf.row("img002.png"), 0], truth[2, 0, :, :2])
    np.testing.assert_array_equal(lf.points[lf.row("img05.png"), 0], truth[5, 1, :, :2])  # swapped
    np.testing.assert_array_equal(lf.points[lf.row("img05.png"), 1], truth[5, 0, :, :2])
    row7 = lf.points[lf.row("img07.png")]
    assert (
        np.isnan(row7[0, 0]).all()
        and (row7[0, 1] == [3, 4]).all()
        and (row7[0, 2] == truth[7, 1, 2, :2]).all()
    )
    assert np.isnan(lf.unique[lf.row("img07.png")]).all()  # the tracks have no unique part: left unlabeled
    pd.testing.assert_frame_equal(pd.read_hdf(str(out) + ".bak"), human)  # the previous version kept
    assert (folder / "CollectedData_tester.csv").is_file()
    assert "clip" in str(list(yaml.safe_load(Path(config).read_text())["video_sets"]))
    # low-likelihood points are not labels; a second send keeps the human-labeled frames (now also 5, 7)
    ed.set_point(9, "male", "head", 5, 6)
    with pytest.warns(UserWarning):
        send_to_training_set(config, ed, frames=[5, 9], pcutoff=0.95)
    lf = LabelFolder.load(folder, "tester", parts=project_parts(cfg))
    row9 = lf.points[lf.row("img09.png")]
    assert (row9[1, 0] == [5, 6]).all() and np.isnan(row9[0]).all() and np.isnan(row9[1, 1:]).all()
    np.testing.assert_array_equal(lf.points[lf.row("img05.png"), 0], truth[5, 1, :, :2])


def test_send_to_training_set_errors(tmp_path):
    config, _folder, video = project(tmp_path)
    ed = TrackEditor(ma_tracks(), ["female", "male"], ["head", "thorax", "abdomen"])
    with pytest.raises(ProofreadError, match="No frame to send"):
        send_to_training_set(config, ed)
    ed.set_point(3, "male", "head", 1, 1)
    with pytest.raises(ProofreadError, match="load_track_editor"):
        send_to_training_set(config, ed)  # no video
    three = TrackEditor(np.zeros((12, 3, 3, 3)), ["x", "y", "z"], ["head", "thorax", "abdomen"], video=video)
    with pytest.raises(ProofreadError, match="3 tracks"):
        send_to_training_set(config, three, frames=[1])
    wings = TrackEditor(np.zeros((12, 2, 1, 3)), ["female", "male"], ["wing"], video=video)
    with pytest.raises(LabelError, match="wing"):
        send_to_training_set(config, wings, frames=[1])
