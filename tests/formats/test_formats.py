"""Other tools' files: import -> export -> import is lossless for every format; errors for what cannot be imported."""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from posenb.errors import LabelError
from posenb.formats import FORMATS, detect_format
from posenb.formats.api import export_labels, export_predictions, import_labels, project_labelset
from posenb.io.labels import read_labels
from posenb.project.config import read_config

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("POSENB_SHARED_DATA", REPO.parent / "shared" / "data"))

EXPORT_NAMES = {
    "slp": "labels.slp",
    "nwb": "labels.nwb",
    "coco": "coco/annotations.json",
    "lightning_pose": "lp/CollectedData.csv",
    "dlc": "dlc-export",
}
MIRROR_CSV = SHARED_DATA / "mirror-mouse-lp" / "CollectedData.csv"
FLY = SHARED_DATA / "fly2-sleap" / "fly2_train120.slp"


def fresh_project(tmp_path: Path, name: str, video: Path) -> str:
    """A new project with DeepLabCut's template body parts (nothing labeled)."""
    from posenb.project.create import create_new_project

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_new_project(name, "bob", [str(video)], working_directory=tmp_path / name, copy_videos=True)


def demo_video(config: str) -> Path:
    return Path(config).parent / "videos" / "demo_mouse.mp4"


def assert_same_labels(a, b, skeleton: bool = True):
    assert b.bodyparts == a.bodyparts
    if skeleton:
        assert b.skeleton == a.skeleton
    assert [g.stem for g in b.groups] == [g.stem for g in a.groups]
    for ga, gb in zip(a.groups, b.groups):
        assert gb.names == ga.names
        np.testing.assert_array_equal(gb.coords, ga.coords)  # bit-exact, NaN where not labeled


def roundtrip(tmp_path: Path, config: str, fmt: str, video: Path, tag: str):
    """Export ``config`` as ``fmt``, import into a fresh project, export that, import again; both imports' labels."""
    first = export_labels(config, tmp_path / f"out-{tag}-1" / EXPORT_NAMES[fmt], format=fmt)
    b = fresh_project(tmp_path, f"b{tag}", video)
    report = import_labels(b, first[0], format=fmt)
    assert report.n_frames == project_labelset(config).n_frames
    second = export_labels(b, tmp_path / f"out-{tag}-2" / EXPORT_NAMES[fmt], format=fmt)
    c = fresh_project(tmp_path, f"c{tag}", video)
    import_labels(c, second[0], format=fmt)
    return b, c


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_import_export_import_is_lossless(demo_project, tmp_path, fmt):
    # the demo labels have NaN-free floats; make them harder: a missing part and a non-representable decimal
    cfg = read_config(demo_project)
    path = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse" / "CollectedData_posenb.h5"
    df = read_labels(path)
    df.iloc[0, 2:4] = np.nan
    df.iloc[1, 0] = 10.1 / 3
    from posenb.io.labels import write_labels

    write_labels(df, path)
    src = project_labelset(demo_project)
    b, c = roundtrip(tmp_path, demo_project, fmt, demo_video(demo_project), fmt.replace("_", ""))
    has_skeleton = fmt != "lightning_pose"  # a Lightning Pose CSV has no skeleton
    assert_same_labels(src, project_labelset(b), has_skeleton)
    assert_same_labels(src, project_labelset(c), has_skeleton)
    cfg_b = read_config(b)
    assert cfg_b["bodyparts"] == cfg["bodyparts"]  # the fresh project took the file's body parts
    # the frames are the same pictures (decoded from the video, copied, or referenced)
    for name in src.groups[0].names[:3]:
        img_a = cv2.imread(str(Path(cfg["project_path"]) / "labeled-data" / "demo_mouse" / name)).astype(int)
        img_b = cv2.imread(str(Path(cfg_b["project_path"]) / "labeled-data" / "demo_mouse" / name)).astype(int)
        assert img_a.shape == img_b.shape and np.abs(img_a - img_b).mean() < 1.0


