"""The default training recipe on several data sets: train / test error, minutes and the recipe values chosen.

Every data set is rebuilt as a DeepLabCut project under ``--workdir`` (default /tmp/posenb-recipe; nothing is written
into ../shared), ``create_training_dataset`` derives the recipe from the labels (posenb/data/recipe.py) and
``train_network`` trains each shuffle with it, unchanged unless ``--set key=value`` is given; then
``evaluate_network`` gives DeepLabCut's train / test errors (original pixels, no p-cutoff, and with it).

- ``openfield``: ../shared/data/openfield-Pranav-2018-10-30 (116 labeled 640x480 frames, 4 parts), TrainingFraction
  0.95, shuffles 1-3.
- ``mirror``: ../shared/data/mirror-mouse-lp, Lightning Pose's example (labels in LP's CSV ``CollectedData.csv``,
  index ``labeled-data/imgNN.png``, 396x406 two-view frames, 17 parts), converted to a DLC project (one folder
  ``labeled-data/mirror``), TrainingFraction 0.95, shuffles 1-3.
- ``synthetic``: posenb's demo animal (posenb/demo/synthetic.py) rendered into 320x240 frames at 1x, 2x and 4x the
  size, ``far`` (body length 0.22 x the short side: parts far apart, growing with the frame) and ``close`` (body
  length 30 px at every size: small parts ~10 px apart). The snout is hidden (not drawn, label NaN) in a quarter of
  the frames. 60 labeled frames, TrainingFraction 0.8, shuffle 1; labels are the exact ground truth.

"Hidden as visible": over the labeled frames, the share of (frame, part) cells whose label is NaN (DeepLabCut: not
visible) where the model's likelihood is >= the project's pcutoff.

    python benchmarks/bench_recipe.py run openfield [--shuffles 1 2 3] [--set max_minutes=3]
    python benchmarks/bench_recipe.py run mirror
    python benchmarks/bench_recipe.py run synthetic [--sizes 1 2 4] [--layouts far close] [--frames 60]
        [--set max_minutes=null maxiters=300]   (a few minutes per case on 2 idle cores)
    python benchmarks/bench_recipe.py evaluate mirror --shuffles 1   (a snapshot trained earlier, evaluated again)
    python benchmarks/bench_recipe.py record [--also WORKDIR ...]   (every result so far into benchmarks/RESULTS.md)

Each trained shuffle appends one JSON line to ``<workdir>/results.jsonl`` (date, load average before / after,
minutes, iterations, the recipe values), so runs can go on in several background processes and be recorded at the
end.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import posenb  # noqa: F401  (before torch: its OpenMP threads wait as a user's do, posenb/_openmp.py)

# isort: split
import numpy as np  # noqa: E402
import torch  # noqa: E402  (before decord, see tests/train/conftest.py)
import yaml  # noqa: E402
from _common import cpu_model, load_average, write_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POSENB_SHARED_DATA", REPO.parent / "shared" / "data"))
OPENFIELD = DATA / "openfield-Pranav-2018-10-30"
MIRROR = DATA / "mirror-mouse-lp"
RESULTS = REPO / "benchmarks" / "RESULTS.md"
SECTION = "## Default recipe across data sets (bench_recipe)"


def machine() -> str:
    cpu = cpu_model(platform.processor() or platform.machine())
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} cores, {gpu}, torch {torch.__version__}"


def _config(project: Path, task: str, scorer: str, bodyparts: list, stem: str, fraction: float, size) -> Path:
    """A DLC config.yaml for a project made of labeled images only (the video entry names the folder)."""
    cfg = (
        yaml.safe_load((OPENFIELD / "config.yaml").read_text())
        if (OPENFIELD / "config.yaml").is_file()
        else {}
    )
    cfg.pop("SuperAnimalConversionTables", None)
    cfg.update(
        Task=task,
        scorer=scorer,
        date="Jan1",
        project_path=str(project),
        video_sets={str(project / "videos" / f"{stem}.mp4"): {"crop": f"0, {size[0]}, 0, {size[1]}"}},
        bodyparts=list(bodyparts),
        TrainingFraction=[fraction],
        iteration=0,
        snapshotindex=-1,
        pcutoff=0.6,
        batch_size=8,
        skeleton=[],
    )
    cfg.pop("default_net_type", None)
    (project / "videos").mkdir(parents=True, exist_ok=True)
    config = project / "config.yaml"
    config.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return config


def _ensure_shuffles(config: Path, shuffles, net_type: str | None = None) -> None:
    """Builds the training sets of the shuffles not made yet (a later run of the same workdir adds shuffles), with
    backbone ``net_type`` (None: posenb's default)."""
    from posenb.data.trainingset import create_training_dataset
    from posenb.project.config import read_config
    from posenb.project.paths import get_train_dir

    cfg = read_config(config)
    missing = [s for s in shuffles if not (get_train_dir(cfg, s)[0] / "pose_cfg.yaml").is_file()]
    if missing:
        create_training_dataset(str(config), Shuffles=missing, net_type=net_type)


def setup_openfield(workdir: Path, shuffles, net_type: str | None = None) -> Path:

    project = workdir / "openfield"
    config = project / "config.yaml"
    if not config.is_file():
        shutil.copytree(OPENFIELD / "labeled-data", project / "labeled-data", dirs_exist_ok=True)
        for p in (project / "labeled-data").rglob("*"):
            p.chmod(0o644 if p.is_file() else 0o755)
        cfg = yaml.safe_load((OPENFIELD / "config.yaml").read_text())
        _config(project, cfg["Task"], cfg["scorer"], cfg["bodyparts"], "m4s1", 0.95, (640, 480))
        c = yaml.safe_load(config.read_text())
        c["date"] = cfg["date"]
        config.write_text(yaml.safe_dump(c, sort_keys=False))
    _ensure_shuffles(config, shuffles, net_type)
    return config


def setup_mirror(workdir: Path, shuffles, net_type: str | None = None) -> Path:
    """Lightning Pose's CSV (3 header rows: scorer / bodyparts / coords; index labeled-data/imgNN.png) -> DLC."""
    import pandas as pd

    from posenb.io.labels import array_to_labels, write_labels

    project = workdir / "mirror"
    config = project / "config.yaml"
    if not config.is_file():
        df = pd.read_csv(MIRROR / "CollectedData.csv", header=[0, 1, 2], index_col=0)
        scorer = str(df.columns.get_level_values(0)[0])
        bodyparts = list(dict.fromkeys(df.columns.get_level_values(1)))
        arr = np.stack([df.xs(b, axis=1, level=1).to_numpy(float)[:, :2] for b in bodyparts], axis=1)
        folder = project / "labeled-data" / "mirror"
        folder.mkdir(parents=True, exist_ok=True)
        images = []
        for name in df.index:
            src = MIRROR / str(name)
            shutil.copyfile(src, folder / src.name)
            images.append(("labeled-data", "mirror", src.name))
        from posenb.data.trainingset import image_shape

        _, h, w = image_shape(folder / images[0][2])
        _config(project, "mirrormouse", scorer, bodyparts, "mirror", 0.95, (w, h))
        write_labels(
            array_to_labels(arr, scorer, bodyparts, images),
            folder / f"CollectedData_{scorer}.h5",
            backup=False,
        )
    _ensure_shuffles(config, shuffles, net_type)
    return config


def setup_synthetic(
    workdir: Path, factor: int, layout: str, n_labeled: int = 60, net_type: str | None = None
) -> Path:
    import cv2

    from posenb.data.trainingset import create_training_dataset
    from posenb.demo.synthetic import DEMO_BODYPARTS, _floor, render_frame, simulate_trajectory
    from posenb.io.labels import array_to_labels, write_labels

    w, h = 320 * factor, 240 * factor
    project = workdir / f"synthetic-{factor}x-{layout}"
    config = project / "config.yaml"
    if not config.is_file():
        body = 0.22 * min(w, h) if layout == "far" else 30.0
        traj = simulate_trajectory(n_labeled * 5, w, h, seed=factor, body_length=body)
        bg = _floor(w, h, seed=factor)
        folder = project / "labeled-data" / "synthetic"
        folder.mkdir(parents=True, exist_ok=True)
        idx = np.arange(0, n_labeled * 5, 5)
        kp = traj["keypoints"][idx].copy()
        rng = np.random.default_rng(factor)
        hidden = rng.random(len(idx)) < 0.25
        images = []
        for j, i in enumerate(idx):
            img = render_frame(
                bg, traj["center"][i], traj["heading"][i], body, hidden=("snout",) if hidden[j] else ()
            )
            name = f"img{j:04d}.png"
            cv2.imwrite(str(folder / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            images.append(("labeled-data", "synthetic", name))
        kp[hidden, 0] = np.nan
        _config(project, f"synthetic{factor}x{layout}", "gt", DEMO_BODYPARTS, "synthetic", 0.8, (w, h))
        write_labels(
            array_to_labels(kp, "gt", DEMO_BODYPARTS, images), folder / "CollectedData_gt.h5", backup=False
        )
        create_training_dataset(str(config), Shuffles=[1], net_type=net_type)
    return config


def hidden_as_visible(config: Path, shuffle: int) -> tuple[float, int]:
    """(share of NaN-labeled (frame, part) cells predicted with likelihood >= pcutoff, number of such cells)."""
    from posenb.data.trainingset import read_training_split
    from posenb.io.labels import labels_to_array
    from posenb.io.predictions import read_predictions
    from posenb.project import paths
    from posenb.project.config import read_config

    cfg = read_config(config)
    data, _, _, fraction = read_training_split(cfg, shuffle, 0)
    labels = labels_to_array(data, list(cfg["bodyparts"]))
    folder = Path(cfg["project_path"]) / paths.get_evaluation_folder(fraction, shuffle, cfg)
    h5 = sorted(folder.glob("*-snapshot-*.h5"), key=lambda p: p.stat().st_mtime)[-1]
    pred = read_predictions(h5).to_numpy(float).reshape(len(data), len(cfg["bodyparts"]), 3)
    frame_labeled = np.isfinite(labels).all(-1).any(-1)
    hidden = ~np.isfinite(labels).all(-1) & frame_labeled[:, None]
    n = int(hidden.sum())
    if n == 0:
        return float("nan"), 0
    return float((pred[..., 2][hidden] >= float(cfg.get("pcutoff", 0.6))).mean()), n


def train_and_evaluate(name: str, config: Path, shuffle: int, overrides: dict, out: Path) -> dict:
    from posenb.train.api import train_network

    load0, start = load_average(), _dt.datetime.now()
    t0 = time.time()

    def cb(ev):
        if ev.kind == "display":
            print(
                f"[{time.strftime('%H:%M:%S')}] {name} s{shuffle} it {ev.iteration}/{ev.max_iters} loss "
                f"{ev.loss:.5f} {ev.images_per_s:.1f} img/s load {load_average()}",
                flush=True,
            )

    train_network(str(config), shuffle=shuffle, progress=False, callbacks=[cb], **overrides)
    timing = {
        "minutes": round((time.time() - t0) / 60, 2),
        "start": start.strftime("%Y-%m-%d %H:%M"),
        "load_before": load0,
        "load_after": load_average(),
        "openmp": " ".join(f"{k}={os.environ[k]}" for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT") if k in os.environ),
    }
    return evaluate_row(name, config, shuffle, overrides, out, timing)


def evaluate_row(
    name: str, config: Path, shuffle: int, overrides: dict, out: Path, timing: dict | None = None
) -> dict:
    """Evaluates the shuffle's last snapshot and appends its row to ``out``. ``timing`` None (``evaluate``, a
    snapshot trained earlier, e.g. re-evaluated after a fix): its cached predictions are deleted and made again,
    minutes from its ``learning_stats.csv``, the load of the evaluation."""
    from posenb.data.trainingset import read_pose_cfg, read_training_split
    from posenb.infer.evaluate import evaluate_network
    from posenb.project.config import read_config
    from posenb.train.api import get_train_dir

    cfg = read_config(config)
    train_dir, _ = get_train_dir(cfg, shuffle)
    pose = read_pose_cfg(train_dir / "pose_cfg.yaml")
    fresh = timing is None
    if timing is None:
        stats = (train_dir / "learning_stats.csv").read_text().split()
        load0 = load_average()
        log = (
            (train_dir / "train.log").read_text().splitlines() if (train_dir / "train.log").is_file() else []
        )
        trained = log[0][1:17] if log and log[0].startswith("[") else "?"  # "[2026-12-02 19:25:47] start ..."
        timing = {
            "minutes": round(float(stats[-1].split(",")[-1]) / 60, 2),
            "load_before": load0,
            "start": f"{trained} (evaluated {_dt.datetime.now():%Y-%m-%d %H:%M})",
        }
    if fresh:  # the evaluation's cached predictions were made by the code of that time: predict again
        from posenb.project import paths

        fraction = read_training_split(cfg, shuffle, 0)[3]
        for old in (Path(cfg["project_path"]) / paths.get_evaluation_folder(fraction, shuffle, cfg)).glob(
            "*.h5"
        ):
            old.unlink()
    res = evaluate_network(str(config), Shuffles=[shuffle], show_errors=False).iloc[-1]
    timing.setdefault("load_after", load_average())
    share, n_hidden = hidden_as_visible(config, shuffle)
    _, tr, te, _ = read_training_split(cfg, shuffle, 0)
    row = {
        "dataset": name,
        "shuffle": shuffle,
        "train_images": len(tr),
        "test_images": len(te),
        "train_error": float(res[" Train error(px)"]),
        "test_error": float(res[" Test error(px)"]),
        "test_error_pcutoff": float(res["Test error with p-cutoff"]),
        "hidden_as_visible": share,
        "hidden_cells": n_hidden,
        "minutes": timing["minutes"],
        "iterations": int(res["Training iterations:"]),
        "planned_iters": int(pose["max_iters"]),
        "recipe": {
            k: pose.get(k)
            for k in ("net_type", "global_scale", "crop_size", "scale_jitter_lo", "rotation", "max_iters", "max_minutes",
                      "refine_iters")
        },
        "overrides": overrides,
        "start": timing["start"],
        "load_before": timing["load_before"],
        "load_after": timing["load_after"],
        "openmp": timing.get("openmp"),
        "machine": machine(),
    }
    with open(out, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)
    return row


def parse_sets(items) -> dict:
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        out[key] = yaml.safe_load(value)
    return out


def record(workdirs: list[Path], command: str) -> None:
    rows = []
    for workdir in workdirs:
        path = workdir / "results.jsonl"
        if path.is_file():
            rows += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r["dataset"], []).append(r)

    def ms(values):
        v = np.asarray(values, float)
        if len(v) < 2:
            return f"{v.mean():.2f}"
        return f"{v.mean():.2f} ± {v.std(ddof=1) / np.sqrt(len(v)):.2f}"

    lines = [
        SECTION + "\n\n",
        f"- Command: `{command}` (see the script's docstring for the data sets); machine: {rows[-1]['machine']}.\n",
        "- Errors: DeepLabCut's mean Euclidean distance over labeled (image, part) cells in original pixels, without "
        "p-cutoff (test with p-cutoff in brackets); mean ± SEM over the shuffles. Hidden as visible: NaN-labeled "
        "(not visible) cells predicted with likelihood >= pcutoff (0.6), over all labeled frames (cells).\n",
        "- Recipe: values written by `create_training_dataset` (posenb/data/recipe.py): global_scale, crop, scale "
        "jitter low bound, rotation range (deg; +-25 for runs before it followed the labels), planned iterations / "
        "time budget; 'iterations' are those actually run (time budget and "
        "plateau stop, posenb/train/budget.py). Load: 1/5/15-min load average before -> after each shuffle "
        "(2 cores shared with other sessions' jobs).\n\n",
        "- Budget and time model (posenb/data/recipe.py `training_budget`, `seconds_per_iteration`): iterations "
        "(1500 + 15 x frames) x sqrt(parts / 4) x (animal side / crop side), both factors in [1, 2], in [2000, "
        "20000]; max_minutes = the time model's estimate on 2 idle CPU cores, in [12, 60]; a step costs batch / "
        "(36 images/s x (crop pixels / 160^2)^-1) there (0.22 / 0.32 / 0.57 s at 160 / 192 / 256 px, batch 8; "
        "`python benchmarks/bench_step_time.py`: CPU time per step x1.40 / x2.46 at 192 / 256 vs 160). A loaded "
        "machine is 2-10x slower: the loop measures the real speed and fits the cosine schedule into `max_minutes` "
        "(posenb/train/budget.py), so compare the 'iterations' column with the planned ones before reading the "
        "errors. 'planned' is the plan written when the row's training set was made (the budget changed since "
        "for some rows; see below).\n\n",
        "| data set | shuffles | train / test images | train error (px) | test error (px) | hidden as visible | "
        "minutes per shuffle | iterations (planned) | global_scale | crop | jitter lo | rotation | max_minutes | dates, "
        "load |\n",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    ]
    for name, rs in groups.items():
        rec = rs[-1]["recipe"]
        hid = [r["hidden_as_visible"] for r in rs if r["hidden_cells"]]
        hidden = f"{np.mean(hid):.1%} of {rs[-1]['hidden_cells']}" if hid else "none hidden"
        minutes = ", ".join(f"{r['minutes']:.1f}" for r in rs)
        loads = "; ".join(
            f"{r['start']} s{r['shuffle']}: {r['load_before']} -> {r['load_after']}" for r in rs
        )
        lines.append(
            f"| {name} | {len(rs)} | {rs[-1]['train_images']} / {rs[-1]['test_images']} | "
            f"{ms([r['train_error'] for r in rs])} | {ms([r['test_error'] for r in rs])} "
            f"({ms([r['test_error_pcutoff'] for r in rs])}) | {hidden} | "
            f"{minutes} | "
            f"{', '.join(str(r['iterations']) for r in rs)} ({rs[-1]['planned_iters']}) | {rec['global_scale']} | "
            f"{rec['crop_size'][0]}x{rec['crop_size'][1]} | {rec['scale_jitter_lo']} | +-{rec.get('rotation') or 25} | "
            f"{rec['max_minutes']} | {loads} |\n"
        )
    write_section(RESULTS, SECTION, "".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["run", "evaluate", "record"])
    ap.add_argument("dataset", nargs="?", choices=["openfield", "mirror", "synthetic"])
    ap.add_argument("--workdir", default="/tmp/posenb-recipe")
    ap.add_argument(
        "--also", nargs="*", default=[], help="record: more workdirs whose results.jsonl are merged in"
    )
    ap.add_argument("--shuffles", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--layouts", nargs="+", default=["far", "close"])
    ap.add_argument("--frames", type=int, default=60, help="synthetic: labeled frames per data set")
    ap.add_argument("--set", nargs="*", default=[], help="pose_cfg overrides for train_network, key=value")
    ap.add_argument("--net-type", help="backbone of the shuffles this run creates (default: posenb's)")
    ap.add_argument("--command", default=" ".join(["python", *sys.argv]), help="command line for RESULTS.md")
    args = ap.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "results.jsonl"
    if args.action == "record":
        record([workdir, *map(Path, args.also)], args.command)
        return
    overrides = parse_sets(args.set)
    if args.action == "evaluate":  # snapshots trained earlier in this workdir (e.g. after an inference fix)
        names = {"openfield": "openfield", "mirror": "mirror-mouse-lp"}
        if args.dataset not in names:
            ap.error("evaluate: openfield or mirror")
        for s in args.shuffles:
            evaluate_row(names[args.dataset], workdir / args.dataset / "config.yaml", s, overrides, out)
        return
    if args.dataset == "openfield":
        config = setup_openfield(workdir, args.shuffles, args.net_type)
        for s in args.shuffles:
            train_and_evaluate("openfield", config, s, overrides, out)
    elif args.dataset == "mirror":
        config = setup_mirror(workdir, args.shuffles, args.net_type)
        for s in args.shuffles:
            train_and_evaluate("mirror-mouse-lp", config, s, overrides, out)
    elif args.dataset == "synthetic":
        for factor in args.sizes:
            for layout in args.layouts:
                config = setup_synthetic(workdir, factor, layout, args.frames, args.net_type)
                train_and_evaluate(
                    f"synthetic {320 * factor}x{240 * factor} {layout}", config, 1, overrides, out
                )
    else:
        ap.error("run needs a data set: openfield, mirror or synthetic")


if __name__ == "__main__":
    main()
