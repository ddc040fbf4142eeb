"""Openfield benchmark: training speed and accuracy, video-analysis speed (run by hand, not in CI).

Uses DeepLabCut's openfield demo project from ../shared/data (116 labeled 640x480 frames, 4 body parts) and
its video ``videos/m3v1mp4.mp4`` (2330 frames, 640x480). The project is rebuilt in ``--workdir`` (default
/tmp/posenb-bench): config.yaml and labeled-data are copied, the video is symlinked; nothing is written into
../shared. TrainingFraction 0.95, shuffle 1.

    python benchmarks/bench_openfield.py setup  [--net-type efficientnet-lite0]
    python benchmarks/bench_openfield.py speed  [--net-type ...] [--iters 30] [--set key=value ...]
    python benchmarks/bench_openfield.py train  [--net-type ...] [--maxiters N] [--minutes 30] [--set key=value ...]
    python benchmarks/bench_openfield.py evaluate [--net-type ...]
    python benchmarks/bench_openfield.py analyze  [--net-type ...] [--batchsize 8]
    python benchmarks/bench_openfield.py schedules [--maxiters 1000]   (cosine vs multi_step, same split)
    python benchmarks/bench_openfield.py all    (setup, train, evaluate, analyze)

``--record`` appends the figures to benchmarks/RESULTS.md (sections "Training (openfield)" and
"Video analysis (openfield)") with the command, date, machine and the load average (other jobs share the
CPU: compare figures taken at similar load only). Each net type gets its own project folder
(``<workdir>/<net_type>``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see posenb/train/__init__.py
import torch  # noqa: E402,F401  (before decord: see tests/train/conftest.py)
from _common import cpu_model, load_average  # noqa: E402  (benchmarks/_common.py)

REPO = Path(__file__).resolve().parents[1]
SHARED = (
    Path(os.environ.get("POSENB_SHARED_DATA", REPO.parent / "shared" / "data"))
    / "openfield-Pranav-2018-10-30"
)
RESULTS = REPO / "benchmarks" / "RESULTS.md"
VIDEO = "m3v1mp4.mp4"


def machine() -> str:
    cpu = cpu_model(platform.processor() or platform.machine())
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {platform.system()}"


def load() -> str:
    """The 1, 5 and 15 min load averages as /proc/loadavg gives them: "2.52 1.92 1.97"."""
    return load_average(" ", "n/a")


def setup(workdir: Path, net_type: str) -> str:
    """Copy the openfield project into ``workdir/<net_type>`` and create the training set; returns config path."""
    import yaml

    from posenb.data.trainingset import create_training_dataset

    if not (SHARED / "config.yaml").is_file():
        sys.exit(f"openfield data not found at {SHARED}")
    project = workdir / net_type / "openfield-Pranav-2018-10-30"
    config = project / "config.yaml"
    if not config.is_file():
        (project / "videos").mkdir(parents=True, exist_ok=True)
        shutil.copytree(SHARED / "labeled-data", project / "labeled-data", dirs_exist_ok=True)
        for p in (project / "labeled-data").rglob("*"):
            p.chmod(0o644 if p.is_file() else 0o755)
        link = project / "videos" / VIDEO
        if not link.exists():
            link.symlink_to((SHARED / "videos" / VIDEO).resolve())
        cfg = yaml.safe_load((SHARED / "config.yaml").read_text())
        cfg["project_path"] = str(project)
        cfg["video_sets"] = {str(project / "videos" / "m4s1.mp4"): {"crop": "0, 640, 0, 480"}}
        cfg["TrainingFraction"] = [0.95]
        cfg["default_net_type"] = net_type
        cfg.pop("SuperAnimalConversionTables", None)
        config.write_text(yaml.safe_dump(cfg, sort_keys=False))
        create_training_dataset(str(config), net_type=net_type)
    return str(config)


def parse_sets(items) -> dict:
    import yaml

    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        out[key] = yaml.safe_load(value)
    return out


def speed(config: str, iters: int, overrides: dict) -> dict:
    """Training images/s over ``iters`` iterations (after 5 warm-up ones), in a scratch copy of the shuffle."""
    from posenb.data.trainingset import create_training_dataset
    from posenb.train.api import train_network

    project = Path(config).parent
    create_training_dataset(config, Shuffles=[99])  # a scratch shuffle, deleted afterwards
    times = []

    def cb(ev):
        if ev.kind in ("display",):
            times.append((ev.iteration, time.time(), ev.images_per_s, ev.loss))

    overrides = {**overrides}
    bs = overrides.get("batch_size")
    t0 = time.time()
    train_network(
        config,
        shuffle=99,
        maxiters=iters + 5,
        displayiters=5,
        saveiters=10**9,
        callbacks=[cb],
        progress=False,
        **overrides,
    )
    total = time.time() - t0
    shutil.rmtree(next((project / "dlc-models").rglob("*shuffle99")))
    ips = [t[2] for t in times[1:]]
    out = {
        "images_per_s": sum(ips) / len(ips) if ips else float("nan"),
        "seconds": total,
        "iters": iters,
        "batch_size": bs,
        "load": load(),
        "losses": [round(t[3], 4) for t in times],
    }
    return out


def train(config: str, maxiters: int | None, minutes: float | None, overrides: dict) -> dict:
    from posenb.train.api import train_network
    from posenb.train.events import TrainingEvent

    stop = threading.Event()
    timer = None
    if minutes:
        timer = threading.Timer(minutes * 60, stop.set)
        timer.daemon = True
        timer.start()
    rates = []

    def cb(ev: TrainingEvent):
        if ev.kind == "display" and ev.images_per_s:
            rates.append(ev.images_per_s)
            print(
                f"[{time.strftime('%H:%M:%S')}] it {ev.iteration}/{ev.max_iters} loss {ev.loss:.4f} "
                f"lr {ev.lr:.2g} {ev.images_per_s:.1f} img/s load {load()}",
                flush=True,
            )

    t0 = time.time()
    train_dir = train_network(
        config, maxiters=maxiters, callbacks=[cb], stop_event=stop, progress=False, **overrides
    )
    if timer:
        timer.cancel()
    return {
        "train_dir": str(train_dir),
        "seconds": time.time() - t0,
        "images_per_s": sum(rates) / len(rates) if rates else float("nan"),
        "stopped_by_budget": stop.is_set(),
        "load": load(),
    }


def schedules(config: str, maxiters: int, overrides: dict) -> dict:
    """Cosine vs DLC-style multi_step on shuffle 1's split (shuffles 2 and 3), ``maxiters`` iterations each."""
    from posenb.data.trainingset import create_training_dataset, read_training_split
    from posenb.infer.evaluate import evaluate_network
    from posenb.train.api import train_network

    _, train_idx, test_idx, _ = read_training_split(config, 1, 0)
    create_training_dataset(config, Shuffles=[2, 3], trainIndices=[train_idx] * 2, testIndices=[test_idx] * 2)
    lr = float(overrides.get("lr", 1e-3))
    runs = {
        2: {"lr_schedule": "cosine"},
        3: {
            "lr_schedule": "multi_step",
            "multi_step": [[lr, maxiters // 2], [lr / 10, 3 * maxiters // 4], [lr / 100, maxiters]],
        },
    }
    out = {}
    for shuffle, sched in runs.items():
        t0 = time.time()
        train_network(config, shuffle=shuffle, maxiters=maxiters, progress=False, **{**overrides, **sched})
        res = evaluate_network(config, Shuffles=[shuffle], show_errors=False).iloc[-1]
        out[sched["lr_schedule"]] = {
            "test_error_px": float(res[" Test error(px)"]),
            "train_error_px": float(res[" Train error(px)"]),
            "minutes": (time.time() - t0) / 60,
            "load": load(),
        }
        print(sched["lr_schedule"], out[sched["lr_schedule"]], flush=True)
    return out


def evaluate(config: str) -> dict:
    from posenb.infer.evaluate import evaluate_network

    res = evaluate_network(config, Shuffles=[1], show_errors=True)
    row = res.iloc[-1]
    return {
        "iterations": int(row["Training iterations:"]),
        "train_error_px": float(row[" Train error(px)"]),
        "test_error_px": float(row[" Test error(px)"]),
        "test_error_pcutoff_px": float(row["Test error with p-cutoff"]),
    }


def clip(project: Path, n_frames: int) -> Path:
    """The first ``n_frames`` of the benchmark video as ``<project>/clips/m3v1mp4_<n>.mp4`` (for slow networks)."""
    from posenb.io.video import open_video, write_video

    out = project / "clips" / f"{Path(VIDEO).stem}_{n_frames}.mp4"
    if not out.is_file():
        out.parent.mkdir(exist_ok=True)
        reader = open_video(project / "videos" / VIDEO)
        write_video(out, (f for _, chunk in reader.iter_frames(0, n_frames) for f in chunk), fps=reader.fps)
        reader.close()
    return out


def analyze(
    config: str, batchsize: int | None, full_decode: bool = False, n_frames: int | None = None
) -> dict:
    import posenb.infer.analyze as A
    from posenb.infer.analyze import analyze_videos
    from posenb.io.predictions import read_meta

    A.DECODER_RESIZE = not full_decode
    project = Path(config).parent
    video = clip(project, n_frames) if n_frames else project / "videos" / VIDEO
    out = project / ("analysis-full-decode" if full_decode else "analysis")
    if out.exists():
        shutil.rmtree(out)
    t0 = time.time()
    scorer = analyze_videos(config, [str(video)], destfolder=str(out), batchsize=batchsize)
    total = time.time() - t0
    meta = read_meta(out / f"{video.stem}{scorer}.h5")
    return {
        "frames": meta["nframes"],
        "frames_per_s": meta["nframes"] / meta["run_duration"],
        "seconds_total_with_model_load": total,
        "batch_size": meta["batch_size"],
        "decode": "full frames + cv2 resize" if full_decode else "decoder resize",
        "load": load(),
    }


def record(section: str, lines: list[str]) -> None:
    """Append ``lines`` under ``## <section>`` of RESULTS.md (section created at the end if missing)."""
    text = RESULTS.read_text() if RESULTS.is_file() else "# Benchmark results\n"
    header = f"## {section}"
    block = "\n".join(lines) + "\n"
    if header not in text:
        text = text.rstrip("\n") + f"\n\n{header}\n\n{block}"
    else:
        start = text.index(header)
        nxt = text.find("\n## ", start + len(header))
        if nxt == -1:
            text = text.rstrip("\n") + "\n\n" + block
        else:
            text = text[:nxt].rstrip("\n") + "\n\n" + block + text[nxt:]
    RESULTS.write_text(text)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("step", choices=["setup", "speed", "train", "evaluate", "analyze", "schedules", "all"])
    p.add_argument("--workdir", default="/tmp/posenb-bench")
    p.add_argument("--net-type", default="efficientnet-lite0")
    p.add_argument("--iters", type=int, default=30)
    p.add_argument("--maxiters", type=int, default=None)
    p.add_argument("--minutes", type=float, default=None, help="stop training after this budget (stop_event)")
    p.add_argument("--batchsize", type=int, default=None)
    p.add_argument(
        "--full-decode", action="store_true", help="analysis: decode full frames, resize with OpenCV"
    )
    p.add_argument(
        "--frames", type=int, default=None, help="analysis: only the first N frames (slow networks)"
    )
    p.add_argument("--set", nargs="*", default=[], help="training overrides key=value (YAML values)")
    p.add_argument("--record", action="store_true", help="append the figures to benchmarks/RESULTS.md")
    p.add_argument("--note", default="", help="free text recorded with the figures")
    args = p.parse_args(argv)
    workdir = Path(args.workdir)
    config = setup(workdir, args.net_type)
    overrides = parse_sets(args.set)
    cmd = "python benchmarks/bench_openfield.py " + " ".join(sys.argv[1:] if argv is None else argv)
    stamp = f"{_dt.datetime.now():%Y-%m-%d %H:%M}"
    results = {}
    if args.step == "speed":
        results["speed"] = speed(config, args.iters, overrides)
    if args.step == "schedules":
        results["schedules"] = schedules(config, args.maxiters or 1000, overrides)
    if args.step in ("train", "all"):
        results["train"] = train(config, args.maxiters, args.minutes, overrides)
    if args.step in ("evaluate", "train", "all"):
        results["evaluate"] = evaluate(config)
    if args.step in ("analyze", "all"):
        results["analyze"] = analyze(config, args.batchsize, args.full_decode, args.frames)
    print(json.dumps(results, indent=1, default=str))
    if args.record:
        head = f"- `{cmd}` ({stamp}; {machine()}; load average before/after: {load()})"
        if "train" in results or "evaluate" in results or "speed" in results:
            lines = [head]
            if "speed" in results:
                s = results["speed"]
                lines.append(
                    f"  - {args.net_type}: training {s['images_per_s']:.1f} images/s ({args.iters} iterations, "
                    f"overrides {overrides or 'none'}, load {s['load']})"
                )
            if "train" in results:
                t = results["train"]
                e = results["evaluate"]
                lines.append(
                    f"  - {args.net_type}: {e['iterations']} iterations in {t['seconds'] / 60:.1f} min "
                    f"({t['images_per_s']:.1f} images/s, overrides {overrides or 'none'}): test error "
                    f"{e['test_error_px']:.2f} px (p-cutoff: {e['test_error_pcutoff_px']:.2f}), train error "
                    f"{e['train_error_px']:.2f} px; load at end {t['load']}"
                )
            elif "evaluate" in results:
                e = results["evaluate"]
                lines.append(
                    f"  - {args.net_type} snapshot {e['iterations']}: test error {e['test_error_px']:.2f} px, "
                    f"train error {e['train_error_px']:.2f} px"
                )
            if args.note:
                lines.append(f"  - note: {args.note}")
            record("Training (openfield)", lines)
        if "analyze" in results:
            a = results["analyze"]
            lines = [
                head,
                f"  - {args.net_type}: {a['frames']} frames 640x480 at {a['frames_per_s']:.1f} frames/s "
                f"(batch {a['batch_size']}, {a['decode']}; {a['seconds_total_with_model_load']:.0f} s including model load; "
                f"load {a['load']})",
            ]
            if args.note:
                lines.append(f"  - note: {args.note}")
            record("Video analysis (openfield)", lines)


if __name__ == "__main__":
    main()
