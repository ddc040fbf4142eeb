import numpy as np
import pytest

from posenb.errors import VideoError
from posenb.io.video import VideoWriter, open_video, write_video


@pytest.mark.parametrize("backend", ["decord", "opencv"])
def test_reader_interface(tiny_video, backend):
    r = open_video(tiny_video, backend=backend)
    assert (r.n_frames, r.width, r.height) == (40, 64, 48)
    assert r.fps == pytest.approx(20, abs=0.1)
    f = r.read(10)
    assert f.shape == (48, 64, 3) and f.dtype == np.uint8
    assert abs(float(f[30:, :].mean()) - 50) < 6  # frame i has brightness ~5*i
    batch = r.get_batch([30, 2, 17])
    assert [abs(float(b[30:].mean()) - 5 * i) < 6 for b, i in zip(batch, (30, 2, 17))] == [True] * 3
    chunks = list(r.iter_frames(0, None, chunk=16))
    assert [c[0] for c in chunks] == [0, 16, 32] and sum(len(c[1]) for c in chunks) == 40
    with pytest.raises(IndexError):
        r.read(40)


def test_reduced_size_decoding(tiny_video):
    r = open_video(tiny_video, resize=(32, 24))
    assert r.size == (32, 24) and (r.full_width, r.full_height) == (64, 48)
    assert r.read(0).shape == (24, 32, 3)


@pytest.mark.parametrize("size", [(24, 16), (48, 32)])
def test_tiny_frames_decord_cannot_batch_fall_back_to_opencv(tmp_path, size):
    # decord opens these H.264 files but fails to batch-decode them ("from_size == to_size")
    w, h = size
    frames = np.zeros((6, h, w, 3), np.uint8)
    frames[:, : h // 2] = 200
    r = open_video(write_video(tmp_path / "tiny.mp4", frames))
    batch = r.get_batch(range(6))
    assert batch.shape == (6, h, w, 3)
    assert batch[:, : h // 4].mean() > 190 and batch[:, -(h // 4) :].mean() < 10
    assert sum(len(c) for _, c in r.iter_frames(0, None, chunk=4)) == 6


def test_missing_and_corrupt(tmp_path):
    with pytest.raises(VideoError, match="not found"):
        open_video(tmp_path / "nope.mp4")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(VideoError, match="bad.mp4"):
        open_video(bad)


def test_writer_h264_and_odd_size(tmp_path):
    frames = np.random.default_rng(0).integers(0, 255, (5, 31, 45, 3), dtype=np.uint8)
    path = write_video(tmp_path / "odd.mp4", frames, fps=12)
    r = open_video(path)
    assert r.n_frames == 5 and r.width in (45, 46)
    import subprocess

    import imageio_ffmpeg

    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(path)], capture_output=True, text=True)
    assert "h264" in probe.stderr


def test_writer_interrupted_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError):
        with VideoWriter(tmp_path / "x.mp4", 10, (16, 16)) as w:
            w.write(np.zeros((16, 16, 3), np.uint8))
            raise RuntimeError("stop")
    assert not list(tmp_path.iterdir())


@pytest.mark.shared
def test_random_access_matches_sequential_decoding(openfield_dir):
    """decord's seeks corrupt frames of this file (non-IDR key frames): the reader must still return exact frames."""
    path = openfield_dir / "videos" / "m3v1mp4.mp4"
    r = open_video(path)
    seq = np.concatenate([b for _, b in r.iter_frames(0, 420, chunk=100)])
    r2 = open_video(path)
    for i in (200, 366, 37, 400):
        assert np.abs(r2.read(i).astype(int) - seq[i]).mean() < 1.0, i
    batch = r2.get_batch([390, 183, 250])
    for b, i in zip(batch, (390, 183, 250)):
        assert np.abs(b.astype(int) - seq[i]).mean() < 1.0, i
    # iteration from the middle
    i0, chunk = next(open_video(path).iter_frames(300, 310, chunk=5))
    assert i0 == 300 and np.abs(chunk[0].astype(int) - seq[300]).mean() < 1.0
