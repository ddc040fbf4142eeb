"""Peak memory (RSS) of ``analyze_videos`` versus video length (issue 11, item 7: memory flat in video length).

    python benchmarks/bench_memory.py [--minutes 1 10] [--workdir /tmp/posenb-bench-memory] [--write]
    python benchmarks/bench_memory.py --videos /tmp/of_1min.mp4 /tmp/of_10min.mp4 [--write]

(``--videos``: real videos instead of synthetic ones, e.g. the openfield video looped by stream copy:
``ffmpeg -stream_loop 8 -i m3v1mp4.mp4 -t 600 -c copy /tmp/of_10min.mp4``.)

Makes (once, in ``--workdir``) a tiny demo project whose efficientnet-lite0 is trained for 2 iterations at
``global_scale`` 0.5 (so 640x480 frames are decoded at 320x240, as in the openfield benchmark; the weights do not
matter for memory), writes synthetic 640x480 30 fps H.264 videos of each length (a moving square on noise), and
analyses each one in a fresh subprocess that reports its peak RSS (``ru_maxrss``). ``--write`` appends the table
to benchmarks/RESULTS.md. Videos and project stay in ``--workdir`` (never in the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import cpu_model, load_average, write_section

SECTION = "## Analysis memory"

_CHILD = r"""
import json, resource, sys, time
import torch  # noqa: F401  (before decord, as posenb's tests do)
from posenb.infer.analyze import analyze_videos
config, video, dest = sys.argv[1:4]
t0 = time.time()
analyze_videos(config, [video], destfolder=dest)
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "s": time.time() - t0}))
"""


def make_project(workdir: Path) -> str:
    from posenb.data.trainingset import create_training_dataset
    from posenb.demo import make_demo_project
    from posenb.train.api import train_network

    marker = workdir / "project.json"
    if marker.is_file():
        return json.loads(marker.read_text())["config"]
    config = make_demo_project(workdir / "project", n_frames=40, n_labeled=8, width=128, height=96)
    create_training_dataset(config)
    train_network(config, maxiters=2, displayiters=1, saveiters=2, progress=False, global_scale=0.5,
                  crop_size=None, batch_size=4, warmup_iters=1)  # fmt: skip
    marker.write_text(json.dumps({"config": config}))
    return config


def make_video(path: Path, n_frames: int, size=(640, 480), fps: float = 30.0) -> Path:
    import numpy as np

    from posenb.io.video import VideoWriter

    if path.is_file():
        return path
    w, h = size
    base = (np.random.default_rng(0).random((h, w, 3)) * 60).astype(np.uint8)
    with VideoWriter(path, fps, size, preset="ultrafast") as writer:
        for i in range(n_frames):
            frame = base.copy()
            x = int((w - 40) * (0.5 + 0.5 * np.sin(i / 20)))
            frame[h // 3 : h // 3 + 40, x : x + 40] = 255
            writer.write(frame)
    return path


def measure(config: str, video: Path, dest: Path) -> dict:
    """Peak RSS (MB) and seconds of ``analyze_videos`` on ``video`` in a fresh Python process."""
    for old in dest.glob(f"{video.stem}DLC*"):
        old.unlink()
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    out = subprocess.run([sys.executable, "-c", _CHILD, config, str(video), str(dest)], capture_output=True,
                         text=True, env=env, check=True).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--workdir", default="/tmp/posenb-bench-memory")
    parser.add_argument("--videos", nargs="+", help="analyse these videos instead of synthetic ones")
    parser.add_argument("--write", action="store_true", help="append the results to benchmarks/RESULTS.md")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    config = make_project(workdir)
    rows = []
    if args.videos:
        from posenb.io.video import open_video

        jobs = []
        for v in args.videos:
            with open_video(v) as r:
                jobs.append((r.n_frames / (r.fps or 30) / 60, r.n_frames, Path(v)))
    else:
        jobs = [(m, int(round(m * 60 * 30)), None) for m in args.minutes]
    for minutes, n, video in jobs:
        video = video or make_video(workdir / f"synthetic_{n}f.mp4", n)
        load_before = load_average()
        res = measure(config, video, workdir / "out")
        rows.append((minutes, n, res["peak_mb"], res["s"], load_before, load_average()))
        print(f"{minutes:g} min ({n} frames): peak RSS {res['peak_mb']:.0f} MB, {res['s']:.0f} s")
    what = (
        f"--videos {' '.join(args.videos)}"
        if args.videos
        else f"--minutes {' '.join(f'{m:g}' for m in args.minutes)}"
    )
    videos = (
        "Videos " + ", ".join(Path(v).name for v in args.videos)
        if args.videos
        else "Synthetic 640x480 30 fps H.264 videos"
    )
    lines = [
        SECTION, "",
        f"- Command: `python benchmarks/bench_memory.py {what}`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {cpu_model('?')}, "
        f"{os.cpu_count()} CPUs",
        f"- {videos}; efficientnet-lite0 at global_scale 0.5 (decoded at 320x240), "
        "batch 8, CPU; peak RSS = `ru_maxrss` of a fresh process running `analyze_videos` (imports included).",
        "",
        "| video | frames | peak RSS (MB) | wall s | load average before -> after |",
        "|---|---|---|---|---|",
        *[f"| {m:.3g} min | {n} | **{p:.0f}** | {s:.0f} | {a} -> {b} |" for m, n, p, s, a, b in rows],
        "",
    ]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section(Path(__file__).resolve().parent / "RESULTS.md", SECTION, text)


if __name__ == "__main__":
    main()
