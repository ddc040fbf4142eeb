"""SLEAP .slp files with several animals per frame into and out of multi-animal projects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ma_projects import FLY, FRAMES, NODES, new_project, tree_hash

from posenb.errors import LabelError
from posenb.formats.api import export_labels, import_labels, project_labelset
from posenb.io.label_arrays import table_to_arrays
from posenb.io.labels import read_labels
from posenb.project.config import project_parts, read_config

sio = pytest.importorskip("sleap_io")





def _points(frame: int, animal: int) -> np.ndarray:
    """(3, 2) distinct points of an animal on a frame (inside the 64x48 tiny video)."""
    return np.array(
        [[5.5 + frame + 10 * animal, 4.25 + animal], [8.0 + frame, 20.5 + 3 * animal], [12.0, 30.0 + frame]]
    )


def _slp(
    tmp_path: Path, video: Path, tracks=("female", "male"), untracked: dict | None = None
) -> tuple[Path, dict]:
    """A .slp of ``FRAMES``: one instance per track name (None: untracked) on each frame, plus ``untracked``
    {frame: n} untracked instances; returns the file and {(frame, slot): points} of what it holds."""
    skel = sio.Skeleton(list(NODES), edges=[("head", "thorax"), ("thorax", "tail")])
    vid = sio.Video.from_filename(str(video))
    objs = [sio.Track(name=t) if t else None for t in tracks]
    frames, truth = [], {}
    for f in FRAMES:
        insts = []
        for a, track in enumerate(objs):
            xy = _points(f, a)
            if f == 9 and a == 1:
                xy[2] = np.nan  # one point not labeled
            insts.append(sio.Instance.from_numpy(xy, skeleton=skel, track=track))
            truth[(f, a)] = xy
        for a in range(len(objs), len(objs) + (untracked or {}).get(f, 0)):
            insts.append(sio.Instance.from_numpy(_points(f, a), skeleton=skel))
            truth[(f, a)] = _points(f, a)
        frames.append(sio.LabeledFrame(video=vid, frame_idx=f, instances=insts))
    labels = sio.Labels(labeled_frames=frames, videos=[vid], skeletons=[skel], tracks=[t for t in objs if t])
    path = tmp_path / "flies.slp"
    sio.save_slp(labels, str(path))
    return path, truth


def _arrays(config: str) -> tuple[list[str], np.ndarray]:
    """(image names, points (n, n_individuals, n_bodyparts, 2)) of the project's one label file, read with pandas."""
    cfg = read_config(config)
    parts = project_parts(cfg)
    h5 = next((Path(config).parent / "labeled-data").glob("*/CollectedData_ann.h5"))
    df = pd.read_hdf(h5)  # what DeepLabCut's readers do
    assert df.columns.names == ["scorer", "individuals", "bodyparts", "coords"]
    return [i[-1] for i in df.index], table_to_arrays(df, parts.bodyparts, parts.individuals).points




def test_import_into_a_template_multi_animal_project(tmp_path, tiny_video):
    path, truth = _slp(tmp_path, tiny_video)
    config = new_project(tmp_path, "tmpl", tiny_video)
    report = import_labels(config, path)
    cfg = read_config(config)
    assert cfg["individuals"] == ["female", "male"] and cfg["multianimalbodyparts"] == NODES
    assert cfg["bodyparts"] == "MULTI!" and cfg["skeleton"] == [["head", "thorax"], ["thorax", "tail"]]
    assert set(report.config_changed) >= {"individuals", "multianimalbodyparts", "skeleton"}
    assert report.n_frames == 4 and report.n_images == 4
    names, points = _arrays(config)
    assert names == ["img02.png", "img05.png", "img09.png", "img20.png"]
    for r, f in enumerate(FRAMES):
        for a in range(2):
            np.testing.assert_array_equal(points[r, a], truth[(f, a)])
    folder = Path(config).parent / "labeled-data" / "tiny"
    assert sorted(p.name for p in folder.glob("*.png")) == names  # decoded from the video
    csv = pd.read_csv(
        folder / "CollectedData_ann.csv", header=[0, 1, 2, 3], index_col=[0, 1, 2]
    )  # as DLC reads it
    np.testing.assert_array_equal(csv.to_numpy(), pd.read_hdf(folder / "CollectedData_ann.h5").to_numpy())
    # importing the same file again changes nothing; the previous version is kept
    import_labels(config, path)
    assert (folder / "CollectedData_ann.h5.bak").is_file()
    np.testing.assert_array_equal(_arrays(config)[1], points)


