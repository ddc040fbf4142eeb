import datetime as dt
from pathlib import Path

import pytest
import yaml

import posenb
from posenb.errors import ConfigError, VideoError
from posenb.project.config import CONFIG_SECTIONS, read_config, write_config
from posenb.project.create import add_new_videos, create_new_project


def test_create_new_project_layout_and_config(tiny_video, tmp_path):
    config = posenb.create_new_project("reach", "Jane", [str(tiny_video)], working_directory=tmp_path / "wd")
    project = Path(config).parent
    assert project.name == f"reach-Jane-{dt.date.today().isoformat()}"
    for sub in ("videos", "labeled-data", "training-datasets", "dlc-models", "labeled-data/tiny"):
        assert (project / sub).is_dir(), sub
    link = project / "videos" / "tiny.mp4"
    assert link.is_symlink() and link.resolve() == tiny_video.resolve()
    cfg = yaml.safe_load(Path(config).read_text())
    # DLC's key order, section comments and defaults
    expected = [k for _, keys in CONFIG_SECTIONS for k in keys]
    assert list(cfg) == expected
    text = Path(config).read_text()
    assert "# Project definitions (do not edit)" in text and "# Plotting configuration" in text
    assert cfg["Task"] == "reach" and cfg["scorer"] == "Jane" and cfg["iteration"] == 0
    assert cfg["date"] == dt.date.today().strftime("%b") + str(dt.date.today().day)
    assert cfg["video_sets"] == {str(tiny_video.resolve()): {"crop": "0, 64, 0, 48"}}
    assert cfg["TrainingFraction"] == [0.95] and cfg["pcutoff"] == 0.6


def test_copy_videos_and_directory_scan(tiny_video, tmp_path):
    (tmp_path / "notes.txt").write_text("not a video")
    config = create_new_project("p", "me", tmp_path, working_directory=tmp_path / "wd", copy_videos=True)
    project = Path(config).parent
    copied = project / "videos" / "tiny.mp4"
    assert copied.is_file() and not copied.is_symlink()
    assert list(read_config(config)["video_sets"]) == [str(copied)]


def test_unreadable_video_is_skipped_and_reported(tiny_video, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 1000)
    with pytest.warns(UserWarning, match="broken.mp4"):
        config = create_new_project("p", "me", [tiny_video, bad], working_directory=tmp_path / "wd")
    cfg = read_config(config)
    assert [Path(v).name for v in cfg["video_sets"]] == ["tiny.mp4"]
    assert not (Path(config).parent / "videos" / "broken.mp4").exists()


def test_no_usable_video_creates_nothing(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"garbage")
    with pytest.raises(VideoError, match="Nothing was created"), pytest.warns(UserWarning):
        create_new_project("p", "me", [bad], working_directory=tmp_path / "wd")
    assert not (tmp_path / "wd").exists() or not any((tmp_path / "wd").iterdir())


def test_existing_project_is_not_clobbered(tiny_video, tmp_path):
    config = create_new_project("p", "me", [tiny_video], working_directory=tmp_path)
    cfg = read_config(config)
    cfg["bodyparts"] = ["nose", "tail"]
    cfg["skeleton"] = [["nose", "tail"]]
    write_config(config, cfg)
    with pytest.warns(UserWarning, match="already exists"):
        again = create_new_project("p", "me", [tiny_video], working_directory=tmp_path)
    assert again == config
    assert read_config(config)["bodyparts"] == ["nose", "tail"]


def test_bad_project_name(tiny_video, tmp_path):
    with pytest.raises(ConfigError, match="file names"):
        create_new_project("my project/x", "me", [tiny_video], working_directory=tmp_path)


def test_add_new_videos(tiny_video, tmp_path):
    import numpy as np

    from posenb.io.video import write_video

    config = create_new_project("p", "me", [tiny_video], working_directory=tmp_path / "wd")
    second = write_video(tmp_path / "second.mp4", [np.zeros((32, 40, 3), np.uint8)] * 5)
    added = add_new_videos(config, str(second), coords=[[1, 30, 2, 20]])
    cfg = read_config(config)
    assert len(added) == 1 and cfg["video_sets"][added[0]] == {"crop": "1, 30, 2, 20"}
    assert (Path(config).parent / "labeled-data" / "second").is_dir()
    # adding again is not an error and does not duplicate
    assert add_new_videos(config, [second]) == []
    assert len(read_config(config)["video_sets"]) == 2


def test_moved_project_repairs_project_path(tiny_video, tmp_path):
    config = create_new_project("p", "me", [tiny_video], working_directory=tmp_path / "a", copy_videos=True)
    old = Path(config).parent
    new = tmp_path / "b" / old.name
    new.parent.mkdir()
    old.rename(new)
    cfg = read_config(new / "config.yaml")
    assert cfg["project_path"] == str(new)
    assert yaml.safe_load((new / "config.yaml").read_text())["project_path"] == str(new)
