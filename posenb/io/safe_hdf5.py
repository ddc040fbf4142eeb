"""Reading DeepLabCut's HDF5 tables (labels, predictions) without ever running code from the file.

pandas stores HDF5 tables through PyTables, and PyTables *unpickles* two things on read: object columns (a
"fixed" table's ``block<i>_values`` node with ``PSEUDOATOM = object``) and every string attribute that looks
like a pickle (pandas keeps its own bookkeeping there: ``non_index_axes``, ``info``, ``values_block_0_kind``...).
A crafted file can hide a payload in either, and it would run as soon as pandas opened the table.

:func:`read_hdf_table` therefore reads the file's bytes once, inspects them with h5py (which never unpickles)
and only then lets pandas read the *same bytes* from memory (no second read of the file a swap could exploit):

- every pickle in the file (attributes and object columns) is walked by
  :func:`posenb.io.safe_pickle.scan_pickle`; one that names anything beyond builtins and numpy's array
  constructors is refused with a :class:`LabelError` naming the file and the column (or node and attribute);
  plain pickles (pandas' own lists, dicts, strings, numbers) pass, so every file DeepLabCut, napari-deeplabcut
  and pandas write is read as before;
- links to other files, external raw storage and virtual datasets (all of which would read data from
  elsewhere) are refused;
- a file that is not HDF5 at all gets a :class:`LabelError`, never h5py's or PyTables' traceback.

Files larger than :data:`MAX_IN_MEMORY` bytes are checked and then opened by path.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from posenb.errors import LabelError
from posenb.io.safe_pickle import is_placeholder, scan_pickle

__all__ = ["read_hdf_table", "check_hdf5", "UnsafeHDF5Error", "H5_KEYS", "MAX_IN_MEMORY"]

#: Keys tried in order (DeepLabCut, napari-deeplabcut), then the file's only/first key.
H5_KEYS = ("df_with_missing", "keypoints")
#: Files up to this size are read into memory once, checked and parsed from the same bytes.
MAX_IN_MEMORY = 1 << 30

_BLOCK_RE = re.compile(r"^block(\d+)_values$")


class UnsafeHDF5Error(LabelError):
    """An HDF5 file holds pickled Python objects that could run code, or reads data from other files."""


def _refuse(path: Path, where: str, what: str) -> UnsafeHDF5Error:
    return UnsafeHDF5Error(
        f"Refusing to read {path}: {where} {what}. posenb reads only plain tables: never pickled objects (they "
        "could run code on your machine), links to other files or link cycles. If you made this file, save the "
        "table with numbers only (float x/y/likelihood columns: DataFrame.astype(float).to_hdf(...)); otherwise "
        "ask its author for a clean copy."
    )


def _pickle_candidates(value: Any) -> list[bytes]:
    """The byte strings of an attribute value that a PyTables reader may try to unpickle (ending in '.')."""
    items = value.ravel().tolist() if isinstance(value, np.ndarray) else [value]
    out = []
    for item in items:
        if isinstance(item, str):
            item = item.encode("utf-8", "surrogateescape")
        if isinstance(item, (bytes, np.bytes_)) and bytes(item).rstrip(b"\x00").endswith(b"."):
            out.append(bytes(item).rstrip(b"\x00"))
    return out


def _decode(values: np.ndarray) -> list:
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in values.tolist()]


def _block_columns(group, index: int) -> list | None:
    """Column labels of a fixed-format frame's block ``index`` (None if they are not plain strings/numbers)."""
    base = f"block{index}_items"
    try:
        if base in group and group[base].dtype.kind in "SUifb":
            return _decode(group[base][()])
        nlevels = int(group.attrs.get(f"{base}_nlevels", 0))
        if nlevels:
            levels = [group[f"{base}_level{j}"] for j in range(nlevels)]
            labels = [group[f"{base}_label{j}"][()] for j in range(nlevels)]
            if all(lv.dtype.kind in "SUifb" for lv in levels):
                decoded = [_decode(lv[()]) for lv in levels]
                return [tuple(decoded[j][int(lab[i])] for j, lab in enumerate(labels)) for i in range(len(labels[0]))]
    except (KeyError, ValueError, TypeError, IndexError, OSError):
        return None
    return None


def _bad_columns(obj: Any, columns: list | None, transposed: bool) -> list:
    """The column labels whose cells hold placeholders in a rebuilt object block."""
    if not isinstance(obj, np.ndarray) or obj.dtype != object or obj.ndim != 2 or not columns:
        return []
    arr = obj.T if transposed else obj
    if arr.shape[0] != len(columns):
        arr = arr.T
    if arr.shape[0] != len(columns):
        return []
    bad = [j for j in range(arr.shape[0]) if any(_holds_placeholder(v) for v in arr[j])]
    return [columns[j] for j in bad]


