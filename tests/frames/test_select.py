"""Frame choosers: DLC's interval and uniform sample, thumbnails decoded at reduced size, k-means picks."""

from __future__ import annotations

import numpy as np
import pytest

from posenb.errors import ConfigError
from posenb.frames.select import (
    _decode_runs,
    frame_range,
    load_thumbnails,
    select_kmeans,
    thumbnail_geometry,
    uniform_indices,
)


def scene_frames(n_scenes: int = 4, per_scene: int = 12, size=(64, 48), seed: int = 0) -> list[np.ndarray]:
    """Frames of ``n_scenes`` clearly different scenes (colour + pattern), each held ``per_scene`` frames with noise."""
    w, h = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    scenes = []
    for s in range(n_scenes):
        base = np.zeros((h, w, 3), np.float64)
        base[..., s % 3] = 60 + 50 * s
        base += 80 * (((xx // (4 + 4 * s)) + (yy // (4 + 4 * s))) % 2)[..., None]
        scenes.append(base)
    frames = []
    for s in range(n_scenes):
        for _ in range(per_scene):
            f = scenes[s] + rng.normal(0, 4, scenes[s].shape)
            frames.append(np.clip(f, 0, 255).astype(np.uint8))
    return frames


@pytest.fixture
def scene_video(tmp_path):
    from posenb.io.video import write_video

    return write_video(tmp_path / "scenes.mp4", scene_frames(), fps=10)


def test_frame_range_is_dlc_interval():
    assert frame_range(1000, 0, 1) == (0, 1000)
    assert frame_range(1000, 0.1, 0.5) == (100, 500)
    assert frame_range(10, 0.0, 0.55) == (0, 6)  # ceil(n * stop)
    assert frame_range(7, 0.5, 1) == (3, 7)  # floor(n * start)
    for start, stop in [(0.5, 0.5), (0.8, 0.2), (-0.1, 1), (0, 1.5), ("0", 1), (True, 1)]:
        with pytest.raises(ConfigError, match="0 <= start < stop <= 1"):
            frame_range(100, start, stop)


def test_uniform_indices_random_sample_without_replacement():
    a = uniform_indices(100, 10, 0.2, 0.6, rng=1)
    assert len(a) == 10 and len(set(a.tolist())) == 10
    assert list(a) == sorted(a) and a.min() >= 20 and a.max() < 60
    assert np.array_equal(a, uniform_indices(100, 10, 0.2, 0.6, rng=1))  # seeded: reproducible
    assert not np.array_equal(np.diff(a), np.full(9, np.diff(a)[0]))  # not evenly spaced
    b = uniform_indices(100, 10, 0.2, 0.6, rng=1, exclude=a.tolist())
    assert len(b) == 10 and not set(a.tolist()) & set(b.tolist())
    small = uniform_indices(10, 20, 0, 0.5, rng=0, exclude=[0, 1])
    assert small.tolist() == [2, 3, 4]  # fewer free frames than asked: all of them


def test_thumbnail_geometry_and_upsampling_error():
    size, (rows, cols) = thumbnail_geometry(640, 480, 30)
    assert size[0] == 30 and size[1] in (22, 23)
    assert (rows.stop - rows.start, cols.stop - cols.start) == (size[1], 30)
    size, (rows, cols) = thumbnail_geometry(640, 480, 30, crop=(320, 620, 100, 400))  # ratio 30 / 300
    assert size == (64, 48) and (cols.start, cols.stop) == (32, 62) and (rows.start, rows.stop) == (10, 40)
    with pytest.raises(ConfigError, match="cluster_resizewidth=100 is larger than the frame width"):
        thumbnail_geometry(64, 48, 100)


def test_decode_runs_start_at_keyframes_and_continue():
    keys = np.array([0, 50, 100])
    assert _decode_runs(np.array([5, 7, 60, 70, 130]), keys) == [(0, 8), (50, 71), (100, 131)]
    assert _decode_runs(np.array([55, 90]), keys) == [(50, 91)]
    assert _decode_runs(np.array([3, 120]), None) == [(0, 121)]


def test_load_thumbnails_backends_agree(scene_video):
    """ffmpeg pass and reader pass (decord at 16 px fails in decord 3.4: the OpenCV fallback is exercised too)."""
    idx, th = load_thumbnails(scene_video, width=16, progress=False)
    assert idx.tolist() == list(range(48)) and th.dtype == np.uint8 and th.shape == (48, 16 * 12)
    idx_r, th_r = load_thumbnails(scene_video, width=16, progress=False, backend="reader")
    assert np.array_equal(idx, idx_r) and th_r.shape == th.shape
    assert np.abs(th.astype(int) - th_r).mean() < 5  # both luma; scalers differ slightly
    # step, interval and colour
    idx_s, th_s = load_thumbnails(scene_video, width=16, start=5, stop=40, step=3, color=True, progress=False)
    assert idx_s.tolist() == list(range(5, 40, 3)) and th_s.shape == (12, 16 * 12 * 3)
    idx_sr, th_sr = load_thumbnails(
        scene_video, width=16, start=5, stop=40, step=3, color=True, progress=False, backend="reader"
    )
    assert np.array_equal(idx_s, idx_sr) and np.abs(th_s.astype(int) - th_sr).mean() < 8


def test_load_thumbnails_sparse_indices_are_frame_exact(scene_video):
    """Explicit indices (outlier candidates) decode the same frames as a dense sequential pass."""
    _, dense = load_thumbnails(scene_video, width=16, progress=False, backend="reader")
    wanted = [40, 3, 17, 18, 33]
    idx, th = load_thumbnails(scene_video, indices=wanted, width=16, progress=False)
    assert idx.tolist() == sorted(wanted)
    assert np.array_equal(th, dense[idx])


def test_load_thumbnails_crop(scene_video):
    idx, th = load_thumbnails(scene_video, width=8, crop=(16, 48, 8, 40), progress=False)
    assert th.shape == (48, 8 * 8)
    _, th_r = load_thumbnails(scene_video, width=8, crop=(16, 48, 8, 40), progress=False, backend="reader")
    assert th_r.shape == th.shape


def test_select_kmeans_one_per_blob_closest_to_centroid():
    rng = np.random.default_rng(0)
    centers = rng.normal(0, 100, (5, 20))
    blobs = []
    for c in centers:
        b = c + rng.normal(0, 1, (30, 20))
        b[7] = c  # a frame exactly at the blob's centre: the most typical one, which must be picked
        blobs.append(b)
    x = np.concatenate(blobs)
    picks = select_kmeans(x, 5, rng=0)
    assert picks.tolist() == [7, 37, 67, 97, 127]
    assert np.array_equal(picks, select_kmeans(x, 5, rng=0))  # seeded


def test_select_kmeans_exclude_and_fill():
    rng = np.random.default_rng(1)
    x = np.concatenate([c + rng.normal(0, 1, (10, 8)) for c in rng.normal(0, 50, (3, 8))])
    excluded = np.zeros(30, bool)
    excluded[:10] = True  # the whole first blob is already extracted
    picks = select_kmeans(x, 3, rng=0, exclude=excluded)
    assert len(picks) == 3 and not excluded[picks].any()
    assert select_kmeans(x, 3, rng=0, exclude=np.arange(10)).tolist() == picks.tolist()  # positions work too
    # fewer allowed rows than asked: all allowed rows
    assert select_kmeans(x, 25, rng=0, exclude=excluded).tolist() == list(range(10, 30))
    # identical rows (fewer distinct frames than clusters): still n_pick distinct rows
    same = np.repeat(np.eye(2) * 10, 10, axis=0)
    picks = select_kmeans(same, 4, rng=0)
    assert len(set(picks.tolist())) == 4


def test_select_kmeans_picks_one_frame_per_scene(scene_video):
    idx, th = load_thumbnails(scene_video, width=16, progress=False)
    picks = idx[select_kmeans(th, 4, rng=3)]
    assert sorted(p // 12 for p in picks) == [0, 1, 2, 3]


def _bframe_video(path, n=90, size=(64, 48), bframes=3, pix_fmt="yuv420p"):
    """An H.264 file with ``bframes`` B-frames (x264 'medium': b-pyramid), a moving square on a gradient."""
    import subprocess

    import imageio_ffmpeg

    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    frames = []
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[..., 0] = (xx * 3 + i * 2) % 256
        f[..., 1] = (yy * 4) % 256
        f[10:26, (i % 40) : (i % 40) + 16] = 255
        frames.append(f)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{w}x{h}", "-r", "30", "-i", "pipe:0", "-c:v", "libx264", "-preset", "medium", "-bf", str(bframes),
           "-g", "30", "-pix_fmt", pix_fmt, str(path)]  # fmt: skip
    subprocess.run(cmd, input=np.stack(frames).tobytes(), check=True)
    return path


def test_thumbnails_skipping_bframes_keep_true_frame_numbers(tmp_path):
    """skip_bframes decodes only I/P-frames; their thumbnails and frame numbers match a full decode's."""
    video = _bframe_video(tmp_path / "b.mp4")
    idx_all, th_all = load_thumbnails(video, width=32, progress=False)
    idx, th = load_thumbnails(video, width=32, progress=False, skip_bframes=True)
    assert len(idx_all) == 90
    assert 0 < len(idx) < 90 and idx[0] == 0 and np.all(np.diff(idx) > 0)  # B-frames were skipped
    pos = np.searchsorted(idx_all, idx)
    assert (idx_all[pos] == idx).all()
    # same frames: thumbnails match the full decode's (the decoder skips the loop filter in both)
    diff = np.abs(th.astype(int) - th_all[pos].astype(int)).mean(axis=1)
    assert diff.max() < 3
    # an interval: only frames inside it
    idx_iv, _ = load_thumbnails(video, width=32, progress=False, skip_bframes=True, start=30, stop=60)
    assert idx_iv.size and idx_iv.min() >= 30 and idx_iv.max() < 60
    assert set(idx_iv) == {i for i in idx if 30 <= i < 60}


def test_thumbnails_skipping_bframes_without_bframes_is_every_frame(tmp_path):
    video = _bframe_video(tmp_path / "p.mp4", n=40, bframes=0)
    idx_all, th_all = load_thumbnails(video, width=32, progress=False)
    idx, th = load_thumbnails(video, width=32, progress=False, skip_bframes=True)
    assert len(idx) == 40
    np.testing.assert_array_equal(idx, idx_all)
    np.testing.assert_array_equal(th, th_all)


@pytest.mark.parametrize(
    "pix_fmt", ["yuv420p", "yuvj420p"]
)  # yuvj: ffmpeg's scaler warns; no decoding problem
def test_thumbnails_skipping_bframes_in_two_processes_equal_the_single_pass(tmp_path, monkeypatch, pix_fmt):
    """With two cores, the I/P pass runs in two ffmpeg processes split at a key frame: same frames, same bytes."""
    from posenb.frames import _thumbs_ffmpeg as T
    from posenb.frames import select as S

    video = _bframe_video(tmp_path / "k.mp4", n=240, pix_fmt=pix_fmt)  # key frames every 30 frames (x264 IDR)
    monkeypatch.setattr(T, "SPLIT_MIN_FRAMES", 100)
    monkeypatch.setattr(T, "_cores", lambda: 2)
    splits = []
    real = T._split_pass
    monkeypatch.setattr(T, "_split_pass", lambda *a: splits.append(real(*a)) or splits[-1])
    idx2, th2 = load_thumbnails(video, width=32, progress=False, skip_bframes=True)
    assert len(splits) == 1 and splits[0] is not None  # the split pass ran and was accepted
    monkeypatch.setattr(S, "_keyframes", lambda reader: None)  # today's single process
    idx1, th1 = load_thumbnails(video, width=32, progress=False, skip_bframes=True)
    assert 0 < len(idx1) < 240 and idx1[-1] > 200  # B-frames skipped, the whole video covered
    np.testing.assert_array_equal(idx2, idx1)
    np.testing.assert_array_equal(th2, th1)
    # an interval inside the video: the frames of the single pass in [start, stop)
    monkeypatch.undo()
    monkeypatch.setattr(T, "SPLIT_MIN_FRAMES", 100)
    monkeypatch.setattr(T, "_cores", lambda: 2)
    idx_iv, th_iv = load_thumbnails(video, width=32, progress=False, skip_bframes=True, start=50, stop=190)
    keep = (idx1 >= 50) & (idx1 < 190)
    np.testing.assert_array_equal(idx_iv, idx1[keep])
    np.testing.assert_array_equal(th_iv, th1[keep])


def test_split_thumbnail_pass_falls_back_when_the_halves_disagree(tmp_path, monkeypatch):
    """A second process that does not start where expected (here: wrong key-frame times) is detected by the
    overlap check; the single pass then gives the result."""
    from posenb.frames import _thumbs_ffmpeg as T
    from posenb.frames import select as S

    video = _bframe_video(tmp_path / "k.mp4", n=240)
    monkeypatch.setattr(T, "SPLIT_MIN_FRAMES", 100)
    monkeypatch.setattr(T, "_cores", lambda: 2)
    real_keyframes = S._keyframes

    def late(reader):  # every key frame claimed one group of pictures earlier than it is
        index, seconds = real_keyframes(reader)
        return index, np.r_[seconds[1:], seconds[-1] + 1.0]

    monkeypatch.setattr(S, "_keyframes", late)
    splits = []
    real = T._split_pass
    monkeypatch.setattr(T, "_split_pass", lambda *a: splits.append(real(*a)) or splits[-1])
    idx2, th2 = load_thumbnails(video, width=32, progress=False, skip_bframes=True)
    assert splits == [None]  # refused
    monkeypatch.setattr(S, "_keyframes", lambda reader: None)
    idx1, th1 = load_thumbnails(video, width=32, progress=False, skip_bframes=True)
    np.testing.assert_array_equal(idx2, idx1)
    np.testing.assert_array_equal(th2, th1)
