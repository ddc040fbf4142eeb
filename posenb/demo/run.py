"""The end-to-end demo (``posenb demo``): every stage of the workflow on the synthetic demo project.

create project → check labels → training set → train briefly → evaluate → analyze video → filter → plot →
labeled video → skeleton → outlier frames, printing where each result was written. ``posenb demo`` then
serves the dashboard (:func:`posenb.widgets.serve.serve_dashboard`; the core never imports Jupyter packages).
The stages shared with the multi-animal demo are :mod:`posenb.demo.stages`.
"""

from __future__ import annotations

import os
from pathlib import Path

from posenb.demo import stages

__all__ = ["run_demo"]


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
    import posenb  # noqa: PLC0415
    from posenb.io.predictions import find_analyzed_data  # noqa: PLC0415
    from posenb.project.config import read_config  # noqa: PLC0415

    results: dict[str, str] = {}
    with stages.stage(
        "1. Demo project (synthetic video with known key points)", results, "project", "config"
    ):
        config = results["project"] = posenb.make_demo_project(Path(workdir).expanduser().resolve())
    project = Path(read_config(config)["project_path"])
    videos = project / "videos"
    stages.check_labels(config, results, "2. Check labels")
    stages.training_set(config, project, results, net_type=net_type)
    label = "snapshots and learning_stats.csv in"
    stages.train(config, results, f"4. Train ({maxiters} iterations)", maxiters, 10, label)
    stages.evaluate(config, project, results, "5. Evaluate")
    video = str(videos / "demo_mouse.mp4")
    with stages.stage("6. Analyze the video", results, "analyze", "predictions"):
        scorer = posenb.analyze_videos(config, [video], shuffle=1, save_as_csv=True)
        results["analyze"] = str(find_analyzed_data(videos, "demo_mouse", scorer=scorer))
    found = {
        "filter": lambda: str(find_analyzed_data(videos, "demo_mouse", scorer=scorer, filtered=True)),
        "plots": lambda: str(videos / "plot-poses" / "demo_mouse"),
        "labeled_video": lambda: _last(videos, "demo_mouse*_labeled.mp4"),
        "skeleton": lambda: _last(videos, "demo_mouse*_skeleton.h5"),
    }
    titles = [
        "7. Filter (median)",
        "8. Plot trajectories",
        "9. Labeled video (skeleton, trails)",
        "10. Skeleton features",
    ]
    stages.post_stages(config, video, results, titles, found, {"draw_skeleton": True, "trailpoints": 5})
    title = "11. Outlier frames (jump) for the next labeling round"
    folder = project / "labeled-data" / "demo_mouse"
    stages.outliers(config, video, folder, results, title, outlieralgorithm="jump", epsilon=15)
    return stages.summary(results)


def _last(folder: Path, pattern: str) -> str:
    found = sorted(folder.glob(pattern))
    return str(found[-1]) if found else ""