def _holds_placeholder(value: Any, depth: int = 0) -> bool:
    if is_placeholder(value):
        return True
    if depth > 20:
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_placeholder(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(_holds_placeholder(k, depth + 1) or _holds_placeholder(v, depth + 1) for k, v in value.items())
    return False


def _check_attributes(path: Path, obj, node: str) -> None:
    import h5py

    for name in list(obj.attrs.keys()):
        try:
            value = obj.attrs[name]
        except (OSError, TypeError, ValueError):
            # h5py reads every string type; a string attribute it cannot read is not to be trusted
            atype = h5py.h5a.open(obj.id, name.encode()).get_type()
            if atype.get_class() == h5py.h5t.STRING:
                raise _refuse(path, f"attribute {name!r} of {node}", "cannot be checked") from None
            continue
        for data in _pickle_candidates(value):
            refused, _ = scan_pickle(data)
            if name == "FILTERS" or refused:  # PyTables 1.x FILTERS pickles are rewritten before loading
                what = ", ".join(refused) or "a PyTables 1.x object"
                column = f" (the column names of {name[: -len('_kind')]})" if name.endswith("_kind") else ""
                raise _refuse(path, f"attribute {name!r} of {node}{column}", f"holds a pickle that would load {what}")


def _check_dataset(path: Path, ds, node: str) -> None:
    if ds.external:
        raise _refuse(path, f"dataset {node}", "stores its data in other files")
    if ds.is_virtual:
        raise _refuse(path, f"dataset {node}", "is a virtual dataset reading other files")
    pseudo = ds.attrs.get("PSEUDOATOM")
    if isinstance(pseudo, bytes):
        pseudo = pseudo.decode("utf-8", "replace")
    if pseudo != "object":
        return
    try:
        rows = ds[()]
    except (OSError, TypeError, ValueError):
        raise _refuse(path, f"object column {node}", "cannot be checked") from None
    for row in np.atleast_1d(rows):
        refused, obj = scan_pickle(np.asarray(row, dtype=np.uint8).tobytes())
        if refused:
            where = f"object column {node}"
            match = _BLOCK_RE.match(node.rsplit("/", 1)[-1])
            if match:
                group = ds.parent
                columns = _block_columns(group, int(match.group(1)))
                transposed = bool(ds.attrs.get("transposed", False))
                bad = _bad_columns(obj, columns, transposed) or columns
                if bad:
                    where = f"column {', '.join(map(str, bad))} (node {node})"
            raise _refuse(path, where, f"holds pickled objects that would load {', '.join(refused)}")


def _check_file(path: Path, f) -> None:
    import h5py

    groups, seen = [f], set()
    while groups:  # every link of every group (h5py's visit_links needs h5py >= 3.11)
        group = groups.pop()
        for name in group:
            link = group.get(name, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise _refuse(path, f"link {group.name.rstrip('/')}/{name}", f"points into another file ({link.filename})")
            if isinstance(link, h5py.HardLink):
                obj = group.get(name)
                if isinstance(obj, h5py.Group):
                    if obj.id in seen or obj.id == f.id:  # ids compare by object
                        # PyTables (pandas' keys()) would walk a hard-link cycle forever
                        raise _refuse(path, f"group {group.name.rstrip('/')}/{name}", "is linked twice (a link cycle)")
                    seen.add(obj.id)
                    groups.append(obj)
    _check_attributes(path, f, "/")

    def visit(name, obj):
        node = "/" + name
        _check_attributes(path, obj, node)
        if isinstance(obj, h5py.Dataset):
            _check_dataset(path, obj, node)

    f.visititems(visit)


def check_hdf5(source: str | os.PathLike | bytes, name: str | os.PathLike | None = None) -> None:
    """Inspect an HDF5 file (a path or its bytes) with h5py; :class:`LabelError` if it is not HDF5,
    :class:`UnsafeHDF5Error` if it holds pickles that would load anything but plain data. Nothing is unpickled
    for real and nothing of the file runs."""
    import h5py

    path = Path(name if name is not None else source if not isinstance(source, bytes) else "<memory>")
    handle = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    try:
        f = h5py.File(handle, "r")
    except (OSError, ValueError) as exc:
        raise LabelError(f"Cannot read {path}: not an HDF5 file, or a truncated one ({exc}).") from None
    with f:
        try:
            _check_file(path, f)
        except UnsafeHDF5Error:
            raise
        except (OSError, KeyError, ValueError, RuntimeError) as exc:  # damaged metadata inside the file
            raise LabelError(f"Cannot read {path}: damaged HDF5 file ({exc}).") from None


def read_hdf_table(path: str | os.PathLike, keys: tuple[str, ...] = H5_KEYS):
    """Read a DLC/napari HDF5 table safely: key ``df_with_missing``, then ``keypoints``, then the first key.

    Returns the ``pandas.DataFrame`` as stored. Raises :class:`LabelError` for a missing, non-HDF5, damaged
    or empty file and :class:`UnsafeHDF5Error` (a LabelError) for one holding pickled objects (see the module
    docstring).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise LabelError(f"File not found: {path}.")
    data = path.read_bytes() if path.stat().st_size <= MAX_IN_MEMORY else None
    check_hdf5(data if data is not None else path, name=path)
    if data is not None:
        opener = {"driver": "H5FD_CORE", "driver_core_image": data, "driver_core_backing_store": 0}
        target = str(path.with_name(f".posenb-in-memory-{os.getpid()}-{id(data)}-{path.name}"))
    else:
        opener, target = {}, str(path)
    try:
        with pd.HDFStore(target, mode="r", **opener) as store:
            present = [k.lstrip("/") for k in store.keys()]
            for key in (*keys, *present):
                if key in present:
                    table = store[key]
                    if not isinstance(table, pd.DataFrame):
                        raise LabelError(f"{path}: key {key!r} holds a {type(table).__name__}, not a table.")
                    return table
    except LabelError:
        raise
    except Exception as exc:  # noqa: BLE001 - tables/pandas errors of every kind: not a table we understand
        raise LabelError(f"Cannot read {path}: not a DeepLabCut label/prediction HDF5 table ({exc}).") from None
    raise LabelError(f"{path} holds no table (expected key 'df_with_missing' or 'keypoints').")