def test_import_maps_parts_and_tracks_by_name_into_an_existing_project(tmp_path, tiny_video):
    path, truth = _slp(tmp_path, tiny_video)
    config = new_project(
        tmp_path,
        "exist",
        tiny_video,
        individuals=["male", "pup", "female"],
        bodyparts=["tail", "wing", "head", "thorax"],
    )
    report = import_labels(config, path)
    cfg = read_config(config)
    assert cfg["individuals"] == ["male", "pup", "female"] and cfg["multianimalbodyparts"] == [
        "tail",
        "wing",
        "head",
        "thorax",
    ]
    assert "individuals" not in report.config_changed and any("wing" in n for n in report.notes)
    _, points = _arrays(config)
    for r, f in enumerate(FRAMES):
        np.testing.assert_array_equal(points[r, 2][[2, 3, 0]], truth[(f, 0)])  # female: head, thorax, tail
        np.testing.assert_array_equal(points[r, 0][[2, 3, 0]], truth[(f, 1)])  # male
    assert np.isnan(points[:, 1]).all() and np.isnan(points[:, :, 1]).all()  # pup, wing: not labeled
    # the user labels the female's wing (not in the file) on a frame; importing again with overwrite keeps it
    from posenb.io.labels import write_labels

    h5 = next((Path(config).parent / "labeled-data").glob("*/CollectedData_ann.h5"))
    df = read_labels(h5)
    df.loc[df.index[0], ("ann", "female", "wing", "x")] = 7.5
    df.loc[df.index[0], ("ann", "female", "wing", "y")] = 8.5
    write_labels(df, h5)
    import_labels(config, path, overwrite=True)
    _, again = _arrays(config)
    np.testing.assert_array_equal(again[0, 2, 1], [7.5, 8.5])
    np.testing.assert_array_equal(again[:, :, [0, 2, 3]], points[:, :, [0, 2, 3]])


def test_too_many_animals_or_unknown_tracks_write_nothing(tmp_path, tiny_video):
    path, _ = _slp(tmp_path, tiny_video, untracked={5: 1})
    config = new_project(tmp_path, "few", tiny_video, individuals=["female", "male"], bodyparts=NODES)
    before = tree_hash(Path(config).parent)
    with pytest.raises(
        LabelError, match=r"flies\.slp: a frame holds 3 animals but config\.yaml lists 2 individuals"
    ):
        import_labels(config, path)
    assert tree_hash(Path(config).parent) == before
    other = new_project(tmp_path, "names", tiny_video, individuals=["female", "bob", "x"], bodyparts=NODES)
    before = tree_hash(Path(other).parent)
    with pytest.raises(
        LabelError, match=r"track\(s\) / individual\(s\) \['male'\] are not among config\.yaml's individuals"
    ):
        import_labels(other, path)
    assert tree_hash(Path(other).parent) == before


def test_untracked_instances_fill_the_free_individuals_in_order(tmp_path, tiny_video):
    path, truth = _slp(tmp_path, tiny_video, tracks=(None, None))
    config = new_project(tmp_path, "untr", tiny_video)
    report = import_labels(config, path)
    assert read_config(config)["individuals"] == [
        "individual1",
        "individual2",
        "individual3",
    ]  # the template fits
    assert any("Untracked instances" in n for n in report.notes)
    _, points = _arrays(config)
    for r, f in enumerate(FRAMES):
        np.testing.assert_array_equal(points[r, :2], np.stack([truth[(f, 0)], truth[(f, 1)]]))
    assert np.isnan(points[:, 2]).all()
    # a tracked "male" and an untracked instance: the untracked one takes the first free individual
    mixed, truth = _slp(tmp_path, tiny_video, tracks=("male",), untracked={5: 1})
    other = new_project(tmp_path, "mixed", tiny_video, individuals=["female", "male"], bodyparts=NODES)
    import_labels(other, mixed)
    _, points = _arrays(other)
    np.testing.assert_array_equal(points[:, 1], np.stack([truth[(f, 0)] for f in FRAMES]))
    np.testing.assert_array_equal(points[1, 0], truth[(5, 1)])
    assert np.isnan(points[[0, 2, 3], 0]).all()


def test_export_then_import_into_a_fresh_project_is_lossless(tmp_path, tiny_video):
    path, _ = _slp(tmp_path, tiny_video)
    a = new_project(tmp_path, "a", tiny_video)
    import_labels(a, path)
    out = export_labels(a, tmp_path / "out" / "exported.slp")[0]
    labels = sio.load_slp(str(out), open_videos=False)
    assert [t.name for t in labels.tracks] == ["female", "male"]
    assert [len(lf.user_instances) for lf in labels.labeled_frames] == [2, 2, 2, 2]
    b = new_project(tmp_path, "b", tiny_video)
    import_labels(b, out)
    got, want = project_labelset(b), project_labelset(a)
    assert got.individuals == want.individuals == ["female", "male"] and got.bodyparts == want.bodyparts
    assert [g.names for g in got.groups] == [g.names for g in want.groups]
    np.testing.assert_array_equal(got.groups[0].coords, want.groups[0].coords)
    assert read_config(b)["skeleton"] == read_config(a)["skeleton"]
    with pytest.raises(LabelError, match=r"CollectedData\.csv \(format 'lightning_pose' holds one animal per frame"):
        export_labels(a, tmp_path / "c" / "CollectedData.csv")
    assert not (tmp_path / "c").exists()


