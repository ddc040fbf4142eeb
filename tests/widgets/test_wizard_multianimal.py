"""ProjectWizard without a browser: multi-animal create/edit, and the network field (posenb.yaml's net_type)."""

from pathlib import Path

import pytest
import yaml

pytest.importorskip("ipywidgets")

from posenb.project.config import project_parts, read_config, read_settings  # noqa: E402
from posenb.widgets.wizard import ProjectWizard  # noqa: E402


def _fill_create(wiz, video):
    wiz.name_text.value = "flies"
    wiz.experimenter_text.value = "Ann"
    wiz.video_path_text.value = str(video)
    wiz.add_video_button.click()
    wiz.bodyparts_text.value = "head, thorax"


def test_create_multianimal_project(tmp_path, tiny_video):
    seen = []
    wiz = ProjectWizard(working_directory=str(tmp_path))
    wiz.on_project(seen.append)
    _fill_create(wiz, tiny_video)
    assert wiz.multianimal_box.layout.display == "none"
    wiz.multianimal_check.value = True
    assert wiz.multianimal_box.layout.display is None  # individuals and unique parts shown
    wiz.individuals_text.value = "female, male"
    wiz.unique_text.value = "food"
    wiz.create_button.click()
    assert len(seen) == 1, wiz.create_message.value
    on_disk = yaml.safe_load(Path(seen[0]).read_text())
    assert on_disk["multianimalproject"] is True and on_disk["bodyparts"] == "MULTI!"
    assert on_disk["individuals"] == ["female", "male"] and on_disk["multianimalbodyparts"] == [
        "head",
        "thorax",
    ]
    assert on_disk["uniquebodyparts"] == ["food"] and on_disk["default_track_method"] == "ellipse"
    # the config tab shows the multi-animal fields of the project it opened
    assert wiz.multianimal_edit.layout.display is None
    assert wiz.bodyparts_area.value.splitlines() == ["head", "thorax"]
    assert wiz.individuals_area.value.splitlines() == ["female", "male"] and wiz.unique_area.value == "food"
    assert "Individuals: female, male" in wiz.status_html.value


def test_multianimal_defaults_and_bad_individuals(tmp_path, tiny_video):
    wiz = ProjectWizard(working_directory=str(tmp_path))
    _fill_create(wiz, tiny_video)
    wiz.multianimal_check.value = True
    wiz.individuals_text.value = "a, single"
    assert wiz.create_project() is None
    assert "&#x27;single&#x27; cannot be an individual" in wiz.create_message.value
    assert not list(tmp_path.glob("flies-Ann-*"))  # nothing created
    wiz.individuals_text.value = ""  # DeepLabCut's default individuals
    config = wiz.create_project()
    assert project_parts(read_config(config)).individuals == ("individual1", "individual2", "individual3")
    # unticked: the multi-animal fields are not used
    wiz2 = ProjectWizard(working_directory=str(tmp_path / "single"))
    (tmp_path / "single").mkdir()
    _fill_create(wiz2, tiny_video)
    wiz2.individuals_text.value = "x, y"
    cfg = read_config(wiz2.create_project())
    assert cfg["multianimalproject"] is False and cfg["bodyparts"] == ["head", "thorax"]
    assert wiz2.multianimal_edit.layout.display == "none"


def test_edit_multianimal_config(ma_demo_project):
    ma_project = ma_demo_project
    wiz = ProjectWizard(ma_project)
    assert wiz.individuals_area.value.splitlines() == ["mouse1", "mouse2"]
    assert wiz.bodyparts_area.value.splitlines() == ["snout", "leftear", "rightear", "tailbase"]
    wiz.individuals_area.value += "\nmouse3"
    wiz.bodyparts_area.value += "\ntailtip"
    wiz.unique_area.value = "food"
    assert wiz.save_config(), wiz.config_message.value
    cfg = read_config(ma_project)
    assert cfg["individuals"] == ["mouse1", "mouse2", "mouse3"] and cfg["bodyparts"] == "MULTI!"
    assert cfg["multianimalbodyparts"][-1] == "tailtip" and cfg["uniquebodyparts"] == ["food"]
    # a duplicate individual is a validation message, nothing written
    wiz.individuals_area.value = "mouse1\nmouse2\nmouse2"
    assert not wiz.save_config() and "duplicate individuals" in wiz.config_message.value
    # removing a labeled individual or a labeled part is refused
    wiz.individuals_area.value = "mouse1\nmouse3"
    assert not wiz.save_config()
    assert "individual(s) with labels" in wiz.config_message.value and "mouse2" in wiz.config_message.value
    wiz.individuals_area.value = "mouse1\nmouse2"
    wiz.bodyparts_area.value = "snout\nleftear\nrightear"
    assert not wiz.save_config() and "tailbase (in demo_mice)" in wiz.config_message.value
    assert read_config(ma_project)["individuals"] == ["mouse1", "mouse2", "mouse3"]
    wiz.bodyparts_area.value = "snout\nleftear\nrightear\ntailbase"
    assert wiz.save_config(), wiz.config_message.value  # removing the unlabeled mouse3 and tailtip is fine
    cfg = read_config(ma_project)
    assert cfg["individuals"] == ["mouse1", "mouse2"] and "tailtip" not in cfg["multianimalbodyparts"]


def test_net_type_field_is_posenb_yaml(demo_project):
    wiz = ProjectWizard(demo_project)
    assert (
        wiz.fields["net_type"].value == "efficientnet-lite0"
    )  # posenb's choice, not config.yaml's resnet_50
    assert read_config(demo_project)["default_net_type"] == "resnet_50"
    wiz.fields["net_type"].value = "mobilenet_v2_1.0"
    assert wiz.save_config(), wiz.config_message.value
    project = Path(demo_project).parent
    assert read_settings(project)["net_type"] == "mobilenet_v2_1.0"
    assert yaml.safe_load(Path(demo_project).read_text())["default_net_type"] == "resnet_50"
    wiz.fields["net_type"].value = ""  # back to posenb's default
    assert wiz.save_config()
    assert read_settings(project)["net_type"] is None and wiz.fields["net_type"].value == "efficientnet-lite0"
    wiz.fields["pcutoff"].value = "0.5"  # other edits leave posenb.yaml alone
    assert wiz.save_config() and read_settings(project)["net_type"] is None
