"""DeepLabCut's video analysis speed on the openfield video (issue 18), run INSIDE a DeepLabCut 3 environment.

    /path/to/dlcenv/bin/python benchmarks/dlc_analysis.py --workdir /tmp/posenb-bench/deeplabcut
        [--video m3v1mp4.mp4] [--net cspnext_s] [--batch 8] [--threads 2] [--frames 200] [--prepare]

Does not import posenb (``benchmarks/bench_backends.py --dlc PYTHON`` runs it as a subprocess, interleaved
with posenb's back ends). Once per net, cached in ``<workdir>/openfield-<net>``: a DeepLabCut project from the
openfield labeled data (config.yaml and labeled-data copied from ../shared/data, nothing written there),
``deeplabcut.create_training_dataset(net_type=<net>)`` (shuffle 1) and a snapshot ``snapshot-000.pt`` that
holds the initialised model (``PoseModel.build`` of the shuffle's pytorch_config.yaml, no ImageNet download)
in the format ``analyze_videos`` loads: the speed does not depend on the weights, so nothing is trained.
``--frames N`` cuts the first N frames of the video (ffmpeg stream copy, cached in ``<workdir>/clips``).

Then it times ``deeplabcut.analyze_videos(config, [video], batch_size=<batch>, device="cpu")`` with DLC's
defaults otherwise (its background pre-processing thread on, h5 + pickle written) and prints one line
``DLC_RESULT {json}``: net, batch, threads, frames, wall_s and cpu_s (user + system of this process) of
``analyze_videos`` with the model loading excluded (the time spent in ``get_pose_inference_runner``, which
builds the model and loads the snapshot, plus one warm-up batch of the video's first frames, reported as
load_s / load_cpu_s), frames_per_s = frames / wall_s, and total_s (the whole call). ``--prepare`` only builds
the cache and prints the clip's path. DeepLabCut 3.0.2's net types: ``cspnext_s`` (its fastest CPU network,
bottom-up single animal), ``resnet_50`` (its default).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = (
    Path(os.environ.get("POSENB_SHARED_DATA", REPO.parent / "shared" / "data"))
    / "openfield-Pranav-2018-10-30"
)
MARK = "DLC_RESULT "


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_project(workdir: Path, net: str) -> Path:
    """The cached DeepLabCut project of ``net`` (created on first use); returns its config.yaml path."""
    import deeplabcut
    import yaml

    project = workdir / f"openfield-{net}"
    config = project / "config.yaml"
    if list(project.glob("dlc-models*/**/train/snapshot-*.pt")):
        return config
    if not (SHARED / "config.yaml").is_file():
        sys.exit(f"openfield data not found at {SHARED} (set POSENB_SHARED_DATA)")
    if project.exists():
        shutil.rmtree(project)  # an interrupted earlier attempt
    shutil.copytree(SHARED / "labeled-data", project / "labeled-data")
    for p in (project / "labeled-data").rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    (project / "videos").mkdir()
    cfg = yaml.safe_load((SHARED / "config.yaml").read_text())
    cfg.update(
        project_path=str(project),
        engine="pytorch",
        multianimalproject=False,
        default_net_type=net,
        TrainingFraction=[0.95],
    )
    cfg["video_sets"] = {str(project / "videos" / "m4s1.mp4"): {"crop": "0, 640, 0, 480"}}
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    deeplabcut.create_training_dataset(str(config), num_shuffles=1, net_type=net, userfeedback=False)
    _save_initial_snapshot(project)
    return config


def _save_initial_snapshot(project: Path) -> Path:
    """``train/snapshot-000.pt`` = the initialised model of the shuffle's pytorch_config.yaml (written atomically)."""
    import torch
    from deeplabcut.core.config import read_config_as_dict
    from deeplabcut.pose_estimation_pytorch.models import PoseModel

    (model_cfg_path,) = project.glob("dlc-models*/**/train/pytorch_config.yaml")
    model = PoseModel.build(read_config_as_dict(model_cfg_path)["model"])  # pretrained_backbone=False
    out = model_cfg_path.parent / "snapshot-000.pt"
    tmp = out.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "metadata": {"epoch": 0}}, tmp)
    tmp.replace(out)
    return out


