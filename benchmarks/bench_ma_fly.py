"""Multi-animal benchmark on ../shared/data/fly2-sleap: posenb's top-down model, default recipe, CPU.

    nice -n 19 python benchmarks/bench_ma_fly.py --workdir /tmp/mamodel/fly [--identity] [--n-test 20] [--clip DIR]

Builds a multi-animal project from the 120 SLEAP-labeled frames (frames extracted from clip.mp4, a 4-level
CollectedData), a seeded split (100 train / 20 test), runs create_training_dataset + train_network with the
default recipe, then on the test (and train) frames: animals found vs labeled, per-keypoint error after matching
predicted to labeled animals (Hungarian on the mean part distance), identity accuracy, and frames/s of
predict_animals over 200 consecutive clip frames. Writes ``<workdir>/results.json``; prints one summary line.
A second run with the same workdir reuses the project and resumes / skips training. ``--clip DIR``: also analyze
the whole clip.mp4 (``analyze_videos(auto_track=True)`` into DIR) and score the tracks on the labeled frames, on
the training split and on the held-out frames (never used for training) apart: identity switches, flies missed,
per-keypoint error (bench_tracking.py's score_file with the split read from the training set).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fly2-sleap"


def build_project(workdir: Path, identity: bool) -> str:
    import cv2
    import pandas as pd

    from posenb.data.ma_trainingset import write_ma_table
    from posenb.formats.slp import _multi_animal_array
    from posenb.io.video import open_video
    from posenb.project.config import DEFAULT_CONFIG, write_config

    project = workdir / "fly2-bench-2026-12-02"
    config = project / "config.yaml"
    if config.is_file():
        return str(config)
    lab = _multi_animal_array(DATA / "fly2_train120.slp")
    folder = project / "labeled-data" / "clip"
    folder.mkdir(parents=True, exist_ok=True)
    index = []
    with open_video(DATA / "clip.mp4") as video:
        for fi in lab["frame_indices"]:
            name = f"img{int(fi):05d}.png"
            cv2.imwrite(str(folder / name), video.read(int(fi))[..., ::-1])
            index.append(("labeled-data", "clip", name))
    coords = lab["coords"]
    cols = [("bench", i, b, c) for i in lab["individuals"] for b in lab["bodyparts"] for c in "xy"]
    df = pd.DataFrame(
        coords.reshape(len(coords), -1),
        index=pd.MultiIndex.from_tuples(index),
        columns=pd.MultiIndex.from_tuples(cols, names=["scorer", "individuals", "bodyparts", "coords"]),
    )
    write_ma_table(df, folder / "CollectedData_bench.h5")
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    cfg.update(
        Task="fly2", scorer="bench", date="Dec2", project_path=str(project), video_sets={}, skeleton=lab["skeleton"],
        multianimalproject=True, identity=identity, individuals=lab["individuals"], bodyparts="MULTI!",
        multianimalbodyparts=lab["bodyparts"], uniquebodyparts=[], TrainingFraction=[0.83], iteration=0,
    )  # fmt: skip
    return str(write_config(config, cfg))


def match_errors(pred: np.ndarray, true: np.ndarray) -> tuple[list, int, list]:
    """Per frame: Hungarian matching of predicted (A', P, 3) to labeled (A, P, 2) animals on the mean part distance.

    Returns (per-part errors of matched animals (A_matched, P) arrays, animals missed, matched (true, pred) pairs)."""
    from scipy.optimize import linear_sum_assignment

    errs, pairs = [], []
    labeled = [a for a in range(true.shape[0]) if np.isfinite(true[a]).any()]
    found = [k for k in range(pred.shape[0]) if np.isfinite(pred[k, :, 0]).any()]
    if not found:
        return errs, len(labeled), pairs
    cost = np.full((len(labeled), len(found)), 1e6)
    for i, a in enumerate(labeled):
        for j, k in enumerate(found):
            d = np.linalg.norm(pred[k, :, :2] - true[a], axis=-1)
            if np.isfinite(d).any():
                cost[i, j] = np.nanmean(d)
    rows, cols = linear_sum_assignment(cost)
    matched = set()
    for r, c in zip(rows, cols):
        if cost[r, c] < 50.0:  # a prediction farther than 50 px on average is not this animal
            errs.append(np.linalg.norm(pred[found[c], :, :2] - true[labeled[r]], axis=-1))
            pairs.append((labeled[r], found[c]))
            matched.add(r)
    return errs, len(labeled) - len(matched), pairs


def evaluate(pred, frames_idx, coords, individuals) -> dict:
    out = pred.predict_animals(frames_idx)
    errs, missed, id_ok, id_n, n_animals = [], 0, 0, 0, 0
    for b in range(len(coords)):
        e, m, pairs = match_errors(out["poses"][b], coords[b])
        errs += e
        missed += m
        n_animals += int(np.isfinite(coords[b]).any(axis=(1, 2)).sum())
        if out["identity"] is not None:
            for a, k in pairs:
                id_ok += int(np.argmax(out["identity"][b, k]) == a)
                id_n += 1
    e = np.array(errs)  # (matched animals, P)
    extra = int(np.isfinite(out["scores"]).sum()) - (n_animals - missed)
    return {
        "animals": n_animals,
        "missed": missed,
        "extra_detections": extra,
        "rmse_mean_px": float(np.nanmean(e)) if e.size else None,
        "rmse_median_px": float(np.nanmedian(e)) if e.size else None,
        "per_part_mean_px": [float(v) for v in np.nanmean(e, axis=0)] if e.size else None,
        "identity_accuracy": (id_ok / id_n) if id_n else None,
    }


def score_clip(config: str, dest: Path) -> dict:
    """analyze_videos(auto_track=True) of the whole clip into ``dest``, then the tracks scored on the labeled frames
    (all, training split, held-out split) by bench_tracking.py."""
    from bench_tracking import model_split, score_file  # benchmarks/ is on sys.path when run as a script

    import posenb

    t = time.time()
    scorer = posenb.analyze_videos(config, [str(DATA / "clip.mp4")], destfolder=str(dest), auto_track=True)
    seconds = time.time() - t
    report = score_file(None, Path(dest) / f"clip{scorer}_el.h5", model_split(Path(config)))
    return {"analyze_track_seconds": round(seconds, 1), "scores": report.splitlines()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", default="/tmp/mamodel/fly")
    ap.add_argument("--identity", action="store_true")
    ap.add_argument("--n-test", type=int, default=20)
    ap.add_argument("--clip", type=Path, help="analyze + track the whole clip into this folder and score it")
    args = ap.parse_args()
    import cv2

    import posenb
    from posenb.data.ma_trainingset import ma_label_arrays, read_ma_training_split
    from posenb.infer.ma_predictor import load_ma_predictor
    from posenb.io.video import open_video
    from posenb.project.config import project_parts, read_config

    workdir = Path(args.workdir)
    config = build_project(workdir, args.identity)
    cfg = read_config(config)
    model_dir = Path(cfg["project_path"]) / "dlc-models"
    if not model_dir.is_dir():
        perm = np.random.default_rng(0).permutation(120)
        posenb.create_training_dataset(
            config, trainIndices=[sorted(perm[args.n_test :])], testIndices=[sorted(perm[: args.n_test])]
        )
        cfg = read_config(config)
    t0 = time.time()
    load0 = os.getloadavg()
    posenb.train_network(config, progress=False)
    train_min = (time.time() - t0) / 60
    cfg = read_config(config)
    data, train_idx, test_idx, _ = read_ma_training_split(cfg, 1, 0)
    coords, _ = ma_label_arrays(data, project_parts(cfg))
    project = Path(cfg["project_path"])

    def frames(rows):
        return np.stack([cv2.imread(str(project.joinpath(*data.index[i])))[..., ::-1] for i in rows])

    pred = load_ma_predictor(config, device="cpu")
    res = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "train_minutes_this_run": round(train_min, 1),
        "load_at_start": load0,
        "test": evaluate(pred, frames(test_idx), coords[test_idx], cfg["individuals"]),
        "train": evaluate(pred, frames(train_idx[:20]), coords[train_idx[:20]], cfg["individuals"]),
    }
    with open_video(DATA / "clip.mp4") as video:
        clip = video.get_batch(list(range(600, 800)))
    pred.predict_animals(clip[:8])  # warm-up (BatchNorm folding)
    t = time.time()
    pred.predict_animals(clip)
    res["frames_per_s"] = round(len(clip) / (time.time() - t), 2)
    res["load_at_end"] = os.getloadavg()
    for name in ("train", "centroid"):
        log = pred.snapshot.parent / ("centroid" if name == "centroid" else "") / "train.log"
        res[f"{name}_log_tail"] = log.read_text().splitlines()[-3:] if log.is_file() else None
    res["snapshot"], res["centroid_snapshot"] = str(pred.snapshot), str(pred.centroid_snapshot)
    if args.clip:
        res["clip"] = score_clip(config, args.clip)
    (workdir / "results.json").write_text(json.dumps(res, indent=1))
    print(json.dumps({k: v for k, v in res.items() if "log" not in k}, indent=1))


if __name__ == "__main__":
    main()
