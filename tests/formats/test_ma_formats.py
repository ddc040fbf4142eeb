"""Several animals per frame through COCO, NWB (ndx-pose) and DeepLabCut multi-animal label files: export of a
multi-animal project, import into a fresh or an existing one, errors that write nothing, untracked animals."""

from __future__ import annotations

import importlib.util
import inspect
import json
import warnings
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest
import yaml
from ma_projects import FLY, FRAMES, NODES, new_project, tree_hash

from posenb.errors import LabelError
from posenb.formats.api import export_labels, import_labels, project_labelset
from posenb.io.label_arrays import arrays_to_table, table_to_arrays
from posenb.io.labels import read_labels, write_labels
from posenb.project.config import project_parts, read_config
from posenb.project.create import create_new_project

INDIVIDUALS = ["female", "male", "pup"]
FORMATS = ("dlc", "coco", "nwb")
TARGET = {"dlc": "dlc-export", "coco": "coco/annotations.json", "nwb": "labels.nwb"}


def _needs(fmt: str) -> None:
    if fmt == "nwb":
        pytest.importorskip("ndx_pose")


def _truth() -> np.ndarray:
    """(4 frames, 3 individuals, 3 parts, 2): distinct points, non-representable decimals, the male's tail not
    labeled on frame 5, the pup absent on frame 9."""
    f = np.array(FRAMES, dtype=float)[:, None, None]
    a = np.arange(3, dtype=float)[None, :, None]
    k = np.arange(3, dtype=float)[None, None, :]
    pts = np.stack([5.5 + f + 10 * a + k / 3, 4.1 + a * 7 + k * 6.3 + f / 7], axis=-1)
    pts[1, 1, 2] = np.nan
    pts[2, 2] = np.nan
    return pts


def _labeled_project(
    tmp_path: Path, video: Path, name: str = "src", unique: np.ndarray | None = None, individuals=INDIVIDUALS
) -> str:
    """A multi-animal project labeled with :func:`_truth` (its first ``len(individuals)`` animals) on frames
    ``img02/05/09/20.png`` of ``video`` (and a unique part ``arena`` with ``unique`` ``(4, 1, 2)``)."""
    extra = {"uniquebodyparts": ["arena"]} if unique is not None else {}
    config = new_project(tmp_path, name, video, individuals=list(individuals), bodyparts=NODES, **extra)
    parts = project_parts(read_config(config))
    folder = Path(config).parent / "labeled-data" / "tiny"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"img{f:02d}.png" for f in FRAMES]
    for i, n in enumerate(names):
        cv2.imwrite(str(folder / n), np.full((48, 64, 3), 40 * i, np.uint8))
    index = [("labeled-data", "tiny", n) for n in names]
    points = _truth()[:, : len(individuals)]
    table = arrays_to_table(
        points, "ann", NODES, index, list(individuals), unique, list(parts.unique_bodyparts), multianimal=True
    )
    write_labels(table, folder / "CollectedData_ann.h5")
    return config