def cut(video: Path, n_frames: int, workdir: Path) -> Path:
    """The first ``n_frames`` of ``video`` (ffmpeg stream copy, no re-encoding), cached in ``<workdir>/clips``."""
    import imageio_ffmpeg

    out = workdir / "clips" / f"{video.stem}_{n_frames}{video.suffix}"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name("tmp-" + out.name)
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(video), "-map", "0:v:0",
               "-c", "copy", "-frames:v", str(n_frames), str(tmp)]  # fmt: skip
        subprocess.run(cmd, check=True)
        tmp.replace(out)
    return out


def _first_frames(video: Path, n: int) -> list:
    import cv2

    cap = cv2.VideoCapture(str(video))
    frames = []
    while len(frames) < n:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def timed_analysis(config: Path, video: Path, batch: int, out: Path) -> dict:
    """Run ``analyze_videos`` once; the model loading (+ one warm-up batch) is timed apart and subtracted."""
    import deeplabcut
    import pandas as pd
    from deeplabcut.pose_estimation_pytorch.apis import utils as api_utils

    load = {"s": 0.0, "cpu": 0.0}
    build = api_utils.get_pose_inference_runner

    def build_and_warm(*args, **kwargs):
        t0, c0 = time.perf_counter(), _cpu()
        runner = build(*args, **kwargs)
        runner.inference(images=_first_frames(video, batch))
        load["s"] += time.perf_counter() - t0
        load["cpu"] += _cpu() - c0
        return runner

    api_utils.get_pose_inference_runner = build_and_warm
    try:
        c0, t0 = _cpu(), time.perf_counter()
        scorer = deeplabcut.analyze_videos(str(config), [str(video)], shuffle=1, batch_size=batch, device="cpu",
                                           destfolder=str(out), save_as_csv=False, overwrite=True)  # fmt: skip
        total, cpu = time.perf_counter() - t0, _cpu() - c0
    finally:
        api_utils.get_pose_inference_runner = build
    frames = len(pd.read_hdf(out / f"{video.stem}{scorer}.h5"))
    wall = total - load["s"]
    return {"frames": frames, "wall_s": round(wall, 3), "frames_per_s": round(frames / wall, 2),
            "cpu_s": round(cpu - load["cpu"], 3), "load_s": round(load["s"], 3),
            "load_cpu_s": round(load["cpu"], 3), "total_s": round(total, 3), "loading": "excluded"}  # fmt: skip


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--workdir", type=Path, required=True, help="cache of projects, snapshots, clips, outputs"
    )
    ap.add_argument("--video", type=Path, default=SHARED / "videos" / "m3v1mp4.mp4")
    ap.add_argument("--net", default="cspnext_s", help="DeepLabCut net type: cspnext_s, resnet_50, ...")
    ap.add_argument("--batch", type=int, default=8, help="analyze_videos(batch_size=...)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--frames", type=int, default=0, help="only the first N frames (0: whole video)")
    ap.add_argument("--prepare", action="store_true", help="only build the cached project, snapshot and clip")
    args = ap.parse_args(argv)
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import deeplabcut
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    config = make_project(workdir, args.net)
    video = cut(args.video.resolve(), args.frames, workdir) if args.frames else args.video.resolve()
    result = {"net": args.net, "batch": args.batch, "threads": torch.get_num_threads(), "video": str(video),
              "deeplabcut": deeplabcut.__version__, "torch": torch.__version__}  # fmt: skip
    if not args.prepare:
        out = workdir / "analysis" / f"{args.net}-b{args.batch}-t{result['threads']}"
        out.mkdir(parents=True, exist_ok=True)
        result.update(timed_analysis(config, video, args.batch, out))
    print(MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
