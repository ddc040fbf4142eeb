"""Predictor: resizing by global_scale and mapping key points back to frame pixels (exact, with a stub model)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from posenb.infer.predictor import Predictor
from posenb.nn import decode

TARGET = (21.25, 13.5)  # where the stub "detects" joint 0, in network-input pixels


class _Stub(nn.Module):
    """Outputs one peak per joint at TARGET (cell + locref), whatever the image; records input sizes."""

    net_type = "stub"
    num_joints = 2
    stride = 8.0
    locref_std = 7.2801
    heatmap_sigma = None  # no score-map peak in decoding
    peak_weight = 0.0

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.sizes = []

    def decode_outputs(self, heatmap, locref, peak_weight=None):  # as PoseModel's
        share = self.peak_weight if peak_weight is None else peak_weight
        return decode(heatmap, locref, self.stride, self.locref_std, heatmap_sigma=self.heatmap_sigma, peak_weight=share)

    normalize = staticmethod(lambda images, device=None, channels_last=False: torch.as_tensor(images).permute(0, 3, 1, 2).float())

    def forward(self, x):
        n, _, h, w = x.shape
        self.sizes.append((h, w))
        hh, ww = -(-h // 8), -(-w // 8)
        heat = torch.full((n, 2, hh, ww), -10.0)
        loc = torch.zeros((n, 4, hh, ww))
        for k, (tx, ty) in enumerate([TARGET, (3.0, 4.0)]):
            j, i = int(tx // 8), int(ty // 8)
            heat[:, k, i, j] = 10.0
            loc[:, 2 * k, i, j] = (tx - (j * 8 + 4)) / self.locref_std
            loc[:, 2 * k + 1, i, j] = (ty - (i * 8 + 4)) / self.locref_std
        return {"heatmap": heat + 0 * self.w, "locref": loc}


@pytest.mark.parametrize("scale", [0.5, 1.0, 1.5])
def test_coordinates_map_back_to_frame_pixels(scale):
    stub = _Stub()
    pred = Predictor(stub, global_scale=scale)
    frames = np.zeros((3, 96, 128, 3), np.uint8)
    out = pred.predict(frames)
    w_in, h_in = round(128 * scale), round(96 * scale)
    assert stub.sizes[-1] == (h_in, w_in)
    sx, sy = w_in / 128, h_in / 96
    np.testing.assert_allclose(out[:, 0, 0], (TARGET[0] + 0.5) / sx - 0.5, atol=1e-4)
    np.testing.assert_allclose(out[:, 0, 1], (TARGET[1] + 0.5) / sy - 0.5, atol=1e-4)
    assert out.shape == (3, 2, 3) and np.all(out[..., 2] > 0.99)
    # frames resized by the decoder give the same coordinates
    small = np.zeros((3, h_in, w_in, 3), np.uint8)
    np.testing.assert_allclose(pred.predict_resized(small, (128, 96)), out, atol=1e-5)
