"""A part that is often hidden (label NaN = not visible, DeepLabCut's convention) gets a low likelihood where it is
hidden, so p-cutoff removes it (the recipe's weigh_only_present_joints=False: its score map is trained to zero)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from trained_demo import LEARN


def _hidden_snout_project(base: Path) -> str:
    """Demo project whose labeled frames (rendered straight to PNG, 128x96) hide the snout in every other frame."""
    import cv2

    from posenb.data.trainingset import create_training_dataset
    from posenb.demo import make_demo_project
    from posenb.demo.synthetic import DEMO_BODYPARTS, _floor, render_frame, simulate_trajectory
    from posenb.io.labels import array_to_labels, write_labels
    from posenb.project.config import read_config

    config = make_demo_project(base, n_frames=30, n_labeled=2, width=128, height=96)
    cfg = read_config(config)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    for old in folder.glob("*.png"):
        old.unlink()
    traj = simulate_trajectory(240, 128, 96, seed=5)
    background = _floor(128, 96, seed=5)
    idx = np.arange(0, 240, 6)  # 40 frames
    hidden = np.arange(len(idx)) % 2 == 1
    images = []
    for j, i in enumerate(idx):
        img = render_frame(background, traj["center"][i], traj["heading"][i], traj["body_length"],
                           hidden=("snout",) if hidden[j] else ())
        cv2.imwrite(str(folder / f"img{j:03d}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        images.append(("labeled-data", "demo_mouse", f"img{j:03d}.png"))
    keypoints = traj["keypoints"][idx].copy()
    keypoints[hidden, 0] = np.nan
    write_labels(array_to_labels(keypoints, cfg["scorer"], DEMO_BODYPARTS, images),
                 folder / f"CollectedData_{cfg['scorer']}.h5", backup=False)
    create_training_dataset(config)
    return config


def test_hidden_part_gets_a_low_likelihood(tmp_path):
    import yaml

    from posenb.data.trainingset import read_training_split
    from posenb.infer.evaluate import predict_images
    from posenb.infer.predictor import load_predictor
    from posenb.io.labels import labels_to_array
    from posenb.project.config import read_config
    from posenb.train.api import get_train_dir, train_network

    config = _hidden_snout_project(tmp_path)
    cfg = read_config(config)
    train_dir, _ = get_train_dir(cfg, 1)
    pose_cfg = yaml.safe_load((train_dir / "pose_cfg.yaml").read_text())
    assert pose_cfg["weigh_only_present_joints"] is False
    assert "parts [0] are unlabeled" in pose_cfg["recipe"]["weigh_only_present_joints"]

    train_network(config, maxiters=80, displayiters=20, saveiters=80, progress=False, **LEARN)
    data, train_idx, test_idx, _ = read_training_split(cfg, 1, 0)
    labels = labels_to_array(data, cfg["bodyparts"])
    predictor, _ = load_predictor(cfg, 1, 0)
    pred = predict_images(predictor, Path(cfg["project_path"]), list(data.index))
    snout_hidden = np.isnan(labels[:, 0, 0])
    likelihood = pred[:, 0, 2]
    pcutoff = 0.5  # the demo project's
    # measured: hidden frames ~0.0x, visible ~0.9 (train and test frames alike)
    assert (likelihood[snout_hidden] < pcutoff).mean() >= 0.9, likelihood[snout_hidden]
    assert np.median(likelihood[~snout_hidden]) > pcutoff, likelihood[~snout_hidden]
    test_hidden = [i for i in test_idx if snout_hidden[i]]
    assert all(likelihood[i] < pcutoff for i in test_hidden), likelihood[test_hidden]
