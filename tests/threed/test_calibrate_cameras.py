"""calibrate_cameras, corner detection, keep/drop of image tuples, DLC's calibration pickles."""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from posenb.threed import (
    calibrate_cameras,
    drop_calibration_pair,
    find_calibration_corners,
    keep_calibration_pair,
    read_config_3d,
)
from posenb.threed._pickle import read_pickle

STEREO_KEYS = {
    "cameraMatrix1", "cameraMatrix2", "distCoeffs1", "distCoeffs2", "R", "T", "E", "F", "R1", "R2", "P1", "P2",
    "roi1", "roi2", "Q", "image_shape",
}  # fmt: skip


@pytest.mark.shared
def test_corner_detection_without_calibration(stereo_dir, project_3d, synth):
    config = project_3d()
    synth.copy_stereo_pairs(stereo_dir, config, [1, 2, 3, 4])
    result = calibrate_cameras(config, cbrow=6, cbcol=9)
    project = Path(config).parent
    assert result.n_tuples == 4 and result.removed == [] and result.camera_rms_px == {}
    assert sorted(p.name for p in (project / "corners").iterdir()) == sorted(
        f"camera-{c}-{i:02d}_corner.jpg" for c in (1, 2) for i in (1, 2, 3, 4)
    )
    assert not list((project / "camera_matrix").iterdir())  # nothing calibrated yet

    tuples = find_calibration_corners(config, cbrow=6, cbcol=9, draw=False)
    assert [t.key for t in tuples] == ["{cam}-01.jpg", "{cam}-02.jpg", "{cam}-03.jpg", "{cam}-04.jpg"]
    assert tuples[0].name == "01" and tuples[0].found and not tuples[0].removed
    c = tuples[0].corners["camera-1"]
    assert c.shape == (54, 2) and c.dtype == np.float32
    assert tuples[0].image_size == {"camera-1": (640, 480), "camera-2": (640, 480)}
    # sub-pixel corners agree with an independent OpenCV detection
    gray = cv2.imread(str(project / "calibration_images" / "camera-1-01.jpg"), cv2.IMREAD_GRAYSCALE)
    ok, ref = cv2.findChessboardCorners(gray, (9, 6))
    assert ok and np.abs(ref.reshape(-1, 2) - c).max() < 1.0


@pytest.mark.shared
def test_failed_view_moves_the_tuple_and_keep_drop(stereo_dir, project_3d, synth):
    config = project_3d()
    images = synth.copy_stereo_pairs(stereo_dir, config, [3, 5, 7])
    removed_dir = Path(config).parent / "removed_calibration_images"
    (images / "camera-1-99.jpg").write_bytes((images / "camera-1-03.jpg").read_bytes())
    cv2.imwrite(str(images / "camera-2-99.jpg"), np.full((480, 640, 3), 128, np.uint8))  # no board
    (images / "camera-1-50.jpg").write_bytes((images / "camera-1-05.jpg").read_bytes())  # no camera-2 partner

    result = calibrate_cameras(config, cbrow=6, cbcol=9)
    assert result.removed == ["{cam}-99.jpg"] and result.incomplete == ["{cam}-50.jpg"]
    assert result.n_tuples == 3
    assert sorted(p.name for p in removed_dir.iterdir()) == ["camera-1-99.jpg", "camera-2-99.jpg"]
    assert (images / "camera-1-50.jpg").is_file()  # incomplete tuples are left alone

    listed = find_calibration_corners(config, cbrow=6, cbcol=9, draw=False, include_removed=True)
    gone = [t for t in listed if t.removed]
    assert [t.key for t in gone] == ["{cam}-99.jpg"]
    assert (
        gone[0].corners["camera-1"] is not None and gone[0].corners["camera-2"] is None and not gone[0].found
    )

    back = keep_calibration_pair(config, "{cam}-99.jpg")
    assert sorted(p.name for p in back) == ["camera-1-99.jpg", "camera-2-99.jpg"]
    assert all(p.parent == images for p in back) and not list(removed_dir.iterdir())
    drop_calibration_pair(config, "{cam}-03.jpg")
    assert sorted(p.name for p in removed_dir.iterdir()) == ["camera-1-03.jpg", "camera-2-03.jpg"]
    assert [t.key for t in find_calibration_corners(config, 6, 9, draw=False)] == [
        "{cam}-05.jpg",
        "{cam}-07.jpg",
        "{cam}-99.jpg",
    ]


