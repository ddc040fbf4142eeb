"""The stages both end-to-end demos share (``posenb demo`` and ``posenb demo --animals 2``).

Each stage prints its title, runs one public function, records where its result went in ``results`` (``{stage:
path}``) and prints that path with the seconds it took (:func:`stage`). The single-animal demo
(:mod:`posenb.demo.run`) and the multi-animal one (:mod:`posenb.demo.run_ma`) differ only in their arguments and
in the files they point at.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

__all__ = [
    "stage",
    "newest",
    "check_labels",
    "training_set",
    "train",
    "evaluate",
    "post_stages",
    "outliers",
    "summary",
]


@contextlib.contextmanager
def stage(title: str, results: dict, key: str, label: str):
    """Print ``== title``; the body stores its result path in ``results[key]``; then ``label: path (seconds)``."""
    print(f"\n== {title}", flush=True)
    t = time.time()
    yield
    print(f"{label}: {results[key]}  ({time.time() - t:.1f} s)")


def newest(folder: Path, pattern: str) -> str:
    """The most recently written file of ``folder`` matching ``pattern`` ("" when none)."""
    found = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
    return str(found[-1]) if found else ""


def check_labels(config: str, results: dict, title: str) -> None:
    import posenb  # noqa: PLC0415

    with stage(title, results, "check_labels", "labeled frames drawn in"):
        folders = posenb.check_labels(config)
        results["check_labels"] = str(folders[0]) if folders else ""


def training_set(config: str, project: Path, results: dict, **kwargs) -> None:
    import posenb  # noqa: PLC0415

    with stage("3. Training set", results, "training_set", "training set"):
        posenb.create_training_dataset(config, num_shuffles=1, **kwargs)
        results["training_set"] = str(project / "training-datasets")


def train(config: str, results: dict, title: str, maxiters: int, displays: int, label: str) -> None:
    """Train shuffle 1 for ``maxiters`` iterations, ``displays`` loss lines, one snapshot at the end."""
    import posenb  # noqa: PLC0415

    with stage(title, results, "train", label):
        every = max(1, maxiters // displays)
        results["train"] = str(
            posenb.train_network(config, shuffle=1, maxiters=maxiters, displayiters=every, saveiters=maxiters)
        )


def evaluate(config: str, project: Path, results: dict, title: str) -> None:
    import posenb  # noqa: PLC0415

    with stage(title, results, "evaluate", "evaluation"):
        scores = posenb.evaluate_network(config, Shuffles=[1], plotting=True)
        results["evaluate"] = str(project / "evaluation-results")
        print(scores.to_string() if hasattr(scores, "to_string") else scores)


def post_stages(
    config: str, video: str, results: dict, titles: list[str], found: dict, labeled_video: dict
) -> None:
    """Stages 7-10 on the analysis of ``video``: median filter, trajectory plots, labeled video (arguments
    ``labeled_video``), skeleton features. ``titles``: the four titles; ``found``: a function per stage
    (``filter``, ``plots``, ``labeled_video``, ``skeleton``) returning the path it wrote."""
    import posenb  # noqa: PLC0415

    with stage(titles[0], results, "filter", "filtered"):
        posenb.filterpredictions(config, [video], shuffle=1, filtertype="median")
        results["filter"] = found["filter"]()
    with stage(titles[1], results, "plots", "plots"):
        posenb.plot_trajectories(config, [video], shuffle=1, filtered=True)
        results["plots"] = found["plots"]()
    with stage(titles[2], results, "labeled_video", "labeled video"):
        posenb.create_labeled_video(config, [video], shuffle=1, filtered=True, **labeled_video)
        results["labeled_video"] = found["labeled_video"]()
    with stage(titles[3], results, "skeleton", "skeleton"):
        posenb.analyzeskeleton(config, [video], shuffle=1, filtered=True, save_as_csv=True)
        results["skeleton"] = found["skeleton"]()


def outliers(config: str, video: str, folder: Path, results: dict, title: str, **kwargs) -> None:
    """Extract outlier frames automatically (the core function: ``posenb.extract_outlier_frames`` is its
    widgets-level wrapper, for the manual mode)."""
    from posenb.frames.outliers import extract_outlier_frames  # noqa: PLC0415

    with stage(title, results, "outliers", "outlier frames + machinelabels in"):
        extract_outlier_frames(config, [video], shuffle=1, automatic=True, **kwargs)
        results["outliers"] = str(folder)


def summary(results: dict) -> dict:
    """Print every stage's result path; returns ``results``."""
    print("\nAll stages done. Results:")
    for key, value in results.items():
        print(f"  {key:14s} {value}")
    return results
