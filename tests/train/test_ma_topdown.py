"""Multi-animal (top-down) training sets, datasets, training and the predictor, on tiny synthetic two-animal frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from ma_synth import BODYPARTS, INDIVIDUALS, draw_frames, make_ma_project

from posenb.data.ma_dataset import (
    CentroidDataset,
    InstanceDataset,
    animal_anchors,
    apply_matrix,
    choose_anchor,
    crop_matrix,
    invert_points,
    warp_crop,
)
from posenb.data.ma_trainingset import ma_label_arrays, read_ma_table, read_ma_training_split
from posenb.nn.topdown import find_peaks, identity_probabilities
from posenb.project.config import project_parts, read_config

#: cheap settings for the synthetic frames (the recipe's budget is minutes; these are seconds)
FAST = {"batch_size": 8, "warmup_iters": 5, "lr": 2e-3, "gaussian_noise": 0.0, "display_iters": 10}


@pytest.fixture
def ma_project(tmp_path):
    return make_ma_project(tmp_path, n=10, identity=True)


def test_create_training_dataset_writes_madlc_layout(ma_project):
    from posenb import create_training_dataset

    splits = create_training_dataset(ma_project)
    (fraction, shuffle, train, test) = splits[0]
    assert (fraction, shuffle, len(train), len(test)) == (0.8, 1, 8, 2)
    cfg = read_config(ma_project)
    data, tr, te, _ = read_ma_training_split(cfg, 1, 0)
    assert sorted(tr) == sorted(train) and sorted(te) == sorted(test)
    assert list(data.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert data.shape == (10, 2 * 3 * 2)
    coords, _ = ma_label_arrays(data, project_parts(cfg))
    _, labels = draw_frames(10)
    np.testing.assert_allclose(coords, labels)
    root = read_config(ma_project)["project_path"]
    tset = f"{root}/training-datasets/iteration-0/UnaugmentedDataSet_maDec2"
    assert read_ma_table(f"{tset}/CollectedData_synth.csv").shape == (10, 12)
    for name in ("ma_synth80shuffle1.pickle", "Documentation_data-ma_80shuffle1.pickle", "metadata.yaml"):
        assert (Path(tset) / name).is_file(), name
    model = f"{root}/dlc-models/iteration-0/maDec2-trainset80shuffle1"
    pose_cfg = yaml.safe_load(open(f"{model}/train/pose_cfg.yaml"))
    assert pose_cfg["multianimalproject"] is True and pose_cfg["individuals"] == INDIVIDUALS
    assert pose_cfg["all_joints_names"] == BODYPARTS and pose_cfg["num_idchannel"] == 2
    assert pose_cfg["ma_anchor"] == "body"  # the central part
    assert pose_cfg["crop_size"][0] % 32 == 0 and 0 < pose_cfg["ma_centroid_scale"] <= 1
    assert "ma_centroid_scale" in pose_cfg["recipe"]
    test_cfg = yaml.safe_load(open(f"{model}/test/pose_cfg.yaml"))
    assert test_cfg["ma_anchor"] == "body" and test_cfg["individuals"] == INDIVIDUALS


def test_anchor_and_crop_geometry():
    _, coords = draw_frames(6)
    assert choose_anchor(coords) == 1
    coords[0, 0, 1] = np.nan  # body unlabeled: the mean of head and tail (= the body here) stands in
    anchors = animal_anchors(coords, 1)
    np.testing.assert_allclose(anchors[0, 0], (coords[0, 0, 0] + coords[0, 0, 2]) / 2)
    m = crop_matrix((40.0, 30.0), 0.5, 33, angle=30)
    np.testing.assert_allclose(apply_matrix(m, [40.0, 30.0]), [16.0, 16.0])
    pts = np.array([[1.0, 2.0], [50.0, 7.5]])
    np.testing.assert_allclose(invert_points(m, apply_matrix(m, pts)), pts)
    image = np.zeros((60, 80, 3), np.uint8)
    image[30, 40] = 255  # one bright pixel lands on the crop centre
    crop = warp_crop(image, crop_matrix((40, 30), 1.0, 9), 9)
    assert np.unravel_index(crop[..., 0].argmax(), (9, 9)) == (4, 4)


def test_instance_and_centroid_items(tmp_path, ma_project):
    cfg = read_config(ma_project)
    root = cfg["project_path"]
    images = [f"{root}/labeled-data/vid/img{i:03d}.png" for i in range(4)]
    _, coords = draw_frames(10)
    coords = coords[:4]
    anchors = animal_anchors(coords, 1)
    ds = InstanceDataset(images, coords, anchors, 64, 1.0, augment=False, identity=True)
    assert len(ds) == 8 and ds.num_joints == 5
    item = ds[3]  # frame 1, animal 1 ("small")
    assert item["image"].shape == (3, 64, 64) and item["heatmap"].shape == (5, 8, 8)
    np.testing.assert_allclose(item["keypoints"][1].numpy(), [31.5, 31.5], atol=1e-4)  # anchor at the centre
    ident = item["heatmap"][3:]
    assert ident[0].max() == 0 and ident[1].max() > 0.5 and item["weight"][3:].tolist() == [1.0, 1.0]
    aug = InstanceDataset(images, coords, anchors, 64, 1.0, augment=True, identity=False, seed=1)
    assert aug[0]["heatmap"].shape == (3, 8, 8)
    params = {"global_scale": 1.0, "crop_size": (96, 96), "pos_dist_thresh": 8.0}
    cds = CentroidDataset(images, anchors, params, augment=False)
    item = cds[0]
    assert item["heatmap"].shape == (1, 12, 12) and item["weight"].tolist() == [1.0]
    heat = item["heatmap"][None]
    peaks = find_peaks(torch.logit(heat.clamp(1e-4, 1 - 1e-4)), item["locref"][None], threshold=0.5)[0]
    assert len(peaks) == 2
    for a in range(2):
        assert np.min(np.hypot(*(peaks[:, :2] - anchors[0, a]).T)) < 1.0  # locref recovers each anchor


def test_find_peaks_threshold_max_and_distance():
    heat = torch.full((1, 1, 10, 10), -8.0)
    heat[0, 0, 2, 3], heat[0, 0, 7, 7], heat[0, 0, 7, 9] = 3.0, 1.0, 0.5
    peaks = find_peaks(heat, None, threshold=0.5, max_peaks=5)[0]
    assert peaks.shape == (3, 3) and peaks[0, 0] == 3 * 8 + 4 and peaks[0, 1] == 2 * 8 + 4
    assert find_peaks(heat, None, threshold=0.7, max_peaks=5)[0].shape == (2, 3)
    assert find_peaks(heat, None, threshold=0.5, max_peaks=1)[0].shape == (1, 3)
    assert find_peaks(heat, None, threshold=0.5, max_peaks=5, min_distance=20)[0].shape == (2, 3)
    probs = identity_probabilities(torch.tensor([[[[4.0]], [[-4.0]]]]))
    assert probs.shape == (1, 2) and probs[0, 0] > 0.9 and abs(probs.sum() - 1) < 1e-6


@pytest.fixture(scope="module")
def trained_ma(tmp_path_factory) -> str:
    """A synthetic two-animal project (16 frames, identity) trained 60 iterations per model (~1 min of CPU)."""
    from posenb import create_training_dataset, train_network

    config = make_ma_project(tmp_path_factory.mktemp("ma-trained"), n=16, identity=True)
    create_training_dataset(config)
    train_network(config, maxiters=60, progress=False, **FAST)
    return config


def test_trained_model_finds_both_animals(trained_ma):
    from posenb.infer.ma_predictor import load_ma_predictor

    pred = load_ma_predictor(trained_ma, device="cpu")
    frames, labels = draw_frames(8, seed=99)  # frames the model never saw
    out = pred.predict_animals(frames)
    assert np.isfinite(out["scores"]).all()  # two animals in every frame
    dist = np.linalg.norm(out["poses"][:, :, None, :, :2] - labels[:, None], axis=-1).mean(
        -1
    )  # (B, pred, true)
    assert (dist.min(axis=1) < 10).all(), dist.min(axis=1)  # each labeled animal has its prediction (~3-7 px)
    assert (np.diff(out["scores"], axis=1) <= 0).all()  # sorted by score


def test_train_network_and_predictor_mechanics(trained_ma, tmp_path):
    import shutil

    from posenb import train_network
    from posenb.infer.ma_predictor import MAPredictor, load_ma_predictor

    src = Path(trained_ma).parent
    config = shutil.copytree(src, tmp_path / src.name) / "config.yaml"
    read_config(config)  # repairs project_path
    pred = load_ma_predictor(config, device="cpu")
    train_dir = pred.snapshot.parent
    assert pred.snapshot.name == "snapshot-60.pt" and pred.centroid_snapshot.parent == train_dir / "centroid"
    assert "top-down instance model" in (train_dir / "train.log").read_text()
    assert pred.bodyparts == BODYPARTS and pred.individuals == INDIVIDUALS and pred.identity
    assert pred.max_animals == 2 and pred.iteration == 60
    frames, _ = draw_frames(3, seed=7)
    out = pred.predict_animals(frames)
    assert out["poses"].shape == (3, 2, 3, 3) and out["poses"].dtype == np.float32
    assert out["scores"].shape == (3, 2) and out["identity"].shape == (3, 2, 2) and out["unique"] is None
    np.testing.assert_allclose(out["identity"].sum(-1), 1.0, rtol=1e-5)
    found = np.isfinite(out["scores"])
    assert (np.isfinite(out["poses"][..., 0]) == found[..., None]).all()
    one = MAPredictor.from_snapshots(pred.snapshot, pred.centroid_snapshot, device="cpu", max_animals=1)
    assert one.predict_animals(frames[0])["poses"].shape == (1, 1, 3, 3)
    # resuming: a second call continues both models from their snapshots
    train_network(config, maxiters=61, progress=False, **FAST)
    assert (train_dir / "snapshot-61.pt").is_file() and (train_dir / "centroid" / "snapshot-61.pt").is_file()
