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


def find_machinelabels(folder: str | os.PathLike, iteration: int | None = None) -> Path | None:
    """``machinelabels-iter<iteration>.h5`` in ``folder`` if it exists, else the highest iteration's, else None."""
    folder = Path(folder)
    if iteration is not None and (folder / f"machinelabels-iter{iteration}.h5").exists():
        return folder / f"machinelabels-iter{iteration}.h5"
    found = []
    for f in folder.glob("machinelabels-iter*.h5"):
        tail = f.stem[len("machinelabels-iter") :]
        if tail.isdigit():
            found.append((int(tail), f))
    return max(found)[1] if found else None


def _table_to_arrays(df: pd.DataFrame, bodyparts: Sequence[str], with_likelihood: bool):
    """(xy (n, K, 2), likelihood (n, K)) in ``bodyparts`` order; missing parts NaN."""
    n, k = len(df), len(bodyparts)
    xy = np.full((n, k, 2), np.nan)
    lik = np.full((n, k), np.nan)
    scorer = df.columns.get_level_values(0)[0]
    cols = set(df.columns)
    for j, bp in enumerate(bodyparts):
        for c, name in enumerate(("x", "y")):
            if (scorer, bp, name) in cols:
                xy[:, j, c] = df[(scorer, bp, name)].to_numpy(float)
        if with_likelihood and (scorer, bp, "likelihood") in cols:
            lik[:, j] = df[(scorer, bp, "likelihood")].to_numpy(float)
    return xy, lik


@dataclass
class RefinementSession:
    """The editable labels of one ``labeled-data/<stem>/`` folder.

    Attributes
    ----------
    config : config.yaml path. folder : the label folder. scorer : the human scorer (config ``scorer``).
    bodyparts : config body parts (column order of the saved file).
    images : ``[("labeled-data", stem, "img042.png"), ...]`` one per row, sorted.
    xy : ``(n, K, 2)`` float pixels (NaN = no point). likelihood : ``(n, K)``, NaN for human/edited points.
    source : ``(n,)`` ``"machine"`` or ``"human"`` (where the row came from).
    edited : ``(n, K)`` bool, points changed in this session. dropped : images removed in this session.
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
        from posenb.io.labels import guarantee_multiindex_rows, read_hdf_any, read_labels
        from posenb.project.config import read_config
        from posenb.project.paths import video_stem

        cfg = read_config(config)
        project = Path(cfg["project_path"])
        p = Path(str(video))
        folder = p if p.is_dir() else project / "labeled-data" / video_stem(p)
        if not folder.is_dir():
            raise LabelError(f"No label folder {folder}. Extract (outlier) frames for this video first.")
        stem = folder.name
        scorer, bodyparts = cfg["scorer"], list(cfg["bodyparts"])
        mfile = Path(machinelabels) if machinelabels else find_machinelabels(folder, cfg.get("iteration"))
        rows: dict[tuple, tuple[np.ndarray, np.ndarray, str]] = {}
        machine_scorer = None
        if mfile is not None and mfile.exists():
            mdf = guarantee_multiindex_rows(read_hdf_any(mfile))
            machine_scorer = str(mdf.columns.get_level_values(0)[0])
            extra = sorted(set(mdf.columns.get_level_values(1)) - set(bodyparts))
            if extra:
                warnings.warn(
                    f"{mfile.name}: body parts {extra} are not in config.yaml and are ignored.", stacklevel=2
                )
            mxy, mlik = _table_to_arrays(mdf, bodyparts, with_likelihood=True)
            missing_png = []
            for i, img in enumerate(mdf.index):
                img = ("labeled-data", stem, str(img[-1]))
                if not (folder / img[2]).exists():
                    missing_png.append(img[2])  # dropped earlier (moved to .trash) or deleted
                    continue
                rows[img] = (mxy[i], np.nan_to_num(mlik[i], nan=0.0), "machine")
            if missing_png:
                print(
                    f"{len(missing_png)} machine-labelled frame(s) without an image in {folder} are left out."
                )
        hfile = folder / f"CollectedData_{scorer}.h5"
        if hfile.exists():
            hdf = read_labels(hfile)
            hxy, _ = _table_to_arrays(hdf, bodyparts, with_likelihood=False)
            for i, img in enumerate(hdf.index):
                rows[("labeled-data", stem, str(img[-1]))] = (
                    hxy[i],
                    np.full(len(bodyparts), np.nan),
                    "human",
                )
        if not rows:
            raise LabelError(
                f"{folder} has neither machine labels (machinelabels-iter*.h5) nor CollectedData_{scorer}.h5."
            )
        images = sorted(rows)
        k = len(bodyparts)
        return cls(
            config=str(config), folder=folder, scorer=scorer, bodyparts=bodyparts, images=images,
            xy=np.array([rows[i][0] for i in images]).reshape(len(images), k, 2),
            likelihood=np.array([rows[i][1] for i in images]).reshape(len(images), k),
            source=np.array([rows[i][2] for i in images]), edited=np.zeros((len(images), k), bool),
            machine_file=mfile, machine_scorer=machine_scorer,
        )  # fmt: skip

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
        if isinstance(bodypart, (int, np.integer)):
            return int(bodypart)
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
        """This session's rows as a human label table (no likelihood; points outside their image NaN)."""
        from posenb.io.labels import array_to_labels

        xy = self.xy.copy()
        for i in range(len(self.images)):
            size = self.image_size(i)
            if size is None:
                continue
            w, h = size
            out = ~((xy[i, :, 0] >= 0) & (xy[i, :, 0] < w) & (xy[i, :, 1] >= 0) & (xy[i, :, 1] < h))
            xy[i, out] = np.nan
        return array_to_labels(xy, self.scorer, self.bodyparts, self.images)

    def save(self) -> Path:
        """Write ``CollectedData_<scorer>.h5/.csv`` (DLC's refinement contract; atomic, with ``.bak``), then move
        the PNGs of dropped frames to ``.trash/``. Returns the ``.h5`` path."""
        from posenb.io.labels import conform_labels, read_labels, write_labels

        path = self.folder / f"CollectedData_{self.scorer}.h5"
        existing = None
        if path.exists():
            existing = conform_labels(read_labels(path), self.scorer, self.bodyparts, where=str(path))
        merged = merge_refined(self.to_labels(), existing, self.dropped)
        write_labels(merged, path)
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
        self.dropped, self._trash = [], set()
        self.source[:] = "human"
        self.likelihood[:] = np.nan
        self.edited[:] = False
        return path


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
    from posenb.io.labels import guarantee_multiindex_rows, read_hdf_any, read_labels
    from posenb.project.config import read_config, write_config

    cfg = read_config(config)
    base = Path(cfg["project_path"]) / "labeled-data"
    scorer = cfg["scorer"]
    folders = (
        sorted(
            f
            for f in base.iterdir()
            if f.is_dir() and "_labeled" not in f.name and not f.name.startswith(".")
        )
        if base.is_dir()
        else []
    )
    unlabeled = []
    for folder in folders:
        has_images = any(folder.glob("*.png"))
        human = folder / f"CollectedData_{scorer}.h5"
        if not has_images and not human.exists():
            continue
        if human.exists() or (folder / "MachineLabelsRefine.h5").exists():
            mfile = find_machinelabels(folder, cfg.get("iteration"))
            if human.exists() and mfile is not None:
                machine = {i[-1] for i in guarantee_multiindex_rows(read_hdf_any(mfile)).index}
                labelled = {i[-1] for i in read_labels(human).index}
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
