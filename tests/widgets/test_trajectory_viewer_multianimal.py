"""TrajectoryViewer on a multi-animal project's tracked file (``_el.h5``): individuals shown, without a browser.

The tracked file is the demo's ground truth (two mice, DeepLabCut's 4-level tracked layout) under the name
``analyze_videos(auto_track=True)`` gives it; mouse2's snout gets likelihood 0.2 on frames 10-19.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("bqplot")
pytest.importorskip("ipycanvas")

from posenb.io.hdf import write_hdf  # noqa: E402
from posenb.project import paths  # noqa: E402
from posenb.project.config import read_config  # noqa: E402
from posenb.widgets._trajectory_data import (  # noqa: E402
    identity_labels,
    point_colors_hex,
    point_skeleton,
    visible_points,
)
from posenb.widgets.trajectory_viewer import TrajectoryViewer  # noqa: E402

PARTS = ["snout", "leftear", "rightear", "tailbase"]


def _write_tracked(config) -> tuple[Path, np.ndarray]:
    """The ground truth as ``demo_miceDLC_<scorer>_el.h5``; returns (path, (n, 8, 3) array mouse1 then mouse2)."""
    cfg = read_config(config)
    project = Path(cfg["project_path"])
    gt = pd.read_hdf(project / "demo_ground_truth.h5")
    scorer = paths.get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 30)
    gt.columns = gt.columns.set_levels([scorer], level="scorer")
    gt.loc[10:19, (scorer, "mouse2", "snout", "likelihood")] = 0.2
    h5 = project / "videos" / f"demo_mice{scorer}_el.h5"
    write_hdf(gt, h5, format="table", backup=False)
    arr = np.concatenate(
        [gt[scorer][ind].to_numpy(float).reshape(len(gt), len(PARTS), 3) for ind in ("mouse1", "mouse2")],
        axis=1,
    )
    return h5, arr


def test_pure_helpers_per_individual():
    points = [("a", "head"), ("a", "tail"), ("b", "head"), ("b", "tail"), ("single", "food")]
    colors = point_colors_hex(points, "rainbow")
    assert colors[0] == colors[1] != colors[2] == colors[3] != colors[4]  # one colour per individual
    assert point_skeleton(points, [["head", "tail"]]) == [(0, 1), (2, 3)]  # never across animals
    assert visible_points(points, {"tail": False}, "b") == [False, False, True, False, False]
    assert visible_points(points, {}, "all") == [True] * 5
    xyp = np.array([[1, 5, 0.9], [4, 9, 0.9], [20, 30, 0.1], [np.nan, np.nan, 0.9], [50, 2, 0.8]], float)
    labels = identity_labels(xyp, points, [True] * 5, 0.5)
    assert labels == [("a", 4.0, 5.0), ("single", 50.0, 2.0)]  # b has no confident point
    # a single-animal file: colours per body part, the config skeleton, no names
    single = [("", "head"), ("", "tail")]
    assert len(set(point_colors_hex(single, "rainbow"))) == 2
    assert point_skeleton(single, [["head", "tail"]]) == [(0, 1)]
    assert identity_labels(xyp[:2], single, [True, True], 0.5) == []


def test_viewer_shows_the_individuals(ma_demo_project):
    h5, arr = _write_tracked(ma_demo_project)
    viewer = TrajectoryViewer(ma_demo_project)
    assert viewer.h5 == h5 and viewer.video.name == "demo_mice.mp4"
    assert viewer.individuals == ["mouse1", "mouse2"] and viewer.bodyparts == PARTS
    assert "2 individuals (mouse1, mouse2)" in viewer.status_text
    assert viewer.individuals_box.layout.display is None
    assert [o[1] for o in viewer.individual_select.options] == ["all", "mouse1", "mouse2"]
    assert "mouse1" in viewer.legend.value and "mouse2" in viewer.legend.value
    assert [t.description for t in viewer.part_toggles] == PARTS
    assert "swap" in viewer.outlier_algo.options
    # colour per individual, in the plots too: 8 lines (2 animals x 4 parts), two colours
    assert len(set(viewer.colors[:4])) == 1 and viewer.colors[0] != viewer.colors[4]
    x = np.asarray(viewer.lines["x"].y)
    assert x.shape == (8, 60) and np.allclose(x[:4, 0], arr[0, :4, 0])
    assert np.isnan(x[4, 10:20]).all()  # mouse2's snout below the p-cutoff
    assert list(viewer.lines["x"].colors) == viewer.colors
    # the frame: both animals, a skeleton per animal, names next to them
    viewer.set_frame(5)
    assert viewer.overlay.part.tolist() == list(range(8))
    assert np.allclose(viewer.overlay.xy, arr[5, :, :2])
    assert len(viewer.overlay.segments) == 8  # 4 bones x 2 animals
    assert [name for name, _, _ in viewer.labels] == ["mouse1", "mouse2"]
    assert viewer.labels[1][1] == pytest.approx(np.max(arr[5, 4:, 0]))
    viewer.names_check.value = False
    assert viewer.labels == []
    # one individual: its lines and points only
    assert "posenb-individual-hidden" not in viewer.legend.value
    viewer.individual_select.value = "mouse2"
    assert viewer.overlay.part.tolist() == [4, 5, 6, 7]
    assert viewer.legend.value.count("posenb-individual-hidden") == 1  # mouse1 greyed in the legend
    assert 'line-through">&#9679; mouse1' in viewer.legend.value
    assert np.asarray(viewer.lines["y"].y).shape == (4, 60)
    assert np.allclose(np.asarray(viewer.lines["y"].y)[1], arr[:, 5, 1])
    viewer.part_toggles[0].value = False  # snout hidden: mouse2's three other parts
    assert viewer.overlay.part.tolist() == [5, 6, 7]
    viewer.individual_select.value = "all"
    assert viewer.overlay.part.tolist() == [1, 2, 3, 5, 6, 7]


def test_single_animal_file_hides_the_individual_controls(demo_project):
    from test_trajectory_viewer import _write_predictions  # noqa: PLC0415

    _write_predictions(demo_project)
    viewer = TrajectoryViewer(demo_project)
    assert viewer.individuals == [] and viewer.individuals_box.layout.display == "none"
    assert viewer.legend.value == "" and "swap" not in viewer.outlier_algo.options
    viewer.set_frame(5)
    assert viewer.labels == [] and viewer.overlay.part.tolist() == [0, 1, 2, 3]


def test_labeled_video_colours_by_individual(ma_demo_project, monkeypatch):
    pytest.importorskip("posenb.post.labeled_video")
    import posenb

    h5, _ = _write_tracked(ma_demo_project)
    real, calls = posenb.create_labeled_video, []

    def spy(*args, **kwargs):  # records what the button asks for, then runs the real function
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(posenb, "create_labeled_video", spy)
    viewer = TrajectoryViewer(ma_demo_project)
    viewer.video_button.click()
    assert viewer.wait(120)
    assert "failed" not in viewer.status_text, viewer.status_text
    assert calls[0]["color_by"] == "individual" and calls[0]["individual_labels"] is True
    assert calls[0]["draw_skeleton"] is True
    video = Path(str(h5)[: -len(".h5")] + "_id_labeled.mp4")  # DeepLabCut's name when coloured by individual
    assert video.is_file() and video.stat().st_size > 0


def test_viewer_actions_on_a_tracked_file(ma_demo_project):
    """Extract this frame, filter and save plots on a tracked file: the files keep the individuals."""
    pytest.importorskip("posenb.post.filtering")
    pytest.importorskip("posenb.post.plotting")
    from posenb.io.labels import read_labels

    h5, arr = _write_tracked(ma_demo_project)
    viewer = TrajectoryViewer(ma_demo_project)
    viewer.set_frame(33)
    viewer.pick_button.click()
    assert viewer.wait(120) and "Frame 33 added" in viewer.status_text, viewer.status_text
    folder = Path(read_config(ma_demo_project)["project_path"]) / "labeled-data" / "demo_mice"
    machine = read_labels(folder / "machinelabels-iter0.h5")
    assert list(dict.fromkeys(machine.columns.get_level_values("individuals"))) == ["mouse1", "mouse2"]
    row = machine.loc[[i for i in machine.index if i[2] == "img33.png"][0]]
    assert row.xs(("mouse2", "tailbase", "x"), level=(1, 2, 3)).iloc[0] == pytest.approx(arr[33, 7, 0])
    viewer.outlier_algo.value = "swap"
    viewer.outlier_button.click()
    assert viewer.wait(120) and "(0 frame(s))" in viewer.status_text, (
        viewer.status_text
    )  # no swap in the truth
    viewer.plot_button.click()
    assert (
        viewer.wait(120) and "plotmouse1.png" in viewer.status_text and "plotmouse2.png" in viewer.status_text
    )
    viewer.filter_button.click()
    assert viewer.wait(120) and viewer.h5.name.endswith("_el_filtered.h5"), viewer.status_text
    assert viewer.individuals == ["mouse1", "mouse2"] and viewer.data.shape == (60, 8, 3)
