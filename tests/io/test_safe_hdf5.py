"""HDF5 label / prediction files whose reading would run code are refused before pandas touches them.

Each hostile file carries a real payload (it creates a marker file when unpickled); the tests show that pandas
alone runs it, and that every posenb entry point refuses the file, names it and the column, and the marker stays
absent.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from crafted_files import (
    evil_attribute_h5,
    label_table,
    object_column_h5,
    payload_pickle,
    prediction_table,
)

from posenb.errors import LabelError, PosenbError
from posenb.io.labels import read_labels, write_labels
from posenb.io.predictions import read_predictions, write_predictions
from posenb.io.safe_hdf5 import UnsafeHDF5Error, check_hdf5, read_hdf_table
from posenb.project.config import read_config
from posenb.project.paths import get_scorer_name


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "PAYLOAD_RAN"


def test_the_crafted_file_is_really_dangerous(tmp_path, marker):
    """pandas alone runs the payload: the files below are real attacks, not just odd files."""
    h5 = object_column_h5(tmp_path / "evil.h5", label_table(), ("me", "tail", "y"), marker)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pd.read_hdf(h5, "df_with_missing")
    assert marker.exists()
    marker.unlink()
    h5 = evil_attribute_h5(tmp_path / "evil_attr.h5", prediction_table(), marker)
    with pd.HDFStore(h5, mode="r") as store:
        store.keys()
    assert marker.exists()


def test_object_column_is_refused_naming_file_and_column(tmp_path, marker):
    h5 = object_column_h5(tmp_path / "CollectedData_me.h5", label_table(), ("me", "tail", "y"), marker)
    with pytest.raises(UnsafeHDF5Error) as err:
        read_labels(h5)
    msg = str(err.value)
    assert str(h5) in msg and "('me', 'tail', 'y')" in msg and "builtins.exec" in msg
    assert not marker.exists()
    assert isinstance(err.value, LabelError) and isinstance(err.value, PosenbError)


def test_only_the_bad_column_is_named_when_all_columns_are_objects(tmp_path, marker):
    df = label_table().astype(object)
    h5 = object_column_h5(tmp_path / "all_objects.h5", df, ("me", "nose", "x"), marker)
    with pytest.raises(UnsafeHDF5Error, match=r"column \('me', 'nose', 'x'\) \(node"):
        read_labels(h5)
    assert not marker.exists()


@pytest.mark.parametrize("attribute", ["non_index_axes", "info", "values_cols", "index_cols"])
def test_table_format_attribute_payload_is_refused(tmp_path, marker, attribute):
    h5 = evil_attribute_h5(tmp_path / "videoDLC_x.h5", prediction_table(), marker, attribute=attribute)
    with pytest.raises(UnsafeHDF5Error, match=attribute) as err:
        read_predictions(h5)
    assert str(h5) in str(err.value)
    assert not marker.exists()


def test_values_block_kind_payload_names_the_block(tmp_path, marker):
    h5 = evil_attribute_h5(
        tmp_path / "p.h5", prediction_table(), marker, node="df_with_missing/table", attribute="values_block_0_kind"
    )
    with pytest.raises(UnsafeHDF5Error, match="column names of values_block_0"):
        read_predictions(h5)
    assert not marker.exists()


def test_payload_in_a_vlen_string_attribute_and_in_the_root_is_refused(tmp_path, marker):
    h5 = tmp_path / "p.h5"
    write_predictions(prediction_table(), h5)
    with h5py.File(h5, "r+") as f:
        f.attrs["TITLE"] = payload_pickle(marker, protocol=0).decode("latin1")  # variable-length str
    with pytest.raises(UnsafeHDF5Error, match="TITLE"):
        read_predictions(h5)
    assert not marker.exists()


def test_object_index_level_is_refused(tmp_path, marker):
    """The row index can be an object array too (pickled): refused like a column."""
    df = prediction_table()
    df.index = pd.Index([Payload_or_int(i, marker) for i in range(len(df))], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df.to_hdf(tmp_path / "idx.h5", key="df_with_missing", mode="w", format="fixed")
    with pytest.raises(UnsafeHDF5Error, match="axis1"):
        read_predictions(tmp_path / "idx.h5")
    assert not marker.exists()


def Payload_or_int(i, marker):  # noqa: N802 - one payload among plain row labels
    from crafted_files import Payload

    return Payload(marker) if i == 2 else i


def test_payload_protocols_and_nesting(tmp_path, marker):
    """Payloads under every pickle protocol and buried in lists/dicts are found."""
    for protocol in (0, 2, 4, 5):
        blob = payload_pickle(marker, protocol=protocol, wrap=lambda p: {"a": [1, (2, p)]})
        h5 = tmp_path / f"p{protocol}.h5"
        write_predictions(prediction_table(), h5)
        with h5py.File(h5, "r+") as f:
            f["df_with_missing"].attrs["info"] = np.bytes_(blob + b"" if blob.endswith(b".") else blob)
        with pytest.raises(UnsafeHDF5Error):
            read_predictions(h5)
    assert not marker.exists()


def test_external_link_is_refused(tmp_path, marker):
    other = object_column_h5(tmp_path / "other.h5", label_table(), ("me", "tail", "y"), marker)
    h5 = tmp_path / "linked.h5"
    with h5py.File(h5, "w") as f:
        f["df_with_missing"] = h5py.ExternalLink(str(other), "/df_with_missing")
    with pytest.raises(UnsafeHDF5Error, match="another file"):
        read_labels(h5)
    assert not marker.exists()


def test_nested_external_link_and_link_cycles(tmp_path, marker):
    other = object_column_h5(tmp_path / "other.h5", label_table(), ("me", "tail", "y"), marker)
    h5 = write_labels(label_table(), tmp_path / "CollectedData_me.h5", csv=False)
    with h5py.File(h5, "r+") as f:
        f["df_with_missing/extra/deeper"] = h5py.ExternalLink(str(other), "/df_with_missing")
    with pytest.raises(UnsafeHDF5Error, match="/df_with_missing/extra/deeper"):
        read_labels(h5)
    cyclic = write_labels(label_table(), tmp_path / "cyclic.h5", csv=False)
    with h5py.File(cyclic, "r+") as f:
        f["df_with_missing/loop"] = f["df_with_missing"]  # a hard-link cycle: the check must still end
    with pytest.raises(UnsafeHDF5Error, match="link cycle"):  # PyTables would walk it forever
        read_labels(cyclic)
    assert not marker.exists()


def test_plain_object_data_and_pandas_bookkeeping_still_read(tmp_path):
    """Object columns holding only plain values (and pandas' own pickled attributes) are harmless: read."""
    df = label_table()
    obj = df.copy()
    obj[("me", "tail", "y")] = obj[("me", "tail", "y")].astype(object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obj.to_hdf(tmp_path / "plain_objects.h5", key="df_with_missing", format="fixed")
    pd.testing.assert_frame_equal(read_labels(tmp_path / "plain_objects.h5"), read_labels_ref(df))
    pred = prediction_table()
    write_predictions(pred, tmp_path / "pred.h5")
    pd.testing.assert_frame_equal(read_predictions(tmp_path / "pred.h5"), pred)
    pred.to_hdf(tmp_path / "napari.h5", key="keypoints", format="table")  # napari-deeplabcut's key
    pd.testing.assert_frame_equal(read_hdf_table(tmp_path / "napari.h5"), pred)


def read_labels_ref(df):
    out = df.copy()
    out.columns = out.columns.set_names(["scorer", "bodyparts", "coords"])
    return out.sort_index()


@pytest.mark.shared
def test_deeplabcut_demo_labels_pass_the_check(openfield_dir):
    h5 = openfield_dir / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5"
    check_hdf5(h5)
    assert read_labels(h5).shape == (116, 8)


@pytest.mark.parametrize(
    "content",
    [b"", b"not an hdf5 file at all", b"\x89HDF\r\n\x1a\n" + b"\x00" * 200],
    ids=["empty", "text", "truncated-signature"],
)
def test_non_hdf5_bytes_get_a_label_error(tmp_path, content):
    h5 = tmp_path / "CollectedData_me.h5"
    h5.write_bytes(content)
    with pytest.raises(LabelError, match="CollectedData_me.h5") as err:
        read_labels(h5)
    assert not isinstance(err.value, UnsafeHDF5Error)


def test_truncated_real_file_gets_a_label_error(tmp_path):
    h5 = tmp_path / "p.h5"
    write_predictions(prediction_table(n=2000), h5)
    data = h5.read_bytes()
    h5.write_bytes(data[: len(data) // 2])
    with pytest.raises(LabelError, match="p.h5"):
        read_predictions(h5)


def test_large_file_is_checked_by_path(tmp_path, marker, monkeypatch):
    import posenb.io.safe_hdf5 as safe_hdf5

    monkeypatch.setattr(safe_hdf5, "MAX_IN_MEMORY", 10)
    good = tmp_path / "good.h5"
    write_predictions(prediction_table(), good)
    assert read_predictions(good).shape == (5, 6)
    h5 = object_column_h5(tmp_path / "evil.h5", label_table(), ("me", "tail", "y"), marker)
    with pytest.raises(UnsafeHDF5Error):
        read_labels(h5)
    assert not marker.exists()


# ------------------------------------------------------------------------------------ public entry points
def _plant_labels(config: str, marker: Path) -> Path:
    cfg = read_config(config)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    h5 = folder / f"CollectedData_{cfg['scorer']}.h5"
    df = read_labels(h5)
    object_column_h5(h5, df, (cfg["scorer"], cfg["bodyparts"][1], "y"), marker)
    return h5


def test_create_training_dataset_refuses_and_writes_nothing(demo_project, marker):
    from posenb.data.trainingset import create_training_dataset

    h5 = _plant_labels(demo_project, marker)
    project = Path(demo_project).parent
    with pytest.raises(UnsafeHDF5Error, match=str(h5.name)):
        create_training_dataset(demo_project)
    assert not marker.exists()
    assert not list((project / "training-datasets").rglob("*.*"))
    assert not (project / "dlc-models").exists() or not list((project / "dlc-models").rglob("*.yaml"))


def _plant_predictions(config: str, marker: Path) -> tuple[Path, Path]:
    cfg = read_config(config)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 1000)
    h5 = video.with_name(video.stem + scorer + ".h5")
    df = prediction_table(scorer, cfg["bodyparts"], n=60)
    object_column_h5(h5, df, (scorer, cfg["bodyparts"][0], "likelihood"), marker)
    return video, h5


def test_filterpredictions_refuses(demo_project, marker):
    from posenb.post.filtering import filterpredictions

    video, h5 = _plant_predictions(demo_project, marker)
    with pytest.raises(UnsafeHDF5Error, match="likelihood"):
        filterpredictions(demo_project, [str(video)])
    assert not marker.exists()
    assert not list(h5.parent.glob("*_filtered*"))


def test_extract_outlier_frames_refuses(demo_project, marker):
    from posenb.frames.outliers import extract_outlier_frames

    video, _ = _plant_predictions(demo_project, marker)
    with pytest.raises(UnsafeHDF5Error):
        extract_outlier_frames(demo_project, [str(video)], automatic=True)
    assert not marker.exists()


def test_converth5_to_csv_skips_with_a_warning(demo_project, marker):
    from posenb.post.convert import analyze_videos_converth5_to_csv

    video, h5 = _plant_predictions(demo_project, marker)
    with pytest.warns(UserWarning, match="Refusing to read"):
        written = analyze_videos_converth5_to_csv([str(video)], listofvideos=True)
    assert written == [] and not h5.with_suffix(".csv").exists()
    assert not marker.exists()


@pytest.mark.parametrize("entry", ["load_refinement", "merge_datasets"])
def test_machine_labels_in_refine_are_refused(demo_project, marker, entry):
    from posenb.post import refine

    cfg = read_config(demo_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    ml = folder / "machinelabels-iter0.h5"
    df = prediction_table("DLC_x", cfg["bodyparts"], n=3)
    df.index = pd.MultiIndex.from_tuples([("labeled-data", "demo_mouse", f"img{i}.png") for i in range(3)])
    object_column_h5(ml, df, ("DLC_x", cfg["bodyparts"][0], "x"), marker)
    with pytest.raises(UnsafeHDF5Error, match="machinelabels-iter0.h5"):
        if entry == "load_refinement":
            refine.load_refinement(demo_project, "demo_mouse")
        else:
            refine.merge_datasets(demo_project)
    assert not marker.exists()


def test_read_predictions_3d_refuses(tmp_path, marker):
    from posenb.threed.triangulation import read_predictions_3d

    cols = pd.MultiIndex.from_product([["DLC_3D"], ["nose"], ["x", "y", "z"]])
    df = pd.DataFrame(np.zeros((4, 3)), columns=cols)
    h5 = object_column_h5(tmp_path / "v_DLC_3D.h5", df, ("DLC_3D", "nose", "z"), marker)
    with pytest.raises(UnsafeHDF5Error, match="'z'"):
        read_predictions_3d(h5)
    assert not marker.exists()


def test_train_network_refuses_a_planted_training_set(tiny_project_copy, marker):
    """The merged CollectedData of the training set is read by train_network: a planted one is refused."""
    from posenb.train.api import train_network

    cfg = read_config(tiny_project_copy)
    merged = next((Path(cfg["project_path"]) / "training-datasets").rglob(f"CollectedData_{cfg['scorer']}.h5"))
    df = read_labels(merged)
    object_column_h5(merged, df, (cfg["scorer"], cfg["bodyparts"][0], "x"), marker)
    with pytest.raises(UnsafeHDF5Error):
        train_network(tiny_project_copy, maxiters=1)
    assert not marker.exists()
    assert not list(Path(cfg["project_path"]).rglob("snapshot-*.pt"))


@pytest.fixture
def tiny_project_copy(demo_project) -> str:
    """The demo project with a training set (no training)."""
    from posenb.data.trainingset import create_training_dataset

    create_training_dataset(demo_project)
    return demo_project


def test_writing_back_after_a_refusal_is_not_needed(tmp_path):
    """A clean file round-trips through write_labels / read_labels unchanged (the check adds nothing)."""
    df = label_table()
    path = write_labels(df, tmp_path / "CollectedData_me.h5")
    pd.testing.assert_frame_equal(read_labels(path), read_labels_ref(df))
    shutil.copy(path, tmp_path / "copy.h5")
    check_hdf5((tmp_path / "copy.h5").read_bytes(), name="copy.h5")
