"""update_labeling_model: the labeler's suggestion model trained on every label, warm-started, apart from the
user's shuffles (tiny demo project, a few iterations)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from trained_demo import trained_copy_of, user_model_hashes

from posenb.infer.suggest import LabelSuggester
from posenb.io.labels import read_labels, write_labels
from posenb.nn.snapshots import list_snapshots, load_snapshot
from posenb.project.config import read_config
from posenb.train import labeling_rules
from posenb.train.labeling_model import fine_tune_budget, update_labeling_model


def _copy(trained, tmp_path) -> str:
    return trained_copy_of(trained, tmp_path)


def _label_file(config) -> Path:
    cfg = read_config(config)
    return next((Path(cfg["project_path"]) / "labeled-data").glob(f"*/CollectedData_{cfg['scorer']}.h5"))


def _add_frames(config, n: int) -> list[str]:
    """Label ``n`` more frames: copies of labeled PNGs under new names, their labels shifted by 0.5 px."""
    h5 = _label_file(config)
    df = read_labels(h5)
    rows, names = [], []
    for i in range(n):
        key = df.index[i]
        new = f"img9{i:03d}.png"
        shutil.copy(h5.parent / key[-1], h5.parent / new)
        row = df.iloc[[i]].copy() + 0.5
        row.index = pd.MultiIndex.from_tuples([(*key[:-1], new)])
        rows.append(row)
        names.append("/".join((*key[:-1], new)))
    write_labels(pd.concat([df, *rows]).sort_index(), h5)
    return names


@pytest.fixture
def fast_rule(monkeypatch):
    """The fine-tune rule with test-sized constants: 1 iteration per new frame, no minimum, no rounding."""
    monkeypatch.setattr(labeling_rules, "FT_ITERS_PER_FRAME", 1)
    monkeypatch.setattr(labeling_rules, "FT_MIN_ITERS", 1)
    monkeypatch.setattr(labeling_rules, "FT_STEP", 1)


def test_fine_tune_budget_rule():
    assert fine_tune_budget(10, 4, 3000)[0] == 500  # 50 x 10, parts factor 1
    assert fine_tune_budget(10, 16, 3000)[0] == 1000  # x2 for 16 parts
    assert fine_tune_budget(1, 4, 3000)[0] == 200  # the minimum
    assert fine_tune_budget(100, 4, 2400)[0] == 2400  # never more than training from scratch
    assert "10 new or changed" in fine_tune_budget(10, 4, 3000)[1]


def test_warm_start_from_the_shuffle_then_from_itself(trained, tmp_path, fast_rule):
    config = _copy(trained, tmp_path)
    cfg = read_config(config)
    project = Path(cfg["project_path"])
    before = user_model_hashes(project)
    shuffle_snap = list_snapshots(
        project / Path(trained["train_dir"]).relative_to(Path(trained["config"]).parent)
    )[-1]
    n_labeled = len(read_labels(_label_file(config)))

    first = update_labeling_model(config, progress=False)
    # warm start from shuffle 1 (trained on its 80% split): the test split's frames are new to it
    assert first.mode == "warm start" and first.start == shuffle_snap
    assert first.frames == n_labeled and 0 < first.new_frames < n_labeled
    assert first.iterations == first.new_frames  # the (patched) rule: 1 per new frame
    start_it = int(load_snapshot(shuffle_snap)["iteration"])
    assert first.snapshot.name == f"snapshot-{start_it + first.iterations}.pt"
    assert first.snapshot.parent == project / "labeling-model" / "train"
    state = load_snapshot(first.snapshot)
    assert state["labeling_model"] and len(state["label_digest"]) == n_labeled  # every label of the project
    log = (first.train_dir / "train.log").read_text()
    assert (
        "warm start from" in log and f"{first.new_frames} new or changed" in log and "cosine from 0.3" in log
    )
    stats = pd.read_csv(first.train_dir / "learning_stats.csv")
    assert stats["lr"].max() <= 0.3 * 2e-3 + 1e-9  # the short cosine starts at 0.3 x lr (LEARN's lr 2e-3)
    # the user's training sets, splits and snapshots are untouched
    assert user_model_hashes(project) == before

    suggester = LabelSuggester(config)
    assert suggester.model["source"] == "labeling model" and suggester.model["snapshot"] == str(
        first.snapshot
    )
    assert "labeling model" in suggester.describe()

    assert update_labeling_model(config, progress=False).mode == "up to date"  # nothing new: nothing trained

    added = _add_frames(config, 2)
    second = update_labeling_model(config, progress=False)
    assert second.mode == "warm start" and second.start == first.snapshot  # continues its own model
    assert second.new_frames == 2 and second.frames == n_labeled + 2
    assert second.snapshot.name == f"snapshot-{start_it + first.iterations + 2}.pt"
    assert set(added) <= set(load_snapshot(second.snapshot)["label_digest"])
    assert user_model_hashes(project) == before
    suggester.reload()
    assert suggester.model["snapshot"] == str(second.snapshot)
    image = project / added[0]
    got = suggester.suggest(image)
    assert got is not None and got[1] == "model" and got[0].shape == (len(cfg["bodyparts"]), 3)


def test_a_stopped_update_is_not_taken_for_up_to_date(trained, tmp_path, fast_rule):
    import threading

    config = _copy(trained, tmp_path)
    stop = threading.Event()
    stop.set()  # stopped after its first step: a snapshot is saved
    first = update_labeling_model(config, progress=False, stop_event=stop)
    assert first.stopped and first.new_frames > 1
    again = update_labeling_model(config, progress=False)
    assert again.mode == "warm start" and again.start == first.snapshot
    assert again.new_frames == first.new_frames  # what the stopped update did not finish is still new


def test_from_scratch_without_any_snapshot(tiny_project):
    project = Path(read_config(tiny_project)["project_path"])
    before = user_model_hashes(project)
    done = update_labeling_model(tiny_project, iterations=2, progress=False)
    assert done.mode == "from scratch" and done.start is None and done.iterations == 2
    assert done.snapshot == project / "labeling-model" / "train" / "snapshot-2.pt"
    assert (project / "labeling-model" / "train" / "pose_cfg.yaml").is_file()
    assert (project / "labeling-model" / "test" / "pose_cfg.yaml").is_file()
    assert "from scratch" in (done.train_dir / "train.log").read_text()
    assert user_model_hashes(project) == before
    assert np.isfinite(load_snapshot(done.snapshot)["iteration"])
