"""FrameGrabber without a browser: scrub, grab, crop box, automatic extraction, delete unlabeled frames."""

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ipycanvas")
pytest.importorskip("ipyevents")

from _comm_recorder import canvas_commands, dom_event, record_messages, send_custom  # noqa: E402

from posenb.project.config import read_config  # noqa: E402
from posenb.widgets.frame_grabber import FrameGrabber, crop_from_points, labeled_images  # noqa: E402


@pytest.fixture
def grabber(demo_project):
    g = FrameGrabber(demo_project)
    cfg = read_config(demo_project)
    return g, Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"


def test_scrubbing_sends_the_decoded_frame_as_jpeg(grabber, monkeypatch):
    import cv2

    from posenb.frames.extract import read_exact_frames

    g, _ = grabber
    assert g.slider.max == 59 and g.play.max == 59
    assert "posenb-grabber-canvas" in g.image_canvas.widget._dom_classes
    messages = record_messages(monkeypatch)
    g.slider.value = 17
    puts = [c for c in canvas_commands(messages) if c[0] == "putImageData"]
    assert len(puts) == 1 and puts[0][2][0][:2] == b"\xff\xd8"
    shown = cv2.cvtColor(
        cv2.imdecode(np.frombuffer(puts[0][2][0], np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB
    )
    frames = dict(read_exact_frames(g.source.path, range(14, 21)))
    diff = {i: np.abs(shown.astype(int) - f.astype(int)).mean() for i, f in frames.items()}
    assert min(diff, key=diff.get) == 17 and diff[17] < 5  # frame-exact (JPEG noise aside)
    assert "frame <b>17</b>" in g.frame_info.value
    g.step_buttons[3].click()  # +10
    assert g.slider.value == 27
    g.step_buttons[0].click()  # -10
    assert g.slider.value == 17


def test_grab_writes_dlc_named_pngs_and_never_overwrites(grabber):
    g, folder = grabber
    g.slider.value = 7
    assert g.grab() == [7]
    assert (folder / "img07.png").is_file() and "Saved" in g.message.value
    labeled = sorted(labeled_images(folder))[0]
    before = (folder / labeled).stat().st_mtime_ns
    idx = int(labeled[3:-4])
    assert g.grab(idx) == []  # a labeled frame exists: kept as it is
    assert (folder / labeled).stat().st_mtime_ns == before and "never overwritten" in g.message.value
    saved = g.grab_range(20, 31, 5)
    assert saved == [20, 25, 30]
    assert all((folder / f"img{i:02d}.png").is_file() for i in (20, 25, 30))
    assert g.grab_range(10, 5) == [] and "Empty range" in g.message.value
    listed = dict((v, label) for label, v in g.frame_list.options)
    assert listed["img07.png"] == "img07.png" and listed[labeled].endswith("(labeled)")


def test_crop_box_drawn_with_the_mouse_is_saved_to_config(grabber, demo_project):
    g, _ = grabber
    ev = g.image_canvas._events
    assert g.image_canvas.view.zoom == 5.0
    g.crop_mode.value = True
    send_custom(ev, dom_event("mousedown", 100, 100, buttons=1))
    send_custom(g.image_canvas._moves, dom_event("mousemove", 200, 200, buttons=1))
    send_custom(ev, dom_event("mouseup", 302, 251))
    assert g.crop_text.value == "20, 61, 20, 51"
    assert g.save_crop()
    cfg = read_config(demo_project)
    assert next(iter(cfg["video_sets"].values()))["crop"] == "20, 61, 20, 51"
    g.crop_text.value = "0, 500, 0, 10"
    assert not g.save_crop() and "exceeds" in g.message.value
    # without crop mode a drag does not change the box; shift-drag pans, the wheel zooms
    g.crop_mode.value = False
    g.crop_text.value = "20, 61, 20, 51"
    send_custom(ev, dom_event("wheel", 320, 240, deltaY=-200))
    assert g.image_canvas.view.zoom > 5.0
    send_custom(ev, dom_event("mousedown", 10, 10, buttons=1))
    send_custom(ev, dom_event("mouseup", 200, 200))
    assert g.crop_text.value == "20, 61, 20, 51"


def test_grab_cropped_frame(grabber):
    import cv2

    g, folder = grabber
    g.crop_text.value = "10, 50, 20, 60"
    assert g.save_crop()
    g.crop_check.value = True
    g.slider.value = 3
    assert g.grab() == [3]
    assert cv2.imread(str(folder / "img03.png")).shape == (40, 40, 3)


def test_automatic_extraction_and_delete_only_unlabeled(grabber, demo_project):
    g, folder = grabber
    n_before = len(list(folder.glob("*.png")))
    g.algo.value = "uniform"
    g.n_pick.value = 3
    result = g.extract()
    assert sum(len(v) for v in result.values()) == 3
    assert len(list(folder.glob("*.png"))) == n_before + 3
    assert read_config(demo_project)["numframes2pick"] == 3
    assert "Extracted 3" in g.message.value
    new = [f"img{i:02d}.png" for i in next(iter(result.values()))]
    labeled = sorted(labeled_images(folder))
    g.frame_list.value = (new[0], labeled[0])
    deleted = g.delete_selected()
    assert deleted == [new[0]] and not (folder / new[0]).exists() and (folder / labeled[0]).exists()
    assert "Kept 1 labeled" in g.message.value


def test_crop_from_points():
    assert crop_from_points((10.4, 50.0), (2.2, 20.7), 64, 48) == (2, 11, 20, 48)
    assert crop_from_points((1, 1), (1.5, 30), 64, 48) is None


def test_counts_name_hand_labels_and_machine_labels_apart(demo_project):
    """Issue 15: machine-labeled outlier frames are not counted as labeled (the Label tab counts hand labels)."""
    import pandas as pd

    from posenb.widgets.frame_grabber import labeled_image_sets

    cfg = read_config(demo_project)
    folder = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse"
    human = labeled_images(folder)
    extra = "img0059.png"
    (folder / extra).write_bytes((folder / sorted(human)[0]).read_bytes())
    cols = pd.MultiIndex.from_product(
        [["DLC_x"], cfg["bodyparts"], ["x", "y", "likelihood"]], names=["scorer", "bodyparts", "coords"]
    )
    rows = [("labeled-data", "demo_mouse", extra), ("labeled-data", "demo_mouse", sorted(human)[0])]
    df = pd.DataFrame(np.ones((2, len(cols))), columns=cols, index=pd.MultiIndex.from_tuples(rows))
    df.to_hdf(folder / "machinelabels-iter0.h5", key="df_with_missing", mode="w")
    assert labeled_image_sets(folder) == (human, {extra})  # a hand-labeled image stays a hand label
    g = FrameGrabber(demo_project)
    n = len(list(folder.glob("*.png")))
    assert g.list_info.value == (
        f"{n} frame(s), {len(human)} labeled by hand, 1 with machine labels only (check them in the Refine tab)"
    )
    assert (f"{extra}  (machine labels)", extra) in g.frame_list.options
