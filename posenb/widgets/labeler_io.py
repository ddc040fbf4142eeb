"""Loading and saving the labels of one ``labeled-data/<stem>`` folder for the labeler (no Jupyter import).

:func:`load_folder_labels` reads ``CollectedData_<scorer>.h5`` (or the ``.csv`` when only that exists) into an
``(n_images, n_bodyparts, 2)`` array aligned with the images on disk; :func:`save_folder_labels` writes it back
through :func:`posenb.io.labels.write_labels` (atomic, ``.h5`` + ``.csv``, backup kept).

Nothing is lost on a round trip: rows of the file whose image is no longer on disk are kept as they are, and an
image that had a row keeps it even when all its points were removed. A folder that holds only another scorer's
file, or a file that cannot be matched to config.yaml (other scorer, labeled parts missing from ``bodyparts``),
is opened read-only with a message saying what to do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posenb.errors import LabelError
from posenb.io.labels import (
    array_to_labels,
    conform_labels,
    empty_labels,
    labels_path,
    labels_to_array,
    read_labels,
    write_labels,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "FolderLabels",
    "list_label_folders",
    "list_images",
    "load_folder_labels",
    "save_folder_labels",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def list_label_folders(project_path: str | os.PathLike) -> list[str]:
    """Names of the folders of ``<project>/labeled-data`` (``*_labeled`` check folders and dot-folders skipped)."""
    root = Path(project_path) / "labeled-data"
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and not p.name.endswith("_labeled")
    )


def list_images(folder: str | os.PathLike) -> list[str]:
    """Image file names of a label folder, sorted by name (DeepLabCut's order)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


@dataclass
class FolderLabels:
    """The labels of one folder, aligned with its images.

    ``points``: ``(len(images), len(bodyparts), 2)`` float64 image pixels, NaN where unlabeled;
    ``file_rows``: names of images that had a row in the label file; ``extra_index`` / ``extra_points``: rows
    of the file whose image is not in the folder (kept on save); ``readonly_reason``: why the folder cannot be
    edited (None if it can); ``message``: what was loaded, for the status line.
    """

    project_path: Path
    stem: str
    scorer: str
    bodyparts: list[str]
    images: list[str]
    points: np.ndarray
    path: Path
    file_rows: set[str] = field(default_factory=set)
    extra_index: list[tuple] = field(default_factory=list)
    extra_points: np.ndarray | None = None
    readonly_reason: str | None = None
    message: str = ""

    @property
    def folder(self) -> Path:
        return self.project_path / "labeled-data" / self.stem


def _read_any(path_h5: Path):
    if path_h5.is_file():
        return read_labels(path_h5), path_h5
    csv = path_h5.with_suffix(".csv")
    if csv.is_file():
        return read_labels(csv), csv
    return None, None


def load_folder_labels(cfg: dict, stem: str) -> FolderLabels:
    """Load ``labeled-data/<stem>`` for labeling with ``cfg``'s scorer and body parts."""
    project = Path(cfg["project_path"])
    scorer = str(cfg["scorer"])
    bodyparts = list(cfg["bodyparts"])
    folder = project / "labeled-data" / stem
    images = list_images(folder)
    path = labels_path(project, stem, scorer)
    out = FolderLabels(
        project, stem, scorer, bodyparts, images, np.full((len(images), len(bodyparts), 2), np.nan), path
    )
    try:
        df, source = _read_any(path)
    except LabelError as exc:
        out.readonly_reason = f"{exc} Fix or move the file away to label this folder."
        return out
    if df is None:
        others = sorted(folder.glob("CollectedData_*.h5")) + sorted(folder.glob("CollectedData_*.csv"))
        if others:
            other = others[0]
            other_scorer = other.stem[len("CollectedData_") :]
            out.readonly_reason = (
                f"{folder.name} holds labels by scorer {other_scorer!r} ({other.name}), but config.yaml's scorer "
                f"is {scorer!r}. They are shown read-only. To edit them, set scorer: {other_scorer} in config.yaml, "
                f"or convert the file to your scorer (posenb.convertcsv2h5(config, scorer=...))."
            )
            try:
                odf = read_labels(other)
                odf = conform_labels(odf, odf.columns.get_level_values(0)[0], bodyparts, where=str(other))
                _fill(out, odf)
            except LabelError:
                pass
        else:
            out.message = f"No labels yet in {folder.name}; they will be saved to {path.name}."
        return out
    try:
        df = conform_labels(df, scorer, bodyparts, where=str(source))
    except LabelError as exc:
        out.readonly_reason = str(exc)
        return out
    _fill(out, df)
    n = int(np.sum(np.any(~np.isnan(out.points[:, :, 0]), axis=1))) if len(images) else 0
    out.message = f"Loaded {source.name}: {n} labeled image(s) of {len(images)}."
    if out.extra_index:
        out.message += f" {len(out.extra_index)} labeled row(s) have no image in the folder; they are kept."
    return out


def _fill(out: FolderLabels, df) -> None:
    arr = labels_to_array(df, out.bodyparts)
    position = {name: i for i, name in enumerate(out.images)}
    extra_rows = []
    for r, idx in enumerate(df.index):
        name = idx[-1] if isinstance(idx, tuple) else str(idx)
        i = position.get(name)
        if i is None:
            extra_rows.append(r)
            out.extra_index.append(tuple(idx) if isinstance(idx, tuple) else ("labeled-data", out.stem, name))
        else:
            out.points[i] = arr[r]
            out.file_rows.add(name)
    if extra_rows:
        out.extra_points = arr[extra_rows]


def save_folder_labels(labels: FolderLabels, points: np.ndarray, bodyparts: list[str]) -> Path | None:
    """Write ``points`` (``(n_images, n_bodyparts, 2)``) as ``CollectedData_<scorer>.h5`` / ``.csv``.

    Rows: every image with at least one point, every image that already had a row, and the kept rows without
    an image. Returns the ``.h5`` path, or None when there is nothing to write (no labels and no file yet).
    """
    if labels.readonly_reason:
        raise LabelError(labels.readonly_reason)
    points = np.asarray(points, dtype=float)
    k = len(bodyparts)
    labeled = (
        np.any(~np.isnan(points[:, :, 0]), axis=1) if points.size else np.zeros(len(labels.images), bool)
    )
    keep = [i for i, name in enumerate(labels.images) if labeled[i] or name in labels.file_rows]
    index = [("labeled-data", labels.stem, labels.images[i]) for i in keep]
    arr = points[keep] if keep else np.zeros((0, k, 2))
    if labels.extra_index:
        extra = labels.extra_points
        if extra.shape[1] < k:
            extra = np.concatenate([extra, np.full((extra.shape[0], k - extra.shape[1], 2), np.nan)], axis=1)
        index += labels.extra_index
        arr = np.concatenate([arr, extra], axis=0)
    if not index and not labels.path.exists():
        return None
    df = (
        array_to_labels(arr, labels.scorer, bodyparts, index)
        if index
        else empty_labels(labels.scorer, bodyparts, [])
    )
    path = write_labels(df, labels.path)
    labels.file_rows |= {labels.images[i] for i in keep}
    labels.bodyparts = list(bodyparts)
    return path
