"""load_demo_data: DeepLabCut's demo placeholders replaced, config written in DLC's layout, training set created."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from posenb.demo.demo_data import PLACEHOLDER, load_demo_data
from posenb.errors import ConfigError
from posenb.project.config import read_config


def _placeholder_project(config: str) -> Path:
    """Turn a posenb demo project into the state DeepLabCut ships its demos in (both placeholders)."""
    path = Path(config)
    text = path.read_text(encoding="utf-8")
    cfg = yaml.safe_load(text)
    (video,) = cfg["video_sets"]
    text = text.replace(f"project_path: {cfg['project_path']}", f"project_path: {PLACEHOLDER}")
    text = text.replace(f"{video}:", f"{PLACEHOLDER}:")
    path.write_text(text, encoding="utf-8")
    assert list(yaml.safe_load(text)["video_sets"]) == [PLACEHOLDER]
    return path


def test_synthetic_demo_without_training_set(demo_project, tmp_path):
    # move the project: project_path must follow the folder, not the old location
    moved = tmp_path / "elsewhere" / Path(demo_project).parent.name
    shutil.move(str(Path(demo_project).parent), moved)
    config = _placeholder_project(str(moved / "config.yaml"))
    crop = yaml.safe_load(config.read_text())["video_sets"][PLACEHOLDER]["crop"]
    from posenb.project.status import project_status

    assert "load_demo_data(config)" in project_status(config).next_step  # the project panel's suggestion

    out = load_demo_data(config, createtrainingset=False)
    assert "load_demo_data" not in project_status(config).next_step
    assert out == str(config.resolve())
    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert cfg["project_path"] == str(moved.resolve())
    assert cfg["video_sets"] == {str(moved.resolve() / "videos" / "demo_mouse.mp4"): {"crop": crop}}
    assert not any((moved / "training-datasets").rglob("*.pickle"))
    # the shipped file is kept; DLC's section comments and key order are written
    assert PLACEHOLDER in (moved / "config.yaml.bak").read_text()
    text = config.read_text()
    assert text.startswith("# Project definitions (do not edit)\nTask: demo\n")
    assert (
        text.index("project_path:")
        < text.index("video_sets:")
        < text.index("bodyparts:")
        < text.index("TrainingFraction:")
    )
    # idempotent: nothing left to replace
    load_demo_data(config, createtrainingset=False)
    assert yaml.safe_load(config.read_text())["video_sets"] == cfg["video_sets"]


def test_synthetic_demo_creates_one_shuffle(demo_project):
    config = _placeholder_project(demo_project)
    load_demo_data(str(Path(demo_project).parent), createtrainingset=True)  # a project folder is accepted too
    cfg = read_config(config)
    tset = (
        Path(cfg["project_path"])
        / "training-datasets"
        / "iteration-0"
        / f"UnaugmentedDataSet_demo{cfg['date']}"
    )
    assert sorted(p.name for p in tset.glob("Documentation_data-*.pickle")) == [
        "Documentation_data-demo_80shuffle1.pickle"
    ]
    model = Path(cfg["project_path"]) / "dlc-models" / "iteration-0" / f"demo{cfg['date']}-trainset80shuffle1"
    assert (model / "train" / "pose_cfg.yaml").is_file() and (model / "test" / "pose_cfg.yaml").is_file()


def test_unknown_project_without_matching_video_is_a_clear_error(demo_project):
    config = _placeholder_project(demo_project)
    (Path(demo_project).parent / "videos" / "demo_mouse.mp4").rename(
        Path(demo_project).parent / "videos" / "x.mp4"
    )
    before = config.read_text()
    with pytest.raises(ConfigError, match="labeled-data folder"):
        load_demo_data(config, createtrainingset=False)
    assert config.read_text() == before  # nothing written


@pytest.mark.shared
def test_openfield_demo(openfield_dir, tmp_path, capsys):
    """DLC's real demo project, copied (labels + config, video linked) so ../shared stays untouched."""
    project = tmp_path / openfield_dir.name
    (project / "labeled-data").mkdir(parents=True)
    shutil.copytree(openfield_dir / "labeled-data" / "m4s1", project / "labeled-data" / "m4s1")
    for f in (project / "labeled-data" / "m4s1").iterdir():
        f.chmod(0o644)
    shutil.copy(openfield_dir / "config.yaml", project / "config.yaml")
    (project / "config.yaml").chmod(0o644)
    (project / "videos").mkdir()
    (project / "videos" / "m3v1mp4.mp4").symlink_to(openfield_dir / "videos" / "m3v1mp4.mp4")
    shipped = (openfield_dir / "config.yaml").read_text()

    load_demo_data(project / "config.yaml", createtrainingset=True)

    assert "not shipped" in capsys.readouterr().out  # DLC's m4s1.mp4 names the labels' video, absent here
    cfg = read_config(project / "config.yaml")
    assert cfg["project_path"] == str(project.resolve())
    assert cfg["video_sets"] == {str(project.resolve() / "videos" / "m4s1.mp4"): {"crop": "0, 640, 0, 480"}}
    # every other key (and its order) as shipped; comments kept
    written = (project / "config.yaml").read_text()
    original = yaml.safe_load(shipped)
    new = yaml.safe_load(written)
    assert list(new) == list(original)
    assert {k: v for k, v in new.items() if k not in ("project_path", "video_sets")} == {
        k: v for k, v in original.items() if k not in ("project_path", "video_sets")
    }
    for line in shipped.splitlines():
        if line.startswith("#"):
            assert line in written
    tset = project / "training-datasets" / "iteration-0" / "UnaugmentedDataSet_openfieldOct30"
    assert (tset / "CollectedData_Pranav.h5").is_file()
    assert (tset / "Documentation_data-openfield_95shuffle1.pickle").is_file()
    model = project / "dlc-models" / "iteration-0" / "openfieldOct30-trainset95shuffle1"
    pose = yaml.safe_load((model / "train" / "pose_cfg.yaml").read_text())
    assert new["default_net_type"] == "resnet_50"  # DLC's setting, kept
    assert pose["net_type"] == "efficientnet-lite0" and pose["all_joints_names"] == [  # posenb's default network
        "snout",
        "leftear",
        "rightear",
        "tailbase",
    ]
    assert (openfield_dir / "config.yaml").read_text() == shipped
