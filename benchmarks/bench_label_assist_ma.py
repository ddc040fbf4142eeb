"""Model-assisted labeling of a multi-animal project (SLEAP's two flies): clicks per frame with and without the
labeler's suggestions (run by hand, not in CI).

    nice -n 19 python benchmarks/bench_label_assist_ma.py [--start 20] [--next 30] [--maxiters 600]
        [--retrain-every 10] [--update-iters 300] [--no-identity] [--workdir DIR] [--record]
    python benchmarks/bench_label_assist_ma.py --from-json DIR/frames.json [--record]

The project is bench_ma_fly.py's (``build_project``: the 120 SLEAP-labeled 1024x1024 frames of
../shared/data/fly2-sleap decoded from clip.mp4 into ``labeled-data/clip``, 2 individuals female / male, 13 parts,
``identity: true`` unless ``--no-identity``), rebuilt in ``--workdir`` with only ``--start`` labeled frames (a seeded
random pick of the 120; the other frames' images are there, unlabeled, as after frame extraction). The top-down
model (pose + centroid) is trained on them for ``--maxiters`` iterations (each model; ``TrainingFraction`` 0.95),
then the next ``--next`` frames are labeled from the SLEAP labels by a simulated user who sees
:class:`posenb.infer.suggest.LabelSuggester`'s suggestions (exactly what the labeler shows: one animal per
individual slot, :func:`posenb.infer.suggest.animals_to_slots`). Every ``--retrain-every`` frames the user presses
"Update model" (:func:`posenb.update_labeling_model`, ``--update-iters`` per model; the labels so far, accepted
suggestions as saved) and the suggester reloads.

The click rule (:func:`frame_clicks`), bench_label_assist.py's ``_clicks`` applied to animals. Suggested animals
are matched to true animals (``linear_sum_assignment`` on the mean distance of their common parts; no distance
cut-off: dragging a far-off point is one click, as dismissing it and placing the true one would be two). Then, per
matched (animal, part): accept within 3 px, drag otherwise, place a missing one, dismiss a suggestion of a part
the truth leaves unlabeled (1 click each), plus one Enter per frame when anything is accepted. A suggested animal
matched to no true animal: one dismiss per suggested point (the labeler has no "delete animal": Delete and
right-click act on one point). Identity: a matched animal suggested in another individual's slot is an identity
error; the labeler's swap (``x``, :func:`posenb.widgets.labeler_animals.swap_individuals`: one key exchanges two
individuals' points) fixes it once the points are labels, so each swap needed to bring every animal to its slot
is one click (edges minus cycles of the slot permutation; with two individuals one ``x``). No swap is counted for
an animal none of whose suggested points becomes a label. Without suggestions every visible (animal, part) is one
click. Per-frame records go to ``<workdir>/frames.json`` as the run goes; ``--from-json`` writes the section from
such a file (a run that did not finish: the frames it labeled).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402
from _common import cpu_model, load_average, write_section  # noqa: E402
from bench_label_assist import ACCEPT_PX, _clicks, _user_labels  # noqa: E402
from bench_ma_fly import DATA, build_project  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "RESULTS.md"
SECTION = "## Model-assisted labeling (fly2-sleap, multi-animal)"
SCORER = "bench"  # build_project's scorer
_NO_MATCH = 1e6  # cost of a pair with no common part: still matched, never preferred


def match_animals(sugg: np.ndarray, truth: np.ndarray) -> list[tuple[int, int]]:
    """``[(true animal, suggested animal)]``: suggested ``(A_s, P, 2)`` and true ``(A, P, 2)`` animals (NaN = no
    point) that have a point, matched by ``linear_sum_assignment`` on the mean distance of their common parts."""
    from scipy.optimize import linear_sum_assignment

    labeled = [a for a in range(len(truth)) if np.isfinite(truth[a, :, 0]).any()]
    found = [s for s in range(len(sugg)) if np.isfinite(sugg[s, :, 0]).any()]
    if not labeled or not found:
        return []
    cost = np.full((len(labeled), len(found)), _NO_MATCH)
    for i, a in enumerate(labeled):
        for j, s in enumerate(found):
            d = np.hypot(*(sugg[s] - truth[a]).T)
            if np.isfinite(d).any():
                cost[i, j] = np.nanmean(d)
    rows, cols = linear_sum_assignment(cost)
    return [(labeled[r], found[c]) for r, c in zip(rows, cols)]


def swaps_needed(pairs: list[tuple[int, int]]) -> int:
    """Swaps of two individuals' points that bring each suggested slot ``s`` to its true slot ``a`` (``pairs``
    ``[(a, s)]``, an injective map): one per moved slot, less one per cycle (a chain ending on an empty slot takes
    one swap per move)."""
    moves = {s: a for a, s in pairs if a != s}
    seen, cycles = set(), 0
    for start in moves:
        if start in seen:
            continue
        node = start
        while node in moves and node not in seen:
            seen.add(node)
            node = moves[node]
        cycles += int(node == start)
    return len(moves) - cycles


def frame_clicks(sugg: np.ndarray | None, truth: np.ndarray) -> dict:
    """The simulated user's actions on one frame (see the module docstring).

    ``sugg``: ``(A_s, P, 2)`` suggested animals by individual slot (NaN = no point) or None (no suggestion);
    ``truth``: ``(A, P, 2)``. Returns ``{"clicks", "swaps", "id_errors" (matched animals in another individual's
    slot), "matched", "extra" (suggested animals matched to none), "errors" (px of the suggested points of visible
    parts), "saved" ((A, P, 2) what the user saves: accepted suggestions as suggested, the truth elsewhere)}``.
    """
    flat_truth = truth.reshape(-1, 2)
    if sugg is None:
        return {"clicks": _clicks(None, flat_truth), "swaps": 0, "id_errors": 0, "matched": 0, "extra": 0,
                "errors": np.array([]), "saved": truth.copy()}  # fmt: skip
    pairs = match_animals(sugg, truth)
    aligned = np.full_like(truth, np.nan, dtype=float)
    for a, s in pairs:
        aligned[a] = sugg[s]
    flat = aligned.reshape(-1, 2)
    unmatched = sorted(set(np.flatnonzero(np.isfinite(sugg[:, :, 0]).any(axis=1))) - {s for _, s in pairs})
    dismiss = int(sum(np.isfinite(sugg[s, :, 0]).sum() for s in unmatched))
    labels = [(a, s) for a, s in pairs if (np.isfinite(sugg[s, :, 0]) & np.isfinite(truth[a, :, 0])).any()]
    swaps = swaps_needed(labels)
    both = np.isfinite(flat[:, 0]) & np.isfinite(flat_truth[:, 0])
    return {
        "clicks": _clicks(flat, flat_truth) + dismiss + swaps,
        "swaps": swaps,
        "id_errors": sum(a != s for a, s in pairs),
        "matched": len(pairs),
        "extra": len(unmatched),
        "errors": np.hypot(*(flat - flat_truth).T)[both],
        "saved": _user_labels(flat, flat_truth).reshape(truth.shape),
    }


def _truth() -> tuple[dict, list[str]]:
    """The SLEAP labels (``_multi_animal_array``: coords ``(120, 2, 13, 2)``) and build_project's image names."""
    from posenb.formats.slp import _multi_animal_array

    lab = _multi_animal_array(DATA / "fly2_train120.slp")
    return lab, [f"img{int(fi):05d}.png" for fi in lab["frame_indices"]]


