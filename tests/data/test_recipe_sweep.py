"""The synthetic sweep of benchmarks/bench_recipe.py is built right: frame sizes, exact ground-truth labels, hidden
parts, and the recipe the labels give (no training here; the benchmark trains)."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"

#: RGB colours the demo draws each part's marker with (posenb/demo/synthetic.py draw_animal)
COLOURS = {
    "snout": (240, 120, 120),
    "leftear": (230, 150, 160),
    "rightear": (160, 200, 240),
    "tailbase": (120, 230, 120),
}


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        import bench_recipe
    finally:
        sys.path.remove(str(BENCH))
    return bench_recipe


def _project(config: Path):
    from posenb.io.labels import labels_to_array, read_labels
    from posenb.project.config import read_config
    from posenb.train.api import get_train_dir

    cfg = read_config(config)
    folder = config.parent / "labeled-data" / "synthetic"
    data = read_labels(folder / "CollectedData_gt.h5")
    labels = labels_to_array(data, list(cfg["bodyparts"]))
    images = [
        cv2.cvtColor(cv2.imread(str(config.parent.joinpath(*idx))), cv2.COLOR_BGR2RGB) for idx in data.index
    ]
    pose = yaml.safe_load((get_train_dir(cfg, 1)[0] / "pose_cfg.yaml").read_text())
    return cfg, labels, np.stack(images), pose


@pytest.mark.parametrize(
    ("factor", "layout", "spacing", "scale"),
    [
        (1, "close", (8.0, 11.0), 1.0),  # a 30 px animal: parts ~9.5 px apart at every size, never shrunk
        (2, "far", (30.0, 36.0), 0.61),  # 0.22 x 480 px animal: parts ~33 px apart, kept 2.5 cells apart
    ],
)
def test_sweep_data_set_sizes_truth_and_recipe(bench, tmp_path, factor, layout, spacing, scale):
    from posenb.demo.synthetic import DEMO_BODYPARTS, simulate_trajectory

    n = 8
    config = bench.setup_synthetic(tmp_path, factor, layout, n_labeled=n)
    cfg, labels, images, pose = _project(config)
    w, h = 320 * factor, 240 * factor
    assert images.shape == (n, h, w, 3)
    assert list(cfg["bodyparts"]) == DEMO_BODYPARTS and cfg["TrainingFraction"] == [0.8]

    body = 0.22 * min(w, h) if layout == "far" else 30.0
    truth = simulate_trajectory(n * 5, w, h, seed=factor, body_length=body)["keypoints"][::5]
    seen = np.isfinite(labels).all(-1)
    assert (
        seen[:, 1:].all() and not seen[:, 0].all()
    )  # only the snout is ever hidden (here in 1 and 3 frames)
    np.testing.assert_allclose(labels[seen], truth[seen])  # the labels are the exact ground truth
    for f in range(n):  # each visible part's marker is drawn where its label is
        for k, name in enumerate(DEMO_BODYPARTS):
            x, y = np.rint(truth[f, k]).astype(int)
            colour = images[f, y, x].astype(int)
            near = np.abs(colour - COLOURS[name]).max() <= 45
            assert near == bool(seen[f, k]), (f, name, colour)

    nearest = np.linalg.norm(truth[:, :3, None] - truth[:, None, :3], axis=-1)
    nearest[:, range(3), range(3)] = np.inf
    assert spacing[0] < np.median(nearest.min(-1)) < spacing[1]
    assert pose["global_scale"] == pytest.approx(scale, abs=0.02)
    assert pose["crop_size"] == [160, 160] and pose["max_iters"] == 2000 and pose["max_minutes"] == 12.0
