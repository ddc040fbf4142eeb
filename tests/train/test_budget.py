"""The run budget (posenb.train.budget): fit max_iters into max_minutes, stop at a loss plateau."""

from __future__ import annotations

from posenb.train.budget import FIT_FLOOR, RunBudget


def _feed(budget: RunBudget, seconds_per_iter: float, losses, display: int = 50, until: int | None = None):
    it = budget.start
    stop = until or budget.max_iters
    while it < min(stop, budget.max_iters):
        it += 1
        budget.step(it, (it - budget.start) * seconds_per_iter)
        if it % display == 0:
            budget.update(it, (it - budget.start) * seconds_per_iter, losses(it))
    return it


def test_time_budget_shortens_the_run_to_end_in_time():
    budget = RunBudget(3000, max_minutes=10)  # 1 s/iteration: 3000 iterations = 50 min
    end = _feed(budget, 1.0, lambda it: 1.0 / it)
    assert budget.max_iters == end
    assert 560 <= end <= 600  # 600 s of budget at 1 s/iteration, decided on the first display
    assert "max_minutes 10" in budget.messages[0]


def test_time_budget_never_cuts_below_the_floor_nor_raises():
    budget = RunBudget(3000, max_minutes=1)  # 60 s at 1 s/iteration: would be 60 iterations
    _feed(budget, 1.0, lambda it: 1.0, until=100)
    assert budget.max_iters == FIT_FLOOR
    fast = RunBudget(3000, max_minutes=60)
    end = _feed(fast, 0.01, lambda it: 1.0 / it)
    assert end == 3000 and fast.messages == []


def test_time_budget_gives_back_iterations_when_the_run_speeds_up():
    """Slow first steps (caches, a busy moment) cut the plan; the faster steps after raise it back within the
    minutes, never above the planned iterations."""
    budget = RunBudget(3000, max_minutes=10)

    def seconds(it):  # 1 s/iteration for the first 100 steps, then 0.1 s
        return float(it) if it <= 100 else 100.0 + 0.1 * (it - 100)

    it = 0
    cuts = []
    while it < budget.max_iters:
        it += 1
        budget.step(it, seconds(it))
        if it % 50 == 0:
            cuts.append(budget.update(it, seconds(it), 1.0 / it))
    assert min(cuts) < 700  # cut at first (600 s at 1 s/iteration)
    assert budget.max_iters == 3000 and it == 3000  # 100 s + 2900 x 0.1 s = 390 s: the whole plan fits
    assert any("faster than measured before" in m for m in budget.messages)
    assert seconds(it) <= 600


def test_plateau_stops_late_runs_only():
    budget = RunBudget(2000, plateau_stop=True)
    end = _feed(budget, 0.01, lambda it: 1.0 if it > 800 else 2.0 - it / 800)
    # flat from 800 on: cut at the first check (70 % of the run), ending 15 % of the run later (annealing)
    assert budget.plateau_at == int(0.7 * 2000) and end == int(0.7 * 2000) + 300
    assert "plateau" in budget.stop_reason and "ends at 1700" in budget.stop_reason
    assert len(budget.messages) == 1  # cut once: the flat loss after the cut does not shorten the run again
    falling = RunBudget(2000, plateau_stop=True)
    assert _feed(falling, 0.01, lambda it: 1.0 / it) == 2000


def test_resumed_run_budget_counts_from_its_start():
    budget = RunBudget(3000, start=2000, max_minutes=5)  # 1000 iterations left at 1 s: 16.7 min > 5
    end = _feed(budget, 1.0, lambda it: 1.0)
    assert 2280 <= end <= 2300
