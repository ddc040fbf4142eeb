"""The app's panels on a multi-animal project, without a browser: the workflow from the labels to the tracked file.

Training set (top-down model) -> Train (2 iterations of both networks, from the Train tab) -> Analyze videos
(``auto_track`` with ``n_tracks``, or the per-frame animals only) -> Analyze & review showing the individuals.
"""

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("bqplot")
pytest.importorskip("ipycanvas")
pytest.importorskip("posenb.train.ma_api")
pytest.importorskip("posenb.track")

from posenb.project.config import read_config  # noqa: E402
from posenb.widgets.app import PosenbApp  # noqa: E402


def test_multianimal_workflow_through_the_panels(ma_demo_project):
    project = Path(read_config(ma_demo_project)["project_path"])
    videos = project / "videos"
    app = PosenbApp(ma_demo_project)
    for title in app.titles_list:  # every panel opens on the project
        assert app.panel(title) is not None, app.errors.get(title)

    ts = app.panel("Training set")
    assert "labeled frame(s)" in ts.summary.value
    ts.create(background=False)
    assert "Created 1 shuffle(s)" in ts.status_text, ts.status_text

    mon = app.panel("Train")
    mon.set_config(ma_demo_project)
    mon.maxiters.value, mon.batch_size.value, mon.saveiters.value, mon.displayiters.value = 2, 2, 2, 1
    assert mon.start() is not None
    assert mon.wait(300)
    assert "finished at iteration 2" in mon.status_text, mon.status_text
    train = next(project.glob("dlc-models/iteration-0/*shuffle1/train"))
    assert (train / "snapshot-2.pt").is_file() and (train / "centroid" / "snapshot-2.pt").is_file()
    assert mon.n_points >= 1  # the training's rows reached the plot

    ev = app.panel("Evaluate")  # multi-animal evaluation, then the per-image table after matching
    ev.set_config(ma_demo_project)
    assert "not evaluated yet" in ev.status_text, ev.status_text
    ev.evaluate()
    assert ev.wait(300)
    assert "failed" not in ev.status_text and "images" in ev.status_text, ev.status_text
    assert "mAP" in ev.results_html.value  # the multi-animal result columns
    table = ev.table
    n_img = table["image"].nunique()
    assert set(table["individual"]) == {"mouse1", "mouse2"} and len(table) == n_img * 2 * 4
    assert set(table["split"]) == {"train", "test"} and table["x_label"].notna().any()
    assert list(ev.summary.index) == ["snout", "leftear", "rightear", "tailbase", "all"]
    assert ev.images and ev.markers is not None and len(ev.markers.human_xy) > 0  # labels drawn on the image
    # stored predictions = the labels + (1, 1) px, animals in swapped slots: matched back, error sqrt(2) px
    _shifted_evaluation(ma_demo_project)
    ev.load()
    assert ev.summary.loc["all", "train"] == pytest.approx(2**0.5) and ev.summary.loc[
        "all", "test"
    ] == pytest.approx(2**0.5)
    labeled = ev.table.dropna(subset=["x_label"])
    assert (labeled["x"] - labeled["x_label"]).round(6).eq(1.0).all()

    an = app.panel("Analyze videos")
    an.rescan()
    assert an.track_box.layout.display is None and an.n_tracks.value == 2  # the project's individuals
    assert an.run_mode.layout.display == "none"  # multi-animal analysis: one pass, float32
    assert an.videos.value == (str(videos / "demo_mice.mp4"),)
    # tracking off: the per-frame animals only
    an.track_check.value = False
    an.analyze(background=False)
    assert an.status_text.startswith("Analyzed 1 video(s)"), an.status_text
    assert an.results[0][1].endswith("_detections.h5") and not list(videos.glob("*_el.h5"))
    # tracking on, 3 tracks: the tracked file has ind1..ind3 (DeepLabCut's names when n_tracks differs)
    an.track_check.value, an.n_tracks.value, an.csv_check.value = True, 3, False
    an.analyze(background=False)
    assert an.status_text.startswith("Analyzed 1 video(s)"), an.status_text
    el = Path(an.results[0][1])
    assert el.name.startswith("demo_miceDLC_") and el.name.endswith("_el.h5")
    inds = list(dict.fromkeys(pd.read_hdf(el).columns.get_level_values("individuals")))
    assert inds == ["ind1", "ind2", "ind3"]
    assert "demo_miceDLC_" in an.table.value

    tv = app.panel("Analyze & review")
    tv.set_config(ma_demo_project)
    assert tv.h5 == el and tv.individuals == inds, tv.status_text
    assert tv.individuals_box.layout.display is None
    assert [o[1] for o in tv.individual_select.options] == ["all", *inds]
    assert tv.data.shape == (60, 3 * 4, 3)


