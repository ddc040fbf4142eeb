"""The training monitor's curve and numbers: logged iterations in, the loss/lr plot and the progress line out.

:class:`TrainingPlot` is a mixin of :class:`~posenb.widgets.training_monitor.TrainingMonitor`: the host holds the
data (``_points``, ``_rows``, ``_last_event``, ``_images_per_s`` under ``_lock``) and the widgets of
:class:`~posenb.widgets._training_monitor_layout.TrainingMonitorLayout`. The plot is redrawn at most every
:data:`MIN_REDRAW_S` seconds (a timer flushes the last update), inside ``hold_sync``.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from posenb.train.follow import StatsRow, training_progress
from posenb.widgets._review import format_seconds, nice_ticks

__all__ = ["MIN_REDRAW_S", "TrainingPlot"]

MIN_REDRAW_S = 0.25  # at most ~4 plot updates per second


class TrainingPlot:
    """Mixin: the loss and learning-rate curves and the progress line of the training monitor."""

    def _add_row(self, row: StatsRow) -> None:
        with self._lock:
            self._points[row.iteration] = (row.loss, row.lr)
            if self._rows and row.iteration <= self._rows[-1].iteration:
                self._rows = [r for r in self._rows if r.iteration < row.iteration]
            self._rows.append(row)

    def _draw(self, force: bool = False) -> None:
        """Redraw now if ``force`` or the last redraw is older than MIN_REDRAW_S, else schedule one."""
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_draw < MIN_REDRAW_S:
                if self._timer is None:
                    self._timer = threading.Timer(MIN_REDRAW_S - (now - self._last_draw), self._flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
            self._last_draw = now
            its = np.array(sorted(self._points), dtype=float)
            vals = np.array([self._points[int(i)] for i in its], dtype=float).reshape(-1, 2)
            rows = list(self._rows)
            last = self._last_event
            self.n_draws += 1
            loss = np.ascontiguousarray(vals[:, 0])  # contiguous: bqplot sends arrays as raw buffers
            lr = np.ascontiguousarray(vals[:, 1])
            with self.loss_line.hold_sync():
                self.loss_line.x = its
                self.loss_line.y = loss
            with self.lr_line.hold_sync():
                self.lr_line.x = its
                self.lr_line.y = lr
            # round ticks from 0 to just above the largest value (about 5 of them)
            axes = self.figure.axes
            for values, scale, axis in ((loss, self.loss_scale, axes[1]), (lr, self.lr_scale, axes[2])):
                finite = values[np.isfinite(values)]
                if len(finite) and finite.max() > 0:
                    ticks = nice_ticks(0.0, float(finite.max()))
                    scale.max = float(ticks[-1])
                    axis.tick_values = ticks
            self._draw_stats(rows, last)

    def _flush(self) -> None:
        with self._lock:
            self._timer = None
        self._draw(force=True)

    def _draw_stats(self, rows: list[StatsRow], last) -> None:
        max_iters = getattr(last, "max_iters", 0) or int(self.maxiters.value)
        p = training_progress(rows, max_iters=max_iters)
        if p is None:
            self.stats.value = "<i>no logged iterations yet</i>"
            self.progress.value = 0
            return
        ips = self._images_per_s
        if not getattr(self, "_active", False) or getattr(last, "kind", "") in ("end", "stopped"):
            # not running (an earlier run's log, or a run that ended or was stopped): no speed, no ETA
            state = {"stopped": "stopped", "end": "finished"}.get(getattr(last, "kind", ""), "last logged")
            self.stats.value = " &middot; ".join(
                [
                    f"iteration <b>{p.iteration}</b> ({state}; not running)",
                    f"loss {p.loss:.4g}",
                    f"lr {p.lr:.3g}",
                    *([f"{ips:.1f} images/s"] if ips and last is not None else []),
                    f"elapsed {format_seconds(rows[-1].seconds)}",
                ]
            )
            self.progress.max = max(1, p.iteration)
            self.progress.value = p.iteration
            return
        parts = [
            f"iteration <b>{p.iteration}</b> / {max_iters}",
            f"loss {p.loss:.4g}",
            f"lr {p.lr:.3g}",
            f"{p.iters_per_s:.2f} it/s" if p.iters_per_s else "- it/s",
            f"{ips:.1f} images/s" if ips else "",
            f"elapsed {format_seconds(rows[-1].seconds)}",
            f"ETA {format_seconds(p.eta_s)}",
        ]
        self.stats.value = " &middot; ".join(x for x in parts if x)
        self.progress.max = max(1, max_iters)
        self.progress.value = min(p.iteration, self.progress.max)
