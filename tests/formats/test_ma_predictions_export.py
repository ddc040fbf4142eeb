"""A multi-animal project's analysis results in SLEAP, NWB and COCO: export_predictions reads the final tracked file
(``<stem><DLCscorer>_el.h5``, two mice + a unique part, written by posenb's tracking writer) and each format's file,
read back with its own library, holds the same points, likelihoods and individuals; Lightning Pose and untracked
results are refused with nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from posenb.cli import main
from posenb.errors import LabelError
from posenb.formats.api import export_predictions
from posenb.io.detections import write_detections
from posenb.io.labels import read_hdf_any
from posenb.project.config import read_config, write_config
from posenb.project.paths import get_scorer_name
from posenb.track.files import tracked_name, tracked_table, write_tracked

N = 60  # the demo video: 60 frames, 128x96, 30 fps
INDIVIDUALS = ["mouse1", "mouse2"]
PARTS = ["snout", "leftear", "tailbase"]
UNIQUE = ["corner"]
ABSENT = range(10, 15)  # mouse2 is not seen on these frames


@pytest.fixture
def ma_project(demo_project):
    """The demo project made multi-animal: mouse1, mouse2 with three parts; unique part 'corner'."""
    cfg = read_config(demo_project)
    cfg.update(
        multianimalproject=True,
        identity=False,
        individuals=INDIVIDUALS,
        multianimalbodyparts=PARTS,
        uniquebodyparts=UNIQUE,
        bodyparts="MULTI!",
        skeleton=[["snout", "leftear"], ["leftear", "tailbase"], ["snout", "corner"]],
        default_track_method="ellipse",
    )
    write_config(demo_project, cfg)
    return demo_project


def video_of(config: str, name: str = "demo_mouse.mp4") -> Path:
    return Path(read_config(config)["project_path"]) / "videos" / name


def detections(config: str, video: Path) -> Path:
    """The per-frame animals file analyze_videos writes (before tracking)."""
    cfg = read_config(config)
    scorer = get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 1000)
    poses = np.random.default_rng(1).uniform(5, 90, (N, 2, len(PARTS), 3)).astype("float32")
    return write_detections(
        video.with_name(video.stem + scorer + "_detections.h5"),
        poses,
        np.ones((N, 2), "float32"),
        bodyparts=PARTS,
        individuals=INDIVIDUALS,
        uniquebodyparts=UNIQUE,
        unique=np.ones((N, 1, 3), "float32"),
        scorer=scorer,
        video=str(video),
        fps=30,
    )


def tracked(config: str, video: Path, seed: int = 0, suffix: str = "") -> Path:
    """A tracked file written by posenb's tracking writer: random points and likelihoods, with NaN where mouse2 is
    absent (frames ``ABSENT``), mouse1's leftear on frame 5 and the corner on frame 7."""
    det = detections(config, video)
    rng = np.random.default_rng(seed)
    tracks = np.concatenate([rng.uniform(2, 120, (N, 2, 3, 2)), rng.uniform(0.05, 1, (N, 2, 3, 1))], axis=-1)
    tracks[list(ABSENT), 1] = np.nan
    tracks[5, 0, 1] = np.nan
    unique = np.concatenate([rng.uniform(2, 90, (N, 1, 2)), rng.uniform(0.1, 1, (N, 1, 1))], axis=-1)
    unique[7] = np.nan
    scorer = det.name[len(video.stem) : -len("_detections.h5")]
    df = tracked_table(tracks, scorer, INDIVIDUALS, PARTS, unique, UNIQUE)
    path = tracked_name(det)
    return write_tracked(df, path.with_name(path.stem + suffix + ".h5"))


