"""The CUDA path: mixed-precision training, resume and analysis on a GPU, checked against the CPU.

Marked ``gpu`` and skipped without a CUDA device (CI runs ``-m "not gpu"`` on a CPU machine). Run on a GPU
machine with ``python -m pytest -m gpu``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from trained_demo import N_FRAMES, TINY

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_amp_training_saves_scaler_and_resumes(tiny_project):
    from posenb.nn.snapshots import list_snapshots, load_snapshot
    from posenb.train.api import train_network

    events = []
    train_dir = train_network(
        tiny_project, maxiters=10, displayiters=5, saveiters=5, callbacks=[events.append], progress=False, **TINY
    )
    losses = [e.loss for e in events if e.kind == "display"]
    assert len(losses) == 2 and np.isfinite(losses).all()
    state = load_snapshot(list_snapshots(train_dir)[-1])
    assert state["iteration"] == 10
    assert state["scaler"] is not None  # mixed precision on CUDA: the GradScaler state is kept for resuming
    assert all(t.device.type == "cpu" for t in state["model"].values())  # loads on a CPU-only machine

    events.clear()
    train_network(tiny_project, maxiters=14, displayiters=2, callbacks=[events.append], progress=False, **TINY)
    assert events[0].kind == "start" and events[0].iteration == 10
    assert events[-1].kind == "end" and events[-1].iteration == 14


def test_gpu_analysis_matches_cpu(trained, tmp_path, monkeypatch):
    from posenb.infer.analyze import analyze_videos
    from posenb.infer.predictor import load_predictor
    from posenb.io.predictions import predictions_to_array, read_predictions
    from posenb.io.video import open_video
    from posenb.project.config import read_config

    cfg = read_config(trained["config"])
    video = next(iter(cfg["video_sets"]))
    scorer = analyze_videos(trained["config"], [video], destfolder=str(tmp_path))
    analyzed = predictions_to_array(read_predictions(tmp_path / f"demo_mouse{scorer}.h5"))
    assert analyzed.shape == (N_FRAMES, len(cfg["bodyparts"]), 3) and np.isfinite(analyzed).all()

    reader = open_video(video)
    try:
        frames = reader.get_batch(list(range(0, N_FRAMES, 10)))
    finally:
        reader.close()
    gpu_predictor, _ = load_predictor(cfg)
    assert gpu_predictor.device.type == "cuda"
    gpu = gpu_predictor.predict(frames)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cpu_predictor, _ = load_predictor(cfg)
    assert cpu_predictor.device.type == "cpu"
    cpu = cpu_predictor.predict(frames)

    confident = (cpu[..., 2] > 0.5) & (gpu[..., 2] > 0.5)
    assert confident.mean() > 0.5
    dist = np.sqrt(((cpu[..., :2] - gpu[..., :2]) ** 2).sum(-1))[confident]
    assert np.median(dist) < 0.5 and dist.max() < 3.0, dist  # fp16 autocast on the GPU vs fp32 on the CPU
    # the streamed analysis (decoder-side resize) agrees with the frame-by-frame prediction
    assert np.median(np.sqrt(((analyzed[::10, :, :2] - gpu[..., :2]) ** 2).sum(-1))) < 1.0
