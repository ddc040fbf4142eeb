"""ProjectWizard without a browser: create, open, edit config, status; inputs checked before any write."""

from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")

from posenb.project.config import read_config  # noqa: E402
from posenb.widgets._file_browser import FileBrowser, list_folder  # noqa: E402
from posenb.widgets.wizard import ProjectWizard, check_new_project, form_to_config  # noqa: E402


def test_check_new_project_reports_every_problem_and_writes_nothing(tmp_path):
    problems = check_new_project("bad name", "", [str(tmp_path / "missing.mp4")], str(tmp_path / "nowhere"))
    text = "\n".join(problems)
    assert "Project name" in text and "Experimenter" in text and "does not exist" in text
    assert "Working directory" in text
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "notes.txt").write_text("x")
    assert any(
        "not a video" in p for p in check_new_project("a", "b", [str(tmp_path / "notes.txt")], str(tmp_path))
    )
    assert any("at least one video" in p for p in check_new_project("a", "b", [], str(tmp_path)))


def test_create_project_from_a_server_path(tmp_path, tiny_video):
    seen = []
    wiz = ProjectWizard(working_directory=str(tmp_path))
    wiz.on_project(seen.append)
    wiz.name_text.value = "reach"
    wiz.experimenter_text.value = "Jane"
    wiz.video_path_text.value = str(tmp_path / "nope.mp4")
    wiz.add_video_button.click()
    assert "does not exist" in wiz.create_message.value and wiz.video_list.options == ()
    wiz.video_path_text.value = str(tiny_video)
    wiz.add_video_button.click()
    assert wiz.video_list.options == (str(tiny_video),)
    wiz.bodyparts_text.value = "nose, tail"
    wiz.create_button.click()
    assert len(seen) == 1 and Path(seen[0]).name == "config.yaml"
    cfg = read_config(seen[0])
    assert cfg["Task"] == "reach" and cfg["scorer"] == "Jane" and cfg["bodyparts"] == ["nose", "tail"]
    link = Path(cfg["project_path"]) / "videos" / tiny_video.name
    assert link.is_symlink() and tiny_video.exists()  # linked: the video stays where it was
    assert "Created" in wiz.create_message.value
    assert "reach" in wiz.current.value and "Extract frames" in wiz.status_html.value


def test_bad_inputs_create_nothing(tmp_path, tiny_video):
    wiz = ProjectWizard(working_directory=str(tmp_path / "missing-dir"))
    wiz.name_text.value = "reach"
    wiz.experimenter_text.value = "Jane"
    wiz.video_list.options = [str(tiny_video)]
    assert wiz.create_project() is None
    assert "Working directory" in wiz.create_message.value
    assert not (tmp_path / "missing-dir").exists()


def test_upload_is_saved_then_used(tmp_path, tiny_video):
    wiz = ProjectWizard(working_directory=str(tmp_path / "wd"))
    (tmp_path / "wd").mkdir()
    wiz.name_text.value = "up"
    wiz.experimenter_text.value = "Jo"
    data = tiny_video.read_bytes()
    # what the browser sends when a file is picked (the kernel deserialises it)
    wiz.upload.set_state(
        {
            "value": [
                {
                    "name": "clip.mp4",
                    "type": "video/mp4",
                    "size": len(data),
                    "content": memoryview(data),
                    "last_modified": 0,
                }
            ]
        }
    )
    config = wiz.create_project()
    assert config is not None
    assert (tmp_path / "wd" / "uploaded-videos" / "clip.mp4").is_file()
    assert any(Path(v).stem == "clip" for v in read_config(config)["video_sets"])


