"""A tiny synthetic two-animal project with known key points (for the multi-animal analysis and evaluation tests).

Each animal is three discs in a row (head, mid, tail: white, grey, dark grey) on a black background; animal
"a" crosses the top half left to right, animal "b" the bottom half right to left, so both are in every frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PARTS = ["head", "mid", "tail"]
INDIVIDUALS = ["a", "b"]
W, H, N_FRAMES = 128, 96, 40
COLORS = (255, 170, 90)


def animal_points(n_frames: int = N_FRAMES) -> np.ndarray:
    """``(n_frames, 2, 3, 2)`` x, y of each animal's parts in each frame."""
    t = np.arange(n_frames) / max(n_frames - 1, 1)
    out = np.zeros((n_frames, 2, 3, 2))
    for k in range(3):
        out[:, 0, k, 0] = 24 + 70 * t - 9 * k  # head leads, moving right
        out[:, 0, k, 1] = 28 + 4 * np.sin(6 * t)
        out[:, 1, k, 0] = 104 - 70 * t + 9 * k  # moving left
        out[:, 1, k, 1] = 68 + 4 * np.cos(6 * t)
    return out


def render(points: np.ndarray) -> list[np.ndarray]:
    import cv2

    frames = []
    for frame_points in points:
        img = np.zeros((H, W, 3), np.uint8)
        for animal in frame_points:
            for (x, y), c in zip(animal, COLORS):
                cv2.circle(img, (int(round(x)), int(round(y))), 5, (c, c, c), -1, lineType=cv2.LINE_AA)
        frames.append(img)
    return frames


def make_project(root: Path, n_labeled: int = 20) -> tuple[str, Path, np.ndarray]:
    """Create the project under ``root``; returns ``(config path, video path, points of every frame)``."""
    import cv2

    from posenb.io.label_arrays import arrays_to_table
    from posenb.io.labels import labels_path, write_labels
    from posenb.io.video import write_video
    from posenb.project import paths
    from posenb.project.create import create_new_project
    from posenb.project.config import read_config, write_config

    root.mkdir(parents=True, exist_ok=True)
    points = animal_points()
    video = Path(write_video(root / "pair.mp4", render(points), fps=10))
    config = create_new_project(
        "pair", "tester", [str(video)], working_directory=root, copy_videos=True, multianimal=True,
        individuals=INDIVIDUALS, bodyparts=PARTS, skeleton=[["head", "mid"], ["mid", "tail"]],
    )  # fmt: skip
    cfg = read_config(config)
    cfg["TrainingFraction"] = [0.8]
    cfg["batch_size"] = 4
    write_config(config, cfg)
    project = Path(cfg["project_path"])
    stem = paths.video_stem(video)
    folder = project / "labeled-data" / stem
    folder.mkdir(parents=True, exist_ok=True)
    picked = np.linspace(0, N_FRAMES - 1, n_labeled).round().astype(int)
    frames = render(points[picked])
    index = []
    for i, img in zip(picked, frames):
        name = paths.frame_name(int(i), N_FRAMES)
        cv2.imwrite(str(folder / name), img[..., ::-1])
        index.append(("labeled-data", stem, name))
    table = arrays_to_table(points[picked], cfg["scorer"], PARTS, index, individuals=INDIVIDUALS)
    write_labels(table, labels_path(project, stem, cfg["scorer"]))
    return config, project / "videos" / video.name, points
