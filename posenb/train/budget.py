"""The training budget of one run: fit ``max_iters`` into ``max_minutes`` and stop at a loss plateau.

:class:`RunBudget` is fed ``(iteration, seconds, loss)`` at every display interval of the loop
(:func:`posenb.train.loop.run_training`) and answers with the iteration the run should end at.

Time (``max_minutes``): the speed is measured over the run so far (the first ``WARM_ITERS`` steps, slower while
caches fill, are left out once enough steps follow). While less than half of the run is done, if the remaining
iterations would end after ``max_minutes``, ``max_iters`` is lowered so that they end in time (never below
``FIT_FLOOR`` or the current iteration + 1), and raised again towards the planned iterations (never above) when
the speed measured over more steps allows it (the first steps run slower); the cosine learning-rate schedule spans
the new ``max_iters``, so the run still ends annealed. Later, a run past ``1.15 x max_minutes`` (the machine got slower)
stops at once with a snapshot. Each change is one line in ``budget.log`` (see ``train_network``).

Plateau (``plateau_stop``): from 70 % of ``max_iters`` on (and at least ``MIN_ITERS`` iterations), when the mean
training loss of the last 10 % of the run is not 1 % lower than that of the 10 % before, the run is cut short, once:
it ends ``ANNEAL_SHARE`` of the run later, and the loop (:func:`posenb.train.loop.run_training`) anneals the
learning rate over those iterations from the rate it had at the plateau down to its floor (a cosine anchored at the
plateau, :func:`posenb.train.config.learning_rate`). A run stopped at the plateau itself would keep the weights of a
learning rate still ~20 % of its peak; one whose cosine merely spanned the shorter run would drop the rate from ~20 %
to ~2 % of its peak in one step and skip the low-rate phase where key points are placed finest.
"""

from __future__ import annotations

__all__ = ["RunBudget", "WARM_ITERS", "MIN_ITERS", "FIT_FLOOR", "ANNEAL_SHARE"]

#: first steps of a run left out of the speed measurement (caches, allocator, first batches)
WARM_ITERS = 10
#: a plateau never ends a run before this many iterations
MIN_ITERS = 500
#: the time budget never plans a run shorter than this many iterations
FIT_FLOOR = 100
#: a plateau ends the run this share of its planned iterations later (the learning rate anneals over them)
ANNEAL_SHARE = 0.15


class RunBudget:
    """Decides when a run ends. ``max_iters``: the planned end; ``max_minutes``: None or the time budget."""

    def __init__(
        self, max_iters: int, start: int = 0, max_minutes: float | None = None, plateau_stop: bool = False
    ):
        self.max_iters = int(max_iters)
        self.planned = int(max_iters)
        self.start = int(start)
        self.max_seconds = None if max_minutes is None else float(max_minutes) * 60.0
        self.plateau_stop = bool(plateau_stop)
        self.history: list[tuple[int, float]] = []
        self.warm: tuple[int, float] | None = None
        self.messages: list[str] = []
        self.stop_reason: str | None = None
        self.plateau_at: int | None = None

    def step(self, iteration: int, seconds: float) -> None:
        """Called after every step (cheap): remembers the time at the end of the warm-up steps."""
        if self.warm is None and iteration - self.start >= WARM_ITERS:
            self.warm = (int(iteration), float(seconds))

    def seconds_per_iteration(self, iteration: int, seconds: float) -> float | None:
        done = iteration - self.start
        if done <= 0:
            return None
        if self.warm is not None and iteration - self.warm[0] >= WARM_ITERS:
            return (seconds - self.warm[1]) / (iteration - self.warm[0])
        return seconds / done

    def update(self, iteration: int, seconds: float, loss: float | None) -> int:
        """New end iteration after a display interval (``iteration`` steps done, ``seconds`` since the start of
        this run, mean ``loss`` of the interval). ``iteration`` itself means: stop now."""
        if loss is not None and loss == loss:
            self.history.append((int(iteration), float(loss)))
        if self.max_seconds is not None:
            self._fit_time(iteration, seconds)
        if self.plateau_stop and self.plateau_at is None and self.max_iters > iteration:
            self._check_plateau(iteration)
        return self.max_iters

    def _fit_time(self, iteration: int, seconds: float) -> None:
        spi = self.seconds_per_iteration(iteration, seconds)
        if spi is None or spi <= 0 or self.max_iters <= iteration:
            return
        if (iteration - self.start) * 2 < (self.max_iters - self.start):
            left = self.max_seconds - seconds
            fit = iteration + int(max(0.0, left) / spi)
            new = min(self.planned, max(fit, min(self.planned, FIT_FLOOR), iteration + 1))
            if abs(new - self.max_iters) >= max(10, 0.02 * self.max_iters):
                if new < self.max_iters:
                    why = (
                        f"{self.max_iters} iterations would take "
                        f"{(seconds + (self.max_iters - iteration) * spi) / 60:.1f} min > max_minutes "
                        f"{self.max_seconds / 60:g}"
                    )
                else:
                    why = f"faster than measured before, {new} iterations end within max_minutes {self.max_seconds / 60:g}"
                self.messages.append(
                    f"iteration {iteration}: {spi:.2f} s/iteration, {why}: max_iters {self.max_iters} -> {new}"
                )
                self.max_iters = new
        elif seconds > 1.15 * self.max_seconds:
            self.stop_reason = f"iteration {iteration}: {seconds / 60:.1f} min > 1.15 x max_minutes: stopped"
            self.messages.append(self.stop_reason)
            self.max_iters = iteration

    def _check_plateau(self, iteration: int) -> None:
        span = max(1, int(0.1 * self.max_iters))
        if iteration < max(MIN_ITERS, int(0.7 * self.max_iters)) or iteration - self.start < 2 * span:
            return
        last = [v for i, v in self.history if iteration - span < i <= iteration]
        before = [v for i, v in self.history if iteration - 2 * span < i <= iteration - span]
        if len(last) < 2 or len(before) < 2:
            return
        m_last, m_before = sum(last) / len(last), sum(before) / len(before)
        if m_last > 0.99 * m_before:
            end = min(self.max_iters, iteration + max(1, int(ANNEAL_SHARE * (self.planned - self.start))))
            self.plateau_at = iteration
            self.stop_reason = (
                f"iteration {iteration}: training loss plateau (mean {m_last:.5f} over the last {span} iterations "
                f"vs {m_before:.5f} before): the run ends at {end}, the learning rate annealing until then"
            )
            self.messages.append(self.stop_reason)
            self.max_iters = end
