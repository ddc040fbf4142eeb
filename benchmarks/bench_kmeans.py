"""Benchmark: k-means frame extraction on a 10-minute 640x480 30 fps video (18,000 frames).

    python benchmarks/bench_kmeans.py            # measure and print
    python benchmarks/bench_kmeans.py --write    # also write the section "Frame extraction (k-means)" of RESULTS.md

The video is ../shared/data/openfield-Pranav-2018-10-30/videos/m3v1mp4.mp4 (a real mouse, 2,330 frames) looped to
18,000 frames and re-encoded (H.264) into /tmp with posenb's VideoWriter; without the shared data, the synthetic demo
is rendered at 640x480 instead. Reference: DeepLabCut 3.0.2's ``extract_frames(algo="kmeans")`` takes 69 s on this
machine kind (figure from the project lead). Diversity = mean pairwise L2 distance between the picked frames'
30-px-wide grayscale thumbnails, k-means vs uniform picks, averaged over seeds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import cpu_model, cpu_seconds, load_average, write_section  # benchmarks/_common.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED_VIDEO = ROOT.parent / "shared" / "data" / "openfield-Pranav-2018-10-30" / "videos" / "m3v1mp4.mp4"
SECTION = "## Frame extraction (k-means)"


def make_video(path: Path, n_frames: int) -> str:
    """Loop the shared mouse video (or render the synthetic demo) into ``path``; returns a description."""
    from posenb.io.video import VideoWriter, open_video

    if path.exists():
        with open_video(path) as r:
            if r.n_frames == n_frames:
                return f"{path} (reused)"
    if SHARED_VIDEO.exists():
        src = open_video(SHARED_VIDEO)
        n = 0
        with VideoWriter(path, src.fps or 30, (src.full_width, src.full_height)) as w:
            while n < n_frames:
                for _, frames in src.iter_frames(chunk=64):
                    frames = frames[: n_frames - n]
                    w.write(frames)
                    n += len(frames)
                    if n >= n_frames:
                        break
        src.close()
        return f"{SHARED_VIDEO.name} ({src.n_frames} frames, real mouse) looped to {n_frames} frames, H.264 crf 23"
    from posenb.demo import make_synthetic_video

    make_synthetic_video(path, n_frames, 640, 480)
    return f"synthetic demo video rendered at 640x480, {n_frames} frames"


def machine() -> str:
    cpu = cpu_model(platform.processor() or "?")
    return f"{os.cpu_count()} cores (nproc {os.cpu_count()}), {platform.machine()}, {cpu}, Python {platform.python_version()}"


def new_project(video: str, workdir: Path, n_pick: int) -> str:
    import contextlib
    import io

    from posenb.project.config import read_config, write_config
    from posenb.project.create import create_new_project

    with contextlib.redirect_stdout(io.StringIO()):
        config = create_new_project("bench", "posenb", [video], working_directory=workdir)
    cfg = read_config(config)
    cfg["numframes2pick"] = n_pick
    write_config(config, cfg)
    return config


def mean_pairwise(thumbs: np.ndarray, rows: np.ndarray) -> float:
    x = thumbs[rows].astype(np.float64)
    d = [np.linalg.norm(x[i] - x[j]) for i, j in itertools.combinations(range(len(x)), 2)]
    return float(np.mean(d))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", default="/tmp/posenb_bench/openfield_10min.mp4")
    ap.add_argument("--frames", type=int, default=18000)
    ap.add_argument("--pick", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="write the results into benchmarks/RESULTS.md")
    args = ap.parse_args()

    import contextlib
    import io

    from posenb.frames.extract import extract_frames
    from posenb.frames.select import load_thumbnails, select_kmeans, uniform_indices

    video = Path(args.video)
    video.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    source = make_video(video, args.frames)
    print(f"video: {source} ({time.perf_counter() - t:.0f} s)")
    load_before = load_average()

    # 1. end-to-end extract_frames(algo="kmeans"), fresh project each time (no frames to skip)
    times, cpus = [], []
    for rep in range(args.repeats):
        work = Path(tempfile.mkdtemp(prefix="posenb_bench_"))
        try:
            config = new_project(str(video), work, args.pick)
            t, c = time.perf_counter(), cpu_seconds()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                out = extract_frames(config, algo="kmeans", userfeedback=False, seed=rep)
            times.append(time.perf_counter() - t)
            cpus.append(cpu_seconds() - c)
            (picked,) = out.values()
            print(
                f"run {rep}: {times[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU, {len(picked)} frames", flush=True
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    # 2. the stages (wall, CPU), and the decord fallback path of the thumbnail pass
    def timed(fn):
        t, c = time.perf_counter(), cpu_seconds()
        out = fn()
        return out, time.perf_counter() - t, cpu_seconds() - c

    (idx, thumbs), t_thumbs, c_thumbs = timed(lambda: load_thumbnails(video, width=30, progress=False))
    _, t_kmeans, c_kmeans = timed(lambda: select_kmeans(thumbs, args.pick, rng=0))
    _, t_reader, c_reader = timed(lambda: load_thumbnails(video, width=30, progress=False, backend="reader"))
    load_after = load_average()

    # 3. diversity: k-means vs uniform picks over seeds (same thumbnails)
    div_k, div_u = [], []
    for s in range(args.seeds):
        div_k.append(mean_pairwise(thumbs, select_kmeans(thumbs, args.pick, rng=s)))
        div_u.append(mean_pairwise(thumbs, uniform_indices(len(idx), args.pick, rng=s)))
    dk, du = float(np.mean(div_k)), float(np.mean(div_u))

    best, med = min(times), float(np.median(times))
    lines = [
        SECTION,
        "",
        f"- Command: `python benchmarks/bench_kmeans.py --write` (repeats={args.repeats}, seeds={args.seeds})",
        f"- Date: {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; machine: {machine()}",
        f"- Load average (1, 5, 15 min) before: {load_before}; after: {load_after}. Other processes shared the "
        "cores during the runs, so these are upper bounds of an idle machine's times.",
        f"- Video: {source}; 640x480, 30 fps, 10 min.",
        "",
        "| measure | posenb | DeepLabCut 3.0.2 |",
        "|---|---|---|",
        f"| `extract_frames(algo='kmeans')`, {args.pick} frames, end to end (best / median of {args.repeats}) | "
        f"**{best:.1f} s** / {med:.1f} s | 69 s (lead's figure, same machine kind) |",
        f"| speed-up | {69 / best:.0f}x (best) / {69 / med:.0f}x (median) | 1x |",
        f"| CPU time (user + system, incl. the ffmpeg child) of the same runs (min / median) | {min(cpus):.1f} s / "
        f"{float(np.median(cpus)):.1f} s | |",
        f"| thumbnail pass: 18,000 frames at 30x22 px, ffmpeg (default path): wall / CPU | {t_thumbs:.1f} s / "
        f"{c_thumbs:.1f} s | |",
        f"| thumbnail pass, decord in-decoder resize (fallback and explicit-indices path): wall / CPU | "
        f"{t_reader:.1f} s / {c_reader:.1f} s | |",
        f"| k-means + closest-to-centroid pick: wall / CPU | {t_kmeans:.1f} s / {c_kmeans:.1f} s | |",
        "",
        f"Diversity of the picks (mean pairwise L2 distance between the picked frames' 30-px grayscale thumbnails, "
        f"mean of {args.seeds} seeds; higher = more varied frames): k-means **{dk:.0f}**, uniform {du:.0f} "
        f"(ratio {dk / du:.2f}).",
        "",
        "How: one sequential decode pass at thumbnail size (ffmpeg scales and drops the deblocking filter; grayscale "
        "is the luma plane), k-means (numpy, k-means++ seeding, n_clusters=numframes2pick) on mean-centred thumbnails, the "
        "member closest to each centroid, then only the picked frames decoded at full resolution with exact seeks.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, text)


if __name__ == "__main__":
    main()
