"""Undo on failure: remember the files and folders a call creates and remove them if the call fails.

``create_training_dataset`` writes many files; :class:`NewFiles` makes a failed call leave nothing half-built::

    with NewFiles() as created:
        created.mkdir(folder)
        created.write(folder / "a.h5", lambda path: write_table(path))
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["NewFiles"]


class NewFiles:
    """Remembers the files and folders a call creates; if the block fails, removes them again (newest first).

    Files that existed before are left alone (they are replaced atomically, never half-written).
    """

    def __init__(self):
        self.paths: list[Path] = []

    def __enter__(self):
        return self

    def note(self, path: Path) -> None:
        if not path.exists():
            self.paths.append(path)

    def mkdir(self, path: Path) -> None:
        missing = [p for p in (path, *path.parents) if not p.exists()]
        path.mkdir(parents=True, exist_ok=True)
        self.paths.extend(reversed(missing))

    def write(self, path: Path, writer: Callable[[Path], object]) -> None:
        self.note(path)
        writer(path)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            return False
        for path in reversed(self.paths):
            try:
                path.rmdir() if path.is_dir() else path.unlink(missing_ok=True)
            except OSError:
                pass  # a folder someone else filled meanwhile stays
        return False
