"""Human label tables: ``labeled-data/<stem>/CollectedData_<scorer>.h5`` and ``.csv`` (DeepLabCut's layout).

A label table is a ``pandas.DataFrame``:

- rows: 3-level ``MultiIndex`` ``("labeled-data", "<stem>", "img0042.png")`` (sorted);
- columns: ``MultiIndex`` with levels ``["scorer", "bodyparts", "coords"]``, coords ``x``, ``y``;
- values: float64 pixel coordinates in the saved PNG (origin top-left), NaN where a part is not labeled.

Reading accepts every form DeepLabCut and napari-deeplabcut write: HDF5 keys ``df_with_missing`` or
``keypoints``, "table" or "fixed" storage, single-string row indices (``labeled-data/vid/img1.png``, Windows
separators too) and the 3-level index; CSV with one or three index columns. Writing always produces the
3-level index, key ``df_with_missing``, and both ``.h5`` and ``.csv``, atomically with a backup of the previous
files (``*.h5.bak``, ``*.csv.bak``).

A save is one step for every reader, even when the process is killed mid-save: both files are written to
temporary names and flushed first, the backups are made (each atomically), then the ``.h5`` is renamed into place
-- the commit point -- and the ``.csv`` right after it. The ``.h5`` is the label file (DeepLabCut and posenb read
it); the ``.csv`` is its copy for people and spreadsheets. A kill between the two renames leaves the ``.csv`` one
save behind, with the killed save's temporary file beside it; :func:`settle_labels`, run by the next save and by
the tools that read the ``.csv`` (``convertcsv2h5``), sees that and rewrites the ``.csv`` (and ``.csv.bak``) from
the ``.h5`` (and ``.h5.bak``), and removes the temporary files of killed saves.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import LabelError
from posenb.io.atomic import atomic_write, atomic_write_group, backup_path, clean_stale_temps, stale_temps
from posenb.io.hdf import stamp_pandas_version
from posenb.io.label_arrays import (
    LEVELS3,
    LEVELS4,
    UNIQUE_INDIVIDUAL,
    arrays_to_table,
    is_multianimal_table,
    table_individuals,
    table_to_arrays,
)
from posenb.io.safe_hdf5 import H5_KEYS, read_hdf_table

__all__ = [
    "read_labels",
    "write_labels",
    "labels_path",
    "guarantee_multiindex_rows",
    "empty_labels",
    "labels_to_array",
    "array_to_labels",
    "conform_labels",
    "read_hdf_any",
    "duplicate_rows",
    "row_name",
    "settle_labels",
]


def labels_path(project_path: str | os.PathLike, stem: str, scorer: str, suffix: str = ".h5") -> Path:
    """``<project>/labeled-data/<stem>/CollectedData_<scorer>.h5``."""
    return Path(project_path) / "labeled-data" / stem / f"CollectedData_{scorer}{suffix}"


def guarantee_multiindex_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Normalise the row index to DLC's 3-level tuples (DLC's ``guarantee_multiindex_rows``).

    String paths (``labeled-data/vid/img1.png`` or with backslashes) are split into their parts; integer
    indices are left untouched. Level 1 (the folder) is cast to ``str``.
    """
    if not isinstance(df.index, pd.MultiIndex):
        if len(df.index) and all(isinstance(i, str) for i in df.index):
            parts = [tuple(str(p).replace("\\", "/").split("/")) for p in df.index]
            parts = [p[-3:] if len(p) >= 3 else ("labeled-data",) * (3 - len(p)) + p for p in parts]
            df = df.copy()
            df.index = pd.MultiIndex.from_tuples(parts)
        else:
            return df
    if df.index.nlevels >= 2:
        levels = [df.index.get_level_values(i).astype(str) for i in range(df.index.nlevels)]
        df = df.copy()
        df.index = pd.MultiIndex.from_arrays(levels)
    df.index.names = [None] * df.index.nlevels
    return df


def read_hdf_any(path: Path) -> pd.DataFrame:
    """Read a DLC/napari HDF5 table: key ``df_with_missing``, then ``keypoints``, then the only key.

    The file is checked before pandas reads it: one holding pickled objects is refused (``LabelError`` naming
    the file and column), so no file's content ever runs code (see :mod:`posenb.io.safe_hdf5`).
    """
    return read_hdf_table(path, H5_KEYS)


