"""Lightning Pose label CSV: DeepLabCut's three header rows (scorer, bodyparts, coords), one index column.

The index holds image paths relative to the CSV's folder: ``labeled-data/<session>/img0042.png`` or, in Lightning
Pose's own examples, ``labeled-data/img01.png``. Frames are grouped by the folder above each image; images directly
in ``labeled-data/`` go to a group named after the CSV's folder. Export writes ``CollectedData.csv`` (when ``path``
is a folder) with ``labeled-data/<stem>/<name>`` paths and copies the frames next to it, which is the layout
Lightning Pose's ``data.data_dir`` expects. Predictions are exported as Lightning Pose writes them: one CSV per
video, DeepLabCut's header rows with x, y, likelihood, one row per frame.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import LabelError
from posenb.formats._model import (
    FrameGroup,
    LabelSet,
    VideoPredictions,
    group_rows,
    png_name,
    split_image_path,
)
from posenb.io.atomic import atomic_write

__all__ = ["NAME", "SUFFIXES", "read", "write", "write_predictions", "sniff"]

NAME = "lightning_pose"
SUFFIXES = (".csv",)
MULTI_ANIMAL = False  # one animal per frame: a multi-animal project cannot export here
DESCRIPTION = "Lightning Pose label CSV (CollectedData.csv, image paths relative to its folder)"


def sniff(path: Path) -> bool:
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = [fh.readline() for _ in range(4)]
    return head[0].startswith("scorer") and head[2].startswith("coords")


def _read_table(path: Path) -> pd.DataFrame:
    with open(path, encoding="utf-8", errors="replace") as fh:
        head = [fh.readline() for _ in range(4)]
    if not (head[0].startswith("scorer") and head[2].startswith("coords")):
        raise LabelError(f"{path}: not a Lightning Pose / DeepLabCut label CSV (rows 'scorer', 'bodyparts', 'coords').")
    if head[1].startswith("individuals"):
        from posenb.formats._model import multi_animal_error

        raise multi_animal_error(path, "this CSV has an 'individuals' row (several animals)")
    first = head[3].split(",")
    n_index = 3 if len(first) > 2 and first[0] == "labeled-data" and not _is_number(first[1]) else 1
    try:
        df = pd.read_csv(path, header=[0, 1, 2], index_col=list(range(n_index)))
    except (ValueError, pd.errors.ParserError) as exc:
        raise LabelError(f"{path}: cannot be read as a label CSV ({exc}).") from None
    if n_index == 3:
        df.index = ["/".join(map(str, i)) for i in df.index]
    return df


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text.strip() == ""
    return True


def read(path: str | os.PathLike, predictions: bool = False) -> LabelSet:
    """Read a Lightning Pose label CSV; image paths are resolved relative to the CSV's folder."""
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"Label file not found: {path}.")
    df = _read_table(path)
    coords_kind = set(df.columns.get_level_values(2))
    if not {"x", "y"} <= coords_kind:
        raise LabelError(f"{path}: the 'coords' row must name x and y columns, found {sorted(coords_kind)}.")
    scorer = str(df.columns.get_level_values(0)[0])
    bodyparts = list(dict.fromkeys(df.columns.get_level_values(1)))
    if all(_is_number(str(i)) for i in df.index):
        raise LabelError(
            f"{path}: rows are frame numbers, so this is a predictions file, not labels. Import a label CSV "
            "(rows = image paths such as labeled-data/img01.png)."
        )
    arr = np.full((len(df), len(bodyparts), 2), np.nan)
    for j, bp in enumerate(bodyparts):
        arr[:, j, 0] = pd.to_numeric(df[(scorer, bp, "x")], errors="coerce").to_numpy(dtype="float64")
        arr[:, j, 1] = pd.to_numeric(df[(scorer, bp, "y")], errors="coerce").to_numpy(dtype="float64")
    rel = [str(i) for i in df.index]
    stems_names = [split_image_path(r, path.parent.name) for r in rel]
    groups = []
    for stem, rows in group_rows(stems_names).items():
        names = [png_name(stems_names[i][1]) for i in rows]
        if len(set(names)) != len(names):
            raise LabelError(f"{path}: two rows name the same image in folder {stem!r}.")
        images = [path.parent / rel[i] for i in rows]
        groups.append(FrameGroup(stem, names, arr[rows], images))
    return LabelSet(bodyparts, [], groups, scorer)


def _csv_path(path: Path, default: str) -> Path:
    return path / default if path.suffix.lower() != ".csv" else path


def write(labelset: LabelSet, path: str | os.PathLike) -> list[Path]:
    """Write ``CollectedData.csv`` (or ``path`` itself when it ends in .csv) and copy the frames under its folder."""
    from posenb.formats._images import write_frame_images

    target = _csv_path(Path(path), "CollectedData.csv")
    root = target.parent
    rows, blocks = [], []
    for g in labelset.groups:
        write_frame_images(root / "labeled-data" / g.stem, g.names, g.images)
        rows += [f"labeled-data/{g.stem}/{n}" for n in g.names]
        blocks.append(g.coords.reshape(len(g.names), -1))
    columns = pd.MultiIndex.from_product(
        [[labelset.scorer], labelset.bodyparts, ["x", "y"]], names=["scorer", "bodyparts", "coords"]
    )
    data = np.concatenate(blocks) if blocks else np.zeros((0, len(columns)))
    df = pd.DataFrame(data, index=rows, columns=columns)
    atomic_write(target, lambda tmp: df.to_csv(tmp))
    return [target]


def write_predictions(pred: VideoPredictions, target: str | os.PathLike) -> Path:
    """Lightning Pose's predictions CSV for one video: x, y, likelihood per body part; rows = frame numbers.

    Lightning Pose is single-animal: a multi-animal project's tracked file is a :class:`LabelError`.
    """
    from posenb.io.predictions import array_to_predictions, write_predictions_csv

    if pred.multianimal:
        where = pred.source or pred.stem
        raise LabelError(
            f"{where}: holds {len(pred.individuals)} tracked animals {list(pred.individuals)}, and Lightning Pose "
            "predicts one animal per frame. Export multi-animal predictions as 'slp' (SLEAP), 'nwb' or 'coco'. "
            "Nothing was written."
        )
    arr = np.concatenate([pred.xy, pred.likelihood[..., None]], axis=2)
    return write_predictions_csv(array_to_predictions(arr, pred.scorer, pred.bodyparts), Path(target))
