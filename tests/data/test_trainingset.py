"""create_training_dataset / mergeandsplit: DeepLabCut's files, names and splits, on the tiny demo project."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from posenb.data.trainingset import create_training_dataset, mergeandsplit, read_training_split, split_trials
from posenb.errors import LabelError
from posenb.io.labels import read_labels, write_labels
from posenb.project.config import read_config, write_config


def _names(cfg):
    task_date = f"{cfg['Task']}{cfg['date']}"
    tset = Path(cfg["project_path"]) / "training-datasets" / "iteration-0" / f"UnaugmentedDataSet_{task_date}"
    model = Path(cfg["project_path"]) / "dlc-models" / "iteration-0" / f"{task_date}-trainset80shuffle1"
    return tset, model


def test_writes_dlc_files_and_names(demo_project):
    cfg = read_config(demo_project)
    written = create_training_dataset(demo_project)
    tset, model = _names(cfg)
    scorer, task = cfg["scorer"], cfg["Task"]
    assert (tset / f"CollectedData_{scorer}.h5").is_file()
    assert (tset / f"CollectedData_{scorer}.csv").is_file()
    assert (tset / f"{task}_{scorer}80shuffle1.mat").is_file()
    doc = tset / f"Documentation_data-{task}_80shuffle1.pickle"
    assert doc.is_file()
    assert (tset / "metadata.yaml").is_file()
    assert (model / "train" / "pose_cfg.yaml").is_file()
    assert (model / "test" / "pose_cfg.yaml").is_file()

    # merged table: sorted rows, config bodyparts, key df_with_missing
    merged = pd.read_hdf(tset / f"CollectedData_{scorer}.h5", key="df_with_missing")
    assert list(dict.fromkeys(merged.columns.get_level_values("bodyparts"))) == cfg["bodyparts"]
    assert merged.index.is_monotonic_increasing
    n = len(merged)
    assert n == 12

    # Documentation pickle: [data, trainIndices, testIndices, trainFraction] with plain types
    with open(doc, "rb") as fh:
        data, train, test, fraction = pickle.load(fh)
    assert fraction == 0.8
    assert len(train) == int(n * 0.8) and len(test) == n - int(n * 0.8)
    assert sorted(train + test) == list(range(n))
    assert written == [(0.8, 1, train, test)]
    assert len(data) == len(train)
    first = data[0]
    assert first["image"][0] == "labeled-data" and first["image"][2].endswith(".png")
    assert list(first["size"]) == [3, 96, 128]
    assert np.asarray(first["joints"]).shape == (4, 3)

    # .mat readable with scipy, one struct per train image
    import scipy.io as sio

    mat = sio.loadmat(tset / f"{task}_{scorer}80shuffle1.mat")["dataset"]
    assert mat.shape[1] == len(train)

    # pose_cfg keys
    pose = yaml.safe_load((model / "train" / "pose_cfg.yaml").read_text())
    assert pose["dataset"] == f"training-datasets/iteration-0/{tset.name}/{task}_{scorer}80shuffle1.mat"
    assert pose["metadataset"].endswith(doc.name)
    assert pose["num_joints"] == 4
    assert pose["all_joints"] == [[0], [1], [2], [3]]
    assert pose["all_joints_names"] == cfg["bodyparts"]
    assert (
        cfg["default_net_type"] == "resnet_50"
    )  # DeepLabCut's value: DLC's create_training_dataset accepts it
    assert pose["net_type"] == "efficientnet-lite0"  # posenb's own default (posenb.yaml has no net_type)
    assert pose["project_path"] == cfg["project_path"]
    for key in (
        "global_scale",
        "pos_dist_thresh",
        "location_refinement",
        "locref_stdev",
        "locref_loss_weight",
        "multi_step",
        "save_iters",
        "display_iters",
        "batch_size",
        "mirror",
        "rotation",
        "scale_jitter_lo",
        "scale_jitter_up",
        "crop_size",
        "optimizer",
        "lr_schedule",
        "max_iters",
        "split_seed",
    ):
        assert key in pose, key
    # the recipe (posenb/data/recipe.py): 128x96 frames, parts ~6.5 px apart: x1 (no upsampling: not < 6 px apart)
    assert pose["global_scale"] == 1.0
    assert pose["recipe"]["global_scale"].startswith("1.0: closest parts 6.")
    test_cfg = yaml.safe_load((model / "test" / "pose_cfg.yaml").read_text())
    assert test_cfg["scoremap_dir"] == "test"
    assert test_cfg["all_joints_names"] == cfg["bodyparts"]

    meta = yaml.safe_load((tset / "metadata.yaml").read_text().split("---\n", 1)[1])
    entry = meta["shuffles"][model.name]
    assert entry["train_fraction"] == 0.8 and entry["index"] == 1 and entry["split"] == 1
    assert entry["seed"] == pose["split_seed"]


def test_split_is_reproducible_and_differs_between_shuffles(demo_project, tmp_path):
    other = tmp_path / "copy"
    shutil.copytree(Path(demo_project).parent, other, symlinks=True)
    read_config(other / "config.yaml")
    a = create_training_dataset(demo_project, num_shuffles=3)
    b = create_training_dataset(str(other / "config.yaml"), Shuffles=[1, 2, 3])
    assert [(f, s, tr, te) for f, s, tr, te in a] == [(f, s, tr, te) for f, s, tr, te in b]
    splits = {tuple(sorted(te)) for _, _, _, te in a}
    assert len(splits) > 1, "shuffles 1..3 should not all share one test set"
    # same seed -> same split, independent of numpy's global RNG
    np.random.seed(123)
    assert split_trials(50, 0.8, seed=7) == split_trials(50, 0.8, seed=7)


def test_bodyparts_reordered_and_other_scorer_skipped(demo_project):
    cfg = read_config(demo_project)
    project = Path(cfg["project_path"])
    labels_file = project / "labeled-data" / "demo_mouse" / f"CollectedData_{cfg['scorer']}.h5"
    df = read_labels(labels_file)
    reordered = df.reindex(columns=list(reversed(df.columns)))
    write_labels(reordered, labels_file)
    # a second folder, labelled by someone else (inside a file of the project's name)
    stranger = project / "labeled-data" / "other_video"
    stranger.mkdir()
    alien = df.copy()
    alien.columns = alien.columns.set_levels(["someone_else"], level="scorer")
    alien.index = pd.MultiIndex.from_tuples([("labeled-data", "other_video", i[2]) for i in df.index])
    write_labels(alien, stranger / f"CollectedData_{cfg['scorer']}.h5")
    cfg["video_sets"]["/nowhere/other_video.mp4"] = {"crop": "0, 128, 0, 96"}
    write_config(demo_project, cfg)
    with pytest.warns(UserWarning, match="someone_else"):
        create_training_dataset(demo_project)
    tset, _ = _names(cfg)
    merged = read_labels(tset / f"CollectedData_{cfg['scorer']}.h5")
    assert list(dict.fromkeys(merged.columns.get_level_values("bodyparts"))) == cfg["bodyparts"]
    assert set(merged.index.get_level_values(1)) == {"demo_mouse"}
    np.testing.assert_allclose(merged.to_numpy(), df.to_numpy())


def test_config_without_labels_is_a_clear_error(demo_project):
    project = Path(demo_project).parent
    for f in (project / "labeled-data").rglob("CollectedData_*"):
        f.unlink()
    with pytest.raises(LabelError, match="No labels found.*label"):
        create_training_dataset(demo_project)


def test_user_indices_and_mergeandsplit(demo_project):
    train, test = mergeandsplit(demo_project, trainindex=0, uniform=True)
    n = 12
    assert round(len(train) / (len(train) + len(test)), 2) == 0.8
    real = [i for i in train + test if i >= 0]
    assert sorted(real) == list(range(n))
    assert mergeandsplit(demo_project) == (train, test)  # frozen, seeded

    loo_train, loo_test = mergeandsplit(demo_project, trainindex=0, uniform=False)
    assert loo_train == [] and loo_test == list(range(n))  # one video: everything is left out

    tr = [[0, 1, 2, 3, 4, 5]]
    te = [[6, 7, 8, 9, 10, 11]]
    written = create_training_dataset(demo_project, Shuffles=[4], trainIndices=tr, testIndices=te)
    assert written == [(0.5, 4, tr[0], te[0])]
    cfg = read_config(demo_project)
    assert 0.5 in cfg["TrainingFraction"]
    data, train_idx, test_idx, fraction = read_training_split(cfg, 4, cfg["TrainingFraction"].index(0.5))
    assert (train_idx, test_idx, fraction) == (tr[0], te[0], 0.5)
    assert len(data) == n


def test_posenb_settings_override_the_recipe(demo_project):
    from posenb.project.config import write_settings

    cfg = read_config(demo_project)
    write_settings(cfg["project_path"], {"train": {"global_scale": 0.75, "batch_size": 4}})
    create_training_dataset(demo_project, net_type="resnet_50")
    _, model = _names(cfg)
    pose = yaml.safe_load((model / "train" / "pose_cfg.yaml").read_text())
    assert (pose["global_scale"], pose["batch_size"], pose["net_type"]) == (0.75, 4, "resnet_50")


def test_network_choice_lives_in_posenb_yaml(demo_project, capsys):
    """config.yaml keeps DLC's default_net_type; posenb.yaml's net_type or the argument choose posenb's network."""
    from posenb.project.config import write_settings

    cfg = read_config(demo_project)
    _, model = _names(cfg)

    def trained_net():
        return yaml.safe_load((model / "train" / "pose_cfg.yaml").read_text())["net_type"]

    create_training_dataset(demo_project)
    out = capsys.readouterr().out
    assert (
        "network efficientnet-lite0 (posenb's default" in out and "'resnet_50' is DeepLabCut's setting" in out
    )
    write_settings(cfg["project_path"], {"net_type": "mobilenet_v2_0.35"})
    create_training_dataset(demo_project)
    assert trained_net() == "mobilenet_v2_0.35"
    assert "network mobilenet_v2_0.35 (net_type in posenb.yaml)" in capsys.readouterr().out
    create_training_dataset(demo_project, net_type="resnet_50")
    assert trained_net() == "resnet_50"
    assert "(passed as net_type)" in capsys.readouterr().out
    assert read_config(demo_project)["default_net_type"] == "resnet_50"


