"""Refinement core: machine labels -> corrected human labels, and ``merge_datasets`` (DeepLabCut's names and files).

A :class:`RefinementSession` holds the frames of one ``labeled-data/<stem>/`` folder in one editable table:
the machine labels written by ``extract_outlier_frames`` (``machinelabels-iter<N>.h5``) and the human labels
(``CollectedData_<scorer>.h5``; on a frame present in both, the human row wins). The refinement panel (or a
script) classifies points by a likelihood threshold, moves, deletes and adds points, drops invalid frames,
and saves. Saving follows DeepLabCut's refinement contract (DLC_COMPAT §2.5):

- scorer = config ``scorer``, no likelihood column, points outside the image become NaN;
- the session's rows go in front of the existing ``CollectedData_<scorer>`` rows, duplicates resolved in
  favour of the session's; dropped frames are removed; rows are sorted;
- written atomically as ``.h5`` + ``.csv`` with a ``.bak`` of the previous files
  (:func:`posenb.io.labels.write_labels`); the PNG of a dropped frame is moved to ``labeled-data/<stem>/.trash/``,
  never deleted.

Everything is pure Python on numpy arrays: no widgets, no drawing. ``merge_datasets`` then checks that every
folder has human labels and advances ``iteration`` in config.yaml.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import LabelError
from posenb.io.machinelabels import find_machinelabels

__all__ = [
    "MISSING",
    "UNCERTAIN",
    "CONFIDENT",
    "HUMAN",
    "POINT_CLASSES",
    "classify_points",
    "merge_refined",
    "find_machinelabels",
    "RefinementSession",
    "load_refinement",
    "merge_datasets",
]

MISSING, UNCERTAIN, CONFIDENT, HUMAN = 0, 1, 2, 3
POINT_CLASSES = ("missing", "uncertain", "confident", "human")
TRASH = ".trash"


def classify_points(xy: np.ndarray, likelihood: np.ndarray, threshold: float) -> np.ndarray:
    """``(n, K) int8`` class of each point: :data:`MISSING` (no position), :data:`UNCERTAIN` (machine point with
    likelihood < ``threshold``), :data:`CONFIDENT` (machine point >= ``threshold``), :data:`HUMAN` (a human
    label or an edited point: likelihood NaN).

    xy : ``(n, K, 2)`` pixels; likelihood : ``(n, K)``.
    """
    xy = np.asarray(xy, float)
    lik = np.asarray(likelihood, float)
    out = np.full(lik.shape, HUMAN, np.int8)
    machine = np.isfinite(lik)
    out[machine & (lik < threshold)] = UNCERTAIN
    out[machine & (lik >= threshold)] = CONFIDENT
    out[~np.isfinite(xy).all(axis=-1)] = MISSING
    return out


def merge_refined(
    refined: pd.DataFrame, existing: pd.DataFrame | None, drop: Sequence[tuple] = ()
) -> pd.DataFrame:
    """DLC's merge: ``refined`` rows in front of ``existing`` ones, duplicates keep the refined row, rows in
    ``drop`` removed, sorted. Both tables share the columns ``(scorer, bodyparts, x/y)``."""
    combined = (
        refined
        if existing is None or existing.empty
        else pd.concat([refined, existing.reindex(columns=refined.columns)])
    )
    combined = combined[~combined.index.duplicated(keep="first")]
    if drop:
        combined = combined.drop(index=[tuple(d) for d in drop if tuple(d) in combined.index])
    return combined.sort_index()


def _slot_names(parts) -> tuple[list[str], list[tuple[str | None, str]]]:
    """Column names and ``(individual, bodypart)`` of the session's ``xy`` columns (see RefinementSession)."""
    if not parts.multianimal:
        return list(parts.bodyparts), [(None, b) for b in parts.bodyparts]
    slots = [(i, b) for i in parts.individuals for b in parts.bodyparts]
    slots += [(None, u) for u in parts.unique_bodyparts]
    return [b if i is None else f"{i}/{b}" for i, b in slots], slots


