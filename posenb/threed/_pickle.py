"""Calibration and 3D meta pickles (DeepLabCut's format), written atomically and read back safely.

posenb writes ``*_intrinsic_params.pickle``, ``stereo_params.pickle`` and ``*_DLC_3D_meta.pickle`` as
DeepLabCut does (dicts of numpy arrays, tuples, strings). Reading uses a restricted unpickler that rebuilds
numpy arrays and plain builtins only, so a foreign or tampered pickle can never run code: it fails with
:class:`posenb.errors.ConfigError` instead. Protocols 2 to 5 are accepted (DLC writes 4 and 5).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from posenb.errors import ConfigError
from posenb.io.safe_pickle import UNPICKLE_ERRORS, restricted_load

__all__ = ["read_pickle", "write_pickle"]

def read_pickle(path: str | os.PathLike) -> Any:
    """Load a pickle holding only builtins and numpy arrays; :class:`ConfigError` otherwise."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} not found. Run calibrate_cameras(config, calibrate=True) first.")
    try:
        return restricted_load(path)
    except UNPICKLE_ERRORS as exc:
        raise ConfigError(
            f"{path} cannot be read safely ({exc}); it holds more than arrays and plain values. "
            "Recreate it with calibrate_cameras(config, calibrate=True) or triangulate()."
        ) from None


def write_pickle(path: str | os.PathLike, data: Any) -> Path:
    """Pickle ``data`` to ``path`` atomically (protocol 4, readable by every DLC 2.x)."""
    import pickle

    from posenb.io.atomic import atomic_write

    payload = pickle.dumps(data, protocol=4)
    return atomic_write(Path(path), lambda tmp: Path(tmp).write_bytes(payload))
