"""PoseDataset: item shapes, collate, coordinates, determinism, errors; the openfield project."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from posenb.data.augment import to_original
from posenb.data.dataset import IMAGENET_MEAN, IMAGENET_STD, PoseDataset
from posenb.errors import LabelError


@pytest.fixture
def frames(tmp_path):
    """Six 80x64 PNG frames (red background, BGR on disk) with 3 white-dot joints; one joint unlabelled."""
    rng = np.random.default_rng(0)
    paths, kps = [], []
    for i in range(6):
        img = np.zeros((64, 80, 3), np.uint8)
        img[..., 2] = 120  # red in BGR
        kp = np.stack([rng.uniform(8, 72, 3), rng.uniform(8, 56, 3)], axis=1)
        for x, y in kp:
            cv2.circle(img, (round(x * 16), round(y * 16)), 3 * 16, (255, 255, 255), -1, cv2.LINE_AA, shift=4)
        if i == 2:
            kp[1] = np.nan
        path = tmp_path / f"img{i:04d}.png"
        cv2.imwrite(str(path), img)
        paths.append(path)
        kps.append(kp)
    return paths, np.array(kps)


def test_training_items_have_fixed_shapes_and_collate(frames):
    paths, kp = frames
    params = dict(global_scale=1.0, crop_size=(64, 48), rotratio=0.5)
    ds = PoseDataset(paths, kp, params, augment=True, seed=0)
    assert len(ds) == 6 and ds.num_joints == 3
    assert ds.input_size == (48, 64)  # crop smaller than the frames
    item = ds[0]
    assert item["image"].shape == (3, 48, 64) and item["image"].dtype == torch.float32
    assert item["heatmap"].shape == (3, 6, 8)
    assert item["locref"].shape == item["locref_mask"].shape == (6, 6, 8)
    assert item["weight"].shape == (3,) and item["keypoints"].shape == (3, 2)
    assert item["matrix"].shape == (2, 3) and item["index"].item() == 0
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4, shuffle=False)))
    assert batch["image"].shape == (4, 3, 48, 64)
    assert batch["heatmap"].shape == (4, 3, 6, 8)
    assert batch["weight"].shape == (4, 3)
    assert batch["index"].tolist() == [0, 1, 2, 3]


def test_canvas_shrinks_to_the_largest_jittered_image(frames):
    paths, kp = frames
    ds = PoseDataset(paths, kp, dict(global_scale=0.5, crop_size=400, scale_jitter_up=1.25), augment=True)
    assert ds.input_size == (40, 50)  # ceil(32 * 1.25), ceil(40 * 1.25)
    ev = PoseDataset(paths, kp, dict(global_scale=0.5, crop_size=16), augment=False)
    assert ev.input_size == (32, 40)  # evaluation never crops


def test_evaluation_items_map_back_to_the_labels(frames):
    paths, kp = frames
    ds = PoseDataset(paths, kp, dict(global_scale=0.5), augment=False)
    for i in range(len(ds)):
        item = ds[i]
        back = to_original(item["keypoints"].numpy(), item["matrix"].double().numpy())
        np.testing.assert_allclose(back, kp[i], atol=1e-3)
        assert item["weight"].tolist() == ([1.0, 0.0, 1.0] if i == 2 else [1.0, 1.0, 1.0])
    assert torch.isnan(ds[2]["keypoints"][1]).all()


def test_images_are_rgb_and_imagenet_normalised(frames):
    paths, kp = frames
    ds = PoseDataset(paths, kp, dict(global_scale=1.0), augment=False)
    image = ds[0]["image"]
    # background: R = 120, G = B = 0
    expected = [(120 / 255 - IMAGENET_MEAN[0]) / IMAGENET_STD[0], -IMAGENET_MEAN[1] / IMAGENET_STD[1],
                -IMAGENET_MEAN[2] / IMAGENET_STD[2]]  # fmt: skip
    np.testing.assert_allclose(image[:, 0, 0].numpy(), expected, atol=1e-5)


def test_training_keypoints_sit_on_the_dots(frames):
    """Augmented keypoints are where the white dots are in the augmented, normalised image."""
    paths, kp = frames
    ds = PoseDataset(paths, kp, dict(global_scale=1.0, crop_size=(80, 64), brightness=0, contrast=0, blur=0,
                                     motion_blur=False, gaussian_noise=0), augment=True, seed=3)  # fmt: skip
    checked = 0
    for i in range(len(ds)):
        item = ds[i]
        green = (
            item["image"][1].numpy() * IMAGENET_STD[1] + IMAGENET_MEAN[1]
        )  # dots are white, background red
        for x, y in item["keypoints"].numpy():
            if np.isfinite(x) and 3 < x < 76 and 3 < y < 60:
                assert green[int(round(y)), int(round(x))] > 0.6
                checked += 1
    assert checked > 8


def test_targets_follow_the_keypoints(frames):
    paths, kp = frames
    ds = PoseDataset(paths, kp, dict(global_scale=1.0), augment=True, seed=1)
    item = ds[4]
    for k, (x, y) in enumerate(item["keypoints"].numpy()):
        if np.isfinite(x):
            hm = item["heatmap"][k]
            i, j = np.unravel_index(int(hm.argmax()), hm.shape)
            assert (i, j) == (int(y // 8), int(x // 8))
            assert item["weight"][k] == 1
        else:
            assert item["weight"][k] == 0 and item["heatmap"][k].max() == 0


def test_seed_and_epoch_make_augmentation_reproducible(frames):
    paths, kp = frames
    a = PoseDataset(paths, kp, dict(rotratio=1.0), augment=True, seed=5)
    b = PoseDataset(paths, kp, dict(rotratio=1.0), augment=True, seed=5, cache=False)
    assert torch.equal(a[3]["image"], b[3]["image"])
    assert torch.equal(a[3]["image"], a[3]["image"])
    first = a[3]["image"].clone()
    a.set_epoch(1)
    assert not torch.equal(a[3]["image"], first)
    unseeded = PoseDataset(paths, kp, dict(rotratio=1.0), augment=True)
    assert not torch.equal(unseeded[3]["image"], unseeded[3]["image"])


def test_bad_inputs_are_label_errors(frames, tmp_path):
    paths, kp = frames
    with pytest.raises(LabelError, match="shape"):
        PoseDataset(paths, kp[:3], {})
    with pytest.raises(LabelError, match="missing.png"):
        PoseDataset([*paths[:5], tmp_path / "missing.png"], kp, {})
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(LabelError, match="broken.png"):
        PoseDataset([*paths[:5], broken], kp, {})


@pytest.mark.shared
def test_openfield_project_loads(openfield_dir):
    import pandas as pd

    df = pd.read_hdf(openfield_dir / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5")
    paths = [openfield_dir / p for p in df.index]
    kp = df.to_numpy().reshape(len(df), -1, 2)
    ds = PoseDataset(paths, kp, dict(global_scale=0.5, crop_size=(400, 400)), augment=True, seed=0)
    assert len(ds) == 116 and ds.input_size == (300, 400)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=8)))
    assert batch["image"].shape == (8, 3, 300, 400) and batch["heatmap"].shape == (8, 4, 38, 50)
    ev = PoseDataset(paths[:4], kp[:4], dict(global_scale=0.5), augment=False)
    assert ev.input_size == (240, 320)
