"""The multi-animal demo (``posenb demo --animals 2``): the multi-animal workflow on the synthetic mice project.

create project (two mice that touch and cross, labeled from the ground truth) → check labels → training set →
train briefly (centroid + centred-instance models) → evaluate (error after matching, mAP) → analyze the video and
track (per-frame animals → tracks, ``<video>DLC_<scorer>_el.h5``) → filter → plot per individual → labeled video
coloured by individual → skeleton per individual → identity-swap outlier frames, printing where each result went.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["run_ma_demo"]


def _step(title: str):
    print(f"\n== {title}", flush=True)
    return time.time()


def _newest(folder: Path, pattern: str) -> str:
    found = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
    return str(found[-1]) if found else ""


def run_ma_demo(
    workdir: str | os.PathLike = "posenb-demo-ma",
    animals: int = 2,
    unique: bool = False,
    maxiters: int = 300,
) -> dict:
    """Run the multi-animal workflow on the synthetic demo project; returns {stage: path written}.

    ``animals``: mice per frame (individuals ``mouse1``...); ``unique``: add a scene point (food, under
    "single"); ``maxiters``: training iterations of each of the two models (300: minutes on a 2-core CPU).
    """
    import posenb
    from posenb.demo.project_ma import MA_VIDEO_NAME
    from posenb.frames.outliers import extract_outlier_frames
    from posenb.project.config import read_config

    results: dict[str, str] = {}
    t = _step(f"1. Multi-animal demo project ({animals} synthetic mice that touch and cross)")
    config = posenb.make_demo_project(Path(workdir).expanduser().resolve(), animals=animals, unique=unique)
    project = Path(read_config(config)["project_path"])
    videos_dir = project / "videos"
    video = str(videos_dir / MA_VIDEO_NAME)
    results["project"] = config
    print(f"config: {config}  ({time.time() - t:.1f} s)")

    t = _step("2. Check labels (one colour per individual)")
    folders = posenb.check_labels(config)
    results["check_labels"] = str(folders[0]) if folders else ""
    print(f"labeled frames drawn in: {results['check_labels']}  ({time.time() - t:.1f} s)")

    t = _step("3. Training set")
    posenb.create_training_dataset(config, num_shuffles=1)
    results["training_set"] = str(project / "training-datasets")
    print(f"training set: {results['training_set']}  ({time.time() - t:.1f} s)")

    t = _step(f"4. Train (centroid model, then centred-instance model; {maxiters} iterations each)")
    train_dir = posenb.train_network(config, shuffle=1, maxiters=maxiters, displayiters=max(1, maxiters // 5),
                                     saveiters=maxiters)  # fmt: skip
    results["train"] = str(train_dir)
    print(f"snapshots in: {train_dir}  ({time.time() - t:.1f} s)")

    t = _step("5. Evaluate (error per animal after matching, mAP)")
    scores = posenb.evaluate_network(config, Shuffles=[1], plotting=True)
    results["evaluate"] = str(project / "evaluation-results")
    print(scores.to_string() if hasattr(scores, "to_string") else scores)
    print(f"evaluation: {results['evaluate']}  ({time.time() - t:.1f} s)")

    t = _step("6. Analyze the video and track the animals")
    posenb.analyze_videos(config, [video], shuffle=1, save_as_csv=True, auto_track=True)
    results["detections"] = _newest(videos_dir, "*_detections.h5")
    results["tracks"] = _newest(videos_dir, "*_el.h5")
    print(
        f"per-frame animals: {results['detections']}\ntracks: {results['tracks']}  ({time.time() - t:.1f} s)"
    )

    _post_stages(config, video, videos_dir, results)

    t = _step("11. Outlier frames (identity swaps) for the next labeling round")
    extract_outlier_frames(config, [video], shuffle=1, outlieralgorithm="swap", automatic=True)
    results["outliers"] = str(project / "labeled-data" / Path(video).stem)
    print(f"outlier frames + machinelabels in: {results['outliers']}  ({time.time() - t:.1f} s)")

    print("\nAll stages done. Results:")
    for key, value in results.items():
        print(f"  {key:14s} {value}")
    return results


def _post_stages(config: str, video: str, videos_dir: Path, results: dict) -> None:
    """Stages 7-10 on the tracked file: filter, plots, labeled video, skeleton (results: {stage: path})."""
    import posenb

    t = _step("7. Filter (median, per individual)")
    posenb.filterpredictions(config, [video], shuffle=1, filtertype="median")
    results["filter"] = _newest(videos_dir, "*_el_filtered.h5")
    print(f"filtered: {results['filter']}  ({time.time() - t:.1f} s)")

    t = _step("8. Plot trajectories (per individual)")
    posenb.plot_trajectories(config, [video], shuffle=1, filtered=True)
    results["plots"] = str(videos_dir / "plot-poses")
    print(f"plots: {results['plots']}  ({time.time() - t:.1f} s)")

    t = _step("9. Labeled video (coloured by individual, names shown)")
    posenb.create_labeled_video(config, [video], shuffle=1, filtered=True, color_by="individual",
                                individual_labels=True, draw_skeleton=True)  # fmt: skip
    results["labeled_video"] = _newest(videos_dir, "*_labeled.mp4")
    print(f"labeled video: {results['labeled_video']}  ({time.time() - t:.1f} s)")

    t = _step("10. Skeleton features (per individual)")
    posenb.analyzeskeleton(config, [video], shuffle=1, filtered=True, save_as_csv=True)
    results["skeleton"] = _newest(videos_dir, "*_skeleton.h5")
    print(f"skeleton: {results['skeleton']}  ({time.time() - t:.1f} s)")
