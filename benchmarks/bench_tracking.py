"""Multi-animal tracking: speed (frames/s of tracking alone) and quality against known truth.

Run by hand (not part of the tests)::

    python benchmarks/bench_tracking.py            # prints a Markdown report
    python benchmarks/bench_tracking.py --append   # ... and writes it as RESULTS.md's "## Tracking" section

Cases (per-frame animals in a random order each frame, as a detector lists them; posenb.track tracks them):

- ``mice 1500``: two synthetic mice (posenb.demo.synthetic_tracks), 1500 frames, 2 px noise, 5 % animals and
  10 % parts dropped, a false animal in 5 % of the frames, a 40-frame gap; with and without identity
  probabilities (mean 0.75 on the right animal);
- ``3 mice crowded``: three synthetic mice (60 px long) in a 260x220 px arena, 1000 frames, touching and
  overlapping all the time, 3 px noise (where motion alone swaps identities and identity probabilities must decide);
- ``fly dense``: the two flies of ../shared/data/fly2-sleap (SLEAP labels with identities, 120 frames between
  frame 21 and 1492), positions interpolated linearly between labeled frames (1472 frames), then perturbed the
  same way (1.5 px noise; the flies court and touch);
- ``fly labeled frames``: only the 120 labeled frames, 1 px noise (gaps of 1 to 31 frames between detections).

The whole fly clip with a trained model (the lead's measurement, once analyze_videos has written the files)::

    python benchmarks/bench_tracking.py --detections <dest>/clip<DLCscorer>_detections.h5   # tracks + scores
    python benchmarks/bench_tracking.py --tracked <dest>/clip<DLCscorer>_el.h5              # scores a file
    ... --config <fly project>/config.yaml [--shuffle 1 --trainingsetindex 0]   # + split by the model's training set

score the tracks on the 120 labeled frames of fly2_train120.slp (body parts matched by name, tracks to flies by
the metrics' matching): identity switches between labeled frames, flies missed, keypoint error. With
``--config`` (the project the model was trained in, e.g. bench_ma_fly.py's), the scores are also given apart on
the labeled frames in the shuffle's training split and on those NOT used for training (its test split, read from
the training set as evaluate_network does: posenb.data.ma_trainingset.split_frame_numbers); without it, all 120
frames count, and for a model trained on all of them their keypoint error is a training error.

Quality (posenb.track.tracking_metrics, CLEAR-MOT rules): identity switches, animal-frames missed (of those
the detector saw), identity recall, mean keypoint error. Speed: best of 3 wall times of
``track_detections`` (association + stitching), and CPU time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _common import cpu_model, cpu_seconds, load_average  # benchmarks/_common.py

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
FLY = REPO.parent / "shared" / "data" / "fly2-sleap" / "fly2_train120.slp"
RESULTS = REPO / "benchmarks" / "RESULTS.md"
SECTION = "## Tracking"


def fly_truth(dense: bool) -> tuple[np.ndarray, list[str], list[str]]:
    """(T, 2, 13, 2) true positions of the two flies, names, body parts; dense = interpolated between labels."""
    from posenb.formats.slp import _multi_animal_array

    d = _multi_animal_array(FLY)
    order = np.argsort(d["frame_indices"])
    frames, coords = d["frame_indices"][order], d["coords"][order]
    first, last = frames[0], frames[-1]
    T = last - first + 1
    out = np.full((T, *coords.shape[1:]), np.nan)
    if not dense:
        out[frames - first] = coords
        return out, d["individuals"], d["bodyparts"]
    grid = np.arange(first, last + 1)
    for k in range(coords.shape[1]):
        for p in range(coords.shape[2]):
            for c in range(2):
                v = coords[:, k, p, c]
                ok = np.isfinite(v)
                out[:, k, p, c] = np.interp(grid, frames[ok], v[ok])
    return out, d["individuals"], d["bodyparts"]


def cases():
    from posenb.demo.synthetic_tracks import detections_from_truth, simulate_detections

    mice = dict(n_frames=1500, n_animals=2, seed=3, noise=2.0, drop=0.05, part_drop=0.1, false_rate=0.05)
    for ident in (None, 0.75):
        d = simulate_detections(**mice, gaps=[(700, 740)], identity=ident)
        yield f"mice 1500, {'identity' if ident else 'no identity'}", d
    crowd = dict(
        n_frames=1000, n_animals=3, width=260, height=220, seed=0, noise=3.0, drop=0.05, part_drop=0.1
    )
    for ident in (None, 0.75):
        d = simulate_detections(**crowd, identity=ident)
        yield f"3 mice crowded (260x220 px arena), {'identity' if ident else 'no identity'}", d
    for dense in (True, False):
        truth_xy, names, parts = fly_truth(dense)
        noisy = dict(noise=1.5, drop=0.05, part_drop=0.1, false_rate=0.05) if dense else dict(noise=1.0)
        for ident in (None, 0.75):
            d = detections_from_truth(truth_xy, seed=5, identity=ident, **noisy)
            d["truth"] = np.concatenate([truth_xy, np.ones((*truth_xy.shape[:3], 1))], -1)
            d["individuals"], d["bodyparts"] = names, parts
            label = "fly dense" if dense else "fly labeled frames"
            d["params"] = {} if dense else {"min_length": 1}  # sparse detections: every one counts
            extra = "" if dense else ", min_length=1"
            yield f"{label} ({len(truth_xy)} frames{extra}), {'identity' if ident else 'no identity'}", d


def run_case(d: dict, repeat: int = 3) -> dict:
    from posenb.track import track_detections, tracking_metrics

    best = None
    for _ in range(repeat):
        c0, t0 = cpu_seconds(), time.perf_counter()
        res = track_detections(
            d["poses"],
            len(d["individuals"]),
            d["scores"],
            d["identity"],
            d["individuals"],
            **d.get("params", {}),
        )
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        if best is None or wall < best[0]:
            best = (wall, cpu, res)
    wall, cpu, res = best
    truth = d["truth"].copy()
    truth[~d["detected"]] = np.nan
    m = tracking_metrics(truth, res.tracks, bodyparts=d["bodyparts"])
    named = None
    if d["identity"] is not None:  # track k should be individual k
        dist = np.linalg.norm(res.tracks[..., :2] - d["truth"][..., :2], axis=-1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            on = np.nanmean(dist, -1) < m["max_distance"]
        named = float(on[d["detected"]].mean())
    T = len(d["poses"])
    return dict(m, wall=wall, cpu=cpu, fps=T / wall, T=T, tracklets=res.tracklets.n_tracklets, named=named)


def report() -> str:
    load0 = load_average()
    lines = [
        SECTION,
        "",
        f"Command: `python benchmarks/bench_tracking.py --append` ({dt.date.today().isoformat()}); machine: "
        f"{cpu_model(platform.processor() or platform.machine())}, load average before {load0}.",
        "",
        "Tracking alone (per-frame animals in a random order each frame -> tracklets -> tracks), best of 3 "
        "wall times; on a shared 2-core machine the CPU time (this process) says more than the wall time.",
        "",
        "| case | frames | wall s | frames/s | CPU s | frames/CPU s | tracklets | switches | missed "
        "| identity recall | right name | mean err px |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, d in cases():
        r = run_case(d)
        named = f"{100 * r['named']:.1f} %" if r["named"] is not None else "-"
        lines.append(
            f"| {name} | {r['T']} | {r['wall']:.2f} | {r['fps']:.0f} | {r['cpu']:.2f} | {r['T'] / r['cpu']:.0f} | "
            f"{r['tracklets']} | "
            f"{r['switches']} | {r['misses']} of {r['truth_animals']} | {r['identity_recall']:.4f} | {named} | "
            f"{r['mean_error']:.2f} |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        "missed: animal-frames the detector returned that no track holds (single-frame tracklets are left out "
        "by default). identity recall: share of animal-frames on the one track each animal is mapped to over the whole "
        "video (1 = nobody ever followed by another track). right name: with identity probabilities, share of "
        "animal-frames whose track carries the animal's own name. Truth of the fly cases: SLEAP labels of "
        "../shared/data/fly2-sleap (dense = linear interpolation between labeled frames), perturbed; the whole-clip "
        'measurement with a trained model, on its training and held-out frames apart, is under "Multi-animal '
        '(fly2-sleap)" below.',
        f"Load average after: {load_average()}.",
        "",
    ]
    return "\n".join(lines)


def labeled_truth(bodyparts) -> tuple[np.ndarray, np.ndarray]:
    """(frame indices (120,), truth (120, 2, P, 2)) of the fly labels, parts in the order of ``bodyparts``."""
    from posenb.formats.slp import _multi_animal_array

    d = _multi_animal_array(FLY)
    missing = [b for b in bodyparts if b not in d["bodyparts"]]
    if missing:
        raise SystemExit(f"body parts {missing} are not in {FLY.name} ({d['bodyparts']})")
    idx = [d["bodyparts"].index(b) for b in bodyparts]
    return d["frame_indices"], d["coords"][:, :, idx]


def score_file(detections: Path | None, tracked: Path | None, split: dict | None = None) -> str:
    """Track ``detections`` (timed) or read ``tracked``, and score the tracks on the labeled fly frames (and, with
    ``split`` = ``{"training frames": frame numbers, "held-out frames": frame numbers}``, on each part apart)."""
    from posenb.io.detections import read_detections
    from posenb.track import track_detections, tracking_metrics
    from posenb.track.files import read_tracked

    if detections is not None:
        det = read_detections(detections)
        c0, t0 = cpu_seconds(), time.perf_counter()
        res = track_detections(
            det["poses"], len(det["individuals"]), det["scores"], det["identity"], det["individuals"]
        )
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        tracks, parts, source = res.tracks, det["bodyparts"], detections.name
        speed = f"tracking {len(tracks)} frames: {wall:.2f} s wall, {cpu:.2f} s CPU ({len(tracks) / wall:.0f} frames/s)"
    else:
        df = read_tracked(tracked)
        inds = [i for i in dict.fromkeys(df.columns.get_level_values("individuals")) if i != "single"]
        parts = list(
            dict.fromkeys(df[df.columns.get_level_values(0)[0]][inds[0]].columns.get_level_values(0))
        )
        scorer = df.columns.get_level_values(0)[0]
        tracks = np.stack([df[scorer][i][parts].to_numpy().reshape(len(df), len(parts), 3) for i in inds], 1)
        source, speed = tracked.name, "(tracks read from the file)"
    frames, truth = labeled_truth(parts)
    frames_ok = frames < len(tracks)
    subsets = {"labeled frames": frames_ok}
    for name, numbers in (split or {}).items():
        subsets[name] = frames_ok & np.isin(frames, numbers)
    lines = [f"{source}: {speed}."]
    for name, keep in subsets.items():
        order = np.argsort(frames[keep])  # in time order: switches are counted between consecutive frames
        m = tracking_metrics(truth[keep][order], tracks[frames[keep][order]], bodyparts=parts)
        per_part = ", ".join(f"{p} {v:.1f}" for p, v in m["bodypart_error"].items())
        lines.append(
            f"- on the {int(keep.sum())} {name}: {m['switches']} identity switches, {m['misses']} of "
            f"{m['truth_animals']} flies missed, {m['false_positives']} false tracks, identity recall "
            f"{m['identity_recall']:.4f}, keypoint error mean {m['mean_error']:.2f} px / median "
            f"{m['median_error']:.2f} px (per part, px: {per_part})"
        )
    lines.append(f"Load average {load_average()}.")
    return "\n".join(lines)


def model_split(config: Path, shuffle: int = 1, trainingsetindex: int = 0, video_stem: str = "clip") -> dict:
    """``{"training frames": ..., "held-out frames": ...}`` clip frame numbers of the shuffle's split."""
    from posenb.data.ma_trainingset import split_frame_numbers
    from posenb.project.config import read_config

    train, test = split_frame_numbers(read_config(config), video_stem, shuffle, trainingsetindex)
    return {"training frames": train, "held-out frames (not used for training)": test}


