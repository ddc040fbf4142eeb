"""Pure canvas geometry and event mapping (posenb.widgets._canvas), and frame encoding (posenb.widgets._image)."""

import numpy as np
import pytest

from posenb.widgets._canvas import (
    MAX_ZOOM,
    View,
    canvas_size_for_image,
    canvas_to_image,
    css_color,
    fit_view,
    image_to_canvas,
    pan_by,
    part_colors,
    to_canvas_event,
    zoom_at,
)
from posenb.widgets._image import encode_image, image_file_bytes, image_size, read_image


def test_fit_view_centres_and_round_trips():
    v = fit_view(320, 240, 640, 480)
    assert v.zoom == 2.0 and v.x0 == 0.0 and v.y0 == 0.0
    v = fit_view(100, 100, 640, 480)  # taller than wide canvas: centred horizontally
    assert v.zoom == pytest.approx(4.8)
    cx, cy = image_to_canvas(v, 0.0, 0.0)
    assert cy == pytest.approx(0.0) and cx == pytest.approx((640 - 480) / 2)
    x, y = canvas_to_image(v, *image_to_canvas(v, 12.34, 56.78))
    assert (x, y) == pytest.approx((12.34, 56.78))


def test_zoom_at_keeps_the_point_under_the_cursor():
    v = fit_view(320, 240, 640, 480)
    before = canvas_to_image(v, 200.0, 150.0)
    z = zoom_at(v, 200.0, 150.0, 2.5)
    assert z.zoom == pytest.approx(5.0)
    assert canvas_to_image(z, 200.0, 150.0) == pytest.approx(before)
    assert zoom_at(v, 0, 0, 1e9).zoom == MAX_ZOOM
    assert zoom_at(v, 0, 0, 1e-9).zoom == pytest.approx(0.5 * v.fit_zoom)


def test_pan_moves_the_image_with_the_mouse_and_stays_in_sight():
    v = zoom_at(fit_view(320, 240, 640, 480), 320, 240, 4.0)
    p = pan_by(v, 40.0, -20.0)
    a = image_to_canvas(v, 100.0, 100.0)
    b = image_to_canvas(p, 100.0, 100.0)
    assert (b[0] - a[0], b[1] - a[1]) == pytest.approx((40.0, -20.0))
    far = pan_by(v, 1e6, 1e6)  # clamped: part of the image remains visible
    x, y = canvas_to_image(far, 640, 480)
    assert x > 0 and y > 0


@pytest.mark.parametrize(
    "size, expected",
    [((320, 240), (640, 480)), ((640, 480), (640, 480)), ((1920, 1080), (960, 540)), ((128, 96), (640, 480))],
)
def test_canvas_size_for_image(size, expected):
    assert canvas_size_for_image(*size) == expected


def test_event_mapping_uses_css_size_and_subpixels():
    # canvas of 640x480 pixels displayed at 320x240 CSS pixels, 10 px from the page corner
    ev = {
        "type": "mousedown",
        "clientX": 110.5,
        "clientY": 60.25,
        "relativeX": 101,
        "relativeY": 50,
        "boundingRectLeft": 10.0,
        "boundingRectTop": 10.0,
        "boundingRectWidth": 320.0,
        "boundingRectHeight": 240.0,
        "button": 2,
        "buttons": 2,
        "shiftKey": True,
    }
    e = to_canvas_event(ev, 640, 480)
    assert e.kind == "down" and e.button == 2 and e.shift
    assert (e.x, e.y) == pytest.approx((201.0, 100.5))
    # without the bounding rectangle, ipyevents' relativeX/Y are used as they are
    e2 = to_canvas_event({"type": "mouseup", "relativeX": 7, "relativeY": 8}, 640, 480)
    assert (e2.kind, e2.x, e2.y) == ("up", 7.0, 8.0)
    k = to_canvas_event({"type": "keydown", "key": "z", "ctrlKey": True}, 640, 480)
    assert k.kind == "key" and k.key == "z" and k.ctrl and k.x is None
    w = to_canvas_event({"type": "wheel", "deltaY": -100, "relativeX": 3, "relativeY": 4}, 640, 480)
    assert w.kind == "wheel" and w.delta == -100
    assert to_canvas_event({"type": "contextmenu"}, 640, 480) is None


def test_part_colors_follow_the_colormap():
    c = part_colors(4, "rainbow")
    assert c.shape == (4, 3) and c.dtype == np.uint8
    assert len({tuple(x) for x in c}) == 4
    with pytest.warns(UserWarning, match="no-such-map.*rainbow"):  # a panel still opens, and says why
        assert np.array_equal(part_colors(3, "no-such-map"), part_colors(3, "rainbow"))
    assert css_color("black") == "#000000" and css_color("not a colour") == "#000000"


def test_encode_and_sizes(tmp_path):
    import cv2

    frame = np.zeros((48, 64, 3), np.uint8)
    frame[:, :32] = (255, 0, 0)
    png = encode_image(frame, "png")
    jpg = encode_image(frame, "jpeg", 90)
    assert png[:4] == b"\x89PNG" and jpg[:2] == b"\xff\xd8"
    assert image_size(png) == (64, 48) and image_size(jpg) == (64, 48)
    path = tmp_path / "img1.png"
    path.write_bytes(png)
    data, size = image_file_bytes(path)  # small PNG: sent as it is
    assert data == png and size == (64, 48)
    data, size = image_file_bytes(path, "jpeg")
    assert data[:2] == b"\xff\xd8" and size == (64, 48)
    back = read_image(path)
    assert back.shape == (48, 64, 3) and tuple(back[0, 0]) == (255, 0, 0)  # RGB order kept
    assert cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR).shape == (48, 64, 3)
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path / "missing.png")


def test_view_is_immutable():
    import dataclasses

    v = View(640, 480, 320, 240, 2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.zoom = 3.0
