"""Every pickle loader of posenb refuses a crafted payload (the payload never runs), and DeepLabCut 3's own
``_meta.pickle`` (DLC enums and pathlib paths inside) is read as plain data without importing deeplabcut."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
from crafted_files import Payload, dlc3_meta_pickle, payload_pickle, stand_in_module

from posenb.errors import ConfigError, LabelError, ModelError
from posenb.io.predictions import read_meta, safe_pickle_load, write_meta
from posenb.io.safe_pickle import RefusedGlobal, restricted_load, restricted_loads, scan_pickle
from posenb.project.config import read_config


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "PAYLOAD_RAN"


def test_the_payload_is_real(tmp_path, marker):
    pickle.loads(payload_pickle(marker))
    assert marker.exists()


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_restricted_load_refuses_every_protocol(tmp_path, marker, protocol):
    path = tmp_path / "x.pickle"
    path.write_bytes(payload_pickle(marker, protocol, wrap=lambda p: {"data": {"a": [np.arange(3), p]}}))
    with pytest.raises(RefusedGlobal, match=r"(__builtin__|builtins)\.exec"):
        restricted_load(path)
    with pytest.raises(RefusedGlobal):
        restricted_load(path, foreign=True)  # the DLC mode maps paths and DLC classes only
    assert not marker.exists()


def test_plain_data_and_arrays_round_trip():
    data = {"a": [1, 2.5, "x", None, True], "b": (np.arange(6).reshape(2, 3), np.float32(1.5)), "c": {1, 2}}
    for protocol in (2, 4, 5):
        out = restricted_loads(pickle.dumps(data, protocol))
        assert out["a"] == data["a"] and out["c"] == {1, 2}
        np.testing.assert_array_equal(out["b"][0], data["b"][0])


def test_scan_reports_every_refused_global(marker):
    refused, _ = scan_pickle(pickle.dumps([Payload(marker), __import__("os").getcwd], 4))
    assert refused[0] == "builtins.exec" and refused[1].endswith(".getcwd")
    assert not marker.exists()
    assert scan_pickle(pickle.dumps({"plain": [1, "a"]}, 0))[0] == []


def test_meta_pickle_payload_is_refused(tmp_path, marker):
    h5 = tmp_path / "videoDLC_resnet50_xshuffle1_100.h5"
    h5.with_name(h5.stem + "_meta.pickle").write_bytes(payload_pickle(marker, wrap=lambda p: {"data": {"x": p}}))
    with pytest.raises(LabelError, match="_meta.pickle"):
        read_meta(h5)
    assert not marker.exists()


def test_deeplabcut3_meta_is_read_as_plain_data(tmp_path):
    h5 = tmp_path / "videoDLC_Resnet50_testMay1shuffle1_snapshot_200.h5"
    dlc3_meta_pickle(h5.with_name(h5.stem + "_meta.pickle"), {"cropping": True, "cropping_parameters": [5, 60, 7, 40]})
    assert not any(m == "deeplabcut" or m.startswith("deeplabcut.") for m in sys.modules)
    meta = read_meta(h5)
    assert meta["cropping"] is True and meta["cropping_parameters"] == [5, 60, 7, 40]
    cfg = meta["pytorch-config"]
    assert cfg["engine"] == "pytorch" and cfg["method"] == "BU"  # enums -> their first alias
    assert cfg["metadata"]["project_path"] == "/data/dlc-project"  # PosixPath -> str
    assert cfg["metadata"]["pose_config_path"].endswith("pytorch_config.yaml")
    assert not any(m == "deeplabcut" or m.startswith("deeplabcut.") for m in sys.modules)  # never imported


def test_a_deeplabcut_function_named_in_a_pickle_is_never_called(tmp_path, marker):
    """A ``deeplabcut.*`` global gets an inert stand-in: even a DLC function is not imported or called."""
    module = stand_in_module(
        "deeplabcut.utils.evil", f"def touch(*a):\n    open({str(marker)!r}, 'w').close()\n    return 1\n"
    )

    class Call:
        def __reduce__(self):
            return (module.touch, ("arg",))

    try:
        blob = pickle.dumps({"data": {"x": Call()}}, 4)
    finally:
        for name in [m for m in sys.modules if m == "deeplabcut" or m.startswith("deeplabcut.")]:
            del sys.modules[name]
    out = restricted_loads(blob, foreign=True)
    assert out == {"data": {"x": "arg"}}
    assert not marker.exists()


def test_windows_paths_become_strings(tmp_path):
    blob = (
        b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x07pathlib\x94\x8c\x0bWindowsPath\x94\x93\x94"
        b"\x8c\x03C:\\\x94\x8c\x04data\x94\x86\x94R\x94."
    )
    assert restricted_loads(blob, foreign=True) == "C:\\data"
    py313 = (  # pathlib.Path("/a/b") pickled by Python 3.13 (module pathlib._local, one part)
        b"\x80\x05\x95+\x00\x00\x00\x00\x00\x00\x00\x8c\x0epathlib._local\x94\x8c\tPosixPath\x94\x93\x94"
        b"\x8c\x04/a/b\x94\x85\x94R\x94."
    )
    assert restricted_loads(py313, foreign=True) == "/a/b"
    with pytest.raises(RefusedGlobal):
        restricted_loads(blob)  # strict mode (calibration, HDF5 checks): no paths


def test_posenb_meta_round_trip(tmp_path):
    h5 = tmp_path / "vDLC_x.h5"
    write_meta(h5, {"fps": np.float64(30.0), "frame_dimensions": (48, 64), "path": tmp_path})
    meta = read_meta(h5)
    assert meta == {"fps": 30.0, "frame_dimensions": (48, 64), "path": str(tmp_path)}


def test_documentation_pickle_payload_is_refused(demo_project, marker):
    from posenb.data.trainingset import create_training_dataset, read_training_split

    cfg = read_config(demo_project)
    create_training_dataset(demo_project)
    doc = next(Path(cfg["project_path"]).rglob("Documentation_data-*.pickle"))
    doc.write_bytes(payload_pickle(marker, wrap=lambda p: [[], [0, 1], [2], p]))
    with pytest.raises(ConfigError, match="Documentation"):
        read_training_split(demo_project)
    assert not marker.exists()


def test_calibration_pickle_payload_is_refused(tmp_path, marker):
    from posenb.threed._pickle import read_pickle

    path = tmp_path / "stereo_params.pickle"
    path.write_bytes(payload_pickle(marker, wrap=lambda p: {"camera-1-camera-2": {"R": p}}))
    with pytest.raises(ConfigError, match="stereo_params.pickle"):
        read_pickle(path)
    assert not marker.exists()


def test_snapshot_payload_is_refused(tmp_path, marker):
    import torch

    from posenb.nn.snapshots import load_snapshot

    path = tmp_path / "snapshot-100.pt"
    torch.save({"model": {}, "iteration": 100, "extra": Payload(marker)}, path)
    with pytest.raises(ModelError, match="snapshot-100.pt"):
        load_snapshot(path)
    assert not marker.exists()


def test_pretrained_weights_payload_is_refused(tmp_path, marker):
    import torch

    from posenb.nn.weights import read_state_dict

    path = tmp_path / "weights.pth"
    torch.save({"conv.weight": torch.zeros(1), "x": Payload(marker)}, path)
    with pytest.raises(ModelError, match="weights.pth"):
        read_state_dict(path)
    assert not marker.exists()


def test_safe_pickle_load_names_missing_and_garbage_files(tmp_path):
    with pytest.raises(LabelError, match="missing.pickle"):
        safe_pickle_load(tmp_path / "missing.pickle")
    (tmp_path / "garbage.pickle").write_bytes(b"\x00\x01garbage")
    with pytest.raises(LabelError, match="garbage.pickle"):
        safe_pickle_load(tmp_path / "garbage.pickle")


# ----------------------------------------------------- DeepLabCut 3 predictions through posenb's tools
def _dlc3_analysis(config: str, crop: list[int] | None) -> tuple[Path, Path, np.ndarray]:
    """Predictions + DLC 3 ``_meta.pickle`` for the demo video, as DeepLabCut 3 would write them."""
    from posenb.io.predictions import array_to_predictions, write_predictions

    cfg = read_config(config)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = f"DLC_Resnet50_{cfg['Task']}{cfg['date']}shuffle1_snapshot_200"
    h5 = video.with_name(video.stem + scorer + ".h5")
    n, k = 60, len(cfg["bodyparts"])
    t = np.arange(n)[:, None]
    arr = np.zeros((n, k, 3))
    arr[:, :, 0] = 20 + 2 * np.arange(k) + 10 * np.sin(t / 7)
    arr[:, :, 1] = 15 + 3 * np.arange(k) + 8 * np.cos(t / 9)
    arr[:, :, 2] = 0.95
    arr[[20, 40], 0, 0] += 25  # two glitches for the outlier search
    write_predictions(array_to_predictions(arr, scorer, cfg["bodyparts"]), h5)
    meta = {"cropping": crop is not None, "cropping_parameters": crop or [0, 128, 0, 96], "nframes": n,
            "fps": 20.0, "frame_dimensions": (128, 96)}
    dlc3_meta_pickle(h5.with_name(h5.stem + "_meta.pickle"), meta)
    return video, h5, arr


def test_labeled_video_works_on_deeplabcut3_predictions(demo_project):
    from posenb.io.video import open_video
    from posenb.post.labeled_video import create_labeled_video

    video, _, arr = _dlc3_analysis(demo_project, crop=[10, 110, 5, 85])
    out = create_labeled_video(demo_project, [str(video)], filtered=False, alphavalue=1.0, dotsize=3)
    assert len(out) == 1 and Path(out[0]).is_file()
    reader = open_video(out[0])
    assert reader.n_frames == 60
    frame = reader.read(3).astype(int)
    x, y = arr[3, 0, :2] + [10, 5]  # the crop offset read from DLC's meta is added back
    assert frame[int(round(y)), int(round(x))].sum() != open_video(video).read(3)[int(round(y)), int(round(x))].sum()
    assert not any(m == "deeplabcut" or m.startswith("deeplabcut.") for m in sys.modules)


def test_extract_outlier_frames_works_on_deeplabcut3_predictions(demo_project):
    from posenb.frames.outliers import extract_outlier_frames
    from posenb.io.labels import read_hdf_any

    video, _, arr = _dlc3_analysis(demo_project, crop=[10, 110, 5, 85])
    out = extract_outlier_frames(demo_project, [str(video)], outlieralgorithm="list", frames2use=[2],
                                 automatic=True)
    assert out[str(video)] == [2]
    cfg = read_config(demo_project)
    ml = read_hdf_any(Path(cfg["project_path"]) / "labeled-data" / "demo_mouse" / "machinelabels-iter0.h5")
    np.testing.assert_allclose(ml.to_numpy().reshape(-1, 3)[:, :2], arr[2, :, :2] + [10, 5])
