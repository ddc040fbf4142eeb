"""Reading pickles safely: only plain builtins and numpy arrays are rebuilt, never arbitrary classes.

DeepLabCut stores meta data and calibrations as pickles (``_meta.pickle``, ``stereo_params.pickle``).
:class:`RestrictedUnpickler` rebuilds dicts, lists, tuples, numbers, strings and numpy arrays (protocols 2-5),
and refuses anything else, so a foreign or tampered file can never run code.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

__all__ = ["RestrictedUnpickler", "restricted_load", "UNPICKLE_ERRORS"]

_ALLOWED = {
    ("builtins", "dict"),
    ("builtins", "list"),
    ("builtins", "tuple"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "complex"),
    ("builtins", "slice"),
    ("builtins", "bytearray"),
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

UNPICKLE_ERRORS = (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, ImportError)


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds builtins and numpy arrays only."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def restricted_load(path: str | os.PathLike) -> Any:
    """Load ``path`` with :class:`RestrictedUnpickler` (raises one of :data:`UNPICKLE_ERRORS` if refused)."""
    return RestrictedUnpickler(io.BytesIO(Path(path).read_bytes())).load()