def _shifted_evaluation(config) -> None:
    """Overwrite the stored evaluation .h5 with the training set's labels + 1 px, mouse1 and mouse2 swapped."""
    from posenb.data.ma_trainingset import read_ma_training_split
    from posenb.io.hdf import write_hdf

    cfg = read_config(config)
    data = read_ma_training_split(cfg, 1, 0)[0]
    h5 = next(Path(cfg["project_path"]).glob("evaluation-results/iteration-0/*shuffle1/*-snapshot-2.h5"))
    scorer = pd.read_hdf(h5).columns.get_level_values(0)[0]
    cols, values = [], []
    for slot, ind in (("mouse1", "mouse2"), ("mouse2", "mouse1")):
        for bp in ("snout", "leftear", "rightear", "tailbase"):
            for c in ("x", "y", "likelihood"):
                cols.append((scorer, slot, bp, c))
                values.append(data[(data.columns[0][0], ind, bp, c)] + 1.0 if c != "likelihood" else 0.9)
    df = pd.DataFrame(dict(zip(cols, values)), index=data.index)
    df.columns = pd.MultiIndex.from_tuples(cols, names=["scorer", "individuals", "bodyparts", "coords"])
    write_hdf(df, h5, format="fixed", backup=False)


def test_single_animal_project_hides_the_tracking_controls(demo_project):
    from posenb.widgets.analyze_panel import AnalyzePanel

    panel = AnalyzePanel(demo_project)
    assert panel.track_box.layout.display == "none" and panel._track_args() == {}


def test_label_qc_tab_on_a_multianimal_project(ma_demo_project):
    """The Label QC tab's check: duplicates across animals and a left/right swap of one animal, named per animal."""
    from posenb.io.labels import read_labels, write_labels
    from posenb.widgets.label_assist import LabelAssistView

    project = Path(read_config(ma_demo_project)["project_path"])
    path = next((project / "labeled-data" / "demo_mice").glob("CollectedData_*.h5"))
    df = read_labels(path)
    scorer, image = df.columns[0][0], df.index[2]
    for c in ("x", "y"):  # mouse2's snout on mouse1's snout; mouse1's ears swapped in another image
        df.loc[image, (scorer, "mouse2", "snout", c)] = df.loc[image, (scorer, "mouse1", "snout", c)]
        left, right = (df.loc[df.index[4], (scorer, "mouse1", f"{s}ear", c)] for s in ("left", "right"))
        df.loc[df.index[4], (scorer, "mouse1", "leftear", c)] = right
        df.loc[df.index[4], (scorer, "mouse1", "rightear", c)] = left
    write_labels(df, path, backup=False)

    view = LabelAssistView(ma_demo_project)
    view.check_quality(background=False)
    issues = view.issues
    dup = issues[issues["kind"] == "duplicate"]
    assert len(dup) == 1 and dup.iloc[0]["bodyparts"] == "mouse1 snout,mouse2 snout"
    assert dup.iloc[0]["image"] == "/".join(image)
    swap = issues[issues["kind"] == "swap_geometry"]
    assert "mouse1 leftear" in set(swap["bodyparts"].str.split(",").sum())
    assert "/".join(df.index[4]) in set(swap["image"])
    assert "possible mistake" in view.status.value


def test_label_qc_part_on_another_animal_opens_its_frame(ma_demo_project):
    """A part clicked on the other animal is listed (naming both animals) and opens its frame in the Label tab."""
    from posenb.io.labels import read_labels, write_labels

    project = Path(read_config(ma_demo_project)["project_path"])
    path = next((project / "labeled-data" / "demo_mice").glob("CollectedData_*.h5"))
    df = read_labels(path)
    scorer, image = df.columns[0][0], df.index[5]
    for c in ("x", "y"):  # mouse2's snout on mouse1's snout, 3 px off
        df.loc[image, (scorer, "mouse2", "snout", c)] = df.loc[image, (scorer, "mouse1", "snout", c)] + 3.0
    write_labels(df, path, backup=False)
    app = PosenbApp(ma_demo_project)
    view = app.panel("Label QC & next frames")
    with pytest.warns(UserWarning, match="geometric checks only"):  # no trained model in this project
        view.check_quality(background=False)
    other = [(label, v) for label, v in view.issue_select.options if "other_animal" in label]
    assert len(other) == 1 and "mouse2's snout lies on mouse1" in other[0][0]
    assert view.issues.iloc[other[0][1]]["bodyparts"] == "mouse2 snout"
    view.issue_select.value = other[0][1]
    assert view.open_selected() == "/".join(image)
    labeler = app.panel("Label")
    assert app.titles[app.selected_index] == "Label"
    assert labeler.folder == "demo_mice" and labeler.state.images[labeler.state.frame] == image[2]
    assert labeler.state.bodyparts[labeler.state.part] == "mouse2 snout"  # a click moves the flagged point