def test_slp_embedded_frames_make_a_self_contained_file(demo_project, tmp_path):
    out = export_labels(demo_project, tmp_path / "packed.slp", format="slp", embed=True)[0]
    (Path(demo_project).parent / "videos" / "demo_mouse.mp4").rename(tmp_path / "elsewhere.mp4")  # not referenced
    b = fresh_project(tmp_path, "embedded", tmp_path / "elsewhere.mp4")
    import_labels(b, out)
    src = project_labelset(demo_project)
    assert_same_labels(src, project_labelset(b))
    name = src.groups[0].names[0]
    a_img = cv2.imread(str(Path(demo_project).parent / "labeled-data" / "demo_mouse" / name))
    b_img = cv2.imread(str(Path(b).parent / "labeled-data" / "demo_mouse" / name))
    assert np.abs(a_img.astype(int) - b_img.astype(int)).mean() < 1.0  # the frames came from inside the .slp


def test_body_parts_must_agree_or_be_a_subset(demo_project, tmp_path):
    out = export_labels(demo_project, tmp_path / "x" / "annotations.json", format="coco")[0]
    data = json.loads(out.read_text())
    # the project lacks a part the file labels: refused, nothing written
    data["categories"][0]["keypoints"][0] = "nose"
    bad = out.with_name("renamed.json")
    bad.write_text(json.dumps(data))
    other = fresh_project(tmp_path, "other", demo_video(demo_project))
    cfg = read_config(other)
    cfg.update(bodyparts=["snout", "leftear", "rightear", "tailbase"], skeleton=[])
    from posenb.project.config import write_config

    write_config(other, cfg)
    with pytest.raises(LabelError, match=r"\['nose'\] are not in this project's config.yaml"):
        import_labels(other, bad)
    assert not list((Path(other).parent / "labeled-data" / "demo_mouse").iterdir())
    # a subset is mapped by name: keep two parts, in another order
    data = json.loads(out.read_text())
    cat = data["categories"][0]
    keep = [3, 1]  # tailbase, leftear
    cat["keypoints"] = [cat["keypoints"][i] for i in keep]
    cat["skeleton"] = []
    for ann in data["annotations"]:
        kp = ann["keypoints"]
        ann["keypoints"] = sum((kp[3 * i : 3 * i + 3] for i in keep), [])
    sub = out.with_name("subset.json")
    sub.write_text(json.dumps(data))
    report = import_labels(other, sub)
    assert "mapped by name" in str(report)
    got = project_labelset(other).groups[0]
    src = project_labelset(demo_project).groups[0]
    np.testing.assert_array_equal(got.coords[:, [3, 1]], src.coords[:, [3, 1]])
    assert np.isnan(got.coords[:, [0, 2]]).all()
    assert read_config(other)["bodyparts"] == ["snout", "leftear", "rightear", "tailbase"]


def test_existing_labels_are_never_silently_replaced(demo_project, tmp_path):
    out = export_labels(demo_project, tmp_path / "lp" / "CollectedData.csv", format="lp")[0]
    report = import_labels(demo_project, out, stem="demo_mouse")  # the same labels again: nothing changes
    assert report.n_frames == 12
    df = pd.read_csv(out, header=[0, 1, 2], index_col=0)
    df.iloc[0, 0] += 5.0
    df.to_csv(out)
    label_file = Path(demo_project).parent / "labeled-data" / "demo_mouse" / "CollectedData_posenb.h5"
    before = read_labels(label_file)
    with pytest.raises(LabelError, match="already labeled differently.*overwrite=True"):
        import_labels(demo_project, out)
    pd.testing.assert_frame_equal(read_labels(label_file), before)
    import_labels(demo_project, out, overwrite=True)
    after = read_labels(label_file)
    assert after.iloc[0, 0] == before.iloc[0, 0] + 5.0
    assert label_file.with_name(label_file.name + ".bak").is_file()


