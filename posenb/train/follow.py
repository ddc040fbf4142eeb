"""Follow a training from its log file, wherever it runs (notebook thread, terminal, batch job).

A training writes ``<model folder>/train/learning_stats.csv`` as it goes (header ``iteration,loss,lr,seconds``,
one row per display step). :class:`StatsTail` reads only what was appended since its last call, so a monitor can
poll the file cheaply every second; :func:`follow_learning_stats` is that poll loop; :func:`training_progress`
turns rows into iterations/s and an ETA. Pure Python: no widgets, no torch.

A run marker (``train/.posenb-training.json``: pid, host, start time) tells other processes that a training
runs (:func:`write_run_marker`, :func:`read_run_marker`, :func:`training_active`), and a stop request file
(``train/.posenb-stop``) asks it to stop from anywhere (:func:`request_stop`; the training side runs
:func:`watch_stop_request` next to ``train_network(..., stop_event=...)``, or all of it in :func:`marked_run`).
A training of several networks (a multi-animal project: centroid model, then pose model) names in its marker
the phase it is in and that phase's log (``phase``, ``stats``, ``max_iters``); :func:`run_stats_path` is the log
to follow now.

Units: ``iteration`` is the optimizer step count; ``loss`` the mean loss over the display interval; ``lr`` the
learning rate; ``seconds`` the wall-clock seconds since the training (or its resumed run) started.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "STATS_FILE",
    "StatsRow",
    "StatsTail",
    "Progress",
    "learning_stats_path",
    "read_learning_stats",
    "training_progress",
    "follow_learning_stats",
    "RUN_MARKER",
    "STOP_REQUEST",
    "write_run_marker",
    "read_run_marker",
    "clear_run_marker",
    "request_stop",
    "clear_stop_request",
    "watch_stop_request",
    "training_active",
    "marked_run",
    "run_stats_path",
]

STATS_FILE = "learning_stats.csv"
_COLUMNS = ("iteration", "loss", "lr", "seconds")


@dataclass(frozen=True)
class StatsRow:
    """One line of learning_stats.csv (``seconds``: elapsed wall time since the run started)."""

    iteration: int
    loss: float
    lr: float
    seconds: float


@dataclass(frozen=True)
class Progress:
    """Where a training stands: last row, speed (iterations per second) and remaining seconds (None if unknown)."""

    iteration: int
    loss: float
    lr: float
    iters_per_s: float | None
    eta_s: float | None
    max_iters: int | None


def learning_stats_path(where: str | os.PathLike) -> Path:
    """The learning_stats.csv of a model folder, its ``train`` folder, or the file itself."""
    where = Path(where)
    if where.name == STATS_FILE or where.suffix == ".csv":
        return where
    if where.name == "train":
        return where / STATS_FILE
    return where / "train" / STATS_FILE


def _parse_float(text: str) -> float:
    text = text.strip()
    return float(text) if text not in ("", "nan", "NaN") else math.nan


class StatsTail:
    """Incremental reader of a learning_stats.csv.

    ``read_new()`` returns the rows appended since the previous call (complete lines only: a line the writer
    has not finished yet is kept for the next call). If the file was replaced or truncated (a new training
    in the same folder, or an atomic rewrite), reading restarts from the top and ``restarted`` is True for that
    call, so a caller drops what it had. A file that does not exist yet reads as no rows.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = learning_stats_path(path)
        self._offset = 0
        self._inode: int | None = None
        self._pending = b""
        self._columns: tuple[str, ...] | None = None
        self.restarted = False
        self.n_rows = 0
        self.n_skipped = 0

    def _reset(self) -> None:
        self._offset = 0
        self._pending = b""
        self._columns = None
        self.n_rows = 0

    def read_new(self) -> list[StatsRow]:
        """Rows appended since the last call ([] if none or if the file does not exist)."""
        self.restarted = False
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self._inode is not None:
                self._inode = None
                self._reset()
                self.restarted = True
            return []
        if self._inode is not None and (st.st_ino != self._inode or st.st_size < self._offset):
            self._reset()
            self.restarted = True
        self._inode = st.st_ino
        if st.st_size == self._offset:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self._offset)
            chunk = fh.read()
        self._offset += len(chunk)
        data = self._pending + chunk
        lines = data.split(b"\n")
        self._pending = lines.pop()  # b"" when the chunk ended with a newline
        rows = []
        for raw in lines:
            row = self._parse_line(raw.decode("utf-8", "replace").strip())
            if row is not None:
                rows.append(row)
        self.n_rows += len(rows)
        return rows

    def read_all(self) -> list[StatsRow]:
        """All rows from the top of the file (resets the reader)."""
        self._inode = None
        self._reset()
        return self.read_new()

    def _parse_line(self, line: str) -> StatsRow | None:
        if not line:
            return None
        cells = [c.strip() for c in line.split(",")]
        if self._columns is None:
            if cells[0] in _COLUMNS or not _is_number(cells[0]):
                self._columns = tuple(cells)
                return None
            self._columns = _COLUMNS
        values = dict(zip(self._columns, cells))
        try:
            return StatsRow(
                iteration=int(float(values["iteration"])),
                loss=_parse_float(values.get("loss", "")),
                lr=_parse_float(values.get("lr", "")),
                seconds=_parse_float(values.get("seconds", "")),
            )
        except (KeyError, ValueError):
            self.n_skipped += 1
            return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_learning_stats(path: str | os.PathLike) -> list[StatsRow]:
    """Every row of a learning_stats.csv (model folder, train folder or file); [] if it does not exist."""
    return StatsTail(path).read_all()


