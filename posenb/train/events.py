"""Training events: what the loop reports to its listeners (progress bar, monitor panel, CSV log, CLI).

The loop calls every callback with a :class:`TrainingEvent`; a callback that raises is reported once as a
warning and then ignored, so a broken listener never kills a training run.
"""

from __future__ import annotations

import csv
import os
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["TrainingEvent", "EVENT_KINDS", "EventBus", "LearningStatsWriter", "STATS_HEADER"]

#: "start" (before the first step), "display" (every display_iters), "snapshot" (a snapshot was written),
#: "end" (max_iters reached), "stopped" (stop_event / KeyboardInterrupt: a snapshot was written, then return)
EVENT_KINDS = ("start", "display", "snapshot", "end", "stopped")

STATS_HEADER = ("iteration", "loss", "lr", "seconds")


@dataclass
class TrainingEvent:
    """One report of the training loop.

    Attributes
    ----------
    kind : one of :data:`EVENT_KINDS`.
    iteration : iterations done so far (counting those of a resumed snapshot).
    max_iters : iteration at which training ends.
    loss : mean total loss over the last display interval (None at "start").
    lr : current learning rate.
    seconds : wall-clock seconds since this call of ``train_network`` started.
    images_per_s : training throughput over the last display interval (images / s).
    snapshot_path : the snapshot written ("snapshot", "end", "stopped"), else None.
    """

    kind: str
    iteration: int
    max_iters: int
    loss: float | None = None
    lr: float | None = None
    seconds: float = 0.0
    images_per_s: float | None = None
    snapshot_path: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class EventBus:
    """Calls each callback with every event; a failing callback warns once and is dropped."""

    def __init__(self, callbacks: Iterable[Callable[[TrainingEvent], None]] | Callable | None = None):
        if callbacks is None:
            callbacks = []
        elif callable(callbacks):
            callbacks = [callbacks]
        self.callbacks = list(callbacks)

    def emit(self, event: TrainingEvent) -> None:
        for cb in list(self.callbacks):
            try:
                cb(event)
            except Exception as exc:  # noqa: BLE001 - listeners must not kill training
                warnings.warn(f"training callback {cb!r} failed and is ignored from now on: {exc!r}", stacklevel=2)
                self.callbacks.remove(cb)


class LearningStatsWriter:
    """Appends ``iteration,loss,lr,seconds`` rows to ``learning_stats.csv`` and flushes each row.

    ``seconds`` accumulates over resumed runs (the last value in the file is the starting offset), so a
    monitor reading the file sees one continuous curve.
    """

    def __init__(self, path: str | os.PathLike, start_iteration: int = 0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        rows = _read_rows(self.path) if self.path.is_file() else []
        # drop rows from a previous run beyond the iteration we resume from (e.g. after a kill -9)
        kept = [r for r in rows if r["iteration"] <= start_iteration]
        self.seconds_offset = kept[-1]["seconds"] if kept else 0.0
        if len(kept) != len(rows) or not self.path.is_file():
            from posenb.io.atomic import atomic_write_text  # noqa: PLC0415

            text = ",".join(STATS_HEADER) + "\n" + "".join(
                f"{r['iteration']},{r['loss']:.6g},{r['lr']:.6g},{r['seconds']:.2f}\n" for r in kept
            )
            atomic_write_text(self.path, text, backup=False)
        self._fh = open(self.path, "a", encoding="utf-8", newline="")

    def write(self, iteration: int, loss: float, lr: float, seconds: float) -> None:
        self._fh.write(f"{int(iteration)},{loss:.6g},{lr:.6g},{self.seconds_offset + seconds:.2f}\n")
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


def _read_rows(path: str | os.PathLike) -> list[dict]:
    """Rows of ``learning_stats.csv`` as dicts ``{iteration:int, loss, lr, seconds: float}``.

    Accepts DLC's header-less ``iter, loss, lr`` files too; a torn last line (crash mid-write) is skipped.
    """
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        for rec in csv.reader(fh):
            if not rec or rec[0].strip() == "iteration":
                continue
            try:
                it = int(float(rec[0]))
                loss = float(rec[1])
                lr = float(rec[2])
                seconds = float(rec[3]) if len(rec) > 3 else float("nan")
            except (ValueError, IndexError):
                continue
            rows.append({"iteration": it, "loss": loss, "lr": lr, "seconds": seconds})
    return rows
