"""The multi-animal demo (``posenb demo --animals 2``): the multi-animal workflow on the synthetic mice project.

create project (two mice that touch and cross, labeled from the ground truth) → check labels → training set →
train briefly (centroid + centred-instance models) → evaluate (error after matching, mAP) → analyze the video and
track (per-frame animals → tracks, ``<video>DLC_<scorer>_el.h5``) → filter → plot per individual → labeled video
coloured by individual → skeleton per individual → identity-swap outlier frames, printing where each result went.
"""

from __future__ import annotations

import os
from pathlib import Path

from posenb.demo import stages

__all__ = ["run_ma_demo"]


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
    import posenb  # noqa: PLC0415
    from posenb.demo.project_ma import MA_VIDEO_NAME  # noqa: PLC0415
    from posenb.project.config import read_config  # noqa: PLC0415

    results: dict[str, str] = {}
    title = f"1. Multi-animal demo project ({animals} synthetic mice that touch and cross)"
    with stages.stage(title, results, "project", "config"):
        workdir = Path(workdir).expanduser().resolve()
        config = results["project"] = posenb.make_demo_project(workdir, animals=animals, unique=unique)
    project = Path(read_config(config)["project_path"])
    videos_dir = project / "videos"
    video = str(videos_dir / MA_VIDEO_NAME)
    stages.check_labels(config, results, "2. Check labels (one colour per individual)")
    stages.training_set(config, project, results)
    title = f"4. Train (centroid model, then centred-instance model; {maxiters} iterations each)"
    stages.train(config, results, title, maxiters, 5, "snapshots in")
    stages.evaluate(config, project, results, "5. Evaluate (error per animal after matching, mAP)")
    with stages.stage("6. Analyze the video and track the animals", results, "tracks", "tracks"):
        posenb.analyze_videos(config, [video], shuffle=1, save_as_csv=True, auto_track=True)
        results["detections"] = stages.newest(videos_dir, "*_detections.h5")
        results["tracks"] = stages.newest(videos_dir, "*_el.h5")
        print(f"per-frame animals: {results['detections']}")
    titles = ["7. Filter (median, per individual)", "8. Plot trajectories (per individual)",
              "9. Labeled video (coloured by individual, names shown)", "10. Skeleton features (per individual)"]  # fmt: skip
    found = {
        "filter": lambda: stages.newest(videos_dir, "*_el_filtered.h5"),
        "plots": lambda: str(videos_dir / "plot-poses"),
        "labeled_video": lambda: stages.newest(videos_dir, "*_labeled.mp4"),
        "skeleton": lambda: stages.newest(videos_dir, "*_skeleton.h5"),
    }
    drawing = {"color_by": "individual", "individual_labels": True, "draw_skeleton": True}
    stages.post_stages(config, video, results, titles, found, drawing)
    title = "11. Outlier frames (identity swaps) for the next labeling round"
    folder = project / "labeled-data" / Path(video).stem
    stages.outliers(config, video, folder, results, title, outlieralgorithm="swap")
    return stages.summary(results)
