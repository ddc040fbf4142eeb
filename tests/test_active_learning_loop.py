"""The active-learning loop on the demo project, end to end:

create_training_dataset -> train_network (2 iterations) -> analyze_videos -> extract_outlier_frames ->
refinement (programmatic: every machine point moved to the ground truth) -> merge_datasets ->
create_training_dataset, which must produce iteration 1 holding the refined labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("posenb.infer.analyze")
pytest.importorskip("posenb.data.trainingset")
pytest.importorskip("posenb.train.api")

pytestmark = pytest.mark.slow


def test_analyze_extract_refine_merge_retrain(demo_project):
    import posenb
    from posenb.demo.project import read_ground_truth
    from posenb.io.labels import read_labels
    from posenb.post.refine import RefinementSession
    from posenb.project.config import read_config
    from posenb.project.paths import frame_index

    config = demo_project
    cfg = read_config(config)
    project = Path(cfg["project_path"])
    video = project / "videos" / "demo_mouse.mp4"
    scorer_human = cfg["scorer"]
    truth = read_ground_truth(config)  # (60, 4, 2)

    posenb.create_training_dataset(config, num_shuffles=1)
    posenb.train_network(config, shuffle=1, maxiters=2, saveiters=2, displayiters=1, progress=False)
    scorer = posenb.analyze_videos(config, [str(video)], shuffle=1)
    assert (video.parent / f"demo_mouse{scorer}.h5").exists()

    # a barely trained network is unsure everywhere: every frame without a PNG is a candidate
    picked = posenb.extract_outlier_frames(
        config, [str(video)], outlieralgorithm="uncertain", p_bound=1.01, automatic=True, seed=0
    )[str(video)]
    assert len(picked) == cfg["numframes2pick"]
    folder = project / "labeled-data" / "demo_mouse"
    assert (folder / "machinelabels-iter0.h5").exists()

    session = RefinementSession.load(config, "demo_mouse")
    machine_rows = np.flatnonzero(session.source == "machine")
    assert len(machine_rows) == len(picked)
    for i in machine_rows:
        f = frame_index(session.images[i][2])
        for j, bp in enumerate(session.bodyparts):
            session.move_point(int(i), bp, *truth[f, j])
    session.save()

    assert posenb.merge_datasets(config) == 1
    assert read_config(config)["iteration"] == 1
    posenb.create_training_dataset(config, num_shuffles=1)

    it1 = project / "training-datasets" / "iteration-1" / f"UnaugmentedDataSet_{cfg['Task']}{cfg['date']}"
    merged = read_labels(it1 / f"CollectedData_{scorer_human}.h5")
    it0 = read_labels(it1.parent.parent / "iteration-0" / it1.name / f"CollectedData_{scorer_human}.h5")
    assert len(merged) == len(it0) + len(picked)
    name_of = {frame_index(img[2]): img[2] for img in session.images}
    for f in picked:
        row = merged.loc[("labeled-data", "demo_mouse", name_of[f])]
        np.testing.assert_allclose(row.to_numpy().reshape(-1, 2), truth[f], atol=1e-9)
    assert (project / "dlc-models" / "iteration-1").is_dir() or (
        project / "dlc-models-pytorch" / "iteration-1"
    ).is_dir()
