"""The demo project: a synthetic video, DLC-style extracted frames, and labels taken from the ground truth."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from posenb.demo.project_files import create_quietly, extract_demo_frames, ground_truth_path
from posenb.demo.project_ma import make_ma_demo_project, read_ma_ground_truth
from posenb.demo.synthetic import DEMO_BODYPARTS, DEMO_SKELETON, make_synthetic_video
from posenb.errors import ConfigError

__all__ = ["make_demo_project", "DEMO_VIDEO_NAME", "ground_truth_path", "read_ground_truth"]

DEMO_VIDEO_NAME = "demo_mouse.mp4"


def read_ground_truth(config: str | os.PathLike) -> np.ndarray:
    """``(n_frames, n_bodyparts, 2)`` true key points (pixels) of the demo video; of the multi-animal demo
    ``(n_frames, n_animals, n_bodyparts, 2)`` (animals in config order; unique parts:
    :func:`posenb.demo.project_ma.read_ma_ground_truth`)."""
    from posenb.io.predictions import predictions_to_array, read_predictions
    from posenb.project.config import project_parts, read_config

    if project_parts(read_config(config)).multianimal:
        return read_ma_ground_truth(config)[0]

    return predictions_to_array(read_predictions(ground_truth_path(config)))[..., :2]


def make_demo_project(
    working_directory: str | os.PathLike,
    n_frames: int = 300,
    n_labeled: int = 40,
    width: int = 320,
    height: int = 240,
    seed: int = 0,
    project: str | None = None,
    experimenter: str = "posenb",
    animals: int = 1,
    unique: bool = False,
) -> str:
    """Build the demo project in ``working_directory`` and return its config.yaml path.

    ``animals > 1`` builds the multi-animal demo instead (:func:`posenb.demo.project_ma.make_ma_demo_project`:
    project ``demo_ma``, ``animals`` mice that touch and cross, 4-level labels; ``unique=True`` adds a unique
    body part). Otherwise (project ``demo``):

    1. renders ``videos/demo_mouse.mp4`` (``n_frames`` frames, ``width`` x ``height``, 30 fps) with known key
       points (:data:`DEMO_BODYPARTS`), saved as ``demo_ground_truth.h5`` in the project;
    2. creates a DeepLabCut project (video copied in), with body parts and skeleton set, TrainingFraction 0.8;
    3. extracts ``n_labeled`` evenly spread frames as ``labeled-data/demo_mouse/img###.png`` (decoded from the
       mp4, as extract_frames does) and writes their ground-truth labels as ``CollectedData_<experimenter>``.

    An existing demo project is returned unchanged.
    """
    if animals < 1 or (unique and animals == 1):
        raise ConfigError(
            f"make_demo_project: animals must be >= 1 (unique parts need animals > 1), got {animals}."
        )
    if animals > 1:
        return make_ma_demo_project(
            working_directory, n_frames, n_labeled, width, height, seed,
            project or "demo_ma", experimenter, animals, unique,
        )  # fmt: skip
    project = project or "demo"
    from posenb.io.labels import array_to_labels, write_labels
    from posenb.io.predictions import array_to_predictions, write_predictions
    from posenb.project.config import read_config, write_config

    wd = Path(working_directory).expanduser().resolve()
    src_dir = wd / ".demo-source"
    src_dir.mkdir(parents=True, exist_ok=True)
    video, keypoints = make_synthetic_video(src_dir / DEMO_VIDEO_NAME, n_frames, width, height, seed=seed)
    config = create_quietly(
        project, experimenter, [video], working_directory=wd, copy_videos=True,
        bodyparts=list(DEMO_BODYPARTS), skeleton=[list(b) for b in DEMO_SKELETON],
    )  # fmt: skip
    cfg = read_config(config)
    project_dir = Path(cfg["project_path"])
    collected = project_dir / "labeled-data" / Path(DEMO_VIDEO_NAME).stem / f"CollectedData_{experimenter}.h5"
    if collected.exists():
        return config
    cfg.update(
        bodyparts=list(DEMO_BODYPARTS),
        skeleton=[list(b) for b in DEMO_SKELETON],
        TrainingFraction=[0.8],
        numframes2pick=10,
        pcutoff=0.5,
        dotsize=4,
        batch_size=8,
    )
    write_config(config, cfg)
    Path(config + ".bak").unlink(missing_ok=True)
    gt = np.concatenate([keypoints, np.ones(keypoints.shape[:2] + (1,))], axis=2)
    write_predictions(
        array_to_predictions(gt, "ground_truth", DEMO_BODYPARTS), ground_truth_path(config), backup=False
    )
    idx = np.unique(np.linspace(0, n_frames - 1, n_labeled).round().astype(int))
    images = extract_demo_frames(project_dir, DEMO_VIDEO_NAME, idx)
    write_labels(
        array_to_labels(keypoints[idx], experimenter, DEMO_BODYPARTS, images), collected, backup=False
    )
    return config
