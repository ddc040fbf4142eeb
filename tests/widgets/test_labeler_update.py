"""The labeler's "Update model" button: labels saved first, the suggestion model trained in the background, the
suggester reloaded and the current image's suggestions asked again (tiny demo project, 2 iterations)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from posenb.widgets._background import JobFinished
from posenb.widgets._labeler_update import update_status_text

BP = ["snout", "leftear", "rightear", "tailbase"]


def _canvas(state, x, y):
    from posenb.widgets._canvas import image_to_canvas

    cx, cy = image_to_canvas(state.view, np.array([x]), np.array([y]))
    return float(cx[0]), float(cy[0])


def _click(lab, x, y):
    from posenb.widgets._canvas import CanvasEvent

    cx, cy = _canvas(lab.state, x, y)
    lab.handle(CanvasEvent(kind="down", x=cx, y=cy, button=0, buttons=1))
    lab.handle(CanvasEvent(kind="up", x=cx, y=cy, button=0, buttons=0))


def test_status_lines_of_the_update_job():
    from posenb.train.events import TrainingEvent
    from posenb.train.labeling_model import LabelingModelUpdate

    assert "iteration 5 of 40" in update_status_text(TrainingEvent("display", 5, 40, loss=0.5))
    assert update_status_text(TrainingEvent("snapshot", 5, 40)) is None
    done = LabelingModelUpdate("warm start", Path("t"), Path("t/snapshot-40.pt"), None, 12, 3, 40)
    assert "12 labeled frames, 3 new" in update_status_text(JobFinished(result=done))
    assert "snapshot-40" in update_status_text(JobFinished(result=done))
    assert "failed: ConfigError: x" in update_status_text(JobFinished(error="ConfigError: x"))


def test_update_model_button_saves_trains_and_refreshes_suggestions(demo_project):
    pytest.importorskip("ipycanvas")
    from posenb.io.labels import labels_to_array, read_labels, write_labels
    from posenb.nn.snapshots import load_snapshot
    from posenb.project.config import read_config
    from posenb.widgets.labeler import Labeler

    cfg = read_config(demo_project)
    project = Path(cfg["project_path"])
    h5 = project / "labeled-data" / "demo_mouse" / "CollectedData_posenb.h5"
    truth_df = read_labels(h5)
    truth = labels_to_array(truth_df, BP)
    write_labels(truth_df.iloc[:6], h5, backup=False)  # images 6.. are not labeled yet
    conf = yaml.safe_load(Path(demo_project).read_text())
    conf["pcutoff"] = 0.0  # a 2-iteration model is unsure of everything: show all its guesses
    Path(demo_project).write_text(yaml.safe_dump(conf, sort_keys=False))

    lab = Labeler(demo_project)
    lab.go_to(6)
    assert lab._suggest_source.get(6) != "model"  # no model yet: carried from image 5, or nothing
    _click(lab, *truth[6, 0])  # the snout of image 6, by hand: not saved yet
    assert lab.state.dirty
    lab.update_iterations = 2
    job = lab.update_model()
    assert job is not None and lab.update_button.description == "Stop update"
    assert job.join(300), "the update did not finish"
    assert job.error is None, job.error_text
    # the labels were saved before the training read them
    saved = read_labels(h5)
    image6 = truth_df.index[6]
    assert image6 in saved.index and not lab.state.dirty
    snap = project / "labeling-model" / "train" / "snapshot-2.pt"
    assert snap.is_file()
    assert "/".join(image6) in load_snapshot(snap)["label_digest"]  # the model learnt the new label
    # the suggester reloaded the new model and image 6's other parts got its suggestions
    assert lab.suggester.model["source"] == "labeling model" and lab.suggester.model["snapshot"] == str(snap)
    assert lab._suggest_source[6] == "model"
    shown = lab.state.suggestions[6]
    assert np.isfinite(shown[1:]).all()
    assert "Model updated" in lab.update_status.value and "snapshot-2" in lab.update_status.value
    assert lab.update_button.description == "Update model"
    assert "suggested (model) — labeling model, snapshot-2" in lab.status.value  # which model the user sees
    lab.next_button.click()  # a later image: suggestions from the new model too
    assert lab._suggest_source[7] == "model"


def test_update_model_button_on_a_multi_animal_project(tmp_path):
    """The same button trains the multi-animal (top-down) labeling model: both networks, from scratch here (no
    shuffle yet), and the labeler's suggestions then come from it in the label table's slots."""
    pytest.importorskip("ipycanvas")
    from _ma_project import BODYPARTS, INDIVIDUALS, UNIQUE, make_ma_project, truth

    from posenb.io.label_arrays import table_to_arrays
    from posenb.io.labels import read_labels
    from posenb.nn.snapshots import load_snapshot
    from posenb.widgets.labeler import Labeler

    config, folder = make_ma_project(tmp_path, n_images=6, n_labeled=4)
    animals, _ = truth(6)
    lab = Labeler(config)
    lab.go_to(4)
    assert lab._suggest_source.get(4) != "model"  # no model yet
    _click(lab, *animals[4, 0, 0])  # the first individual's head on image 4, by hand: not saved yet
    assert lab.state.dirty
    lab.update_iterations = 2
    job = lab.update_model()
    assert job is not None and job.join(300), "the update did not finish"
    assert job.error is None, job.error_text
    saved = read_labels(folder / "CollectedData_tester.h5")
    row = list(saved.index).index(("labeled-data", "clip", "img004.png"))
    points = table_to_arrays(saved, BODYPARTS, INDIVIDUALS, UNIQUE).points
    np.testing.assert_allclose(points[row, 0, 0], animals[4, 0, 0], atol=0.01)
    train = Path(config).parent / "labeling-model" / "train"
    snap = train / "snapshot-2.pt"
    assert snap.is_file() and (train / "centroid" / "snapshot-2.pt").is_file()
    assert "labeled-data/clip/img004.png" in load_snapshot(snap)["label_digest"]
    assert job.result.mode == "from scratch" and job.result.frames == 5
    assert lab.suggester.model["source"] == "labeling model" and lab.suggester.model["snapshot"] == str(snap)
    assert lab._suggest_source[4] == "model"
    n_slots = len(INDIVIDUALS) * len(BODYPARTS) + len(UNIQUE)
    assert lab.state.suggestions[4].shape == (n_slots, 2)
    status = lab.update_status.value
    assert "Model updated" in status and "Suggestions: labeling model, snapshot-2" in status
    assert lab.update_button.description == "Update model"
