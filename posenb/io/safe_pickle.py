"""Reading pickles safely: only plain builtins and numpy arrays are rebuilt, never arbitrary classes.

DeepLabCut stores meta data and calibrations as pickles (``_meta.pickle``, ``stereo_params.pickle``).
:class:`RestrictedUnpickler` rebuilds dicts, lists, tuples, numbers, strings and numpy arrays (protocols 0-5),
and refuses any other global (class or function) *before* it is imported or called, so a foreign or tampered
file can never run code.

DeepLabCut 3's own ``_meta.pickle`` also holds ``pathlib`` paths and DeepLabCut's enums (``Engine``, ``Task``,
inside the ``pytorch-config`` dict). With ``foreign=True`` those are read as plain data without importing
deeplabcut or pathlib's classes: a path becomes its ``str``; an object of a ``deeplabcut.*`` class becomes plain
data (an enum its value, e.g. ``Engine.PYTORCH`` -> ``"pytorch"``, its first alias; a dataclass its fields as a
dict). Nothing of the file's choosing is ever called.

:func:`scan_pickle` is the check the HDF5 reader uses: it walks a pickle the same way, records every global it
would have to import (placeholders stand in for them, so the walk goes on) and returns them.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

__all__ = [
    "RestrictedUnpickler",
    "RefusedGlobal",
    "restricted_load",
    "restricted_loads",
    "scan_pickle",
    "is_placeholder",
    "UNPICKLE_ERRORS",
]

_BUILTINS = ("dict", "list", "tuple", "set", "frozenset", "complex", "slice", "bytearray")
_ALLOWED = {
    *(("builtins", n) for n in _BUILTINS),
    *(("__builtin__", n) for n in _BUILTINS),  # Python 2 pickles
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),  # protocol 2 stores bytes through it
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),  # protocol 5
    ("numpy._core.numeric", "_frombuffer"),
}
_PATH_MODULES = ("pathlib", "pathlib._local")
_PATH_CLASSES = {"Path", "PurePath", "PosixPath", "PurePosixPath", "WindowsPath", "PureWindowsPath"}


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle names a class or function that may not be loaded (``module``, ``name``)."""

    def __init__(self, module: str, name: str):
        super().__init__(f"refusing to load {module}.{name}")
        self.module, self.name = module, name


UNPICKLE_ERRORS = (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, ImportError,
                   IndexError, KeyError, MemoryError, RecursionError, OverflowError, UnicodeDecodeError)


def _allowed(module: str, name: str) -> bool:
    return (module, name) in _ALLOWED or (module in ("numpy.dtypes",) and name.endswith("DType"))


class _Placeholder:
    """Stands in for a class or function a pickle names: accepts every construction step, runs nothing."""

    _qualified = "?"

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        object.__setattr__(obj, "_args", args)
        object.__setattr__(obj, "_state", None)
        object.__setattr__(obj, "_items", [])
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        object.__setattr__(self, "_state", state)

    def append(self, item):
        self._items.append(item)

    def extend(self, items):
        self._items.extend(items)

    def __setitem__(self, key, value):
        self._items.append((key, value))


def _placeholder_class(module: str, name: str) -> type:
    return type(name.replace(".", "_"), (_Placeholder,), {"_qualified": f"{module}.{name}"})


def is_placeholder(obj: Any) -> bool:
    """True if ``obj`` is a stand-in for a refused global (see :func:`scan_pickle`)."""
    return isinstance(obj, _Placeholder) or (isinstance(obj, type) and issubclass(obj, _Placeholder))


def _path_factory(name: str):
    pure = PureWindowsPath if "Windows" in name else PurePosixPath

    def make_path(*parts):
        return str(pure(*[str(p) for p in parts]))

    return make_path