def _arrays(config: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(image names, points (n, n_individuals, n_bodyparts, 2), unique (n, n_unique, 2)) of the project's label
    file, in config order, read with posenb's label reader."""
    parts = project_parts(read_config(config))
    h5 = next((Path(config).parent / "labeled-data").glob("*/CollectedData_ann.h5"))
    df = read_labels(h5)
    arrays = table_to_arrays(df, parts.bodyparts, parts.individuals, parts.unique_bodyparts)
    return [i[-1] for i in df.index], arrays.points, arrays.unique


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_then_import_into_a_fresh_project_is_exact(tmp_path, tiny_video, fmt):
    _needs(fmt)
    src = _labeled_project(tmp_path, tiny_video)
    out = export_labels(src, tmp_path / "out" / TARGET[fmt], format=fmt)
    dst = new_project(tmp_path, "dst", tiny_video)  # DeepLabCut's template names: takes the file's
    report = import_labels(dst, out[0], format=fmt)
    cfg = read_config(dst)
    assert cfg["individuals"] == INDIVIDUALS and cfg["multianimalbodyparts"] == NODES
    assert cfg["skeleton"] == read_config(src)["skeleton"]
    assert {"individuals", "multianimalbodyparts"} <= set(report.config_changed)
    assert report.n_frames == 4 and not any("Untracked" in n for n in report.notes)
    names, points, _ = _arrays(dst)
    assert names == ["img02.png", "img05.png", "img09.png", "img20.png"]
    np.testing.assert_array_equal(points, _truth())  # bit-exact, NaN where not labeled or absent
    for n in names:  # the same pictures
        a = cv2.imread(str(Path(src).parent / "labeled-data" / "tiny" / n))
        b = cv2.imread(str(Path(dst).parent / "labeled-data" / "tiny" / n))
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fmt", FORMATS)
def test_import_maps_individuals_and_parts_by_name(tmp_path, tiny_video, fmt):
    _needs(fmt)
    src = _labeled_project(tmp_path, tiny_video)
    out = export_labels(src, tmp_path / "out" / TARGET[fmt], format=fmt)[0]
    dst = new_project(
        tmp_path,
        "dst",
        tiny_video,
        individuals=["pup", "x", "male", "female"],
        bodyparts=["tail", "wing", "head", "thorax"],
    )
    report = import_labels(dst, out, format=fmt)
    assert "individuals" not in report.config_changed and any("wing" in n for n in report.notes)
    _, points, _ = _arrays(dst)
    truth = _truth()
    for j, ind in enumerate(["pup", "x", "male", "female"]):
        if ind == "x":
            assert np.isnan(points[:, j]).all()
        else:
            np.testing.assert_array_equal(points[:, j][:, [2, 3, 0]], truth[:, INDIVIDUALS.index(ind)])
    assert np.isnan(points[:, :, 1]).all()  # wing: not in the file


@pytest.mark.parametrize("fmt", FORMATS)
def test_too_many_animals_or_unknown_individuals_write_nothing(tmp_path, tiny_video, fmt):
    _needs(fmt)
    src = _labeled_project(tmp_path, tiny_video)
    out = export_labels(src, tmp_path / "out" / TARGET[fmt], format=fmt)[0]
    few = new_project(tmp_path, "few", tiny_video, individuals=["female", "male"], bodyparts=NODES)
    before = tree_hash(Path(few).parent)
    with pytest.raises(LabelError, match=r"track\(s\) / individual\(s\) \['pup'\] are not among") as err:
        import_labels(few, out, format=fmt)
    assert str(out) in str(err.value)
    assert tree_hash(Path(few).parent) == before
    other = new_project(
        tmp_path, "names", tiny_video, individuals=["female", "bob", "x", "y"], bodyparts=NODES
    )
    before = tree_hash(Path(other).parent)
    with pytest.raises(LabelError, match=r"\['male', 'pup'\] are not among config\.yaml's individuals"):
        import_labels(other, out, format=fmt)
    assert tree_hash(Path(other).parent) == before
    # a single-animal project refuses several animals on a frame, naming the file

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = create_new_project("one", "ann", [str(tiny_video)], working_directory=tmp_path / "one")
    before = tree_hash(Path(single).parent)
    with pytest.raises(LabelError, match="has 3 animals, but this project is single-animal") as err:
        import_labels(single, out, format=fmt)
    assert str(out) in str(err.value) and tree_hash(Path(single).parent) == before


def _coco_without_identity(out: Path, keep: dict | None = None) -> Path:
    """The exported COCO file with identities removed (except ``keep``: {individual: new identity fields})."""
    data = json.loads(out.read_text())
    for ann in data["annotations"]:
        name = ann.pop("individual")
        ann.pop("track_id")
        ann.update((keep or {}).get(name, {}))
    path = out.with_name("untracked.json")
    path.write_text(json.dumps(data))
    return path


def _packed(truth: np.ndarray) -> np.ndarray:
    """Each frame's present animals in order, packed to the first slots."""
    out = np.full_like(truth, np.nan)
    for f in range(len(truth)):
        present = [a for a in range(truth.shape[1]) if np.isfinite(truth[f, a]).any()]
        out[f, : len(present)] = truth[f, present]
    return out


def test_coco_annotations_without_identity_are_untracked(tmp_path, tiny_video):
    src = _labeled_project(tmp_path, tiny_video)
    out = export_labels(src, tmp_path / "out" / "annotations.json")[0]
    untracked = _coco_without_identity(out)
    dst = new_project(tmp_path, "dst", tiny_video)
    report = import_labels(dst, untracked)
    assert read_config(dst)["individuals"] == [
        "individual1",
        "individual2",
        "individual3",
    ]  # the template fits
    assert any("Untracked" in n for n in report.notes)
    np.testing.assert_array_equal(_arrays(dst)[1], _packed(_truth()))
    # three untracked animals on a frame, two individuals: refused, nothing written
    two = new_project(tmp_path, "two", tiny_video, individuals=["a", "b"], bodyparts=NODES)
    before = tree_hash(Path(two).parent)
    with pytest.raises(
        LabelError, match=r"untracked\.json: a frame holds 3 animals but config\.yaml lists 2"
    ):
        import_labels(two, untracked)
    assert tree_hash(Path(two).parent) == before
    # the pup by PoseTrack's integer track_id, the male by CVAT's attributes: the others fill the free slots
    mixed = _coco_without_identity(
        out, {"pup": {"track_id": 7}, "male": {"attributes": {"individual": "male"}}}
    )
    other = new_project(tmp_path, "mixed", tiny_video, individuals=["a", "track7", "male"], bodyparts=NODES)
    import_labels(other, mixed)
    _, points, _ = _arrays(other)
    np.testing.assert_array_equal(points[:, 1], _truth()[:, 2])
    np.testing.assert_array_equal(points[:, 2], _truth()[:, 1])
    np.testing.assert_array_equal(points[:, 0], _truth()[:, 0])  # the female: the one free individual
    # two annotations of one individual on an image: refused
    data = json.loads(out.read_text())
    data["annotations"].append(dict(data["annotations"][0], id=999))
    out.write_text(json.dumps(data))
    again = new_project(tmp_path, "again", tiny_video)
    before = tree_hash(Path(again).parent)
    with pytest.raises(
        LabelError, match=r"annotations\.json: image .*img02\.png has two annotations of individual"
    ):
        import_labels(again, out)
    assert tree_hash(Path(again).parent) == before


def test_nwb_written_by_sleap_io_untracked_or_with_a_subjects_table(tmp_path, tiny_video):
    """sleap-io's NWB writer names instances ``instance_<i>``: without identity they fill the free individuals;
    with its ndx-multisubjects ``subjects_table`` (tracked labels) an instance's ``id`` names its subject."""
    sio = pytest.importorskip("sleap_io")
    pytest.importorskip("ndx_pose")
    skel = sio.Skeleton(list(NODES), edges=[("head", "thorax")])
    video = sio.Video.from_filename(str(tiny_video))
    tracks = [sio.Track(name=n) for n in INDIVIDUALS]
    truth = _truth()

    def labels(tracked: bool):
        frames = [
            sio.LabeledFrame(
                video=video,
                frame_idx=f,
                instances=[
                    sio.Instance.from_numpy(truth[r, a], skeleton=skel, track=tracks[a] if tracked else None)
                    for a in (2, 0, 1)  # not in track order
                    if np.isfinite(truth[r, a]).any()
                ],
            )
            for r, f in enumerate(FRAMES)
        ]
        return sio.Labels(
            labeled_frames=frames, videos=[video], skeletons=[skel], tracks=tracks if tracked else []
        )

    sio.save_nwb(labels(False), str(tmp_path / "s.nwb"))
    dst = new_project(tmp_path, "dst", tiny_video, individuals=["a", "b", "c"], bodyparts=NODES)
    import_labels(dst, tmp_path / "s.nwb")
    names, points, _ = _arrays(dst)
    assert names == ["img02.png", "img05.png", "img09.png", "img20.png"]
    np.testing.assert_array_equal(points, _packed(truth[:, [2, 0, 1]]))
    two = new_project(tmp_path, "two", tiny_video, individuals=["a", "b"], bodyparts=NODES)
    before = tree_hash(Path(two).parent)
    with pytest.raises(LabelError, match=r"s\.nwb: a frame holds 3 animals but config\.yaml lists 2"):
        import_labels(two, tmp_path / "s.nwb")
    assert tree_hash(Path(two).parent) == before
    from sleap_io.io import nwb_annotations

    if "use_multisubjects" not in inspect.signature(nwb_annotations.save_labels).parameters:
        pytest.skip("this sleap-io writes no subjects table")
    nwb_annotations.save_labels(labels(True), str(tmp_path / "m.nwb"), use_multisubjects=True)
    other = new_project(
        tmp_path, "other", tiny_video, individuals=["male", "x", "pup", "female"], bodyparts=NODES
    )
    import_labels(other, tmp_path / "m.nwb")
    _, points, _ = _arrays(other)
    np.testing.assert_array_equal(points[:, [3, 0, 2]], truth)
    assert np.isnan(points[:, 1]).all()


def test_deeplabcut_multi_animal_layout_with_unique_parts(tmp_path, tiny_video):
    unique = np.array([[[30.5, 20.25]], [[31.0, 20.0]], [[np.nan, np.nan]], [[10.1 / 3, 1.0]]])
    src = _labeled_project(tmp_path, tiny_video, unique=unique)
    root = tmp_path / "dlc-export"
    h5 = export_labels(src, root, format="dlc")[0]
    # what DeepLabCut reads: its config.yaml keys, the .h5 with pandas, the CSV with 4 header rows
    cfg = yaml.safe_load((root / "config.yaml").read_text())
    assert cfg["multianimalproject"] is True and cfg["individuals"] == INDIVIDUALS
    assert cfg["multianimalbodyparts"] == NODES and cfg["uniquebodyparts"] == ["arena"]
    assert cfg["bodyparts"] == "MULTI!" and cfg["scorer"] == "ann"
    df = pd.read_hdf(h5, "df_with_missing")
    assert df.columns.names == ["scorer", "individuals", "bodyparts", "coords"]
    assert list(dict.fromkeys(df.columns.get_level_values(1))) == [*INDIVIDUALS, "single"]
    assert list(df.index) == [("labeled-data", "tiny", f"img{f:02d}.png") for f in FRAMES]
    np.testing.assert_array_equal(df.loc[:, ("ann", "male")].to_numpy().reshape(4, 3, 2), _truth()[:, 1])
    np.testing.assert_array_equal(df[[("ann", "single", "arena", c) for c in "xy"]].to_numpy(), unique[:, 0])
    csv = pd.read_csv(h5.with_suffix(".csv"), header=[0, 1, 2, 3], index_col=[0, 1, 2])
    np.testing.assert_array_equal(csv.to_numpy(), df.to_numpy())
    assert list(csv.columns) == list(df.columns)
    # into a fresh project: individuals, parts and unique parts taken, labels exact
    dst = new_project(tmp_path, "dst", tiny_video)
    report = import_labels(dst, root)  # the exported folder (its config.yaml)
    assert "uniquebodyparts" in report.config_changed
    got = read_config(dst)
    assert got["uniquebodyparts"] == ["arena"] and got["individuals"] == INDIVIDUALS
    _, points, uniq = _arrays(dst)
    np.testing.assert_array_equal(points, _truth())
    np.testing.assert_array_equal(uniq, unique)
    import_labels(dst, root)  # again: the same labels (unique ones included), no conflict
    np.testing.assert_array_equal(_arrays(dst)[2], unique)
    from_csv = new_project(tmp_path, "csv", tiny_video)  # DeepLabCut's CSV alone (4 header rows)
    import_labels(from_csv, h5.with_suffix(".csv"))
    np.testing.assert_array_equal(_arrays(from_csv)[1], _truth())
    np.testing.assert_array_equal(_arrays(from_csv)[2], unique)
    # a project without the unique part refuses the file; nothing written
    other = new_project(tmp_path, "other", tiny_video, individuals=INDIVIDUALS, bodyparts=NODES)
    before = tree_hash(Path(other).parent)
    with pytest.raises(LabelError, match=r"CollectedData_ann\.h5: unique body part\(s\) \['arena'\]"):
        import_labels(other, h5)
    assert tree_hash(Path(other).parent) == before
    # the other formats hold the animals only: a warning names the unique part left out
    with pytest.warns(UserWarning, match=r"unique body parts \['arena'\] are not exported"):
        out = export_labels(src, tmp_path / "c" / "annotations.json")
    back = new_project(tmp_path, "back", tiny_video)
    import_labels(back, out[0])
    np.testing.assert_array_equal(_arrays(back)[1], _truth())


def test_one_animal_deeplabcut_file_with_unique_parts_into_a_single_animal_project(tmp_path, tiny_video):

    unique = np.array([[[30.5, 20.25]], [[31.0, 20.0]], [[np.nan, np.nan]], [[10.1 / 3, 1.0]]])
    src = _labeled_project(tmp_path, tiny_video, unique=unique, individuals=["female"])
    h5 = export_labels(src, tmp_path / "dlc-export", format="dlc")[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = create_new_project("one", "ann", [str(tiny_video)], working_directory=tmp_path / "one")
    import_labels(single, h5)
    assert read_config(single)["bodyparts"] == [*NODES, "arena"]  # the unique part is one more body part
    got = project_labelset(single).groups[0].coords
    np.testing.assert_array_equal(got, np.concatenate([_truth()[:, 0], unique], axis=1))


def test_lightning_pose_refuses_a_multi_animal_project(tmp_path, tiny_video):
    src = _labeled_project(tmp_path, tiny_video)
    with pytest.raises(
        LabelError, match=r"lp[/\\]CollectedData\.csv \(format 'lightning_pose' holds one animal"
    ):
        export_labels(src, tmp_path / "lp" / "CollectedData.csv")
    assert not (tmp_path / "lp").exists()


@pytest.mark.shared
def test_sleap_flies_through_every_multi_animal_format(tmp_path):
    """The fly sample (2 tracked flies, 13 parts; every 10th of its 120 frames: the import of all 120 decodes and
    encodes 1024x1024 frames for about a minute): .slp -> project -> dlc/coco/nwb -> a fresh project: the same."""
    sio = pytest.importorskip("sleap_io")
    if not FLY.is_file():
        pytest.skip("../shared/data/fly2-sleap is not available")
    labels = sio.load_slp(str(FLY), open_videos=False)
    some = sio.Labels(
        labeled_frames=labels.labeled_frames[::10],
        videos=labels.videos,
        skeletons=labels.skeletons,
        tracks=labels.tracks,
    )
    some.replace_filenames(new_filenames=[str(FLY.parent / "clip.mp4")], open_videos=False)
    sio.save_slp(some, str(tmp_path / "fly12.slp"))
    src = new_project(tmp_path, "fly", FLY.parent / "clip.mp4")
    assert import_labels(src, tmp_path / "fly12.slp").n_frames == 12
    want = project_labelset(src)
    assert want.individuals == ["female", "male"] and len(want.bodyparts) == 13
    assert np.isfinite(want.groups[0].coords).any(axis=(2, 3)).all()  # both flies on every frame
    for fmt in FORMATS:
        if fmt == "nwb" and importlib.util.find_spec("ndx_pose") is None:
            continue
        out = export_labels(src, tmp_path / f"out-{fmt}" / TARGET[fmt], format=fmt)
        dst = new_project(tmp_path, f"dst-{fmt}", FLY.parent / "clip.mp4")
        import_labels(dst, out[0], format=fmt)
        got = project_labelset(dst)
        assert got.individuals == want.individuals and got.bodyparts == want.bodyparts, fmt
        assert got.skeleton == want.skeleton and [g.names for g in got.groups] == [
            g.names for g in want.groups
        ]
        for a, b in zip(want.groups, got.groups):
            np.testing.assert_array_equal(b.coords, a.coords)


def test_sleap_holds_unique_parts_on_the_track_single(tmp_path, tiny_video):
    """A multi-animal project's unique body parts go to SLEAP as extra nodes on the track "single" (as posenb's
    predictions export writes them) and come back as unique parts, not as an individual."""
    sio = pytest.importorskip("sleap_io")
    unique = np.array([[[30.5, 20.25]], [[31.0, 20.0]], [[np.nan, np.nan]], [[10.1 / 3, 1.0]]])
    src = _labeled_project(tmp_path, tiny_video, unique=unique)
    out = export_labels(src, tmp_path / "flies.slp")[0]
    labels = sio.load_slp(str(out))
    assert [t.name for t in labels.tracks] == [*INDIVIDUALS, "single"]
    assert labels.skeletons[0].node_names == [*NODES, "arena"]
    dst = new_project(tmp_path, "dst", tiny_video)
    import_labels(dst, out)
    got = read_config(dst)
    assert got["individuals"] == INDIVIDUALS and got["multianimalbodyparts"] == NODES
    assert got["uniquebodyparts"] == ["arena"]
    _, points, uniq = _arrays(dst)
    np.testing.assert_array_equal(points, _truth())
    np.testing.assert_array_equal(uniq, unique)
