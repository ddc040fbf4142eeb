"""Tiny synthetic two-animal projects for the multi-animal tests: stick animals on 96 px frames, fast to train
(the multi-animal demo's mice, :mod:`posenb.demo.synthetic_multi`, need larger frames); the 4-level CollectedData
is the demo's (:func:`posenb.demo.project_ma.ma_label_table`)."""

from __future__ import annotations

import copy
from pathlib import Path

import cv2
import numpy as np

from posenb.data.ma_trainingset import write_ma_table
from posenb.demo.project_ma import ma_label_table
from posenb.project.config import DEFAULT_CONFIG, write_config

BODYPARTS = ["head", "body", "tail"]
INDIVIDUALS = ["big", "small"]
UNIQUE = ["food"]


def draw_food(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """Draw a green square (the unique part "food", one per frame, anywhere) on ``images`` in place; returns its
    centres ``(n, 1, 2)`` in image pixels."""
    rng = np.random.default_rng([seed, 1])
    n, size = len(images), images.shape[1]
    food = rng.uniform(8, size - 8, (n, 1, 2))
    for i in range(n):
        x, y = np.round(food[i, 0]).astype(int)
        images[i, y - 3 : y + 4, x - 3 : x + 4] = (0, 255, 0)
    return food


def draw_frames(n: int, size: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(n, size, size, 3)`` uint8 frames with two animals (a big bright one, a small grey one) and their labels
    ``(n, 2, 3, 2)``: head, body (centre), tail on a line through the body at a random angle."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size, 3), np.uint8)
    coords = np.full((n, 2, 3, 2), np.nan)
    for i in range(n):
        centres = []
        while len(centres) < 2:
            c = rng.uniform(18, size - 18, 2)
            if all(np.hypot(*(c - o)) > 30 for o in centres):
                centres.append(c)
        for a, (c, half, value) in enumerate(zip(centres, (12, 8), (255, 150))):
            ang = rng.uniform(0, 2 * np.pi)
            d = np.array([np.cos(ang), np.sin(ang)]) * half
            head, tail = c + d, c - d
            cv2.line(
                images[i], tuple(map(int, np.round(tail))), tuple(map(int, np.round(head))), (value,) * 3, 4
            )
            cv2.circle(images[i], tuple(map(int, np.round(head))), 4 if a == 0 else 3, (value, value, 0), -1)
            coords[i, a] = [head, c, tail]
    return images, coords


def make_ma_project(
    root: Path, n: int = 12, identity: bool = False, size: int = 96, seed: int = 0, unique: bool = False
) -> str:
    """A multi-animal project with ``n`` labeled synthetic frames; returns config.yaml's path. ``unique``: each frame
    also has the unique part "food" (:func:`draw_food`), labeled under the individual "single"."""
    project = Path(root) / "ma-synth-2026-12-02"
    folder = project / "labeled-data" / "vid"
    folder.mkdir(parents=True)
    (project / "videos").mkdir()
    images, coords = draw_frames(n, size, seed)
    food = draw_food(images, seed) if unique else np.zeros((n, 0, 2))
    index = []
    for i, image in enumerate(images):
        name = f"img{i:03d}.png"
        cv2.imwrite(str(folder / name), image[..., ::-1])
        index.append(("labeled-data", "vid", name))
    unique_parts = UNIQUE[: food.shape[1]]
    # the demo's 4-level table
    df = ma_label_table(coords, food, "synth", INDIVIDUALS, BODYPARTS, unique_parts, index)
    write_ma_table(df, folder / "CollectedData_synth.h5")
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    cfg.update(
        Task="ma", scorer="synth", date="Dec2", project_path=str(project), video_sets={},
        multianimalproject=True, identity=identity, individuals=list(INDIVIDUALS), bodyparts="MULTI!",
        multianimalbodyparts=list(BODYPARTS), uniquebodyparts=unique_parts, TrainingFraction=[0.8],
        iteration=0, skeleton=[],
    )  # fmt: skip
    return str(write_config(project / "config.yaml", cfg))
