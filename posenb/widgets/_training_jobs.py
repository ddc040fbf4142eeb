"""The two background jobs of the training monitor (targets for :func:`posenb.widgets._background.start_job`).

- :func:`training_target`: ``train_network`` with the job's callbacks and stop event, plus a run marker and a
  stop-request watcher in the train folder, so that another kernel (a reloaded Voila page) or a terminal can
  see the training and stop it (:mod:`posenb.train.follow`).
- :func:`labeling_model_target`: ``update_labeling_model`` (the labeler's "Update model" button) with the job's
  callbacks and stop event; its result is the :class:`~posenb.train.labeling_model.LabelingModelUpdate`.
- :func:`follow_target`: tails ``learning_stats.csv`` of a training running elsewhere and re-emits its rows as
  :class:`~posenb.train.events.TrainingEvent` ("display"; "snapshot" when a snapshot file appears; "end" when
  the training's run marker disappears, or its log stays idle for ``idle_s`` seconds if it writes none). A
  training of several networks (multi-animal: centroid, then pose model) names the log of its current phase in
  its marker (:func:`posenb.train.follow.run_stats_path`): the follower moves to it ("start" at iteration 0).

No widgets here: the jobs only emit events; panels listen.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from posenb.train.follow import (
    clear_run_marker,
    clear_stop_request,
    follow_learning_stats,
    read_run_marker,
    run_stats_path,
    watch_stop_request,
    write_run_marker,
)

__all__ = ["training_target", "follow_target", "labeling_model_target"]


def training_target(
    config: str | os.PathLike, model_folder: Path, fresh: bool = False, **train_kwargs
) -> Callable:
    """A job target training the shuffle of ``model_folder`` with ``posenb.train_network(config, **train_kwargs)``.

    ``fresh``: first move the existing snapshots and log to ``train/previous-<n>/``
    (:func:`posenb.nn.snapshots.archive_snapshots`), so the training starts from scratch and nothing is lost.
    """
    train_dir = Path(model_folder) / "train"

    def train(job):
        import posenb
        from posenb.nn.snapshots import archive_snapshots

        if fresh:
            archive_snapshots(train_dir)
        write_run_marker(train_dir, config=str(config))
        clear_stop_request(train_dir)
        watcher = threading.Thread(
            target=watch_stop_request, args=(train_dir, job.stop_event, job.done), daemon=True
        )
        watcher.start()
        try:
            return posenb.train_network(
                config, callbacks=[job.emit], stop_event=job.stop_event, **train_kwargs
            )
        finally:
            clear_run_marker(train_dir)
            clear_stop_request(train_dir)

    return train


def labeling_model_target(config: str | os.PathLike, **update_kwargs) -> Callable:
    """A job target running ``posenb.update_labeling_model(config, **update_kwargs)`` (no progress bar: the
    job's events carry the progress)."""

    def update(job):
        import posenb

        return posenb.update_labeling_model(
            config, callbacks=[job.emit], stop_event=job.stop_event, progress=False, **update_kwargs
        )

    return update


def follow_target(model_folder: Path, poll_s: float = 1.0, idle_s: float = 600.0) -> Callable:
    """A job target following the learning_stats.csv of ``model_folder`` (see the module docstring)."""
    from posenb.nn.snapshots import list_snapshots, snapshot_iteration
    from posenb.train.events import TrainingEvent

    train_dir = Path(model_folder) / "train"

    def run(job):
        marker = read_run_marker(train_dir) or {}
        state = {
            "marker": bool(marker),
            "last": 0,
            "t": time.monotonic(),
            "max": int(marker.get("max_iters") or 0),
        }
        state["path"] = run_stats_path(train_dir)
        snaps = set(list_snapshots(train_dir))

        def on_rows(rows, restarted):
            if restarted:
                job.emit(TrainingEvent("start", 0, state["max"]))
            for r in rows:
                job.emit(
                    TrainingEvent(
                        "display", r.iteration, state["max"], loss=r.loss, lr=r.lr, seconds=r.seconds
                    )
                )
            if rows:
                state["last"], state["t"] = rows[-1].iteration, time.monotonic()

        def finished() -> bool:
            for snap in sorted(set(list_snapshots(train_dir)) - snaps, key=snapshot_iteration):
                snaps.add(snap)
                job.emit(TrainingEvent("snapshot", snapshot_iteration(snap), 0, snapshot_path=str(snap)))
            marker = read_run_marker(train_dir)
            if marker is not None:
                state["marker"], state["max"] = True, int(marker.get("max_iters") or state["max"])
                return run_stats_path(train_dir) != state["path"]  # the training moved on to its next network
            if state["marker"]:  # the training it belonged to has ended
                return True
            return time.monotonic() - state["t"] > idle_s

        n = 0
        while True:
            n += follow_learning_stats(state["path"], on_rows, job.stop_event, poll_s=poll_s, until=finished)
            nxt = run_stats_path(train_dir)
            if job.stop_event.is_set() or read_run_marker(train_dir) is None or nxt == state["path"]:
                break
            state["path"], state["t"] = nxt, time.monotonic()
            job.emit(TrainingEvent("start", 0, state["max"]))  # the next network's curve starts
        if not job.stop_event.is_set():
            last = max(snaps, key=snapshot_iteration) if snaps else None
            job.emit(TrainingEvent("end", state["last"], 0, snapshot_path=str(last) if last else None))
        return n

    return run