def training_progress(
    rows: Sequence[StatsRow], max_iters: int | None = None, window: int = 10
) -> Progress | None:
    """Speed and ETA from the last ``window`` rows (None when there are no rows).

    ``iters_per_s`` = iterations over elapsed seconds between the first and last row of the window (rows of
    an earlier run, before a resume reset the clock, are left out); ``eta_s`` = remaining iterations / speed.
    """
    if not rows:
        return None
    last = rows[-1]
    recent = [last]
    for row in reversed(rows[:-1]):
        if len(recent) >= window or not (
            row.seconds <= recent[-1].seconds and row.iteration < recent[-1].iteration
        ):
            break
        recent.append(row)
    first = recent[-1]
    rate = None
    if len(recent) >= 2 and last.seconds > first.seconds:
        rate = (last.iteration - first.iteration) / (last.seconds - first.seconds)
    elif last.seconds > 0 and last.iteration > 0 and len(rows) == 1:
        rate = last.iteration / last.seconds
    eta = None
    if rate and max_iters is not None:
        eta = max(0.0, (max_iters - last.iteration) / rate)
    return Progress(last.iteration, last.loss, last.lr, rate, eta, max_iters)


def follow_learning_stats(
    path: str | os.PathLike,
    on_rows: Callable[[list[StatsRow], bool], None],
    stop_event: threading.Event,
    poll_s: float = 1.0,
    until_iteration: int | None = None,
    until: Callable[[], bool] | None = None,
) -> int:
    """Poll a learning_stats.csv until ``stop_event`` is set, ``until_iteration`` is reached or ``until()``
    returns True (checked after each poll; the file is read once more before returning).

    ``on_rows(rows, restarted)`` is called from this thread after every poll that found new rows (or a
    restarted file: then ``rows`` are all rows of the new file). Returns the number of rows delivered.
    Run it in a thread: ``threading.Thread(target=follow_learning_stats, args=(path, cb, ev), daemon=True)``.
    """
    tail = StatsTail(path)
    delivered = 0

    def poll() -> list[StatsRow]:
        nonlocal delivered
        rows = tail.read_new()
        if rows or tail.restarted:
            on_rows(rows, tail.restarted)
            delivered += len(rows)
        return rows

    while True:
        rows = poll()
        if until_iteration is not None and rows and rows[-1].iteration >= until_iteration:
            return delivered
        if until is not None and until():
            poll()
            return delivered
        if stop_event.wait(poll_s):
            return delivered


# ----------------------------------------------------------------------------------------------------------
# A training run's marker and stop request: files in its train folder, so that any process (a reloaded
# dashboard with a new kernel, a terminal) can see that a training runs and ask it to stop.
RUN_MARKER = ".posenb-training.json"
STOP_REQUEST = ".posenb-stop"


