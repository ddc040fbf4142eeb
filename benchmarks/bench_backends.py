"""Video analysis speed of the inference back ends, side by side in one run (issue 18), run by hand.

    python benchmarks/bench_backends.py [--workdir /tmp/posenb-bench] [--project CONFIG [--shuffle 1]]
        [--repeats 3] [--batches 4 8] [--threads 2] [--frames 0] [--precisions float32 [bfloat16]] [--int8]
        [--dynamic auto whole] [--dlc /path/to/dlcenv/bin/python [--dlc-nets cspnext_s]] [--write]

Uses the openfield project trained by ``benchmarks/bench_openfield.py train`` (``<workdir>/efficientnet-lite0``),
or the trained project named by ``--project`` (its shuffle ``--shuffle``), its last snapshot (the weights only
matter for the key-point agreement, not for the speed), and the openfield video m3v1mp4.mp4 (2330 frames,
640x480; ``--frames N``: a clip of its first N frames, written in the project, or in ``--workdir`` with
``--project``). For each variant (back end x precision x batch size x compute threads) it runs
``posenb.infer.analyze.analyze_video`` end to end: decoding in posenb's background thread (at the network's
input size, 320x240), batched inference, decoding of the score maps. Variants are interleaved (A B C A B C
...), so a changing machine load hits all of them alike; medians are quoted.

Figures per variant: frames/s (wall; the first run of a back end includes its ONNX export and compilation,
reported separately as "prepare s"), CPU ms/frame (user + system time of the whole process, decoder included:
``2000 / CPU ms`` is what two idle cores can reach) and the key points' distance to the torch path (median
and 99th percentile over frames x body parts, frame pixels; without a torch float32 variant, to the first
float32 one). ``--precisions float32 bfloat16`` adds each back end in bfloat16 (``precision="bfloat16"``,
rows "<back end> bfloat16"; skipped, with a note, where posenb would analyse in float32: ONNX Runtime, a CPU
without native bfloat16). ``--int8`` adds ONNX Runtime with a statically
quantized int8 model (calibrated on 64 frames of the video; a lever measured, not a posenb option).

``--dynamic auto whole`` runs each variant as posenb analyses by default (``"auto"``: a single animal that fills a
small part of the frame is followed in a window, :mod:`posenb.infer.follow`) and/or on whole frames
(``dynamic=(False, 0.5, 10)``, DeepLabCut's default; rows "<back end>, whole frames"). The key points are
compared with torch on whole frames when that variant runs, else with the first float32 whole-frame one.

``--dlc PYTHON`` (the python of a DeepLabCut 3 environment) adds DeepLabCut's ``analyze_videos`` on the same
video file to the same run: ``benchmarks/dlc_analysis.py`` as a subprocess per run (net types ``--dlc-nets``,
default ``cspnext_s``, DeepLabCut 3.0.2's fastest CPU network; each at the same batch sizes and threads),
after posenb's variants in every repeat; its project and untrained snapshot are cached in
``<workdir>/deeplabcut``. The table gains DeepLabCut's rows and a column "x fastest DeepLabCut", and a line
gives the fastest posenb variant over the fastest DeepLabCut one (issue 18: >= 80 frames/s and >= 8x).
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
#: label suffix of the variants analysed on whole frames (``dynamic=(False, 0.5, 10)``)
WHOLE = ", whole frames"


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


def _args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="/tmp/posenb-bench")
    ap.add_argument(
        "--project", default=None, help="config.yaml of a trained project (instead of --workdir's)"
    )
    ap.add_argument("--shuffle", type=int, default=1, help="shuffle of --project")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--threads", type=int, nargs="+", default=[2])
    ap.add_argument("--backends", nargs="+", default=None, help="default: every installed back end")
    ap.add_argument("--frames", type=int, default=0, help="only the first N frames (a clip; 0: whole video)")
    ap.add_argument("--precisions", nargs="+", default=["float32"], help="float32 and/or bfloat16")
    ap.add_argument("--dynamic", nargs="+", default=["auto"], choices=["auto", "whole"],
                    help="analyse following the animal (posenb's default) and/or whole frames")  # fmt: skip
    ap.add_argument("--int8", action="store_true", help="also ONNX Runtime int8 (static quantization)")
    ap.add_argument("--dlc", default=None, metavar="PYTHON", help="python of a DeepLabCut 3 environment: "
                    "adds DeepLabCut's analyze_videos (benchmarks/dlc_analysis.py) to the same run")  # fmt: skip
    ap.add_argument("--dlc-nets", nargs="+", default=["cspnext_s"], help="DeepLabCut net types (with --dlc)")
    ap.add_argument("--write", action="store_true", help=f"write the table as {SECTION!r} of RESULTS.md")
    return ap.parse_args(argv)


def _project_and_video(args):
    """``(config dict, video path)``: ``--project`` or the ``bench_openfield.py train``
    project of ``--workdir``; the video is the project's m3v1mp4.mp4 (else the shared openfield one), cut to
    ``--frames`` (a clip in the project, or in ``--workdir`` for a ``--project`` that is not ours to write)."""
    from posenb.project.config import read_config

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_openfield import SHARED, VIDEO, clip

    workdir = Path(args.workdir)
    if args.project:
        config = Path(args.project)
    else:
        config = workdir / "efficientnet-lite0" / "openfield-Pranav-2018-10-30" / "config.yaml"
    if not config.is_file():
        sys.exit(f"{config} not found: run benchmarks/bench_openfield.py train --workdir {args.workdir} first "
                 "or name a trained project with --project CONFIG")  # fmt: skip
    project = config.parent
    video = project / "videos" / VIDEO
    if not video.is_file():
        video = SHARED / "videos" / VIDEO
    if args.frames:
        if args.project:  # clip() reads <project>/videos/<VIDEO> and writes <project>/clips: use the workdir
            link = workdir / "videos" / VIDEO
            if not link.exists():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(video.resolve())
            project = workdir
        video = clip(project, args.frames)
    return read_config(config), video


def _variants(args, cfg, video):
    """``{(back end, batch, threads): predictor}`` for posenb's variants; ``info`` of the loaded snapshot."""
    from posenb.infer.backends import available_backends
    from posenb.infer.predictor import load_predictor

    variants, info = {}, None
    for backend in args.backends or available_backends():
        for precision, threads in ((p, t) for p in args.precisions for t in args.threads):
            torch.set_num_threads(threads)
            pred, info = load_predictor(cfg, shuffle=args.shuffle, backend=backend, precision=precision)
            if pred.precision != precision:
                print(
                    f"{backend} {precision}: not run (posenb analyses in {pred.precision} there)", flush=True
                )
                continue
            pred.threads = threads
            label = backend if precision == "float32" else f"{backend} {precision}"
            for batch, dynamic in ((b, d) for b in args.batches for d in args.dynamic):
                variants[(label + WHOLE * (dynamic == "whole"), batch, threads)] = pred
    if args.int8:
        for threads in args.threads:
            pred, _ = load_predictor(cfg, shuffle=args.shuffle, backend="onnxruntime")
            t0 = time.time()
            runner = _int8_runner(pred, video, threads)
            print(f"int8 quantization: {time.time() - t0:.0f} s", flush=True)
            pred._runners[pred.scaled_size(640, 480)[::-1]] = runner
            for batch, dynamic in ((b, d) for b in args.batches for d in args.dynamic):
                variants[("onnxruntime int8" + WHOLE * (dynamic == "whole"), batch, threads)] = pred
    return variants, info


