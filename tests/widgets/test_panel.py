"""The panel base (posenb.widgets._panel.Panel) and the frame view of the labeling panels (_frame_view)."""

from __future__ import annotations

import logging

import ipywidgets as widgets
import pytest

from posenb.errors import PosenbError
from posenb.widgets._frame_view import FrameView, dot_radius
from posenb.widgets._panel import Panel


class _Demo(Panel):
    def __init__(self, config=None):
        super().__init__()
        self.status = widgets.HTML()
        self.shown = []
        if config is not None:
            self.set_config(config)

    def show_project(self):
        self.shown.append(self.cfg["Task"])


class _MessagePanel(Panel):
    STATUS = "message"

    def __init__(self):
        super().__init__()
        self.status = widgets.HTML("progress")
        self.message = widgets.HTML()


def test_set_config_reads_the_project_and_shows_it(demo_project):
    panel = _Demo(demo_project)
    assert panel.config == panel.config_path == str(demo_project)
    assert panel.cfg["Task"] == "demo" and panel.shown == ["demo"]
    panel.set_config(demo_project)  # the app calls it again when the project changes: re-read
    assert panel.shown == ["demo", "demo"]


def test_a_bad_config_raises_and_names_the_file(tmp_path):
    bad = tmp_path / "config.yaml"
    bad.write_text("Task: [unclosed\n")
    panel = _Demo()
    with pytest.raises(PosenbError):
        panel.set_config(bad)
    assert panel.config == str(bad) and panel.cfg is None and panel.shown == []


def test_status_line_levels_and_text():
    panel = _Demo()
    panel._set_status("two\n<lines>", "error")
    assert panel.status.value == '<span style="color:#cf222e">two<br>&lt;lines&gt;</span>'
    assert panel.status_text == "two\n<lines>"
    panel.status_ok("done")
    assert "#1a7f37" in panel.status.value and panel.status_text == "done"
    panel.status_warning("careful")
    assert "#9a6700" in panel.status.value
    panel.status_info("")
    assert panel.status.value == "" and panel.status_text == ""


def test_status_goes_to_the_widget_named_by_status():
    panel = _MessagePanel()
    panel._set_message("saved", "ok")
    assert "saved" in panel.message.value and panel.status.value == "progress"
    panel.config_path = "/a/config.yaml"
    assert panel.config == "/a/config.yaml"


def test_project_callbacks(caplog):
    panel = _Demo()
    panel.config = "/p/config.yaml"
    got = []
    panel.on_project(got.append)
    panel._notify_project()
    panel._notify_project("/q/config.yaml")
    assert got == ["/p/config.yaml", "/q/config.yaml"]

    def broken(_config):
        raise RuntimeError("another tab failed")

    panel.on_project(broken)
    with pytest.raises(RuntimeError):
        panel._notify_project()
    with caplog.at_level(logging.ERROR):
        panel._notify_project(catch=True)  # logged, not raised
    assert "project callback failed" in caplog.text


def test_dot_radius_follows_dotsize_within_bounds():
    assert dot_radius({"dotsize": 12}) == 6.0
    assert dot_radius({"dotsize": 40}) == 9.0
    assert dot_radius({"dotsize": 2}) == 4.0
    assert dot_radius(None) == 6.0


def test_labeler_and_refiner_share_the_frame_view(demo_project):
    from posenb.widgets.labeler import Labeler
    from posenb.widgets.refiner import RefinementEditor

    assert issubclass(Labeler, FrameView) and issubclass(RefinementEditor, FrameView)
    labeler = Labeler(demo_project)
    state = labeler.state
    assert state is not None and state.n_images > 1
    assert labeler.radius == dot_radius(labeler.cfg)
    assert labeler.image_canvas.image_size == (state.view.image_w, state.view.image_h)
    labeler.go_to(1)
    assert labeler.state.frame == 1 and labeler.image_select.value == 1
    labeler.select_part(labeler.state.bodyparts[1])
    assert labeler.state.part == 1
    canvas = labeler.image_canvas.widget
    labeler.close()
    assert canvas.comm is None  # the base's close closed the canvas too