def _plain(obj: Any, memo: dict) -> Any:
    """Replace DeepLabCut placeholders by plain data (recursively, cycles kept)."""
    key = id(obj)
    if key in memo:
        return memo[key][1]
    if isinstance(obj, _Placeholder):
        if isinstance(obj._state, dict):
            out = _plain({k: v for k, v in obj._state.items() if not str(k).startswith("_")}, memo)
        elif obj._state is not None:
            out = _plain(obj._state, memo)
        elif len(obj._args) == 1:
            out = _plain(obj._args[0], memo)
            if isinstance(out, dict) and isinstance(out.get("aliases"), (list, tuple)) and out["aliases"]:
                out = out["aliases"][0]  # DLC's Engine / Task enums: their first alias ("pytorch", "BU")
        elif obj._items:
            out = _plain(list(obj._items), memo)
        else:
            out = _plain(list(obj._args), memo)
        memo[key] = (obj, out)
        return out
    if isinstance(obj, dict):
        out = {}
        memo[key] = (obj, out)  # the source is kept alive so that its id is not reused
        for k, v in obj.items():
            out[_plain(k, memo)] = _plain(v, memo)
        return out
    if isinstance(obj, list):
        out = []
        memo[key] = (obj, out)
        out.extend(_plain(v, memo) for v in obj)
        return out
    if isinstance(obj, tuple):
        out = tuple(_plain(v, memo) for v in obj)
        memo[key] = (obj, out)
        return out
    if is_placeholder(obj):  # a class itself, never instantiated
        return obj._qualified
    return obj


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds builtins and numpy arrays only.

    ``foreign=True`` also reads DeepLabCut 3's objects as plain data (paths -> ``str``, ``deeplabcut.*``
    enums and dataclasses -> their value / fields), see the module docstring. ``placeholders=True`` puts an
    inert stand-in wherever any other global is named instead of raising, and records it in ``refused``
    (used by :func:`scan_pickle` only; such a result is never handed to the user).
    """

    def __init__(self, file, *, foreign: bool = False, placeholders: bool = False, **kwargs):
        super().__init__(file, **kwargs)
        self.foreign = foreign
        self.placeholders = placeholders
        self.refused: list[str] = []
        self._made_placeholders = False

    def find_class(self, module: str, name: str):
        if _allowed(module, name):
            return super().find_class(module, name)
        if self.foreign:
            if module in _PATH_MODULES and name in _PATH_CLASSES:
                return _path_factory(name)
            if module == "deeplabcut" or module.startswith("deeplabcut."):
                self._made_placeholders = True
                return _placeholder_class(module, name)
        if self.placeholders:
            self.refused.append(f"{module}.{name}")
            return _placeholder_class(module, name)
        raise RefusedGlobal(module, name)

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("persistent ids are not supported")

    def load(self):
        obj = super().load()
        if self._made_placeholders and not self.placeholders:
            obj = _plain(obj, {})
        return obj


def restricted_loads(data: bytes, foreign: bool = False, encoding: str = "ASCII") -> Any:
    """Unpickle ``data`` with :class:`RestrictedUnpickler` (raises one of :data:`UNPICKLE_ERRORS` if refused)."""
    return RestrictedUnpickler(io.BytesIO(data), foreign=foreign, encoding=encoding).load()


def restricted_load(path: str | os.PathLike, foreign: bool = False) -> Any:
    """Load ``path`` with :class:`RestrictedUnpickler` (raises one of :data:`UNPICKLE_ERRORS` if refused).

    ``foreign=True``: DeepLabCut 3's paths and enums become plain data (see the module docstring).
    """
    return restricted_loads(Path(path).read_bytes(), foreign=foreign)


def scan_pickle(data: bytes) -> tuple[list[str], Any]:
    """(globals ``data`` would import beyond the allowed ones, what it rebuilds with placeholders for them).

    The pickle is walked under every text encoding a reader may try (ASCII, latin1, bytes), as PyTables does,
    so that a refusal cannot hide behind a decoding error. An empty list means that unpickling ``data`` with
    any unpickler runs nothing but builtins and numpy's array constructors. The second item is the object
    rebuilt under the default encoding (None if that failed); it may hold inert placeholders (see
    :func:`is_placeholder`) and is only meant for locating them.
    """
    refused: list[str] = []
    first: Any = None
    for i, encoding in enumerate(("ASCII", "latin1", "bytes")):
        unpickler = RestrictedUnpickler(io.BytesIO(data), placeholders=True, encoding=encoding)
        try:
            obj = unpickler.load()
        except Exception:  # noqa: BLE001 - not a (valid) pickle: whatever was named before the failure counts
            obj = None
        if i == 0:
            first = obj
        refused.extend(r for r in unpickler.refused if r not in refused)
    return refused, first
