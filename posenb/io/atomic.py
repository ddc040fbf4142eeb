"""Atomic writes that keep the previous version.

Every write of labels, predictions or configs goes through :func:`atomic_write`: the new content is written to a
temporary file in the same folder, flushed to disk, and renamed over the target in one step (``os.replace``), so a
crash mid-write leaves the old file intact. The previous file is kept as ``<name>.bak`` (one generation), itself
made atomically (copied to a temporary file, flushed, renamed), so a ``.bak`` is always a complete old version.

Temporary files are named ``.<name>.<pid>.<random>.tmp`` (hidden, next to the target). A writer killed before its
rename leaves one behind; the next write of the same file removes the temporary files of writers that are no
longer running (:func:`clean_stale_temps`), so they never pile up.

:func:`atomic_write_group` writes several files that belong together (a label table's ``.h5`` and ``.csv``): all
contents are written and flushed first, then the backups are made, then the files are renamed in the given order,
the first one being the commit point.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "atomic_write_group", "backup_path", "clean_stale_temps", "temp_path"]

#: temporary files older than this are stale whoever made them (also those of posenb's older naming scheme,
#: ``.<stem>.<random><suffix>.tmp``, which hold no pid)
LEGACY_TEMP_AGE_S = 3600.0

_active: set[str] = set()  # temporary files this process is writing right now (other threads may be saving)
_active_lock = threading.Lock()


def backup_path(path: str | os.PathLike) -> Path:
    """Where the previous version of ``path`` is kept: ``<name>.bak`` next to it."""
    path = Path(path)
    return path.with_name(path.name + ".bak")


def temp_path(path: str | os.PathLike) -> Path:
    """A fresh temporary name for ``path``: ``.<name>.<pid>.<random>.tmp`` in the same folder (not created)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    with _active_lock:
        _active.add(os.path.abspath(tmp))
    return tmp


def _release(tmp: Path) -> None:
    with _active_lock:
        _active.discard(os.path.abspath(tmp))


def _pid_running(pid: int, tmp: Path) -> bool:
    if pid == os.getpid():
        with _active_lock:
            return os.path.abspath(tmp) in _active  # ours and still being written by another thread
    if os.name == "nt":
        return True  # os.kill(pid, 0) would send CTRL_C there; such temps go when they are an hour old
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else (or we cannot tell): leave it
    return True


def stale_temps(path: str | os.PathLike) -> list[Path]:
    """Temporary files of ``path`` left by writers that are no longer running (see :func:`clean_stale_temps`)."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        return []
    ours = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.[0-9a-f]+\.tmp$")
    legacy = re.compile(rf"^\.{re.escape(path.stem)}\.[a-z0-9_]{{8}}{re.escape(path.suffix)}\.tmp$")
    now = time.time()
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if not name.startswith(".") or not name.endswith(".tmp"):
            continue
        match = ours.match(name)
        try:
            if match:
                old = now - entry.stat().st_mtime > LEGACY_TEMP_AGE_S and not _pid_running(os.getpid(), entry)
                if old or not _pid_running(int(match.group(1)), entry):
                    found.append(entry)
            elif legacy.match(name) and now - entry.stat().st_mtime > LEGACY_TEMP_AGE_S:
                found.append(entry)
        except OSError:
            continue
    return found


def clean_stale_temps(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files of ``path`` (and of its ``.bak``) left by killed writers; returns them.

    A temporary file is stale when the process that made it (its name holds the pid) is no longer running.
    Writers on other machines sharing the folder are not known here: a temp of theirs whose pid happens to be
    free on this machine is removed too, and their rename then fails with an error (nothing is corrupted).
    """
    removed = []
    for target in (Path(path), backup_path(path)):
        for tmp in stale_temps(target):
            try:
                tmp.unlink()
                removed.append(tmp)
            except FileNotFoundError:
                pass
    return removed


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    """Make renames in ``folder`` durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _backup(path: Path) -> None:
    """Copy ``path`` to ``<name>.bak`` atomically (temporary copy, flushed, renamed)."""
    bak = backup_path(path)
    tmp = temp_path(bak)
    try:
        shutil.copy2(path, tmp)
        _fsync_file(tmp)
        os.replace(tmp, bak)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        _release(tmp)


def _write_temp(path: Path, write_fn: Callable[[Path], None]) -> Path:
    tmp = temp_path(path)
    try:
        write_fn(tmp)
        if not tmp.exists():
            raise OSError(f"writing {path} produced no file")
        _fsync_file(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        _release(tmp)
        raise
    return tmp


def atomic_write_group(
    targets: Sequence[tuple[str | os.PathLike, Callable[[Path], None]]], backup: bool = True
) -> list[Path]:
    """Write several files as one save: ``targets`` = ``[(path, write_fn), ...]``.

    Each ``write_fn`` is called with a temporary path (same folder) that it must write completely. Only when all
    of them succeeded are the previous files backed up (``<name>.bak``, atomically) and the new ones renamed into
    place, in the order given: the first file is the commit point (a reader that trusts the first file sees either
    the previous save or this one). If any ``write_fn`` raises, every temporary file is removed and no target or
    backup is touched. Stale temporary files of earlier, killed writers of these paths are removed first.
    """
    paths = [Path(p) for p, _ in targets]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(path)
    temps: list[Path] = []
    try:
        for path, (_, write_fn) in zip(paths, targets):
            temps.append(_write_temp(path, write_fn))
        if backup:
            for path in paths:
                if path.is_file():
                    _backup(path)
        for tmp, path in zip(temps, paths):
            os.replace(tmp, path)
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        for tmp in temps:
            _release(tmp)
    for folder in dict.fromkeys(p.parent for p in paths):
        _fsync_dir(folder)
    return paths


def atomic_write(path: str | os.PathLike, write_fn: Callable[[Path], None], backup: bool = True) -> Path:
    """Write ``path`` atomically.

    Parameters
    ----------
    path : the file to write.
    write_fn : called with a temporary path (same folder, name ending ``.tmp``) that it must write completely.
    backup : keep the previous file as ``<name>.bak`` (made atomically: never a partial copy).

    If ``write_fn`` raises, the temporary file is removed and ``path`` is untouched. Temporary files of earlier,
    killed writers of ``path`` are removed.
    """
    return atomic_write_group([(path, write_fn)], backup=backup)[0]


def atomic_write_text(path: str | os.PathLike, text: str, backup: bool = True) -> Path:
    """Write a text file atomically (UTF-8)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), backup=backup)
