"""``stored_evaluation``: which evaluation cache of a snapshot exists for which test-time scales (the evaluation
panel's "evaluated yet?"), found by name, on a tiny demo project with a training set (no network is built)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

from posenb.errors import ConfigError
from posenb.infer.eval_results import eval_h5, stored_evaluation
from posenb.project import paths
from posenb.project.config import read_config

SCALES = (1.1, 1.25)


def _shuffle_dirs(config) -> tuple[dict, Path, Path]:
    from posenb.data.trainingset import create_training_dataset

    create_training_dataset(config)
    cfg = read_config(config)
    train_dir = paths.get_train_dir(cfg, 1, 0)[0]
    eval_dir = Path(cfg["project_path"]) / paths.get_evaluation_folder(cfg["TrainingFraction"][0], 1, cfg)
    return cfg, Path(train_dir), eval_dir


def test_each_scale_set_finds_its_own_cache(demo_project):
    cfg, train_dir, eval_dir = _shuffle_dirs(demo_project)
    # nothing evaluated: no file, and the lookup creates no folder
    assert stored_evaluation(cfg, 1, 0, "snapshot-2") == (None, None)
    assert stored_evaluation(cfg, 1, 0, "snapshot-2", list(SCALES)) == (None, SCALES)
    assert not eval_dir.exists()

    eval_dir.mkdir(parents=True)
    scorer = "DLC_resnet50_demoJan1shuffle1_2"
    one = eval_h5(eval_dir, scorer, Path("snapshot-2"))
    one.write_bytes(b"")
    (eval_dir / f"{scorer}-snapshot-12.h5").write_bytes(b"")  # another snapshot, same ending digits
    assert stored_evaluation(cfg, 1, 0, "snapshot-2") == (one, None)
    assert stored_evaluation(cfg, 1, 0, train_dir / "snapshot-2.pt").path == one  # a snapshot path works too
    assert stored_evaluation(cfg, 1, 0, "snapshot-2", [1]) == (one, None)  # [1]: one pass
    # the one-pass cache does not count for the scales, nor the scales' cache for one pass
    assert stored_evaluation(cfg, 1, 0, "snapshot-2", list(SCALES)) == (None, SCALES)
    multi = eval_h5(eval_dir, scorer, Path("snapshot-2"), SCALES)
    assert multi.name == f"{scorer}-snapshot-2-scales1.1_1.25.h5"
    multi.write_bytes(b"")
    assert stored_evaluation(cfg, 1, 0, "snapshot-2", list(SCALES)) == (multi, SCALES)
    assert stored_evaluation(cfg, 1, 0, "snapshot-2").path == one
    assert stored_evaluation(cfg, 1, 0, "snapshot-2", [1.25]).path is None  # another scale set: not evaluated
    # two scorers (another network evaluated the same snapshot name): the newest file
    newer = eval_h5(eval_dir, "DLC_mobnetDLC_demoJan1shuffle1_2", Path("snapshot-2"))
    newer.write_bytes(b"")
    later = time.time() + 10
    os.utime(newer, (later, later))
    assert stored_evaluation(cfg, 1, 0, "snapshot-2").path == newer


def test_none_follows_the_shuffles_pose_cfg(demo_project):
    cfg, train_dir, eval_dir = _shuffle_dirs(demo_project)
    pose_cfg = train_dir / "pose_cfg.yaml"
    data = yaml.safe_load(pose_cfg.read_text())
    data["test_scales"] = list(SCALES)
    pose_cfg.write_text(yaml.safe_dump(data))
    eval_dir.mkdir(parents=True)
    multi = eval_h5(eval_dir, "DLC_x", Path("snapshot-2"), SCALES)
    multi.write_bytes(b"")
    assert stored_evaluation(cfg, 1, 0, "snapshot-2") == (multi, SCALES)  # as evaluate_network would evaluate
    assert stored_evaluation(cfg, 1, 0, "snapshot-2", [1]) == (None, None)  # the keyword wins
    data["test_scales"] = "big"
    pose_cfg.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="pose_cfg.yaml.*test_scales must be a list of numbers"):
        stored_evaluation(cfg, 1, 0, "snapshot-2")