def _flat(points: np.ndarray, unique: np.ndarray) -> np.ndarray:
    """``(n, I, K, d...)`` + ``(n, U, d...)`` -> ``(n, I*K + U, d...)``."""
    n, i, k = points.shape[:3]
    return np.concatenate([points.reshape(n, i * k, *points.shape[3:]), unique], axis=1)


@dataclass
class RefinementSession:
    """The editable labels of one ``labeled-data/<stem>/`` folder.

    Attributes
    ----------
    config : config.yaml path. folder : the label folder. scorer : the human scorer (config ``scorer``).
    bodyparts : names of the ``xy`` columns: config ``bodyparts`` (single-animal project), or
        ``"<individual>/<bodypart>"`` for each individual and ``multianimalbodyparts``, then the
        ``uniquebodyparts`` (multi-animal project). ``parts`` : the project's parts (``project_parts(cfg)``).
    images : ``[("labeled-data", stem, "img042.png"), ...]`` one per row, sorted.
    xy : ``(n, J, 2)`` float pixels (NaN = no point), J = ``len(bodyparts)``. likelihood : ``(n, J)``, NaN for
        human/edited points. :attr:`points` ``(n, n_individuals, K, 2)`` and :attr:`unique` ``(n, U, 2)`` are
        views of ``xy`` (the label-folder model's shapes, :mod:`posenb.io.label_folder`).
    source : ``(n,)`` ``"machine"`` or ``"human"`` (where the row came from).
    edited : ``(n, J)`` bool, points changed in this session. dropped : images removed in this session.
    """

    config: str
    folder: Path
    scorer: str
    bodyparts: list[str]
    images: list[tuple[str, str, str]]
    xy: np.ndarray
    likelihood: np.ndarray
    source: np.ndarray
    edited: np.ndarray
    machine_file: Path | None = None
    machine_scorer: str | None = None
    dropped: list[tuple[str, str, str]] = field(default_factory=list)
    parts: object = None
    _trash: set = field(default_factory=set, repr=False)
    _sizes: dict = field(default_factory=dict, repr=False)

    # ----------------------------------------------------------------------------------------- loading
    @classmethod
    def load(
        cls,
        config: str | os.PathLike,
        video: str | os.PathLike,
        machinelabels: str | os.PathLike | None = None,
    ):
        """Load machine + human labels of a folder. ``video``: a video path, a stem, or the folder itself."""
        from posenb.io.label_folder import LabelFolder
        from posenb.project.config import project_parts, read_config
        from posenb.project.paths import video_stem

        cfg = read_config(config)
        parts = project_parts(cfg)
        p = Path(str(video))
        folder = p if p.is_dir() else Path(cfg["project_path"]) / "labeled-data" / video_stem(p)
        if not folder.is_dir():
            raise LabelError(f"No label folder {folder}. Extract (outlier) frames for this video first.")
        scorer = cfg["scorer"]
        mfile = Path(machinelabels) if machinelabels else find_machinelabels(folder, cfg.get("iteration"))
        rows, machine_scorer = _machine_rows(folder, mfile, parts)
        human = LabelFolder.load(folder, scorer, parts=parts)
        lik = np.full(_flat(human.points[:, :, :, 0], human.unique[:, :, 0]).shape[1:], np.nan)
        for name in human.file_rows:
            i = human.row(name)
            rows[name] = (_flat(human.points[i : i + 1], human.unique[i : i + 1])[0], lik, "human")
        if not rows:
            raise LabelError(
                f"{folder} has neither machine labels (machinelabels-iter*.h5) nor CollectedData_{scorer}.h5."
            )
        names = sorted(rows)
        names_, _ = _slot_names(parts)
        return cls(
            config=str(config), folder=folder, scorer=scorer, bodyparts=names_,
            images=[("labeled-data", folder.name, n) for n in names],
            xy=np.array([rows[n][0] for n in names]).reshape(len(names), len(names_), 2),
            likelihood=np.array([rows[n][1] for n in names]).reshape(len(names), len(names_)),
            source=np.array([rows[n][2] for n in names]), edited=np.zeros((len(names), len(names_)), bool),
            machine_file=mfile, machine_scorer=machine_scorer, parts=parts,
        )  # fmt: skip

    # ------------------------------------------------------------------------------------ animal views
    @property
    def n_individuals(self) -> int:
        """Individuals of the project (1 for a single-animal project)."""
        return len(self.parts.individuals) if self.parts.multianimal else 1

    @property
    def points(self) -> np.ndarray:
        """``(n, n_individuals, K, 2)`` per-animal points: a view of ``xy`` (writing it edits the session)."""
        k = len(self.parts.bodyparts)
        return self.xy[:, : self.n_individuals * k].reshape(len(self.images), self.n_individuals, k, 2)

    @property
    def unique(self) -> np.ndarray:
        """``(n, U, 2)`` unique body parts: a view of ``xy``."""
        return self.xy[:, self.n_individuals * len(self.parts.bodyparts) :]

    def swap_individuals(self, image, a, b) -> None:
        """Exchange the points of individuals ``a`` and ``b`` (names or indices) on one frame; they become human
        points (edited)."""
        i = self.row(image)
        known = self.parts.individuals
        if any(isinstance(v, str) and v not in known for v in (a, b)) or not self.parts.multianimal:
            raise LabelError(f"Cannot swap {a!r} and {b!r}: the project's individuals are {list(known)}.")
        ia, ib = (known.index(v) if isinstance(v, str) else int(v) for v in (a, b))
        k = len(self.parts.bodyparts)
        cols_a, cols_b = np.arange(ia * k, ia * k + k), np.arange(ib * k, ib * k + k)
        order = np.concatenate([cols_b, cols_a])
        both = np.concatenate([cols_a, cols_b])
        self.xy[i, both] = self.xy[i, order]
        self.likelihood[i, both] = self.likelihood[i, order]
        self.edited[i, both] = True

    # ---------------------------------------------------------------------------------------- queries
    def __len__(self) -> int:
        return len(self.images)

    def row(self, image) -> int:
        """Row of ``image``: an int row, an image name (``"img042.png"``), a path or a 3-tuple."""
        if isinstance(image, (int, np.integer)):
            if not 0 <= int(image) < len(self.images):
                raise IndexError(f"row {image} out of range ({len(self.images)} frames)")
            return int(image)
        name = image[-1] if isinstance(image, tuple) else Path(str(image)).name
        for i, img in enumerate(self.images):
            if img[2] == name:
                return i
        raise LabelError(f"{name} is not a frame of {self.folder}.")

    def part(self, bodypart) -> int:
        """Column of ``xy``: an int, a name of :attr:`bodyparts`, or ``(individual, bodypart)``."""
        if isinstance(bodypart, (int, np.integer)):
            return int(bodypart)
        if isinstance(bodypart, tuple):
            bodypart = "/".join(map(str, bodypart)) if bodypart[0] is not None else bodypart[1]
        if bodypart not in self.bodyparts:
            raise LabelError(f"Unknown body part {bodypart!r}; config.yaml lists {self.bodyparts}.")
        return self.bodyparts.index(bodypart)

    def image_path(self, image) -> Path:
        """The PNG of a frame."""
        return self.folder / self.images[self.row(image)][2]

    def image_size(self, image) -> tuple[int, int] | None:
        """(width, height) of a frame's PNG (None if it is missing)."""
        name = self.images[self.row(image)][2]
        if name not in self._sizes:
            import cv2  # noqa: PLC0415

            img = cv2.imread(str(self.folder / name), cv2.IMREAD_UNCHANGED)
            self._sizes[name] = None if img is None else (img.shape[1], img.shape[0])
        return self._sizes[name]

    def classify(self, threshold: float) -> np.ndarray:
        """``(n, K) int8`` point classes (:func:`classify_points`)."""
        return classify_points(self.xy, self.likelihood, threshold)

    # ---------------------------------------------------------------------------------------- editing
    def move_point(self, image, bodypart, x: float, y: float) -> None:
        """Set a point (moving it, or adding a missing one); it becomes a human point."""
        i, j = self.row(image), self.part(bodypart)
        self.xy[i, j] = (float(x), float(y))
        self.likelihood[i, j] = np.nan
        self.edited[i, j] = True

    def delete_point(self, image, bodypart) -> None:
        """Remove a point (it will be NaN = not labelled)."""
        i, j = self.row(image), self.part(bodypart)
        self.xy[i, j] = np.nan
        self.likelihood[i, j] = np.nan
        self.edited[i, j] = True

    def drop_frame(self, image, trash_png: bool = True) -> None:
        """Remove an invalid frame: its row now, and on :meth:`save` its labels in ``CollectedData`` and
        (``trash_png``) its PNG, moved to ``<folder>/.trash/``."""
        i = self.row(image)
        self.dropped.append(self.images[i])
        if trash_png:
            self._trash.add(self.images[i])
        keep = np.arange(len(self.images)) != i
        del self.images[i]
        self.xy, self.likelihood = self.xy[keep], self.likelihood[keep]
        self.source, self.edited = self.source[keep], self.edited[keep]

    # ----------------------------------------------------------------------------------------- saving
    def to_labels(self) -> pd.DataFrame:
        """This session's rows as a human label table (no likelihood; points outside their image NaN; 3 column
        levels for a single-animal project, 4 for a multi-animal one)."""
        from posenb.io.label_arrays import arrays_to_table

        xy = self._inside_images()
        k, n = len(self.parts.bodyparts), len(self.images)
        return arrays_to_table(
            xy[:, : self.n_individuals * k].reshape(n, self.n_individuals, k, 2), self.scorer,
            self.parts.bodyparts, self.images, self.parts.individuals, xy[:, self.n_individuals * k :],
            self.parts.unique_bodyparts, multianimal=self.parts.multianimal,
        )  # fmt: skip

    def _inside_images(self) -> np.ndarray:
        xy = self.xy.copy()
        for i in range(len(self.images)):
            size = self.image_size(i)
            if size is None:
                continue
            w, h = size
            out = ~((xy[i, :, 0] >= 0) & (xy[i, :, 0] < w) & (xy[i, :, 1] >= 0) & (xy[i, :, 1] < h))
            xy[i, out] = np.nan
        return xy

    def save(self) -> Path:
        """Write ``CollectedData_<scorer>.h5/.csv`` (DLC's refinement contract; atomic, with ``.bak``), then move
        the PNGs of dropped frames to ``.trash/``. Returns the ``.h5`` path.

        The existing file is read through the label-folder model (:class:`posenb.io.label_folder.LabelFolder`):
        the session's rows replace or join its rows, dropped frames leave it."""
        from posenb.io.label_folder import LabelFolder

        human = LabelFolder.load(self.folder, self.scorer, parts=self.parts)
        for img in self.dropped:
            if img[2] in human.images:
                human.drop_frame(img[2])
        refined = LabelFolder.from_dataframe(
            self.to_labels(), self.folder, self.scorer, self.parts.bodyparts, self.parts.individuals,
            self.parts.unique_bodyparts, self.parts.multianimal,
        )  # fmt: skip
        for j, name in enumerate(refined.images):
            i = human.add_image(name)
            human.points[i], human.unique[i] = refined.points[j], refined.unique[j]
            human.file_rows.add(name)
        path = human.save()
        self._trash_dropped()
        self.dropped, self._trash = [], set()
        self.source[:] = "human"
        self.likelihood[:] = np.nan
        self.edited[:] = False
        return path

    def _trash_dropped(self) -> None:
        trash = self.folder / TRASH
        for img in self.dropped:
            if img in self._trash:
                src = self.folder / img[2]
                if src.exists():
                    trash.mkdir(exist_ok=True)
                    dst = trash / img[2]
                    k = 1
                    while dst.exists():
                        dst = trash / f"{Path(img[2]).stem}.{k}{Path(img[2]).suffix}"
                        k += 1
                    shutil.move(str(src), str(dst))