def test_overwrite_keeps_the_parts_the_file_does_not_hold(demo_project, tmp_path):
    """A file with some of the project's parts replaces only those (with overwrite=True); the others keep their
    labels on every frame, and differences there are no conflict."""
    out = export_labels(demo_project, tmp_path / "lp" / "CollectedData.csv", format="lp")[0]
    df = pd.read_csv(out, header=[0, 1, 2], index_col=0)
    sub = df.loc[:, df.columns.get_level_values(1).isin(["snout", "tailbase"])].copy()
    sub.iloc[:, 0] += 4.0  # every snout x moved
    part = out.with_name("part.csv")
    sub.to_csv(part)
    label_file = Path(demo_project).parent / "labeled-data" / "demo_mouse" / "CollectedData_posenb.h5"
    before = read_labels(label_file)
    with pytest.raises(LabelError, match="already labeled differently"):
        import_labels(demo_project, part, stem="demo_mouse")
    import_labels(demo_project, part, stem="demo_mouse", overwrite=True)
    after = read_labels(label_file)
    parts = after.columns.get_level_values(-2)
    kept = parts.isin(["leftear", "rightear"])
    pd.testing.assert_frame_equal(after.loc[:, kept], before.loc[:, kept])  # not in the file: untouched
    snout_x = (parts == "snout") & (after.columns.get_level_values(-1) == "x")
    labeled = np.isfinite(before.loc[:, snout_x].to_numpy())
    np.testing.assert_allclose(
        after.loc[:, snout_x].to_numpy()[labeled], before.loc[:, snout_x].to_numpy()[labeled] + 4.0
    )


def test_missing_images_are_an_error_before_anything_is_written(demo_project, tmp_path):
    out = export_labels(demo_project, tmp_path / "c" / "annotations.json", format="coco")[0]
    for png in (out.parent / "labeled-data" / "demo_mouse").glob("*.png"):
        png.unlink()
    other = fresh_project(tmp_path, "noimg", demo_video(demo_project))
    with pytest.raises(LabelError, match="no image for 12 frame"):
        import_labels(other, out)
    assert read_config(other)["bodyparts"] == ["bodypart1", "bodypart2", "bodypart3", "objectA"]


def test_several_animals_per_frame_are_refused(demo_project, tmp_path):
    out = export_labels(demo_project, tmp_path / "c" / "annotations.json", format="coco")[0]
    data = json.loads(out.read_text())
    data["annotations"].append(dict(data["annotations"][0], id=999))
    out.write_text(json.dumps(data))
    with pytest.raises(LabelError, match="img00.png has 2 animals, but this project is single-animal"):
        import_labels(demo_project, out)