def _run_all(args, variants, dlc, video):
    """The interleaved repeats: ``(runs {key: [(frames/s, CPU ms/frame)]}, poses {key: array}, prepare
    {(back end, threads): first-run wall s}, n_frames)``. ``dlc``: DeepLabCut variants (key -> (net, batch,
    threads)), run as subprocesses after posenb's in each repeat."""
    from _dlc_side import dlc_run_row, run_dlc

    from posenb.infer.analyze import analyze_video

    runs = {k: [] for k in [*variants, *dlc]}
    poses, prepare, n = {}, {}, 0
    for rep in range(args.repeats):
        for key, pred in variants.items():
            torch.set_num_threads(key[2])
            c0, t0 = _cpu(), time.perf_counter()
            dynamic = (False, 0.5, 10) if key[0].endswith(WHOLE) else "auto"
            out, vinfo = analyze_video(pred, video, key[1], dynamic=dynamic, progress=False)
            if vinfo["dynamic"] and rep == 0:
                print(f"  {key}: following {vinfo['dynamic']}", flush=True)
            wall, cpu = time.perf_counter() - t0, _cpu() - c0
            n = vinfo["n_frames"]
            if rep == 0 and (key[0], key[2]) not in prepare:
                prepare[(key[0], key[2])] = wall  # includes the export + compilation at the first batch
            else:
                runs[key].append((n / wall, cpu * 1000 / n))
            poses.setdefault(key, out)
            print(f"rep {rep} {key}: {n / wall:.1f} frames/s, {cpu * 1000 / n:.1f} CPU ms/frame, "
                  f"load {load_average()}", flush=True)  # fmt: skip
        for key, (net, batch, threads) in dlc.items():
            fps, cpu_ms, n = dlc_run_row(run_dlc(args.dlc, _dlc_workdir(args), video, net, batch, threads))
            runs[key].append((fps, cpu_ms))
            print(f"rep {rep} {key}: {fps:.1f} frames/s, {cpu_ms:.1f} CPU ms/frame, load {load_average()}",
                  flush=True)  # fmt: skip
    return runs, poses, prepare, n


def _dlc_workdir(args) -> Path:
    return Path(args.workdir) / "deeplabcut"


def _reference(variants):
    """The variant the key points are compared with: torch float32 on whole frames, else the first float32
    whole-frame one, else torch float32, else the first float32 one (or None)."""
    float32 = [k for k in variants if " " not in k[0].removesuffix(WHOLE)]
    whole = [k for k in float32 if k[0].endswith(WHOLE)]
    for group in (whole, float32):
        best = next((k for k in group if k[0].startswith("torch")), None) or next(iter(group), None)
        if best is not None:
            return best
    return None


