"""check_undistortion: rectified images, plots, triangulated boards; nothing in the working directory."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from posenb.errors import ConfigError
from posenb.threed import calibrate_cameras, check_undistortion

PAIRS = [1, 3, 5, 6, 9, 11, 12, 14]


@pytest.mark.shared
def test_undistortion_images_plots_and_board_size(stereo_dir, project_3d, synth, tmp_path, monkeypatch):
    config = project_3d()
    synth.copy_stereo_pairs(stereo_dir, config, PAIRS)
    calib = calibrate_cameras(config, cbrow=6, cbcol=9, calibrate=True)
    assert max(calib.camera_rms_px.values()) < 1.0 and calib.pair_rms_px["camera-1-camera-2"] < 1.0

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    out = check_undistortion(config, cbrow=6, cbcol=9, plot=True)
    und = Path(config).parent / "undistortion"
    expected = {f"camera-{c}-{i:02d}_undistort.jpg" for c in (1, 2) for i in PAIRS}
    assert {p.name for p in out["images"]} == expected
    assert all((und / name).is_file() for name in expected)
    img = cv2.imread(str(und / "camera-1-01_undistort.jpg"))
    assert img.shape == (480, 640, 3)
    assert {p.name for p in out["plots"]} == {
        "Original_Image.png",
        "undistorted_points.png",
        "checkerboard_3d.png",
    }
    assert all(p.is_file() and p.stat().st_size > 1000 for p in out["plots"])
    assert list(cwd.iterdir()) == []  # DLC writes triangulate.pickle here; posenb does not

    # the triangulated boards have the right size: adjacent corners 1 square apart, re-projection sub-pixel
    assert out["corners_3d"].shape == (len(PAIRS), 54, 3)
    assert abs(out["square_size"] - 1.0) < 0.02
    assert max(out["reprojection_rms_px"].values()) < 1.0
    assert np.all(out["corners_3d"][..., 2] > 0)  # in front of camera 1

    # rectification: a corner seen by both cameras lies on the same image row after rectification
    from posenb.threed import undistort_points
    from posenb.threed._pickle import read_pickle
    from posenb.threed.calibration import find_calibration_corners

    sp = read_pickle(Path(config).parent / "camera_matrix" / "stereo_params.pickle")["camera-1-camera-2"]
    t = find_calibration_corners(config, 6, 9, draw=False)[0]
    y1 = undistort_points(
        t.corners["camera-1"], sp["cameraMatrix1"], sp["distCoeffs1"], R=sp["R1"], P=sp["P1"]
    )[:, 1]
    y2 = undistort_points(
        t.corners["camera-2"], sp["cameraMatrix2"], sp["distCoeffs2"], R=sp["R2"], P=sp["P2"]
    )[:, 1]
    assert np.abs(y1 - y2).max() < 1.5


def test_without_calibration_is_a_clear_error(project_3d):
    with pytest.raises(ConfigError, match="calibrate_cameras"):
        check_undistortion(project_3d(), cbrow=6, cbcol=9)
