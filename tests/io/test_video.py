import numpy as np
import pytest

from posenb.errors import VideoError
from posenb.io.video import MAX_GRAB, OpenCVReader, VideoWriter, open_frame_exact, open_video, write_video


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


class _SeekCounter:
    """An OpenCV capture that records its seeks."""

    def __init__(self, cap):
        self.cap, self.seeks = cap, []

    def set(self, prop, value):
        self.seeks.append(int(value))
        return self.cap.set(prop, value)

    def __getattr__(self, name):
        return getattr(self.cap, name)


def test_frame_exact_reader_reads_forward_near_and_seeks_far(tmp_path):
    """Scrubbing order (forward steps, a far jump, back): every frame equals the sequential decode, and only
    the jumps seek (forward steps up to MAX_GRAB frames are decoded, not sought: OpenCV seeks can be inexact)."""
    rng = np.random.default_rng(1)
    frames = []
    for i in range(150):
        f = np.full((48, 64, 3), 20, np.uint8)
        f[:, : 1 + i % 64] = (250, (7 * i) % 256, 90)  # width and colour encode the index
        f[30:] = rng.integers(0, 40, (18, 64, 3), dtype=np.uint8)
        frames.append(f)
    video = write_video(tmp_path / "gop.mp4", frames, fps=30)
    with open_video(video) as seq:
        ref = np.concatenate([b for _, b in seq.iter_frames(0, None, 64)])
    reader = open_frame_exact(video)
    assert isinstance(reader, OpenCVReader) and reader.n_frames == 150
    reader._cap = cap = _SeekCounter(reader._cap)
    order = [1, 2, 5, 5 + MAX_GRAB, 120, 40, 41, 149, 0]
    for i in order:
        assert np.array_equal(reader.read(i), ref[i]), i
    assert cap.seeks == [120, 40, 149, 0]
    assert [np.array_equal(b, ref[i]) for b, i in zip(reader.get_batch([90, 10, 60]), (90, 10, 60))] == [
        True
    ] * 3
    reader.close()


def test_frame_exact_reader_names_a_file_opencv_cannot_open(tmp_path):
    bad = tmp_path / "notavideo.mp4"
    bad.write_bytes(b"not a video at all" * 10)
    with pytest.raises(VideoError, match="notavideo.mp4"):
        open_frame_exact(bad)


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
