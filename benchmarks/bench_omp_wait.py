"""How OpenMP's waiting threads change a training step: alone on the cores and beside other training processes.

torch's CPU kernels run in OpenMP (libgomp) parallel regions; between regions the worker threads wait, spinning or
asleep. Spinning wakes them fastest when the cores are free and steals the cores from other processes when they are
not. For each waiting policy, ``1..--max-procs`` identical processes each run ``--steps`` training steps at once (the
step of posenb/train/loop.py: efficientnet-lite0 + FPN head, channels-last, 160x160 crops, batch 8, 4 parts,
AdamW; torch threads = the cores, as ``train_network`` runs), and the median wall seconds per step of each process
is reported with the images per second of all processes together.

Policies (environment before torch loads):

- ``passive``: ``OMP_WAIT_POLICY=PASSIVE`` (threads sleep at once; posenb's default until 2026-12-05)
- ``spin1000``: ``OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=1000`` (libgomp spins ~1000 rounds, then sleeps; what
  ``import posenb`` sets now, posenb/__init__.py)
- ``default``: neither set (libgomp spins 300,000 rounds)

    python benchmarks/bench_omp_wait.py [--max-procs 3] [--steps 12] [--record]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from _common import cpu_model, load_average, write_section

POLICIES = {
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "spin1000": {"OMP_WAIT_POLICY": "PASSIVE", "GOMP_SPINCOUNT": "1000"},
    "default": {},
}
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "## OpenMP waiting policy (training step)"


def worker(steps: int) -> None:
    """One process: median wall seconds per training step, printed as JSON (the environment is the parent's).

    The step is bench_step_time.py's; torch is loaded first, so libgomp has read this process's policy before that
    module's own ``setdefault`` of ``OMP_WAIT_POLICY`` could change it."""
    import torch  # noqa: F401  (first: libgomp reads the environment now)
    from bench_step_time import one_case

    wall, _cpu = one_case(crop=160, batch=8, parts=4, steps=steps)
    print(json.dumps({"s_per_step": wall, "batch": 8}))


def run_case(policy: str, procs: int, steps: int) -> list[float]:
    """Median s/step of each of ``procs`` processes started together under ``policy``."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(POLICIES[policy])
    cmd = [sys.executable, __file__, "--worker", "--steps", str(steps)]
    running = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True) for _ in range(procs)]
    return [json.loads(p.communicate()[0].strip().splitlines()[-1])["s_per_step"] for p in running]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--max-procs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2, help="repeat every case, policies interleaved")
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()
    if args.worker:
        worker(args.steps)
        return
    start, load0 = _dt.datetime.now(_dt.timezone.utc), load_average()
    rows = {}
    for _ in range(args.rounds):
        for procs in range(1, args.max_procs + 1):
            for policy in POLICIES:
                rows.setdefault((procs, policy), []).extend(run_case(policy, procs, args.steps))
                print(procs, policy, [round(x, 3) for x in rows[(procs, policy)]], flush=True)
    lines = [
        "| training processes at once | policy | s per step, each process (median) | images/s, all processes |",
        "|---|---|---|---|",
    ]
    for (procs, policy), walls in rows.items():
        walls = sorted(walls)
        median = walls[len(walls) // 2]
        lines.append(f"| {procs} | {policy} | {median:.3f} | {procs * 8 / median:.1f} |")
    table = "\n".join(lines)
    print(table)
    if args.record:
        head = (
            f"- Command: `python benchmarks/bench_omp_wait.py --max-procs {args.max_procs} --steps {args.steps} "
            f"--rounds {args.rounds} --record`; {start:%Y-%m-%d %H:%M} UTC; "
            f"{cpu_model(platform.processor() or platform.machine())}, {os.cpu_count()} cores, no GPU; load before "
            f"{load0}, after {load_average()} (its own processes).\n"
            "- What: the module docstring of the script (policies, the step). Each process: median over "
            f"{args.steps} steps; each cell: median over the processes and {args.rounds} rounds.\n\n"
        )
        write_section(RESULTS, SECTION, f"{SECTION}\n\n{head}{table}\n")


if __name__ == "__main__":
    main()
