"""Following the animal (posenb.infer.follow): the window's placement, its fall-backs and its key points.

The window logic is checked with a context-free "network" (two coloured blobs found by argmax), for which the
window's result must be the whole frame's exactly; the trained demo model checks the real path end to end.
"""

from __future__ import annotations

import numpy as np
import pytest

from posenb.errors import ConfigError
from posenb.infer.follow import ALIGN, Follower, resolve_dynamic


class BlobNet:
    """A stand-in Predictor: part k is the brightest pixel of colour channel k (likelihood = value / 255)."""

    input_scale = 1.0
    train_crop = (32, 32)  # the context the "network" was trained with: a 128 px window at least

    def __init__(self):
        self.calls: list[tuple[int, int, int]] = []  # (n, h, w) of every run

    def scaled_size(self, width, height, scale=1.0):
        return width, height

    def run(self, frames):
        n, h, w = frames.shape[:3]
        self.calls.append((n, h, w))
        out = np.zeros((n, 2, 3))
        for k in range(2):
            flat = frames[..., k].reshape(n, -1)
            idx = flat.argmax(axis=1)
            out[:, k, 0], out[:, k, 1] = idx % w, idx // w
            out[:, k, 2] = flat.max(axis=1) / 255.0
        return out


def _video(path_xy, size=(640, 480), gap=30):
    """Frames with a red blob at each (x, y) of ``path_xy`` (None: no animal) and a green one ``gap`` px right."""
    w, h = size
    frames = np.zeros((len(path_xy), h, w, 3), np.uint8)
    for i, xy in enumerate(path_xy):
        if xy is None:
            continue
        x, y = xy
        frames[i, y - 1 : y + 2, x - 1 : x + 2, 0] = 200
        frames[i, y, x, 0] = 250
        frames[i, y - 1 : y + 2, x + gap - 1 : x + gap + 2, 1] = 200
        frames[i, y, x + gap, 1] = 250
    return frames


def _analyse(net, frames, batch=8, **kw):
    follower = Follower(net, (frames.shape[2], frames.shape[1]), **kw)
    out = np.concatenate([follower.predict(frames[i : i + batch]) for i in range(0, len(frames), batch)])
    return out, follower


def test_resolve_dynamic_reads_deeplabcut_and_posenb_values():
    assert resolve_dynamic("auto") == ("auto", 0.5, 10) and resolve_dynamic(None)[0] == "auto"
    assert resolve_dynamic((False, 0.5, 10))[0] == "off" and resolve_dynamic(False)[0] == "off"
    assert resolve_dynamic((True, 0.3, 20)) == ("on", 0.3, 20.0) and resolve_dynamic(True)[0] == "on"
    assert resolve_dynamic(("auto", 0.4, 5)) == ("auto", 0.4, 5.0)
    assert resolve_dynamic((False,)) == ("off", 0.5, 10) and resolve_dynamic((True, 0.3)) == ("on", 0.3, 10)
    for bad in ("yes", (True, 0.5, 10, 1), (True, 2.0, 10), (True, 0.5, -1), (), ("yes", 0.5, 10)):
        with pytest.raises(ConfigError, match="dynamic="):
            resolve_dynamic(bad)


def test_window_result_is_the_whole_frames_and_costs_a_fraction():
    xs = np.linspace(60, 300, 120).round().astype(int)  # walks ~2 px per frame
    ys = (240 + 100 * np.sin(np.linspace(0, 3, 120))).round().astype(int)
    frames = _video(list(zip(xs, ys)))
    net = BlobNet()
    out, follower = _analyse(net, frames)
    whole = BlobNet().run(frames)
    np.testing.assert_array_equal(out, whole)
    s = follower.side
    assert s == 128  # the blobs' extent (30 px) + 2 x 48, rounded up to a multiple of 32
    windows = [c for c in net.calls if c[1:] != (480, 640)]
    assert windows and {c[1:] for c in windows} == {(s, s)}  # one window size: one compiled shape
    assert follower.followed >= 100 and follower.whole <= 20
    pixels = sum(n * h * w for n, h, w in net.calls)
    assert pixels < 0.25 * len(frames) * 480 * 640


def test_window_origin_is_on_the_network_grid():
    frames = _video([(301 + i, 203 + i) for i in range(40)])
    follower = Follower(BlobNet(), (640, 480))
    for i in range(0, 40, 8):
        follower.predict(frames[i : i + 8])
        if follower.side and follower._box is not None:
            x0, y0 = follower._window_origin()
            assert x0 % ALIGN == 0 and y0 % ALIGN == 0
            assert 0 <= x0 <= 640 - follower.side and 0 <= y0 <= 480 - follower.side


def test_a_jump_out_of_the_window_and_a_lost_animal_go_back_to_whole_frames():
    path = [(200 + i, 200) for i in range(20)] + [(560, 420)] * 4 + [None] * 6 + [(100, 100)] * 20
    frames = _video(path)
    out, follower = _analyse(BlobNet(), frames)
    np.testing.assert_array_equal(out, BlobNet().run(frames))
    assert follower.redone >= 1  # the jump was caught inside a batch and analysed whole
    assert follower.followed >= 20  # followed before the jump and again after the animal came back


def test_auto_does_not_follow_where_the_window_would_not_pay_but_on_does():
    frames = _video([(40 + i, 60) for i in range(16)], size=(192, 160))
    out, auto = _analyse(BlobNet(), frames, mode="auto")
    assert auto.side == 0 and auto.followed == 0 and auto.whole == 16
    out_on, on = _analyse(BlobNet(), frames, mode="on")
    assert on.side == 128 and on.followed > 0  # 128 x 128 > half of 192 x 160
    np.testing.assert_array_equal(out_on, out)


def test_a_window_that_keeps_missing_grows():
    # an animal that stretches: the gap between the blobs grows from 20 to 150 px
    frames = np.concatenate([_video([(200, 240)], gap=g) for g in np.linspace(20, 150, 600).astype(int)])
    out, follower = _analyse(BlobNet(), frames)
    np.testing.assert_array_equal(out, BlobNet().run(frames))
    assert follower.side > 20 + 96 + ALIGN  # grew beyond the first choice
    assert follower.followed > 300