def test_predictions_export_to_every_format(demo_project, tmp_path):
    from posenb.demo.project import ground_truth_path
    from posenb.io.predictions import predictions_to_array, read_predictions, write_predictions

    pytest.importorskip("sleap_io")
    pytest.importorskip("ndx_pose")
    gt = read_predictions(ground_truth_path(demo_project))
    arr = predictions_to_array(gt).copy()
    rng = np.random.default_rng(0)
    arr[..., 2] = rng.uniform(0.1, 1.0, arr.shape[:2])
    arr[5, 1, :2] = np.nan
    from posenb.io.predictions import array_to_predictions

    bodyparts = list(dict.fromkeys(gt.columns.get_level_values(1)))
    scorer = "DLC_effnet_lite0_demoDec2shuffle1_100"
    video = demo_video(demo_project)
    write_predictions(array_to_predictions(arr, scorer, bodyparts), video.parent / f"demo_mouse{scorer}.h5")
    files = {fmt: export_predictions(demo_project, [video], format=fmt)[0] for fmt in ("slp", "nwb", "coco", "lp")}
    assert files["lp"].name == f"demo_mouse{scorer}_lightning_pose.csv"
    # Lightning Pose CSV: DeepLabCut's prediction CSV
    lp = predictions_to_array(read_predictions(files["lp"]))
    np.testing.assert_array_equal(lp, arr)
    # SLEAP: predicted instances with per-point scores
    import sleap_io as sio

    labels = sio.load_slp(str(files["slp"]), open_videos=False)
    assert len(labels.labeled_frames) == len(arr) and labels.skeletons[0].node_names == bodyparts
    lf = labels.labeled_frames[5]
    inst = lf.predicted_instances[0]
    np.testing.assert_array_equal(inst.numpy(), arr[lf.frame_idx, :, :2])
    np.testing.assert_allclose(inst.numpy(scores=True)[:, 2], arr[lf.frame_idx, :, 2])
    # NWB: one PoseEstimationSeries per body part, confidence = likelihood, at the video's frame rate
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(files["nwb"]), "r", load_namespaces=True) as io:
        nwb = io.read()
        est = nwb.processing["behavior"]["demo_mouse"]
        assert sorted(est.pose_estimation_series) == sorted(bodyparts)  # NWB sorts names; the skeleton keeps order
        assert list(est.skeleton.nodes[:]) == bodyparts
        series = est.pose_estimation_series["leftear"]
        np.testing.assert_array_equal(series.data[:], arr[:, 1, :2])
        np.testing.assert_array_equal(series.confidence[:], arr[:, 1, 2])
        assert series.rate == pytest.approx(30.0)
        assert [list(e) for e in est.skeleton.edges[:]] == [[0, 1], [0, 2], [1, 3], [2, 3]]
    # COCO: one image per frame, keypoint_scores
    coco = json.loads(files["coco"].read_text())
    assert len(coco["images"]) == len(arr) == len(coco["annotations"])
    kp = np.array(coco["annotations"][0]["keypoints"]).reshape(-1, 3)
    np.testing.assert_array_equal(kp[:, :2], arr[0, :, :2])
    np.testing.assert_allclose(coco["annotations"][0]["keypoint_scores"], arr[0, :, 2])
    assert coco["annotations"][5]["keypoints"][3:6] == [0, 0, 0]


