"""RefinementEditor without a browser: machine labels of outlier frames, drag / delete / undo / invalid, save
as human labels (DLC's refinement contract), merge_datasets."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("ipycanvas")
pytest.importorskip("ipyevents")

import posenb  # noqa: E402
from posenb.demo import read_ground_truth  # noqa: E402
from posenb.io.labels import read_labels  # noqa: E402
from posenb.post.refine import CONFIDENT, HUMAN, UNCERTAIN  # noqa: E402
from posenb.project.config import read_config  # noqa: E402
from posenb.project.paths import frame_name  # noqa: E402
from posenb.widgets._canvas import image_to_canvas  # noqa: E402
from posenb.widgets.refiner import RefinementEditor, changed_points  # noqa: E402

MACHINE_FRAMES = [2, 8, 30]
LIKELIHOOD = [0.9, 0.3, 0.95, 0.1]


def _add_machine_labels(config):
    """What extract_outlier_frames leaves: PNGs of 3 new frames + machinelabels-iter0.h5 (+ .csv)."""
    import cv2

    from posenb.io.video import open_video

    cfg = read_config(config)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    truth = read_ground_truth(config)
    reader = open_video(Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4")
    names = []
    for f in MACHINE_FRAMES:
        name = frame_name(f, reader.n_frames)
        cv2.imwrite(str(folder / name), cv2.cvtColor(reader.read(f), cv2.COLOR_RGB2BGR))
        names.append(name)
    reader.close()
    scorer = "DLC_resnet50_demoshuffle1_30"
    cols = pd.MultiIndex.from_product(
        [[scorer], cfg["bodyparts"], ["x", "y", "likelihood"]], names=["scorer", "bodyparts", "coords"]
    )
    arr = np.concatenate(
        [truth[MACHINE_FRAMES] + 2.0, np.broadcast_to(np.array(LIKELIHOOD)[None, :, None], (3, 4, 1))], axis=2
    )
    index = pd.MultiIndex.from_tuples([("labeled-data", "demo_mouse", n) for n in names])
    df = pd.DataFrame(arr.reshape(3, 12), columns=cols, index=index)
    df.to_hdf(folder / "machinelabels-iter0.h5", key="df_with_missing", mode="w")
    df.to_csv(folder / "machinelabels.csv")
    return folder, names, arr


def _mouse(editor, kind, x, y, button=0, buttons=1):
    cx, cy = image_to_canvas(editor.state.view, x, y)
    editor.image_canvas._dispatch(
        {"type": kind, "button": button, "buttons": buttons, "relativeX": float(cx), "relativeY": float(cy)}
    )


def test_changed_points():
    a = np.full((2, 3, 2), np.nan)
    b = a.copy()
    b[1, 2] = (1, 2)
    assert changed_points(a, b) == [(1, 2)]
    assert changed_points(b, b.copy()) == []


def test_refine_save_merge(demo_project):
    folder, names, arr = _add_machine_labels(demo_project)
    editor = posenb.refine_labels(demo_project)
    assert isinstance(editor, RefinementEditor)
    assert editor.folder_select.value == "demo_mouse"
    assert len(editor.session) == 12 + 3
    assert editor.threshold.value == 0.5  # config pcutoff
    # it opens on the first machine-labelled frame; the image list marks the frames to correct
    assert editor.state.images[editor.state.frame] == names[0]
    marked = [label for label, _ in editor.image_select.options if label.endswith("(machine)")]
    assert marked == [f"{n}  (machine)" for n in names]
    editor.go_to(editor.state.images.index(names[0]))
    assert editor.state.images[editor.state.frame] == "img02.png"
    # below the threshold: open circles; above: discs
    d = editor.drawing
    assert d.parts.tolist() == [0, 1, 2, 3]
    assert d.hollow.tolist() == [False, True, False, True]
    editor.threshold.value = 0.2
    assert editor.drawing.hollow.tolist() == [False, False, False, True]
    # drag the snout 5 px to the right
    x0, y0 = arr[0, 0, :2]
    _mouse(editor, "mousedown", x0, y0)
    _mouse(editor, "mousemove", x0 + 5, y0)
    _mouse(editor, "mouseup", x0 + 5, y0, buttons=0)
    i = editor.session.row("img02.png")
    assert editor.session.xy[i, 0] == pytest.approx([x0 + 5, y0], abs=1e-6)
    assert editor.session.classify(0.2)[i].tolist() == [HUMAN, CONFIDENT, CONFIDENT, UNCERTAIN]
    assert editor.drawing.human.tolist() == [True, False, False, False]
    # right-click deletes the left ear; Ctrl-Z brings it back with its machine likelihood
    xl, yl = arr[0, 1, :2]
    _mouse(editor, "mousedown", xl, yl, button=2, buttons=2)
    assert np.isnan(editor.session.xy[i, 1]).all()
    editor.image_canvas._dispatch({"type": "keydown", "key": "z", "ctrlKey": True})
    assert editor.session.xy[i, 1] == pytest.approx(arr[0, 1, :2])
    assert editor.session.likelihood[i, 1] == pytest.approx(0.3)
    # right-click the tail base for good
    _mouse(editor, "mousedown", *arr[0, 3, :2], button=2, buttons=2)
    # frame img08 is invalid
    editor.go_to(editor.state.images.index("img08.png"))
    editor.invalid_button.click()
    assert "img08.png" not in editor.state.images and len(editor.session) == 14
    editor.save_button.click()
    assert "Saved 14 frames" in editor.status_text
    labels = read_labels(folder / "CollectedData_posenb.h5")
    assert list(labels.columns.get_level_values(0).unique()) == ["posenb"]
    assert "likelihood" not in labels.columns.get_level_values(2)
    img02 = labels.loc[("labeled-data", "demo_mouse", "img02.png")]
    assert img02[("posenb", "snout", "x")] == pytest.approx(x0 + 5)
    assert img02[("posenb", "leftear", "x")] == pytest.approx(arr[0, 1, 0])
    assert np.isnan(img02[("posenb", "tailbase", "x")])
    assert ("labeled-data", "demo_mouse", "img08.png") not in labels.index
    assert len(labels) == 14
    assert (folder / ".trash" / "img08.png").exists() and not (folder / "img08.png").exists()
    assert (folder / "CollectedData_posenb.h5.bak").exists()
    # after saving every point is a human point
    assert editor.drawing.human.all()
    # merge: next iteration
    editor.merge_button.click()
    assert read_config(demo_project)["iteration"] == 1
    assert "iteration 1" in editor.status_text


def test_no_machine_labels_opens_human_labels(demo_project):
    editor = RefinementEditor(demo_project)
    assert len(editor.session) == 12
    assert editor.drawing.human.all()
    assert editor.save() is not None  # saving unchanged human labels is harmless


def test_multianimal_is_refused(demo_project):
    from posenb.errors import ConfigError

    with pytest.raises(ConfigError, match="Multi-animal"):
        posenb.refine_labels(demo_project, multianimal=True)
