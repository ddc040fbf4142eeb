"""Model-assisted labeling on DeepLabCut's openfield labels: clicks per frame with and without suggestions, and
label QC's precision / recall on deliberately corrupted labels (run by hand, not in CI).

    python benchmarks/bench_label_assist.py clicks [--start 20] [--next 50] [--maxiters N] [--retrain-every 10]
        [--update-iters N] [--start-model SNAPSHOT] [--no-rotations] [--record]
    python benchmarks/bench_label_assist.py qc [--record]

``clicks`` simulates a labeler: the project (rebuilt in ``--workdir``) starts with ``--start`` labeled frames
(a fixed random pick of the 116), a model is trained on them with the default recipe and its budget (or
``--maxiters``), and the next
``--next`` frames are "labeled" from the true labels: with suggestions (posenb.infer.suggest.LabelSuggester,
exactly what the labeler shows), the simulated user presses Enter when at least one suggestion is within 3 px of
the true point (1 action), drags each suggestion that is further off (1 click each), dismisses each suggestion of
a part that is not labeled in the truth (1 click) and clicks each visible part with no suggestion (1 click).
Without suggestions every visible part costs one click. Clicks per frame are reported for both.
With ``--retrain-every K`` (default 10; 0: the model is never updated) the simulated user presses the labeler's
"Update model" every K labeled frames: the labels so far (accepted suggestions as the user saved them, the true
points elsewhere) are written and :func:`posenb.train.labeling_model.update_labeling_model` runs (the button's
core function: warm start from the newest snapshot, its fine-tune rule, or ``--update-iters``), then the
suggester reloads; clicks per frame are also reported per block of K frames.

``qc`` corrupts the 116 true labels (left/right ear swaps, snouts moved 20-40 px, a part put on another part)
and reports the precision and recall of :func:`posenb.infer.label_quality.check_label_quality`'s geometric
checks per kind of mistake (the frame counts as found when any issue names it), with the demo skeleton.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
import torch  # noqa: E402,F401  (before decord)
from _common import load_average, write_section  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = (
    Path(os.environ.get("POSENB_SHARED_DATA", REPO.parent / "shared" / "data"))
    / "openfield-Pranav-2018-10-30"
)
RESULTS = REPO / "benchmarks" / "RESULTS.md"
BP = ["snout", "leftear", "rightear", "tailbase"]
SKELETON = [["snout", "leftear"], ["snout", "rightear"], ["leftear", "tailbase"], ["rightear", "tailbase"]]
ACCEPT_PX = 3.0


def _truth():
    from posenb.io.labels import labels_to_array, read_labels

    df = read_labels(SHARED / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5")
    return df, labels_to_array(df, BP)


def _project(workdir: Path, rows: list[int]) -> str:
    """A copy of the openfield project whose labels hold only ``rows`` of the true table."""
    import yaml

    from posenb.io.labels import write_labels

    project = workdir / "openfield-assist"
    if project.exists():
        shutil.rmtree(project)
    (project / "videos").mkdir(parents=True)
    shutil.copytree(SHARED / "labeled-data", project / "labeled-data")
    for p in (project / "labeled-data").rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    (project / "videos" / "m3v1mp4.mp4").symlink_to((SHARED / "videos" / "m3v1mp4.mp4").resolve())
    cfg = yaml.safe_load((SHARED / "config.yaml").read_text())
    cfg.update(project_path=str(project), TrainingFraction=[0.95], skeleton=SKELETON)
    cfg["video_sets"] = {str(project / "videos" / "m4s1.mp4"): {"crop": "0, 640, 0, 480"}}
    (project / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    df, _ = _truth()
    folder = project / "labeled-data" / "m4s1"
    for f in folder.glob("CollectedData_*"):
        f.unlink()
    write_labels(df.iloc[sorted(rows)], folder / "CollectedData_Pranav.h5", backup=False)
    return str(project / "config.yaml")


def _clicks(suggested: np.ndarray | None, truth: np.ndarray) -> int:
    """Actions to label one frame: see the module docstring. ``suggested`` (K, 2) NaN = none; ``truth`` (K, 2)."""
    visible = np.isfinite(truth[:, 0])
    if suggested is None:
        return int(visible.sum())
    has = np.isfinite(suggested[:, 0])
    err = np.hypot(*(suggested - truth).T)
    good = has & visible & (err <= ACCEPT_PX)
    wrong = has & visible & ~good
    dismiss = has & ~visible
    missing = visible & ~has
    return int(good.any()) + int(wrong.sum() + dismiss.sum() + missing.sum())


def _user_labels(suggested: np.ndarray | None, truth: np.ndarray) -> np.ndarray:
    """What the simulated user saves for one frame ``(K, 2)``: accepted suggestions (within 3 px) as suggested,
    every other visible part at its true point, NaN where the truth is NaN."""
    out = truth.copy()
    if suggested is not None:
        good = np.isfinite(truth[:, 0]) & np.isfinite(suggested[:, 0])
        good &= np.hypot(*(suggested - truth).T) <= ACCEPT_PX
        out[good] = suggested[good]
    return out


def _update(config: str, df, labels: np.ndarray, rows: list[int], iterations: int | None) -> dict:
    """The user presses "Update model": the labels of ``rows`` are saved, update_labeling_model runs."""
    from posenb.io.labels import array_to_labels, write_labels
    from posenb.train.labeling_model import update_labeling_model

    rows = sorted(rows)
    table = array_to_labels(labels[rows], "Pranav", BP, [df.index[r] for r in rows])
    folder = Path(config).parent / "labeled-data" / "m4s1"
    write_labels(table, folder / "CollectedData_Pranav.h5", backup=False)
    t0 = time.time()
    done = update_labeling_model(config, iterations=iterations, progress=False)
    return {"mode": done.mode, "iterations": done.iterations, "new": done.new_frames,
            "frames": done.frames, "minutes": (time.time() - t0) / 60}  # fmt: skip


def _simulate(args, config, df, truth, start, nxt) -> tuple[list[dict], list[dict]]:
    """Label ``nxt`` frame by frame with the suggester's help, updating the model every ``--retrain-every``
    frames. Returns per-frame records ``{"with", "without", "errors", "model"}`` and the updates' records."""
    from posenb.infer.suggest import LabelSuggester

    suggester = LabelSuggester(config, test_angles=None if args.no_rotations else "default")
    labels = truth.copy()
    labeled = list(start)
    frames, updates = [], []
    for j, row in enumerate(nxt):
        got = suggester.suggest(Path(*df.index[row]))
        sugg = got[0][:, :2] if got is not None else None
        err = np.array([])
        if sugg is not None:
            ok = np.isfinite(truth[row, :, 0]) & np.isfinite(sugg[:, 0])
            err = np.hypot(*(sugg - truth[row]).T)[ok]
        frames.append({"with": _clicks(sugg, truth[row]), "without": _clicks(None, truth[row]), "errors": err,
                       "model": suggester.describe()})  # fmt: skip
        labels[row] = _user_labels(sugg, truth[row])
        labeled.append(row)
        if args.retrain_every and (j + 1) % args.retrain_every == 0 and j + 1 < len(nxt):
            updates.append({"after": j + 1, **_update(config, df, labels, labeled, args.update_iters)})
            suggester.reload()
    return frames, updates


