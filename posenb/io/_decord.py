"""Import decord without letting it preload CUDA libraries into the process.

decord2 3.4 ``dlopen``s every ``site-packages/nvidia/*/lib/*.so`` with ``RTLD_GLOBAL`` when it is imported (to
find a CUDA runtime for its GPU decoder). On a machine where torch's CUDA wheels are installed, that includes
``libnvblas``, whose ``sgemm_`` then replaces torch's CPU BLAS and crashes small CPU convolutions (seen with
batch sizes 1-2). posenb decodes on the CPU only, so the ``nvidia`` package is hidden from decord's search while
it is imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading

__all__ = ["import_decord"]

_lock = threading.Lock()


def import_decord():
    """Return the ``decord`` module, imported without preloading CUDA libraries."""
    if "decord" in sys.modules:
        return sys.modules["decord"]
    with _lock:
        if "decord" in sys.modules:
            return sys.modules["decord"]
        original = importlib.util.find_spec

        def find_spec(name, *args, **kwargs):
            if name == "nvidia":
                return None
            return original(name, *args, **kwargs)

        importlib.util.find_spec = find_spec
        try:
            return importlib.import_module("decord")
        finally:
            importlib.util.find_spec = original
