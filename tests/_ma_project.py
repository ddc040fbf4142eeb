"""A tiny multi-animal project for tests (importable from any test: pytest puts ``tests/`` on ``sys.path``).

:func:`make_ma_project` writes a DeepLabCut multi-animal project by hand, so labeler tests do not depend on the
demo generator: config.yaml with ``multianimalproject: true``, two individuals, three per-animal parts and one
unique part; ``labeled-data/clip`` with a few small PNGs (two bright animals on a dark background); and, for the
first images, a 4-level ``CollectedData_<scorer>.h5``/``.csv`` written through the label-folder model's writer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

SCORER = "tester"
INDIVIDUALS = ("female", "male")
BODYPARTS = ("head", "thorax", "abdomen")
UNIQUE = ("arena",)
SKELETON = [["head", "thorax"], ["thorax", "abdomen"]]
STEM = "clip"


def truth(n_images: int, width: int = 160, height: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Where the animals are: ``(n_images, 2, 3, 2)`` per-animal points and ``(n_images, 1, 2)`` unique points
    (image pixels); the animals move right by 3 px per image."""
    animals = np.zeros((n_images, len(INDIVIDUALS), len(BODYPARTS), 2))
    for i in range(n_images):
        for a, (x0, y0) in enumerate([(0.25 * width, 0.3 * height), (0.6 * width, 0.65 * height)]):
            for k in range(len(BODYPARTS)):
                animals[i, a, k] = (x0 + 3 * i + 10 * k, y0 + 4 * k)
    unique = np.tile(np.array([[0.9 * width, 0.1 * height]]), (n_images, 1, 1))
    return animals, unique


def make_ma_project(
    root: str | Path, n_images: int = 4, n_labeled: int = 1, width: int = 160, height: int = 120
) -> tuple[str, Path]:
    """A multi-animal project under ``root``; returns (config.yaml path, ``labeled-data/clip`` folder).

    The first ``n_labeled`` images are labeled with :func:`truth` (both animals and the unique part), the others
    have no row; ``n_labeled=0`` writes no label file.
    """
    import cv2

    from posenb.io.label_arrays import arrays_to_table
    from posenb.io.labels import write_labels

    project = Path(root) / "flies-tester-2026-12-02"
    folder = project / "labeled-data" / STEM
    folder.mkdir(parents=True)
    (project / "videos").mkdir()
    cfg = {
        "Task": "flies",
        "scorer": SCORER,
        "date": "Dec2",
        "multianimalproject": True,
        "identity": False,
        "project_path": str(project),
        "video_sets": {},
        "bodyparts": "MULTI!",
        "individuals": list(INDIVIDUALS),
        "multianimalbodyparts": list(BODYPARTS),
        "uniquebodyparts": list(UNIQUE),
        "skeleton": SKELETON,
        "skeleton_color": "black",
        "default_track_method": "ellipse",
        "start": 0,
        "stop": 1,
        "numframes2pick": 4,
        "TrainingFraction": [0.95],
        "iteration": 0,
        "default_net_type": "resnet_50",
        "dotsize": 8,
        "alphavalue": 0.7,
        "colormap": "rainbow",
        "pcutoff": 0.6,
    }
    (project / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    animals, unique = truth(n_images, width, height)
    names = [f"img{i:03d}.png" for i in range(n_images)]
    for i, name in enumerate(names):
        img = np.full((height, width, 3), 30, np.uint8)
        for a in range(len(INDIVIDUALS)):
            for x, y in animals[i, a]:
                cv2.circle(img, (int(x), int(y)), 4, (200, 180 + 40 * a, 160), -1)
        cv2.rectangle(
            img,
            (int(unique[i, 0, 0]) - 3, int(unique[i, 0, 1]) - 3),
            (int(unique[i, 0, 0]) + 3, 20),
            (90,) * 3,
        )
        cv2.imwrite(str(folder / name), img)
    if n_labeled:
        index = [("labeled-data", STEM, name) for name in names[:n_labeled]]
        df = arrays_to_table(
            animals[:n_labeled],
            SCORER,
            BODYPARTS,
            index,
            INDIVIDUALS,
            unique[:n_labeled],
            UNIQUE,
            multianimal=True,
        )
        write_labels(df, folder / f"CollectedData_{SCORER}.h5")
    return str(project / "config.yaml"), folder