def _machine_rows(folder: Path, mfile: Path | None, parts) -> tuple[dict, str | None]:
    """``{image: (xy (J, 2), likelihood (J,), "machine")}`` of the machine labels whose PNG exists, and their scorer."""
    from posenb.io.machinelabels import read_machinelabels

    if mfile is None or not mfile.exists():
        return {}, None
    m = read_machinelabels(mfile, parts.bodyparts, parts.individuals, parts.unique_bodyparts)
    if m.extra_parts:
        warnings.warn(f"{mfile.name}: {m.extra_parts} are not in config.yaml and are ignored.", stacklevel=3)
    xy, lik = _flat(m.points, m.unique), _flat(m.likelihood, m.unique_likelihood)
    rows, missing_png = {}, []
    for i, name in enumerate(m.images):
        if not (folder / name).exists():
            missing_png.append(name)  # dropped earlier (moved to .trash) or deleted
            continue
        rows[name] = (xy[i], np.nan_to_num(lik[i], nan=0.0), "machine")
    if missing_png:
        print(f"{len(missing_png)} machine-labelled frame(s) without an image in {folder} are left out.")
    return rows, m.scorer


def load_refinement(config, video, machinelabels=None) -> RefinementSession:
    """Functional alias of :meth:`RefinementSession.load`."""
    return RefinementSession.load(config, video, machinelabels)