def _read_csv(path: Path) -> pd.DataFrame:
    """DeepLabCut's label CSV: 3 header rows (scorer, bodyparts, coords) or 4 (scorer, individuals, bodyparts,
    coords: a multi-animal file, DLC's rule: ``individuals`` starts line 2); 3 index columns (the first data cell is
    ``labeled-data``) or the old single path column."""
    try:
        with open(path, encoding="utf-8") as fh:
            head = [fh.readline() for _ in range(6)]
    except UnicodeDecodeError:
        raise LabelError(f"{path}: not a text (UTF-8) file; expected a DeepLabCut label CSV.") from None
    n_header = 4 if len(head) > 1 and head[1].split(",")[0].strip() == "individuals" else 3
    three_index = len(head) > n_header and head[n_header].split(",")[0].strip() == "labeled-data"
    levels = "scorer/individuals/bodyparts/coords" if n_header == 4 else "scorer/bodyparts/coords"
    try:
        df = pd.read_csv(path, header=list(range(n_header)), index_col=[0, 1, 2] if three_index else 0)
    except (ValueError, pd.errors.ParserError) as exc:
        raise LabelError(
            f"{path}: not a DeepLabCut label CSV ({n_header} header rows {levels}): {exc}"
        ) from None
    return df


def read_labels(path: str | os.PathLike) -> pd.DataFrame:
    """Read a ``CollectedData_<scorer>`` file (``.h5`` or ``.csv``) into DLC's normalised layout.

    Returns a float64 DataFrame with a sorted 3-level row MultiIndex and columns ``(scorer, bodyparts, coords)``
    (single-animal) or ``(scorer, individuals, bodyparts, coords)`` (multi-animal, DeepLabCut's maDLC files).
    Raises :class:`LabelError` for missing or malformed files.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"Label file not found: {path}.")
    df = _read_csv(path) if path.suffix.lower() == ".csv" else read_hdf_any(path)
    if not isinstance(df.columns, pd.MultiIndex) or df.columns.nlevels not in (3, 4):
        raise LabelError(
            f"{path}: expected 3 column levels (scorer, bodyparts, coords) or 4 (scorer, individuals, bodyparts, "
            f"coords), found {df.columns.nlevels}."
        )
    df.columns = df.columns.set_names(LEVELS4 if df.columns.nlevels == 4 else LEVELS3)
    df = guarantee_multiindex_rows(df)
    try:
        df = df.astype("float64")
    except (TypeError, ValueError) as exc:
        raise LabelError(f"{path}: label values must be numbers ({exc}).") from None
    _check_label_table(df, path)
    return df.sort_index()


def row_name(row) -> str:
    """``labeled-data/<stem>/img1.png`` for a row index entry (tuple or string)."""
    return "/".join(map(str, row)) if isinstance(row, tuple) else str(row)


def duplicate_rows(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(images whose duplicate rows are identical, images whose rows disagree), as ``labeled-data/...`` names."""
    identical, conflicting = [], []
    if not df.index.has_duplicates:
        return identical, conflicting
    for row in dict.fromkeys(df.index[df.index.duplicated(keep=False)]):
        values = df.loc[[row]].to_numpy(dtype="float64")
        same = all(np.array_equal(values[0], v, equal_nan=True) for v in values[1:])
        (identical if same else conflicting).append(row_name(row))
    return identical, conflicting


def _check_label_table(df: pd.DataFrame, path: Path) -> None:
    """Problems that would silently lose or corrupt labels: a body part with x but no y (or the reverse),
    infinite coordinates (errors), the same image in several rows (a warning naming them)."""
    coords: dict[str, set] = {}
    for column in df.columns:
        part = "/".join(map(str, column[1:-1]))  # bodypart, or individual/bodypart
        coords.setdefault(part, set()).add(column[-1])
    broken = [bp for bp, have in coords.items() if len({"x", "y"} & have) == 1]
    if broken:
        raise LabelError(
            f"{path}: body part(s) {broken} lack their x or y column. Restore both columns (empty cells = not "
            "labeled) or remove the part's columns entirely."
        )
    infinite = np.isinf(df.to_numpy())
    if infinite.any():
        rows = [row_name(df.index[i]) for i in np.flatnonzero(infinite.any(axis=1))[:5]]
        raise LabelError(
            f"{path}: infinite coordinates in row(s) {rows}. Replace them by empty cells (= not labeled)."
        )
    identical, conflicting = duplicate_rows(df)
    if identical or conflicting:
        warnings.warn(
            f"{path}: {len(identical) + len(conflicting)} image(s) appear in more than one row"
            + (f"; with different coordinates: {conflicting[:5]}" if conflicting else f": {identical[:5]}")
            + ". Keep one row per image (posenb.dropduplicatesinannotatinfiles keeps the first); "
            "create_training_dataset refuses conflicting rows.",
            stacklevel=3,
        )


def _to_h5(df: pd.DataFrame, tmp: Path) -> None:
    df.to_hdf(tmp, key="df_with_missing", mode="w")
    stamp_pandas_version(tmp)  # pandas 2 (DeepLabCut 3.0's) reads it (posenb.io.hdf)


def _to_csv(df: pd.DataFrame, tmp: Path) -> None:
    df.to_csv(tmp)