def _write_labels(config: str, lab: dict, names: list[str], coords: np.ndarray, rows: list[int]) -> None:
    """labeled-data/clip/CollectedData_bench.h5 holding ``coords[rows]`` (4-level table, config order)."""
    import pandas as pd

    from posenb.data.ma_trainingset import write_ma_table

    rows = sorted(rows)
    cols = [(SCORER, i, b, c) for i in lab["individuals"] for b in lab["bodyparts"] for c in "xy"]
    df = pd.DataFrame(
        coords[rows].reshape(len(rows), -1),
        index=pd.MultiIndex.from_tuples([("labeled-data", "clip", names[r]) for r in rows]),
        columns=pd.MultiIndex.from_tuples(cols, names=["scorer", "individuals", "bodyparts", "coords"]),
    )
    write_ma_table(df, Path(config).parent / "labeled-data" / "clip" / f"CollectedData_{SCORER}.h5")


def _project(workdir: Path, identity: bool, lab: dict, names: list[str], rows: list[int]) -> str:
    """bench_ma_fly's project, rebuilt, with only ``rows`` labeled and TrainingFraction 0.95."""
    from posenb.project.config import read_config, write_config

    if workdir.exists():
        shutil.rmtree(workdir)
    config = build_project(workdir, identity)
    cfg = read_config(config)
    cfg["TrainingFraction"] = [0.95]
    write_config(config, cfg)
    _write_labels(config, lab, names, lab["coords"], rows)
    return config


