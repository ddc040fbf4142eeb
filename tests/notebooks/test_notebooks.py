"""Execute every notebooks/*.ipynb (in workflow order, sharing one work folder) and voila_apps/*.ipynb with
nbclient on the tiny demo project (POSENB_FAST=1), check the files each one made (:data:`PRODUCES`) and the panel
each dashboard shows, and check that all of them are stored without outputs."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
APPS = sorted((REPO / "voila_apps").glob("*.ipynb"))
SHARED_DATA = Path(os.environ.get("POSENB_SHARED_DATA", REPO.parent / "shared" / "data"))
TIMEOUT_S = 600
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# notebook -> files (globs under the shared work folder) that running it must have made
PRODUCES = {
    "01_create_project": [
        "**/config.yaml",
        "demo/*/videos/*.mp4",
        "demo/*/labeled-data/*/CollectedData_*.h5",
    ],
    "02_extract_frames": ["**/labeled-data/mouse/img*.png"],
    "03_label_frames": ["**/labeled-data/*_labeled/*.png"],
    "04_train": [
        "demo/*/dlc-models/iteration-0/*/train/snapshot-*.pt",
        "demo/*/dlc-models/iteration-0/*/train/learning_stats.csv",
    ],
    "05_evaluate": ["demo/*/evaluation-results/iteration-0/*/*-results.csv"],
    "06_analyze_and_filter": [
        "demo/*/videos/*_filtered.h5",
        "demo/*/videos/*_labeled.mp4",
        "demo/*/videos/plot-poses/*/*.png",
    ],
    "07_refine_and_merge": [
        "demo/*/labeled-data/*/machinelabels-iter0.h5",
        "demo/*/training-datasets/iteration-1/*/*",
    ],
    "08_multi_animal": [
        "mice-*/labeled-data/mice_labeled/*.png",
        "mice-*/dlc-models/iteration-0/*/train/snapshot-*.pt",
        "mice-*/evaluation-results/iteration-0/*/*-results.csv",
        "mice-*/videos/mice*_detections.h5",
        "mice-*/videos/mice*_el.h5",
        "mice-*/videos/mice*_el.h5.bak",
        "mice-*/videos/mice*_el_filtered.h5",
        "mice-*/videos/plot-poses/mice/*mouse2.png",
        "mice-*/videos/mice*_id_labeled.mp4",
        "mice-*/training-datasets/iteration-1/*/*",
    ],
    "10_openfield_example": [  # only run when ../shared/data has the open-field project (else skipped)
        "openfield/*/labeled-data/m4s1_labeled/*.png",
        "openfield/*/dlc-models/iteration-*/*/train/snapshot-*.pt",
        "openfield/*/videos/m3v1clipDLC*.h5",
        "openfield/*/videos/plot-poses/m3v1clip/*.png",
    ],
}


def _run(path: Path, env: dict, monkeypatch) -> float:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    t = time.monotonic()
    client.execute()  # raises CellExecutionError naming the cell and its traceback
    return time.monotonic() - t, nb


def _made(workdir: Path, stem: str) -> None:
    """Every file pattern of PRODUCES[stem] matches at least one non-empty file in ``workdir``."""
    missing = [g for g in PRODUCES.get(stem, []) if not any(p.stat().st_size for p in workdir.glob(g))]
    assert not missing, f"{stem} did not make {missing} under {workdir}"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """One work folder for all step-through notebooks, so each finds what the previous ones made."""
    return tmp_path_factory.mktemp("notebooks")


def _env(**extra) -> dict:
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {"POSENB_FAST": "1", "PYTHONPATH": pythonpath, "MPLBACKEND": "Agg", **extra}


def test_notebooks_are_stored_without_outputs():
    assert NOTEBOOKS and APPS
    for path in NOTEBOOKS + APPS:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [], f"{path.name}: strip the outputs"
                assert cell.get("execution_count") is None, f"{path.name}: clear the execution counts"
        assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_notebooks_in_workflow_order():
    names = [p.stem for p in NOTEBOOKS]
    for expected in (
        "01_create_project",
        "02_extract_frames",
        "03_label_frames",
        "04_train",
        "05_evaluate",
        "06_analyze_and_filter",
        "07_refine_and_merge",
        "08_multi_animal",
        "10_openfield_example",
    ):
        assert expected in names
    assert names == sorted(names)


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, workdir, monkeypatch):
    if "openfield" in path.stem:
        if not (SHARED_DATA / "openfield-Pranav-2018-10-30" / "config.yaml").exists():
            pytest.skip(f"{SHARED_DATA} is not available")
        monkeypatch.setenv("POSENB_SHARED_DATA", str(SHARED_DATA))
    seconds, nb = _run(path, _env(POSENB_WORKDIR=str(workdir)), monkeypatch)
    print(f"{path.name}: {seconds:.1f} s")
    _made(workdir, path.stem)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs and not [o for o in outputs if o.get("output_type") == "error"]
    if path.stem in CHECKS:
        CHECKS[path.stem](workdir, nb)


def _text(cell) -> str:
    """Everything a code cell showed: streams, results' plain text, widget views' model ids excluded."""
    parts = [o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])]
    return " ".join(parts)


def _shows_widget(cell) -> bool:
    return any(WIDGET_VIEW in o.get("data", {}) for o in cell.get("outputs", []))


def _point(df, individual: str, bodypart: str):
    """The coords columns (x, y[, likelihood]) of one individual's body part of a 4-level table."""
    return df.xs((individual, bodypart), level=("individuals", "bodyparts"), axis=1).droplevel(0, axis=1)