def _blocks_table(frames: list[dict], k: int) -> str:
    rows = ["| frames | clicks per frame | within 3 px | model |", "|---|---|---|---|"]
    for a in range(0, len(frames), k):
        block = frames[a : a + k]
        err = np.concatenate([f["errors"] for f in block]) if block else np.array([])
        within = f"{np.mean(err <= ACCEPT_PX):.0%}" if len(err) else "-"
        rows.append(f"| {a + 1}-{a + len(block)} | {np.mean([f['with'] for f in block]):.2f} | {within} | "
                    f"{block[0]['model']} |")  # fmt: skip
    return "\n".join(rows) + "\n"


def _reuse_start_model(config: str, snapshot: Path) -> None:
    """Put the first model's snapshot of an earlier run (same ``--start``, ``--seed`` and ``--maxiters``: the same
    20 frames and split) into the new project's shuffle 1, so that train_network finds it done."""
    from posenb.project.config import read_config
    from posenb.project.paths import get_train_dir

    train_dir = get_train_dir(read_config(config), 1, 0)[0]
    for suffix in (".pt", ".index"):
        src = snapshot.with_suffix(suffix)
        if src.is_file():
            shutil.copy2(src, train_dir / src.name)


def clicks(args) -> str:
    from posenb.data.trainingset import create_training_dataset
    from posenb.train.api import train_network

    df, truth = _truth()
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(df))
    start, nxt = order[: args.start].tolist(), order[args.start : args.start + args.next].tolist()
    config = _project(Path(args.workdir), start)
    create_training_dataset(
        config, net_type="efficientnet-lite0"
    )  # posenb's default (openfield's config says resnet_50)
    if args.start_model:
        _reuse_start_model(config, Path(args.start_model))
    t0 = time.time()
    train_network(config, maxiters=args.maxiters, progress=False)
    minutes = (time.time() - t0) / 60
    from posenb.infer.predictor import resolve_snapshot
    from posenb.nn.snapshots import snapshot_iteration
    from posenb.project.config import read_config

    iterations = snapshot_iteration(resolve_snapshot(read_config(config))[0])
    frames, updates = _simulate(args, config, df, truth, start, nxt)
    with_s, without = [f["with"] for f in frames], [f["without"] for f in frames]
    err = np.concatenate([f["errors"] for f in frames])
    k = args.retrain_every
    command = (
        f"`python benchmarks/bench_label_assist.py clicks --start {args.start} --next {args.next}"
        + (f" --maxiters {args.maxiters}" if args.maxiters else "")
        + f" --retrain-every {k}"
        + (f" --update-iters {args.update_iters}" if args.update_iters else "")
        + (f" --start-model {args.start_model}" if args.start_model else "")
        + (" --no-rotations" if args.no_rotations else "")
        + f"` — {_dt.date.today()}, load {load_average()}\n\n"
    )
    if k:
        rule = f"{args.update_iters} iterations each" if args.update_iters else "update_labeling_model's rule"
        upd = ", ".join(
            f"after {u['after']}: {u['mode']} {u['iterations']} it ({u['minutes']:.1f} min)" for u in updates
        )
        retrain = (f"The simulated user presses \"Update model\" every {k} labeled frames (posenb.update_labeling_model, "
                   f"{rule}; all labels so far, accepted suggestions as saved): {upd or 'none'}.\n\n")  # fmt: skip
    else:
        retrain = "The model is not updated while labeling (--retrain-every 0).\n\n"
    text = (
        ("## Model-assisted labeling with model updates (openfield)\n\n" if k else
         "## Model-assisted labeling (openfield)\n\n")
        + command
        + f"Model trained on {args.start} labeled frames for {iterations} iterations ("
        + ("--maxiters" if args.maxiters else "the default recipe's budget")
        + (f", reused from an earlier run: {args.start_model}" if args.start_model else f", {minutes:.1f} min")
        + "), then "
        f"{args.next} more frames labeled by a simulated user (accept within {ACCEPT_PX:.0f} px).\n\n"
        + retrain
        + "| | clicks per frame (4 parts) |\n|---|---|\n"
        f"| without suggestions | {np.mean(without):.2f} |\n"
        f"| with suggestions | {np.mean(with_s):.2f} |\n\n"
        f"Suggestions shown: median error {np.median(err):.2f} px, {np.mean(err <= ACCEPT_PX):.0%} within "
        f"{ACCEPT_PX:.0f} px ({len(err)} points).\n"
    )  # fmt: skip
    if k:
        text += (
            f"\nPer block of {k} frames (the model the block's suggestions came from):\n\n"
            + _blocks_table(frames, k)
        )
    return text


