"""The label-folder model: one ``labeled-data/<stem>/`` folder's human labels as arrays, for one animal or several.

:class:`LabelFolder` is what the labeler, the refiner, outlier extraction and ``check_labels`` share. It holds

- ``images``: the rows, image file names sorted (DeepLabCut's order): the images of the folder on disk, plus the
  rows of the label file whose image is gone (kept, never silently dropped);
- ``points``: ``(n_images, n_individuals, n_bodyparts, 2)`` float64 x/y pixels of the PNG, NaN = not labeled;
- ``unique``: ``(n_images, n_unique, 2)`` the unique (scene) body parts, stored under the individual ``"single"``.

A single-animal project is the one-individual case: ``individuals == ()``, ``n_individuals == 1``, no unique parts,
and the file keeps its 3 column levels exactly as before. A multi-animal project's file has 4 column levels
(``scorer, individuals, bodyparts, coords``). Files are read through :func:`posenb.io.labels.read_labels` (safe
reader, ``.h5`` else ``.csv``) and written through :func:`posenb.io.labels.write_labels` (atomic ``.h5`` +
``.csv``, previous version kept as ``.bak``).

io is the ground floor and does not read config.yaml: pass the parts, e.g.
``LabelFolder.load(folder, cfg["scorer"], parts=project_parts(cfg))`` (any object with ``bodyparts``,
``individuals``, ``unique_bodyparts`` and ``multianimal`` attributes) or the three lists as arguments.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import LabelError
from posenb.io.label_arrays import UNIQUE_INDIVIDUAL, arrays_to_table, table_to_arrays
from posenb.io.labels import conform_labels, read_labels, write_labels

__all__ = ["IMAGE_EXTENSIONS", "LabelFolder", "list_images", "list_label_folders"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


def list_label_folders(project_path: str | os.PathLike) -> list[str]:
    """Names of the folders of ``<project>/labeled-data`` (``*_labeled`` check folders and dot-folders skipped)."""
    root = Path(project_path) / "labeled-data"
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and "_labeled" not in p.name
    )


def list_images(folder: str | os.PathLike) -> list[str]:
    """Image file names of a label folder, sorted by name (DeepLabCut's order)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def _parts_of(parts, bodyparts, individuals, unique_bodyparts, multianimal):
    if parts is not None:
        return (
            tuple(parts.bodyparts),
            tuple(parts.individuals),
            tuple(parts.unique_bodyparts),
            bool(getattr(parts, "multianimal", bool(parts.individuals))),
        )
    if bodyparts is None:
        raise TypeError("pass parts=project_parts(cfg) or bodyparts (and individuals, unique_bodyparts)")
    individuals, unique = tuple(map(str, individuals)), tuple(unique_bodyparts)
    return (
        tuple(bodyparts),
        individuals,
        unique,
        bool(individuals or unique) if multianimal is None else multianimal,
    )


@dataclass
class LabelFolder:
    """The human labels of ``folder`` (= ``<project>/labeled-data/<stem>``) by ``scorer``.

    Attributes: ``bodyparts`` (per-animal parts), ``individuals`` (``()`` for a single-animal project),
    ``unique_bodyparts``, ``multianimal``; ``images``, ``points``, ``unique`` (module docstring); ``file_rows``:
    images that have a row in the label file (kept on save even when all their points are deleted);
    ``dropped``: images removed by :meth:`drop_frame` (their rows leave the file on :meth:`save`);
    ``source``: the file read (``.h5``, or the ``.csv`` when only that exists), None for a new folder.
    """

    folder: Path
    scorer: str
    bodyparts: tuple[str, ...]
    individuals: tuple[str, ...] = ()
    unique_bodyparts: tuple[str, ...] = ()
    multianimal: bool = False
    images: list[str] = field(default_factory=list)
    points: np.ndarray = None  # type: ignore[assignment]
    unique: np.ndarray = None  # type: ignore[assignment]
    file_rows: set[str] = field(default_factory=set)
    dropped: list[str] = field(default_factory=list)
    source: Path | None = None

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        self.bodyparts, self.individuals = tuple(self.bodyparts), tuple(map(str, self.individuals))
        self.unique_bodyparts = tuple(self.unique_bodyparts)
        n = len(self.images)
        if self.points is None:
            self.points = np.full((n, self.n_individuals, len(self.bodyparts), 2), np.nan)
        if self.unique is None:
            self.unique = np.full((n, len(self.unique_bodyparts), 2), np.nan)
        self.points = np.asarray(self.points, dtype="float64")
        self.unique = np.asarray(self.unique, dtype="float64")
        if self.points.shape != (n, self.n_individuals, len(self.bodyparts), 2):
            raise ValueError(
                f"points {self.points.shape} != {(n, self.n_individuals, len(self.bodyparts), 2)}"
            )
        if self.unique.shape != (n, len(self.unique_bodyparts), 2):
            raise ValueError(f"unique {self.unique.shape} != {(n, len(self.unique_bodyparts), 2)}")

    # ------------------------------------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls,
        folder: str | os.PathLike,
        scorer: str,
        bodyparts: Sequence[str] | None = None,
        individuals: Sequence[str] = (),
        unique_bodyparts: Sequence[str] = (),
        *,
        parts=None,
        multianimal: bool | None = None,
    ) -> LabelFolder:
        """Read ``folder/CollectedData_<scorer>.h5`` (else ``.csv``; none: an empty model) and the folder's images.

        The table is conformed to the given parts (:func:`posenb.io.labels.conform_labels`): a file by another
        scorer, of the other kind (3 vs 4 column levels), or holding labels of parts or individuals the config
        does not list raises :class:`LabelError` naming the file and what to do.
        """
        bodyparts, individuals, unique, multi = _parts_of(
            parts, bodyparts, individuals, unique_bodyparts, multianimal
        )
        folder = Path(folder)
        path = cls.label_path(folder, scorer)
        source = next((p for p in (path, path.with_suffix(".csv")) if p.is_file()), None)
        df = read_labels(source) if source is not None else None
        out = cls.from_dataframe(
            df, folder, scorer, bodyparts, individuals, unique, multi, list_images(folder)
        )
        out.source = source
        return out

    @classmethod
    def from_dataframe(
        cls,
        df: pd.DataFrame | None,
        folder: str | os.PathLike,
        scorer: str,
        bodyparts: Sequence[str],
        individuals: Sequence[str] = (),
        unique_bodyparts: Sequence[str] = (),
        multianimal: bool | None = None,
        images: Sequence[str] = (),
    ) -> LabelFolder:
        """A model from a label table (None: no labels) plus ``images`` (file names) that may have no row yet."""
        if multianimal is None:
            multianimal = bool(individuals or unique_bodyparts)
        ind = tuple(map(str, individuals)) if multianimal else ()
        uni = tuple(unique_bodyparts) if multianimal else ()
        rows: list[str] = []
        if df is not None:
            df = conform_labels(
                df, scorer, bodyparts, where=str(folder), individuals=ind, unique_bodyparts=uni
            )
            rows = [str(r[-1]) if isinstance(r, tuple) else Path(str(r)).name for r in df.index]
        names = sorted(set(images) | set(rows))
        out = cls(Path(folder), scorer, tuple(bodyparts), ind, uni, multianimal, names, file_rows=set(rows))
        if df is not None and len(df):
            arrays = table_to_arrays(df, bodyparts, ind, uni)
            at = [names.index(r) for r in rows]
            out.points[at] = arrays.points
            out.unique[at] = arrays.unique
        return out

    @staticmethod
    def label_path(folder: str | os.PathLike, scorer: str) -> Path:
        """``<folder>/CollectedData_<scorer>.h5``."""
        return Path(folder) / f"CollectedData_{scorer}.h5"

    # ------------------------------------------------------------------------------------------------ queries
    @property
    def path(self) -> Path:
        """The label file this model saves to (``CollectedData_<scorer>.h5``, and its ``.csv``)."""
        return self.label_path(self.folder, self.scorer)

    @property
    def stem(self) -> str:
        return self.folder.name

    @property
    def n_images(self) -> int:
        return len(self.images)

    @property
    def n_individuals(self) -> int:
        """``len(individuals)`` for a multi-animal project, 1 for a single-animal one."""
        return len(self.individuals) if self.multianimal else 1

    @property
    def table_individuals(self) -> list[str]:
        """The ``individuals`` column level written: the individuals, then ``"single"`` with unique parts."""
        return list(self.individuals) + ([UNIQUE_INDIVIDUAL] if self.unique_bodyparts else [])

    def has_image(self, image) -> bool:
        """Is the row's image file in the folder?"""
        return (self.folder / self.images[self.row(image)]).is_file()

    def index(self, rows: Sequence[int] | None = None) -> list[tuple[str, str, str]]:
        """DeepLabCut's row index ``("labeled-data", stem, img)`` of ``rows`` (default: all)."""
        rows = range(self.n_images) if rows is None else rows
        return [("labeled-data", self.stem, self.images[i]) for i in rows]

    def row(self, image) -> int:
        """Row of ``image``: an int, an image name (``"img042.png"``), a path or a 3-tuple."""
        if isinstance(image, (int, np.integer)):
            if not 0 <= int(image) < self.n_images:
                raise IndexError(f"row {image} out of range ({self.n_images} images)")
            return int(image)
        name = str(image[-1]) if isinstance(image, tuple) else Path(str(image)).name
        try:
            return self.images.index(name)
        except ValueError:
            raise LabelError(f"{name} is not an image of {self.folder}.") from None

    def individual(self, individual) -> int:
        """Index of an individual (name or int); single-animal: None/0 -> 0."""
        if individual is None or isinstance(individual, (int, np.integer)):
            i = int(individual or 0)
            if not 0 <= i < self.n_individuals:
                raise LabelError(f"individual {i} out of range ({self.n_individuals}).")
            return i
        if str(individual) not in self.individuals:
            raise LabelError(
                f"Unknown individual {individual!r}; config.yaml lists {list(self.individuals)}."
            )
        return self.individuals.index(str(individual))

    def part(self, bodypart) -> tuple[bool, int]:
        """``(is_unique, index)`` of a body part name (per-animal parts first) or of an int per-animal index."""
        if isinstance(bodypart, (int, np.integer)):
            return False, int(bodypart)
        if bodypart in self.bodyparts:
            return False, self.bodyparts.index(bodypart)
        if bodypart in self.unique_bodyparts:
            return True, self.unique_bodyparts.index(bodypart)
        raise LabelError(
            f"Unknown body part {bodypart!r}; config.yaml lists {list(self.bodyparts) + list(self.unique_bodyparts)}."
        )

    def labeled(self) -> np.ndarray:
        """``(n_images,)`` bool: rows with at least one point (any individual, or a unique part)."""
        animal = np.isfinite(self.points).all(-1).reshape(self.n_images, -1).any(1)
        return animal | np.isfinite(self.unique).all(-1).any(1)

    def get_point(self, image, bodypart, individual=None) -> np.ndarray:
        """``(2,)`` x/y of a point (NaN if not labeled)."""
        i = self.row(image)
        is_unique, k = self.part(bodypart)
        return (
            self.unique[i, k].copy() if is_unique else self.points[i, self.individual(individual), k].copy()
        )

    # ------------------------------------------------------------------------------------------------ editing
    def set_point(self, image, bodypart, x: float, y: float, individual=None) -> None:
        """Place (or move) a point; ``individual`` is ignored for unique parts (they belong to no animal)."""
        self._set(image, bodypart, individual, (float(x), float(y)))

    def delete_point(self, image, bodypart, individual=None) -> None:
        """Remove a point (NaN = not labeled)."""
        self._set(image, bodypart, individual, (np.nan, np.nan))

    def _set(self, image, bodypart, individual, xy) -> None:
        i = self.row(image)
        is_unique, k = self.part(bodypart)
        if is_unique:
            self.unique[i, k] = xy
        else:
            self.points[i, self.individual(individual), k] = xy

    def swap_individuals(self, image, a, b) -> None:
        """Exchange all the points of individuals ``a`` and ``b`` (names or indices) on one image."""
        i, ia, ib = self.row(image), self.individual(a), self.individual(b)
        self.points[i, [ia, ib]] = self.points[i, [ib, ia]]

    def add_image(self, name: str) -> int:
        """Add an (unlabeled) row for image ``name`` at its sorted place; returns its row (existing: its row)."""
        name = Path(str(name)).name
        if name in self.images:
            return self.images.index(name)
        at = int(np.searchsorted(np.array(self.images, dtype=object), name)) if self.images else 0
        self.images.insert(at, name)
        self.points = np.insert(self.points, at, np.nan, axis=0)
        self.unique = np.insert(self.unique, at, np.nan, axis=0)
        if name in self.dropped:
            self.dropped.remove(name)
        return at

    def drop_frame(self, image) -> str:
        """Remove a row now; on :meth:`save` its row leaves the label file. Returns the image name.

        The PNG itself is not touched (the refiner moves it to ``.trash/``)."""
        i = self.row(image)
        name = self.images.pop(i)
        self.points = np.delete(self.points, i, axis=0)
        self.unique = np.delete(self.unique, i, axis=0)
        self.dropped.append(name)
        return name

    # ------------------------------------------------------------------------------------------------ tables
    def rows_to_save(self) -> list[int]:
        """Rows written by :meth:`save`: labeled ones and those the file already had."""
        labeled = self.labeled()
        return [i for i, name in enumerate(self.images) if labeled[i] or name in self.file_rows]

    def to_dataframe(self, rows: Sequence[int] | None = None) -> pd.DataFrame:
        """DeepLabCut's label table of ``rows`` (default: :meth:`rows_to_save`): 3 column levels for a
        single-animal project, 4 for a multi-animal one; index ``("labeled-data", stem, img)``."""
        rows = self.rows_to_save() if rows is None else list(rows)
        return arrays_to_table(
            self.points[rows],
            self.scorer,
            self.bodyparts,
            self.index(rows),
            self.individuals,
            self.unique[rows],
            self.unique_bodyparts,
            multianimal=self.multianimal,
        )

    def save(self, backup: bool = True) -> Path | None:
        """Write ``CollectedData_<scorer>.h5`` + ``.csv`` (atomic; the previous files kept as ``.bak``).

        Rows: :meth:`rows_to_save`; dropped rows are removed. Returns the ``.h5`` path, or None when there is
        nothing to write (no label and no file yet).
        """
        rows = self.rows_to_save()
        if not rows and not self.path.exists() and not self.path.with_suffix(".csv").exists():
            return None
        path = write_labels(self.to_dataframe(rows), self.path, backup=backup)
        self.file_rows = {self.images[i] for i in rows}
        self.dropped = []
        self.source = path
        return path
