"""Latency of an exported model for real-time use (``export_model`` / ``load_exported_model``), run by hand.

    python benchmarks/bench_export.py [--workdir /tmp/posenb-bench] [--net-type efficientnet-lite0] [--n 200]

Uses the openfield project trained by ``benchmarks/bench_openfield.py train`` (``<workdir>/<net_type>/...``),
exports shuffle 1 into a temporary copy of its ``exported-models`` folder, then times single frames (batch 1,
the real-time case) from m3v1mp4.mp4 (640x480):

- the TorchScript module alone on frames already resized by ``global_scale`` (what a live loop with its own
  resize would run);
- ``load_exported_model(folder).predict`` (resize + module + mapping back to 640x480);
- posenb's ``Predictor.predict`` on the same frames (the analysis path, batch 1);

with 1 and 2 torch threads. Prints a Markdown section with the command, date, machine and load average.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
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
    ap.add_argument("--workdir", default="/tmp/posenb-bench")
    ap.add_argument("--net-type", default="efficientnet-lite0")
    ap.add_argument("--n", type=int, default=200, help="frames timed per variant")
    args = ap.parse_args()

    import cv2
    import torch

    from posenb.infer.export import export_model, load_exported_model
    from posenb.infer.predictor import load_predictor
    from posenb.io.video import open_video
    from posenb.project.config import read_config

    src = Path(args.workdir) / args.net_type / "openfield-Pranav-2018-10-30"
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
            export_model(config, shuffle=1, make_tar=False)
            export = next(folder.iterdir())
            video = Path(cfg["project_path"]) / "videos" / "m3v1mp4.mp4"
            reader = open_video(video)
            frames = reader.get_batch(list(range(args.n)))
            reader.close()
            live = load_exported_model(export)
            predictor, _ = load_predictor(cfg, 1, 0)
            s = live.global_scale
            w, h = int(round(640 * s)), int(round(480 * s))
            small = np.stack([cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in frames])
            def module_only(x, m=live.module):
                with torch.inference_mode():
                    return m(torch.from_numpy(x))

            variants = (
                (f"TorchScript module alone, {w}x{h} input", module_only, small),
                ("load_exported_model(...).predict, 640x480 frame", live.predict, frames),
                ("posenb Predictor.predict (analysis path), 640x480 frame", predictor.predict, frames),
            )
            rows = []
            for threads in (1, 2):
                torch.set_num_threads(threads)
                for name, fn, data in variants:
                    ms = _times(fn, data)
                    rows.append((name, threads, np.median(ms), np.percentile(ms, 90), 1000.0 / np.median(ms)))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            if backup is not None:
                shutil.move(str(backup), folder)
    lines = [
        "## Exported model latency (real-time use)",
        "",
        f"- Command: `python benchmarks/bench_export.py --net-type {args.net_type} --n {args.n}`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M')}; machine: {cpu_model('cpu')}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, torch {torch.__version__}",
        f"- Load average before: {load_before}; after: {load_average()}",
        f"- Model: the openfield {args.net_type} snapshot of bench_openfield.py (global_scale {s}), exported with "
        "`export_model`; frames of m3v1mp4.mp4, one at a time (batch 1), after 10 warm-up frames.",
        "",
        "| variant | torch threads | median ms/frame | p90 ms | frames/s (median) |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {n} | {t} | {m:.1f} | {p:.1f} | {f:.0f} |" for n, t, m, p, f in rows]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
