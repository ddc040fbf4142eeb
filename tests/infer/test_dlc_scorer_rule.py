"""DeepLabCut's own naming rule, applied to a posenb project, finds posenb's predictions.

DeepLabCut's filterpredictions, plot_trajectories and create_labeled_video (default arguments) all start with
``DLCscorer, _ = auxiliaryfunctions.get_scorer_name(cfg, shuffle, cfg["TrainingFraction"][trainingsetindex])``
and then look for ``<video stem><DLCscorer>*.h5`` with ``auxiliaryfunctions.find_analyzed_data``. Nothing of
posenb is used below to derive the names: ``dlc_scorer`` and ``dlc_find_analyzed_data`` follow DeepLabCut 3.0's
code (deeplabcut/utils/auxiliaryfunctions.py, deeplabcut/generate_training_dataset/metadata.py), quoted in
the comments, step by step, on the files posenb wrote.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow


def dlc_scorer(cfg: dict, shuffle: int = 1, trainingsetindex: int = 0) -> str:
    """DeepLabCut 3.0's ``auxiliaryfunctions.get_scorer_name(cfg, shuffle, trainFraction)`` on a project's files."""
    project = Path(cfg["project_path"])
    fraction = cfg["TrainingFraction"][trainingsetindex]
    # metadata.get_shuffle_engine: the engine of the shuffle is the "engine" of its entry in
    # training-datasets/iteration-<N>/UnaugmentedDataSet_<Task><date>/metadata.yaml (matched on train_fraction and
    # index); Engine("tensorflow") is Engine.TF, whose model folder is "dlc-models" and pose config "pose_cfg.yaml".
    meta = project / "training-datasets" / f"iteration-{cfg['iteration']}" / f"UnaugmentedDataSet_{cfg['Task']}{cfg['date']}"
    text = (meta / "metadata.yaml").read_text()
    shuffles = yaml.safe_load(text.split("---\n", 1)[1])["shuffles"]
    (entry,) = [e for e in shuffles.values() if e["train_fraction"] == fraction and e["index"] == shuffle]
    assert entry["engine"] in ("tensorflow", "tf"), "PyTorch-engine shuffles are named by get_scorer_name's other branch"
    # get_model_folder(trainFraction, shuffle, cfg, engine=Engine.TF):
    #   Path(modelprefix, "dlc-models", f"iteration-{cfg['iteration']}",
    #        f"{cfg['Task']}{cfg['date']}-trainset{int(trainFraction * 100)}shuffle{shuffle}")
    model = project / "dlc-models" / f"iteration-{cfg['iteration']}" / (
        f"{cfg['Task']}{cfg['date']}-trainset{int(fraction * 100)}shuffle{shuffle}"
    )
    train_folder = model / "train"
    # get_snapshots_from_folder(train_folder):
    #   snapshot_names = [file.stem for file in train_folder.iterdir() if "index" in file.name]
    #   return sorted(snapshot_names, key=lambda name: int(name.split("-")[1]))
    snapshot_names = sorted(
        [f.stem for f in train_folder.iterdir() if "index" in f.name], key=lambda name: int(name.split("-")[1])
    )
    assert snapshot_names, f"DeepLabCut finds no snapshot in {train_folder}"
    # snapshotindex = get_snapshot_index_for_scorer("snapshotindex", cfg["snapshotindex"])  ("all" -> -1)
    # snapshot_name = snapshot_names[snapshotindex]
    # trainingsiterations = (snapshot_name.split(os.sep)[-1]).split("-")[-1]
    index = -1 if cfg["snapshotindex"] == "all" else cfg["snapshotindex"]
    iterations = snapshot_names[index].split(os.sep)[-1].split("-")[-1]
    # dlc_cfg = read_plainconfig(<model folder>/train/pose_cfg.yaml); "ABBREVIATE NETWORK NAMES":
    #   resnet -> net_type.replace("_", "") ("dlcrnetms5" if multi_stage); mobilenet ->
    #   "mobnet_" + str(int(float(net_type.split("_")[-1]) * 100)); efficientnet -> "effnet_" + net_type.split("-")[1];
    #   anything else: ValueError("Failed to abbreviate network name")
    net_type = yaml.safe_load((train_folder / "pose_cfg.yaml").read_text())["net_type"]
    if "resnet" in net_type:
        netname = net_type.replace("_", "")
    elif "mobilenet" in net_type:
        netname = "mobnet_" + str(int(float(net_type.split("_")[-1]) * 100))
    elif "efficientnet" in net_type:
        netname = "effnet_" + net_type.split("-")[1]
    else:
        raise ValueError(f"Failed to abbreviate network name: {net_type}")
    # scorer = "DLC_" + netname + "_" + Task + str(date) + "shuffle" + str(shuffle) + "_" + str(trainingsiterations)
    return "DLC_" + netname + "_" + cfg["Task"] + str(cfg["date"]) + "shuffle" + str(shuffle) + "_" + str(iterations)


def dlc_find_analyzed_data(folder: Path, videoname: str, scorer: str, filtered: bool = False) -> list[str]:
    """DeepLabCut 3.0's ``auxiliaryfunctions.find_analyzed_data`` candidate list (single animal, no tracker)."""
    # for file in grab_files_in_folder(folder, "h5"):            (names ending with "h5")
    #     stem = Path(file).stem.replace("_filtered", "")
    #     starts_by_scorer = file.startswith(videoname + scorer) or file.startswith(videoname + scorer_legacy)
    #     matches_tracker = not any(stem.endswith(s) for s in TRACK_METHODS.values())   ("_el", "_bx", "_sk", ...)
    #     if starts_by_scorer and "skeleton" not in file and matches_tracker and
    #        ((filtered and "filtered" in file) or (not filtered and "filtered" not in file)): candidates.append(file)
    legacy = scorer.replace("DLC", "DeepCut")
    out = []
    for file in sorted(os.listdir(folder)):
        if not file.endswith("h5"):
            continue
        stem = Path(file).stem.replace("_filtered", "")
        starts = file.startswith(videoname + scorer) or file.startswith(videoname + legacy)
        tracker_free = not any(stem.endswith(s) for s in ("_el", "_bx", "_sk", "_id"))
        if starts and "skeleton" not in file and tracker_free and (("filtered" in file) == filtered):
            out.append(file)
    return out


