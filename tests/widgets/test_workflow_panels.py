"""The dashboard-only workflow panels (issue 15): Training set, Analyze videos, Add videos, driven by their
buttons on a fresh demo project; each asserts on the files the core functions wrote and on the panel's state."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("ipywidgets")

from posenb.errors import ConfigError  # noqa: E402
from posenb.widgets.trainingset_panel import TrainingSetPanel, parse_fractions, parse_shuffles  # noqa: E402


def test_parse_the_split_and_shuffles():
    assert parse_fractions("0.8, 0.95") == [0.8, 0.95]
    assert parse_shuffles("1-3, 5") == [1, 2, 3, 5]
    for bad in ("", "x", "1.5", "0"):
        with pytest.raises(ConfigError):
            parse_fractions(bad)
    for bad in ("", "a", "0"):
        with pytest.raises(ConfigError):
            parse_shuffles(bad)


def test_create_training_dataset_from_the_panel(demo_project):
    from posenb.project.config import read_config

    panel = TrainingSetPanel(demo_project)
    seen = []
    panel.on_project(seen.append)
    assert "12</b> labeled frame(s)" in panel.summary.value and "none yet" in panel.summary.value
    panel.fractions.value = "0.75"
    panel.shuffles.value = "1, 2"
    panel.create_button.click()
    assert panel.wait(120)
    assert "Created 2 shuffle(s)" in panel.status_text, panel.status_text
    cfg = read_config(demo_project)
    assert cfg["TrainingFraction"] == [0.75]  # the changed split is the project's setting
    models = sorted(Path(cfg["project_path"]).glob("dlc-models/iteration-0/*/train/pose_cfg.yaml"))
    assert [m.parent.parent.name[-18:] for m in models] == ["trainset75shuffle1", "trainset75shuffle2"]
    assert [(f, k, len(tr), len(te)) for f, k, tr, te in panel.result] == [(0.75, 1, 9, 3), (0.75, 2, 9, 3)]
    assert "shuffle 2" in panel.results.value and seen == [demo_project]
    # asking again does nothing without "Replace", and says why
    mtime = models[0].stat().st_mtime_ns
    panel.create_button.click()
    assert panel.wait(60)
    assert "Nothing created" in panel.status_text and "Replace existing shuffles" in panel.status_text
    assert models[0].stat().st_mtime_ns == mtime
    panel.replace.value = True
    panel.shuffles.value = "1"
    panel.create_button.click()
    assert panel.wait(120) and "Created 1 shuffle(s)" in panel.status_text
    panel.shuffles.value = "zero"
    panel.create_button.click()
    assert "Nothing created" in panel.status_text and "whole numbers" in panel.status_text


def test_a_project_without_labels_says_so(demo_project):
    cfg_dir = Path(demo_project).parent
    shutil.rmtree(cfg_dir / "labeled-data")
    panel = TrainingSetPanel(demo_project)
    panel.create(background=False)
    assert "failed" in panel.status_text and panel.result is None


@pytest.fixture(scope="module")
def trained(_demo_project_session, tmp_path_factory):
    """A copy of the tiny demo project with a 2-iteration model of shuffle 1."""
    pytest.importorskip("posenb.train.api")
    import posenb
    from posenb.project.config import read_config

    src = Path(_demo_project_session).parent
    dst = tmp_path_factory.mktemp("flow") / src.name
    shutil.copytree(src, dst, symlinks=True)
    config = str(dst / "config.yaml")
    read_config(config)
    posenb.create_training_dataset(config, num_shuffles=1)
    posenb.train_network(config, maxiters=2, displayiters=1, saveiters=2, progress=False, batch_size=2, crop_size=None)
    return config


def test_analyze_videos_from_the_panel(trained, tiny_video, tmp_path):
    from posenb.widgets.analyze_panel import AnalyzePanel

    panel = AnalyzePanel(trained)
    seen = []
    panel.on_project(seen.append)
    assert panel.shuffle_select.options[0][0] == "shuffle 1 · train 80% · snapshot 2"
    project_video = panel.videos.options[0]
    assert panel.videos.value == (project_video,)  # the project's videos, selected
    # a folder from the file browser adds its videos, selected
    extra = tmp_path / "more"
    extra.mkdir()
    shutil.copy(tiny_video, extra / "other.mp4")
    panel.browser.show(tmp_path)
    panel.browser.listing.value = ("[more]",)
    panel.browser.pick_button.click()
    assert str((extra / "other.mp4").resolve()) in panel.videos.value
    panel.analyze_button.click()
    assert panel.wait(300)
    assert panel.status_text.startswith("Analyzed 2 video(s)"), panel.status_text
    assert panel.progress.value == panel.progress.max == 2
    for video, h5, msg in panel.results:
        assert msg == "ok" and Path(h5).is_file() and Path(h5).with_suffix(".csv").is_file()
        assert Path(h5).parent == Path(video).parent and Path(h5).name.startswith(Path(video).stem + "DLC_")
    assert "other" in panel.table.value and seen == [trained]
    # nothing selected: nothing happens, and the panel says why
    panel.videos.value = ()
    panel.analyze_button.click()
    assert "select one or more videos" in panel.status_text


def test_analyze_panel_runs_more_accurate_at_two_scales(trained):
    """The "Run" choice reaches analyze_videos: "More accurate" analyses at the two input scales and the video's
    meta file says so; the default leaves the model's settings (one pass)."""
    from posenb.infer.multiscale import ACCURATE_SCALES
    from posenb.io.safe_pickle import restricted_load
    from posenb.widgets.analyze_panel import RUN_MODES, AnalyzePanel

    panel = AnalyzePanel(trained)
    assert panel.run_mode.value == "model" and panel.run_mode.layout.display is None  # single-animal: shown
    assert [key for _label, key in panel.run_mode.options] == list(RUN_MODES)
    video = Path(panel.videos.value[0])
    for old in video.parent.glob(f"{video.stem}DLC_*"):  # an earlier test's analysis: this one starts afresh
        old.unlink()
    panel.run_mode.value = "accurate"
    panel.analyze(background=False)
    assert panel.status_text.startswith("Analyzed 1 video(s)"), panel.status_text
    (_video, h5, _msg) = panel.results[0]
    meta_file = Path(h5).with_name(Path(h5).stem + "_meta.pickle")
    assert restricted_load(meta_file)["data"]["posenb_test_scales"] == list(ACCURATE_SCALES)
    Path(h5).unlink()  # analyse again with the model's settings: one pass
    panel.run_mode.value = "model"
    panel.analyze(background=False)
    assert panel.results[0][2] == "ok" and restricted_load(meta_file)["data"]["posenb_test_scales"] is None


