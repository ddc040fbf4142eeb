"""Benchmark: labeler responsiveness in a real browser (Voila + Playwright + chromium, localhost).

    python benchmarks/bench_labeler_browser.py           # measure and print
    python benchmarks/bench_labeler_browser.py --write   # also write the section "Labeler responsiveness (browser)"
                                                         # of benchmarks/RESULTS.md (other sections are left alone)

Runs ``tests/browser/test_labeler_browser.py::test_responsiveness`` (a 640x480 demo project served by Voila,
24 clicks that each place a point, 5 switches to the next image, each switch saving the labels) and reads the
timings it writes to the file named by ``POSENB_RESPONSIVENESS_JSON`` (a temporary file). Times are taken in the page's clock:
click-to-dot = mousedown event to the first redraw of the canvas; frame switch = click on "Next" to the last redraw
of the canvas (new image and its points). Targets: click-to-dot < 100 ms, frame switch < 150 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import cpu_model, load_average, write_section  # benchmarks/_common.py

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Labeler responsiveness (browser)"
TEST = "tests/browser/test_labeler_browser.py::test_responsiveness"


def _chromium_version() -> str:
    try:
        out = subprocess.run(
            ["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=30
        ).stdout
        return out.strip() or "chromium"
    except (OSError, subprocess.SubprocessError):
        return "chromium"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the results into benchmarks/RESULTS.md")
    args = ap.parse_args()
    load_before = load_average()
    cmd = [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:cacheprovider"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "labeler_responsiveness.json"
        subprocess.run(cmd, cwd=ROOT, check=True, env={**os.environ, "POSENB_RESPONSIVENESS_JSON": str(out)})
        res = json.loads(out.read_text())
    load_after = load_average()
    c, f = res["click_to_dot_ms"], res["frame_switch_ms"]
    now = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    cpu = cpu_model(platform.processor() or "unknown CPU")
    text = "\n".join(
        [
            SECTION,
            "",
            "- Command: `python benchmarks/bench_labeler_browser.py --write` (runs `pytest " + TEST + "`)",
            f"- Date: {now}; machine: {os.cpu_count()} cores, {platform.machine()}, {cpu}, Python "
            f"{platform.python_version()}, {_chromium_version()} headless (--disable-gpu), Voila on localhost",
            f"- Load average (1, 5, 15 min) before: {load_before}; after: {load_after}. "
            "Other processes sharing the cores make these upper bounds.",
            "- Setup: 640x480 demo frames (PNG of 550 kB, sent to the canvas as JPEG of about 80 kB), canvas 640x480;",
            "  times in the page's clock (performance.now); redraws detected by hooking the canvas's drawImage, no polling.",
            "",
            "| measure | n | median | p90 | max | target |",
            "|---|---|---|---|---|---|",
            f"| click-to-dot (mousedown to the dot drawn) | {c['n']} | **{c['median']:.0f} ms** | {c['p90']:.0f} ms | "
            f"{c['max']:.0f} ms | < 100 ms |",
            f"| frame switch (click Next to new image + points drawn; labels saved) | {f['n']} | **{f['median']:.0f} ms** | "
            f"| {f['max']:.0f} ms | < 150 ms |",
            "",
            "The labels are written (HDF5 + CSV, atomically, about 100-200 ms) after the new image has been sent, so",
            "saving does not delay the switch on screen.",
            "",
        ]
    )
    print(text)
    if args.write:
        write_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, text)


if __name__ == "__main__":
    main()
