"""Video analysis speed of the inference back ends, side by side in one run (issue 18), run by hand.

    python benchmarks/bench_backends.py [--workdir /tmp/posenb-bench] [--repeats 3] [--batches 4 8]
        [--threads 2] [--frames 0] [--int8] [--write]

Uses the openfield project trained by ``benchmarks/bench_openfield.py train`` (``<workdir>/efficientnet-lite0``,
its last snapshot: the weights only matter for the key-point agreement, not for the speed) and its video
m3v1mp4.mp4 (2330 frames, 640x480). For each variant (back end x batch size x compute threads) it runs
``posenb.infer.analyze.analyze_video`` end to end: decoding in posenb's background thread (at the network's
input size, 320x240), batched inference, decoding of the score maps. Variants are interleaved (A B C A B C
...), so a changing machine load hits all of them alike; medians are quoted.

Figures per variant: frames/s (wall; the first run of a back end includes its ONNX export and compilation,
reported separately as "prepare s"), CPU ms/frame (user + system time of the whole process, decoder included:
``2000 / CPU ms`` is what two idle cores can reach) and the key points' distance to the torch path (median
and 99th percentile over frames x body parts, frame pixels). ``--int8`` adds ONNX Runtime with a statically
quantized int8 model (calibrated on 64 frames of the video; a lever measured, not a posenb option).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402  (before decord: see tests/infer/conftest.py)
from _common import cpu_model, load_average, write_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SECTION = "## Video analysis back ends (openfield)"


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _int8_runner(predictor, video, threads):
    """An ONNX Runtime runner of the statically quantized (QDQ int8) network; calibration on 64 frames."""
    import tempfile

    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    from posenb.infer.backends.onnx import OnnxRuntimeRunner, export_onnx
    from posenb.io.video import open_video

    reader = open_video(video, resize=predictor.scaled_size(640, 480))
    frames = np.concatenate([f for _, f in reader.iter_frames(0, 64, chunk=16)])
    reader.close()

    class Calib(CalibrationDataReader):
        def __init__(self):
            self.it = iter([frames[i : i + 8] for i in range(0, len(frames), 8)])

        def get_next(self):
            b = next(self.it, None)
            return None if b is None else {"images": b}

    tmp = Path(tempfile.mkdtemp(prefix="posenb-int8-"))
    export_onnx(predictor.model, frames[:2], tmp / "f32.onnx")
    quantize_static(str(tmp / "f32.onnx"), str(tmp / "int8.onnx"), Calib(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True)  # fmt: skip
    del ort
    return OnnxRuntimeRunner(tmp / "int8.onnx", threads=threads)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="/tmp/posenb-bench")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--threads", type=int, nargs="+", default=[2])
    ap.add_argument("--backends", nargs="+", default=None, help="default: every installed back end")
    ap.add_argument("--frames", type=int, default=0, help="only the first N frames (a clip; 0: whole video)")
    ap.add_argument("--int8", action="store_true", help="also ONNX Runtime int8 (static quantization)")
    ap.add_argument("--write", action="store_true", help=f"write the table as {SECTION!r} of RESULTS.md")
    args = ap.parse_args(argv)

    from posenb.infer.analyze import analyze_video
    from posenb.infer.backends import available_backends
    from posenb.infer.predictor import load_predictor
    from posenb.project.config import read_config

    project = Path(args.workdir) / "efficientnet-lite0" / "openfield-Pranav-2018-10-30"
    config = project / "config.yaml"
    if not config.is_file():
        sys.exit(f"{config} not found: run benchmarks/bench_openfield.py train --workdir {args.workdir} first")
    cfg = read_config(config)
    video = project / "videos" / "m3v1mp4.mp4"
    if args.frames:
        sys.path.insert(0, str(REPO / "benchmarks"))
        from bench_openfield import clip

        video = clip(project, args.frames)
    backends = args.backends or available_backends()
    load_before = load_average()

    variants = {}
    for backend in backends:
        for threads in args.threads:
            torch.set_num_threads(threads)
            pred, info = load_predictor(cfg, backend=backend)
            pred.threads = threads
            for batch in args.batches:
                variants[(backend, batch, threads)] = pred
    if args.int8:
        for threads in args.threads:
            pred, _ = load_predictor(cfg, backend="onnxruntime")
            t0 = time.time()
            runner = _int8_runner(pred, video, threads)
            print(f"int8 quantization: {time.time() - t0:.0f} s", flush=True)
            pred._runners[pred.scaled_size(640, 480)[::-1]] = runner
            for batch in args.batches:
                variants[("onnxruntime int8", batch, threads)] = pred

    runs = {k: [] for k in variants}
    poses = {}
    prepare = {}
    for rep in range(args.repeats):
        for key, pred in variants.items():
            torch.set_num_threads(key[2])
            c0, t0 = _cpu(), time.perf_counter()
            out, vinfo = analyze_video(pred, video, key[1], progress=False)
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            n = vinfo["n_frames"]
            if rep == 0 and (key[0], key[2]) not in prepare:
                prepare[(key[0], key[2])] = wall  # includes the export + compilation at the first batch
            else:
                runs[key].append((n / wall, cpu * 1000 / n))
            poses.setdefault(key, out)
            print(f"rep {rep} {key}: {n / wall:.1f} frames/s, {cpu * 1000 / n:.1f} CPU ms/frame, "
                  f"load {load_average()}", flush=True)  # fmt: skip

    ref_key = next((k for k in variants if k[0] == "torch"), None)
    rows = []
    for key in variants:
        fps = statistics.median(r[0] for r in runs[key]) if runs[key] else float("nan")
        cpu = statistics.median(r[1] for r in runs[key]) if runs[key] else float("nan")
        if ref_key is not None:
            d = np.linalg.norm(poses[key][..., :2] - poses[ref_key][..., :2], axis=-1)
            agree = f"{np.nanmedian(d):.3f} / {np.nanpercentile(d, 99):.2f}"
        else:
            agree = ""
        first = prepare.get((key[0], key[2]))
        rows.append(f"| {key[0]} | {key[1]} | {key[2]} | **{fps:.1f}** | {cpu:.1f} | {2000 / cpu:.0f} | "
                    f"{agree} | {'' if first is None else f'{n / first:.1f}'} |")  # fmt: skip
    cmd = "python benchmarks/bench_backends.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text = "\n".join([
        SECTION,
        "",
        f"- Command: `{cmd.strip()}`; snapshot {Path(info['snapshot']).name} of `bench_openfield.py train` "
        f"(efficientnet-lite0 + FPN, global_scale 0.5: 320x240 network input); video {video.name}, {n} frames "
        "640x480, decoded at 320x240 in posenb's decoder thread.",
        f"- Date {time.strftime('%Y-%m-%d %H:%M')}; {cpu_model('cpu')}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}; load average before {load_before}, after {load_average()}.",
        f"- {args.repeats} interleaved runs per variant; medians. frames/s: wall, `analyze_video` end to end, "
        "model loading excluded; CPU ms/frame: whole process (decoder included); idle bound = 2000 / CPU ms. "
        "Agreement: distance of the key points to the torch path, median / 99th percentile, frame pixels. "
        "First run: frames/s of the first video, including the ONNX export and compilation.",
        "",
        "| back end | batch | threads | frames/s | CPU ms/frame | idle 2-core bound | px to torch (median / p99) "
        "| first run frames/s |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])  # fmt: skip
    print(text)
    if args.write:
        write_section(REPO / "benchmarks" / "RESULTS.md", SECTION, text)


if __name__ == "__main__":
    main()
