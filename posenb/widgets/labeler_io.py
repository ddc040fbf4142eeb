"""What the labeler adds to the label-folder model (no Jupyter import).

The labels of a ``labeled-data/<stem>`` folder are read and written by :class:`posenb.io.label_folder.LabelFolder`
(one animal or several; ``CollectedData_<scorer>.h5`` + ``.csv``, atomic, previous version kept). This module only
adds what the panel needs:

- the images the labeler shows are the folder's image files; rows of the label file whose image is gone stay in
  the model and are written back untouched;
- the points are the labeler's *slots* (:mod:`posenb.widgets.labeler_layout`): ``(n_images, n_slots, 2)``, every
  individual's parts then the unique parts;
- a folder that cannot be edited is opened read-only with a message saying what to do: a file that cannot be read
  or matched to config.yaml (other kind, parts or individuals config.yaml does not list), or one that holds only
  another scorer's labels (shown read-only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posenb.errors import LabelError
from posenb.io.label_folder import IMAGE_EXTENSIONS, LabelFolder, list_images, list_label_folders
from posenb.io.labels import read_labels
from posenb.widgets.labeler_layout import SlotLayout, animals_to_slots, layout_from_parts, slots_to_animals

__all__ = [
    "IMAGE_EXTENSIONS",
    "FolderLabels",
    "list_label_folders",
    "list_images",
    "load_folder_labels",
    "save_folder_labels",
]


@dataclass
class FolderLabels:
    """The labels of one folder as the labeler shows them.

    ``model``: the :class:`LabelFolder` (all rows of the file); ``images``: the image files shown, sorted;
    ``rows``: their rows in ``model``; ``layout``: the slots; ``readonly_reason``: why the folder cannot be
    edited (None if it can); ``message``: what was loaded, for the status line.
    """

    model: LabelFolder
    images: list[str]
    rows: list[int]
    layout: SlotLayout
    readonly_reason: str | None = None
    message: str = ""

    @property
    def folder(self) -> Path:
        return self.model.folder

    @property
    def stem(self) -> str:
        return self.model.stem

    @property
    def scorer(self) -> str:
        return self.model.scorer

    @property
    def path(self) -> Path:
        return self.model.path

    @property
    def bodyparts(self) -> list[str]:
        """The slot names (the body parts of a single-animal project)."""
        return list(self.layout.slot_names)

    @property
    def points(self) -> np.ndarray:
        """``(len(images), n_slots, 2)`` float64 image pixels of the shown images, NaN where unlabeled."""
        m = self.model
        return animals_to_slots(self.layout, m.points[self.rows], m.unique[self.rows])


def _empty_model(folder: Path, scorer: str, layout: SlotLayout) -> LabelFolder:
    return LabelFolder(
        folder,
        scorer,
        layout.bodyparts,
        layout.individuals,
        layout.unique_bodyparts,
        layout.multianimal,
        list_images(folder),
    )


def _shown(
    model: LabelFolder, layout: SlotLayout, readonly: str | None = None, message: str = ""
) -> FolderLabels:
    images = [name for name in model.images if (model.folder / name).is_file()]
    rows = [model.images.index(name) for name in images]
    return FolderLabels(model, images, rows, layout, readonly, message)


def _other_scorer(folder: Path, scorer: str, layout: SlotLayout) -> FolderLabels | None:
    """The folder opened read-only when it holds only another scorer's labels (None when it holds none)."""
    others = sorted(folder.glob("CollectedData_*.h5")) + sorted(folder.glob("CollectedData_*.csv"))
    if not others:
        return None
    other_scorer = others[0].stem[len("CollectedData_") :]
    reason = (
        f"{folder.name} holds labels by scorer {other_scorer!r} ({others[0].name}), but config.yaml's scorer "
        f"is {scorer!r}. They are shown read-only. To edit them, set scorer: {other_scorer} in config.yaml, "
        f"or convert the file to your scorer (posenb.convertcsv2h5(config, scorer=...))."
    )
    try:
        df = read_labels(others[0])
        model = LabelFolder.from_dataframe(
            df,
            folder,
            str(df.columns.get_level_values(0)[0]),
            layout.bodyparts,
            layout.individuals,
            layout.unique_bodyparts,
            layout.multianimal,
            list_images(folder),
        )
    except (LabelError, IndexError):
        model = _empty_model(folder, scorer, layout)
    return _shown(model, layout, reason)


def load_folder_labels(cfg: dict, stem: str) -> FolderLabels:
    """Load ``labeled-data/<stem>`` for labeling with ``cfg``'s scorer, individuals and body parts."""
    from posenb.project.config import project_parts  # noqa: PLC0415 (widgets sit above project)

    layout = layout_from_parts(project_parts(cfg))
    folder = Path(cfg["project_path"]) / "labeled-data" / stem
    scorer = str(cfg["scorer"])
    path = LabelFolder.label_path(folder, scorer)
    if not path.is_file() and not path.with_suffix(".csv").is_file():
        other = _other_scorer(folder, scorer, layout)
        if other is not None:
            return other
        return _shown(
            _empty_model(folder, scorer, layout),
            layout,
            None,
            f"No labels yet in {folder.name}; they will be saved to {path.name}.",
        )
    try:
        model = LabelFolder.load(
            folder,
            scorer,
            layout.bodyparts,
            layout.individuals,
            layout.unique_bodyparts,
            multianimal=layout.multianimal,
        )
    except LabelError as exc:
        return _shown(
            _empty_model(folder, scorer, layout),
            layout,
            f"{exc} Fix or move the file away to label this folder.",
        )
    out = _shown(model, layout)
    n = int(np.sum(model.labeled()[out.rows])) if out.rows else 0
    out.message = f"Loaded {model.source.name}: {n} labeled image(s) of {len(out.images)}."
    extra = len(model.file_rows - set(out.images))
    if extra:
        out.message += f" {extra} labeled row(s) have no image in the folder; they are kept."
    return out


def _grow_bodyparts(labels: FolderLabels, bodyparts: list[str]) -> None:
    """Single-animal projects: body parts added in the panel become NaN columns of the model."""
    m = labels.model
    new = [b for b in bodyparts if b not in m.bodyparts]
    if not new:
        return
    pad = np.full(m.points.shape[:2] + (len(new), 2), np.nan)
    m.points = np.concatenate([m.points, pad], axis=2)
    m.bodyparts = tuple(m.bodyparts) + tuple(new)
    labels.layout = SlotLayout((), m.bodyparts)


def save_folder_labels(
    labels: FolderLabels, points: np.ndarray, bodyparts: list[str] | None = None
) -> Path | None:
    """Write ``points`` (``(len(labels.images), n_slots, 2)``) as ``CollectedData_<scorer>.h5`` / ``.csv``.

    ``bodyparts``: the slot names of a single-animal project when parts were added in the panel. Rows: every
    image with a point, every image that already had a row, and the rows without an image (kept). Returns the
    ``.h5`` path, or None when there is nothing to write (no labels and no file yet).
    """
    if labels.readonly_reason:
        raise LabelError(labels.readonly_reason)
    if bodyparts is not None and not labels.layout.multianimal:
        _grow_bodyparts(labels, list(bodyparts))
    animals, unique = slots_to_animals(labels.layout, points)
    m = labels.model
    m.points[labels.rows] = animals
    m.unique[labels.rows] = unique
    return m.save()