def test_analyze_panel_without_a_model_says_so(demo_project):
    from posenb.widgets.analyze_panel import AnalyzePanel

    panel = AnalyzePanel(demo_project)
    assert "No trained model yet" in panel.status_text
    panel.analyze_button.click()
    assert "Nothing analyzed" in panel.status_text


def test_add_videos_from_the_project_tab(demo_project, tiny_video):
    from posenb.project.config import read_config
    from posenb.widgets.wizard import ProjectWizard

    wiz = ProjectWizard(demo_project)
    seen = []
    wiz.on_project(seen.append)
    assert "Add videos" in wiz.tabs.titles and wiz.tabs.children[wiz.tabs.titles.index("Add videos")] is wiz.add_videos_panel
    panel = wiz.add_videos_panel
    panel.add_button.click()
    assert "Nothing added" in panel.message.value
    panel.path_text.value = "/etc/passwd"
    panel.list_button.click()
    assert "outside the folders" in panel.message.value and panel.pending.options == ()
    panel.path_text.value = str(tiny_video)
    panel.list_button.click()
    panel.add_button.click()
    assert "Added 1 video(s)" in panel.message.value, panel.message.value
    cfg = read_config(demo_project)
    assert any(Path(v).name == "tiny.mp4" for v in cfg["video_sets"])
    assert (Path(cfg["project_path"]) / "videos" / "tiny.mp4").exists()
    assert (Path(cfg["project_path"]) / "labeled-data" / "tiny").is_dir()
    assert seen == [demo_project] and "tiny" in wiz.status_html.value
