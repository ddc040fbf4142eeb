"""Labeler panel without a browser: DOM events through the widgets' comms, label files read back from disk."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ipycanvas")
pytest.importorskip("ipyevents")

from _comm_recorder import canvas_commands, dom_event, record_messages, send_custom  # noqa: E402

from posenb.io.labels import read_labels  # noqa: E402
from posenb.project.config import read_config  # noqa: E402
from posenb.widgets._canvas import canvas_to_image  # noqa: E402
from posenb.widgets.labeler import Labeler, css_name, label_frames  # noqa: E402


def _unlabeled(config) -> Path:
    """The demo project's label folder with its label files removed (all frames unlabeled)."""
    cfg = read_config(config)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    for f in folder.glob("CollectedData_*"):
        f.unlink()
    return folder


def _click(lab, x, y, button=0, **kw):
    """A real mouse click at canvas CSS pixel (x, y), through ipyevents' comm."""
    ev = lab.image_canvas._events
    send_custom(ev, dom_event("mousedown", x, y, button=button, buttons=1, **kw))
    send_custom(ev, dom_event("mouseup", x, y, button=button, buttons=0, **kw))


def _key(lab, key, **kw):
    send_custom(lab.image_canvas._events, dom_event("keydown", key=key, **kw))


def test_clicks_are_saved_in_image_pixels_and_restored(demo_project):
    folder = _unlabeled(demo_project)
    lab = Labeler(demo_project)
    assert lab.canvas.width == 640 and lab.canvas.height == 480  # 128x96 frames shown 5x
    assert "posenb-labeler-canvas" in lab.canvas._dom_classes
    assert lab.state.view.zoom == 5.0 and lab.state.part == 0
    _click(lab, 101.0, 51.0)
    _click(lab, 201.5, 151.5)
    assert lab.state.part == 2
    lab.next_button.click()  # changing image saves
    assert lab.state.frame == 1
    df = read_labels(folder / "CollectedData_posenb.h5")
    row = df.loc[("labeled-data", "demo_mouse", lab.state.images[0])]
    assert row[("posenb", "snout", "x")] == pytest.approx(20.2) and row[
        ("posenb", "snout", "y")
    ] == pytest.approx(10.2)
    assert row[("posenb", "leftear", "x")] == pytest.approx(40.3) and row[
        ("posenb", "leftear", "y")
    ] == pytest.approx(30.3)
    assert np.isnan(row[("posenb", "rightear", "x")])
    assert (folder / "CollectedData_posenb.csv").exists()
    assert len(df) == 1  # only labeled images get a row
    # reopening restores everything
    again = Labeler(demo_project)
    assert np.allclose(again.state.points, lab.state.points, equal_nan=True)
    assert again.state.part == 2


def test_click_after_wheel_zoom_lands_under_the_cursor(demo_project):
    folder = _unlabeled(demo_project)
    lab = Labeler(demo_project)
    ev = lab.image_canvas._events
    send_custom(ev, dom_event("wheel", 300, 200, deltaY=-250))
    send_custom(ev, dom_event("wheel", 300, 200, deltaY=-250))
    view = lab.state.view
    assert view.zoom > 5.0 * 2
    _click(lab, 333.0, 222.0)
    expected = canvas_to_image(view, 333.0, 222.0)
    assert lab.save(force=True) is not None
    df = read_labels(folder / "CollectedData_posenb.h5")
    assert df.iloc[0][("posenb", "snout", "x")] == pytest.approx(expected[0])
    assert df.iloc[0][("posenb", "snout", "y")] == pytest.approx(expected[1])


def test_canvas_displayed_at_another_css_size(demo_project):
    _unlabeled(demo_project)
    lab = Labeler(demo_project)
    ev = lab.image_canvas._events
    # the page shows the 640x480 canvas at 320x240 CSS pixels: a click at CSS (50, 25) is canvas (100, 50)
    send_custom(ev, dom_event("mousedown", 50, 25, canvas_css=(320, 240), buttons=1))
    send_custom(ev, dom_event("mouseup", 50, 25, canvas_css=(320, 240)))
    assert lab.state.points[0, 0] == pytest.approx([20.0, 10.0])


