"""ShortenVideo, CropVideo, DownSampleVideo and check_video_integrity on tiny synthetic videos (no ffmpeg on PATH)."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pytest

from posenb.errors import ConfigError, VideoError
from posenb.io.video import open_video, write_video
from posenb.io.video_tools import (
    CropVideo,
    DownSampleVideo,
    ShortenVideo,
    _output_path,
    check_video_integrity,
    parse_time,
)


def _digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _frames(path) -> np.ndarray:
    r = open_video(path, backend="opencv")  # decord cannot decode some small sizes (e.g. 24 x 16)
    out = np.concatenate([b for _, b in r.iter_frames(0, None, chunk=64)])
    r.close()
    return out


@pytest.fixture
def pattern_video(tmp_path) -> Path:
    """30 frames, 80 x 60, 10 fps: smooth gradients (codec friendly), a white 8 x 8 block at the top-left corner."""
    y, x = np.mgrid[0:60, 0:80]
    frames = []
    for i in range(30):
        f = np.stack([2 * x + i, 3 * y + 2 * i, (x + y) + 3 * i], axis=-1).clip(0, 255).astype(np.uint8)
        f[2:10, 2:10] = 255
        frames.append(f)
    return Path(write_video(tmp_path / "src" / "pattern.mp4", frames, fps=10))


def test_parse_time():
    assert parse_time("00:01:02") == 62 and parse_time("01:30") == 90 and parse_time("5") == 5
    assert parse_time("00:00:01.25") == 1.25 and parse_time(3) == 3.0 and parse_time("1:00:00") == 3600
    for bad in ("abc", "1:2:3:4", "00:61:00", "00:00:75", "-1", "", True, -2.0):
        with pytest.raises(ConfigError):
            parse_time(bad)


def test_shorten(tiny_video, tmp_path):
    before = _digest(tiny_video)
    out = ShortenVideo(tiny_video, start="00:00:00.5", stop="00:00:01.5")  # 20 fps: frames 10..29
    assert out == str(tiny_video.parent / "tinyshort.mp4")
    frames = _frames(out)
    assert frames.shape == (20, 48, 64, 3)
    means = frames[:, 30:].reshape(20, -1).mean(axis=1)  # frame i of the source has brightness ~5 * i
    assert np.abs(means - 5 * np.arange(10, 30)).max() < 4
    assert open_video(out).fps == pytest.approx(20, abs=0.1)
    assert _digest(tiny_video) == before  # the input is untouched
    # numbers of seconds, another folder and suffix
    out2 = ShortenVideo(tiny_video, start=0, stop=1, outsuffix="_first", outpath=tmp_path / "clips")
    assert Path(out2) == tmp_path / "clips" / "tiny_first.mp4" and open_video(out2).n_frames == 20
    assert not [p for p in tiny_video.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_shorten_stop_past_the_end_and_bad_ranges(tiny_video):
    with pytest.warns(UserWarning, match="past the end"):
        out = ShortenVideo(tiny_video, start="00:00:01", stop="00:01:00")  # DLC's default stop
    assert open_video(out).n_frames == 20
    with pytest.raises(ConfigError, match="before stop"):
        ShortenVideo(tiny_video, start="00:00:01", stop="00:00:01", outsuffix="x")
    with pytest.raises(ConfigError, match="past the end"):
        ShortenVideo(tiny_video, start="00:00:05", stop="00:00:09", outsuffix="x")
    with pytest.raises(ConfigError, match="hh:mm:ss"):
        ShortenVideo(tiny_video, start="one second", outsuffix="x")
    assert not (tiny_video.parent / "tinyx.mp4").exists()
    with pytest.raises(VideoError, match="not found"):
        ShortenVideo(tiny_video.parent / "missing.mp4")


def test_never_overwrites_the_input_and_keeps_existing_outputs(tiny_video, capsys):
    before = _digest(tiny_video)
    with pytest.raises(ConfigError, match="overwrite the input"):
        ShortenVideo(tiny_video, outsuffix="")
    with pytest.raises(ConfigError, match="overwrite the input"):
        CropVideo(tiny_video, outsuffix="", outpath=tiny_video.parent)
    assert _digest(tiny_video) == before
    out = DownSampleVideo(tiny_video, height=24)
    first = _digest(out)
    assert DownSampleVideo(tiny_video, height=12) == out  # DLC (ffmpeg -n): an existing output is kept
    assert "exists already" in capsys.readouterr().out and _digest(out) == first
    DownSampleVideo(tiny_video, height=12, overwrite=True)
    assert open_video(out).size == (16, 12)


def test_output_name_for_containers_without_h264(tmp_path):
    src = tmp_path / "clip.mpg"
    src.write_bytes(b"x")
    assert _output_path(src, "short", None) == tmp_path / "clipshort.mp4"
    assert _output_path(tmp_path / "clip.mpg", "", tmp_path / "o") == tmp_path / "o" / "clip.mp4"


def test_crop_content(pattern_video):
    out = CropVideo(pattern_video, width=24, height=16, origin_x=10, origin_y=8)
    assert out == str(pattern_video.parent / "patterncropped.mp4")
    src, crop = _frames(pattern_video), _frames(out)
    assert crop.shape == (30, 16, 24, 3)
    diff = np.abs(crop.astype(int) - src[:, 8:24, 10:34].astype(int))
    assert diff.mean() < 3 and np.percentile(diff, 99) < 16  # H.264 tolerance
    # the white block (2..9) lies partly inside the box: at box coordinates 0..-1 -> none; check a box holding it
    out2 = CropVideo(pattern_video, width=12, height=12, origin_x=0, origin_y=0, outsuffix="corner")
    corner = _frames(out2)
    assert corner.shape == (30, 12, 12, 3) and corner[:, 3:9, 3:9].min() > 200


def test_crop_odd_size_is_padded_by_one_pixel(pattern_video):
    out = CropVideo(pattern_video, width=21, height=15, origin_x=5, origin_y=5)
    crop, src = _frames(out), _frames(pattern_video)
    assert crop.shape[1:3] == (16, 22)
    assert np.abs(crop[:, :15, :21].astype(int) - src[:, 5:20, 5:26].astype(int)).mean() < 4


def test_crop_box_checks(pattern_video):
    with pytest.warns(UserWarning, match="reaches past"):
        out = CropVideo(pattern_video, width=256, height=256, origin_x=40, origin_y=20)  # DLC's default size
    assert open_video(out).size == (40, 40)
    for kwargs in (
        dict(origin_x=80, origin_y=0),  # starts right of the 80-pixel frame
        dict(origin_x=0, origin_y=60),
        dict(origin_x=-1),
        dict(width=0),
    ):
        with pytest.raises(ConfigError, match="crop box"):
            CropVideo(pattern_video, outsuffix="bad", **kwargs)
    with pytest.raises(ConfigError, match="FrameGrabber"):
        CropVideo(pattern_video, useGUI=True, outsuffix="bad")
    assert not (pattern_video.parent / "patternbad.mp4").exists()


def test_downsample_sizes(pattern_video):
    out = DownSampleVideo(pattern_video)  # DLC's default: height 200, aspect kept -> upscaled 267 -> even 266
    assert open_video(out).size == (266, 200) and open_video(out).n_frames == 30
    assert open_video(DownSampleVideo(pattern_video, height=30, outsuffix="h30")).size == (40, 30)
    assert open_video(DownSampleVideo(pattern_video, width=40, height=-1, outsuffix="w40")).size == (40, 30)
    assert open_video(DownSampleVideo(pattern_video, width=20, height=30, outsuffix="free")).size == (20, 30)
    small = _frames(pattern_video.parent / "patternh30.mp4")
    src = _frames(pattern_video)
    import cv2

    ref = cv2.resize(src[12], (40, 30), interpolation=cv2.INTER_AREA)
    assert np.abs(small[12].astype(int) - ref.astype(int)).mean() < 4
    for bad in (dict(width=0), dict(height=-3), dict(rotatecw="sideways"), dict(width="wide")):
        with pytest.raises(ConfigError):
            DownSampleVideo(pattern_video, outsuffix="bad", **bad)


def test_downsample_rotation(pattern_video):
    src = _frames(pattern_video)
    out = DownSampleVideo(pattern_video, width=-1, height=-1, rotatecw="Yes", outsuffix="cw")
    rot = _frames(out)
    assert rot.shape == (30, 80, 60, 3)  # 90 degrees clockwise: 80 x 60 -> 60 x 80
    # clockwise: the block at the top-left corner goes to the top-right corner
    assert rot[:, 2:10, -10:-2].min() > 200 and rot[:, 2:10, 2:10].min(axis=-1).max() < 100
    assert np.abs(rot[5].astype(int) - np.rot90(src[5], k=-1).astype(int)).mean() < 3

    out = DownSampleVideo(pattern_video, -1, -1, rotatecw="Arbitrary", angle=180, outsuffix="a180")
    turned = _frames(out)
    assert turned.shape == src.shape
    assert np.abs(turned[5, 5:-5, 5:-5].astype(int) - src[5, ::-1, ::-1][5:-5, 5:-5].astype(int)).mean() < 4

    # an arbitrary angle keeps the size and fills the corners black
    out = DownSampleVideo(pattern_video, -1, 30, rotatecw="Arbitrary", angle=30, outsuffix="a30")
    tilted = _frames(out)
    assert tilted.shape == (30, 30, 40, 3) and tilted[:, 0, 0].max() < 30


def test_avi_keeps_its_extension(tmp_path):
    """Also a 48 x 32 source, a size decord 0.6 cannot decode: the tools fall back to OpenCV."""
    frames = [np.full((32, 48, 3), 8 * i, np.uint8) for i in range(12)]
    src = write_video(tmp_path / "clip.avi", frames, fps=12)
    out = DownSampleVideo(src, width=24, height=-1)
    assert out == str(tmp_path / "clipdownsampled.avi")
    r = open_video(out, backend="opencv")
    assert (r.n_frames, r.size) == (12, (24, 16))


def test_integrity_of_a_good_video(tiny_video):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = check_video_integrity(tiny_video)
    assert report == {
        "video": str(tiny_video),
        "header_frames": 40,
        "decoded_frames": 40,
        "failed_frames": [],
        "decoder_errors": [],
        "ok": True,
    }


def test_integrity_of_a_truncated_video(tmp_path):
    import imageio_ffmpeg

    path = tmp_path / "fast.mp4"  # index at the front, so the header survives truncation
    gen = imageio_ffmpeg.write_frames(
        str(path),
        (64, 48),
        fps=20,
        codec="libx264",
        pix_fmt_in="rgb24",
        output_params=["-movflags", "+faststart"],
        macro_block_size=1,
        ffmpeg_log_level="error",
    )
    gen.send(None)
    rng = np.random.default_rng(0)
    for _ in range(40):
        gen.send(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))  # noise: every frame takes real space
    gen.close()
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match="announces 40 frames"):
        report = check_video_integrity(cut)
    assert report["header_frames"] == 40 and not report["ok"]
    assert 0 < report["decoded_frames"] < 40
    assert report["decoded_frames"] + len(report["failed_frames"]) == 40
    assert report["failed_frames"][-1] == 39 and report["decoder_errors"]


def test_integrity_of_unreadable_files(tiny_video, tmp_path):
    data = tiny_video.read_bytes()
    cut = tmp_path / "nomoov.mp4"  # posenb's writer puts the index at the end: a cut loses it
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match="nomoov.mp4"):
        check_video_integrity(cut)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(VideoError, match="junk.mp4"):
        check_video_integrity(junk)
    with pytest.raises(VideoError, match="not found"):
        check_video_integrity(tmp_path / "none.mp4")