@pytest.fixture
def analyzed(trained, tmp_path):
    """A copy of the trained project whose demo video posenb analyzed and filtered (outputs next to the video)."""
    import posenb
    from posenb.project.config import read_config

    src = Path(trained["config"]).parent
    project = tmp_path / src.name
    shutil.copytree(src, project, symlinks=True)
    config = str(project / "config.yaml")
    cfg = read_config(config)
    video = project / "videos" / "demo_mouse.mp4"
    scorer = posenb.analyze_videos(config, [str(video)])
    posenb.filterpredictions(config, [str(video)])
    return cfg, video, scorer


def test_dlc_rule_finds_posenb_predictions(analyzed):
    cfg, video, scorer = analyzed
    assert dlc_scorer(cfg) == scorer == f"DLC_effnet_lite0_{cfg['Task']}{cfg['date']}shuffle1_50"
    stem = video.stem
    assert dlc_find_analyzed_data(video.parent, stem, scorer) == [f"{stem}{scorer}.h5"]
    assert dlc_find_analyzed_data(video.parent, stem, scorer, filtered=True) == [f"{stem}{scorer}_filtered.h5"]
    # create_labeled_video also loads <stem><DLCscorer>*meta*.pickle (find_video_metadata)
    assert (video.parent / f"{stem}{scorer}_meta.pickle").is_file()


def test_dlc_rule_follows_snapshotindex(analyzed):
    """snapshotindex 0 picks the first snapshot in both tools (snapshot-25 of the two kept)."""
    import posenb
    from posenb.project.config import read_config, write_config

    cfg, video, _ = analyzed
    config = Path(cfg["project_path"]) / "config.yaml"
    cfg["snapshotindex"] = 0
    write_config(config, cfg)
    cfg = read_config(config)
    scorer = posenb.analyze_videos(str(config), [str(video)])
    assert scorer.endswith("shuffle1_25")
    assert dlc_scorer(cfg) == scorer
    assert dlc_find_analyzed_data(video.parent, video.stem, scorer) == [f"{video.stem}{scorer}.h5"]


def test_models_trained_before_get_their_index_files(analyzed):
    """A train folder without the .index files (posenb before 2026-12) gets them at the next analysis."""
    import posenb

    cfg, video, scorer = analyzed
    train = next((Path(cfg["project_path"]) / "dlc-models").rglob("train"))
    for f in train.glob("*.index"):
        f.unlink()
    with pytest.raises(AssertionError, match="finds no snapshot"):
        dlc_scorer(cfg)
    assert posenb.analyze_videos(str(Path(cfg["project_path"]) / "config.yaml"), [str(video)]) == scorer
    assert dlc_scorer(cfg) == scorer
