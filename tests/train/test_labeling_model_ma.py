"""update_labeling_model on multi-animal projects: the top-down model (centroid + pose) trained on every label into
labeling-model/, warm-started, apart from the user's shuffles; the labeler's suggestions switch to it (tiny
synthetic two-animal frames with a unique part, a few iterations: seconds)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from ma_synth import BODYPARTS, INDIVIDUALS, UNIQUE, make_ma_project
from trained_demo import user_model_hashes

from posenb.data.ma_trainingset import read_ma_table, write_ma_table
from posenb.infer.suggest import LabelSuggester
from posenb.nn.snapshots import load_snapshot
from posenb.project.config import read_config
from posenb.train import labeling_rules
from posenb.train.labeling_model import update_labeling_model

#: a few iterations of batch 2 (the labeling model takes these settings from the shuffle it starts from)
FAST = {"batch_size": 2, "warmup_iters": 1, "display_iters": 1, "save_iters": 3}
N_FRAMES = 12


@pytest.fixture(scope="module")
def _trained_ma(tmp_path_factory) -> str:
    """A synthetic two-animal project (12 frames, unique part "food"), shuffle 1 trained 3 iterations per model."""
    from posenb import create_training_dataset, train_network

    config = make_ma_project(tmp_path_factory.mktemp("ma-labeling"), n=N_FRAMES, unique=True)
    create_training_dataset(config)
    train_network(config, maxiters=3, progress=False, **FAST)
    return config


@pytest.fixture
def trained_ma(_trained_ma, tmp_path) -> str:
    src = Path(_trained_ma).parent
    config = shutil.copytree(src, tmp_path / src.name) / "config.yaml"
    read_config(config)  # repairs project_path
    return str(config)


@pytest.fixture
def fast_rule(monkeypatch):
    """The fine-tune rule with test-sized constants: 1 iteration per new frame, no minimum, no rounding."""
    monkeypatch.setattr(labeling_rules, "FT_ITERS_PER_FRAME", 1)
    monkeypatch.setattr(labeling_rules, "FT_MIN_ITERS", 1)
    monkeypatch.setattr(labeling_rules, "FT_STEP", 1)


def _label_file(config) -> Path:
    cfg = read_config(config)
    return Path(cfg["project_path"]) / "labeled-data" / "vid" / f"CollectedData_{cfg['scorer']}.h5"


def test_warm_start_up_to_date_and_a_changed_label(trained_ma, fast_rule):
    cfg = read_config(trained_ma)
    project = Path(cfg["project_path"])
    before = user_model_hashes(project)
    shuffle_dir = project / "dlc-models" / "iteration-0" / "maDec2-trainset80shuffle1" / "train"

    first = update_labeling_model(trained_ma, progress=False)
    # warm start from shuffle 1 (trained on its 80% split: 9 frames): the 3 test frames are new to it
    assert first.mode == "warm start" and first.start == shuffle_dir / "snapshot-3.pt"
    assert (first.frames, first.new_frames, first.iterations) == (N_FRAMES, 3, 3)
    train = project / "labeling-model" / "train"
    assert first.train_dir == train and first.snapshot == train / "snapshot-6.pt"
    pose = load_snapshot(train / "snapshot-6.pt")
    centroid = load_snapshot(train / "centroid" / "snapshot-6.pt")
    assert pose["topdown"]["kind"] == "instance" and centroid["topdown"]["kind"] == "centroid"
    assert centroid["topdown"]["unique_bodyparts"] == UNIQUE
    for state in (pose, centroid):  # both models learnt every label of the project, as the digest says
        assert state["labeling_model"] and len(state["label_digest"]) == N_FRAMES
    assert "warm start from" in (train / "train.log").read_text()
    clog = (train / "centroid" / "train.log").read_text()
    assert f"ma_centroid_start = warm start from {shuffle_dir / 'centroid' / 'snapshot-3.pt'}" in clog
    assert (project / "labeling-model" / "train" / "pose_cfg.yaml").is_file()
    assert (project / "labeling-model" / "test" / "pose_cfg.yaml").is_file()
    assert user_model_hashes(project) == before  # the user's training set, split and snapshots are untouched

    again = update_labeling_model(trained_ma, progress=False)
    assert again.mode == "up to date" and again.iterations == 0 and again.snapshot == first.snapshot

    # one label moved by 2 px: that frame (only) is new, and the update continues the labeling model
    h5 = _label_file(trained_ma)
    df = read_ma_table(h5)
    df.iloc[4, 0] += 2.0
    write_ma_table(df, h5)
    second = update_labeling_model(trained_ma, progress=False)
    assert second.mode == "warm start" and second.start == first.snapshot
    assert (second.new_frames, second.iterations) == (1, 1)
    assert second.snapshot == train / "snapshot-7.pt" and (train / "centroid" / "snapshot-7.pt").is_file()
    assert load_snapshot(second.snapshot)["label_digest_before"] == pose["label_digest"]
    assert user_model_hashes(project) == before


def test_suggestions_switch_to_the_labeling_model(trained_ma, fast_rule):
    cfg = read_config(trained_ma)
    project = Path(cfg["project_path"])
    image = project / "labeled-data" / "vid" / "img011.png"
    suggester = LabelSuggester(trained_ma)
    shuffle_snap = project / "dlc-models" / "iteration-0" / "maDec2-trainset80shuffle1/train/snapshot-3.pt"
    assert suggester.model == {"source": "shuffle 1", "snapshot": str(shuffle_snap), "iteration": 3}
    assert suggester.describe() == "shuffle 1, snapshot-3"

    done = update_labeling_model(trained_ma, progress=False)
    suggester.reload()
    assert suggester.model == {"source": "labeling model", "snapshot": str(done.snapshot), "iteration": 6}
    assert suggester.describe() == "labeling model, snapshot-6"
    assert suggester.predictor.centroid_snapshot == done.train_dir / "centroid" / "snapshot-6.pt"
    slots, source = suggester.suggest(image)
    # the label table's slots: individuals x parts, then the unique part; x, y, likelihood
    assert source == "model" and slots.shape == (len(INDIVIDUALS) * len(BODYPARTS) + len(UNIQUE), 3)
    assert np.isfinite(slots[:, 2]).any()


def test_from_scratch_without_a_training_set(tmp_path):
    config = make_ma_project(tmp_path, n=8, unique=True, identity=True)
    project = Path(read_config(config)["project_path"])
    labels_before = hashlib.sha1(_label_file(config).read_bytes()).hexdigest()
    done = update_labeling_model(config, iterations=2, progress=False)
    train = project / "labeling-model" / "train"
    assert done.mode == "from scratch" and done.start is None
    assert (done.frames, done.new_frames, done.iterations) == (8, 8, 2)
    assert done.snapshot == train / "snapshot-2.pt" and (train / "centroid" / "snapshot-2.pt").is_file()
    from posenb.data.pose_cfg import read_pose_cfg

    pose_cfg = read_pose_cfg(train / "pose_cfg.yaml")
    assert pose_cfg["multianimalproject"] and pose_cfg["all_joints_names"] == BODYPARTS
    assert pose_cfg["uniquebodyparts"] == UNIQUE and "labeling_model" in pose_cfg
    assert pose_cfg["identity"] and pose_cfg["num_idchannel"] == len(INDIVIDUALS)
    assert "from scratch" in (train / "train.log").read_text()
    assert not (project / "training-datasets").exists() and not (project / "dlc-models").exists()
    assert hashlib.sha1(_label_file(config).read_bytes()).hexdigest() == labels_before
    suggester = LabelSuggester(config)
    assert suggester.model["source"] == "labeling model" and suggester.predictor.identity
    slots, _ = suggester.suggest(project / "labeled-data" / "vid" / "img000.png")
    assert slots.shape == (len(INDIVIDUALS) * len(BODYPARTS) + len(UNIQUE), 3)
    # the unchanged labels: nothing to learn for the model trained on them
    assert update_labeling_model(config, progress=False).mode == "up to date"


def test_a_stopped_update_is_not_taken_for_up_to_date(trained_ma, fast_rule):
    import threading

    project = Path(read_config(trained_ma)["project_path"])
    train = project / "labeling-model" / "train"
    stop = threading.Event()
    stop.set()  # stopped after the centroid model's first step: a centroid snapshot is saved, no pose snapshot
    first = update_labeling_model(trained_ma, progress=False, stop_event=stop)
    assert first.stopped and first.snapshot is None and (train / "centroid" / "snapshot-4.pt").is_file()
    again = update_labeling_model(trained_ma, progress=False)
    # the shuffle is still the newest pose model: it starts again, the stopped centroid moved aside (not deleted)
    shuffle_snap = project / "dlc-models" / "iteration-0" / "maDec2-trainset80shuffle1/train/snapshot-3.pt"
    assert again.mode == "warm start" and again.start == shuffle_snap
    assert again.new_frames == 3 and again.snapshot == train / "snapshot-6.pt"
    assert (train / "centroid" / "previous-1" / "snapshot-4.pt").is_file()
    assert (train / "centroid" / "snapshot-6.pt").is_file()
