"""The time model of posenb/data/recipe.py: seconds per training step vs crop size, batch size and parts.

One training step as the loop does it (efficientnet-lite0, or ``--nets``, + FPN head with ImageNet weights, channels-last on the
CPU, BCE score-map + locref loss, AdamW) on random images with Gaussian targets, for each (crop, batch, parts) case:
``--steps`` timed steps after 2 warm-up steps. The wall time depends on what else runs on the machine; the
process CPU time much less, so both are reported, with the load average. Data loading / augmentation is not
included (cached uint8 images; a few ms per image). With ``--threads 1`` (default) and passive OpenMP waiting,
the CPU time per step is the step's cost, little changed by other jobs; 2 idle cores run a step in about
0.55 x that CPU time (calibration in posenb/data/recipe.py).

    python benchmarks/bench_step_time.py [--crops 160 192 256] [--batches 4 8 16] [--parts 4 17] [--steps 6] [--threads 1]
        [--nets efficientnet-lite0 efficientnet-lite1 efficientnet-lite2]
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # waiting threads must not spin: CPU time = work done
import numpy as np  # noqa: E402
import torch  # noqa: E402
from _common import load_average  # noqa: E402


def one_case(
    crop: int, batch: int, parts: int, steps: int, net_type: str = "efficientnet-lite0"
) -> tuple[float, float]:
    """(wall s, process CPU s) per step of ``net_type`` + FPN head, medians over ``steps``."""
    from posenb.data.targets import make_targets
    from posenb.nn import build_model, pose_loss

    torch.manual_seed(0)
    model = (
        build_model(net_type, parts, pretrained=True)
        .train()
        .to(memory_format=torch.channels_last)
    )
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch, crop, crop, 3), dtype=np.uint8)
    kps = rng.uniform(8, crop - 8, (batch, parts, 2))
    targets = [make_targets(k, (crop, crop), stride=8) for k in kps]
    batch_t = {key: torch.from_numpy(np.stack([t[key] for t in targets])) for key in targets[0]}
    batch_t["image"] = model.normalize(images, channels_last=True)
    walls, cpus = [], []
    for i in range(steps + 2):
        w0, c0 = time.perf_counter(), time.process_time()
        out = model(batch_t["image"])
        loss = pose_loss(out, batch_t)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= 2:
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
    return float(np.median(walls)), float(np.median(cpus))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crops", type=int, nargs="+", default=[160, 192, 256])
    ap.add_argument("--batches", type=int, nargs="+", default=[8])
    ap.add_argument("--parts", type=int, nargs="+", default=[4])
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--nets", nargs="+", default=["efficientnet-lite0"], help="backbones (net_type)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: CPU time per step = its cost)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads {torch.get_num_threads()}, cores {os.cpu_count()}, load before {load_average()}")
    print("| net_type | crop | batch | parts | wall s/step | CPU s/step | images per CPU s |")
    print("|---|---|---|---|---|---|---|")
    for net, crop, batch, parts in itertools.product(args.nets, args.crops, args.batches, args.parts):
        wall, cpu = one_case(crop, batch, parts, args.steps, net)
        print(f"| {net} | {crop} | {batch} | {parts} | {wall:.3f} | {cpu:.3f} | {batch / cpu:.1f} |", flush=True)
    print(f"load after {load_average()}")


if __name__ == "__main__":
    main()
