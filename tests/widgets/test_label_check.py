"""CheckLabelsView: runs check_labels and pages through labeled-data/<stem>_labeled."""

from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")

from posenb.project.config import read_config  # noqa: E402
from posenb.widgets.label_check import CheckLabelsView, checked_folders  # noqa: E402


def test_run_and_browse(demo_project):
    view = CheckLabelsView(demo_project)
    assert "No checked labels" in view.message.value
    view.run_button.click()
    project = Path(read_config(demo_project)["project_path"])
    out = project / "labeled-data" / "demo_mouse_labeled"
    assert out.is_dir() and checked_folders(project) == ["demo_mouse_labeled"]
    assert "wrote 1 folder" in view.message.value
    assert view.folder_select.value == "demo_mouse_labeled" and len(view.images) == 12
    first = view.images[0]
    assert view.image.value == (out / first).read_bytes()
    assert "(1/12)" in view.caption.value
    view.next_button.click()
    assert view.slider.value == 1 and view.image.value == (out / view.images[1]).read_bytes()
    view.prev_button.click()
    view.prev_button.click()  # clamped at the first image
    assert view.slider.value == 0


def test_errors_are_shown(tmp_path):
    view = CheckLabelsView()
    view.run()
    assert "Open a project first" in view.message.value
    view.set_config(str(tmp_path / "config.yaml"))
    assert "No config file" in view.message.value


def test_frame_at_its_own_size_with_a_legend_and_no_empty_image(demo_project):
    """Issue 15: no broken-image box before a run; the annotated frame is shown at its own size (not blurred by
    upscaling) next to a legend naming each body part in its colour."""
    view = CheckLabelsView(demo_project)
    assert view.image.layout.display == "none" and view.legend.value == ""
    assert view.run()
    assert view.image.layout.display is None and view.image.layout.width == "128px"  # the demo frames' width
    for part in read_config(demo_project)["bodyparts"]:
        assert f"</span>{part}</div>" in view.legend.value
    assert view.legend.value.count("background:rgb(") == 4


def test_toggle_buttons_have_tooltips(demo_project):
    """Tooltips read "null" in the browser when a ToggleButton has none (crop box button, body-part toggles)."""
    from posenb.widgets.frame_grabber import FrameGrabber

    assert FrameGrabber(demo_project).crop_mode.tooltip
