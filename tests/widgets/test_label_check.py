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
