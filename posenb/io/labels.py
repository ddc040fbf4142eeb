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
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import LabelError
from posenb.io.atomic import atomic_write
from posenb.io.hdf import write_hdf

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
]

H5_KEYS = ("df_with_missing", "keypoints")


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
    """Read a DLC/napari HDF5 table: key ``df_with_missing``, then ``keypoints``, then the only key."""
    try:
        with pd.HDFStore(path, mode="r") as store:
            keys = [k.lstrip("/") for k in store.keys()]
            for key in (*H5_KEYS, *keys):
                if key in keys:
                    return store[key]
    except Exception as exc:  # tables.HDF5ExtError and friends: not an HDF5 table we understand
        raise LabelError(f"Cannot read {path}: not a DeepLabCut label/prediction HDF5 file ({exc}).") from None
    raise LabelError(f"{path} holds no table (expected key 'df_with_missing' or 'keypoints').")


def _read_csv(path: Path) -> pd.DataFrame:
    with open(path, encoding="utf-8") as fh:
        head = [fh.readline() for _ in range(5)]
    if len(head) > 1 and head[1].split(",")[0] == "individuals":
        raise LabelError(f"{path}: multi-animal label files are not supported by posenb yet.")
    three_index = len(head) > 3 and head[3].split(",")[0] == "labeled-data"
    try:
        df = pd.read_csv(path, header=[0, 1, 2], index_col=[0, 1, 2] if three_index else 0)
    except (ValueError, pd.errors.ParserError) as exc:
        raise LabelError(f"{path}: not a DeepLabCut label CSV (3 header rows scorer/bodyparts/coords): {exc}") from None
    return df


def read_labels(path: str | os.PathLike) -> pd.DataFrame:
    """Read a ``CollectedData_<scorer>`` file (``.h5`` or ``.csv``) into DLC's normalised layout.

    Returns a float64 DataFrame with a sorted 3-level row MultiIndex and columns
    ``(scorer, bodyparts, coords)``. Raises :class:`LabelError` for missing or malformed files.
    """
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"Label file not found: {path}.")
    df = _read_csv(path) if path.suffix.lower() == ".csv" else read_hdf_any(path)
    if not isinstance(df.columns, pd.MultiIndex) or df.columns.nlevels != 3:
        raise LabelError(
            f"{path}: expected 3 column levels (scorer, bodyparts, coords), found {df.columns.nlevels}. "
            "Multi-animal files are not supported yet."
        )
    df.columns = df.columns.set_names(["scorer", "bodyparts", "coords"])
    df = guarantee_multiindex_rows(df)
    try:
        df = df.astype("float64")
    except (TypeError, ValueError) as exc:
        raise LabelError(f"{path}: label values must be numbers ({exc}).") from None
    return df.sort_index()


def _to_csv(df: pd.DataFrame, tmp: Path) -> None:
    df.to_csv(tmp)


def write_labels(df: pd.DataFrame, path: str | os.PathLike, csv: bool = True, backup: bool = True) -> Path:
    """Write a label table as ``.h5`` (key ``df_with_missing``) and ``.csv``, atomically.

    ``path`` may end in ``.h5`` or ``.csv``; both files are written. Rows are normalised to the 3-level index
    and sorted; values must be numbers. Refuses (``LabelError``) a table with more than one scorer or with
    duplicate rows, so nothing silently disappears.
    """
    path = Path(path).with_suffix(".h5")
    if not isinstance(df.columns, pd.MultiIndex) or df.columns.nlevels != 3:
        raise LabelError(f"Refusing to write {path}: columns must be (scorer, bodyparts, coords).")
    scorers = df.columns.get_level_values(0).unique()
    if len(scorers) != 1:
        raise LabelError(f"Refusing to write {path}: a label file holds one scorer, found {list(scorers)}.")
    out = guarantee_multiindex_rows(df).astype("float64")
    out.columns = out.columns.set_names(["scorer", "bodyparts", "coords"])
    if out.index.has_duplicates:
        dups = list(out.index[out.index.duplicated()])[:3]
        raise LabelError(f"Refusing to write {path}: duplicate rows {dups}. Drop duplicates first.")
    out = out.sort_index()
    write_hdf(out, path, format="fixed", backup=backup)
    if csv:
        atomic_write(path.with_suffix(".csv"), lambda tmp: _to_csv(out, tmp), backup=backup)
    return path


def empty_labels(scorer: str, bodyparts: Sequence[str], images: Sequence[tuple[str, str, str]]) -> pd.DataFrame:
    """An all-NaN label table for ``images`` (3-tuples) and ``bodyparts``."""
    columns = pd.MultiIndex.from_product([[scorer], list(bodyparts), ["x", "y"]], names=["scorer", "bodyparts", "coords"])
    index = pd.MultiIndex.from_tuples([tuple(i) for i in images]) if len(images) else pd.MultiIndex.from_tuples(
        [], names=[None, None, None]
    )
    return pd.DataFrame(np.nan, index=index, columns=columns, dtype="float64")


def labels_to_array(df: pd.DataFrame, bodyparts: Sequence[str] | None = None) -> np.ndarray:
    """``(n_images, n_bodyparts, 2)`` float64 x/y in pixels (NaN = missing), in ``bodyparts`` order."""
    scorer = df.columns.get_level_values(0)[0]
    bodyparts = list(bodyparts) if bodyparts is not None else list(dict.fromkeys(df.columns.get_level_values(1)))
    out = np.full((len(df), len(bodyparts), 2), np.nan)
    present = set(df.columns.get_level_values(1))
    for j, bp in enumerate(bodyparts):
        if bp in present:
            out[:, j, 0] = df[(scorer, bp, "x")].to_numpy()
            out[:, j, 1] = df[(scorer, bp, "y")].to_numpy()
    return out


def array_to_labels(arr: np.ndarray, scorer: str, bodyparts: Sequence[str], images: Sequence[tuple]) -> pd.DataFrame:
    """Inverse of :func:`labels_to_array`: ``(n, K, 2)`` array to a label table."""
    df = empty_labels(scorer, bodyparts, images)
    df.iloc[:, :] = np.asarray(arr, dtype="float64").reshape(len(images), -1)
    return df


def conform_labels(df: pd.DataFrame, scorer: str, bodyparts: Sequence[str], where: str = "") -> pd.DataFrame:
    """Reorder/complete a label table to config order (missing parts become NaN columns, likelihood dropped).

    Raises :class:`LabelError` when the table belongs to another scorer, or holds labels of body parts not in
    ``bodyparts`` (those would be lost: add them to config.yaml, or remove them explicitly).
    """
    file_scorer = df.columns.get_level_values(0)[0]
    if file_scorer != scorer:
        raise LabelError(
            f"{where or 'label file'}: labels are by scorer {file_scorer!r} but config.yaml's scorer is {scorer!r}. "
            "Use the project's own scorer, or convert with posenb.convertcsv2h5(config, scorer=...)."
        )
    extra = [b for b in dict.fromkeys(df.columns.get_level_values(1)) if b not in bodyparts]
    if extra:
        labelled = [b for b in extra if df.xs(b, level="bodyparts", axis=1).notna().to_numpy().any()]
        if labelled:
            raise LabelError(
                f"{where or 'label file'}: holds labels for body part(s) {labelled} that config.yaml does not list "
                f"({list(bodyparts)}). Add them to 'bodyparts' or remove them from the file."
            )
    arr = labels_to_array(df, bodyparts)
    return array_to_labels(arr, scorer, bodyparts, list(df.index))