def merge_datasets(config, forceiterate: int | None = None) -> int:
    """Advance the active-learning iteration after refinement (DeepLabCut's ``merge_datasets``).

    Every folder in ``labeled-data/`` (names with ``_labeled`` and dot-folders skipped; also folders holding
    no image) must contain ``CollectedData_<scorer>.h5`` (or DLC's legacy ``MachineLabelsRefine.h5``).
    Then config ``iteration`` becomes ``iteration + 1`` (or ``forceiterate``) and config.yaml is rewritten;
    the data themselves are merged by the next ``create_training_dataset``. Otherwise nothing changes and
    :class:`LabelError` lists the folders to label or remove. Folders whose machine-labelled frames are not
    all in ``CollectedData`` get a warning (those frames will not be used). Returns the new iteration.
    """
    from posenb.io.label_folder import LabelFolder, list_label_folders
    from posenb.io.machinelabels import read_machinelabels_table
    from posenb.project.config import project_parts, read_config, write_config

    cfg = read_config(config)
    parts = project_parts(cfg)
    base = Path(cfg["project_path"]) / "labeled-data"
    scorer = cfg["scorer"]
    folders = [base / name for name in list_label_folders(cfg["project_path"])]
    unlabeled = []
    for folder in folders:
        has_images = any(folder.glob("*.png"))
        human = folder / f"CollectedData_{scorer}.h5"
        if not has_images and not human.exists():
            continue
        if human.exists() or (folder / "MachineLabelsRefine.h5").exists():
            mfile = find_machinelabels(folder, cfg.get("iteration"))
            if human.exists() and mfile is not None:
                machine = {i[-1] for i in read_machinelabels_table(mfile).index}
                labelled = LabelFolder.load(folder, scorer, parts=parts).file_rows  # images with a row
                todo = sorted(m for m in machine - labelled if (folder / m).exists())
                if todo:
                    warnings.warn(
                        f"{folder.name}: {len(todo)} machine-labelled frame(s) (e.g. {todo[0]}) are not in "
                        f"CollectedData_{scorer}.h5 yet; refine them or they will not be used.",
                        stacklevel=2,
                    )
            continue
        unlabeled.append(folder.name)
    if unlabeled:
        raise LabelError(
            f"Not merged: folder(s) {unlabeled} in {base} have no CollectedData_{scorer}.h5. Label or refine them "
            "(refinement panel), or remove those folders; config.yaml is unchanged."
        )
    previous = int(cfg.get("iteration") or 0)
    cfg["iteration"] = int(forceiterate) if forceiterate is not None else previous + 1
    write_config(config, cfg)
    print(
        f"Merged data sets: iteration {previous} -> {cfg['iteration']}. Next: create_training_dataset, then train."
    )
    return cfg["iteration"]
