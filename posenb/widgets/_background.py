"""Background jobs that outlive the panel that started them.

A training started from a panel runs in a thread of the kernel. If the user closes the panel, re-runs the cell
or reloads a Voila page (same kernel), a new panel looks the job up here by its model folder and reattaches:
it replays the event history and then receives new events as they come.

The registry is a module-level dict ``key (resolved model folder) -> Job``. A Job holds the thread, its stop
event, every event it emitted (in order) and the listeners currently attached. Pure Python (no widgets), so it
is tested without Jupyter.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Job", "JobFinished", "start_job", "get_job", "stop_job", "running_jobs", "job_key", "forget_job"]

_JOBS: dict[str, Job] = {}
_REGISTRY_LOCK = threading.Lock()


def job_key(model_folder: str | os.PathLike) -> str:
    """The registry key of a model folder: its resolved absolute path."""
    return str(Path(model_folder).expanduser().resolve())


@dataclass(frozen=True)
class JobFinished:
    """The last event of every job, emitted after its target returned (``error``: None) or raised."""

    kind: str = "finished"
    error: str | None = None
    result: Any = None


class Job:
    """One background job (``kind``: "train" or "follow").

    ``emit(event)`` (called from the job's thread) stores the event and passes it to every listener; a
    listener that raises is detached so that a closed panel never breaks the training. ``error`` holds the
    exception the target raised (``error_text`` its traceback), ``result`` what it returned; the last event
    is always a :class:`JobFinished`.
    """

    def __init__(self, key: str, kind: str):
        self.key = key
        self.kind = kind
        self.stop_event = threading.Event()
        self.events: list[Any] = []
        self.thread: threading.Thread | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.error_text = ""
        self._listeners: list[Callable[[Any], None]] = []
        self._lock = threading.RLock()
        self.done = threading.Event()

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive() and not self.done.is_set()

    def emit(self, event: Any) -> None:
        with self._lock:
            self.events.append(event)
            listeners = list(self._listeners)
        for fn in listeners:
            try:
                fn(event)
            except Exception:  # a broken listener (closed panel) must not stop the job
                self.remove_listener(fn)

    def add_listener(self, fn: Callable[[Any], None], replay: bool = True) -> list[Any]:
        """Attach ``fn``; returns the history so far (already replayed to ``fn`` when ``replay``)."""
        with self._lock:
            history = list(self.events)
            self._listeners.append(fn)
            if replay:
                for event in history:
                    fn(event)
        return history

    def remove_listener(self, fn: Callable[[Any], None]) -> None:
        with self._lock:
            self._listeners = [f for f in self._listeners if f is not fn]

    @property
    def n_listeners(self) -> int:
        return len(self._listeners)

    def stop(self) -> None:
        """Ask the job to stop (training saves a snapshot and returns)."""
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to finish; True if it did."""
        return self.done.wait(timeout)


def start_job(
    model_folder: str | os.PathLike,
    target: Callable[[Job], Any],
    kind: str = "train",
    on_done: Callable[[Job], None] | None = None,
) -> Job:
    """Run ``target(job)`` in a daemon thread, registered under ``model_folder``.

    Raises RuntimeError if a job for that folder is still running. ``on_done(job)`` runs in the thread after
    the target returns or raises (``job.error`` set then).
    """
    key = job_key(model_folder)
    with _REGISTRY_LOCK:
        old = _JOBS.get(key)
        if old is not None and old.running:
            raise RuntimeError(f"A {old.kind} job is already running for {key}; stop it first.")
        job = Job(key, kind)
        _JOBS[key] = job

    def run() -> None:
        try:
            job.result = target(job)
        except BaseException as exc:  # noqa: BLE001 - reported to the panel, never lost in a thread
            job.error = exc
            job.error_text = traceback.format_exc()
        finally:
            err = None if job.error is None else f"{type(job.error).__name__}: {job.error}"
            job.emit(JobFinished(error=err, result=job.result))
            job.done.set()
            if on_done is not None:
                try:
                    on_done(job)
                except Exception:
                    pass

    job.thread = threading.Thread(target=run, name=f"posenb-{kind}-{Path(key).name}", daemon=True)
    job.thread.start()
    return job


def get_job(model_folder: str | os.PathLike) -> Job | None:
    """The job registered for ``model_folder`` (running or finished), or None."""
    return _JOBS.get(job_key(model_folder))


def stop_job(model_folder: str | os.PathLike, wait: float | None = None) -> bool:
    """Ask the job of ``model_folder`` to stop; with ``wait`` seconds, wait for it. True if none is running then."""
    job = get_job(model_folder)
    if job is None:
        return True
    job.stop()
    if wait is not None:
        job.join(wait)
    return not job.running


def running_jobs() -> list[Job]:
    """Jobs whose thread is still alive."""
    return [j for j in list(_JOBS.values()) if j.running]


def forget_job(model_folder: str | os.PathLike) -> None:
    """Remove a finished job from the registry (a running one is kept)."""
    key = job_key(model_folder)
    with _REGISTRY_LOCK:
        job = _JOBS.get(key)
        if job is not None and not job.running:
            del _JOBS[key]
