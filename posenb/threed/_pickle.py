"""Calibration and 3D meta pickles (DeepLabCut's format), written atomically and read back safely.

posenb writes ``*_intrinsic_params.pickle``, ``stereo_params.pickle`` and ``*_DLC_3D_meta.pickle`` as
DeepLabCut does (dicts of numpy arrays, tuples, strings). Reading uses a restricted unpickler that rebuilds
numpy arrays and plain builtins only, so a foreign or tampered pickle can never run code: it fails with
:class:`posenb.errors.ConfigError` instead. Protocols 2 to 5 are accepted (DLC writes 4 and 5).
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

from posenb.errors import ConfigError

__all__ = ["read_pickle", "write_pickle"]

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


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def read_pickle(path: str | os.PathLike) -> Any:
    """Load a pickle holding only builtins and numpy arrays; :class:`ConfigError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} not found. Run calibrate_cameras(config, calibrate=True) first.")
    try:
        return _RestrictedUnpickler(io.BytesIO(path.read_bytes())).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError, ImportError) as exc:
        raise ConfigError(
            f"{path} cannot be read safely ({exc}); it holds more than arrays and plain values. "
            "Recreate it with calibrate_cameras(config, calibrate=True) or triangulate()."
        ) from None


def write_pickle(path: str | os.PathLike, data: Any) -> Path:
    """Pickle ``data`` to ``path`` atomically (protocol 4, readable by every DLC 2.x)."""
    from posenb.io.atomic import atomic_write

    payload = pickle.dumps(data, protocol=4)
    return atomic_write(Path(path), lambda tmp: Path(tmp).write_bytes(payload))
