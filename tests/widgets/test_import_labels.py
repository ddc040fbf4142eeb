"""The "Import labels" control of the project panel, driven without a browser."""

import warnings
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")

from posenb.formats.api import export_labels  # noqa: E402
from posenb.project.config import read_config  # noqa: E402
from posenb.widgets.import_labels import LabelImporter  # noqa: E402
from posenb.widgets.wizard import ProjectWizard  # noqa: E402


def _fresh(tmp_path, video) -> str:
    from posenb.project.create import create_new_project

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_new_project("imp", "ann", [str(video)], working_directory=tmp_path / "imp", copy_videos=True)


def test_import_labels_tab_of_the_project_panel(demo_project, tmp_path, tiny_video):
    coco = export_labels(demo_project, tmp_path / "coco" / "annotations.json", format="coco")[0]
    config = _fresh(tmp_path, tiny_video)
    wiz = ProjectWizard(config)
    seen = []
    wiz.on_project(seen.append)
    assert wiz.tabs.titles[-1] == "Import labels"
    importer = wiz.importer
    importer.path.value = str(coco)
    importer.format.value = "coco"
    importer.button.click()
    assert "Imported 12 labeled frame(s) into labeled-data/demo_mouse" in importer.message.value
    assert "config.yaml: set bodyparts, skeleton." in importer.message.value
    label_file = Path(config).parent / "labeled-data" / "demo_mouse" / "CollectedData_ann.h5"
    assert label_file.is_file() and len(list(label_file.parent.glob("*.png"))) == 12
    # the panel shows the new body parts and tells the other panels
    assert read_config(config)["bodyparts"] == ["snout", "leftear", "rightear", "tailbase"]
    assert wiz.bodyparts_area.value.split() == ["snout", "leftear", "rightear", "tailbase"]
    assert seen == [str(Path(config))]
    assert not importer.button.disabled


def test_import_errors_are_shown_and_nothing_is_written(demo_project, tmp_path, tiny_video):
    importer = LabelImporter()
    importer.path.value = "x.slp"
    importer.button.click()
    assert "Open or create a project first" in importer.message.value
    config = _fresh(tmp_path, tiny_video)
    importer.set_config(config)
    importer.path.value = str(tmp_path / "missing.json")
    assert importer.run() is None
    assert "Label file not found" in importer.message.value and "#cf222e" in importer.message.value
    assert not list((Path(config).parent / "labeled-data").glob("*/CollectedData_*"))


def test_export_labels_from_the_panel_and_paths_stay_inside_the_roots(demo_project, tmp_path):
    from posenb.formats.api import import_labels  # noqa: F401 - the same module the panel calls

    importer = LabelImporter(demo_project)
    importer.export_path.value = str(tmp_path / "out" / "labels.slp")
    importer.export_button.click()
    assert "Wrote 1 file(s): labels.slp" in importer.export_message.value
    assert (tmp_path / "out" / "labels.slp").is_file()
    importer.export_path.value = "/etc/posenb-labels.json"  # outside the dashboard's folders
    assert importer.export() is None and not Path("/etc/posenb-labels.json").exists()
    assert "#cf222e" in importer.export_message.value
    importer.path.value = "/etc/passwd"
    assert importer.run() is None and "#cf222e" in importer.message.value