def _update(config: str, lab, names, saved: np.ndarray, rows: list[int], iterations: int | None) -> dict:
    """The user presses "Update model": the labels of ``rows`` are saved, update_labeling_model runs."""
    from posenb.train.labeling_model import update_labeling_model

    _write_labels(config, lab, names, saved, rows)
    t0 = time.time()
    done = update_labeling_model(config, iterations=iterations, progress=False)
    return {"mode": done.mode, "iterations": done.iterations, "frames": done.frames,
            "minutes": round((time.time() - t0) / 60, 1)}  # fmt: skip


def _record(j: int, row: int, name: str, res: dict, without: int, model: str, seconds: float) -> dict:
    keep = ("clicks", "swaps", "id_errors", "matched", "extra")
    return {"frame": j + 1, "row": row, "image": name, "without": without, "model": model,
            "suggest_s": round(seconds, 2), "errors": [round(float(e), 3) for e in res["errors"]],
            **{k: int(res[k]) for k in keep}}  # fmt: skip


def _simulate(args, config: str, lab: dict, names: list[str], order: dict, run: dict) -> None:
    """Label ``order["next"]`` frame by frame with the suggester's help, updating the model every
    ``--retrain-every`` frames; ``run["frames"]`` and ``run["updates"]`` grow and are dumped as they do."""
    from posenb.infer.suggest import LabelSuggester

    suggester = LabelSuggester(config)
    truth, saved = lab["coords"], lab["coords"].copy()
    n_ind, n_parts = truth.shape[1:3]
    labeled = list(order["start"])
    for j, row in enumerate(order["next"]):
        t0 = time.time()
        got = suggester.suggest(Path("labeled-data", "clip", names[row]))
        seconds = time.time() - t0
        sugg = got[0][: n_ind * n_parts, :2].reshape(n_ind, n_parts, 2) if got is not None else None
        res = frame_clicks(sugg, truth[row])
        without = frame_clicks(None, truth[row])["clicks"]
        run["frames"].append(_record(j, row, names[row], res, without, suggester.describe(), seconds))
        saved[row] = res["saved"]
        labeled.append(row)
        _dump(args, run)
        k = args.retrain_every
        if k and (j + 1) % k == 0 and j + 1 < len(order["next"]):
            run["updates"].append(
                {"after": j + 1, **_update(config, lab, names, saved, labeled, args.update_iters)}
            )
            suggester.reload()
            _dump(args, run)


def _dump(args, run: dict) -> None:
    path = Path(args.workdir) / "frames.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(run, indent=1))
    tmp.replace(path)


def _first_model(args, config: str) -> dict:
    """create_training_dataset + train_network (``--maxiters`` each model); its iteration and minutes."""
    from posenb.data.trainingset import create_training_dataset
    from posenb.infer.suggest_model import newest_label_model
    from posenb.project.config import read_config
    from posenb.train.api import train_network

    create_training_dataset(config)
    t0 = time.time()
    train_network(config, maxiters=args.maxiters, progress=False)
    _, model = newest_label_model(read_config(config), 1, 0)
    return {"iterations": model["iteration"] if model else None, "minutes": round((time.time() - t0) / 60, 1)}


def run(args) -> dict:
    lab, names = _truth()
    perm = np.random.default_rng(args.seed).permutation(len(names))
    order = {"start": perm[: args.start].tolist(), "next": perm[args.start : args.start + args.next].tolist()}
    run = {"args": {k: v for k, v in vars(args).items() if k not in ("record", "from_json")},
           "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": load_average(),
           "machine": f"{cpu_model('?')}, {os.cpu_count()} cores", "frames": [], "updates": []}  # fmt: skip
    config = _project(Path(args.workdir), not args.no_identity, lab, names, order["start"])
    run["first_model"] = _first_model(args, config)
    _dump(args, run)
    _simulate(args, config, lab, names, order, run)
    run["ended"], run["load_end"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), load_average()
    _dump(args, run)
    return run


def _block_rows(frames: list[dict], k: int) -> list[str]:
    rows = []
    for a in range(0, len(frames), k or len(frames)):
        block = frames[a : a + (k or len(frames))]
        err = np.concatenate([np.asarray(f["errors"], float) for f in block])
        within = f"{np.mean(err <= ACCEPT_PX):.0%}" if len(err) else "-"
        ids = sum(f["id_errors"] for f in block), sum(f["matched"] for f in block)
        rows.append(f"| {a + 1}-{a + len(block)} | {np.mean([f['clicks'] for f in block]):.2f} | "
                    f"{np.mean([f['without'] for f in block]):.2f} | {within} | {ids[0]} of {ids[1]} | "
                    f"{block[0]['model']} |")  # fmt: skip
    return rows


