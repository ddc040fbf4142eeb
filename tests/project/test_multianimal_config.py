"""Multi-animal projects (DeepLabCut's keys) and the typed ProjectConfig over config.yaml."""

from pathlib import Path

import pytest
import yaml

from posenb.errors import ConfigError
from posenb.project.config import (
    DEFAULT_CONFIG,
    DLC3_KEYS,
    ProjectConfig,
    project_parts,
    read_config,
    usable_skeleton,
    validate_config,
    write_config,
)
from posenb.project.create import add_new_videos, create_new_project
from posenb.project.status import format_status, project_status


def _ma(**kw):
    cfg = dict(
        DEFAULT_CONFIG,
        Task="t",
        scorer="s",
        date="Jan5",
        project_path="/x",
        multianimalproject=True,
        identity=False,
        individuals=["mouse1", "mouse2"],
        multianimalbodyparts=["snout", "tail"],
        uniquebodyparts=["corner"],
        bodyparts="MULTI!",
        skeleton=[["snout", "tail"]],
        default_track_method="ellipse",
    )
    cfg.update(kw)
    return cfg


def test_create_multianimal_project_is_dlc_3(tiny_video, tmp_path, capsys):
    config = create_new_project("ma", "Ann", [str(tiny_video)], working_directory=tmp_path, multianimal=True)
    assert "multi-animal" in capsys.readouterr().out
    on_disk = yaml.safe_load(Path(config).read_text())
    assert on_disk["multianimalproject"] is True and on_disk["identity"] is False
    assert on_disk["individuals"] == ["individual1", "individual2", "individual3"]  # DeepLabCut's default
    assert on_disk["bodyparts"] == "MULTI!" and on_disk["uniquebodyparts"] == []
    assert on_disk["multianimalbodyparts"] == ["bodypart1", "bodypart2", "bodypart3"]
    assert on_disk["default_track_method"] == "ellipse"
    assert set(on_disk) <= DLC3_KEYS  # DeepLabCut 3.0.1 refuses any other key
    keys = list(on_disk)  # DeepLabCut's multi-animal template order
    assert keys.index("video_sets") < keys.index("individuals") < keys.index("multianimalbodyparts")
    assert keys.index("multianimalbodyparts") < keys.index("bodyparts") < keys.index("start")
    assert keys.index("default_augmenter") + 1 == keys.index("default_track_method")
    cfg = read_config(config)
    assert validate_config(cfg, config) == []  # template skeleton over the template parts: no warning
    parts = project_parts(cfg)
    assert parts.multianimal and parts.individuals == ("individual1", "individual2", "individual3")
    assert usable_skeleton(cfg) == cfg["skeleton"] and len(cfg["skeleton"]) == 3


def test_create_with_names_and_unique_parts(tiny_video, tmp_path):
    config = create_new_project(
        "ma", "Ann", [str(tiny_video)], working_directory=tmp_path, multianimal=True, individuals=["f", "m"],
        bodyparts=["head", "thorax"], uniquebodyparts=["food"], skeleton=[["head", "thorax"], ["head", "food"]],
    )  # fmt: skip
    cfg = read_config(config)
    parts = project_parts(cfg)
    assert parts.individuals == ("f", "m") and parts.bodyparts == ("head", "thorax")
    assert parts.all_bodyparts == ["head", "thorax", "food"] and parts.table_individuals == [
        "f",
        "m",
        "single",
    ]
    assert usable_skeleton(cfg) == [["head", "thorax"], ["head", "food"]]
    # everything that reads body parts works on MULTI!: adding videos, the project status
    other = tmp_path / "second.mp4"
    other.write_bytes(tiny_video.read_bytes())
    assert len(add_new_videos(config, [str(other)])) == 1
    assert read_config(config)["bodyparts"] == "MULTI!"
    status = project_status(config)
    assert status.bodyparts == ["head", "thorax", "food"] and status.individuals == ["f", "m"]
    assert "Individuals: f, m" in format_status(status)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"individuals": ["a", "single"]}, "'single' cannot be an individual"),
        ({"individuals": ["a", "a"]}, "duplicate individuals"),
        ({"individuals": []}, "'individuals' is missing or empty"),
        (
            {"uniquebodyparts": ["food"], "bodyparts": ["food"]},
            "in both 'multianimalbodyparts' and 'uniquebodyparts'",
        ),
    ],
)
def test_invalid_multianimal_project_creates_nothing(tiny_video, tmp_path, kw, message):
    with pytest.raises(ConfigError, match=message):
        create_new_project(
            "ma", "Ann", [str(tiny_video)], working_directory=tmp_path / "w", multianimal=True, **kw
        )
    assert not (tmp_path / "w").exists()


def test_multianimal_arguments_are_checked(tiny_video, tmp_path):
    with pytest.raises(ConfigError, match="need multianimal=True"):
        create_new_project("p", "me", [str(tiny_video)], working_directory=tmp_path, individuals=["a"])
    with pytest.raises(ConfigError, match="bodyparts=\\[...\\]"):  # posenb's old 7th positional argument
        create_new_project("p", "me", [str(tiny_video)], tmp_path, False, "", ["a", "b"])