def test_keys_drag_delete_and_undo_through_the_comm(demo_project):
    _unlabeled(demo_project)
    lab = Labeler(demo_project)
    _click(lab, 100, 100)
    ev = lab.image_canvas._events
    send_custom(ev, dom_event("mousedown", 100, 100, buttons=1))
    send_custom(lab.image_canvas._moves, dom_event("mousemove", 150, 120, buttons=1))
    send_custom(ev, dom_event("mouseup", 150, 120))
    assert lab.state.points[0, 0] == pytest.approx([30.0, 24.0])
    _key(lab, "z", ctrlKey=True)
    assert lab.state.points[0, 0] == pytest.approx([20.0, 20.0])
    _click(lab, 150, 120, button=2)  # right-click on nothing
    _click(lab, 100, 100, button=2)  # right-click the snout
    assert np.isnan(lab.state.points[0, 0]).all() and lab.state.part == 0
    _key(lab, "3")
    assert lab.state.part == 2
    _key(lab, "ArrowRight")
    assert lab.state.frame == 1
    _key(lab, "ArrowLeft")
    assert lab.state.frame == 0
    assert "current: <b>rightear" not in lab.status.value  # part reset to the first unlabeled on image change
    # the part buttons follow: the current part is marked, labeled parts get a check mark
    _click(lab, 60, 60)
    descs = [b.description for b in lab.part_buttons]
    assert descs[0].endswith("snout ✓") and descs[1].startswith("▶")
    assert "posenb-bodypart-snout" in lab.part_buttons[0]._dom_classes


def test_part_buttons_skip_and_fit(demo_project):
    _unlabeled(demo_project)
    lab = Labeler(demo_project)
    lab.part_buttons[3].click()
    assert lab.state.part == 3
    lab.skip_button.click()
    assert lab.state.part == 0
    send_custom(lab.image_canvas._events, dom_event("wheel", 10, 10, deltaY=-300))
    assert lab.state.view.zoom > 5
    lab.fit_button.click()
    assert lab.state.view.zoom == 5.0


def test_client_ready_redraws_image_and_points(demo_project, monkeypatch):
    lab = Labeler(demo_project)
    messages = record_messages(monkeypatch)
    # Voila runs the notebook before the browser connects; when the canvas reports ready, all is drawn again
    send_custom(lab.canvas[-1], {"event": "client_ready"})
    names = [c[0] for c in canvas_commands(messages)]
    assert "putImageData" in names and "drawImage" in names and "fillStyledCircles" in names
    assert "strokeLineSegments" in names  # skeleton
    put = next(c for c in canvas_commands(messages) if c[0] == "putImageData")
    assert put[2][0][:8] == b"\x89PNG\r\n\x1a\n"  # the frame goes as PNG bytes, not a raw array
    assert lab.image_canvas.n_client_ready == 1


def test_click_redraws_only_the_points_layer(demo_project, monkeypatch):
    _unlabeled(demo_project)
    lab = Labeler(demo_project)
    messages = record_messages(monkeypatch)
    _click(lab, 100, 100)
    names = [c[0] for c in canvas_commands(messages)]
    assert "fillStyledCircles" in names
    assert "putImageData" not in names and "drawImage" not in names
    messages.clear()
    lab.next_button.click()
    names = [c[0] for c in canvas_commands(messages)]
    assert names.count("putImageData") == 1  # a new frame: the image is sent once


