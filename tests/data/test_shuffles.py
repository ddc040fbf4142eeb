"""create_training_model_comparison, get_largestshuffle_index and return_train_network_path on the tiny demo project."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from posenb.data.shuffles import create_training_model_comparison, get_largestshuffle_index
from posenb.data.trainingset import create_training_dataset, mergeandsplit, read_pose_cfg, read_training_split
from posenb.errors import ConfigError
from posenb.project.config import read_config
from posenb.train.api import return_train_network_path


def _model_dir(cfg: dict, shuffle: int, pct: int = 80) -> Path:
    return (
        Path(cfg["project_path"])
        / "dlc-models"
        / "iteration-0"
        / f"demo{cfg['date']}-trainset{pct}shuffle{shuffle}"
    )


def test_largest_shuffle_index(demo_project):
    assert get_largestshuffle_index(demo_project) is None
    create_training_dataset(demo_project, Shuffles=[1, 3])
    assert get_largestshuffle_index(demo_project) == 3
    cfg = read_config(demo_project)
    (_model_dir(cfg, 12) / "train").mkdir(parents=True)  # a model folder whose training files were deleted
    assert get_largestshuffle_index(demo_project) == 12
    (Path(cfg["project_path"]) / "dlc-models" / "iteration-0" / "unrelated-folder").mkdir()
    assert get_largestshuffle_index(demo_project) == 12


def test_comparison_reuses_one_split_per_frozen_shuffle(demo_project):
    nets, augs = ["resnet_50", "efficientnet-lite0"], ["imgaug", "default"]
    shuffles = create_training_model_comparison(
        demo_project, trainindex=0, num_shuffles=2, net_types=nets, augmenter_types=augs
    )
    assert shuffles == list(range(1, 9))
    cfg = read_config(demo_project)
    expected = [(n, a) for n in nets for a in augs] * 2  # DLC's numbering: aug fastest, then net, then split
    splits = {}
    for k, (net, aug) in zip(shuffles, expected):
        pose = read_pose_cfg(_model_dir(cfg, k) / "train" / "pose_cfg.yaml")
        assert (pose["net_type"], pose["dataset_type"]) == (net, aug), k
        assert read_pose_cfg(_model_dir(cfg, k) / "test" / "pose_cfg.yaml")["net_type"] == net
        _, train, test, fraction = read_training_split(cfg, shuffle=k)
        assert fraction == 0.8 and len(train) + len(test) == 12 and not set(train) & set(test)
        splits[k] = (tuple(sorted(train)), tuple(sorted(test)))
    assert len({splits[k] for k in (1, 2, 3, 4)}) == 1  # frozen split 0 for all four combinations
    assert len({splits[k] for k in (5, 6, 7, 8)}) == 1  # frozen split 1
    assert splits[1] != splits[5]
    # frozen split 0 is mergeandsplit's split
    train, test = mergeandsplit(demo_project, trainindex=0)
    assert splits[1] == (tuple(sorted(i for i in train if i >= 0)), tuple(sorted(i for i in test if i >= 0)))
    # DLC 3's metadata.yaml: identical splits share one split id
    tset = (
        Path(cfg["project_path"])
        / "training-datasets"
        / "iteration-0"
        / f"UnaugmentedDataSet_demo{cfg['date']}"
    )
    meta = yaml.safe_load((tset / "metadata.yaml").read_text().split("---\n", 1)[1])["shuffles"]
    ids = {v["index"]: v["split"] for v in meta.values()}
    assert len({ids[k] for k in (1, 2, 3, 4)}) == 1 and ids[1] != ids[5]
    assert cfg["TrainingFraction"] == [0.8]  # the padded split keeps the fraction: nothing added
    log = (
        Path(cfg["project_path"]) / "training-datasets" / "iteration-0" / "training_model_comparison.log"
    ).read_text()
    lines = log.splitlines()
    assert len(lines) == 8
    assert lines[5].endswith(
        "INFO Shuffle index:6, net_type:resnet_50, augmenter_type:default, trainsetindex:0, frozen shuffle ID:1"
    )


def test_comparison_numbers_after_existing_shuffles(demo_project):
    create_training_dataset(demo_project, num_shuffles=2)
    before = read_training_split(demo_project, shuffle=1)[1:3]
    shuffles = create_training_model_comparison(demo_project, net_types=["efficientnet-lite0"])
    assert shuffles == [3]
    assert read_training_split(demo_project, shuffle=1)[1:3] == before  # existing shuffles untouched
    assert (
        read_pose_cfg(_model_dir(read_config(demo_project), 3) / "train" / "pose_cfg.yaml")["dataset_type"]
        == "imgaug"
    )
    assert get_largestshuffle_index(demo_project) == 3


def test_comparison_bad_arguments(demo_project):
    with pytest.raises(ConfigError, match="trainindex=3"):
        create_training_model_comparison(demo_project, trainindex=3)
    with pytest.raises(ConfigError, match="net type"):
        create_training_model_comparison(demo_project, net_types=[])
    assert get_largestshuffle_index(demo_project) is None


def test_return_train_network_path(demo_project):
    cfg = read_config(demo_project)
    train_cfg, test_cfg, train_dir = return_train_network_path(demo_project, shuffle=2)
    model = _model_dir(cfg, 2)
    assert (train_cfg, test_cfg, train_dir) == (
        model / "train" / "pose_cfg.yaml",
        model / "test" / "pose_cfg.yaml",
        model / "train",
    )
    assert not train_cfg.exists()
    create_training_dataset(demo_project, Shuffles=[2])
    assert train_cfg.is_file() and test_cfg.is_file() and train_dir.is_dir()
    prefixed = return_train_network_path(demo_project, shuffle=2, modelprefix="exp1")[2]
    assert (
        prefixed == Path(cfg["project_path"]) / "exp1" / "dlc-models" / "iteration-0" / model.name / "train"
    )
    with pytest.raises(ConfigError, match="trainingsetindex=1"):
        return_train_network_path(demo_project, trainingsetindex=1)
