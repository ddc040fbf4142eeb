"""The ffmpeg-pipe reader of analyze_videos: same frames as decord's, and memory that does not grow with the
video while the network is slow (issue 11, item 7)."""

import time
from pathlib import Path

import numpy as np
import pytest

from posenb.errors import VideoError
from posenb.io.video import VideoWriter, open_video
from posenb.io.video_stream import FFmpegPipeReader, ffmpeg_exe, open_stream

pytestmark = pytest.mark.skipif(ffmpeg_exe() is None, reason="imageio-ffmpeg's binary is missing")


def _rss_mb() -> float:
    import os

    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _moving_square_video(path: Path, n: int, size=(640, 480)) -> Path:
    """A square moving over a gradient: cheap to encode, and every decoded frame costs a full frame of memory."""
    w, h = size
    base = np.broadcast_to(np.linspace(0, 120, w, dtype=np.uint8)[None, :, None], (h, w, 3))
    with VideoWriter(path, 30, size, preset="ultrafast") as writer:
        for i in range(n):
            frame = base.copy()
            x = (5 * i) % (w - 40)
            frame[60:100, x : x + 40] = 255
            writer.write(frame)
    return path


def test_pipe_reader_decodes_the_same_frames_as_decord(tiny_video):
    with open_video(tiny_video) as ref_reader:
        ref = np.concatenate([b for _, b in ref_reader.iter_frames(0, None, 16)])
    reader = open_stream(tiny_video)
    assert isinstance(reader, FFmpegPipeReader)
    assert (reader.n_frames, reader.size, reader.fps) == (40, (64, 48), pytest.approx(20, abs=0.1))
    chunks = list(reader.iter_frames(chunk=16))
    assert [i0 for i0, _ in chunks] == [0, 16, 32]
    assert np.array_equal(np.concatenate([c for _, c in chunks]), ref)
    i0, part = next(reader.iter_frames(25, 30, chunk=8))  # from the middle, stop respected
    assert i0 == 25 and np.array_equal(part, ref[25:30])
    assert [np.array_equal(f, ref[i]) for f, i in zip(reader.get_batch([33, 4]), (33, 4))] == [True, True]
    reader.close()
    assert reader._proc is None and reader._exact is None


def test_pipe_reader_decodes_at_reduced_size_like_decord(tiny_video):
    with open_video(tiny_video, resize=(32, 24)) as ref_reader:
        ref = np.concatenate([b for _, b in ref_reader.iter_frames(0, None, 64)])
    with open_stream(tiny_video, resize=(32, 24)) as reader:
        got = np.concatenate([b for _, b in reader.iter_frames(chunk=64)])
    assert got.shape == ref.shape == (40, 24, 32, 3)
    assert np.abs(got.astype(int) - ref).mean() < 4.0  # decord cannot decode this tiny file: OpenCV's resize


@pytest.mark.shared
def test_pipe_reader_equals_decord_on_the_mouse_video(openfield_dir):
    """Full size and decoded at half size (analysis' decoder resize): bit-identical to decord's frames."""
    video = openfield_dir / "videos" / "m3v1mp4.mp4"
    for resize in (None, (320, 240)):
        with open_video(video, resize=resize) as ref_reader, open_stream(video, resize=resize) as reader:
            assert isinstance(reader, FFmpegPipeReader) and reader.n_frames == ref_reader.n_frames == 2330
            ref = np.concatenate([b for _, b in ref_reader.iter_frames(0, 90, 32)])
            got = np.concatenate([b for _, b in reader.iter_frames(0, 90, 32)])
            assert np.array_equal(got, ref), resize


def test_stopping_early_ends_ffmpeg(tiny_video):
    reader = open_stream(tiny_video)
    frames = reader.iter_frames(chunk=4)
    next(frames)
    proc = reader._proc
    assert proc is not None and proc.poll() is None  # ffmpeg waits on the full pipe
    frames.close()
    assert proc.returncode is not None and reader._proc is None


def test_a_file_ffmpeg_cannot_decode_raises_video_error(tmp_path, tiny_video):
    reader = FFmpegPipeReader(tiny_video)
    reader.path = tmp_path / "gone.mp4"  # the file disappears after opening
    with pytest.raises(VideoError, match="gone.mp4"):
        list(reader.iter_frames())


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the resident size from /proc")
def test_analysis_memory_stays_flat_while_the_network_is_slow(tmp_path):
    """analyze_video with a slow stand-in network: the decoder must wait for it instead of decoding ahead.

    With decord's reader, frames decoded ahead piled up (growing with the video); the pipe holds a few frames and
    FrameStream's queue 3 batches (~22 MB of 640x480 frames). Measured: decord +130 MB, the pipe +24 MB. Bound: 60 MB, whatever the machine's speed.
    """
    from posenb.infer.analyze import analyze_video

    video = _moving_square_video(tmp_path / "long.mp4", 320)

    class SlowNet:
        input_scale = 1.0
        num_joints = 2
        rss: list[float] = []

        def predict(self, frames):
            self.rss.append(_rss_mb())
            time.sleep(0.06)
            out = np.zeros((len(frames), 2, 3))
            out[:, :, 0] = frames[:, 80, :2, 0]  # something read from the frames
            return out

    net = SlowNet()
    pred, info = analyze_video(net, video, batch_size=8, progress=False)
    assert info["decoded"] == 320 and pred.shape == (320, 2, 3) and not np.isnan(pred).any()
    assert len(net.rss) == 40
    growth = max(net.rss) - net.rss[3]
    assert growth < 60, f"resident memory grew by {growth:.0f} MB while analysing (decoder running ahead?)"