def test_other_scorer_is_read_only_with_a_clear_message(demo_project):
    cfg = read_config(demo_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    for f in folder.glob("CollectedData_posenb.*"):
        f.rename(f.with_name(f.name.replace("posenb", "someone")))
    lab = Labeler(demo_project)
    assert "someone" in lab.message.value and "read-only" in lab.message.value
    assert lab.state.readonly and not np.isnan(lab.state.points).all()  # their labels are shown
    before = lab.state.points.copy()
    _click(lab, 300, 300, alt=True)
    assert np.array_equal(lab.state.points, before, equal_nan=True)
    assert lab.save(force=True) is None
    assert not (folder / "CollectedData_posenb.h5").exists()


def test_add_bodypart_updates_config_and_table(demo_project):
    cfg = read_config(demo_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    lab = Labeler(demo_project)
    n_rows = len(read_labels(folder / "CollectedData_posenb.h5"))
    assert not lab.add_bodypart("bad name!")
    assert not lab.add_bodypart("snout")
    assert lab.add_bodypart("tailtip")
    assert read_config(demo_project)["bodyparts"][-1] == "tailtip"
    df = read_labels(folder / "CollectedData_posenb.h5")
    assert len(df) == n_rows
    assert df.xs("tailtip", level="bodyparts", axis=1).isna().all().all()
    assert lab.state.part == 4 and len(lab.part_buttons) == 5
    assert "posenb-bodypart-tailtip" in lab.part_buttons[4]._dom_classes
    _click(lab, 320, 240)
    lab.save()
    df = read_labels(folder / "CollectedData_posenb.h5")
    assert df.iloc[0][("posenb", "tailtip", "x")] == pytest.approx(64.0)


def test_rows_without_images_and_emptied_rows_are_kept(demo_project):
    cfg = read_config(demo_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    orig = read_labels(folder / "CollectedData_posenb.h5")
    gone = orig.index[-1][2]
    (folder / gone).unlink()
    lab = Labeler(demo_project)
    assert gone not in lab.state.images and "kept" in lab.message.value
    for k in "1234":  # remove every point of the first image
        _key(lab, k)
        _key(lab, "Delete")
    assert np.isnan(lab.state.points[0]).all()
    lab.save()
    df = read_labels(folder / "CollectedData_posenb.h5")
    assert len(df) == len(orig)
    assert df.loc[orig.index[-1]].equals(orig.loc[orig.index[-1]])
    assert df.loc[orig.index[0]].isna().all()
    assert (folder / "CollectedData_posenb.h5.bak").exists()


def test_label_frames_entry_points(demo_project):
    import posenb

    lab = posenb.label_frames(demo_project)
    assert isinstance(lab, Labeler) and lab.folder == "demo_mouse"
    assert label_frames(demo_project, image_folder="labeled-data/demo_mouse").folder == "demo_mouse"
    # config.yaml decides one animal or several (DeepLabCut 2.2+); the GUI flag is accepted and ignored
    single = label_frames(demo_project, multiple_individualsGUI=True)
    assert not single.state.slots.multianimal and single.animals.layout.display == "none"
    assert css_name("left ear.1") == "left_ear_1"


def test_empty_panel_and_project_without_frames(tmp_path, demo_project):
    lab = Labeler()
    assert lab.state is None and lab.canvas is None
    lab.set_config(str(tmp_path / "nope" / "config.yaml"))
    assert "No config file" in lab.message.value
    cfg = read_config(demo_project)
    for f in (Path(cfg["project_path"]) / "labeled-data" / "demo_mouse").iterdir():
        f.unlink()
    lab.set_config(demo_project)
    assert "extract frames first" in lab.message.value


def test_set_config_again_keeps_folder_and_image(demo_project):
    lab = Labeler(demo_project)
    lab.go_to(3)
    lab.set_config(demo_project)  # e.g. the config was edited in the Project tab
    assert lab.folder == "demo_mouse" and lab.state.frame == 3
    lab.go_to(99)
    assert lab.state.frame == lab.state.n_images - 1 and "last image" in lab.message.value


def test_unsaved_marker_is_cleared_by_save_and_not_carried_to_the_next_image(demo_project):
    """Issue 15: the status line's 'unsaved' is true: set by an edit, gone after Save and after the autosave of
    a frame change, never shown on an untouched image; counts name labels made by hand."""
    _unlabeled(demo_project)
    lab = Labeler(demo_project)
    assert (
        "unsaved" not in lab.status.value
        and "0 of " in lab.status.value
        and "labeled by hand" in lab.status.value
    )
    _click(lab, 101.0, 51.0)
    assert "<i>unsaved</i>" in lab.status.value
    lab.save_button.click()
    assert "unsaved" not in lab.status.value and "1 of " in lab.status.value
    _click(lab, 201.5, 151.5)
    assert "<i>unsaved</i>" in lab.status.value
    lab.next_button.click()  # changing image saves: the new, untouched image is not "unsaved"
    assert lab.state.frame == 1 and not lab.state.dirty
    assert "unsaved" not in lab.status.value
