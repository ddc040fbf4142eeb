"""TrackProofreader without a browser: a two-mouse project whose tracked file has a planted identity swap, a gap,
a lost track and a low-confidence stretch (tests/_proofread_project.py). The buttons, the timeline and the frame
canvas are driven through their handlers (button clicks, ipyevents DOM events); the checks are on the widgets,
the TrackEditor's arrays and the saved ``_el.h5``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("ipycanvas")
pytest.importorskip("ipyevents")

from _proofread_project import (  # noqa: E402
    GAP,
    LOST,
    LOW,
    SWAP,
    make_proofread_project,
    truth_tracks,
    write_swapped_tracks,
)

import posenb  # noqa: E402
from posenb.io.atomic import backup_path  # noqa: E402
from posenb.widgets._canvas import image_to_canvas  # noqa: E402
from posenb.widgets.track_proofreader import TrackProofreader  # noqa: E402


@pytest.fixture(scope="module")
def _source(tmp_path_factory):
    config = make_proofread_project(tmp_path_factory.mktemp("proofread-src"))
    write_swapped_tracks(config)
    return Path(config).parent


@pytest.fixture
def project(_source, tmp_path):
    """(config, tracked file) of a fresh copy of the project."""
    import shutil

    from posenb.project.config import read_config

    dst = tmp_path / _source.name
    shutil.copytree(_source, dst)
    config = str(dst / "config.yaml")
    read_config(config)  # repairs project_path
    return config, next((dst / "videos").glob("*_el.h5"))


def _dom(event_widget, kind, canvas_xy, size):
    """An ipyevents DOM event at canvas pixel ``canvas_xy`` (the element shown at its canvas size)."""
    x, y = canvas_xy
    event_widget._dom_handlers(
        {"type": kind, "clientX": x, "clientY": y, "boundingRectLeft": 0, "boundingRectTop": 0,
         "boundingRectWidth": size[0], "boundingRectHeight": size[1], "button": 0,
         "buttons": 1 if kind != "mouseup" else 0}
    )  # fmt: skip


def test_opens_the_tracked_file_and_draws_the_timeline(project):
    config, h5 = project
    panel = posenb.refine_tracks(config)
    assert isinstance(panel, TrackProofreader)
    ed = panel.editor
    assert ed.path == h5 and ed.individuals == ["mouse1", "mouse2"] and ed.n_frames == 60
    assert panel.video_select.value.endswith("demo_mice.mp4")
    assert panel.image_canvas is not None and panel.image_canvas.image_size == (128, 96)
    d = panel.timeline_view
    g = panel.geometry
    # mouse1: tracked 0..8, a gap, 12..54, lost; mouse2 tracked throughout with a low-confidence band
    m1 = d.segments[d.segment_rows == 0]
    assert [g.x_to_frame(x + 0.5) for x in m1[:, 0]] == [0, GAP[1]]
    assert [g.x_to_frame(x + w - 0.5) for x, w in m1[:, [0, 2]]] == [GAP[0] - 1, LOST - 1]
    assert len(d.segments[d.segment_rows == 1]) == 1
    assert len(d.low) == 1 and g.x_to_frame(d.low[0, 0] + 0.5) == LOW[0]
    assert g.y_to_row(d.low[0, 1]) == 1
    # the swap is among the suspicious frames, ticked on both rows
    swaps = [s for s in panel.suspicions if s.kind == "swap"]
    assert [s.frame for s in swaps] == [SWAP]
    assert sum(g.x_to_frame(t[0, 0]) == SWAP for t in d.ticks) >= 2
    assert "suspicious frames" in panel.status_text
    # the frame view: each individual in its colour, with its skeleton
    fd = panel.drawing
    assert set(fd.individual.tolist()) == {0, 1}
    assert fd.colors[fd.individual == 0][0].tolist() != fd.colors[fd.individual == 1][0].tolist()
    assert len(fd.segments) == 8  # 4 bones each
    # a lower p-cutoff: mouse2's stretch at 0.3 is no longer of low confidence, nor suspicious
    assert any(s.kind == "confidence" for s in panel.suspicions)
    panel.pcutoff.value = 0.2
    assert len(panel.timeline_view.low) == 0
    assert not any(s.kind == "confidence" for s in panel.suspicions)


def test_unique_parts_are_shown_and_saved_untouched(project):
    config, h5 = project
    write_swapped_tracks(config, unique=True)
    panel = TrackProofreader(config)
    view = panel.image_canvas.view
    np.testing.assert_allclose(panel.drawing.unique_xy, [image_to_canvas(view, 5.0, 6.0)])
    panel.go_to(SWAP)
    panel.swap()
    panel.save()
    df = pd.read_hdf(h5)
    corner = df.xs("single", axis=1, level="individuals").to_numpy()
    np.testing.assert_allclose(corner, np.tile([5.0, 6.0, 0.95], (len(df), 1)))


def test_next_suspicious_swap_and_save_fix_the_identities(project):
    config, h5 = project
    truth = truth_tracks(config)
    panel = TrackProofreader(config)
    panel.kinds.value = "swap"
    panel.buttons["next_suspicious"].click()
    assert panel.current == SWAP and panel.frame.value == SWAP
    assert {panel.ind_a.value, panel.ind_b.value} == {"mouse1", "mouse2"}
    assert "swap" in panel.status_text and f"Frame {SWAP}" in panel.info.value
    panel.buttons["swap"].click()
    assert "Swapped" in panel.status_text
    ed = panel.editor
    # the track that was empty from LOST on now ends mouse2's (mouse2 was tracked as mouse1 from SWAP on)
    np.testing.assert_allclose(ed.poses[SWAP:, 0], truth[SWAP:, 0])
    np.testing.assert_allclose(ed.poses[SWAP:LOST, 1], truth[SWAP:LOST, 1])
    np.testing.assert_allclose(ed.poses[:SWAP, 1], truth[:SWAP, 1])
    assert ed.dirty and "unsaved" in panel.info.value
    assert not [s for s in panel.suspicions if s.kind == "swap"]  # recomputed after the edit
    panel.buttons["save"].click()
    assert panel.last_saved == h5 and not ed.dirty and "Saved" in panel.status_text
    df = pd.read_hdf(h5)
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    scorer = df.columns.get_level_values("scorer")[0]
    for i, name in enumerate(["mouse1", "mouse2"]):
        x = df.xs((scorer, name), axis=1, level=["scorer", "individuals"]).xs("x", axis=1, level="coords")
        ok = np.isfinite(truth[:, i, 0, 0]) & np.isfinite(x["snout"].to_numpy())
        np.testing.assert_allclose(x["snout"].to_numpy()[ok], truth[ok, i, 0, 0])
    assert np.isnan(df[(scorer, "mouse2", "snout", "x")].to_numpy()[LOST:]).all()
    assert backup_path(h5).exists()  # the previous version kept
    assert pd.read_hdf(backup_path(h5))[(scorer, "mouse1", "snout", "x")].to_numpy()[SWAP] == pytest.approx(
        truth[SWAP, 1, 0, 0]
    )  # ... with the swap still in it
    # prev-suspicious goes back before the swap frame (the gap); none of kind "swap" is left
    panel.buttons["prev_suspicious"].click()
    assert "No suspicious frame before" in panel.status_text
    panel.kinds.value = None
    panel.buttons["prev_suspicious"].click()
    assert panel.current < SWAP


def _keydown(panel, key, ctrl=False):
    """A key pressed with the pointer on the frame (the ipyevents DOM event, as the browser sends it)."""
    panel.image_canvas._events._dom_handlers({"type": "keydown", "key": key, "ctrlKey": ctrl})


def test_swap_until_the_next_swap_by_buttons_then_by_keys(project):
    """The tracker swapped the mice on frames SWAP-34 only: the swap is fixed up to (not including) frame 35."""
    config, h5 = project
    write_swapped_tracks(config, swap_until=35)
    planted = TrackProofreader(config).editor.tracks.copy()
    truth = truth_tracks(config)
    panel = TrackProofreader(config)
    ed = panel.editor
    panel.kinds.value = "swap"
    panel.buttons["next_suspicious"].click()
    assert panel.current == SWAP and panel.swap_to.value == ""
    panel.buttons["swap_end"].click()  # the next swap of mouse1 or mouse2
    assert panel.swap_to.value == "35" and "stop before frame 35" in panel.status_text
    g = panel.geometry  # the frames the swap would exchange are banded on the timeline
    assert (g.x_to_frame(panel.swap_span[0] + 0.5), g.x_to_frame(panel.swap_span[[0, 2]].sum() - 0.5)) == (
        SWAP,
        34,
    )
    panel.buttons["swap"].click()
    assert panel.status_text.startswith(
        f"Swapped mouse1 and mouse2 on frames {SWAP}-34 (from frame 35 unchanged)"
    )
    assert panel.swap_to.value == "" and panel.swap_span is None  # the next swap runs to the end unless told
    ok = np.isfinite(ed.poses[..., 0])
    np.testing.assert_allclose(ed.poses[ok], truth[ok])  # every mouse on its own path, before, in and after
    assert ed.history == [f"swap mouse1 <-> mouse2 on frames {SWAP}-34"] and ed.edited_frames == {SWAP}
    assert not [s for s in panel.suspicions if s.kind == "swap"]
    panel.buttons["undo"].click()
    np.testing.assert_array_equal(ed.tracks, planted)
    assert [s.frame for s in panel.suspicions if s.kind == "swap"] == [SWAP, 35]
    panel.buttons["redo"].click()
    panel.buttons["save"].click()
    df = pd.read_hdf(h5)
    scorer = df.columns.get_level_values("scorer")[0]
    for i, name in enumerate(["mouse1", "mouse2"]):
        x = df[(scorer, name, "snout", "x")].to_numpy()
        np.testing.assert_allclose(x[np.isfinite(x)], truth[np.isfinite(x), i, 0, 0], err_msg=name)
    # refused: a field that is no frame, an end before the cursor; nothing changes
    for text, said in (("abc", "'until' must be a frame number"), ("10", "end frame 10 must be after")):
        panel.swap_to.value = text
        panel.buttons["swap"].click()
        assert panel.status_text.startswith("Not done") and said in panel.status_text, panel.status_text
    assert len(ed.history) == 1 and not ed.dirty
    # no later swap of A or B: the field empties, the swap runs to the end
    panel.go_to(50)
    panel.buttons["swap_end"].click()
    assert panel.swap_to.value == "" and "the swap runs to the end" in panel.status_text
    # the same by keys on the frame: undo, back before the swap, n, e, s, Ctrl-Z / Ctrl-Y
    _keydown(panel, "z", ctrl=True)
    np.testing.assert_array_equal(ed.tracks, planted)
    panel.go_to(0)
    _keydown(panel, "n")
    assert panel.current == SWAP
    _keydown(panel, "e")
    assert panel.swap_to.value == "35"
    _keydown(panel, "s")
    np.testing.assert_allclose(ed.poses[ok], truth[ok])
    _keydown(panel, "z", ctrl=True)
    np.testing.assert_array_equal(ed.tracks, planted)
    _keydown(panel, "y", ctrl=True)
    np.testing.assert_allclose(ed.poses[ok], truth[ok])
    _keydown(panel, "ArrowLeft")
    assert panel.current == SWAP - 1


def test_a_suspicion_of_one_individual_makes_it_a_and_keeps_b_different(project):
    config, _ = project
    panel = TrackProofreader(config)
    assert (panel.ind_a.value, panel.ind_b.value) == ("mouse1", "mouse2")
    panel.kinds.value = "confidence"  # mouse2's low-confidence stretch
    panel.buttons["next_suspicious"].click()
    assert panel.current == LOW[0]
    assert (panel.ind_a.value, panel.ind_b.value) == ("mouse2", "mouse1")
    panel.buttons["swap"].click()
    assert "Swapped mouse2 and mouse1" in panel.status_text


def test_timeline_click_jumps_and_picks_the_row(project):
    config, _ = project
    panel = TrackProofreader(config)
    g = panel.geometry
    x = g.frame_to_x(33) + g.px_per_frame / 2
    _dom(panel._timeline_events, "mousedown", (x, g.row_y(1) + 5), (g.width, g.height))
    assert panel.current == 33 and panel.ind_a.value == "mouse2" and panel.ind_b.value == "mouse1"
    assert panel.geometry.x_to_frame(panel.timeline_view.cursor[0, 0]) == 33
    _dom(panel._timeline_moves, "mousemove", (g.frame_to_x(40) + 1, 2), (g.width, g.height))  # scrub
    assert panel.current == 40
    # the wheel zooms in around the frame under the mouse; jumping elsewhere scrolls the window
    for _ in range(8):
        panel._timeline_events._dom_handlers(
            {"type": "wheel", "clientX": x, "clientY": 5, "boundingRectLeft": 0, "boundingRectTop": 0,
             "boundingRectWidth": g.width, "boundingRectHeight": g.height, "deltaY": -100}
        )  # fmt: skip
    z = panel.geometry
    assert z.visible == 20 and z.first <= 33 <= z.last
    panel.go_to(5)
    assert panel.geometry.first <= 5 <= panel.geometry.last and panel.geometry.visible == 20
    assert panel.geometry.x_to_frame(panel.timeline_view.cursor[0, 0]) == 5


def test_drag_a_point_fixes_it_and_undo_redo(project):
    config, _ = project
    panel = TrackProofreader(config)
    panel.go_to(30)
    ed, ic = panel.editor, panel.image_canvas
    before = ed.poses[30, 1, 2].copy()
    start = image_to_canvas(ic.view, *before)
    end_image = before + np.array([5.0, -3.0])
    end = image_to_canvas(ic.view, *end_image)
    size = ic.canvas_size
    _dom(ic._events, "mousedown", start, size)
    _dom(ic._moves, "mousemove", end, size)
    assert panel.mouse.drag is not None and panel.mouse.drag[:2] == (1, 2)
    _dom(ic._events, "mouseup", end, size)
    np.testing.assert_allclose(ed.poses[30, 1, 2], end_image, atol=1e-6)
    assert ed.likelihood[30, 1, 2] == 1.0 and 30 in ed.edited_frames
    assert "rightear set to" in panel.status_text
    panel.buttons["undo"].click()
    np.testing.assert_allclose(ed.poses[30, 1, 2], before)
    panel.buttons["redo"].click()
    np.testing.assert_allclose(ed.poses[30, 1, 2], end_image, atol=1e-6)
    # keys on the frame: arrows step, Ctrl-Z undoes, n jumps to the next suspicious frame
    panel.handle(_key("ArrowRight"))
    assert panel.current == 31
    panel.handle(_key("z", ctrl=True))
    np.testing.assert_allclose(ed.poses[30, 1, 2], before)
    panel.handle(_key("n"))
    assert panel.current > 31
    panel.buttons["undo"].click()
    assert panel.status_text == "Nothing to undo."
    # Alt-click places A's chosen part where it is missing (mouse1 is in a gap at frame 9)
    panel.go_to(9)
    panel.pick("mouse1")
    panel.part.value = "tailbase"
    assert np.isnan(ed.poses[9, 0]).all()
    _dom_alt(ic, image_to_canvas(ic.view, 30.0, 40.0))
    np.testing.assert_allclose(ed.poses[9, 0, 3], [30.0, 40.0], atol=1e-6)
    assert ed.likelihood[9, 0, 3] == 1.0 and "mouse1 tailbase set to (30.0, 40.0)" in panel.status_text


def _dom_alt(ic, xy):
    w, h = ic.canvas_size
    ic._events._dom_handlers(
        {"type": "mousedown", "clientX": xy[0], "clientY": xy[1], "boundingRectLeft": 0, "boundingRectTop": 0,
         "boundingRectWidth": w, "boundingRectHeight": h, "button": 0, "buttons": 1, "altKey": True}
    )  # fmt: skip


def _key(key, ctrl=False):
    from posenb.widgets._canvas import CanvasEvent

    return CanvasEvent("key", key=key, ctrl=ctrl)


def test_cut_join_and_delete_segment(project):
    config, _ = project
    truth = truth_tracks(config)
    panel = TrackProofreader(config)
    ed = panel.editor
    panel.go_to(56)
    panel.ind_a.value = "mouse2"
    panel.buttons["cut"].click()  # mouse2's frames 56.. move to the track free there: mouse1
    assert "now mouse1" in panel.status_text
    assert np.isnan(ed.poses[56:, 1]).all() and np.isfinite(ed.poses[56:, 0]).all()
    # join them back: mouse1's segment under the cursor into mouse2
    panel.ind_a.value = "mouse1"
    assert panel.ind_b.value == "mouse2"
    panel.buttons["join"].click()
    assert "Joined mouse1's frames 56-59 into mouse2" in panel.status_text
    assert np.isfinite(ed.poses[56:, 1]).all() and np.isnan(ed.poses[56:, 0]).all()
    # a refused edit says why and changes nothing
    panel.go_to(30)
    panel.buttons["join"].click()  # mouse2 is not empty on mouse1's segment
    assert panel.status_text.startswith("Not done")
    # delete mouse1's segment under the cursor (frames 12..53)
    panel.buttons["delete"].click()
    assert "Deleted mouse1's frames 12-53" in panel.status_text
    assert np.isnan(ed.poses[GAP[1] : LOST, 0]).all()
    np.testing.assert_allclose(ed.poses[: GAP[0], 0], truth[: GAP[0], 0])
    assert panel.timeline_view.segments[panel.timeline_view.segment_rows == 0].shape[0] == 1
    panel.go_to(10)  # in the gap: nothing to delete
    panel.buttons["delete"].click()
    assert "no points at frame 10" in panel.status_text


def test_reopening_saves_unsaved_edits_first(project):
    config, h5 = project
    panel = TrackProofreader(config)
    panel.go_to(SWAP)
    panel.swap()
    panel.shuffle.value = 2  # no analysis of shuffle 2: the swap is saved before the panel lets go of it
    assert panel.editor is None and "shuffle" in panel.status_text.lower()
    assert panel.status_text.startswith(f"Unsaved edits of {h5.name} were saved first.")
    df = pd.read_hdf(h5)
    scorer = df.columns.get_level_values("scorer")[0]
    truth = truth_tracks(config)
    assert df[(scorer, "mouse1", "snout", "x")].to_numpy()[SWAP] == pytest.approx(truth[SWAP, 0, 0, 0])
    panel.shuffle.value = 1
    assert panel.editor is not None and not panel.editor.dirty


def test_send_edited_frames_to_the_training_set(project):
    from posenb.io.labels import read_labels

    config, _ = project
    panel = TrackProofreader(config)
    panel.buttons["send"].click()
    assert "No edited frames" in panel.status_text
    panel.go_to(30)  # not among the demo's labeled frames
    panel.set_point("mouse1", "snout", 40.0, 30.0)
    panel.buttons["send"].click()
    assert panel.last_sent is not None and panel.last_sent.exists(), panel.status_text
    assert "1 edited frames sent to labeled-data/demo_mice" in panel.status_text
    df = read_labels(panel.last_sent)
    rows = [r for r in df.index if r[-1].endswith("30.png")]
    assert len(rows) == 1, df.index.tolist()
    assert (Path(config).parent / "labeled-data" / "demo_mice" / rows[0][-1]).exists()
    row = df.loc[rows[0]]
    assert row.xs(("mouse1", "snout", "x"), level=["individuals", "bodyparts", "coords"]).iloc[0] == 40.0
    # a frame that already has human labels is left as it is, and the panel says so
    panel.go_to(5)
    panel.set_point("mouse1", "snout", 41.0, 31.0)
    panel.buttons["send"].click()
    assert "already have human labels" in panel.status_text


def test_app_tab_and_single_animal_project(project, demo_project):
    from posenb.widgets.app import PANELS, PosenbApp

    titles = [t for t, _, _ in PANELS]
    assert titles.index("Proofread tracks") == titles.index("Analyze & review") + 1
    config, _ = project
    app = PosenbApp(config)
    panel = app.panel("Proofread tracks")
    assert isinstance(panel, TrackProofreader) and panel.editor is not None
    single = TrackProofreader(demo_project)
    assert single.editor is None and "multi-animal" in single.status_text
    single.buttons["swap"].click()
    assert "Open a project" in single.status_text
    # the app switches to a single-animal project: the edits are saved, the file let go of
    panel.go_to(SWAP)
    panel.swap()
    app.set_config(demo_project)
    assert panel.editor is None and panel.timeline_view is None and panel.drawing is None
    assert panel.status_text.startswith("Unsaved edits of") and "multi-animal" in panel.status_text