@pytest.mark.parametrize(
    "change, message",
    [
        ({"individuals": ["m", "single"]}, "'single' cannot be an individual's name"),
        ({"individuals": ["m", "m"]}, "duplicate individuals \\['m'\\]"),
        ({"individuals": None}, "'individuals' is missing or empty"),
        ({"individuals": "m1"}, "'individuals' must be a list of names"),
        ({"multianimalbodyparts": []}, "'multianimalbodyparts' is missing or empty"),
        ({"multianimalbodyparts": ["snout", "snout"]}, "duplicate body parts"),
        ({"uniquebodyparts": ["snout"]}, "\\['snout'\\] are in both"),
        ({"default_track_method": "kalman"}, "'default_track_method' must be one of"),
        ({"identity": "yes"}, "'identity' must be true or false"),
        ({"multianimalproject": False}, "'bodyparts' is MULTI! .* but 'multianimalproject' is false"),
    ],
)
def test_multianimal_validation(change, message):
    assert validate_config(_ma(), "p/config.yaml") == []
    with pytest.raises(ConfigError, match=message):
        validate_config(_ma(**change), "p/config.yaml")


def test_multianimal_skeleton_names_are_checked():
    warnings = validate_config(_ma(skeleton=[["snout", "corner"], ["snout", "paw"]]), "p/config.yaml")
    assert len(warnings) == 1 and "['snout', 'paw'] names unknown body part(s) ['paw']" in warnings[0]
    assert "'multianimalbodyparts' or 'uniquebodyparts'" in warnings[0]
    assert usable_skeleton(_ma(skeleton=[["snout", "corner"], ["snout", "paw"]])) == [["snout", "corner"]]
    with pytest.raises(ConfigError, match="two different body-part names"):
        validate_config(_ma(skeleton=[["snout", "snout"]]))


def test_single_animal_dlc3_file_with_empty_multianimal_keys_stays_single(tmp_path):
    # DeepLabCut 3.0.1 writes these keys into single-animal projects too
    cfg = dict(
        DEFAULT_CONFIG, Task="t", scorer="s", date="Jan5", project_path=str(tmp_path), bodyparts=["a", "b"]
    )
    cfg.update(
        individuals=["individual_1"], multianimalbodyparts=[], uniquebodyparts=[], default_track_method=None
    )
    cfg.update(skeleton=[["a", "b"]], config_version=0, pose_config_path=None)
    write_config(tmp_path / "config.yaml", cfg)
    back = read_config(tmp_path)
    assert back == cfg
    assert project_parts(back).bodyparts == ("a", "b") and not project_parts(back).multianimal


def test_project_config_object_round_trip_keeps_unknown_keys(tmp_path):
    path = tmp_path / "config.yaml"
    text = Path(path)
    cfg = _ma(project_path=str(tmp_path), resnet=None, my_tool={"a": [1, 2]}, zz_note="kept")
    write_config(path, cfg)
    pc = ProjectConfig.load(path)
    assert pc.individuals == ["mouse1", "mouse2"] and pc.pcutoff == 0.6 and pc.TrainingFraction == [0.95]
    assert pc.extra == {"resnet": None, "my_tool": {"a": [1, 2]}, "zz_note": "kept"}
    assert pc.parts.table_individuals == ["mouse1", "mouse2", "single"]
    pc.pcutoff = 0.3
    pc.individuals = ["mouse1", "mouse2", "mouse3"]
    pc.save()
    on_disk = yaml.safe_load(text.read_text())
    assert on_disk["pcutoff"] == 0.3 and on_disk["individuals"] == ["mouse1", "mouse2", "mouse3"]
    assert list(on_disk)[-3:] == ["resnet", "my_tool", "zz_note"] and on_disk["my_tool"] == {"a": [1, 2]}
    assert yaml.safe_load((tmp_path / "config.yaml.bak").read_text())["pcutoff"] == 0.6
    # the dict API sees the same thing, and from_dict leaves its argument alone
    d = read_config(path)
    assert ProjectConfig.from_dict(d).to_dict() == d and d["zz_note"] == "kept"
    pc.individuals = ["mouse1", "mouse1"]
    with pytest.raises(ConfigError, match="duplicate individuals"):
        pc.save()
    assert yaml.safe_load(text.read_text())["individuals"] == ["mouse1", "mouse2", "mouse3"]


def test_template_is_dlcs_and_validates():
    single, multi = ProjectConfig.template(), ProjectConfig.template(multianimal=True)
    assert single.to_dict() == DEFAULT_CONFIG and single.parts.bodyparts == tuple(DEFAULT_CONFIG["bodyparts"])
    assert multi.bodyparts == "MULTI!" and multi.default_augmenter == "multi-animal-imgaug"
    for pc in (single, multi):
        pc.Task, pc.scorer = "t", "s"
        assert set(pc.to_dict()) <= DLC3_KEYS
    assert multi.validate() == []


def test_multianimal_file_without_bodyparts_reads_as_multi(tmp_path):
    cfg = _ma(project_path=str(tmp_path))
    del cfg["bodyparts"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    assert read_config(tmp_path)["bodyparts"] == "MULTI!"
