"""A tiny demo project with a trained model, built once per test session and shared by tests/train and
tests/infer (both conftests call :func:`trained_project` with the session's base temp folder).

Two recipes for the 128x96 demo frames: ``TINY`` (global_scale 1, whole images) is cheap and used where only
the mechanics matter (events, snapshots, resume); ``LEARN`` runs the network at 1.5x (192x144: a stride-32
backbone needs a few feature cells per animal) and reliably learns in 50 iterations (~30 s on 2 loaded cores).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: training overrides for the 128x96 demo frames
TINY = {
    "global_scale": 1.0,
    "crop_size": None,
    "batch_size": 8,
    "warmup_iters": 5,
    "lr": 2e-3,
    "scale_jitter_lo": 0.9,
    "scale_jitter_up": 1.1,
    "rotation": 10,
    "gaussian_noise": 0.0,
}
#: the shared trained model: measured test error ~6 px, all-frames error ~0.4x the mean-pose baseline
LEARN = {**TINY, "global_scale": 1.5, "crop_size": [192, 144]}
LEARN_ITERS = 50
N_FRAMES = 150


def make_tiny_project(base: Path) -> str:
    """Demo project (150 frames 128x96, 20 labeled, TrainingFraction 0.8) with its training set."""
    from posenb.data.trainingset import create_training_dataset
    from posenb.demo import make_demo_project

    config = make_demo_project(base, n_frames=N_FRAMES, n_labeled=20, width=128, height=96)
    create_training_dataset(config)
    return config


def trained_project(basetemp: Path) -> dict:
    """``{"config", "train_dir", "stats"}`` of the shared trained demo project (trains it the first time)."""
    base = Path(basetemp) / "posenb-trained-demo"
    marker = base / "trained.json"
    if marker.is_file():
        return json.loads(marker.read_text())
    from posenb.train.api import train_network

    config = make_tiny_project(base)
    train_dir = train_network(
        config, maxiters=LEARN_ITERS, displayiters=5, saveiters=25, progress=False, **LEARN
    )
    info = {"config": config, "train_dir": str(train_dir)}
    marker.write_text(json.dumps(info))
    return info


def trained_copy_of(trained: dict, tmp_path: Path) -> str:
    """A private copy of the shared trained project in ``tmp_path``; returns its config.yaml path."""
    import shutil

    from posenb.project.config import read_config

    src = Path(trained["config"]).parent
    dst = tmp_path / src.name
    shutil.copytree(src, dst, symlinks=True)
    read_config(dst / "config.yaml")
    return str(dst / "config.yaml")


def user_model_hashes(project: Path) -> dict[str, str]:
    """sha1 of every file of a project's training sets and model folders (``training-datasets``, ``dlc-models``):
    what a labeling-model update must leave byte-identical."""
    import hashlib

    out = {}
    for root in ("training-datasets", "dlc-models"):
        for p in sorted((Path(project) / root).rglob("*")):
            if p.is_file():
                out[str(p.relative_to(project))] = hashlib.sha1(p.read_bytes()).hexdigest()
    return out