def write_labels(df: pd.DataFrame, path: str | os.PathLike, csv: bool = True, backup: bool = True) -> Path:
    """Write a label table as ``.h5`` (key ``df_with_missing``) and ``.csv``, atomically.

    Single-animal tables have 3 column levels, multi-animal ones 4 (``scorer, individuals, bodyparts, coords``,
    written as DeepLabCut does: its CSV has 4 header rows).

    ``path`` may end in ``.h5`` or ``.csv``; both files are written. Rows are normalised to the 3-level index
    and sorted; values must be numbers. Refuses (``LabelError``) a table with more than one scorer or with
    duplicate rows, so nothing silently disappears.
    """
    path = Path(path).with_suffix(".h5")
    if not isinstance(df.columns, pd.MultiIndex) or df.columns.nlevels not in (3, 4):
        raise LabelError(
            f"Refusing to write {path}: columns must be (scorer, bodyparts, coords) or (scorer, individuals, "
            "bodyparts, coords)."
        )
    scorers = df.columns.get_level_values(0).unique()
    if len(scorers) != 1:
        raise LabelError(f"Refusing to write {path}: a label file holds one scorer, found {list(scorers)}.")
    out = guarantee_multiindex_rows(df).astype("float64")
    out.columns = out.columns.set_names(LEVELS4 if out.columns.nlevels == 4 else LEVELS3)
    if out.index.has_duplicates:
        dups = list(out.index[out.index.duplicated()])[:3]
        raise LabelError(f"Refusing to write {path}: duplicate rows {dups}. Drop duplicates first.")
    out = out.sort_index()
    settle_labels(path)
    targets = [(path, lambda tmp: _to_h5(out, tmp))]
    if csv:
        targets.append((path.with_suffix(".csv"), lambda tmp: _to_csv(out, tmp)))
    atomic_write_group(targets, backup=backup)  # the .h5 first: it is the commit point
    return path


def settle_labels(path: str | os.PathLike) -> bool:
    """Finish a label save that was killed midway: make the ``.csv`` (and ``.csv.bak``) match the ``.h5``
    (and ``.h5.bak``) again and remove the temporary files of killed saves.

    ``path``: the ``CollectedData_<scorer>.h5`` (or ``.csv``). Only acts when a killed save left temporary files
    (a ``.csv`` edited by hand is never touched otherwise); the ``.h5`` is the truth. Returns True when it
    repaired something. Safe to run at any time and to be killed itself (it writes atomically).
    """
    h5 = Path(path).with_suffix(".h5")
    csv = h5.with_suffix(".csv")
    group = (h5, csv, backup_path(h5), backup_path(csv))
    if not any(stale_temps(p) for p in group):
        return False
    for source, copy in ((h5, csv), (backup_path(h5), backup_path(csv))):
        if not (source.is_file() and copy.is_file()):
            continue
        try:
            df = read_labels(source)
        except LabelError:
            continue  # an unreadable .h5 is not ours to judge here; its .csv stays as it is
        atomic_write(copy, lambda tmp, df=df: _to_csv(df, tmp), backup=False)
    for p in (h5, csv):
        clean_stale_temps(p)
    return True


def empty_labels(
    scorer: str, bodyparts: Sequence[str], images: Sequence[tuple[str, str, str]]
) -> pd.DataFrame:
    """An all-NaN label table for ``images`` (3-tuples) and ``bodyparts``."""
    columns = pd.MultiIndex.from_product(
        [[scorer], list(bodyparts), ["x", "y"]], names=["scorer", "bodyparts", "coords"]
    )
    index = (
        pd.MultiIndex.from_tuples([tuple(i) for i in images])
        if len(images)
        else pd.MultiIndex.from_tuples([], names=[None, None, None])
    )
    return pd.DataFrame(np.nan, index=index, columns=columns, dtype="float64")


def labels_to_array(df: pd.DataFrame, bodyparts: Sequence[str] | None = None) -> np.ndarray:
    """``(n_images, n_bodyparts, 2)`` float64 x/y in pixels (NaN = missing), in ``bodyparts`` order.

    Single-animal tables only; multi-animal ones: :func:`posenb.io.label_arrays.table_to_arrays`.
    """
    if is_multianimal_table(df):
        raise LabelError("labels_to_array: a multi-animal table; use posenb.io.label_arrays.table_to_arrays.")
    scorer = df.columns.get_level_values(0)[0]
    bodyparts = (
        list(bodyparts) if bodyparts is not None else list(dict.fromkeys(df.columns.get_level_values(1)))
    )
    out = np.full((len(df), len(bodyparts), 2), np.nan)
    present = set(df.columns.get_level_values(1))
    for j, bp in enumerate(bodyparts):
        if bp in present:
            out[:, j, 0] = df[(scorer, bp, "x")].to_numpy()
            out[:, j, 1] = df[(scorer, bp, "y")].to_numpy()
    return out