def write_run_marker(train_dir: str | os.PathLike, **info) -> Path:
    """Mark ``train_dir`` as being trained by this process: ``{"pid", "host", "started", **info}`` as JSON."""
    import json
    import socket
    import time

    path = Path(train_dir) / RUN_MARKER
    data = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(), **info}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
    return path


def clear_run_marker(train_dir: str | os.PathLike) -> None:
    (Path(train_dir) / RUN_MARKER).unlink(missing_ok=True)


def read_run_marker(train_dir: str | os.PathLike) -> dict | None:
    """The marker of a training running now, or None (no marker, unreadable, or its process is gone: a
    marker of a process on this host that no longer exists is stale and ignored)."""
    import json
    import socket

    path = Path(train_dir) / RUN_MARKER
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("host") == socket.gethostname() and isinstance(data.get("pid"), int):
        try:
            os.kill(data["pid"], 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
    return data


def request_stop(train_dir: str | os.PathLike) -> Path:
    """Ask the training running in ``train_dir`` to stop (it saves a snapshot); see :func:`watch_stop_request`."""
    path = Path(train_dir) / STOP_REQUEST
    path.write_text("stop\n")
    return path


def clear_stop_request(train_dir: str | os.PathLike) -> None:
    (Path(train_dir) / STOP_REQUEST).unlink(missing_ok=True)


def watch_stop_request(
    train_dir: str | os.PathLike, stop_event: threading.Event, done: threading.Event, poll_s: float = 0.5
) -> None:
    """Set ``stop_event`` when a stop request appears in ``train_dir``; returns when ``done`` or
    ``stop_event`` is set. Run it in a thread next to ``train_network(..., stop_event=stop_event)``."""
    path = Path(train_dir) / STOP_REQUEST
    while not (done.is_set() or stop_event.is_set()):
        if path.exists():
            stop_event.set()
            return
        done.wait(poll_s)


def training_active(train_dir: str | os.PathLike, idle_s: float = 60.0) -> bool:
    """True when a training seems to run in ``train_dir``: a live run marker, or a learning_stats.csv
    written within the last ``idle_s`` seconds (a training started by a tool that writes no marker)."""
    import time

    if read_run_marker(train_dir) is not None:
        return True
    stats = learning_stats_path(Path(train_dir))
    try:
        return time.time() - stats.stat().st_mtime < idle_s
    except OSError:
        return False


@contextmanager
def marked_run(train_dir: str | os.PathLike, stop_event: threading.Event, **info):
    """Mark ``train_dir`` as trained by this process for the ``with`` block, and set ``stop_event`` on a stop
    request (:func:`watch_stop_request` in a thread); the marker and any stop request are removed at the end.

    Yields ``phase(**more)``, which rewrites the marker with ``more`` added (e.g. ``phase="pose"``,
    ``stats=<its learning_stats.csv>``, ``max_iters=...`` when a training moves on to its next network).
    """
    train_dir = Path(train_dir)
    train_dir.mkdir(parents=True, exist_ok=True)
    import time

    state = {"started": time.time(), **info}
    clear_stop_request(train_dir)
    write_run_marker(train_dir, **state)
    done = threading.Event()
    watcher = threading.Thread(
        target=watch_stop_request, args=(train_dir, stop_event, done), name="posenb-stop-watch", daemon=True
    )
    watcher.start()

    def phase(**more) -> None:
        state.update(more)
        write_run_marker(train_dir, **state)

    try:
        yield phase
    finally:
        done.set()
        clear_run_marker(train_dir)
        clear_stop_request(train_dir)


def run_stats_path(train_dir: str | os.PathLike) -> Path:
    """The learning_stats.csv to follow for ``train_dir`` now: the one the live run marker names (``stats``:
    the log of the network being trained, e.g. ``train/centroid/learning_stats.csv`` during a multi-animal
    project's centroid phase), else ``train_dir/learning_stats.csv``."""
    marker = read_run_marker(train_dir) or {}
    stats = marker.get("stats")
    return Path(stats) if isinstance(stats, str) and stats else learning_stats_path(Path(train_dir))
