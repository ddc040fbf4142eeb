"""HDF5 tables that every pandas reads: the one place posenb writes DeepLabCut's ``.h5`` files.

DeepLabCut 3.0.x runs on pandas 2.x. pandas >= 3.1 stopped writing the group attribute ``pandas_version``
(pandas 2 wrote ``"0.15.2"``, the storage-layout version, unchanged since 2014). pandas <= 3.0 reads a group
without it as version ``(0, 0, 0)``, and for "table" files ``pytables._maybe_adjust_name`` then looks for
the pre-0.10.1 column names (``values_0`` instead of ``values_block_0``), finds no ``values_0_dtype`` and
fails with ``AttributeError: 'NoneType' object has no attribute 'startswith'``. Measured with pandas 2.3.3
against files of pandas 3.1.1: that attribute is the only one pandas 2 needs and misses; the attributes
pandas 3.1 adds (``data_col_nan_rep``, ``mi_level_nan_rep``, per-level ``nan_rep``) are ignored by
pandas 2, and a group ``nan_rep`` of None reads as pandas 2's default ``"nan"``.

:func:`write_hdf` writes a DataFrame (atomically, keeping the previous file) and stamps ``pandas_version``
on every pandas group that lacks it, in "table" and "fixed" files alike, so the file is what pandas 2 wrote.
:func:`pandas2_problems` lists what a pandas-2 reader would miss in a file (used by the tests).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from posenb.io.atomic import atomic_write

__all__ = ["write_hdf", "stamp_pandas_version", "pandas2_problems", "PANDAS_STORAGE_VERSION", "DLC_KEY"]

#: the value pandas 0.15.2 ... 3.0 write into every group's ``pandas_version`` attribute
PANDAS_STORAGE_VERSION = "0.15.2"
#: the HDF5 key DeepLabCut writes and reads
DLC_KEY = "df_with_missing"


def _groups_with_pandas_type(handle):
    for node in handle.walk_groups("/"):
        if "pandas_type" in node._v_attrs._v_attrnamesuser:
            yield node


def stamp_pandas_version(path: str | os.PathLike) -> int:
    """Add ``pandas_version = "0.15.2"`` to every pandas group of ``path`` that lacks it; returns how many.

    Modifies the file in place: call it on a temporary file before it replaces the real one.
    """
    import tables  # noqa: PLC0415 - pandas' own HDF5 dependency

    stamped = 0
    with tables.open_file(str(path), mode="a") as handle:
        for group in _groups_with_pandas_type(handle):
            if "pandas_version" not in group._v_attrs._v_attrnamesuser:
                group._v_attrs.pandas_version = PANDAS_STORAGE_VERSION
                stamped += 1
    return stamped


def write_hdf(
    df: pd.DataFrame,
    path: str | os.PathLike,
    key: str = DLC_KEY,
    format: str = "fixed",  # noqa: A002 - pandas' name
    backup: bool = True,
) -> Path:
    """Write ``df`` to ``path`` under ``key`` ("fixed" or "table" format), readable by pandas 2 and 3.

    Atomic: the file is written and stamped (:func:`stamp_pandas_version`) under a temporary name, then
    renamed over ``path``; the previous file is kept as ``<name>.bak`` when ``backup``.
    """

    def _write(tmp: Path) -> None:
        df.to_hdf(tmp, key=key, format=format, mode="w")
        stamp_pandas_version(tmp)

    return atomic_write(Path(path), _write, backup=backup)


def pandas2_problems(path: str | os.PathLike) -> list[str]:
    """What pandas 2.x (DeepLabCut 3.0's pandas) would miss when reading ``path``; [] when it reads it.

    Checks, for every pandas group: ``pandas_version`` is present and names a version >= 0.10.1 (older or
    missing versions make pandas 2 look for pre-0.10.1 column names); for "table" groups, that every
    column block of ``values_cols`` has its ``<block>_dtype`` attribute and ``index_cols``,
    ``non_index_axes`` are present (what pandas 2's ``Table.indexables`` reads).
    """
    import tables  # noqa: PLC0415

    problems: list[str] = []
    with tables.open_file(str(path), mode="r") as handle:
        groups = list(_groups_with_pandas_type(handle))
        if not groups:
            problems.append(f"{path}: no pandas object (no group with a pandas_type attribute)")
        for group in groups:
            attrs = group._v_attrs
            names = attrs._v_attrnamesuser
            where = f"{path}:{group._v_pathname}"
            version = getattr(attrs, "pandas_version", None) if "pandas_version" in names else None
            if version is None:
                problems.append(f"{where}: no pandas_version attribute")
            else:
                try:
                    parts = tuple(int(p) for p in str(version).split("."))
                except ValueError:
                    parts = (0, 0, 0)
                if parts < (0, 10, 1):
                    problems.append(f"{where}: pandas_version {version!r} reads as a pre-0.10.1 layout")
            if str(attrs.pandas_type).endswith("_table"):
                for attr in ("index_cols", "values_cols", "non_index_axes"):
                    if attr not in names:
                        problems.append(f"{where}: no {attr} attribute")
                table = getattr(group, "table", None)
                table_attrs = table._v_attrs._v_attrnamesuser if table is not None else []
                for col in getattr(attrs, "values_cols", []) if "values_cols" in names else []:
                    if f"{col}_dtype" not in table_attrs:
                        problems.append(f"{where}/table: no {col}_dtype attribute")
    return problems
