"""How torch's OpenMP threads wait between parallel regions: decided once, before torch loads.

libgomp (the OpenMP runtime of torch's Linux wheels) reads its environment when torch is first imported. Threads
that spin while they wait wake fastest on free cores and steal the cores when other processes need them; threads
that sleep at once (``OMP_WAIT_POLICY=PASSIVE``) share well and pay a wake-up on each of the thousands of small
regions of a training step. Measured on 2 cores (``python benchmarks/bench_omp_wait.py``, benchmarks/RESULTS.md
"OpenMP waiting policy"), seconds per training step of efficientnet-lite0 at 160x160, batch 8:

=====================  ==========  ===================  ===================
policy                 alone       beside one more      beside two more
=====================  ==========  ===================  ===================
PASSIVE                0.22        0.33                 0.48
PASSIVE + spin 1000    0.19        0.39                 0.63
libgomp default        0.18        0.64                 1.67
=====================  ==========  ===================  ===================

So posenb sleeps at once on a busy machine and spins briefly (``GOMP_SPINCOUNT=1000``, which libgomp obeys over
PASSIVE) on an idle one, judged by the load average when posenb is imported. ``PASSIVE`` stays set for other
OpenMP runtimes. A choice the user made (either variable set) is kept untouched.
"""

from __future__ import annotations

import os

SPIN_COUNT = "1000"  # libgomp busy-wait rounds before sleeping (its default: 300,000)
IDLE_SHARE = 0.5  # "idle": 1-min load average below this share of the cores


def wait_policy(environ, load: float | None, cores: int | None) -> dict[str, str]:
    """The variables to add to ``environ`` (a mapping; not changed) for a machine with 1-min load average ``load``
    (None: unknown) and ``cores`` CPUs: none if the user set ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``."""
    if "OMP_WAIT_POLICY" in environ or "GOMP_SPINCOUNT" in environ:
        return {}
    chosen = {"OMP_WAIT_POLICY": "PASSIVE"}
    if load is not None and load < IDLE_SHARE * max(1, cores or 1):
        chosen["GOMP_SPINCOUNT"] = SPIN_COUNT
    return chosen


def apply_wait_policy() -> dict[str, str]:
    """Set :func:`wait_policy`'s variables in ``os.environ`` (child processes inherit them); returns them."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # not available on this platform
        load = None
    chosen = wait_policy(os.environ, load, os.cpu_count())
    os.environ.update(chosen)
    return chosen
