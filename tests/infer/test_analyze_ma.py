"""analyze_videos and evaluate_network on a multi-animal project, end to end with a trained top-down model.

A tiny synthetic two-animal project (tests/train/ma_synth.py: a big bright and a small grey animal, 3 parts each,
identity on) is trained for a few dozen iterations once per module; the video analysed shows two such animals
moving smoothly, with known key points, so the file written is scored against the truth and can be tracked.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ma_synth import BODYPARTS, INDIVIDUALS, make_ma_project

from posenb.infer.ma_metrics import matched_errors
from posenb.io.detections import read_detections

ITERS = 40
FAST = {"batch_size": 8, "warmup_iters": 5, "lr": 2e-3, "gaussian_noise": 0.0, "display_iters": 20}
N_VIDEO = 24


def moving_frames(n: int, size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """A video's worth of ma_synth-style frames whose two animals move and turn smoothly (so they can be tracked):
    ``(n, size, size, 3)`` uint8 and their key points ``(n, 2, 3, 2)`` (head, body, tail)."""
    import cv2

    t = np.linspace(0, 1, n)
    centres = np.stack(
        [np.stack([25 + 45 * t, 25 + 15 * t], -1), np.stack([70 - 42 * t, 72 - 10 * t], -1)], 1
    )
    angles = np.stack([1.0 * t, 2.0 + 1.0 * t], 1)
    images = np.zeros((n, size, size, 3), np.uint8)
    coords = np.zeros((n, 2, 3, 2))
    for i in range(n):
        for a, (half, value) in enumerate(((12, 255), (8, 150))):
            c = centres[i, a]
            d = np.array([np.cos(angles[i, a]), np.sin(angles[i, a])]) * half
            head, tail = c + d, c - d
            cv2.line(
                images[i], tuple(map(int, np.round(tail))), tuple(map(int, np.round(head))), (value,) * 3, 4
            )
            cv2.circle(images[i], tuple(map(int, np.round(head))), 4 if a == 0 else 3, (value, value, 0), -1)
            coords[i, a] = [head, c, tail]
    return images, coords


@pytest.fixture(scope="module")
def trained_ma(tmp_path_factory):
    from posenb import create_training_dataset, train_network
    from posenb.io.video import write_video

    root = tmp_path_factory.mktemp("ma-e2e")
    config = make_ma_project(root, n=10, identity=True)
    create_training_dataset(config)
    train_network(config, maxiters=ITERS, progress=False, **FAST)
    frames, coords = moving_frames(N_VIDEO)
    video = Path(write_video(root / "pair.mp4", list(frames), fps=10))
    return config, video, coords


def test_analyze_videos_writes_the_animals_of_every_frame(trained_ma, tmp_path):
    from posenb import analyze_videos

    config, video, coords = trained_ma
    scorer = analyze_videos(config, [str(video)], destfolder=tmp_path, auto_track=False)
    assert scorer.startswith("DLC_") and scorer.endswith(f"shuffle1_{ITERS}")
    det = tmp_path / f"pair{scorer}_detections.h5"
    out = read_detections(det)
    assert out["poses"].shape == (N_VIDEO, 2, 3, 3) and out["scores"].shape == (N_VIDEO, 2)
    assert out["identity"].shape == (N_VIDEO, 2, 2) and out["unique"] is None
    assert out["bodyparts"] == BODYPARTS and out["individuals"] == INDIVIDUALS and out["scorer"] == scorer
    assert out["nframes"] == N_VIDEO and out["fps"] == pytest.approx(10) and out["video"] == str(video)
    found = np.isfinite(out["scores"])
    assert (np.diff(np.where(found, out["scores"], -1), axis=1) <= 0).all()  # best animal first
    res = matched_errors(coords, out["poses"])
    assert res["missed"].sum() <= 12  # of 48 animals (0 to 5 measured: the model is barely trained)
    error = np.nanmedian(res["error"])
    # px, on 96 px frames with 16-24 px animals after a few dozen iterations (4.7 and 6.4 measured)
    assert error < 10.0
    shifted = np.nanmedian(matched_errors(np.roll(coords, N_VIDEO // 2, axis=0), out["poses"])["error"])
    assert shifted > 2 * error  # the animals of each frame are that frame's
    meta = pickle.loads((tmp_path / f"pair{scorer}_meta.pickle").read_bytes())["data"]
    assert meta["nframes"] == N_VIDEO and meta["Scorer"] == scorer and meta["individuals"] == INDIVIDUALS

    mtime = det.stat().st_mtime_ns
    analyze_videos(config, [str(video)], destfolder=tmp_path, auto_track=False)
    assert det.stat().st_mtime_ns == mtime  # complete: skipped
    det.write_bytes(det.read_bytes()[:3000])  # truncated (a crash while copying, a full disk)
    analyze_videos(config, [str(video)], destfolder=tmp_path, auto_track=False)
    np.testing.assert_allclose(read_detections(det)["poses"], out["poses"], atol=1e-4)


def test_analyze_videos_auto_track_call_site(trained_ma, tmp_path):
    from posenb import analyze_videos

    config, video, _ = trained_ma
    try:
        import posenb.track  # noqa: F401
    except ImportError:
        with pytest.warns(UserWarning, match="no tracking stage"):
            scorer = analyze_videos(config, [str(video)], destfolder=tmp_path, batchsize=5)
        assert (tmp_path / f"pair{scorer}_detections.h5").is_file()
    else:
        from posenb.io.safe_hdf5 import read_hdf_table

        scorer = analyze_videos(config, [str(video)], destfolder=tmp_path, n_tracks=2)
        tracked = read_hdf_table(tmp_path / f"pair{scorer}_el.h5")
        assert len(tracked) == N_VIDEO
        assert list(dict.fromkeys(tracked.columns.get_level_values("individuals"))) == INDIVIDUALS


def test_evaluate_network_multianimal(trained_ma):
    from posenb import evaluate_network
    from posenb.infer.evaluate import RESULT_COLUMNS
    from posenb.infer.evaluate_ma import MA_COLUMNS
    from posenb.io.safe_hdf5 import read_hdf_table
    from posenb.project.config import read_config

    config, _, _ = trained_ma
    df = evaluate_network(config, plotting=True, show_errors=False)
    assert list(df.columns) == RESULT_COLUMNS + MA_COLUMNS and len(df) == 1
    row = df.iloc[0]
    assert row["Training iterations:"] == ITERS and row["Shuffle number"] == 1
    assert 0 <= row[" Train error(px)"] < 10 and 0 <= row[" Test error(px)"] < 15  # 6.0 and 6.9 measured
    assert 0 <= row["Train mAP"] <= 100 and 0 <= row["Test mAR"] <= 100
    assert row["Train animals missed"] <= 4 and 0 <= row["Train identity accuracy"] <= 1  # of 16 animals
    cfg = read_config(config)
    folder = next((Path(cfg["project_path"]) / "evaluation-results" / "iteration-0").glob("*shuffle1"))
    results = pd.read_csv(next(folder.glob("*-results.csv")), index_col=0)
    assert list(results.columns) == RESULT_COLUMNS + MA_COLUMNS
    combined = pd.read_csv(folder.parent / "CombinedEvaluation-results.csv", index_col=0)
    assert len(combined) == 1
    keypoint = pd.read_csv(next(folder.glob("*-keypoint-results.csv")), index_col=0)
    assert list(keypoint.columns) == BODYPARTS
    preds = read_hdf_table(next(folder.glob(f"*-snapshot-{ITERS}.h5")))
    assert list(preds.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert preds.shape == (10, 2 * 3 * 3)
    # the numbers of the results file are those of the predictions file against the labels
    from posenb.data.ma_trainingset import read_ma_training_split
    from posenb.io.label_arrays import table_to_arrays

    data, train_idx, _, _ = read_ma_training_split(cfg, 1, 0)
    labels = table_to_arrays(data, BODYPARTS, INDIVIDUALS).points
    poses = preds.to_numpy().reshape(10, 2, 3, 3)
    res = matched_errors(labels, poses, float(cfg.get("pcutoff", 0.6)))
    assert res["missed"][train_idx].sum() == row["Train animals missed"]
    cells = res["error"][train_idx]
    assert np.nanmean(cells) == pytest.approx(row[" Train error(px)"], abs=0.006)
    plots = sorted(p.name for p in next(folder.glob("LabeledImages_*")).iterdir())
    assert len(plots) == 10 and sum(p.startswith("Training-") for p in plots) == 8