def test_single_animal_project_refuses_several_animals(tmp_path, tiny_video):
    path, _ = _slp(tmp_path, tiny_video)
    config = new_project(tmp_path, "single", tiny_video, multianimal=False)
    before = tree_hash(Path(config).parent)
    with pytest.raises(LabelError, match="this project is single-animal.*multianimal=True"):
        import_labels(config, path)
    assert tree_hash(Path(config).parent) == before
    # one tracked animal per frame still imports into a single-animal project
    one, truth = _slp(tmp_path, tiny_video, tracks=("female",))
    import_labels(config, one)
    df = read_labels(next((Path(config).parent / "labeled-data").glob("*/CollectedData_ann.h5")))
    assert df.columns.nlevels == 3
    np.testing.assert_array_equal(df.to_numpy().reshape(4, 3, 2)[1], truth[(5, 0)])


def test_import_panel_on_a_multi_animal_project(tmp_path, tiny_video, monkeypatch):
    """The project panel's "Import labels" tab, driven without a browser, shows the file's parts and animals."""
    pytest.importorskip("ipywidgets")
    from posenb.widgets import _file_browser
    from posenb.widgets.wizard import ProjectWizard

    path, _ = _slp(tmp_path, tiny_video)
    config = new_project(tmp_path, "panel", tiny_video)
    monkeypatch.delenv("POSENB_ALLOWED_ROOTS", raising=False)
    _file_browser.set_roots(start=tmp_path)  # the panel opens files inside its roots only
    try:
        wiz = ProjectWizard(config)
        seen = []
        wiz.on_project(seen.append)
        wiz.importer.path.value = str(path)
        wiz.importer.button.click()
    finally:
        _file_browser._ROOTS.clear()
    message = wiz.importer.message.value
    assert "Imported 4 labeled frame(s) into labeled-data/tiny" in message, message
    assert "config.yaml: set individuals, multianimalbodyparts, skeleton." in message
    assert read_config(config)["individuals"] == ["female", "male"]
    assert wiz.individuals_area.value.split() == ["female", "male"]
    assert wiz.bodyparts_area.value.split() == NODES and seen == [str(Path(config))]


@pytest.mark.shared
def test_sleap_fly_sample_into_a_multi_animal_project(tmp_path):
    if not FLY.is_file():
        pytest.skip("../shared/data/fly2-sleap is not available")
    config = new_project(tmp_path, "fly", FLY.parent / "clip.mp4")
    report = import_labels(config, FLY)
    cfg = read_config(config)
    assert report.n_frames == 120 and cfg["individuals"] == ["female", "male"]
    assert len(cfg["multianimalbodyparts"]) == 13 and cfg["multianimalbodyparts"][:3] == [
        "head",
        "thorax",
        "abdomen",
    ]
    names, points = _arrays(config)
    assert points.shape == (120, 2, 13, 2) and len(set(names)) == 120
    assert np.isfinite(points).any(axis=(2, 3)).all()  # both flies on every frame
    assert len(list((Path(config).parent / "labeled-data" / "clip").glob("*.png"))) == 120
    from posenb.project.paths import frame_index

    labels = sio.load_slp(str(FLY), open_videos=False)
    row = {frame_index(n): r for r, n in enumerate(names)}
    for lf in labels.labeled_frames[::40]:
        for inst in lf.user_instances:
            a = cfg["individuals"].index(inst.track.name)
            np.testing.assert_array_equal(points[row[int(lf.frame_idx)], a], inst.numpy()[:, :2])


def test_predicted_instances_on_frames_without_user_instances(tmp_path, tiny_video):
    skel = sio.Skeleton(list(NODES))
    vid = sio.Video.from_filename(str(tiny_video))
    female, male = sio.Track(name="female"), sio.Track(name="male")
    pred = [
        sio.PredictedInstance.from_numpy(
            _points(7, a), skeleton=skel, point_scores=np.ones(3), score=1.0, track=t
        )
        for a, t in enumerate((female, male))
    ]
    user = sio.Instance.from_numpy(_points(3, 0), skeleton=skel, track=male)
    frames = [
        sio.LabeledFrame(video=vid, frame_idx=3, instances=[user, pred[0]]),  # a user instance wins
        sio.LabeledFrame(video=vid, frame_idx=7, instances=pred),
    ]
    path = tmp_path / "pred.slp"
    sio.save_slp(
        sio.Labels(labeled_frames=frames, videos=[vid], skeletons=[skel], tracks=[female, male]), str(path)
    )
    a = new_project(tmp_path, "user", tiny_video)
    assert import_labels(a, path).n_frames == 1 and read_config(a)["individuals"] == ["male"]
    b = new_project(tmp_path, "pred", tiny_video)
    assert import_labels(b, path, predictions=True).n_frames == 2
    assert read_config(b)["individuals"] == ["female", "male"]
    names, points = _arrays(b)
    assert names == ["img03.png", "img07.png"]
    np.testing.assert_array_equal(points[0, 1], _points(3, 0))
    assert np.isnan(points[0, 0]).all()
    np.testing.assert_array_equal(points[1], np.stack([_points(7, 0), _points(7, 1)]))
