"""Test-time scales on trained snapshots: mean train / test error with one pass and with the key points averaged
over several input scales (posenb.infer.multiscale), per data set and shuffle (run by hand, not in CI).

    python benchmarks/bench_test_scales.py CONFIG[:SHUFFLES] ... [--sets 1 1.25 1.1,1.25] [--train-images 30]
        [--record]

``CONFIG`` is a project's config.yaml (e.g. one that ``bench_recipe.py`` built and trained), ``SHUFFLES`` a
comma-separated list (default 1). Each scale set is a comma-separated list of input scales relative to the
snapshot's ``global_scale``; ``1`` is the single pass analysis uses. Errors are DeepLabCut's (mean Euclidean
distance over labeled cells, original pixels, no p-cutoff) on the shuffle's test images and on its first
``--train-images`` training images; "within 3 px" is the share of test cells within 3 px of the label (what the
labeler's simulated user accepts) and "clicks per frame" what that user would spend on the test images with the
predictions as suggestions (bench_label_assist.py's click rule): with models trained on every training frame, the
floor that suggestions from fewer labels can approach. Nothing is written into the projects.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import torch  # noqa: E402,F401  (before decord)
from _common import load_average, write_section  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "RESULTS.md"
SECTION = "## Test-time scales (trained snapshots)"


def _images(project: Path, data, rows) -> np.ndarray:
    import cv2

    out = []
    for r in rows:
        key = data.index[r]
        path = project.joinpath(*key) if isinstance(key, tuple) else project / key
        out.append(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))
    return out


def _predict(predictor, images) -> np.ndarray:
    """``(n, K, 2)`` predicted x, y [frame px] of ``images`` (one at a time: frames of several sizes)."""
    return np.concatenate([predictor.predict(img[None]) for img in images])[..., :2]


def _errors(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.hypot(pred[..., 0] - truth[..., 0], pred[..., 1] - truth[..., 1])


def evaluate(config: str, shuffle: int, sets: list[tuple[float, ...]], n_train: int) -> list[dict]:
    """One row per scale set: ``{"set", "train", "test", "within3", "clicks", "iteration"}`` for one shuffle."""
    from bench_label_assist import _clicks

    from posenb.data.trainingset import read_training_split
    from posenb.infer.predictor import load_predictor
    from posenb.io.labels import labels_to_array
    from posenb.project.config import read_config

    cfg = read_config(config)
    data, train, test, _ = read_training_split(cfg, shuffle, 0)
    truth = labels_to_array(data, list(cfg["bodyparts"]))
    project = Path(cfg["project_path"])
    test_img, train_img = _images(project, data, test), _images(project, data, train[:n_train])
    rows = []
    for scales in sets:
        predictor, info = load_predictor(cfg, shuffle, 0, test_scales=scales)
        p_test = _predict(predictor, test_img)
        e_test = _errors(p_test, truth[test])
        e_train = _errors(_predict(predictor, train_img), truth[train[:n_train]])
        clicks = [_clicks(p, t) for p, t in zip(p_test, truth[test])]
        rows.append({"set": scales, "train": np.nanmean(e_train), "test": np.nanmean(e_test),
                     "within3": np.nanmean(e_test[np.isfinite(e_test)] <= 3), "clicks": clicks,
                     "iteration": info["iteration"], "scale": predictor.global_scale})  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("projects", nargs="+", help="config.yaml[:shuffle,shuffle]")
    ap.add_argument("--sets", nargs="+", default=["1", "1.25", "1.1,1.25"])
    ap.add_argument("--train-images", type=int, default=30)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    sets = [tuple(float(s) for s in item.split(",")) for item in args.sets]
    load0 = load_average()
    lines = ["| project | shuffle | iteration | global_scale | scales | train (px) | test (px) | test within 3 px | "
             "clicks per test frame |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    means: dict[tuple[str, tuple], list[float]] = {}
    clicks: dict[tuple[str, tuple], list[int]] = {}
    for item in args.projects:
        config, _, shuffles = item.partition(":")
        name = Path(config).parent.name
        for shuffle in [int(s) for s in (shuffles or "1").split(",")]:
            for r in evaluate(config, shuffle, sets, args.train_images):
                label = " + ".join(f"x{s:g}" for s in r["set"])
                means.setdefault((name, r["set"]), []).append(r["test"])
                clicks.setdefault((name, r["set"]), []).extend(r["clicks"])
                line = (f"| {name} | {shuffle} | {r['iteration']} | {r['scale']:g} | {label} | {r['train']:.2f} | "
                        f"{r['test']:.2f} | {r['within3']:.0%} | {np.mean(r['clicks']):.2f} |")  # fmt: skip
                print(line, flush=True)
                lines.append(line)
    summary = ["", "| project | scales | mean test error over the shuffles (px) | clicks per test frame |",
               "|---|---|---|---|"]  # fmt: skip
    for (name, scales), values in means.items():
        label = " + ".join(f"x{s:g}" for s in scales)
        n = len(clicks[(name, scales)])
        summary.append(f"| {name} | {label} | {np.mean(values):.2f} ({len(values)} shuffles) | "
                       f"{np.mean(clicks[(name, scales)]):.2f} ({n} frames) |")  # fmt: skip
    print("\n".join(summary))
    text = (
        f"{SECTION}\n\n`python benchmarks/bench_test_scales.py {' '.join(sys.argv[1:])}` — {_dt.date.today()}, "
        f"load {load0} -> {load_average()}\n\n" + "\n".join(lines + summary) + "\n"
    )
    if args.record:
        write_section(RESULTS, SECTION, text)


if __name__ == "__main__":
    main()
