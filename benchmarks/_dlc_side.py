"""DeepLabCut's side of ``bench_backends.py --dlc PYTHON``: runs ``dlc_analysis.py`` in DeepLabCut's own
environment (a subprocess: posenb and DeepLabCut never share a process) and reads its result line.

Not a benchmark. A DeepLabCut variant is keyed like posenb's, ``("DeepLabCut <version> <net>", batch,
threads)``; each run is one fresh process (import, model build and snapshot load, one warm-up batch: all
excluded from the figures by ``dlc_analysis.py``, which times ``analyze_videos`` minus its model loading).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().with_name("dlc_analysis.py")
MARK = "DLC_RESULT "


def run_dlc(python: str, workdir: Path, video: Path, net: str, batch: int, threads: int,
            prepare: bool = False) -> dict:  # fmt: skip
    """One ``dlc_analysis.py`` run; returns its result dict (see that script). Exits with DeepLabCut's output
    tail when it fails. The child gets no PYTHONPATH (posenb's tree must not shadow DeepLabCut's packages)."""
    cmd = [python, str(SCRIPT), "--workdir", str(workdir), "--video", str(video), "--net", net,
           "--batch", str(batch), "--threads", str(threads)] + (["--prepare"] if prepare else [])  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.pop("OMP_WAIT_POLICY", None)  # DeepLabCut as its users run it (PASSIVE is set for posenb)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARK)]
    if proc.returncode or not lines:
        tail = (proc.stdout + proc.stderr)[-3000:]
        sys.exit(f"DeepLabCut run failed ({' '.join(cmd)}), exit {proc.returncode}:\n{tail}")
    return json.loads(lines[-1][len(MARK) :])


def prepare_dlc(python: str, workdir: Path, video: Path, nets: list[str], batches: list[int],
                threads: list[int]) -> dict:  # fmt: skip
    """Build each net's cached project and snapshot (``--prepare``); returns ``{variant key: (net, batch,
    threads)}`` with keys ``("DeepLabCut <version> <net>", batch, threads)``."""
    variants = {}
    for net in nets:
        info = run_dlc(python, workdir, video, net, batches[0], threads[0], prepare=True)
        print(f"DeepLabCut {info['deeplabcut']} {net}: project and snapshot ready in {workdir}", flush=True)
        for t in threads:
            for b in batches:
                variants[(f"DeepLabCut {info['deeplabcut']} {net}", b, t)] = (net, b, t)
    return variants


def dlc_run_row(result: dict) -> tuple[float, float, int]:
    """``(frames/s, CPU ms/frame, frames)`` of one ``dlc_analysis.py`` result."""
    n = result["frames"]
    return n / result["wall_s"], result["cpu_s"] * 1000 / n, n


def ratio_line(rows: dict, dlc_keys: list) -> str:
    """The best posenb variant's frames/s over the best DeepLabCut variant's (medians), as a sentence.

    ``rows``: ``{key: (median frames/s, median CPU ms/frame)}``; keys in ``dlc_keys`` are DeepLabCut's."""
    ours = {k: v for k, v in rows.items() if k not in dlc_keys and v[0] == v[0]}
    theirs = {k: v for k, v in rows.items() if k in dlc_keys and v[0] == v[0]}
    if not ours or not theirs:
        return "posenb / DeepLabCut: not measured (a side has no timed run)."
    best = max(ours, key=lambda k: ours[k][0])
    ref = max(theirs, key=lambda k: theirs[k][0])
    speed, cpu = ours[best][0] / theirs[ref][0], theirs[ref][1] / ours[best][1]
    return (
        f"posenb / DeepLabCut: fastest posenb variant ({best[0]}, batch {best[1]}, {best[2]} threads) "
        f"{ours[best][0]:.1f} frames/s vs the fastest DeepLabCut one ({ref[0]}, batch {ref[1]}) "
        f"{theirs[ref][0]:.1f} frames/s: **{speed:.1f}x** the frames/s, {cpu:.1f}x less CPU per frame "
        "(issue 18 target: >= 80 frames/s and >= 8x)."
    )