def qc(args) -> str:
    from posenb.data.augment import find_symmetric_pairs
    from posenb.data.label_qc import find_bone_length_outliers, find_duplicate_points, find_swaps_geometry

    _, truth = _truth()
    rng = np.random.default_rng(args.seed)
    labels = truth.copy()
    complete = [i for i in range(len(labels)) if np.isfinite(labels[i]).all()]
    picks = rng.choice(complete, 30, replace=False)
    planted = {"swap": picks[:10], "shift": picks[10:20], "duplicate": picks[20:30]}
    for i in planted["swap"]:
        labels[i, [1, 2]] = labels[i, [2, 1]]
    for i in planted["shift"]:
        angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(20, 40)
        labels[i, 0] += dist * np.array([np.cos(angle), np.sin(angle)])
    for i in planted["duplicate"]:
        labels[i, 3] = labels[i, 1] + rng.uniform(-0.4, 0.4, 2)
    issues = (
        find_swaps_geometry(labels, BP, find_symmetric_pairs(BP))
        + find_bone_length_outliers(labels, BP, SKELETON)
        + find_duplicate_points(labels, BP)
    )
    flagged = {issue.image for issue in issues}
    kinds_for = {"swap": {"swap_geometry"}, "shift": {"bone_length"}, "duplicate": {"duplicate"}}
    rows = []
    all_planted = set(np.concatenate(list(planted.values())).tolist())
    for name, idx in planted.items():
        found = {i.image for i in issues if i.kind in kinds_for[name]}
        recall = len(found & set(idx.tolist())) / len(idx)
        rows.append(f"| {name} | {len(idx)} | {recall:.0%} |")
    precision = len(flagged & all_planted) / max(len(flagged), 1)
    text = (
        "## Label QC (openfield, corrupted labels)\n\n"
        f"`python benchmarks/bench_label_assist.py qc` — {_dt.date.today()}, load {load_average()}\n\n"
        "116 true openfield labels with 30 planted mistakes (geometric checks, demo skeleton, no model):\n\n"
        "| mistake | planted | recall |\n|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Precision over all flagged frames: {precision:.0%} ({len(flagged)} frames flagged, "
        f"{len(flagged - all_planted)} not planted; one of those, img0102, is a real ear swap in DLC's labels).\n"
    )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["clicks", "qc"])
    parser.add_argument("--workdir", default="/tmp/posenb-bench-assist")
    parser.add_argument("--start", type=int, default=20)
    parser.add_argument("--next", type=int, default=50)
    parser.add_argument("--maxiters", type=int, default=None, help="default: the recipe's budget")
    parser.add_argument(
        "--retrain-every", type=int, default=10,
        help="press 'Update model' (posenb.update_labeling_model) every K labeled frames; 0: never (one model)",
    )  # fmt: skip
    parser.add_argument(
        "--update-iters", type=int, default=None,
        help="iterations per update (default: update_labeling_model's rule: 50 per new frame, at least 200)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-rotations", action="store_true",
        help="suggestions without the test-time rotations (input scales only): the labeler before they came",
    )
    parser.add_argument(
        "--start-model", default=None,
        help="snapshot-N.pt of an earlier run with the same --start/--seed/--maxiters: reused as the first model",
    )  # fmt: skip
    parser.add_argument("--record", action="store_true", help="write the section into benchmarks/RESULTS.md")
    args = parser.parse_args()
    if not (SHARED / "config.yaml").is_file():
        sys.exit(f"openfield data not found at {SHARED}")
    text = clicks(args) if args.what == "clicks" else qc(args)
    print(text)
    if args.record:
        write_section(RESULTS, text.splitlines()[0], text)


if __name__ == "__main__":
    main()
