from pathlib import Path

import pytest
import yaml

from posenb.errors import ConfigError
from posenb.project.config import (
    DEFAULT_CONFIG,
    parse_crop,
    read_config,
    read_settings,
    validate_config,
    write_config,
    write_settings,
)


def _cfg(**kw):
    cfg = dict(DEFAULT_CONFIG, Task="t", scorer="s", date="Jan5", project_path="/x")
    cfg.update(kw)
    return cfg


@pytest.mark.parametrize(
    "change, message",
    [
        ({"skeleton": [["bodypart1", "bodypart1"]]}, "two different body-part names"),
        ({"bodyparts": ["a", "b", "a"], "skeleton": []}, "duplicate body parts"),
        ({"TrainingFraction": [1.2]}, "strictly between 0 and 1"),
        ({"TrainingFraction": [0]}, "strictly between 0 and 1"),
        ({"TrainingFraction": [0.955]}, "two decimals"),
        ({"video_sets": {"/v.mp4": {"crop": "0, 640, 480"}}}, "malformed crop"),
        ({"video_sets": {"/v.mp4": {"crop": "10, 5, 0, 480"}}}, "x1 < x2"),
        ({"start": 0.5, "stop": 0.2}, "smaller than 'stop'"),
        ({"pcutoff": 3}, "between 0 and 1"),
        ({"bodyparts": []}, "missing or empty"),
    ],
)
def test_validation_messages(change, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_cfg(**change), "proj/config.yaml")


def test_unknown_skeleton_part_is_a_warning_naming_the_entry():
    warnings = validate_config(_cfg(skeleton=[["bodypart1", "paw"], ["bodypart1", "bodypart2"]]), "proj/config.yaml")
    assert len(warnings) == 1
    assert "skeleton entry ['bodypart1', 'paw'] names unknown body part(s) ['paw']" in warnings[0]


def test_missing_video_is_reported(tmp_path):
    cfg = _cfg(project_path=str(tmp_path), video_sets={str(tmp_path / "gone.mp4"): {"crop": "0, 1, 0, 1"}})
    with pytest.raises(ConfigError, match="gone.mp4.*does not exist"):
        validate_config(cfg, "config.yaml", check_videos=True)


def test_unknown_keys_are_warned_not_written_by_us():
    warnings = validate_config(_cfg(my_extra_key=1))
    assert warnings and "my_extra_key" in warnings[0]


def test_malformed_yaml_message_and_file_untouched(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("Task: t\nbodyparts: [a, b\n")
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=r"config.yaml: this is not valid YAML at line"):
        read_config(path)
    assert path.read_bytes() == before


def test_missing_config_message(tmp_path):
    with pytest.raises(ConfigError, match="No config file at"):
        read_config(tmp_path / "nope" / "config.yaml")


def test_invalid_config_is_never_written(tmp_path):
    path = tmp_path / "config.yaml"
    write_config(path, _cfg(project_path=str(tmp_path)))
    before = path.read_bytes()
    with pytest.raises(ConfigError):
        write_config(path, _cfg(skeleton=[["nope", "bodypart1", "bodypart2"]]))
    assert path.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_round_trip_keeps_values_and_backup(tmp_path):
    path = tmp_path / "config.yaml"
    cfg = _cfg(project_path=str(tmp_path), bodyparts=["nose", "tail"], skeleton=[["nose", "tail"]])
    write_config(path, cfg)
    cfg2 = read_config(path)
    assert cfg2["bodyparts"] == ["nose", "tail"] and cfg2["skeleton"] == [["nose", "tail"]]
    cfg2["pcutoff"] = 0.3
    write_config(path, cfg2)
    assert (tmp_path / "config.yaml.bak").exists()
    assert yaml.safe_load((tmp_path / "config.yaml.bak").read_text())["pcutoff"] == 0.6


def test_openfield_config_reads(openfield_dir, tmp_path):
    import shutil

    shutil.copy(openfield_dir / "config.yaml", tmp_path / "config.yaml")
    cfg = read_config(tmp_path / "config.yaml")
    assert cfg["bodyparts"] == ["snout", "leftear", "rightear", "tailbase"]
    assert cfg["project_path"] == str(tmp_path)
    # DLC 3 keys like SuperAnimalConversionTables survive a rewrite
    assert yaml.safe_load((tmp_path / "config.yaml").read_text())["SuperAnimalConversionTables"]


def test_parse_crop():
    assert parse_crop("0, 640, 0, 480") == (0, 640, 0, 480)
    assert parse_crop([1, 2, 3, 4]) == (1, 2, 3, 4)


def test_settings_file(tmp_path):
    assert read_settings(tmp_path)["mirror_pairs"] == []
    write_settings(tmp_path, {"mirror_pairs": [["leftear", "rightear"]]})
    assert read_settings(tmp_path)["mirror_pairs"] == [["leftear", "rightear"]]
    assert Path(tmp_path / "posenb.yaml").exists()