def section(run: dict) -> str:
    """The RESULTS.md section of a run (``frames.json``'s content)."""
    a, frames, ups = run["args"], run["frames"], run["updates"]
    err = np.concatenate([np.asarray(f["errors"], float) for f in frames]) if frames else np.array([])
    cmd = (f"`nice -n 19 python benchmarks/bench_label_assist_ma.py --start {a['start']} --next {a['next']} "
           f"--maxiters {a['maxiters']} --retrain-every {a['retrain_every']} --update-iters {a['update_iters']}"
           + (" --no-identity" if a["no_identity"] else "") + "`")  # fmt: skip
    done = len(frames) == a["next"] and "ended" in run
    upd = "; ".join(f"after {u['after']}: {u['mode']}, {u['iterations']} it, {u['minutes']} min" for u in ups)
    lines = [
        SECTION, "",
        f"- Command: {cmd}; {run['started']} - {run.get('ended', 'not finished')}; {run['machine']}, shared "
        f"(other sessions' work), nice 19; load average {run['load_start']} at the start, "
        f"{run.get('load_end', '?')} at the end.",
        f"- Project: bench_ma_fly.py's fly2-sleap project (2 flies female / male, 13 parts, 1024x1024, "
        f"identity {not a['no_identity']}), {a['start']} labeled frames (seed {a['seed']}); first top-down model "
        f"(pose + centroid, default recipe) {run['first_model']['iterations']} iterations each "
        f"(--maxiters), {run['first_model']['minutes']} min.",
        f"- Updates (\"Update model\" every {a['retrain_every']} frames, update_labeling_model, "
        f"--update-iters per model): {upd or 'none'}.",
        f"- Labeled {len(frames)} of {a['next']} frames" + ("." if done else ": the run did not finish (the "
                                                             "figures are those of the frames labeled)."),
        "", "| | clicks per frame (2 x 13 points) |", "|---|---|",
        f"| without suggestions | {np.mean([f['without'] for f in frames]):.2f} |",
        f"| with suggestions | {np.mean([f['clicks'] for f in frames]):.2f} |", "",
        f"Suggested points of labeled parts: median error {np.median(err):.2f} px, {np.mean(err <= ACCEPT_PX):.0%} "
        f"within {ACCEPT_PX:.0f} px ({len(err)} points); animals in the wrong individual's slot: "
        f"{sum(f['id_errors'] for f in frames)} of {sum(f['matched'] for f in frames)} matched (swaps counted: "
        f"{sum(f['swaps'] for f in frames)}); suggested animals matched to none: {sum(f['extra'] for f in frames)}.",
        "", f"Per block of {a['retrain_every']} frames (the model the block's suggestions came from):", "",
        "| frames | clicks per frame | without | within 3 px | identity errors | model |",
        "|---|---|---|---|---|---|", *_block_rows(frames, a["retrain_every"]), "",
    ]  # fmt: skip
    return "\n".join(lines)


def record(text: str) -> None:
    """Replace the section in RESULTS.md, or insert it just before ``## History``."""
    old = RESULTS.read_text(encoding="utf-8")
    if SECTION in old or "\n## History" not in old:
        write_section(RESULTS, SECTION, text)
        return
    head, tail = old.split("\n## History", 1)
    RESULTS.write_text(head.rstrip("\n") + "\n\n" + text + "\n## History" + tail, encoding="utf-8")
    print(f"written to {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", default="/tmp/posenb-bench-assist-ma")
    parser.add_argument("--start", type=int, default=20)
    parser.add_argument("--next", type=int, default=30)
    parser.add_argument("--maxiters", type=int, default=600, help="first model: iterations of each model")
    parser.add_argument(
        "--retrain-every", type=int, default=10, help="'Update model' every K frames; 0: never"
    )
    parser.add_argument("--update-iters", type=int, default=300, help="iterations of each model per update")
    parser.add_argument("--no-identity", action="store_true", help="identity: false (slots by score)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--from-json", type=Path, help="write the section of an earlier run's frames.json")
    parser.add_argument("--record", action="store_true", help="write the section into benchmarks/RESULTS.md")
    args = parser.parse_args()
    if args.from_json is None and not (DATA / "fly2_train120.slp").is_file():
        sys.exit(f"fly2-sleap data not found at {DATA}")
    result = json.loads(args.from_json.read_text()) if args.from_json else run(args)
    text = section(result)
    print(text)
    if args.record:
        record(text)


if __name__ == "__main__":
    main()
