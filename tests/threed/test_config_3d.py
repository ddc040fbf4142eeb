"""create_new_project_3d and the 3D config.yaml (DLC 2.x template)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from posenb.errors import ConfigError
from posenb.threed import create_new_project_3d, read_config_3d, write_config_3d

DLC_KEYS_2CAM = [
    "Task", "scorer", "date", "project_path", "skeleton", "skeleton_color", "pcutoff", "colormap", "dotsize",
    "alphaValue", "markerType", "markerColor", "num_cameras", "camera_names", "scorername_3d",
    "config_file_camera-1", "config_file_camera-2", "shuffle_camera-1", "trainingsetindex_camera-1",
    "shuffle_camera-2", "trainingsetindex_camera-2",
]  # fmt: skip


def test_new_project_layout_and_dlc_keys(tmp_path):
    config = create_new_project_3d("reach", "Ada", working_directory=tmp_path)
    today = dt.date.today()
    project = tmp_path / f"reach-Ada-{today:%Y-%m-%d}-3d"
    assert Path(config) == project / "config.yaml"
    for sub in (
        "calibration_images",
        "camera_matrix",
        "undistortion",
        "corners",
        "removed_calibration_images",
    ):
        assert (project / sub).is_dir()
    raw = yaml.safe_load(Path(config).read_text())
    assert list(raw) == DLC_KEYS_2CAM
    assert raw["date"] == today.strftime("%b") + str(today.day)
    assert raw["project_path"] == str(project)
    assert raw["skeleton"] == [
        ["bodypart1", "bodypart2"],
        ["bodypart2", "bodypart3"],
        ["bodypart3", "bodypart4"],
        ["bodypart4", "bodypart5"],
    ]
    assert (raw["skeleton_color"], raw["pcutoff"], raw["colormap"], raw["dotsize"]) == (
        "black",
        0.4,
        "jet",
        15,
    )
    assert (raw["alphaValue"], raw["markerType"], raw["markerColor"]) == (0.8, "*", "r")
    assert (raw["num_cameras"], raw["camera_names"], raw["scorername_3d"]) == (
        2,
        ["camera-1", "camera-2"],
        "DLC_3D",
    )
    assert raw["shuffle_camera-2"] == 1 and raw["trainingsetindex_camera-2"] == 0
    assert "markerType: '*'" in Path(config).read_text()  # quoted, as DLC writes it
    assert "# Plotting configuration" in Path(config).read_text()


def test_three_cameras_and_no_clobber(tmp_path):
    config = create_new_project_3d("reach", "Ada", num_cameras=3, working_directory=tmp_path)
    cfg = read_config_3d(config)
    assert cfg["camera_names"] == ["camera-1", "camera-2", "camera-3"]
    assert "config_file_camera-3" in cfg and "trainingsetindex_camera-3" in cfg
    cfg["pcutoff"] = 0.9
    write_config_3d(config, cfg)
    again = create_new_project_3d("reach", "Ada", num_cameras=2, working_directory=tmp_path)
    assert again == config
    assert read_config_3d(config)["pcutoff"] == 0.9  # untouched
    assert read_config_3d(config)["num_cameras"] == 3


def test_round_trip_keeps_order_and_values(tmp_path):
    config = create_new_project_3d("reach", "Ada", working_directory=tmp_path)
    cfg = read_config_3d(config)
    write_config_3d(config, cfg)
    assert read_config_3d(config) == cfg
    assert list(yaml.safe_load(Path(config).read_text())) == DLC_KEYS_2CAM
    assert Path(config + ".bak").is_file()  # previous version kept by the atomic writer


def test_moved_project_and_bad_configs(tmp_path):
    config = create_new_project_3d("reach", "Ada", working_directory=tmp_path / "a")
    moved = tmp_path / "b" / Path(config).parent.name
    shutil.move(str(Path(config).parent), str(moved))
    assert read_config_3d(moved / "config.yaml")["project_path"] == str(moved.resolve())
    with pytest.raises(ConfigError, match="not found"):
        read_config_3d(tmp_path / "nope.yaml")
    two_d = tmp_path / "2d.yaml"
    two_d.write_text("Task: x\nbodyparts: [a, b]\n")
    with pytest.raises(ConfigError, match="2D project"):
        read_config_3d(two_d)
    with pytest.raises(ConfigError, match="at least 2"):
        create_new_project_3d("x", "y", num_cameras=1, working_directory=tmp_path)