def test_open_and_edit_config_with_validation(demo_project):
    seen = []
    wiz = ProjectWizard()
    wiz.on_project(seen.append)
    wiz.open_path.value = str(Path(demo_project).parent / "no" / "such" / "config.yaml")
    wiz.open_button.click()
    assert "No config file" in wiz.open_message.value and not seen
    wiz.open_path.value = "/etc/passwd"  # outside the allowed roots (issue 11): refused before it is read
    wiz.open_button.click()
    assert "outside the folders this dashboard may open" in wiz.open_message.value and not seen
    wiz.open_path.value = str(Path(demo_project).parent)  # a project folder is accepted
    wiz.open_button.click()
    assert seen == [demo_project]
    assert wiz.bodyparts_area.value.splitlines() == ["snout", "leftear", "rightear", "tailbase"]
    assert wiz.fields["TrainingFraction"].value == "0.8"
    wiz.fields["TrainingFraction"].value = "1.5"
    assert not wiz.save_config()
    assert "TrainingFraction" in wiz.config_message.value
    wiz.fields["TrainingFraction"].value = "0.9, 0.7"
    wiz.fields["numframes2pick"].value = "abc"
    assert not wiz.save_config() and "numframes2pick" in wiz.config_message.value
    wiz.fields["numframes2pick"].value = "33"
    wiz.skeleton_area.value = "snout, nosuchpart"
    assert wiz.save_config() and "unknown body part" in wiz.config_message.value  # a warning, nothing blocked
    wiz.skeleton_area.value = "snout, leftear\nsnout rightear"
    wiz.bodyparts_area.value += "\ntailtip"
    assert wiz.save_config(), wiz.config_message.value
    cfg = read_config(demo_project)
    assert cfg["TrainingFraction"] == [0.9, 0.7] and cfg["numframes2pick"] == 33
    assert (
        cfg["skeleton"] == [["snout", "leftear"], ["snout", "rightear"]] and cfg["bodyparts"][-1] == "tailtip"
    )
    assert len(seen) == 3  # each save tells the other panels


def test_removing_a_labeled_bodypart_is_refused(demo_project):
    wiz = ProjectWizard(demo_project)
    wiz.bodyparts_area.value = "snout\nleftear\nrightear"
    wiz.skeleton_area.value = ""
    assert not wiz.save_config()
    assert "tailbase" in wiz.config_message.value and "demo_mouse" in wiz.config_message.value
    assert read_config(demo_project)["bodyparts"][-1] == "tailbase"


def test_form_to_config_parses_text():
    cfg = {"bodyparts": ["a"], "skeleton": [], "snapshotindex": -1}
    new = form_to_config(
        cfg, {"bodyparts": "a, b\nc", "skeleton": "a, b\nb - c", "snapshotindex": "all", "pcutoff": "0.4"}
    )
    assert new["bodyparts"] == ["a", "b", "c"] and new["skeleton"] == [["a", "b"], ["b", "c"]]
    assert new["snapshotindex"] == "all" and new["pcutoff"] == 0.4 and cfg["bodyparts"] == ["a"]


def test_file_browser_lists_and_picks(tmp_path, tiny_video):
    (tmp_path / "sub").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    dirs, files = list_folder(tmp_path)
    assert dirs == ["sub"] and files == ["tiny.mp4"]
    picked = []
    fb = FileBrowser(start=str(tmp_path))
    fb.on_pick(picked.extend)
    assert fb.listing.options == ("[sub]", "  tiny.mp4")
    fb.listing.value = ("  tiny.mp4",)
    fb.pick_button.click()
    assert picked == [str(tiny_video)]
    fb.listing.value = ("[sub]",)
    fb.open_button.click()
    assert fb.folder == tmp_path / "sub"
    fb.up_button.click()
    assert fb.folder == tmp_path
    fb.show(tmp_path / "missing")
    assert "Cannot list" in fb.message.value and fb.folder == tmp_path


def test_stale_form_does_not_undo_changes_made_elsewhere(demo_project):
    from posenb.project.config import write_config

    wiz = ProjectWizard(demo_project)
    cfg = read_config(demo_project)
    cfg["bodyparts"] = cfg["bodyparts"] + ["tailtip"]  # e.g. added in the labeler meanwhile
    write_config(demo_project, cfg)
    wiz.fields["pcutoff"].value = "0.3"
    assert wiz.save_config(), wiz.config_message.value
    cfg = read_config(demo_project)
    assert cfg["pcutoff"] == 0.3 and cfg["bodyparts"][-1] == "tailtip"
    wiz.fields["pcutoff"].value = "0.35"  # a second save after the first one works too
    assert wiz.save_config()
    cfg["bodyparts"] = cfg["bodyparts"] + ["tailmid"]
    cfg["pcutoff"] = 0.35
    write_config(demo_project, cfg)
    wiz.bodyparts_area.value += "\nhead"  # editing a field that changed on disk: refused, nothing written
    assert not wiz.save_config() and "changed meanwhile" in wiz.config_message.value
    assert "head" not in read_config(demo_project)["bodyparts"]
    wiz.reload_config_button.click()
    assert "tailmid" in wiz.bodyparts_area.value
