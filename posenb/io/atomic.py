"""Atomic writes that keep the previous version.

Every write of labels, predictions or configs goes through :func:`atomic_write`: the new content is written to a
temporary file in the same folder, flushed to disk, and renamed over the target in one step (``os.replace``), so a
crash mid-write leaves the old file intact. The previous file is kept as ``<name>.bak`` (one generation).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "backup_path"]


def backup_path(path: str | os.PathLike) -> Path:
    """Where the previous version of ``path`` is kept: ``<name>.bak`` next to it."""
    path = Path(path)
    return path.with_name(path.name + ".bak")


def atomic_write(path: str | os.PathLike, write_fn: Callable[[Path], None], backup: bool = True) -> Path:
    """Write ``path`` atomically.

    Parameters
    ----------
    path : the file to write.
    write_fn : called with a temporary path (same folder, same suffix) that it must write completely.
    backup : keep the previous file as ``<name>.bak``.

    If ``write_fn`` raises, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix + ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        tmp_path.unlink()  # let the writer create it (HDF5 writers refuse some pre-existing empty files)
        write_fn(tmp_path)
        if not tmp_path.exists():
            raise OSError(f"writing {path} produced no file")
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        if backup and path.exists():
            bak = backup_path(path)
            shutil.copy2(path, bak)
        os.replace(tmp_path, path)
    except BaseException:
        if tmp_path.exists():
            tmp_path.unlink()
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, backup: bool = True) -> Path:
    """Write a text file atomically (UTF-8)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), backup=backup)
