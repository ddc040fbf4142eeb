"""The refinement cycle: after a run's first cosine cycle ends, a second, short one from a fresh optimizer.

``refine_iters`` > 0 in ``train/pose_cfg.yaml`` (or ``train_network(..., refine_iters=N)``; 0, posenb's default,
turns it off, as does an explicit ``maxiters`` of ``train_network`` unless ``refine_iters`` is passed too):

- when the first cycle ends at iteration ``a`` (its planned end, or the end the plateau stop or the time budget
  gave it, :mod:`posenb.train.budget`), training goes on from the same weights for ``refine_iters`` more
  iterations, with a fresh optimizer state: a linear warm-up over ``WARM_SHARE`` of them from lr / 100 to
  ``refine_lr x lr``, then a cosine down to lr / 100 (the schedule anchor ``(a, refine_lr x lr, warm-up)`` of
  :func:`posenb.train.config.learning_rate`). Snapshots go on counting (``snapshot-<a + refine_iters>.pt``).
- Measured on openfield (benchmarks/RESULTS.md, "Refinement cycle"; 1000 iterations after the recipe's ~3000,
  ~3.5 min on 2 CPU cores, +35-40 % training time): the training error fell in all nine shuffles measured (-0.03
  to -0.10 px), the test error by 0.05 px on average (-0.22 to +0.05), too little for the time on a CPU, so the
  recipe leaves it off; an option for a GPU or for the last bit of fit.
- Skipped (one line in ``train.log`` says why): after a stop request or Ctrl-C, with DLC's ``multi_step`` schedule,
  and when the first cycle's measured speed says the cycle would take more than ``TIME_SHARE`` of
  ``max_minutes`` (a machine much slower than the recipe's time model, whose first cycle already had to be
  shortened to fit the minutes; one process only: under torchrun every rank measures its own speed, so that rule
  is left out there, as the time budget is).
- Its snapshots carry ``scheduler["cycle"] = "refine"``: resuming one continues the cycle to its end; a run whose
  newest snapshot ends the cycle is finished.
"""

from __future__ import annotations

import dataclasses

from posenb.train.config import new_cycle_schedule

__all__ = ["WARM_SHARE", "TIME_SHARE", "CYCLE", "next_cycle"]

#: share of the cycle spent warming the learning rate up
WARM_SHARE = 0.2
#: the cycle is skipped when its estimated time exceeds this share of ``max_minutes``
TIME_SHARE = 0.4
#: the ``scheduler["cycle"]`` value of the cycle's snapshots
CYCLE = "refine"


def _in_cycle(state: dict | None) -> dict | None:
    """The scheduler entry of a snapshot taken inside the refinement cycle (None for any other snapshot)."""
    sched = (state or {}).get("scheduler") or {}
    return sched if sched.get("cycle") == CYCLE else None


def next_cycle(
    cfg, first: dict, start_state: dict | None, model, timed: bool = True
) -> tuple[object, dict | None, str]:
    """What follows the first cycle: ``(TrainConfig, start_state, log line)`` of the refinement cycle to run, or
    ``(None, None, log line)`` when there is none.

    ``first``: :func:`posenb.train.loop.run_training`'s summary of the first cycle (``iteration``, ``stopped``,
    ``seconds``); ``start_state``: the snapshot that run resumed (None: it started from scratch); ``model``: the
    trained network (its weights start the cycle). ``timed=False`` (several processes under torchrun, where each
    measures its own speed and all must decide alike) leaves out the time rule, as the time budget is left out there.
    """
    sched = _in_cycle(start_state)
    if sched is not None:  # resumed inside the cycle: go on to its end, optimizer state and schedule kept
        end = int(sched["max_iters"])
        if int(start_state["iteration"]) >= end:
            return None, None, ""
        line = f"refinement cycle: resumed at iteration {int(start_state['iteration'])}, ends at {end}"
        return dataclasses.replace(cfg, max_iters=end, max_minutes=None, plateau_stop=False), start_state, line
    n = int(cfg.refine_iters)
    if n <= 0:
        return None, None, ""
    if first["stopped"]:
        return None, None, "refinement cycle: skipped (training was stopped)"
    if cfg.lr_schedule != "cosine":
        return None, None, f"refinement cycle: skipped (lr_schedule {cfg.lr_schedule!r}, not cosine)"
    start = int(first["iteration"])
    done = start - int((start_state or {}).get("iteration") or 0)
    est = n * float(first["seconds"]) / done if done > 0 else None
    if timed and est is not None and cfg.max_minutes is not None and est > TIME_SHARE * 60 * float(cfg.max_minutes):
        return None, None, (
            f"refinement cycle: skipped ({n} iterations would take {est / 60:.1f} min at the first cycle's speed, "
            f"> {TIME_SHARE:g} x max_minutes {float(cfg.max_minutes):g})"
        )
    warm = max(1, int(round(WARM_SHARE * n)))
    peak = float(cfg.refine_lr) * float(cfg.lr)
    end = start + n
    cycle_cfg = dataclasses.replace(cfg, max_iters=end, max_minutes=None, plateau_stop=False)
    state = {
        "iteration": start,
        "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "optimizer": None,  # a fresh optimizer state
        "scheduler": new_cycle_schedule(start, end, peak, warm, cycle=CYCLE),
        "train_config": cycle_cfg.to_dict(),
    }
    line = (
        f"refinement cycle: iterations {start} -> {end}, fresh optimizer, learning rate warm-up over {warm} to "
        f"{peak:.2g} ({float(cfg.refine_lr):g} x lr), then cosine to {float(cfg.lr) / 100:.2g}"
        + ("" if est is None else f" (~{est / 60:.1f} min at the first cycle's speed)")
    )
    return cycle_cfg, state, line