def write_before_history(text: str) -> None:
    """Replace the ``## Tracking`` section of RESULTS.md, or insert it just before ``## History``."""
    old = RESULTS.read_text(encoding="utf-8")
    if SECTION + "\n" in old:
        start = old.index(SECTION + "\n")
        end = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text.rstrip("\n") + "\n\n" + (old[end + 1 :] if end >= 0 else "")
    elif "\n## History" in old:
        at = old.index("\n## History") + 1
        new = old[:at] + text.rstrip("\n") + "\n\n" + old[at:]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(new, encoding="utf-8")
    print(f"written to {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--append", action="store_true", help="write the report into benchmarks/RESULTS.md")
    parser.add_argument("--detections", type=Path, help="a fly clip _detections.h5 to track and score")
    parser.add_argument("--tracked", type=Path, help="a fly clip _el.h5 to score")
    parser.add_argument(
        "--config", type=Path, help="the model's project: score its training / held-out frames apart"
    )
    parser.add_argument("--shuffle", type=int, default=1)
    parser.add_argument("--trainingsetindex", type=int, default=0)
    args = parser.parse_args()
    if args.detections or args.tracked:
        split = model_split(args.config, args.shuffle, args.trainingsetindex) if args.config else None
        print(score_file(args.detections, args.tracked, split))
        return
    text = report()
    print(text)
    if args.append:
        write_before_history(text)


if __name__ == "__main__":
    main()
