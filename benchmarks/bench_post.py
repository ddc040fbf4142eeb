"""Post-processing speed: filters, outlier searches and labeled videos.

Run by hand (not part of the tests)::

    python benchmarks/bench_post.py                 # everything, prints a Markdown report
    python benchmarks/bench_post.py --append        # ... and appends it to benchmarks/RESULTS.md
    python benchmarks/bench_post.py --only video    # one part: filters | arima | video
    python benchmarks/bench_post.py --arima-full    # also DLC's full-series ARIMA fit of one series (minutes)

Data: a synthetic one-hour 30 fps prediction file (108 000 frames x 4 body parts, a smooth random walk with
noise, 60 injected one-frame jumps and 200 low-likelihood frames), and for the labeled video DeepLabCut's
openfield video ``../shared/data/openfield-Pranav-2018-10-30/videos/m3v1mp4.mp4`` (2330 frames, 640x480) with
synthetic predictions. Wall times depend on the load of the (shared, 2-core) machine: the report gives
``uptime`` before and after, and CPU time per frame (user + system, this process and its ffmpeg children),
which contention affects much less.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from _common import cpu_seconds  # benchmarks/_common.py

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
VIDEO = REPO.parent / "shared" / "data" / "openfield-Pranav-2018-10-30" / "videos" / "m3v1mp4.mp4"
RESULTS = REPO / "benchmarks" / "RESULTS.md"
N_HOUR = 108_000
BODYPARTS = ["snout", "leftear", "rightear", "tailbase"]


def timed(fn, repeat: int = 1):
    """(best wall seconds, CPU seconds of that run, result)."""
    best = None
    for _ in range(repeat):
        c0, t0 = cpu_seconds(), time.perf_counter()
        out = fn()
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        if best is None or wall < best[0]:
            best = (wall, cpu, out)
    return best


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "uptime unavailable"


def hour_of_predictions(seed: int = 0):
    """(arr (108000, 4, 3), jump frames, uncertain frames)."""
    rng = np.random.default_rng(seed)
    n = N_HOUR
    steps = rng.normal(0, 0.6, (n, 2))
    centre = 320 + np.cumsum(steps - steps.mean(0), axis=0)
    centre = 320 + 200 * np.tanh((centre - 320) / 200)  # stay in the arena
    arr = np.zeros((n, 4, 3))
    for j, (dx, dy) in enumerate([(20, 0), (6, -9), (6, 9), (-22, 0)]):
        arr[:, j, 0] = centre[:, 0] + dx + rng.normal(0, 0.4, n)
        arr[:, j, 1] = centre[:, 1] + dy + rng.normal(0, 0.4, n)
    arr[:, :, 2] = rng.uniform(0.8, 1.0, (n, 4))
    jumps = np.sort(rng.choice(np.arange(10, n - 10, 7), 60, replace=False))
    arr[jumps, rng.integers(0, 4, 60), 0] += 80
    uncertain = np.sort(rng.choice(n, 200, replace=False))
    arr[uncertain, rng.integers(0, 4, 200), 2] = 0.001
    return arr, jumps, uncertain


def bench_filters(lines: list[str]) -> None:
    from scipy import signal

    from posenb.frames.outliers import find_outliers_jump, find_outliers_uncertain
    from posenb.post.filtering import filter_array

    arr, jumps, uncertain = hour_of_predictions()
    lines.append(
        f"One hour at 30 fps: {N_HOUR} frames x {len(BODYPARTS)} body parts (synthetic, 60 injected jumps).\n"
    )
    lines.append("| step | wall s | CPU s | result |")
    lines.append("|---|---|---|---|")
    wall, cpu, out = timed(lambda: filter_array(arr, "median", windowlength=5), 3)
    lines.append(
        f"| median filter (posenb, edge-aware, window 5) | {wall:.3f} | {cpu:.3f} | max residual at jumps {np.abs(out[jumps, :, 0] - arr[jumps - 1, :, 0]).max():.1f} px |"
    )
    wall, cpu, _ = timed(
        lambda: np.stack([signal.medfilt(arr[:, j, c], 5) for j in range(4) for c in (0, 1)]), 3
    )
    lines.append(
        f"| median filter (DLC: scipy.signal.medfilt per column) | {wall:.3f} | {cpu:.3f} | reference |"
    )
    wall, cpu, found = timed(lambda: find_outliers_jump(arr, 20), 3)
    expected = np.union1d(jumps, jumps + 1)
    lines.append(
        f"| jump outliers (epsilon 20 px) | {wall:.3f} | {cpu:.3f} | {len(found)} frames, = injected + return frames: {np.array_equal(found, expected)} |"
    )
    wall, cpu, found = timed(lambda: find_outliers_uncertain(arr, 0.01), 3)
    lines.append(
        f"| uncertain outliers (p_bound 0.01) | {wall:.3f} | {cpu:.3f} | {len(found)} frames, = injected: {np.array_equal(found, uncertain)} |"
    )
    gappy = arr.copy()
    gappy[::50, :, :2] = np.nan
    wall, cpu, _ = timed(lambda: filter_array(gappy, "spline", windowlength=5), 1)
    lines.append(f"| spline gap filling (2160 gaps per part) | {wall:.3f} | {cpu:.3f} | |")
    lines.append("")


def bench_arima(lines: list[str], full: bool) -> None:
    from posenb.post.filtering import arima_filter, fit_sarimax

    arr, jumps, _ = hour_of_predictions()
    x, p = arr[:, 0, 0], arr[:, 0, 2]
    lines.append("ARIMA (SARIMAX(3,0,1), DLC's defaults) on the same hour:\n")
    lines.append("| step | wall s | CPU s |")
    lines.append("|---|---|---|")
    wall, cpu, _ = timed(lambda: fit_sarimax(x, p, 0.001, 3, 1, fit_frames=3000))
    lines.append(
        f"| one series (108k frames): fit on 3000 frames + Kalman filter over all | {wall:.1f} | {cpu:.1f} |"
    )
    n_jobs = os.cpu_count() or 1
    wall, cpu, out = timed(lambda: arima_filter(arr, fit_frames=3000, n_jobs=n_jobs))
    err = np.nanmedian(np.abs(out[1:, :, :2] - arr[1:, :, :2]))
    lines.append(
        f"| whole file, 8 series, {n_jobs} processes (filterpredictions default) | {wall:.1f} | {cpu:.1f} (parent only) |"
    )
    lines.append(f"\nMedian |prediction - observation|: {err:.2f} px.")
    if full:
        wall, cpu, _ = timed(lambda: fit_sarimax(x, p, 0.001, 3, 1, fit_frames=None))
        lines.append(f"\n| one series, DLC-style fit on all 108k frames | {wall:.1f} | {cpu:.1f} |")
    else:
        short = x[:20_000]
        wall, cpu, _ = timed(lambda: fit_sarimax(short, p[:20_000], 0.001, 3, 1, fit_frames=None))
        lines.append(
            f"\nFor comparison, DLC's way (fit on the whole series) on 20 000 frames of one series: {wall:.1f} s wall "
            f"({cpu:.1f} s CPU); it grows with the series length, x 8 series per file (--arima-full: 108k)."
        )
    lines.append("")


def _video_project(tmp: Path):
    from posenb.io.predictions import array_to_predictions, write_predictions
    from posenb.project import paths
    from posenb.project.config import read_config, write_config
    from posenb.project.create import create_new_project

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        config = create_new_project("bench", "posenb", [str(VIDEO)], working_directory=tmp)
    cfg = read_config(config)
    cfg["bodyparts"] = BODYPARTS
    cfg["skeleton"] = [
        ["snout", "leftear"],
        ["snout", "rightear"],
        ["leftear", "tailbase"],
        ["rightear", "tailbase"],
    ]
    cfg["dotsize"] = 8
    write_config(config, cfg)
    n = 2330
    t = np.arange(n)
    c = np.stack([320 + 150 * np.cos(t / 50), 240 + 120 * np.sin(t / 50)], 1)
    arr = np.zeros((n, 4, 3))
    for j, (dx, dy) in enumerate([(20, 0), (5, -10), (5, 10), (-25, 0)]):
        arr[:, j, 0], arr[:, j, 1] = c[:, 0] + dx, c[:, 1] + dy
    arr[:, :, 2] = 0.9
    scorer = paths.get_scorer_name(cfg, 1, 0.95, "resnet_50", 1000)
    dest = tmp / "analysis"
    dest.mkdir()
    write_predictions(array_to_predictions(arr, scorer, BODYPARTS), dest / f"{VIDEO.stem}{scorer}.h5")
    return config, dest, n


def bench_video(lines: list[str], repeat: int) -> None:
    import posenb.post.labeled_video as lv
    from posenb.io.video import VideoWriter, open_video

    if not VIDEO.exists():
        lines.append(f"(labeled video skipped: {VIDEO} not found)\n")
        return
    tmp = Path(tempfile.mkdtemp(prefix="posenb-bench-"))
    try:
        config, dest, n = _video_project(tmp)
        lines.append(
            f"Labeled video of `{VIDEO.name}` ({n} frames, 640x480, 4 body parts, dotsize 8), best of {repeat}:\n"
        )
        lines.append("| variant | frames/s (wall) | CPU ms/frame | file MB |")
        lines.append("|---|---|---|---|")

        def run(**kw):
            return lv.create_labeled_video(config, [str(VIDEO)], destfolder=str(dest), overwrite=True, **kw)[
                0
            ]

        variants = [
            ("fast mode (default: x264 ultrafast)", {}),
            ("fast mode + skeleton + 5 trail points", {"draw_skeleton": True, "trailpoints": 5}),
            ("fast mode, x264 superfast", {"preset": "superfast"}),
            ("fast mode, x264 veryfast (smaller file)", {"preset": "veryfast"}),
        ]
        for name, kw in variants:
            wall, cpu, out = timed(lambda kw=kw: run(**kw), repeat)
            lines.append(
                f"| {name} | {n / wall:.0f} | {1000 * cpu / n:.2f} | {out.stat().st_size / 1e6:.1f} |"
            )
        m = 300
        wall, cpu, _ = timed(lambda: run(fastmode=False, Frames2plot=range(m)), 1)
        lines.append(
            f"| high-quality mode (matplotlib), first {m} frames | {m / wall:.0f} | {1000 * cpu / m:.2f} | |"
        )

        reader = open_video(VIDEO)
        wall, cpu, _ = timed(lambda: sum(len(f) for _, f in reader.iter_frames(0, None, 32)), 1)
        lines.append(
            f"| (decoding only, posenb.io.video reader: {reader.backend}) | {n / wall:.0f} | {1000 * cpu / n:.2f} | |"
        )
        frames = reader.get_batch(list(range(200)))
        reader.close()

        def encode(preset):
            with VideoWriter(tmp / f"enc-{preset}.mp4", 30, (640, 480), preset=preset) as w:
                for _ in range(3):
                    w.write(frames)

        for preset in ("ultrafast", "superfast", "veryfast"):
            wall, cpu, _ = timed(lambda p=preset: encode(p), 1)
            lines.append(
                f"| (encoding only, VideoWriter {preset}) | {600 / wall:.0f} | {1000 * cpu / 600:.2f} | |"
            )
        lines.append(
            "\nDeepLabCut 3.0.2's fast mode (OpenCV decode + mp4v encode) is quoted at 250 frames/s at 640x480 on this "
            "machine kind. CPU ms/frame bounds what two idle cores can reach: 2000 / (CPU ms/frame) frames/s.\n"
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--append", action="store_true", help="append the report to benchmarks/RESULTS.md")
    parser.add_argument("--only", choices=["filters", "arima", "video"], action="append")
    parser.add_argument(
        "--arima-full", action="store_true", help="also time DLC's full-series ARIMA fit (slow)"
    )
    parser.add_argument("--repeat", type=int, default=2, help="labeled-video runs per variant (best kept)")
    args = parser.parse_args()
    parts = args.only or ["filters", "arima", "video"]
    lines = [
        f"## Post-processing ({dt.date.today().isoformat()})\n",
        f"Command: `python benchmarks/bench_post.py {' '.join(sys.argv[1:])}`".rstrip() + "  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.platform()}, Python {platform.python_version()}  ",
        f"Load before: `{uptime()}`\n",
    ]
    if "filters" in parts:
        bench_filters(lines)
    if "arima" in parts:
        bench_arima(lines, args.arima_full)
    if "video" in parts:
        bench_video(lines, args.repeat)
    lines.append(f"Load after: `{uptime()}`\n")
    report = "\n".join(lines)
    print(report)
    if args.append:
        with open(RESULTS, "a", encoding="utf-8") as fh:
            fh.write("\n" + report + "\n")
        print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