def test_old_posenb_project_is_migrated(demo_project, capsys):
    """A config.yaml with posenb's efficientnet-lite0 (DLC 3 rejects it) still trains it; the next save moves it."""
    path = Path(demo_project)
    text = path.read_text()
    assert "default_net_type: resnet_50" in text
    path.write_text(text.replace("default_net_type: resnet_50", "default_net_type: efficientnet-lite0"))
    cfg = read_config(path)
    assert cfg["default_net_type"] == "efficientnet-lite0"
    create_training_dataset(demo_project)
    assert "network efficientnet-lite0 (config.yaml's default_net_type" in capsys.readouterr().out
    write_config(path, cfg)
    saved = yaml.safe_load(path.read_text())
    assert saved["default_net_type"] == "resnet_50"
    assert yaml.safe_load((path.parent / "posenb.yaml").read_text())["net_type"] == "efficientnet-lite0"
    assert cfg["default_net_type"] == "efficientnet-lite0"  # the caller's dict is not changed
    _, model = _names(cfg)
    create_training_dataset(demo_project)
    assert yaml.safe_load((model / "train" / "pose_cfg.yaml").read_text())["net_type"] == "efficientnet-lite0"
    assert "(net_type in posenb.yaml)" in capsys.readouterr().out


def test_userfeedback_asks_before_overwriting_a_shuffle_and_keeps_it_without_an_answer(
    demo_project, monkeypatch, capsys
):
    cfg = read_config(demo_project)
    create_training_dataset(demo_project)
    pose_cfg = _names(cfg)[1] / "train" / "pose_cfg.yaml"
    pose_cfg.write_text(pose_cfg.read_text() + "# edited by hand\n")
    create_training_dataset(demo_project, userfeedback=True)  # pytest's stdin: no one to answer -> kept
    assert pose_cfg.read_text().endswith("# edited by hand\n")
    assert "Overwrite its pose_cfg.yaml? -> no (no interactive input available" in capsys.readouterr().out
    monkeypatch.setattr("posenb.io.prompt.stdin_is_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *_: "yes")
    create_training_dataset(demo_project, userfeedback=True)
    assert "# edited by hand" not in pose_cfg.read_text()
