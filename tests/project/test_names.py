"""One rule for project, experimenter and camera names, in 2D and 3D projects and in the wizard panel; names
read from a shared config.yaml can never lead a path out of the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from posenb.errors import ConfigError
from posenb.project.create import create_new_project
from posenb.project.paths import check_name, name_problem
from posenb.threed import create_new_project_3d, read_config_3d

BAD = [
    ("../evil3d", "Ada"),
    ("a/b", "Ada"),
    ("reach", "../../x"),
    ("..", "Ada"),
    ("reach", ""),
    ("re ach", "Ada"),
    ("reach", "Ada\\x"),
    ("C:evil", "Ada"),
    ("x" * 101, "Ada"),
    ("reach", None),
]


def _listing(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize(("project", "experimenter"), BAD)
def test_2d_and_3d_refuse_the_same_names_with_the_same_message(tmp_path, tiny_video, project, experimenter):
    work = tmp_path / "work"
    work.mkdir()
    before = _listing(tmp_path)
    with pytest.raises(ConfigError) as err2d:
        create_new_project(project, experimenter, [str(tiny_video)], working_directory=work)
    with pytest.raises(ConfigError) as err3d:
        create_new_project_3d(project, experimenter, working_directory=work)
    assert str(err2d.value) == str(err3d.value)
    problem = name_problem(project, "Project name") or name_problem(experimenter, "Experimenter")
    assert str(err3d.value) == problem
    assert _listing(tmp_path) == before  # nothing created, inside or outside the working directory


def test_good_names_pass_everywhere(tmp_path):
    for name in ("reach", "Reach_2024-v2", "maus", "Ü-bung"):
        assert check_name(name) == name and name_problem(name) is None
    config = create_new_project_3d("reach-2", "Ada_L", working_directory=tmp_path)
    assert Path(config).parent.parent == tmp_path.resolve()


def test_wizard_uses_the_core_rule(tmp_path, tiny_video):
    pytest.importorskip("ipywidgets")
    from posenb.widgets.wizard import check_new_project

    for project, experimenter in BAD[:6]:
        problems = check_new_project(project, experimenter, [str(tiny_video)], str(tmp_path))
        expected = [p for p in (name_problem(project, "Project name"), name_problem(experimenter, "Experimenter")) if p]
        assert expected and all(p in problems for p in expected)
    assert check_new_project("reach", "Ada", [str(tiny_video)], str(tmp_path)) == []


def _write_cfg(path: Path, **changes) -> Path:
    from posenb.project.config import DEFAULT_CONFIG

    cfg = dict(DEFAULT_CONFIG)
    cfg.update(Task="reach", scorer="Ada", date="Oct30", project_path=str(path.parent), bodyparts=["nose", "tail"],
               skeleton=[], video_sets={})
    cfg.update(changes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")  # as a hand-edited or foreign file
    return path


@pytest.mark.parametrize(
    ("key", "value"),
    [("Task", "../../outside"), ("scorer", "a/b"), ("date", ".."), ("Task", "x\\..\\..\\y"), ("iteration", "../1"),
     ("iteration", -1), ("iteration", 1.5)],
)
def test_shared_2d_config_cannot_lead_paths_outside(tmp_path, key, value):
    from posenb.project.config import read_config

    config = _write_cfg(tmp_path / "proj" / "config.yaml", **{key: value})
    with pytest.raises(ConfigError, match=key):
        read_config(config)


def test_dlc_names_with_spaces_and_dots_still_open(tmp_path):
    from posenb.project.config import read_config

    config = _write_cfg(tmp_path / "proj" / "config.yaml", Task="Reaching task v2.1", scorer="A. Mathis")
    cfg = read_config(config)
    assert cfg["Task"] == "Reaching task v2.1"


@pytest.mark.parametrize(
    ("key", "value"),
    [("camera_names", ["left", "../../x"]), ("camera_names", ["left", "a/b"]), ("scorername_3d", "../DLC_3D"),
     ("Task", "..")],
)
def test_shared_3d_config_cannot_lead_paths_outside(tmp_path, key, value):
    config = create_new_project_3d("reach", "Ada", working_directory=tmp_path)
    raw = yaml.safe_load(Path(config).read_text())
    raw[key] = value
    Path(config).write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="camera name" if key == "camera_names" else key):
        read_config_3d(config)


def test_3d_project_in_current_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = create_new_project_3d("reach", "Ada")
    assert Path(config).resolve().parent.parent == Path(os.getcwd()).resolve()
