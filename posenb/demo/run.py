"""The end-to-end demo (``posenb demo``): every stage of the workflow on the synthetic demo project.

create project → check labels → training set → train briefly → evaluate → analyze video → filter → plot →
labeled video → skeleton → outlier frames, printing where each result was written. ``posenb demo`` then
serves the dashboard (:func:`posenb.widgets.serve.serve_dashboard`; the core never imports Jupyter packages).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["run_demo"]


def _step(title: str):
    print(f"\n== {title}", flush=True)
    return time.time()


def run_demo(
    workdir: str | os.PathLike = "posenb-demo",
    maxiters: int = 300,
    net_type: str | None = None,
) -> dict:
    """Run the whole workflow on the demo project; returns {stage: path written}.

    Parameters
    ----------
    workdir : folder for the demo project (created).
    maxiters : training iterations (300 takes a few minutes on a 2-core CPU).
    net_type : backbone (default: posenb.yaml's net_type, else posenb's efficientnet-lite0).
    """
    import posenb
    from posenb.project.config import read_config

    results: dict[str, str] = {}
    workdir = Path(workdir).expanduser().resolve()

    t = _step("1. Demo project (synthetic video with known key points)")
    config = posenb.make_demo_project(workdir)
    cfg = read_config(config)
    project = Path(cfg["project_path"])
    results["project"] = config
    print(f"config: {config}  ({time.time() - t:.1f} s)")

    t = _step("2. Check labels")
    folders = posenb.check_labels(config)
    results["check_labels"] = str(folders[0]) if folders else ""
    print(f"labeled frames drawn in: {results['check_labels']}  ({time.time() - t:.1f} s)")

    t = _step("3. Training set")
    posenb.create_training_dataset(config, num_shuffles=1, net_type=net_type)
    results["training_set"] = str(project / "training-datasets")
    print(f"training set: {results['training_set']}  ({time.time() - t:.1f} s)")

    t = _step(f"4. Train ({maxiters} iterations)")
    train_dir = posenb.train_network(config, shuffle=1, maxiters=maxiters, displayiters=max(1, maxiters // 10),
                                     saveiters=maxiters)
    results["train"] = str(train_dir)
    print(f"snapshots and learning_stats.csv in: {train_dir}  ({time.time() - t:.1f} s)")

    t = _step("5. Evaluate")
    scores = posenb.evaluate_network(config, Shuffles=[1], plotting=True)
    results["evaluate"] = str(project / "evaluation-results")
    print(scores.to_string() if hasattr(scores, "to_string") else scores)
    print(f"evaluation: {results['evaluate']}  ({time.time() - t:.1f} s)")

    video = str(project / "videos" / "demo_mouse.mp4")
    t = _step("6. Analyze the video")
    scorer = posenb.analyze_videos(config, [video], shuffle=1, save_as_csv=True)
    from posenb.io.predictions import find_analyzed_data

    h5 = find_analyzed_data(project / "videos", "demo_mouse", scorer=scorer)
    results["analyze"] = str(h5)
    print(f"predictions: {h5}  ({time.time() - t:.1f} s)")

    t = _step("7. Filter (median)")
    posenb.filterpredictions(config, [video], shuffle=1, filtertype="median")
    results["filter"] = str(find_analyzed_data(project / "videos", "demo_mouse", scorer=scorer, filtered=True))
    print(f"filtered: {results['filter']}  ({time.time() - t:.1f} s)")

    t = _step("8. Plot trajectories")
    posenb.plot_trajectories(config, [video], shuffle=1, filtered=True)
    results["plots"] = str(project / "videos" / "plot-poses" / "demo_mouse")
    print(f"plots: {results['plots']}  ({time.time() - t:.1f} s)")

    t = _step("9. Labeled video (skeleton, trails)")
    posenb.create_labeled_video(config, [video], shuffle=1, filtered=True, draw_skeleton=True, trailpoints=5)
    labeled = sorted((project / "videos").glob("demo_mouse*_labeled.mp4"))
    results["labeled_video"] = str(labeled[-1]) if labeled else ""
    print(f"labeled video: {results['labeled_video']}  ({time.time() - t:.1f} s)")

    t = _step("10. Skeleton features")
    posenb.analyzeskeleton(config, [video], shuffle=1, filtered=True, save_as_csv=True)
    skel = sorted((project / "videos").glob("demo_mouse*_skeleton.h5"))
    results["skeleton"] = str(skel[-1]) if skel else ""
    print(f"skeleton: {results['skeleton']}  ({time.time() - t:.1f} s)")

    t = _step("11. Outlier frames (jump) for the next labeling round")
    # the core function (posenb.extract_outlier_frames is its widgets-level wrapper, for the manual mode)
    from posenb.frames.outliers import extract_outlier_frames

    extract_outlier_frames(config, [video], shuffle=1, outlieralgorithm="jump", epsilon=15, automatic=True)
    results["outliers"] = str(project / "labeled-data" / "demo_mouse")
    print(f"outlier frames + machinelabels in: {results['outliers']}  ({time.time() - t:.1f} s)")

    print("\nAll stages done. Results:")
    for key, value in results.items():
        print(f"  {key:14s} {value}")
    return results
