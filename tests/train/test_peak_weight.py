"""choose_peak_weight: the decoding's peak weight chosen on the training images, and what training stores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from posenb.data.targets import gaussian_sigma, make_targets
from posenb.nn import decode
from posenb.train.peak_weight import PEAK_WEIGHTS, choose_peak_weight

SIGMA = gaussian_sigma(17)


class _Images:
    """A dataset stand-in: ``network_input(i)`` -> (image, key points) at network scale."""

    def __init__(self, keypoints, hw=(96, 128)):
        self.keypoints, self.hw = keypoints, hw

    def __len__(self):
        return len(self.keypoints)

    def network_input(self, i):
        return np.full((*self.hw, 3), i, np.uint8), self.keypoints[i]


class _Net(nn.Module):
    """Exact Gaussian score maps of the true key points; locref biased by ``bias`` px in x and noisy in y."""

    stride, locref_std, heatmap_sigma, peak_weight = 8.0, 7.2801, SIGMA, 0.0

    def __init__(self, keypoints, bias):
        super().__init__()
        self.keypoints, self.bias = keypoints, bias

    def decode_outputs(self, heatmap, locref, peak_weight=None):  # as PoseModel's
        share = self.peak_weight if peak_weight is None else peak_weight
        return decode(heatmap, locref, self.stride, self.locref_std, heatmap_sigma=self.heatmap_sigma, peak_weight=share)

    @staticmethod
    def normalize(images, device=None):
        return torch.as_tensor(np.asarray(images)).permute(0, 3, 1, 2).float()

    def forward(self, x):
        which = x[:, 0, 0, 0].long().tolist()  # the stand-in images carry their index
        t = [make_targets(self.keypoints[i], tuple(x.shape[-2:])) for i in which]
        heat = torch.from_numpy(np.stack([a["heatmap"] for a in t])).clamp(1e-6, 1 - 1e-6)
        loc = torch.from_numpy(np.stack([a["locref"] for a in t]))
        loc[:, 0::2] += self.bias / self.locref_std
        return {"heatmap": torch.logit(heat), "locref": loc}


@pytest.fixture
def keypoints():
    rng = np.random.default_rng(3)
    kp = np.stack([rng.uniform(10, 118, (6, 3)), rng.uniform(10, 86, (6, 3))], axis=-1)
    kp[2, 1] = np.nan  # unlabeled points do not count
    return kp


def test_a_biased_locref_gets_the_peak_and_an_exact_one_keeps_locref_alone(keypoints):
    data = _Images(keypoints)
    weight, errors = choose_peak_weight(_Net(keypoints, bias=2.0), data, "cpu", batch_size=4)
    assert weight == 0.25 and set(errors) == set(PEAK_WEIGHTS)
    assert errors[0.0] == pytest.approx(2.0, abs=1e-3) and errors[0.25] == pytest.approx(1.5, abs=1e-3)
    weight, errors = choose_peak_weight(_Net(keypoints, bias=0.0), data, "cpu")
    assert weight == 0.0 and errors[0.0] == pytest.approx(0.0, abs=1e-3)  # a tie goes to locref alone


def test_without_a_score_map_width_or_labels_locref_stays_alone(keypoints):
    net = _Net(keypoints, bias=2.0)
    net.heatmap_sigma = None
    assert choose_peak_weight(net, _Images(keypoints), "cpu") == (0.0, {})
    unlabeled = np.full_like(keypoints, np.nan)
    assert choose_peak_weight(_Net(unlabeled, 2.0), _Images(unlabeled), "cpu") == (0.0, {})


def test_training_stores_the_weight_in_the_last_snapshot_and_the_log(trained):
    from posenb.nn.snapshots import list_snapshots, load_snapshot

    train_dir = Path(trained["train_dir"])
    last = list_snapshots(train_dir)[-1]
    state = load_snapshot(last)
    weight = state["model_config"]["peak_weight"]
    assert weight in PEAK_WEIGHTS
    tc = state["train_config"]
    assert state["model_config"]["heatmap_sigma"] == pytest.approx(
        gaussian_sigma(tc["pos_dist_thresh"] * tc["global_scale"])
    )
    line = [
        s
        for s in (train_dir / "train.log").read_text().splitlines()
        if "decoding: score-map peak weight" in s
    ][-1]
    assert f"peak weight {weight:g} " in line and "0: " in line and "0.25: " in line
    # the errors logged are the model's own: the weight chosen is the one with the lower one
    errs = {
        float(p.split(":")[0]): float(p.split(":")[1].split()[0])
        for p in line.split("(mean training error ")[1].split(";")[0].split(", ")
    }
    assert errs[weight] <= min(errs.values()) + 0.001