def truth(h5: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 2, 3, 3)`` animals and ``(N, 1, 3)`` corner: x, y, likelihood, read back from the tracked file."""
    df = read_hdf_any(h5)
    scorer = df.columns[0][0]
    coords = ("x", "y", "likelihood")
    animals = df.loc[:, [(scorer, i, p, c) for i in INDIVIDUALS for p in PARTS for c in coords]]
    unique = df.loc[:, [(scorer, "single", u, c) for u in UNIQUE for c in coords]]
    return animals.to_numpy().reshape(N, 2, 3, 3), unique.to_numpy().reshape(N, 1, 3)


def test_slp_one_predicted_instance_per_individual_on_its_track(ma_project):
    sio = pytest.importorskip("sleap_io")
    video = video_of(ma_project)
    h5 = tracked(ma_project, video)
    animals, corner = truth(h5)
    (out,) = export_predictions(ma_project, [video], format="slp")
    assert out == h5.with_suffix(".slp") and out.name.endswith("_el.slp")
    labels = sio.load_slp(str(out), open_videos=False)
    assert [t.name for t in labels.tracks] == [*INDIVIDUALS, "single"]
    assert labels.skeletons[0].node_names == PARTS + UNIQUE
    assert len(labels.labeled_frames) == N
    seen = set()
    for lf in labels.labeled_frames:
        assert not lf.user_instances
        for inst in lf.predicted_instances:
            name, i = inst.track.name, lf.frame_idx
            pts = inst.numpy(scores=True)  # (4, 3): x, y, score per node
            expect = np.full((4, 3), np.nan)
            if name == "single":
                expect[3] = corner[i, 0]
            else:
                expect[:3] = animals[i, INDIVIDUALS.index(name)]
            # NaN where the part (or the other group's nodes) is missing
            np.testing.assert_array_equal(pts, expect)
            assert inst.score == pytest.approx(np.nanmean(expect[:, 2]))
            seen.add((i, name))
    expected = {(i, n) for i in range(N) for n in INDIVIDUALS} | {(i, "single") for i in range(N)}
    expected -= {(i, "mouse2") for i in ABSENT} | {(7, "single")}  # nobody there: no instance
    assert seen == expected


def test_the_predictions_slp_reads_back_with_its_unique_parts(ma_project):
    """SLEAP's reader (the one import_labels uses, predictions=True) gives the individuals back and the track
    "single" as the unique body parts, with the points of the tracked file."""
    pytest.importorskip("sleap_io")
    from posenb.formats import slp

    video = video_of(ma_project)
    animals, corner = truth(tracked(ma_project, video))
    (out,) = export_predictions(ma_project, [video], format="slp")
    labelset = slp.read(out, predictions=True)
    assert labelset.individuals == INDIVIDUALS and labelset.n_untracked == 0
    assert labelset.bodyparts == PARTS and labelset.unique_bodyparts == UNIQUE
    (group,) = labelset.groups
    np.testing.assert_array_equal(group.coords, animals[..., :2])
    np.testing.assert_array_equal(group.unique, corner[..., :2])


def test_nwb_one_pose_estimation_per_individual(ma_project):
    pytest.importorskip("ndx_pose")
    from pynwb import NWBHDF5IO

    video = video_of(ma_project)
    h5 = tracked(ma_project, video)
    animals, corner = truth(h5)
    (out,) = export_predictions(ma_project, video, format="nwb")
    with NWBHDF5IO(str(out), "r", load_namespaces=True) as io:
        behavior = io.read().processing["behavior"]
        names = {n for n, c in behavior.data_interfaces.items() if type(c).__name__ == "PoseEstimation"}
        assert names == {"PoseEstimation_mouse1", "PoseEstimation_mouse2", "PoseEstimation_single"}
        for a, ind in enumerate(INDIVIDUALS):
            est = behavior[f"PoseEstimation_{ind}"]
            assert list(est.skeleton.nodes[:]) == PARTS and est.skeleton.name == "skeleton"
            assert [list(e) for e in est.skeleton.edges[:]] == [[0, 1], [1, 2]]
            assert est.scorer == h5.stem[len("demo_mouse") : -len("_el")]
            for k, part in enumerate(PARTS):
                series = est.pose_estimation_series[part]
                np.testing.assert_array_equal(series.data[:], animals[:, a, k, :2])
                np.testing.assert_array_equal(series.confidence[:], animals[:, a, k, 2])
                assert series.rate == pytest.approx(30.0)
        single = behavior["PoseEstimation_single"]
        assert list(single.skeleton.nodes[:]) == UNIQUE and single.skeleton.name == "skeleton_single"
        np.testing.assert_array_equal(single.pose_estimation_series["corner"].data[:], corner[:, 0, :2])
        np.testing.assert_array_equal(single.pose_estimation_series["corner"].confidence[:], corner[:, 0, 2])
    assert np.isnan(animals[ABSENT[0], 1]).all()  # the NaN above were compared, not skipped


def test_coco_annotations_carry_track_id_and_individual(ma_project, tmp_path):
    video = video_of(ma_project)
    h5 = tracked(ma_project, video)
    animals, corner = truth(h5)
    (out,) = export_predictions(ma_project, [video], format="coco", outfolder=tmp_path / "coco")
    data = json.loads(out.read_text())
    assert out.parent == tmp_path / "coco" and len(data["images"]) == N
    cats = {c["id"]: c for c in data["categories"]}
    assert cats[1]["keypoints"] == PARTS and cats[2]["keypoints"] == UNIQUE and cats[2]["name"] == "single"
    by_key = {(a["image_id"] - 1, a["individual"]): a for a in data["annotations"]}
    assert len(by_key) == len(data["annotations"]) == N * 3 - len(ABSENT) - 1
    assert len({a["id"] for a in data["annotations"]}) == len(data["annotations"])
    for (i, name), ann in by_key.items():
        if name == "single":
            assert ann["track_id"] == 2 and ann["category_id"] == 2
            xyl = corner[i]
        else:
            assert ann["track_id"] == INDIVIDUALS.index(name) and ann["category_id"] == 1
            xyl = animals[i, INDIVIDUALS.index(name)]
        kp = np.array(ann["keypoints"], dtype=float).reshape(-1, 3)
        seen = np.isfinite(xyl[:, 0])
        np.testing.assert_array_equal(kp[seen, :2], xyl[seen, :2])
        assert (kp[~seen] == 0).all() and (kp[seen, 2] == 2).all()  # a missing part: v = 0
        np.testing.assert_allclose(ann["keypoint_scores"], np.where(seen, xyl[:, 2], 0.0))
    assert (ABSENT[0], "mouse2") not in by_key and (7, "single") not in by_key
    assert by_key[(5, "mouse1")]["keypoints"][3:6] == [0, 0, 0]


def test_filtered_exports_the_filtered_tracked_file(ma_project, tmp_path):
    video = video_of(ma_project)
    tracked(ma_project, video)
    filtered = tracked(ma_project, video, seed=3, suffix="_filtered")
    (out,) = export_predictions(ma_project, [video], format="coco", filtered=True, outfolder=tmp_path)
    assert out.name == filtered.stem + "_coco.json"
    animals, _ = truth(filtered)
    first = json.loads(out.read_text())["annotations"][0]
    np.testing.assert_array_equal(np.array(first["keypoints"]).reshape(-1, 3)[:, :2], animals[0, 0, :, :2])


def test_lightning_pose_is_refused_naming_the_file_and_the_formats_that_work(ma_project):
    video = video_of(ma_project)
    h5 = tracked(ma_project, video)
    before = sorted(p.name for p in h5.parent.iterdir())
    with pytest.raises(LabelError, match="Lightning Pose predicts one animal") as err:
        export_predictions(ma_project, [video], format="lightning_pose")
    assert h5.name in str(err.value) and "'slp'" in str(err.value) and "'nwb'" in str(err.value)
    assert sorted(p.name for p in h5.parent.iterdir()) == before


def test_untracked_detections_only_say_run_tracking_and_nothing_is_written(ma_project):
    video = video_of(ma_project)
    tracked(ma_project, video)  # this video is tracked ...
    other = shutil.copy(video, video.with_name("other.mp4"))
    det = detections(ma_project, Path(other))  # ... this one only detected
    before = sorted(p.name for p in video.parent.iterdir())
    with pytest.raises(LabelError, match=r"only untracked detections .*stitch_tracklets") as err:
        export_predictions(ma_project, video.parent, format="slp")
    assert det.name in str(err.value)
    assert sorted(p.name for p in video.parent.iterdir()) == before  # not even the tracked video's .slp


def test_cli_exports_a_multi_animal_project(ma_project, tmp_path, capsys):
    video = video_of(ma_project)
    h5 = tracked(ma_project, video)
    args = ["export", ma_project, str(tmp_path / "out"), "--videos", str(video), "--format", "coco"]
    assert main(args) == 0
    out = tmp_path / "out" / (h5.stem + "_coco.json")
    assert str(out) in capsys.readouterr().out
    assert {a["individual"] for a in json.loads(out.read_text())["annotations"]} == {*INDIVIDUALS, "single"}


def test_shuffle_picks_that_shuffles_tracked_file(ma_project, tmp_path):
    video = video_of(ma_project)
    h5 = tracked(ma_project, video)  # shuffle 1's
    (out,) = export_predictions(ma_project, [video], format="coco", shuffle=1, outfolder=tmp_path)
    assert out.name == h5.stem + "_coco.json"
    with pytest.raises(LabelError, match="Found files of other models/shuffles"):
        export_predictions(ma_project, [video], format="coco", shuffle=2, outfolder=tmp_path)


def test_single_animal_shuffle_picks_that_shuffles_file(demo_project, tmp_path):
    from posenb.io.predictions import array_to_predictions, write_predictions

    cfg = read_config(demo_project)
    video = video_of(demo_project)
    arr = np.random.default_rng(0).uniform(0, 1, (N, 4, 3))
    names = {}
    for shuffle in (1, 2):
        scorer = get_scorer_name(cfg, shuffle, cfg["TrainingFraction"][0], "resnet_50", 1000)
        names[shuffle] = write_predictions(
            array_to_predictions(arr * shuffle, scorer, cfg["bodyparts"]),
            video.with_name(video.stem + scorer),
        )
    (one,) = export_predictions(demo_project, [video], format="coco", shuffle=1, outfolder=tmp_path)
    (newest,) = export_predictions(demo_project, [video], format="coco", outfolder=tmp_path)  # as before
    assert one.name == names[1].stem + "_coco.json" and newest.name == names[2].stem + "_coco.json"


def test_after_dlc_tracking_steps_the_export_holds_the_tracks(ma_project):
    """As a user runs it: detections -> LabelError; stitch_tracklets -> the .slp holds the tracked file."""
    sio = pytest.importorskip("sleap_io")
    from posenb.demo.synthetic_tracks import simulate_detections
    from posenb.track import stitch_tracklets
    from posenb.track.files import read_tracked

    cfg = read_config(ma_project)
    d = simulate_detections(n_frames=N, width=128, height=96, seed=2, part_drop=0.1, body_length=20)
    cfg.update(multianimalbodyparts=d["bodyparts"], uniquebodyparts=[], skeleton=[d["bodyparts"][:2]])
    write_config(ma_project, cfg)
    video = video_of(ma_project)
    scorer = get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 1000)
    write_detections(
        video.with_name(video.stem + scorer + "_detections.h5"),
        d["poses"],
        d["scores"],
        bodyparts=d["bodyparts"],
        individuals=d["individuals"],
        scorer=scorer,
        video=str(video),
        fps=30,
    )
    with pytest.raises(LabelError, match="stitch_tracklets"):
        export_predictions(ma_project, [video], format="slp")
    (h5,) = stitch_tracklets(ma_project, [video])
    (out,) = export_predictions(ma_project, [video], format="slp")
    df = read_tracked(h5)
    tracks = df.to_numpy().reshape(N, 2, len(d["bodyparts"]), 3)
    labels = sio.load_slp(str(out), open_videos=False)
    assert [t.name for t in labels.tracks] == d["individuals"]
    n = 0
    for lf in labels.labeled_frames:
        for inst in lf.predicted_instances:
            a = d["individuals"].index(inst.track.name)
            np.testing.assert_allclose(inst.numpy(scores=True), tracks[lf.frame_idx, a], rtol=1e-12)
            n += 1
    assert n == int(np.isfinite(tracks[..., 0]).any(axis=2).sum()) > N
