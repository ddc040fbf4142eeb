"""The Label QC & next frames panel without a browser: buttons call the core, tables and jumps follow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from posenb.io.labels import read_labels, write_labels  # noqa: E402
from posenb.project.config import read_config  # noqa: E402
from posenb.widgets.app import PosenbApp  # noqa: E402
from posenb.widgets.label_assist import LabelAssistView, table_html  # noqa: E402


def _plant_duplicate(config) -> tuple[str, str]:
    cfg = read_config(config)
    path = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse" / "CollectedData_posenb.h5"
    df = read_labels(path)
    row = df.index[2]
    df.loc[row, ("posenb", "rightear")] = df.loc[row, ("posenb", "leftear")].to_numpy().copy()
    write_labels(df, path)
    return "/".join(row), row[2]


def test_without_project_the_buttons_say_why():
    view = LabelAssistView()
    view.frames.suggest_button.click()
    assert "Open a project first" in view.frames.status.value
    view.check_button.click()
    assert "Open a project first" in view.status.value
    assert view.open_selected() is None


def test_suggest_frames_lists_and_extracts(demo_project):
    cfg = read_config(demo_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    before = set(folder.glob("*.png"))
    from posenb.widgets.frame_grabber import FrameGrabber

    grabber = FrameGrabber(demo_project)  # the ranking sits in the Extract frames tab too
    listed = len(grabber.frame_list.options)
    view = grabber.ranking
    view.n_frames.value = 3
    view.method.value = "diversity"
    view.suggest_frames(background=False)
    picks = view.ranking[view.ranking["rank"] > 0]
    assert len(picks) == 3 and picks["extracted"].all()
    assert len(set(folder.glob("*.png")) - before) == 3
    for frame in picks["frame"]:
        assert f"<td style='padding:2px 8px'>{frame}</td>" in view.ranking_html.value
    assert "3 frame(s) extracted" in view.status.value
    assert len(grabber.frame_list.options) == listed + 3  # the grabber's list follows


def test_quality_issue_opens_in_the_labeler(demo_project):
    image, name = _plant_duplicate(demo_project)
    app = PosenbApp(demo_project)
    view = app.panel("Label QC & next frames")
    view.check_quality(background=False)
    assert image in [view.issues.iloc[v]["image"] for _, v in view.issue_select.options]
    dup = [v for label, v in view.issue_select.options if "duplicate" in label]
    view.issue_select.value = dup[0]
    assert view.open_selected() == image
    labeler = app.panel("Label")
    assert app.titles[app.selected_index] == "Label"
    assert labeler.state.images[labeler.state.frame] == name
    assert labeler.state.bodyparts[labeler.state.part] == "leftear"  # the issue's first part is current


def test_table_html_escapes_and_truncates():
    import pandas as pd

    df = pd.DataFrame({"video": ["/a/<b>.mp4"] * 3, "frame": [1, 2, 3], "score": [0.5, 0.25, 0.125]})
    out = table_html(df, ["video", "frame", "score", "missing"], max_rows=2)
    assert "&lt;b&gt;.mp4" in out and "0.50" in out and "1 more rows" in out and "missing" not in out
    assert np.isfinite(df["score"]).all()
