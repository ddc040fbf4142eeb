"""The multi-animal demo project: two synthetic mice (``posenb demo --animals 2``), labels from the ground truth.

A DeepLabCut multi-animal project (``multianimalproject: true``, individuals ``mouse1``, ``mouse2``, ...) with
``labeled-data/demo_mice/CollectedData_<scorer>`` in DeepLabCut's 4-level layout (scorer / individuals /
bodyparts / coords), and ``demo_ground_truth.h5``: every frame's true key points with identities, in the layout
of DeepLabCut's tracked ``_el.h5`` file (individual = the true animal, likelihood 1).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.demo.project_files import GROUND_TRUTH_FILE, create_quietly, extract_demo_frames
from posenb.demo.synthetic import DEMO_BODYPARTS, DEMO_SKELETON
from posenb.demo.synthetic_multi import FOOD_PART, make_synthetic_ma_video

__all__ = [
    "MA_VIDEO_NAME",
    "make_ma_demo_project",
    "ma_label_table",
    "ma_ground_truth_table",
    "individual_names",
    "describe_ma_demo",
]

MA_VIDEO_NAME = "demo_mice.mp4"


def individual_names(n_animals: int) -> list[str]:
    """The demo's individuals: ``mouse1``, ``mouse2``, ... (animal 0, the larger and darker one, is ``mouse1``)."""
    return [f"mouse{i + 1}" for i in range(n_animals)]


def _columns(scorer, individuals, bodyparts, unique, coords) -> pd.MultiIndex:
    cols = [(scorer, ind, bp, c) for ind in individuals for bp in bodyparts for c in coords]
    cols += [(scorer, "single", u, c) for u in unique for c in coords]
    return pd.MultiIndex.from_tuples(cols, names=["scorer", "individuals", "bodyparts", "coords"])


def ma_label_table(keypoints, unique, scorer, individuals, bodyparts, unique_parts, images) -> pd.DataFrame:
    """A 4-level label table: ``keypoints`` (n, A, P, 2) and ``unique`` (n, U, 2) pixels, NaN = not labeled;
    ``images`` the n row keys ``("labeled-data", stem, name)``."""
    n = len(images)
    values = np.concatenate([np.reshape(keypoints, (n, -1)), np.reshape(unique, (n, -1))], axis=1)
    columns = _columns(scorer, individuals, bodyparts, unique_parts, ("x", "y"))
    return pd.DataFrame(values.astype("float64"), index=pd.MultiIndex.from_tuples(images), columns=columns)


def ma_ground_truth_table(keypoints, unique, individuals, bodyparts, unique_parts) -> pd.DataFrame:
    """Every frame's true points as a tracked-file table: x, y, likelihood 1; index = frame number."""
    n = len(keypoints)
    kp = np.concatenate([keypoints, np.ones(keypoints.shape[:-1] + (1,))], axis=-1)
    un = np.concatenate([unique, np.ones(unique.shape[:-1] + (1,))], axis=-1)
    values = np.concatenate([kp.reshape(n, -1), un.reshape(n, -1)], axis=1)
    columns = _columns("ground_truth", individuals, bodyparts, unique_parts, ("x", "y", "likelihood"))
    return pd.DataFrame(values, columns=columns)