def _check_multi_animal(workdir: Path, nb) -> None:
    """08_multi_animal: the tracked file holds both mice (found by the briefly trained model), the labels the
    food pellet under "single", the proofreading edits reached the _el.h5 (the .bak is the tracker's version) and the training set,
    the labeled video has every frame, and the panels were shown."""
    import numpy as np

    from posenb.demo.synthetic_multi import simulate_animals
    from posenb.io.labels import read_labels
    from posenb.io.video import probe_video
    from posenb.project.paths import frame_index
    from posenb.track.files import read_tracked

    project = next(workdir.glob("mice-me-*"))
    truth = simulate_animals(60, 128, 96, 2, 0)["keypoints"]  # the notebook's FAST video
    el = next(p for p in (project / "videos").glob("mice*_el.h5"))
    df = read_tracked(el)
    # the animals' tracks, then the unique part (food) predicted once per frame under "single"
    assert list(df.columns.unique("individuals")) == ["mouse1", "mouse2", "single"] and len(df) == 60
    assert list(
        df.loc[:, df.columns.get_level_values("individuals") == "single"].columns.unique("bodyparts")
    ) == ["food"]
    x = df.xs("x", level="coords", axis=1).droplevel(0, axis=1)
    for mouse in ("mouse1", "mouse2"):  # 80 iterations find the animals (40 did on one host, not on another)
        assert np.isfinite(x[mouse].to_numpy()).any(axis=1).mean() > 0.5, f"{mouse} is missing on most frames"
    snout = _point(df, "mouse1", "snout").loc[25, ["x", "y"]].to_numpy(float)
    np.testing.assert_allclose(snout, truth[25, 0, 0])  # the point set in the proofreading panel, saved
    old = _point(read_tracked(el.with_name(el.name + ".bak")), "mouse1", "snout").loc[25, ["x", "y"]]
    assert not np.allclose(old.to_numpy(float), snout), "the .bak should be the tracker's version"
    labels = read_labels(project / "labeled-data" / "mice" / "CollectedData_me.h5")
    rows = {frame_index(name): i for i, name in enumerate(labels.index.get_level_values(2))}
    assert 25 in rows and len(rows) >= 12  # the 12 extracted frames (+ frame 25 when k-means did not pick it)
    food = labels.xs(("single", "food"), level=("individuals", "bodyparts"), axis=1)
    assert food.notna().all(axis=1).sum() >= 12  # the pellet (the unique part) on the labeled frames
    sent = _point(labels, "mouse1", "snout").iloc[rows[25]].to_numpy(float)
    np.testing.assert_allclose(sent, truth[25, 0, 0], atol=1e-6)
    video = next((project / "videos").glob("mice*_id_labeled.mp4"))
    assert probe_video(video) == (128, 96, 60)
    code = {c.source.split("\n")[0]: c for c in nb.cells if c.cell_type == "code"}
    shown = [first for first, c in code.items() if _shows_widget(c)]
    for panel in ("labeler =", "proofreader =", "from posenb.widgets.trajectory_viewer"):
        assert any(first.startswith(panel) for first in shown), f"{panel} shows no widget"
    text = " ".join(_text(c) for c in code.values())
    assert "animals missed" in text and "'mouse1', 'mouse2'" in text
    undone = _text(code["editor = proofreader.editor"])
    assert "suspicious places" in undone and "swap mouse1 <-> mouse2 on frames 10-19" not in undone
    assert "iteration: 1" in text


CHECKS = {"08_multi_animal": _check_multi_animal}  # notebook -> further checks of what it made and showed


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("path", APPS, ids=[p.stem for p in APPS])
def test_voila_app_runs(path, demo_project, monkeypatch):
    seconds, nb = _run(path, _env(POSENB_CONFIG=demo_project), monkeypatch)
    print(f"{path.name}: {seconds:.1f} s")
    # the dashboard's last cell shows its panel: a widget view, and no error text
    last = [c for c in nb.cells if c.cell_type == "code"][-1]
    views = [
        o for o in last.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert views, f"{path.name} shows no widget: {last.get('outputs')}"
    text = " ".join(str(o.get("text", "")) for o in last.get("outputs", []))
    assert "Error" not in text and "Traceback" not in text, text
