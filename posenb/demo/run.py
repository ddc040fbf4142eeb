"""The end-to-end demo (``posenb demo``): every stage of the workflow on the synthetic demo project.

create project → check labels → training set → train briefly → evaluate → analyze video → filter → plot →
labeled video → skeleton → outlier frames, printing where each result was written, then (optionally) serve
the dashboard with Voila on 127.0.0.1.
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
    serve: bool = True,
    port: int = 8866,
    net_type: str | None = None,
) -> dict:
    """Run the whole workflow on the demo project; returns {stage: path written}.

    Parameters
    ----------
    workdir : folder for the demo project (created).
    maxiters : training iterations (300 takes a few minutes on a 2-core CPU).
    serve : finally serve the full app with Voila on 127.0.0.1:``port`` (blocks until Ctrl-C).
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
    posenb.extract_outlier_frames(config, [video], shuffle=1, outlieralgorithm="jump", epsilon=15, automatic=True)
    results["outliers"] = str(project / "labeled-data" / "demo_mouse")
    print(f"outlier frames + machinelabels in: {results['outliers']}  ({time.time() - t:.1f} s)")

    print("\nAll stages done. Results:")
    for key, value in results.items():
        print(f"  {key:14s} {value}")
    if serve:
        serve_dashboard(config, port=port)
    return results


def _voila_data_dir() -> str | None:
    """The ``share/jupyter`` folder holding Voila's templates when it is not under this Python's prefix.

    Voila looks for its templates in Jupyter's data path, which starts at ``sys.prefix``; in a virtual environment
    created with ``--system-site-packages`` (a common setup on clusters) Voila comes from the base Python, whose
    ``share/jupyter`` is not on that path, and Voila stops with "No template sub-directory with name 'lab'".
    """
    import importlib.util
    import sys

    spec = importlib.util.find_spec("voila")
    if spec is None or not spec.origin:
        return None
    for prefix in Path(spec.origin).resolve().parents:
        data = prefix / "share" / "jupyter"
        if (data / "voila" / "templates").is_dir():
            inside = Path(sys.prefix).resolve() / "share" / "jupyter"
            return None if data == inside else str(data)
    return None


def serve_dashboard(config: str | None = None, port: int = 8866, ip: str = "127.0.0.1", app: str = "posenb_app") -> None:
    """Serve ``voila_apps/<app>.ipynb`` with Voila (blocks). Served beyond localhost, Jupyter's token stays on."""
    import subprocess
    import sys

    from posenb.widgets.apps import app_path

    env = dict(os.environ)
    if config:
        env["POSENB_CONFIG"] = str(Path(config).resolve())
    extra = _voila_data_dir()
    if extra is not None:
        env["JUPYTER_PATH"] = os.pathsep.join(p for p in (extra, env.get("JUPYTER_PATH", "")) if p)
    cmd = [sys.executable, "-m", "voila", str(app_path(app)), "--no-browser", f"--port={port}", f"--Voila.ip={ip}"]
    local = ip in ("127.0.0.1", "localhost", "::1")
    if not local:
        # Standalone Voila 0.5 serves without a token unless asked: beyond localhost, always require one.
        cmd.append("--token")
    print(f"\nServing the posenb dashboard: http://{ip}:{port}/  (Ctrl-C to stop)")
    if not local:
        print("Served beyond localhost with a token: open the URL ending in ?token=... that Voila prints.")
    print(f"From a laptop, forward the port first: ssh -L {port}:127.0.0.1:{port} user@server")
    try:
        subprocess.run(cmd, env=env, check=False)
    except KeyboardInterrupt:
        pass
