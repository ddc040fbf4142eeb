"""Streaming and file format of the multi-animal analysis (posenb/infer/analyze_ma.py).

These tests use a deterministic stand-in predictor implementing the ``predict_animals`` interface (it reads each
frame's brightness and bright squares), ONLY to check the streaming, frame order, crop offsets and the file
written; the feature itself is tested end to end with a trained model in test_analyze_ma.py.
"""

from pathlib import Path

import numpy as np
import pytest

from posenb.infer.analyze_ma import analyze_video_ma
from posenb.io.detections import read_detections
from posenb.io.video import write_video

W, H, N = 96, 64, 40


def _video(tmp_path) -> Path:
    """Frame i: background brightness 2*i; animal 0 a white square at x = 10 + i, animal 1 at a fixed place."""
    frames = []
    for i in range(N):
        f = np.full((H, W, 3), 2 * i, np.uint8)
        f[20:28, 10 + i : 18 + i] = 255
        f[40:48, 70:78] = 255
        frames.append(f)
    return Path(write_video(tmp_path / "two.mp4", frames, fps=15))


class BrightSquares:
    """Stand-in predictor: per frame, animal 0 = centre of the white pixels left of x=60 (within the array
    passed), animal 1 = those right of it; part 1 carries the frame's background brightness as its x."""

    bodyparts = ["centre", "bright"]
    individuals = ["a", "b"]
    max_animals = 3  # one slot more than there are animals: it stays NaN
    identity = True
    unique_bodyparts = []
    batches: list

    def __init__(self, split=60):
        self.split, self.batches = split, []

    def predict_animals(self, frames):
        b, h, w, _ = frames.shape
        self.batches.append(b)
        poses = np.full((b, 3, 2, 3), np.nan, np.float32)
        scores = np.full((b, 3), np.nan, np.float32)
        ident = np.full((b, 3, 2), np.nan, np.float32)
        for j, f in enumerate(frames):
            white = f[..., 0] > 200
            for a, cols in enumerate((slice(0, self.split), slice(self.split, w))):
                ys, xs = np.nonzero(white[:, cols])
                if not len(xs):
                    continue
                x0 = cols.start
                poses[j, a, 0] = (xs.mean() + x0, ys.mean(), 0.9)
                poses[j, a, 1] = (float(np.median(f[..., 0][~white])), 0.0, 0.5)
                scores[j, a] = 0.9 - 0.1 * a
                ident[j, a] = (1.0, 0.0) if a == 0 else (0.0, 1.0)
        return {"poses": poses, "scores": scores, "identity": ident, "unique": None}


def test_streams_every_frame_in_order(tmp_path):
    video = _video(tmp_path)
    pred = BrightSquares()
    det = tmp_path / "out" / "twoDLC_x_detections.h5"
    info = analyze_video_ma(pred, video, det, batch_size=8, scorer="DLC_x", progress=False)
    assert info["n_frames"] == N and info["decoded"] == N
    assert max(pred.batches) <= 8 and sum(pred.batches) == N  # batched, every frame once
    out = read_detections(det)
    assert out["poses"].shape == (N, 3, 2, 3) and out["identity"].shape == (N, 3, 2)
    i = np.arange(N)
    np.testing.assert_allclose(out["poses"][:, 0, 0, 0], 13.5 + i, atol=1.0)  # the moving square, frame order
    np.testing.assert_allclose(out["poses"][:, 1, 0, :2], np.tile([73.5, 43.5], (N, 1)), atol=1.0)
    np.testing.assert_allclose(out["poses"][:, 0, 1, 0], 2 * i, atol=3)  # brightness: frame i's own
    assert np.isnan(out["poses"][:, 2]).all() and np.isnan(out["scores"][:, 2]).all()
    assert out["scorer"] == "DLC_x" and out["nframes"] == N and out["fps"] == pytest.approx(15)
    assert (
        out["crop"] is None and out["individuals"] == ["a", "b"] and out["bodyparts"] == ["centre", "bright"]
    )


def test_crop_offset_added(tmp_path):
    video = _video(tmp_path)
    det = tmp_path / "twoDLC_x_detections.h5"
    crop = (5, 90, 10, 60)  # x1, x2, y1, y2
    analyze_video_ma(
        BrightSquares(split=55), video, det, batch_size=16, scorer="DLC_x", crop=crop, progress=False
    )
    out = read_detections(det)
    assert out["crop"] == crop
    # in full-frame pixels, as without a crop
    np.testing.assert_allclose(out["poses"][:, 0, 0, 0], 13.5 + np.arange(N), atol=1.0)
    np.testing.assert_allclose(out["poses"][:, 1, 0, :2], np.tile([73.5, 43.5], (N, 1)), atol=1.0)


def test_failure_midway_leaves_no_file(tmp_path):
    video = _video(tmp_path)
    det = tmp_path / "twoDLC_x_detections.h5"

    class Failing(BrightSquares):
        def predict_animals(self, frames):
            if len(self.batches) == 2:
                raise RuntimeError("out of memory")
            return super().predict_animals(frames)

    with pytest.raises(RuntimeError, match="out of memory"):
        analyze_video_ma(Failing(), video, det, batch_size=8, scorer="DLC_x", progress=False)
    assert not det.exists() and not list(tmp_path.glob(".*.tmp"))


def test_memory_flat_in_video_length(tmp_path):
    """Peak Python/numpy memory of a 10x longer video stays within a constant of the short one's (no arrays
    sized by the video: frames are decoded, predicted and appended batch by batch)."""
    import tracemalloc

    def peak(n_frames: int) -> int:
        frames = [np.full((H, W, 3), 7 * (i % 25), np.uint8) for i in range(n_frames)]
        video = Path(write_video(tmp_path / f"v{n_frames}.mp4", frames, fps=15))
        del frames
        tracemalloc.start()
        analyze_video_ma(
            BrightSquares(), video, tmp_path / f"v{n_frames}_detections.h5", 8, "s", progress=False
        )
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return used

    peak(30)  # warm-up: imports and first-call caches are not the video's
    short, long = peak(60), peak(600)
    assert long < short * 1.5 + 200_000, (short, long)
