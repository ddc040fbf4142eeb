"""Latency of an exported model for real-time use (``export_model`` / ``load_exported_model``), run by hand.

    python benchmarks/bench_export.py [--project CONFIG [--shuffle 1] | --workdir /tmp/posenb-bench
        [--net-type efficientnet-lite0]] [--n 300] [--threads 1 2]

Uses the trained project named by ``--project`` (its shuffle ``--shuffle``), else the openfield project trained by
``benchmarks/bench_openfield.py train`` (``<workdir>/<net_type>/...``); exports the shuffle into a temporary copy
of its ``exported-models`` folder (moved back afterwards), then times frames one at a time (batch 1, the
real-time case), in order, from the start of m3v1mp4.mp4 (640x480):

- the TorchScript module alone on frames already resized by ``global_scale`` (what a live loop with its own
  resize would run);
- ``load_exported_model(folder, dynamic=(False, 0.5, 10)).predict``: resize + the fastest installed runtime
  (OpenVINO / ONNX Runtime, else TorchScript) + mapping back to 640x480, whole frames;
- ``load_exported_model(folder).predict`` (the default, ``dynamic="auto"``): the same, following the animal in
  the export's window model where it has one (:mod:`posenb.infer.follow`), and with ``backend="torch"``;
- posenb's ``Predictor.predict`` on the same frames (whole frames, torch, batch 1).

Each variant starts fresh (``reset()``) on the first ``--n`` frames after 10 warm-up frames taken from later in
the video. Prints a Markdown section with the command, date, machine and load average.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
from _common import cpu_model, load_average  # noqa: E402

HERE = Path(__file__).resolve().parent


def _times(fn, frames, warmup=10):
    for f in frames[:warmup]:
        fn(f[None])
    out = []
    for f in frames:
        t = time.perf_counter()
        fn(f[None])
        out.append(time.perf_counter() - t)
    return np.array(out) * 1000.0  # ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--project", default=None, help="config.yaml of a trained project (instead of --workdir's)"
    )
    ap.add_argument("--shuffle", type=int, default=1)
    ap.add_argument("--workdir", default="/tmp/posenb-bench")
    ap.add_argument("--net-type", default="efficientnet-lite0")
    ap.add_argument("--n", type=int, default=300, help="frames timed per variant")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()

    import cv2
    import torch

    from posenb.infer.export import export_model, load_exported_model
    from posenb.infer.predictor import load_predictor
    from posenb.io.video import open_video
    from posenb.project.config import read_config

    src = (
        Path(args.project).parent
        if args.project
        else Path(args.workdir) / args.net_type / "openfield-Pranav-2018-10-30"
    )
    if not (src / "config.yaml").is_file():
        raise SystemExit(f"{src} has no trained project: run benchmarks/bench_openfield.py train first.")
    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        config = str(src / "config.yaml")
        cfg = read_config(config)
        folder = src / "exported-models"
        backup = None
        if folder.exists():  # keep the user's exports: move them aside for the run
            backup = Path(tmp) / "exported-models"
            shutil.move(str(folder), backup)
        try:
            export_model(config, shuffle=args.shuffle, make_tar=False)
            export = next(folder.iterdir())
            video = Path(cfg["project_path"]) / "videos" / "m3v1mp4.mp4"
            if not video.is_file():
                video = (
                    HERE.parents[1]
                    / "shared"
                    / "data"
                    / "openfield-Pranav-2018-10-30"
                    / "videos"
                    / "m3v1mp4.mp4"
                )
            reader = open_video(video)
            frames = reader.get_batch(list(range(args.n)))
            warm = reader.get_batch(list(range(1000, 1010)))
            reader.close()
            rows, window = [], None
            for threads in args.threads:
                torch.set_num_threads(threads)
                whole = load_exported_model(export, threads=threads, dynamic=(False, 0.5, 10))
                live = load_exported_model(export, threads=threads)
                live_torch = load_exported_model(export, backend="torch", threads=threads)
                predictor, _ = load_predictor(cfg, args.shuffle, 0)
                window = live.window
                s = live.global_scale
                w, h = int(round(640 * s)), int(round(480 * s))
                small = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in frames])

                def module_only(x, m=live.module):
                    with torch.inference_mode():
                        return m(torch.from_numpy(x))

                variants = (
                    (f"TorchScript module alone, {w}x{h} input", None, module_only, small),
                    (f"load_exported_model(..., dynamic=(False, 0.5, 10)).predict ({whole.backend}), whole "
                     "640x480 frames", whole, whole.predict, frames),
                    (f"load_exported_model(...).predict ({live.backend}), following", live, live.predict, frames),
                    ("load_exported_model(..., backend='torch').predict, following", live_torch,
                     live_torch.predict, frames),
                    ("posenb Predictor.predict (torch, whole 640x480 frames)", None, predictor.predict, frames),
                )  # fmt: skip
                for name, obj, fn, data in variants:
                    if obj is not None:
                        _times(fn, warm)  # compile / warm up away from the timed frames
                        obj.reset()
                    ms = _times(fn, data, warmup=0)
                    note = ""
                    if obj is not None and obj.follower is not None:
                        f = obj.follower.summary()
                        note = f" ({f['followed']} followed, {f['whole']} whole)"
                    rows.append(
                        (
                            name + note,
                            threads,
                            np.median(ms),
                            np.percentile(ms, 90),
                            len(ms) / ms.sum() * 1000,
                        )
                    )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            if backup is not None:
                shutil.move(str(backup), folder)
    cmd = "python benchmarks/bench_export.py " + " ".join(sys.argv[1:])
    lines = [
        "## Exported model latency (real-time use)",
        "",
        f"- Command: `{cmd.strip()}`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M')}; machine: {cpu_model('cpu')}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}",
        f"- Load average before: {load_before}; after: {load_average()}",
        f"- Model: shuffle {args.shuffle} of `{config}` (global_scale {s}), exported with `export_model` (window "
        f"model: {f'{window}x{window}' if window else 'none'}); the first {args.n} frames of m3v1mp4.mp4 one at a "
        "time, in order (batch 1); each variant after 10 warm-up frames from later in the video.",
        "- frames/s: frames / total time of the timed frames (whole-frame fall-backs included).",
        "",
        "| variant | threads | median ms/frame | p90 ms | frames/s |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {n} | {t} | {m:.1f} | {p:.1f} | {f:.0f} |" for n, t, m, p, f in rows]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
