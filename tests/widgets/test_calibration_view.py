"""CalibrationView without a browser: a 3D project in tmp_path with stereo board pairs read from
../shared/data/stereo_example plus one pair the board cannot be found in; buttons clicked, files checked."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
cv2 = pytest.importorskip("cv2")

from posenb.threed import (  # noqa: E402
    CalibrationResult,
    CalibrationTuple,
    create_new_project_3d,
    find_calibration_corners,
)
from posenb.widgets.calibration_view import (  # noqa: E402
    CalibrationView,
    corner_preview,
    merge_calibration,
    moved_tuple,
    rms_report,
    row_label,
    table_rows,
    tuple_status,
)

REPO = Path(__file__).resolve().parents[2]
STEREO = Path(os.environ.get("POSENB_SHARED_DATA", REPO.parent / "shared" / "data")) / "stereo_example"
PAIRS = [1, 2, 3, 4, 5]
BAD = "{cam}-99.jpg"  # camera-1 sees a board image, camera-2 a blank frame
JPEG = b"\xff\xd8"


@pytest.fixture
def stereo_project(tmp_path) -> str:
    """3D project (2 cameras) with pairs 1-5 as camera-1-NN.jpg / camera-2-NN.jpg and the unusable pair 99."""
    if not (STEREO / "left01.jpg").is_file():
        pytest.skip("../shared/data/stereo_example is not available")
    config = create_new_project_3d("rig", "tester", num_cameras=2, working_directory=tmp_path)
    dst = Path(config).parent / "calibration_images"
    for i in PAIRS:
        shutil.copy(STEREO / f"left{i:02d}.jpg", dst / f"camera-1-{i:02d}.jpg")
        shutil.copy(STEREO / f"right{i:02d}.jpg", dst / f"camera-2-{i:02d}.jpg")
    shutil.copy(STEREO / "left06.jpg", dst / "camera-1-99.jpg")
    cv2.imwrite(str(dst / "camera-2-99.jpg"), np.full((480, 640), 128, np.uint8))
    return config


def _rms_value(label) -> float:
    return float(re.search(r"([0-9.]+) px", label.value).group(1))


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.jpg"))


# ------------------------------------------------------------------------------------------ pure helpers
def _tuple(key, corners, removed=False, folder="/p/calibration_images"):
    images = {cam: Path(folder) / key.replace("{cam}", cam) for cam in corners}
    return CalibrationTuple(key, images, dict(corners), removed=removed)


def test_status_rows_and_labels():
    pts = np.zeros((54, 2), np.float32)
    ok = _tuple("{cam}-10.jpg", {"camera-1": pts, "camera-2": pts})
    bad = _tuple("{cam}-2.jpg", {"camera-1": pts, "camera-2": None})
    gone = _tuple("{cam}-1.jpg", {"camera-1": pts, "camera-2": pts}, removed=True)
    assert tuple_status(ok)[:2] == ("found", "found in all views")
    assert tuple_status(bad) == ("failed", "failed: not found in camera-2", ["camera-2"])
    assert tuple_status(gone)[0] == "removed" and "found in all views" in tuple_status(gone)[1]

    rows = table_rows([ok, bad, gone])
    assert [r.key for r in rows] == ["{cam}-1.jpg", "{cam}-2.jpg", "{cam}-10.jpg"]  # natural order
    assert [r.status for r in rows] == ["removed", "failed", "found"]
    assert np.isnan(rows[0].max_rms_px)

    rms = {
        "{cam}-10.jpg": {"camera-1": 0.3, "camera-2": 1.4},
        "{cam}-2.jpg": {"camera-1": 0.2, "camera-2": 0.5},
    }
    by_error = table_rows([ok, bad, gone], rms, order="error")
    assert [r.key for r in by_error] == ["{cam}-10.jpg", "{cam}-2.jpg", "{cam}-1.jpg"]
    assert by_error[0].max_rms_px == 1.4
    label = row_label(by_error[0])
    assert " " not in label  # padded with non-breaking spaces (kept by the browser)
    label = label.replace("\u00a0", " ")
    assert label.startswith("\u2713 10 ") and "found in all views" in label and "0.30 / 1.40 px" in label
    with pytest.raises(ValueError):
        table_rows([ok], order="size")


def test_rms_report_flags_errors_above_one_px():
    entries = rms_report({"camera-1": 0.4, "camera-2": 1.3}, {"camera-1-camera-2": float("nan")})
    assert [(e.name, e.kind, e.above) for e in entries] == [
        ("camera-1", "camera", False),
        ("camera-2", "camera", True),
        ("camera-1-camera-2", "pair", True),  # NaN is not a good calibration
    ]
    assert rms_report({"c": 1.0}, {})[0].above is False  # the threshold itself is fine


def test_corner_preview_draws_scaled_corners():
    img = np.zeros((400, 1280, 3), np.uint8)
    corners = np.array([[100.0 + 40 * c, 100.0 + 40 * r] for r in range(2) for c in range(3)], np.float32)
    preview, scale = corner_preview(img, corners, (2, 3), max_width=640)
    assert scale == 0.5 and preview.shape == (200, 640, 3) and preview.dtype == np.uint8
    x, y = (corners[0] * scale).round().astype(int)
    assert preview[y - 6 : y + 7, x - 6 : x + 7].any()  # something drawn around the first corner ...
    assert not preview[150:, 400:].any()  # ... and nothing far from the corners
    assert not img.any()  # the input is left alone
    blank, s = corner_preview(np.zeros((48, 64, 3), np.uint8), None, (2, 3))
    assert s == 1.0 and blank.shape == (48, 64, 3) and not blank.any()
    odd, _ = corner_preview(img, corners[:4], (2, 3))  # count != cbrow*cbcol: corners marked alone
    assert odd.any()


def test_moved_tuple_and_merge_after_calibration(tmp_path):
    pts = np.zeros((4, 2), np.float32)
    a = _tuple("{cam}-1.jpg", {"c1": pts, "c2": pts})
    b = _tuple("{cam}-2.jpg", {"c1": pts, "c2": None})
    old_removed = _tuple("{cam}-3.jpg", {"c1": pts, "c2": pts}, removed=True, folder=tmp_path / "removed")
    moved = moved_tuple(b, tmp_path / "removed", removed=True)
    assert moved.removed and moved.images["c2"] == tmp_path / "removed" / "c2-2.jpg" and not b.removed

    result = CalibrationResult(camera_names=["c1", "c2"], tuples=[a], removed=["{cam}-2.jpg", "{cam}-4.jpg"])
    merged = merge_calibration([a, b, old_removed], result, tmp_path / "removed")
    assert [t.key for t in merged] == ["{cam}-1.jpg", "{cam}-2.jpg", "{cam}-3.jpg", "{cam}-4.jpg"]
    assert [t.removed for t in merged] == [False, True, True, True]
    assert merged[1].corners["c1"] is pts  # corners known from the detection are kept
    assert merged[3].images == {
        "c1": tmp_path / "removed" / "c1-4.jpg",
        "c2": tmp_path / "removed" / "c2-4.jpg",
    }


# ------------------------------------------------------------------------------------------------ panel
@pytest.mark.shared
def test_detect_select_drop_keep_calibrate(stereo_project):
    root = Path(stereo_project).parent
    images, removed = root / "calibration_images", root / "removed_calibration_images"
    view = CalibrationView(stereo_project)
    assert view.config == str(root / "config.yaml") and view.cameras == ["camera-1", "camera-2"]
    assert "12 images in calibration_images/" in view.project_html.value
    assert set(view.image_widgets) == {"camera-1", "camera-2"}
    view.cbrow_input.value, view.cbcol_input.value = 6, 9

    # detect: every tuple listed, the unusable one failed; nothing moved or written
    view.detect_button.click()
    assert view.wait(60), view.status_text
    assert [r.status for r in view.rows] == ["found"] * 5 + ["failed"], view.status_text
    bad = view.rows[-1]
    assert bad.key == BAD and bad.failed_cameras == ["camera-2"]
    assert "5 found in all views, 1 failed, 0 removed" in view.summary_html.value
    assert "failed" in view.table.options[-1][0] and view.table.options[-1][1] == BAD
    assert len(_files(images)) == 12 and _files(removed) == [] and not any((root / "corners").iterdir())
    assert view.pattern == (6, 9)

    # the first tuple is selected: both views as JPEG with the corners drawn
    assert view.table.value == "{cam}-01.jpg"
    for cam in view.cameras:
        assert view.image_widgets[cam].value[:2] == JPEG and len(view.image_widgets[cam].value) > 1000
        assert "54 corners" in view.captions[cam].value
    assert not view.drop_button.disabled and view.keep_button.disabled
    first = bytes(view.image_widgets["camera-1"].value)
    raw = cv2.imencode(".jpg", cv2.imread(str(images / "camera-1-01.jpg")))[1].tobytes()
    assert first != raw  # drawn on, not the file as it is

    # select the failed tuple: camera-2 says so
    view.table.value = BAD
    assert view.image_widgets["camera-2"].value[:2] == JPEG
    assert "board not found" in view.captions["camera-2"].value
    assert "54 corners" in view.captions["camera-1"].value
    assert not view.drop_button.disabled and view.keep_button.disabled

    # drop: files moved, the list says removed, Keep enabled
    view.drop_button.click()
    assert _files(removed) == ["camera-1-99.jpg", "camera-2-99.jpg"] and len(_files(images)) == 10
    assert "10 images in calibration_images/, 2 in removed_calibration_images/" in view.project_html.value
    assert view.table.value == BAD and view.rows[-1].status == "removed"
    assert "1 removed" in view.summary_html.value and view.table.options[-1][0].startswith("\u2013")
    assert view.drop_button.disabled and not view.keep_button.disabled
    assert view.image_widgets["camera-1"].value[:2] == JPEG  # shown from its new place
    assert "removed" in view.captions["camera-1"].value

    # keep: moved back
    view.keep_button.click()
    assert _files(removed) == [] and len(_files(images)) == 12
    assert view.rows[-1].status == "failed" and not view.drop_button.disabled

    # detection again also lists removed tuples (so they can be kept)
    view.drop("{cam}-02.jpg")
    view.detect()
    assert view.wait(60)
    statuses = {r.key: r.status for r in view.rows}
    assert statuses["{cam}-02.jpg"] == "removed" and statuses[BAD] == "failed"
    view.keep("{cam}-02.jpg")
    assert "camera-1-02.jpg" in _files(images)

    # calibrate: the failed pair is moved away by the core, RMS errors shown per camera and pair
    view.calibrate_button.click()
    assert view.wait(120), view.status_text
    assert view.result is not None, view.status_text
    assert set(view.rms_labels) == {"camera-1", "camera-2", "camera-1-camera-2"}
    for name, label in view.rms_labels.items():
        assert 0 < _rms_value(label) < 1.0, (name, label.value)
    assert view.rms_warning.value == ""
    assert "Calibrated with 5 tuples" in view.status_text and "moved 1 tuple(s)" in view.status_text
    assert _files(removed) == ["camera-1-99.jpg", "camera-2-99.jpg"]
    assert (root / "camera_matrix" / "stereo_params.pickle").is_file()
    rows = {r.key: r for r in view.rows}
    assert rows[BAD].status == "removed" and rows[BAD].failed_cameras == ["camera-2"]
    assert set(rows["{cam}-01.jpg"].rms_px) == {"camera-1", "camera-2"}
    assert "RMS" in view.table.options[0][0]
    assert "intrinsic RMS" in view.log_text  # the core's messages, in the panel

    # order by error: the worst tuple first; a drop after calibration asks for a new calibration
    view.order.value = "error"
    worst = view.rows[0]
    assert worst.max_rms_px == max(r.max_rms_px for r in view.rows if r.rms_px)
    view.drop(worst.key)
    assert "calibrate again" in view.rms_warning.value


@pytest.mark.shared
def test_high_rms_warns(stereo_project):
    view = CalibrationView(stereo_project, cbrow=6, cbcol=9, background=False)
    tuples = find_calibration_corners(stereo_project, 6, 9, draw=False)
    result = CalibrationResult(
        camera_names=["camera-1", "camera-2"],
        tuples=[t for t in tuples if t.found],
        camera_rms_px={"camera-1": 0.4, "camera-2": 2.5},
        pair_rms_px={"camera-1-camera-2": 3.0},
    )
    view._show_result(result)
    assert _rms_value(view.rms_labels["camera-2"]) == 2.5
    assert "Above 1 px: camera-2, camera-1-camera-2" in view.rms_warning.value


def test_bad_paths_show_errors_and_write_nothing(tmp_path):
    two_d = tmp_path / "config.yaml"
    two_d.write_text("Task: t\nbodyparts: [a, b]\nproject_path: /x\n")
    (tmp_path / "bad.yaml").write_text("a: [1,\n")
    before = sorted(tmp_path.rglob("*"))

    view = CalibrationView(tmp_path / "nowhere" / "config.yaml")
    assert view.config is None and "Cannot open" in view.status_text and "not found" in view.status_text
    assert "Traceback" not in view.status.value
    assert view.set_config(str(two_d)) is False
    assert view.config is None and "2D project" in view.status_text
    view.path_text.value = str(tmp_path / "bad.yaml")
    view.open_button.click()
    assert view.config is None and "not valid YAML" in view.status_text
    assert view.set_config("  ") is False and "Enter the path" in view.status_text

    for button in (view.detect_button, view.calibrate_button):  # nothing to work on yet
        button.click()
        assert view.wait(10) and "Open a 3D project first" in view.status_text
    view.drop("{cam}-01.jpg")
    assert "Open a 3D project first" in view.status_text
    assert sorted(tmp_path.rglob("*")) == before  # nothing written anywhere


def test_core_errors_are_shown_as_text(tmp_path):
    config = create_new_project_3d("rig", "tester", num_cameras=3, working_directory=tmp_path)
    view = CalibrationView(config, background=False)
    assert view.cameras == ["camera-1", "camera-2", "camera-3"] and len(view.views_box.children) == 3
    assert "No images yet" in view.status_text
    view.calibrate()  # no calibration images: ConfigError from the core
    assert "Calibrating failed" in view.status_text and "No calibration images" in view.status_text
    assert "Traceback" not in view.status.value and view.result is None
    view.detect()
    assert view.rows == [] and "No complete image tuples" in view.status_text
    view.drop("{cam}-01.jpg")  # nothing selected / nothing there
    assert "Drop failed" in view.status_text and "No calibration images" in view.status_text
    # a good project after a bad path: the panel switches; a bad one afterwards keeps it
    assert view.set_config(tmp_path / "missing.yaml") is False and view.config == str(Path(config))
    assert f"{Path(config).parent.name} stays open" in view.status_text
    other = CalibrationView(background=False)
    assert other.config is None and "Enter the config.yaml" in other.status_text
    other.path_text.value = str(Path(config).parent)  # typed (Enter): the folder works too
    assert other.config == str(Path(config)) and other.path_text.value == other.config


def test_app_tab_builds_the_panel(tmp_path):
    from posenb.widgets.app import PANELS, PosenbApp

    config = create_new_project_3d("rig", "tester", working_directory=tmp_path)
    spec = [p for p in PANELS if p[0] == "3D calibration"]
    assert spec == [("3D calibration", "posenb.widgets.calibration_view", "CalibrationView")]
    app = PosenbApp(config, panels=spec)
    panel = app.panel("3D calibration")
    assert isinstance(panel, CalibrationView) and panel.config == str(Path(config))
