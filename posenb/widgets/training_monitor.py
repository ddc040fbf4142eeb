"""TrainingMonitor: start, stop and watch a training; follow one started elsewhere.

The panel calls ``posenb.train_network(config, ..., callbacks=[job.emit], stop_event=job.stop_event)`` in a
background thread registered in :mod:`posenb.widgets._background` under the model folder, so the notebook stays
usable and a reopened panel (same kernel) reattaches to the running training. The training also leaves a run
marker and watches for a stop request in its train folder (:mod:`posenb.widgets._training_jobs`), so a
reloaded Voila page, which runs a new kernel, finds it, follows its ``learning_stats.csv`` and can stop it. Any
other training (a terminal, a batch job) is followed the same way by tailing its log
(:func:`posenb.train.follow.follow_learning_stats` in a poll thread).

Every event source (training callbacks, replayed history, the followed file) goes through one listener,
:meth:`TrainingMonitor._on_event`, which only updates the curve's data under a lock; the plot is redrawn at most
a few times per second inside ``hold_sync``. Speed and ETA come from :func:`posenb.train.follow.training_progress`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from posenb.errors import PosenbError
from posenb.train.follow import (
    StatsRow,
    learning_stats_path,
    read_learning_stats,
    read_run_marker,
    request_stop,
    training_active,
)
from posenb.widgets import _background as bg
from posenb.widgets._panel import Panel
from posenb.widgets._review import list_shuffles
from posenb.widgets._training_jobs import follow_target, training_target
from posenb.widgets._training_monitor_layout import TrainingMonitorLayout
from posenb.widgets._training_monitor_plot import MIN_REDRAW_S, TrainingPlot

__all__ = ["TrainingMonitor", "MIN_REDRAW_S"]


class TrainingMonitor(TrainingMonitorLayout, TrainingPlot, Panel):
    """Train a shuffle of a project and watch its loss and learning rate live.

    Parameters
    ----------
    config : path of the project's config.yaml (or None: call :meth:`set_config` later).
    shuffle : the shuffle to select first (default: the first model folder of the current iteration).
    poll_s : seconds between two reads of learning_stats.csv in follow mode.
    auto_follow : when the selected shuffle is being trained by another kernel or process (a run marker, or a
        log written within the last minute), follow it at once.

    ``train_overrides`` (a dict attribute) holds further ``train_network`` keyword arguments for the next
    start, e.g. ``{"lr": 5e-4, "crop_size": None}`` (any TrainConfig field).
    """

    def __init__(
        self,
        config: str | os.PathLike | None = None,
        shuffle: int | None = None,
        poll_s: float = 1.0,
        auto_follow: bool = True,
    ):
        super().__init__()
        self.add_class("posenb-training-monitor")
        self.cfg: dict = {}
        self.model_folder: Path | None = None
        self.poll_s = poll_s
        self.auto_follow = auto_follow
        self.job: bg.Job | None = None
        self._lock = threading.RLock()
        self._points: dict[int, tuple[float, float]] = {}  # iteration -> (loss, lr)
        self._rows: list[StatsRow] = []
        self._last_event = None
        self._images_per_s: float | None = None
        self._last_draw = 0.0
        self._timer: threading.Timer | None = None
        self.n_draws = 0
        self.train_overrides: dict = {}
        self._build()
        if config is not None:
            self.set_config(config, shuffle)

    # ------------------------------------------------------------------ layout
    # ------------------------------------------------------------------ project / shuffle
    def set_config(self, config: str | os.PathLike, shuffle: int | None = None) -> None:
        """Switch to the project of ``config`` (selects ``shuffle``, default the first one)."""
        self._detach()
        self.load_config(config)
        self._scan_shuffles(shuffle)

    def _scan_shuffles(self, shuffle: int | None = None) -> None:
        entries = list_shuffles(self.cfg) if self.cfg else []
        options = []
        for k, _tsi, folder in entries:
            pct = folder.name.rsplit("-trainset", 1)[-1].split("shuffle")[0]
            options.append((f"shuffle {k} (train {pct}%)", str(folder)))
        current = self.shuffle_select.value
        self.shuffle_select.options = options
        if not options:
            self._set_status(
                "No training set yet: create one in the 'Training set' tab (posenb.create_training_dataset(config)), "
                "then train it here.",
                "warning",
            )
            self.start_button.disabled = True
            return
        self.start_button.disabled = False
        wanted = None
        if shuffle is not None:
            wanted = next((str(f) for k, _t, f in entries if k == int(shuffle)), None)
        if wanted is None and current in dict((v, k) for k, v in options):
            wanted = current
        wanted = wanted or options[0][1]
        if self.shuffle_select.value == wanted:
            self._select(Path(wanted))
        else:
            self.shuffle_select.value = wanted

    def _on_shuffle(self, change) -> None:
        if change["new"]:
            self._select(Path(change["new"]))

    @property
    def shuffle(self) -> int | None:
        for k, _t, f in list_shuffles(self.cfg):
            if self.model_folder is not None and f == self.model_folder:
                return k
        return None

    @property
    def trainingsetindex(self) -> int:
        for _k, t, f in list_shuffles(self.cfg):
            if self.model_folder is not None and f == self.model_folder:
                return max(t, 0)
        return 0

    def _select(self, folder: Path) -> None:
        """Show a model folder: its options, its log so far, its snapshots; reattach to a running job."""
        self._detach()
        self.model_folder = folder
        self._load_options(folder)
        with self._lock:
            self._points.clear()
            self._rows = []
            self._last_event = None
            self._images_per_s = None
        rows = read_learning_stats(folder)
        for row in rows:
            self._add_row(row)
        job = bg.get_job(folder)
        if job is not None and job.running:
            self._attach(job)
            self._set_status(f"Reattached to the {job.kind} job running for {folder.name}.")
        elif self.auto_follow and training_active(folder / "train"):
            # a training of another kernel (a reloaded page) or process (a terminal): follow its log
            self.follow(True)
            self._set_status(f"A training is running for {folder.name} elsewhere: following its log.")
        else:
            self._set_running(False)
            self._set_status(
                f"{folder.name}: {len(rows)} logged points." if rows else f"{folder.name}: not trained yet."
            )
        self._refresh_snapshots()
        self._draw(force=True)

    def _load_options(self, folder: Path) -> None:
        from posenb.data.trainingset import read_pose_cfg

        pose_cfg = {}
        path = folder / "train" / "pose_cfg.yaml"
        if path.is_file():
            try:
                pose_cfg = read_pose_cfg(path)
            except PosenbError as exc:
                self._set_status(str(exc), "warning")
        self._pose_cfg = pose_cfg
        self.maxiters.value = int(pose_cfg.get("max_iters") or self.maxiters.value)
        self.batch_size.value = int(pose_cfg.get("batch_size") or self.batch_size.value)
        self.saveiters.value = int(pose_cfg.get("save_iters") or self.saveiters.value)
        self.displayiters.value = int(pose_cfg.get("display_iters") or self.displayiters.value)
        net = pose_cfg.get("net_type")
        self.net_type.options = [net] if net else []
        if net:
            self.net_type.value = net
        self._offer_backbones()

    def _offer_backbones(self) -> None:
        """Offer every registered backbone in the network menu. The registry imports torch (seconds, and not
        safely from two threads at once), so the list is filled in only once the backbones are loaded (by a
        training in this kernel); until then the shuffle's own net type is offered."""
        import sys

        if "posenb.nn.backbones" not in sys.modules:
            return

        def fill():
            try:
                from posenb.nn import list_backbones

                names = [getattr(b, "name", b) for b in list_backbones()]
            except Exception:  # noqa: BLE001 - the list is a convenience; the pose_cfg value stays offered
                return
            current = self.net_type.value
            options = list(dict.fromkeys(([current] if current else []) + names))
            with self.net_type.hold_trait_notifications():
                self.net_type.options = options
                if current:
                    self.net_type.value = current

        fill()

    # ------------------------------------------------------------------ jobs
    def start(self) -> bg.Job | None:
        """Start training the selected shuffle in a background thread (returns the job)."""
        if self.model_folder is None or self.config is None:
            self._set_status("Open a project with a training set first.", "warning")
            return None
        existing = bg.get_job(self.model_folder)
        if existing is not None and existing.running and existing.events[-1:]:
            if getattr(existing.events[-1], "kind", "") == "finished":
                existing.join(10)  # it has finished and is only closing its thread
        if existing is not None and existing.running and existing.kind == "follow":
            existing.stop()  # training here replaces following the log
            existing.join(10)
        if existing is not None and existing.running:
            self._attach(existing)
            self._set_status(
                f"A {existing.kind} job is already running for this shuffle: reattached.", "warning"
            )
            return existing
        fresh = self.mode.value == "fresh"
        last = self._last_snapshot()
        if not fresh and last is not None and last[1] >= int(self.maxiters.value):
            self._set_status(
                f"Nothing to do: {last[0]} has already reached Max iters {int(self.maxiters.value)}. Raise Max "
                f"iters above {last[1]} to train on, or choose 'Start fresh'.",
                "warning",
            )
            return None
        kwargs = dict(
            shuffle=self.shuffle or 1,
            trainingsetindex=self.trainingsetindex,
            maxiters=int(self.maxiters.value),
            saveiters=int(self.saveiters.value),
            displayiters=int(self.displayiters.value),
            progress=False,  # the panel is the progress display (a tqdm bar from a thread lands in random cells)
        )
        pose_cfg = getattr(self, "_pose_cfg", {})
        if int(self.batch_size.value) != int(pose_cfg.get("batch_size") or -1):
            kwargs["batch_size"] = int(self.batch_size.value)
        if self.net_type.value and self.net_type.value != pose_cfg.get("net_type"):
            kwargs["net_type"] = self.net_type.value
        kwargs.update(self.train_overrides)
        self._detach()
        self.follow_button.value = False
        job = bg.start_job(
            self.model_folder,
            training_target(self.config, self.model_folder, fresh=fresh and last is not None, **kwargs),
        )
        self._attach(job)
        if fresh and last is not None:
            how = "from scratch (the old snapshots and log move to train/previous-<n>/)"
        elif last is not None:
            how = f"resuming from {last[0]}"
        else:
            how = "from the pretrained backbone"
        self._set_status(f"Training {self.model_folder.name} up to {kwargs['maxiters']} iterations, {how}...")
        return job

    def _last_snapshot(self) -> tuple[str, int] | None:
        """``(name, iteration)`` of the newest snapshot of the selected shuffle, or None."""
        from posenb.nn.snapshots import list_snapshots, snapshot_iteration

        if self.model_folder is None:
            return None
        snaps = list_snapshots(self.model_folder / "train")
        return (snaps[-1].stem, snapshot_iteration(snaps[-1])) if snaps else None

    def _show_mode(self) -> None:
        """The line next to Resume / Start fresh: what Start will do."""
        last = self._last_snapshot()
        target = int(self.maxiters.value)
        if last is None:
            text = "No snapshot yet: Start trains from the pretrained backbone."
        elif self.mode.value == "fresh":
            text = f"Start fresh: {last[0]} and the log move to train/previous-&lt;n&gt;/; training restarts at 0."
        elif last[1] >= target:
            text = (
                f"<span style='color:#9a6700'>{last[0]} has reached Max iters {target}: raise Max iters to "
                "resume.</span>"
            )
        else:
            text = f"Resume: continues from {last[0]} to iteration {target}."
        self.mode_hint.value = f"<small>{text}</small>"

    def stop(self) -> None:
        """Stop the training: a training of this kernel directly, one of another kernel or process (a
        reloaded page, a terminal) through its stop request; it saves a snapshot, then returns."""
        job = self.job
        if job is None or not job.running:
            self._set_status("Nothing to stop: no training is running for this shuffle.", "warning")
            return
        if job.kind == "train":
            job.stop()
            self._set_status("Stopping: the training saves a snapshot, then returns...")
        elif read_run_marker(self.model_folder / "train") is not None:
            request_stop(self.model_folder / "train")
            self._set_status("Asked the training to stop: it saves a snapshot, then returns...")
        else:
            job.stop()
            self.follow_button.value = False
            self._set_status("Stopped following the log.")

    def follow(self, start: bool = True, idle_s: float = 600.0) -> bg.Job | None:
        """Follow the selected shuffle's learning_stats.csv (a training started elsewhere).

        Following ends when that training's run marker disappears (it finished), or, for a training that
        writes no marker, when the log has not grown for ``idle_s`` seconds.
        """
        if not start:
            job = self.job
            if job is not None and job.kind == "follow":
                job.stop()
            return None
        if self.model_folder is None:
            return None
        existing = bg.get_job(self.model_folder)
        if existing is not None and existing.running:
            self._attach(existing)
            return existing
        path = learning_stats_path(self.model_folder)
        run = follow_target(self.model_folder, poll_s=self.poll_s, idle_s=idle_s)
        self._detach()  # (the follower replays the whole file: points are keyed by iteration, so no duplicates)
        job = bg.start_job(self.model_folder, run, kind="follow")
        self._attach(job)
        self._set_status(f"Following {path} (every {self.poll_s:g} s).")
        return job

    def _on_follow_toggle(self, change) -> None:
        if change["new"]:
            if self.job is None or not self.job.running:
                self.follow(True)
        elif self.job is not None and self.job.kind == "follow":
            self.job.stop()

    def _attach(self, job: bg.Job) -> None:
        self._detach()
        self.job = job
        self._set_running(True, job.kind)
        job.add_listener(self._on_event, replay=True)
        self._draw(force=True)

    def _detach(self) -> None:
        if self.job is not None:
            self.job.remove_listener(self._on_event)
            self.job = None

    def _set_running(self, running: bool, kind: str = "train") -> None:
        self._active = running
        self.start_button.disabled = running or not self.shuffle_select.options
        self.stop_button.disabled = not running
        self.shuffle_select.disabled = running
        if kind == "follow" and running and not self.follow_button.value:
            self.follow_button.value = True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the attached job to finish; True if it did (or none is attached)."""
        job = self.job
        if job is None:
            return True
        ok = job.join(timeout)
        self._draw(force=True)
        return ok

    # ------------------------------------------------------------------ events -> data
    def _on_event(self, event) -> None:
        """Listener of every event source (training thread, follower, replay); updates data, then the plot."""
        kind = getattr(event, "kind", "")
        urgent = True
        if kind == "display" and event.loss is not None:
            lr = float(event.lr) if event.lr is not None else np.nan
            self._add_row(StatsRow(int(event.iteration), float(event.loss), lr, float(event.seconds or 0.0)))
            urgent = False
        elif kind == "start":
            with self._lock:  # a resumed run drops what the log dropped (iterations after the snapshot)
                self._points = {k: v for k, v in self._points.items() if k <= event.iteration}
                self._rows = [r for r in self._rows if r.iteration <= event.iteration]
        with self._lock:
            if kind != "finished":
                self._last_event = event
            if getattr(event, "images_per_s", None):
                self._images_per_s = float(event.images_per_s)
        if kind == "start":
            self._offer_backbones()
        if kind in ("snapshot", "end", "stopped"):
            self._refresh_snapshots()
        if kind in ("end", "stopped"):
            verb = "stopped" if kind == "stopped" else "finished"
            last = self._last_snapshot()
            snap = Path(event.snapshot_path).stem if event.snapshot_path else (last[0] if last else "none")
            self._set_status(f"Training {verb} at iteration {event.iteration}; last snapshot: {snap}.")
        if kind == "finished":
            trained = self.job is not None and self.job.kind == "train"
            self._set_running(False)
            if trained and self.config is not None and self._project_callbacks:
                # in another thread: the job ends now (the other tabs' refresh takes a moment); ``on_project``
                # callbacks refresh the Evaluate and Analyze tabs (new snapshots)
                threading.Thread(
                    target=self._notify_project, args=(self.config,), kwargs={"catch": True}, daemon=True
                ).start()
            if self.follow_button.value and self.job is not None and self.job.kind == "follow":
                self.follow_button.value = False
            if event.error:
                self._set_status(f"The job failed: {event.error}", "error")
        self._draw(force=urgent)

    def _refresh_snapshots(self) -> None:
        from posenb.nn.snapshots import list_snapshots, snapshot_iteration

        if self.model_folder is None:
            return
        snaps = list_snapshots(self.model_folder / "train")
        self.snapshots.options = [(f"{s.name}  (iteration {snapshot_iteration(s)})", str(s)) for s in snaps]
        self._show_mode()

    @property
    def n_points(self) -> int:
        """Number of points on the loss curve."""
        return len(self.loss_line.x)

    def close(self) -> None:
        """Close the panel; a running job keeps running (reopen a monitor to reattach)."""
        if hasattr(self, "job"):
            self._detach()
        if getattr(self, "_timer", None) is not None:
            self._timer.cancel()
        super().close()