def array_to_labels(
    arr: np.ndarray, scorer: str, bodyparts: Sequence[str], images: Sequence[tuple]
) -> pd.DataFrame:
    """Inverse of :func:`labels_to_array`: ``(n, K, 2)`` array to a label table."""
    df = empty_labels(scorer, bodyparts, images)
    df.iloc[:, :] = np.asarray(arr, dtype="float64").reshape(len(images), -1)
    return df


def conform_labels(
    df: pd.DataFrame,
    scorer: str,
    bodyparts: Sequence[str],
    where: str = "",
    individuals: Sequence[str] = (),
    unique_bodyparts: Sequence[str] = (),
) -> pd.DataFrame:
    """Reorder/complete a label table to config order (missing parts become NaN columns, likelihood dropped).

    Single-animal projects pass ``bodyparts`` only: the table must have 3 column levels. Multi-animal projects
    pass ``individuals`` (and ``unique_bodyparts``; ``project_parts(cfg)`` gives all three): the table must have 4
    levels; individuals the file lacks become NaN columns, and it comes back with the config's individuals in
    config order, then ``"single"``.

    Raises :class:`LabelError` when the table belongs to another scorer, is single-animal in a multi-animal
    project (or the reverse), or holds labels of body parts or individuals that config.yaml does not list (those
    would be lost: add them to config.yaml, or remove them explicitly). Unlabeled extra columns are dropped.
    """
    where = where or "label file"
    file_scorer = df.columns.get_level_values(0)[0]
    if file_scorer != scorer:
        raise LabelError(
            f"{where}: labels are by scorer {file_scorer!r} but config.yaml's scorer is {scorer!r}. "
            "Use the project's own scorer, or convert with posenb.convertcsv2h5(config, scorer=...)."
        )
    multi = bool(individuals) or bool(unique_bodyparts)
    if multi != is_multianimal_table(df):
        kind = (
            "multi-animal (4 column levels)"
            if is_multianimal_table(df)
            else "single-animal (3 column levels)"
        )
        project = "multi-animal" if multi else "single-animal"
        raise LabelError(
            f"{where}: a {kind} label table in a {project} project. Check multianimalproject in config.yaml, or "
            "relabel the folder in this project."
        )
    _refuse_lost_labels(df, bodyparts, individuals, unique_bodyparts, where)
    arrays = table_to_arrays(df, bodyparts, individuals, unique_bodyparts)
    return arrays_to_table(
        arrays.points, scorer, bodyparts, list(df.index), individuals, arrays.unique, unique_bodyparts
    )


def _labelled(df: pd.DataFrame, mask) -> bool:
    return bool(df.loc[:, mask].notna().to_numpy().any())


def _refuse_lost_labels(df, bodyparts, individuals, unique_bodyparts, where: str) -> None:
    """LabelError naming the labeled columns of ``df`` that the config's parts would drop."""
    if not is_multianimal_table(df):
        extra = [b for b in dict.fromkeys(df.columns.get_level_values(1)) if b not in bodyparts]
        labelled = [b for b in extra if _labelled(df, df.columns.get_level_values(1) == b)]
        if labelled:
            raise LabelError(
                f"{where}: holds labels for body part(s) {labelled} that config.yaml does not list "
                f"({list(bodyparts)}). Add them to 'bodyparts' or remove them from the file."
            )
        return
    inds = df.columns.get_level_values(1)
    parts = df.columns.get_level_values(2)
    unknown = [i for i in table_individuals(df) if i not in individuals and i != UNIQUE_INDIVIDUAL]
    lost_inds = [i for i in unknown if _labelled(df, inds == i)]
    if lost_inds:
        raise LabelError(
            f"{where}: holds labels of individual(s) {lost_inds} that config.yaml's individuals "
            f"({list(individuals)}) do not list. Add them to 'individuals' (or rename them in the file)."
        )
    animal = (inds != UNIQUE_INDIVIDUAL) & np.isin(inds, list(individuals))
    lost = sorted(set(parts[animal & ~np.isin(parts, list(bodyparts)) & _labelled_columns(df)]))
    single = inds == UNIQUE_INDIVIDUAL
    lost_unique = sorted(set(parts[single & ~np.isin(parts, list(unique_bodyparts)) & _labelled_columns(df)]))
    if lost or lost_unique:
        raise LabelError(
            f"{where}: holds labels for body part(s) {lost or lost_unique} that config.yaml does not list "
            f"(multianimalbodyparts {list(bodyparts)}, uniquebodyparts {list(unique_bodyparts)}). Add them to "
            "config.yaml or remove them from the file."
        )


def _labelled_columns(df: pd.DataFrame) -> np.ndarray:
    return df.notna().to_numpy().any(axis=0)