def _labeled_frames(center: np.ndarray, n_labeled: int) -> np.ndarray:
    """Evenly spread frames plus the frames where the animals are closest (a quarter of them): touching
    animals are in the labels."""
    n_frames = len(center)
    gap = np.linalg.norm(center[:, :, None] - center[:, None, :], axis=-1)
    gap[:, np.arange(center.shape[1]), np.arange(center.shape[1])] = np.inf
    close = np.argsort(gap.min(axis=(1, 2)), kind="stable")[: max(1, n_labeled // 4)]
    spread = np.linspace(0, n_frames - 1, n_labeled - len(close)).round().astype(int)
    idx = np.unique(np.concatenate([spread, close]))
    return idx


def make_ma_demo_project(
    working_directory: str | os.PathLike,
    n_frames: int = 300,
    n_labeled: int = 40,
    width: int = 320,
    height: int = 240,
    seed: int = 0,
    project: str = "demo_ma",
    experimenter: str = "posenb",
    animals: int = 2,
    unique: bool = False,
) -> str:
    """Build the multi-animal demo project in ``working_directory``; returns its config.yaml path.

    ``animals`` mice (individuals ``mouse1``...) in ``videos/demo_mice.mp4``; with ``unique=True`` a food pellet
    is drawn and labeled as the unique body part ``food``. About ``n_labeled`` frames are extracted and
    labeled from the ground truth (evenly spread, plus the frames where the animals touch). An existing
    project is returned unchanged.
    """
    from posenb.io.hdf import write_hdf
    from posenb.io.labels import write_labels
    from posenb.project.config import ProjectConfig

    wd = Path(working_directory).expanduser().resolve()
    src = wd / ".demo-source"
    src.mkdir(parents=True, exist_ok=True)
    video, sim = make_synthetic_ma_video(
        src / MA_VIDEO_NAME, n_frames, width, height, seed=seed, n_animals=animals, food=unique
    )
    individuals = individual_names(animals)
    unique_parts = [FOOD_PART] if unique else []
    config = create_quietly(
        project, experimenter, [video], working_directory=wd, copy_videos=True, multianimal=True,
        individuals=individuals, bodyparts=list(DEMO_BODYPARTS), uniquebodyparts=unique_parts,
        skeleton=[list(b) for b in DEMO_SKELETON],
    )  # fmt: skip
    pc = ProjectConfig.load(config)
    stem = Path(MA_VIDEO_NAME).stem
    collected = Path(pc.project_path) / "labeled-data" / stem / f"CollectedData_{experimenter}.h5"
    if collected.exists():
        return config
    pc.TrainingFraction, pc.numframes2pick, pc.pcutoff, pc.dotsize, pc.batch_size = [0.8], 10, 0.5, 4, 8
    pc.save(config)
    Path(config + ".bak").unlink(missing_ok=True)
    food = np.broadcast_to(sim["food"], (n_frames, len(unique_parts), 2))
    gt = ma_ground_truth_table(sim["keypoints"], food, individuals, DEMO_BODYPARTS, unique_parts)
    write_hdf(gt, Path(pc.project_path) / GROUND_TRUTH_FILE, format="table", backup=False)
    idx = _labeled_frames(sim["center"], n_labeled)
    images = extract_demo_frames(Path(pc.project_path), MA_VIDEO_NAME, idx)
    table = ma_label_table(
        sim["keypoints"][idx], food[idx], experimenter, individuals, DEMO_BODYPARTS, unique_parts, images
    )
    write_labels(table, collected, backup=False)
    return config


def read_ma_ground_truth(config: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The multi-animal demo's truth: ``(keypoints (n_frames, A, P, 2), unique (n_frames, U, 2))`` pixels, animals
    in config order (``mouse1`` = animal 0)."""
    from posenb.io.labels import read_hdf_any
    from posenb.project.config import project_parts, read_config

    parts = project_parts(read_config(config))
    df = read_hdf_any(Path(config).parent / GROUND_TRUTH_FILE)
    n = len(df)
    xy = df.xs("x", level="coords", axis=1), df.xs("y", level="coords", axis=1)
    cols = [(ind, bp) for ind in parts.individuals for bp in parts.bodyparts]
    kp = np.stack([d.droplevel(0, axis=1)[cols].to_numpy() for d in xy], -1)
    ucols = [("single", u) for u in parts.unique_bodyparts]
    un = (
        np.stack([d.droplevel(0, axis=1)[ucols].to_numpy() for d in xy], -1) if ucols else np.zeros((n, 0, 2))
    )
    return kp.reshape(n, len(parts.individuals), len(parts.bodyparts), 2), un


def describe_ma_demo(config: str | os.PathLike) -> str:
    """What the multi-animal demo project holds (files, individuals, labeled frames) and the next commands."""
    from posenb.io.labels import read_labels
    from posenb.io.video import probe_video
    from posenb.project.config import project_parts, read_config

    cfg = read_config(config)
    parts = project_parts(cfg)
    project = Path(cfg["project_path"])
    video = project / "videos" / MA_VIDEO_NAME
    width, height, n_frames = probe_video(video)
    labels = project / "labeled-data" / Path(MA_VIDEO_NAME).stem / f"CollectedData_{cfg['scorer']}.h5"
    unique = f"; unique body parts: {', '.join(parts.unique_bodyparts)}" if parts.unique_bodyparts else ""
    lines = [
        f"Multi-animal demo project: {config}",
        f"  individuals: {', '.join(parts.individuals)} ({parts.individuals[0]} is the larger, darker one)",
        f"  body parts: {', '.join(parts.bodyparts)}{unique}",
        f"  video: {video} ({n_frames} frames, {width}x{height}; the animals touch and cross)",
        f"  labels: {labels} (+ .csv): {len(read_labels(labels))} frames from the ground truth",
        f"  ground truth of every frame, with identities: {project / GROUND_TRUTH_FILE}",
        "Next:",
        f"  posenb create-training-dataset {config}",
        f"  posenb train {config}",
        f"  posenb evaluate {config}",
        f"  posenb analyze {config} {video}",
        f"  posenb dashboard {config}",
    ]
    return "\n".join(lines)