def _rows(variants, dlc, runs, poses, prepare, n):
    """Table rows (markdown) and ``{key: (median frames/s, median CPU ms/frame)}``."""
    ref_key = _reference(variants)
    rows, medians = [], {}
    for key in [*variants, *dlc]:
        fps = statistics.median(r[0] for r in runs[key]) if runs[key] else float("nan")
        cpu = statistics.median(r[1] for r in runs[key]) if runs[key] else float("nan")
        medians[key] = (fps, cpu)
        if ref_key is not None and key in poses:
            d = np.linalg.norm(poses[key][..., :2] - poses[ref_key][..., :2], axis=-1)
            agree = f"{np.nanmedian(d):.3f} / {np.nanpercentile(d, 99):.2f}"
        else:
            agree = ""
        first = prepare.get((key[0], key[2]))
        rows.append(f"| {key[0]} | {key[1]} | {key[2]} | **{fps:.1f}** | {cpu:.1f} | {2000 / cpu:.0f} | "
                    f"{agree} | {'' if first is None else f'{n / first:.1f}'} |")  # fmt: skip
    if dlc:
        best_dlc = max((medians[k][0] for k in dlc), default=float("nan"))
        rows = [f"{r} {medians[k][0] / best_dlc:.1f}x |" for r, k in zip(rows, [*variants, *dlc])]
    return rows, medians


def main(argv=None) -> None:
    args = _args(argv)
    cfg, video = _project_and_video(args)
    load_before = load_average()
    variants, info = _variants(args, cfg, video)
    dlc = {}
    if args.dlc:
        from _dlc_side import prepare_dlc

        dlc = prepare_dlc(args.dlc, _dlc_workdir(args), video, args.dlc_nets, args.batches, args.threads)
    runs, poses, prepare, n = _run_all(args, variants, dlc, video)
    rows, medians = _rows(variants, dlc, runs, poses, prepare, n)
    pred = next(iter(variants.values()))
    w, h = pred.scaled_size(640, 480)
    cmd = "python benchmarks/bench_backends.py " + " ".join(sys.argv[1:] if argv is None else argv)
    source = f"`{args.project}` shuffle {args.shuffle}" if args.project else "`bench_openfield.py train`"
    text = "\n".join([
        SECTION,
        "",
        f"- Command: `{cmd.strip()}`; snapshot {Path(info['snapshot']).name} of {source} "
        f"({info['net_type']}, global_scale {pred.global_scale:g}: {w}x{h} network input); video {video.name}, "
        f"{n} frames 640x480, decoded at {w}x{h} in posenb's decoder thread.",
        f"- Date {time.strftime('%Y-%m-%d %H:%M')}; {cpu_model('cpu')}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}; load average before {load_before}, after {load_average()}.",
        f"- {args.repeats} interleaved runs per variant; medians. frames/s: wall, `analyze_video` end to end, "
        "model loading excluded; CPU ms/frame: whole process (decoder included); idle bound = 2000 / CPU ms. "
        "Agreement: distance of the key points to the torch path"
        + ("" if (_reference(variants) or ("torch",))[0] in ("torch", "torch" + WHOLE)
           else f" (here: to {_reference(variants)[0]})")
        + ", median / 99th percentile, frame pixels. "
        "First run: frames/s of the first video, including the ONNX export and compilation.",
        *([_dlc_note(args)] if dlc else []),
        "",
        "| back end | batch | threads | frames/s | CPU ms/frame | idle 2-core bound | px to torch (median / p99) "
        "| first run frames/s |" + (" x fastest DeepLabCut |" if dlc else ""),
        "|---|---|---|---|---|---|---|---|" + ("---|" if dlc else ""),
        *rows,
        "",
        *([_ratio(medians, dlc), ""] if dlc else []),
    ])  # fmt: skip
    print(text)
    if args.write:
        write_section(REPO / "benchmarks" / "RESULTS.md", SECTION, text)


def _dlc_note(args) -> str:
    return (
        f"- DeepLabCut rows: `benchmarks/dlc_analysis.py` in `{args.dlc}` (a fresh process per run), "
        f'`deeplabcut.analyze_videos(config, [video], batch_size=<batch>, device="cpu")` on the same video '
        "file, DeepLabCut's defaults otherwise (full 640x480 frames, its pre-processing thread, h5 + pickle "
        f"written); net types {', '.join(args.dlc_nets)} (shuffle 1, initialised weights: speed does not "
        "depend on them); torch threads as in the threads column. frames/s and CPU ms/frame of "
        "`analyze_videos` minus its model loading (model build, snapshot load and one warm-up batch, timed "
        "apart); CPU of DeepLabCut's process. Last column: frames/s over the fastest DeepLabCut row."
    )


def _ratio(medians, dlc) -> str:
    from _dlc_side import ratio_line

    return ratio_line(medians, list(dlc))


if __name__ == "__main__":
    main()