@pytest.mark.shared
def test_calibration_all_14_pairs(stereo_dir, project_3d, synth):
    config = project_3d()
    synth.copy_stereo_pairs(stereo_dir, config, range(1, 15))
    result = calibrate_cameras(config, cbrow=6, cbcol=9, calibrate=True)
    assert result.n_tuples == 14
    errors = result.reprojection_error
    assert set(errors["cameras"]) == {"camera-1", "camera-2"} and set(errors["pairs"]) == {
        "camera-1-camera-2"
    }
    assert all(0 < e < 1.0 for e in errors["cameras"].values()), errors
    assert 0 < errors["pairs"]["camera-1-camera-2"] < 1.0, errors
    assert set(result.per_image_rms_px) == {f"{{cam}}-{i:02d}.jpg" for i in range(1, 15)}

    cm = Path(config).parent / "camera_matrix"
    stereo = read_pickle(cm / "stereo_params.pickle")
    assert list(stereo) == ["camera-1-camera-2"]
    sp = stereo["camera-1-camera-2"]
    assert set(sp) == STEREO_KEYS
    assert sp["image_shape"] == [(640, 480), (640, 480)]
    assert sp["P1"].shape == (3, 4) and sp["Q"].shape == (4, 4)
    # the same file loads with plain pickle, as DeepLabCut reads it
    with open(cm / "stereo_params.pickle", "rb") as fh:
        assert np.array_equal(pickle.load(fh)["camera-1-camera-2"]["F"], sp["F"])
    # DLC's cumulative intrinsics dicts
    intr1 = read_pickle(cm / "camera-1_intrinsic_params.pickle")
    intr2 = read_pickle(cm / "camera-2_intrinsic_params.pickle")
    assert list(intr1) == ["camera-1"] and list(intr2) == ["camera-1", "camera-2"]
    assert set(intr1["camera-1"]) == {"mtx", "dist", "objpoints", "imgpoints"}
    assert len(intr2["camera-2"]["imgpoints"]) == 14 and intr2["camera-2"]["imgpoints"][0].shape == (54, 1, 2)
    # agrees with the independent calibration shipped with the images (Bouguet's toolbox, camera 1)
    from scipy.io import loadmat

    ref = loadmat(stereo_dir / "Calib_Results_left.mat")
    K = sp["cameraMatrix1"]
    assert abs(K[0, 0] / ref["fc"][0, 0] - 1) < 0.02 and abs(K[1, 1] / ref["fc"][1, 0] - 1) < 0.02
    assert np.abs(K[:2, 2] - (ref["cc"].ravel() - 1)).max() < 5  # MATLAB pixels are 1-based
    assert read_config_3d(config)["camera_names"] == ["camera-1", "camera-2"]


def test_three_cameras_recover_the_rig(project_3d, synth):
    """Boards rendered through three known pinhole cameras: intrinsics and poses come back."""
    config = project_3d(3)
    rig = synth.make_rig(3, distortion=False)
    texture = synth.board_texture()
    images = Path(config).parent / "calibration_images"
    for j, pose in enumerate(synth.board_poses(9), start=1):
        for i, cam in enumerate(rig, start=1):
            cv2.imwrite(str(images / f"camera-{i}-{j:02d}.jpg"), synth.render_board(cam, pose, texture))

    result = calibrate_cameras(config, cbrow=6, cbcol=9, calibrate=True, camera_pairs="all")
    assert result.n_tuples == 9
    assert set(result.pair_rms_px) == {"camera-1-camera-2", "camera-1-camera-3", "camera-2-camera-3"}
    assert max(result.camera_rms_px.values()) < 0.5 and max(result.pair_rms_px.values()) < 0.5
    stereo = read_pickle(Path(config).parent / "camera_matrix" / "stereo_params.pickle")
    for i in (2, 3):
        sp = stereo[f"camera-1-camera-{i}"]
        assert np.allclose(sp["cameraMatrix2"][[0, 1], [0, 1]], rig[i - 1]["K"][[0, 1], [0, 1]], rtol=0.02)
        angle = np.degrees(np.arccos(np.clip((np.trace(sp["R"].T @ rig[i - 1]["R"]) - 1) / 2, -1, 1)))
        assert angle < 0.5
        assert np.linalg.norm(sp["T"].ravel() - rig[i - 1]["t"]) < 0.1 * np.linalg.norm(rig[i - 1]["t"])


def test_no_images_is_a_clear_error(project_3d):
    from posenb.errors import ConfigError

    with pytest.raises(ConfigError, match="No calibration images"):
        calibrate_cameras(project_3d(), cbrow=6, cbcol=9)


@pytest.mark.shared
def test_custom_camera_names_rename_the_per_camera_keys(stereo_dir, project_3d):
    import shutil

    import yaml

    from posenb.threed import write_config_3d

    config = project_3d()
    cfg = read_config_3d(config)
    cfg["camera_names"] = ["left", "right"]
    write_config_3d(config, cfg)
    images = Path(config).parent / "calibration_images"
    for i in (2, 4):
        shutil.copy(stereo_dir / f"left{i:02d}.jpg", images / f"trial_left_{i:02d}.jpg")
        shutil.copy(stereo_dir / f"right{i:02d}.jpg", images / f"trial_right_{i:02d}.jpg")
    result = calibrate_cameras(config, cbrow=6, cbcol=9)
    assert [t.key for t in result.tuples] == ["trial_{cam}_02.jpg", "trial_{cam}_04.jpg"]
    assert result.tuples[0].name == "trial_02"
    keys = list(yaml.safe_load(Path(config).read_text()))
    assert keys[-6:] == [
        "config_file_left", "config_file_right", "shuffle_left", "trainingsetindex_left", "shuffle_right",
        "trainingsetindex_right",
    ]  # fmt: skip
