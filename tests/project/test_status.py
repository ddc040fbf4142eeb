"""project_status: what a project holds, from its files only."""

from pathlib import Path

import numpy as np

from posenb.io.labels import read_labels, write_labels
from posenb.project.config import read_config, write_config
from posenb.project.status import format_status, project_status


def test_status_of_the_demo_project(demo_project):
    s = project_status(demo_project)
    assert s.task == "demo" and s.scorer == "posenb" and s.iteration == 0
    assert [v.stem for v in s.videos] == ["demo_mouse"] and s.videos[0].found
    assert [(f.stem, f.n_images, f.n_labeled, f.label_file) for f in s.folders] == [
        ("demo_mouse", 12, 12, "CollectedData_posenb.h5")
    ]
    assert s.training_sets == [] and s.models == []
    assert "create_training_dataset" in s.next_step
    text = format_status(s)
    assert "12 of 12 frames labeled" in text and "demo_mouse: ok" in text


def test_status_counts_partial_labels_other_scorers_and_missing_videos(demo_project):
    cfg = read_config(demo_project)
    project = Path(cfg["project_path"])
    folder = project / "labeled-data" / "demo_mouse"
    df = read_labels(folder / "CollectedData_posenb.h5")
    df.iloc[:5] = np.nan  # 5 images unlabeled (rows kept)
    write_labels(df, folder / "CollectedData_posenb.h5")
    (folder / "CollectedData_other.h5").write_bytes(b"")
    (project / "labeled-data" / "demo_mouse_labeled").mkdir()
    (project / "labeled-data" / "empty").mkdir()
    cfg["video_sets"]["/nowhere/lost.mp4"] = {"crop": "0, 10, 0, 10"}
    write_config(demo_project, cfg)
    s = project_status(demo_project)
    by = {f.stem: f for f in s.folders}
    assert set(by) == {"demo_mouse", "empty"}  # *_labeled check folders are not label folders
    assert by["demo_mouse"].n_labeled == 7 and by["demo_mouse"].other_scorers == ["other"]
    assert by["demo_mouse"].has_check and by["empty"].n_images == 0
    lost = next(v for v in s.videos if v.stem == "lost")
    assert lost.found is None and "missing" in s.next_step


def test_status_finds_training_sets_snapshots_and_analysis_files(demo_project):
    cfg = read_config(demo_project)
    project = Path(cfg["project_path"])
    ts = project / "training-datasets" / "iteration-0" / "UnaugmentedDataSet_demoNov24"
    ts.mkdir(parents=True)
    (ts / "Documentation_data-demo_80shuffle1.pickle").write_bytes(b"")
    model = project / "dlc-models" / "iteration-0" / "demoNov24-trainset80shuffle1"
    (model / "train").mkdir(parents=True)
    for it in (100, 200):
        (model / "train" / f"snapshot-{it}.pt").write_bytes(b"")
    (project / "evaluation-results" / "iteration-0" / model.name).mkdir(parents=True)
    (project / "evaluation-results" / "iteration-0" / model.name / "results.csv").write_text("x")
    videos = project / "videos"
    (videos / "demo_mouseDLC_effnet_lite0_demoNov24shuffle1_200.h5").write_bytes(b"")
    (videos / "demo_mouseDLC_effnet_lite0_demoNov24shuffle1_200_filtered.h5").write_bytes(b"")
    (videos / "demo_mouseDLC_effnet_lite0_demoNov24shuffle1_200_meta.pickle").write_bytes(b"")
    s = project_status(cfg)
    assert [(t.iteration, t.train_pct, t.shuffle) for t in s.training_sets] == [(0, 80, 1)]
    assert len(s.models) == 1 and s.models[0].snapshots == [100, 200] and s.models[0].evaluated
    assert s.videos[0].analyzed == ["demo_mouseDLC_effnet_lite0_demoNov24shuffle1_200.h5"]
    assert len(s.videos[0].filtered) == 1
    assert "Review" in s.next_step
