"""TrajectoryViewer without a browser: synthetic prediction files of the demo video, handlers driven directly."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("bqplot")
pytest.importorskip("ipycanvas")

from posenb.demo import read_ground_truth  # noqa: E402
from posenb.io.predictions import array_to_predictions, write_meta, write_predictions  # noqa: E402
from posenb.post.skeleton import skeleton_indices  # noqa: E402
from posenb.project import paths  # noqa: E402
from posenb.project.config import read_config  # noqa: E402
from posenb.widgets._review import frame_overlay, mask_low_likelihood  # noqa: E402
from posenb.widgets.trajectory_viewer import TrajectoryViewer  # noqa: E402


def _write_predictions(config, filtered=False, shift=0.0):
    """Ground truth of the demo video as predictions; likelihood 0.2 for the snout on frames 10-19."""
    cfg = read_config(config)
    truth = read_ground_truth(config)
    n, k, _ = truth.shape
    like = np.full((n, k, 1), 0.95)
    like[10:20, 0] = 0.2
    arr = np.concatenate([truth + shift, like], axis=2)
    scorer = paths.get_scorer_name(cfg, 1, cfg["TrainingFraction"][0], "resnet_50", 30)
    videos = Path(cfg["project_path"]) / "videos"
    name = f"demo_mouse{scorer}{'_filtered' if filtered else ''}.h5"
    h5 = write_predictions(array_to_predictions(arr, scorer, cfg["bodyparts"]), videos / name)
    write_meta(h5, {"cropping": False, "nframes": n})
    return h5, arr


def test_pure_drawing_functions():
    arr = np.array([[[1.0, 2.0, 0.9], [3.0, 4.0, 0.1], [np.nan, np.nan, 0.99], [7.0, 8.0, 0.8]]])
    masked = mask_low_likelihood(arr, 0.5)
    assert np.isnan(masked[0, 1, :2]).all() and masked[0, 0, 0] == 1.0 and masked[0, 1, 2] == 0.1
    skel = skeleton_indices(["a", "b", "c", "d"], [["a", "b"], ["a", "d"], ["a", "zz"]])
    assert skel == ((0, 1), (0, 3))
    ov = frame_overlay(arr[0], 0.5, [True, True, True, True], skel)
    assert ov.part.tolist() == [0, 3]  # low and NaN dropped
    assert ov.segments.shape == (1, 2, 2) and ov.segments[0].tolist() == [[1, 2], [7, 8]]
    ov = frame_overlay(arr[0], 0.5, [True, True, True, False], skel, show_low=True)
    assert ov.part.tolist() == [0, 1] and ov.confident.tolist() == [True, False]
    assert len(ov.segments) == 0


def test_viewer_shows_predictions_and_links_cursor(demo_project):
    h5, arr = _write_predictions(demo_project)
    viewer = TrajectoryViewer(demo_project)
    assert viewer.h5 == h5
    assert viewer.video.name == "demo_mouse.mp4"
    assert viewer.frame.max == 59
    assert viewer.pcutoff.value == 0.5  # from config.yaml
    assert [t.description for t in viewer.part_toggles] == ["snout", "leftear", "rightear", "tailbase"]
    # x series: one line per body part, snout masked where likelihood < pcutoff
    x = np.asarray(viewer.lines["x"].y)
    assert x.shape == (4, 60)
    assert np.isnan(x[0, 10:20]).all() and np.allclose(x[0, :10], arr[:10, 0, 0])
    assert np.allclose(np.asarray(viewer.lines["likelihood"].y)[0, 10:20], 0.2)  # likelihood never masked
    # the frame shown: canvas sized to the video, points at the predictions
    assert viewer.image_canvas.image_size == (128, 96)
    assert viewer.image_canvas.canvas_size == (384, 288)  # small frames enlarged
    assert viewer._frame_image.shape == (96, 128, 3)
    viewer.set_frame(5)
    assert list(viewer.cursors["x"].x) == [5.0, 5.0]
    assert np.allclose(viewer.overlay.xy, arr[5, :, :2])
    assert len(viewer.overlay.segments) == 4  # demo skeleton
    # clicking a plot (IndexSelector) moves the cursor and the frame
    viewer.selectors["likelihood"].selected = np.array([14.6])
    assert viewer.frame.value == 15
    assert viewer.overlay.part.tolist() == [1, 2, 3]  # snout below pcutoff on frame 15
    viewer.pcutoff.value = 0.1
    assert viewer.overlay.part.tolist() == [0, 1, 2, 3]
    assert not np.isnan(np.asarray(viewer.lines["x"].y)[0, 15])
    # body-part toggles hide lines and points; a hidden part's toggle is grey and struck through
    assert viewer.part_toggles[0].style.text_decoration == "none"
    viewer.part_toggles[0].value = False
    assert viewer.part_toggles[0].style.text_color == "#999999"
    assert viewer.part_toggles[0].style.text_decoration == "line-through"
    # round y ticks that cover the data
    ticks = np.asarray(viewer.yaxes["x"].tick_values)
    shown = np.asarray(viewer.lines["x"].y)
    assert ticks[0] <= np.nanmin(shown) and ticks[-1] >= np.nanmax(shown) and 3 <= len(ticks) <= 8
    assert np.asarray(viewer.lines["y"].y).shape == (3, 60)
    assert viewer.lines["y"].colors == viewer.colors[1:]
    assert 0 not in viewer.overlay.part.tolist()
    # keys on the canvas step through frames; the wheel zooms
    viewer.image_canvas._dispatch({"type": "keydown", "key": "ArrowRight"})
    assert viewer.frame.value == 16
    zoom = viewer.image_canvas.view.zoom
    viewer.image_canvas._dispatch({"type": "wheel", "deltaY": -1, "relativeX": 100, "relativeY": 100})
    assert viewer.image_canvas.view.zoom > zoom


def test_raw_vs_filtered_and_missing(demo_project):
    _write_predictions(demo_project)
    viewer = TrajectoryViewer(demo_project)
    viewer.source.value = "filtered"
    assert viewer.h5 is None and "filterpredictions" in viewer.status_text
    assert list(viewer.lines["x"].x) == []
    h5f, arr = _write_predictions(demo_project, filtered=True, shift=1.5)
    viewer.load()
    assert viewer.h5 == h5f
    assert np.allclose(np.asarray(viewer.lines["y"].y)[1], arr[:, 1, 1])


def test_no_predictions_reports(demo_project):
    viewer = TrajectoryViewer(demo_project)
    assert viewer.h5 is None
    assert "analyze_videos" in viewer.status_text
    viewer.set_frame(3)  # nothing to draw, no error
    assert viewer.overlay is None


def test_filter_button_runs_filterpredictions(demo_project):
    pytest.importorskip("posenb.post.filtering")
    _write_predictions(demo_project)
    viewer = TrajectoryViewer(demo_project)
    viewer.filter_button.click()
    assert viewer.wait(60)
    assert "failed" not in viewer.status_text, viewer.status_text
    assert viewer.source.value == "filtered"
    assert viewer.h5 is not None and viewer.h5.name.endswith("_filtered.h5")


def test_labeled_video_and_outlier_buttons(demo_project):
    pytest.importorskip("posenb.post.labeled_video")
    pytest.importorskip("posenb.frames.outliers")
    from posenb.io.labels import guarantee_multiindex_rows, read_hdf_any

    h5, arr = _write_predictions(demo_project)
    viewer = TrajectoryViewer(demo_project)
    viewer.video_button.click()
    assert viewer.wait(120)
    assert "failed" not in viewer.status_text, viewer.status_text
    assert Path(str(h5)[: -len(".h5")] + "_labeled.mp4").exists()
    # frames where the snout is uncertain (10-19) are the outliers
    viewer.outlier_algo.value = "uncertain"
    viewer.outlier_button.click()
    assert viewer.wait(120)
    assert "failed" not in viewer.status_text, viewer.status_text
    folder = Path(read_config(demo_project)["project_path"]) / "labeled-data" / "demo_mouse"
    machine = guarantee_multiindex_rows(read_hdf_any(folder / "machinelabels-iter0.h5"))
    picked = sorted(int(name[3:-4]) for name in machine.index.get_level_values(2))
    assert picked and all(10 <= f < 20 for f in picked)
    # the frame under the cursor, on request
    viewer.set_frame(42)
    viewer.pick_button.click()
    assert viewer.wait(120)
    assert "failed" not in viewer.status_text, viewer.status_text
    assert (folder / "img42.png").exists()


def test_save_plots_button_runs_plot_trajectories(demo_project):
    pytest.importorskip("posenb.post.plotting")
    h5, _ = _write_predictions(demo_project)
    viewer = TrajectoryViewer(demo_project)
    assert all(t.tooltip for t in viewer.part_toggles)  # (no "null" tooltip in the browser)
    viewer.plot_button.click()
    assert viewer.wait(120)
    assert viewer.status_text.startswith("Plots saved: "), viewer.status_text
    folder = Path(h5).parent / "plot-poses" / "demo_mouse"
    written = sorted(p.name for p in folder.glob("*.png"))
    assert written and all(name in viewer.status_text for name in written)
