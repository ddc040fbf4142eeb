"""Multi-animal projects with a unique (scene) body part, and the run marker of a multi-animal training.

A tiny synthetic two-animal project (ma_synth: a big and a small animal, 3 parts each) with a green square "food"
anywhere in each frame (the unique part, labeled under the individual "single") is trained once per module. The
centroid model places the food; analyze_videos writes it in the detections' ``unique`` and the tracked file's
``single`` columns; evaluate_network reports its error. While it trains, the run marker names the phase and its
log, so the dashboard's monitor follows it (posenb.train.follow).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ma_synth import UNIQUE, draw_food, draw_frames, make_ma_project

from posenb.train import follow

pytestmark = pytest.mark.slow  # one small training per module (1-2 min of CPU, longer on a loaded machine)

FAST = {"batch_size": 8, "warmup_iters": 5, "lr": 2e-3, "gaussian_noise": 0.0, "display_iters": 10}
ITERS = 80


@pytest.fixture(scope="module")
def trained_unique(tmp_path_factory):
    """(config, train folder, what the run marker said at each display event) of a 80-iteration training."""
    from posenb import create_training_dataset, train_network
    from posenb.project.config import read_config
    from posenb.project.paths import get_train_dir

    config = make_ma_project(tmp_path_factory.mktemp("ma-unique"), n=16, unique=True)
    create_training_dataset(config)
    train_dir, _ = get_train_dir(read_config(config), 1, 0)
    seen = []

    def watch(event):  # what another process would see while this training runs
        if event.kind == "display":
            marker = follow.read_run_marker(train_dir) or {}
            stats = follow.run_stats_path(train_dir)
            rows = follow.read_learning_stats(stats)
            seen.append(
                (marker.get("phase"), marker.get("max_iters"), stats, rows[-1].iteration if rows else None)
            )

    train_network(config, maxiters=ITERS, progress=False, callbacks=[watch], **FAST)
    return config, train_dir, seen


def test_run_marker_follows_both_phases(trained_unique):
    _, train_dir, seen = trained_unique
    phases = [s[0] for s in seen]
    assert phases[0] == "centroid" and phases[-1] == "pose" and sorted(set(phases)) == ["centroid", "pose"]
    assert phases == sorted(phases)  # centroid first, then pose, no going back
    for phase, max_iters, stats, last in seen:
        want = (
            train_dir / "centroid" / follow.STATS_FILE
            if phase == "centroid"
            else train_dir / follow.STATS_FILE
        )
        assert stats == want and max_iters == ITERS
        assert last is not None and last > 0  # the log the marker names already has this phase's rows
    assert follow.read_run_marker(train_dir) is None and not follow.training_active(train_dir, idle_s=0)
    assert follow.run_stats_path(train_dir) == train_dir / follow.STATS_FILE  # no run: the pose model's log
    for folder in (train_dir / "centroid", train_dir):
        rows = follow.read_learning_stats(folder / follow.STATS_FILE)
        assert [r.iteration for r in rows] == list(range(10, ITERS + 1, 10))
        assert all(np.isfinite(r.loss) for r in rows)


def test_stop_request_stops_a_multianimal_training(trained_unique, tmp_path):
    import shutil

    from posenb import train_network
    from posenb.nn.snapshots import list_snapshots
    from posenb.project.config import read_config

    src = Path(trained_unique[0]).parent
    config = shutil.copytree(src, tmp_path / src.name) / "config.yaml"
    read_config(config)  # repairs project_path
    train_dir = Path(str(trained_unique[1]).replace(str(src), str(tmp_path / src.name)))
    for old in train_dir.rglob("snapshot-*"):
        old.unlink()

    def stop_in_centroid_phase(event):
        if event.kind == "display" and (follow.read_run_marker(train_dir) or {}).get("phase") == "centroid":
            follow.request_stop(train_dir)  # as the dashboard of another kernel does

    train_network(config, maxiters=400, progress=False, callbacks=[stop_in_centroid_phase], **FAST)
    centroid = list_snapshots(train_dir / "centroid")
    assert len(centroid) == 1 and 10 <= int(centroid[0].stem.split("-")[1]) < 400  # stopped, snapshot saved
    assert list_snapshots(train_dir) == []  # the pose model was not started
    assert follow.read_run_marker(train_dir) is None and not (train_dir / follow.STOP_REQUEST).exists()


def test_centroid_model_predicts_the_unique_part(trained_unique):
    from posenb.infer.ma_predictor import load_ma_predictor

    pred = load_ma_predictor(trained_unique[0], device="cpu")
    assert pred.unique_bodyparts == UNIQUE
    frames, _ = draw_frames(8, seed=99)  # frames the model never saw
    food = draw_food(frames, seed=99)
    out = pred.predict_animals(frames)
    assert out["unique"].shape == (8, 1, 3) and out["unique"].dtype == np.float32
    err = np.linalg.norm(out["unique"][..., :2] - food, axis=-1)
    assert np.median(err) < 4.0, err
    assert ((out["unique"][..., 2] > 0) & (out["unique"][..., 2] <= 1)).all()  # 0.1-0.5: barely trained


def _food_video(root: Path, n: int = 12) -> tuple[Path, np.ndarray]:
    from posenb.io.video import write_video

    frames, _ = draw_frames(n, seed=5)
    food = draw_food(frames, seed=5)
    return Path(write_video(root / "scene.mp4", list(frames), fps=10)), food


def test_analyze_and_evaluate_report_the_unique_part(trained_unique, tmp_path):
    from posenb import analyze_videos, evaluate_network
    from posenb.io.detections import read_detections
    from posenb.track.files import read_tracked

    config = trained_unique[0]
    video, food = _food_video(tmp_path)
    scorer = analyze_videos(config, [str(video)], destfolder=tmp_path, auto_track=True)
    det = read_detections(tmp_path / f"scene{scorer}_detections.h5")
    assert det["uniquebodyparts"] == UNIQUE and det["unique"].shape == (len(food), 1, 3)
    assert np.median(np.linalg.norm(det["unique"][..., :2] - food, axis=-1)) < 5.0  # through mp4 compression
    tracked = read_tracked(tmp_path / f"scene{scorer}_el.h5")
    single = tracked[scorer]["single"]["food"]
    assert list(single.columns) == ["x", "y", "likelihood"]
    np.testing.assert_allclose(single.to_numpy(), det["unique"][:, 0], rtol=1e-5)

    evaluate_network(config, plotting=False)
    eval_dir = next((Path(config).parent / "evaluation-results").rglob("*-keypoint-results.csv"))
    table = pd.read_csv(eval_dir, index_col=0)
    assert "food" in table.columns
    # train and test error of the food (px; ~2 measured); its p-cutoff rows are NaN while the likelihood is < 0.6
    assert table.index[:2].str.contains("error").all()
    assert np.isfinite(table["food"].iloc[:2]).all() and table["food"].iloc[:2].max() < 5.0
