"""Backbone speed on the CPU: training images/s (forward + backward + step) and analysis frames/s.

Run by hand (not a test):

    python benchmarks/bench_backbones.py                      # default nets, 1 and 2 threads, prints a table
    python benchmarks/bench_backbones.py --append             # ... and appends it to benchmarks/RESULTS.md
    python benchmarks/bench_backbones.py --nets efficientnet-lite0 --scales 1.0 0.5 --repeats 7

Analysis speed is for 640x480 frames analysed at ``scale`` (the model's ``global_scale``): per frame it counts
the resize (``cv2.resize``, area), ``PoseModel.normalize``, the forward pass and ``decode``, in batches of
``--batch``. Training speed is for ``--train-batch`` crops of each ``--crops`` size (what ``PoseDataset`` makes
with ``crop_size``): forward + loss + backward + AdamW step (data loading excluded: ~7 ms per item).

Two measurements per configuration, because the CPU may be shared with other processes:

- ``--threads 1``: rates from the process CPU time (``time.process_time``) of the best of ``--repeats`` runs.
  One thread does not wait for a second one, so this is close to the machine's own single-core speed even
  when other processes compete for the cores.
- ``--threads 2`` (or more): wall-clock rate of the best run (median in brackets). Under contention OpenMP
  threads wait for each other and these numbers drop far below the uncontended speed; compare with the load
  average printed next to the table.

Random weights (speed does not depend on them).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _common import cpu_model, write_section  # benchmarks/_common.py

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from posenb.nn import build_model, decode, pose_loss  # noqa: E402

DEFAULT_NETS = ["efficientnet-lite0", "mobilenet_v2_0.35", "mobilenet_v2_1.0", "resnet_50"]


def _timed(fn, repeats: int) -> tuple[float, float, float]:
    """(best wall, median wall, best process CPU time) in seconds."""
    fn()  # warm-up (oneDNN picks kernels for the shape)
    walls, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(walls), statistics.median(walls), min(cpus)


def _rate(n: int, timing: tuple[float, float, float], threads: int) -> str:
    best, median, cpu = timing
    if threads == 1:
        return f"{n / cpu:.1f}"
    return f"{n / best:.1f} ({n / median:.1f})"


def bench_inference(model, scale: float, batch: int, repeats: int, channels_last: bool):
    import cv2

    frames = np.random.default_rng(0).integers(0, 256, (batch, 480, 640, 3), dtype=np.uint8)
    size = (round(640 * scale), round(480 * scale))
    model.eval()

    def run():
        small = (
            frames
            if scale == 1.0
            else np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
        )
        with torch.inference_mode():
            x = model.normalize(small, channels_last=channels_last)
            out = model(x)
            decode(out["heatmap"], out["locref"], model.stride, model.locref_std)

    return _timed(run, repeats)


def bench_training(model, crop: tuple[int, int], batch: int, repeats: int, channels_last: bool):
    w, h = crop
    k = model.num_joints
    mh, mw = model.output_size(h, w)
    x = torch.randn(batch, 3, h, w)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    targets = {
        "heatmap": torch.rand(batch, k, mh, mw),
        "locref": torch.randn(batch, 2 * k, mh, mw),
        "locref_mask": (torch.rand(batch, 2 * k, mh, mw) > 0.9).float(),
        "weight": torch.ones(batch, k),
    }
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()

    def run():
        loss = pose_loss(model(x), targets)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return _timed(run, repeats)


def machine() -> str:
    cpu = cpu_model(platform.processor() or "cpu")
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}"


def main(argv=None) -> str:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nets", nargs="+", default=DEFAULT_NETS)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--scales", nargs="+", type=float, default=[1.0, 0.5], help="analysis scales of 640x480")
    ap.add_argument("--batch", type=int, default=8, help="analysis batch size")
    ap.add_argument("--crops", nargs="+", default=["256x256", "400x300"], help="training crops WxH")
    ap.add_argument("--train-batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--joints", type=int, default=4)
    ap.add_argument("--memory-format", choices=["both", "channels_last", "contiguous"], default="both")
    ap.add_argument("--append", action="store_true", help="write the table as the current Backbone speed section of benchmarks/RESULTS.md")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    crops = [tuple(int(v) for v in c.lower().split("x")) for c in args.crops]

    formats = {"both": [False, True], "channels_last": [True], "contiguous": [False]}[args.memory_format]
    header = ["backbone", "memory format", "threads"]
    header += [f"train img/s {w}x{h}" for w, h in crops]
    header += [f"analysis fps @ {s:g} ({round(640 * s)}x{round(480 * s)})" for s in args.scales]
    rows = []
    load0 = os.getloadavg()[0]
    for threads in args.threads:
        torch.set_num_threads(threads)
        for net in args.nets:
            for cl in formats:
                model = build_model(net, args.joints, pretrained=False)
                if cl:
                    model = model.to(memory_format=torch.channels_last)
                cells = [net, "channels_last" if cl else "contiguous", str(threads)]
                for crop in crops:
                    cells.append(
                        _rate(
                            args.train_batch,
                            bench_training(model, crop, args.train_batch, args.repeats, cl),
                            threads,
                        )
                    )
                for s in args.scales:
                    cells.append(
                        _rate(args.batch, bench_inference(model, s, args.batch, args.repeats, cl), threads)
                    )
                rows.append(cells)
                print(" | ".join(cells), flush=True)
                del model
    load1 = os.getloadavg()[0]

    command = "python benchmarks/bench_backbones.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [
        "",
        "## Backbone speed",
        "",
        f"- command: `{command.strip()}`",
        f"- date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"- machine: {machine()}; load average {load0:.1f} before, {load1:.1f} after",
        f"- 1 thread: rate from process CPU time (best of {args.repeats}), robust to other processes; 2 threads: "
        "best wall-clock rate (median in brackets), depressed by other processes on a shared machine",
        f"- training: batch {args.train_batch}, forward + loss + backward + AdamW step; analysis: batch "
        f"{args.batch} of 640x480 frames incl. resize, normalize, forward (FPN head for stride-32 nets) and decode",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *["| " + " | ".join(r) + " |" for r in rows],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.append:
        # the current "## Backbone speed" section is replaced (move the old table to History by hand)
        write_section(REPO / "benchmarks" / "RESULTS.md", "## Backbone speed", text.lstrip("\n"))
    return text


if __name__ == "__main__":
    main()
