"""Helpers shared by the benchmark scripts: machine description, load average, CPU time, RESULTS.md sections.

Not a benchmark. The scripts are run as ``python benchmarks/bench_x.py``, which puts this folder first on
``sys.path``, so they import it as ``from _common import ...``.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

RESULTS_HEADER = (
    "# posenb benchmarks\n\n"
    "Hand-run speed measurements; each section names its command, date and machine.\n\n"
)


def cpu_model(fallback: str) -> str:
    """The CPU's model name from /proc/cpuinfo, or ``fallback`` where it cannot be read."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return fallback


def load_average(sep: str = ", ", unavailable: str = "?") -> str:
    """The 1, 5 and 15 min load averages with two decimals, as ``uptime`` prints them: "2.52, 1.92, 1.97"."""
    try:
        return sep.join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return unavailable


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (the ffmpeg decoder)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def write_section(path: Path, section: str, text: str) -> None:
    """Replace the section headed ``section`` of RESULTS.md by ``text`` (or append it), leaving other sections
    untouched."""
    old = path.read_text(encoding="utf-8") if path.exists() else RESULTS_HEADER
    lines = old.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == section), None)
    if start is None:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        new = "".join(lines[:start]) + text + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
    path.write_text(new, encoding="utf-8")
    print(f"written to {path}")