def test_missing_optional_library_says_what_to_install(demo_project, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sleap_io", None)
    with pytest.raises(ImportError, match="pip install sleap-io"):
        export_labels(demo_project, tmp_path / "x.slp")


def test_detect_format():
    assert detect_format("a/labels.v001.slp") == "slp"
    assert detect_format("x.nwb") == "nwb"
    assert detect_format("person_keypoints.json") == "coco"
    assert detect_format("data/CollectedData.csv") == "lightning_pose"
    assert detect_format("labeled-data/v/CollectedData_me.csv") == "dlc"
    assert detect_format("labeled-data/v/CollectedData_me.h5") == "dlc"
    with pytest.raises(LabelError, match="pass format="):
        detect_format("labels.txt")


@pytest.mark.shared
@pytest.mark.slow
def test_lightning_pose_sample_roundtrip(tmp_path, tiny_video):
    if not MIRROR_CSV.is_file():
        pytest.skip("../shared/data/mirror-mouse-lp is not available")
    a = fresh_project(tmp_path, "mirror", tiny_video)
    report = import_labels(a, MIRROR_CSV)
    assert report.n_frames == 90 and report.n_images == 90
    assert "has no video in config.yaml's video_sets" in str(report)
    src = pd.read_csv(MIRROR_CSV, header=[0, 1, 2], index_col=0)
    got = project_labelset(a)
    assert len(got.bodyparts) == 17 and got.bodyparts == list(dict.fromkeys(src.columns.get_level_values(1)))
    assert got.groups[0].stem == "mirror-mouse-lp"
    assert got.groups[0].names == [Path(i).name for i in src.index]
    np.testing.assert_array_equal(got.groups[0].coords.reshape(len(src), -1), src.to_numpy(dtype="float64"))
    for fmt in ("lightning_pose", "slp", "nwb", "coco"):
        b, c = roundtrip(tmp_path, a, fmt, tiny_video, "m" + fmt.replace("_", ""))
        assert_same_labels(got, project_labelset(c), skeleton=False)


@pytest.mark.shared
@pytest.mark.slow
def test_deeplabcut_sample_roundtrip(tmp_path, tiny_video, openfield_dir):
    label_file = openfield_dir / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5"
    a = fresh_project(tmp_path, "openfield", tiny_video)
    import_labels(a, label_file)
    original = read_labels(label_file)
    got = project_labelset(a)
    assert got.bodyparts == ["snout", "leftear", "rightear", "tailbase"]
    assert got.groups[0].stem == "m4s1" and len(got.groups[0].names) == 116
    np.testing.assert_array_equal(got.groups[0].coords.reshape(116, -1), original.to_numpy())
    for fmt in ("slp", "nwb", "coco", "lightning_pose", "dlc"):
        _b, c = roundtrip(tmp_path, a, fmt, tiny_video, "o" + fmt.replace("_", ""))
        assert_same_labels(got, project_labelset(c))


@pytest.mark.shared
def test_sleap_sample_with_two_flies(tmp_path, tiny_video):
    if not FLY.is_file():
        pytest.skip("../shared/data/fly2-sleap is not available")
    a = fresh_project(tmp_path, "fly", tiny_video)
    with pytest.raises(LabelError, match="this project is single-animal .*: multi-animal import needs a multi-animal"):
        import_labels(a, FLY)
    assert not (Path(a).parent / "labeled-data" / "fly2_train120").exists()
    assert not (Path(a).parent / "labeled-data" / "clip").exists()
    from posenb.formats.slp import _multi_animal_array

    data = _multi_animal_array(FLY)
    assert data["coords"].shape == (120, 2, 13, 2)
    assert data["individuals"] == ["female", "male"]
    assert data["bodyparts"][:3] == ["head", "thorax", "abdomen"] and len(data["bodyparts"]) == 13
    assert ["thorax", "head"] in data["skeleton"]
    assert len(set(data["frame_indices"])) == 120 and all(Path(v).name == "clip.mp4" for v in data["videos"])
    # the first labeled frame's female, as sleap-io reads it
    import sleap_io as sio

    lf = sio.load_slp(str(FLY), open_videos=False).labeled_frames[0]
    female = next(i for i in lf.user_instances if i.track.name == "female")
    np.testing.assert_array_equal(data["coords"][0, 0], female.numpy())
    assert np.isfinite(data["coords"]).any(axis=(2, 3)).all()  # both flies on every frame


def test_files_made_by_sleap_io_user_labels_and_predictions_on_request(demo_project, tmp_path):
    """A .slp and an .nwb as SLEAP writes them (referencing the video): user instances, predictions on request."""
    sio = pytest.importorskip("sleap_io")
    video_path = demo_video(demo_project)
    skel = sio.Skeleton(["snout", "leftear", "rightear", "tailbase"], edges=[("snout", "leftear")])
    video = sio.Video.from_filename(str(video_path))
    user = np.array([[10.25, 20.5], [30.0, 40.0], [np.nan, np.nan], [50.125, 60.0]])
    pred = user + 1.0
    frames = [
        sio.LabeledFrame(video=video, frame_idx=5, instances=[sio.Instance.from_numpy(user, skeleton=skel)]),
        sio.LabeledFrame(video=video, frame_idx=10, instances=[
            sio.PredictedInstance.from_numpy(pred, skeleton=skel, point_scores=np.ones(4), score=1.0)]),
        sio.LabeledFrame(video=video, frame_idx=15, instances=[
            sio.Instance.from_numpy(user + 2.0, skeleton=skel),
            sio.PredictedInstance.from_numpy(pred, skeleton=skel, point_scores=np.ones(4), score=1.0)]),
    ]  # fmt: skip
    labels = sio.Labels(labeled_frames=frames, videos=[video], skeletons=[skel])
    sio.save_slp(labels, str(tmp_path / "sleap.slp"))
    a = fresh_project(tmp_path, "user", video_path)
    report = import_labels(a, tmp_path / "sleap.slp")
    got = project_labelset(a).groups[0]
    assert report.n_frames == 2 and got.stem == "demo_mouse" and got.names == ["img05.png", "img15.png"]
    np.testing.assert_array_equal(got.coords, np.stack([user, user + 2.0]))
    assert read_config(a)["skeleton"] == [["snout", "leftear"]]
    assert (Path(a).parent / "labeled-data" / "demo_mouse" / "img05.png").is_file()  # decoded from the video
    b = fresh_project(tmp_path, "pred", video_path)
    import_labels(b, tmp_path / "sleap.slp", predictions=True)
    got = project_labelset(b).groups[0]
    assert got.names == ["img05.png", "img10.png", "img15.png"]
    np.testing.assert_array_equal(got.coords, np.stack([user, pred, user + 2.0]))  # a user instance wins
    # the same user labels through sleap-io's NWB writer (ndx-pose PoseTraining referencing the video)
    pytest.importorskip("ndx_pose")
    user_only = sio.Labels(labeled_frames=[frames[0]], videos=[video], skeletons=[skel])
    sio.save_nwb(user_only, str(tmp_path / "sleap.nwb"), nwb_format="annotations")
    c = fresh_project(tmp_path, "nwbsleap", video_path)
    import_labels(c, tmp_path / "sleap.nwb")
    got = project_labelset(c).groups[0]
    assert got.stem == "demo_mouse" and got.names == ["img05.png"]
    np.testing.assert_array_equal(got.coords, user[None])


def test_another_deeplabcut_project_by_its_config(demo_project, tmp_path, tiny_video):
    a = fresh_project(tmp_path, "fromdlc", tiny_video)
    report = import_labels(a, demo_project)  # config.yaml of the other project: all its labeled folders
    assert report.n_frames == 12 and report.files[0].name == "CollectedData_bob.h5"  # the project's own scorer
    cfg = read_config(a)
    assert cfg["skeleton"] == read_config(demo_project)["skeleton"]  # taken from the other config.yaml
    assert_same_labels(project_labelset(demo_project), project_labelset(a))


def test_multi_animal_deeplabcut_file_in_a_single_animal_project(demo_project, tmp_path, tiny_video):
    df = read_labels(Path(demo_project).parent / "labeled-data" / "demo_mouse" / "CollectedData_posenb.h5")
    cols = [(s, "mouse1", b, c) for s, b, c in df.columns]
    one = df.copy()
    one.columns = pd.MultiIndex.from_tuples(cols, names=["scorer", "individuals", "bodyparts", "coords"])
    import shutil

    folder = tmp_path / "ma" / "labeled-data" / "demo_mouse"
    shutil.copytree(Path(demo_project).parent / "labeled-data" / "demo_mouse", folder)  # with its frames
    one.to_hdf(folder / "CollectedData_x.h5", key="df_with_missing")
    # one animal per frame: imported as the single animal
    a = fresh_project(tmp_path, "one", tiny_video)
    import_labels(a, folder / "CollectedData_x.h5")
    np.testing.assert_array_equal(project_labelset(a).groups[0].coords.reshape(len(df), -1), df.to_numpy())
    # two animals on a frame: refused, naming the file
    two = pd.concat([one, one.rename(columns={"mouse1": "mouse2"}, level=1) + 1.0], axis=1)
    two.to_hdf(folder / "CollectedData_x.h5", key="df_with_missing")
    b = fresh_project(tmp_path, "two", tiny_video)
    with pytest.raises(LabelError, match=r"CollectedData_x\.h5: frame demo_mouse/img00.png has 2 animals, but this project is single"):
        import_labels(b, folder / "CollectedData_x.h5")
    assert not (Path(b).parent / "labeled-data" / "demo_mouse").exists()
