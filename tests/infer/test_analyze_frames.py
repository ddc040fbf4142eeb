"""analyze_time_lapse_frames: DLC's output for a folder of images, same predictions as the video analysis."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posenb.errors import ConfigError, VideoError

META_KEYS = {
    "start", "stop", "run_duration", "Scorer", "config file", "batch_size", "num_outputs", "frame_dimensions",
    "nframes", "cropping", "cropping_parameters",
}  # fmt: skip
FRAMES = [3, 17, 40, 41, 64, 88, 99, 120, 133, 149]


def _video(config) -> Path:
    return Path(config).parent / "videos" / "demo_mouse.mp4"


def _video_frames(config, indices) -> np.ndarray:
    from posenb.io.video import open_video

    reader = open_video(_video(config))
    try:
        return reader.get_batch(list(indices))
    finally:
        reader.close()


def _save_png(path: Path, rgb: np.ndarray) -> None:
    import cv2

    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def _write_frames(folder: Path, config, indices=FRAMES) -> list[str]:
    """Video frames as lossless PNGs ``frame<i>.png`` (written in reverse order); returns the sorted names."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = _video_frames(config, indices)
    for i, frame in reversed(list(zip(indices, frames))):
        _save_png(folder / f"frame{i:03d}.png", frame)
    return sorted(f"frame{i:03d}.png" for i in indices)


@pytest.fixture(scope="module")
def video_predictions(trained, tmp_path_factory) -> np.ndarray:
    """``(150, K, 3)`` predictions of analyze_videos for the demo video."""
    from posenb.infer.analyze import analyze_videos
    from posenb.io.predictions import predictions_to_array, read_predictions

    dest = tmp_path_factory.mktemp("video-analysis")
    scorer = analyze_videos(trained["config"], [str(_video(trained["config"]))], destfolder=str(dest))
    return predictions_to_array(read_predictions(dest / f"demo_mouse{scorer}.h5"))


@pytest.mark.slow
def test_dlc_output_matches_video_analysis(trained, tmp_path, video_predictions, capsys):
    from posenb.demo import read_ground_truth
    from posenb.infer.analyze_frames import analyze_time_lapse_frames
    from posenb.project.config import read_config

    cfg = read_config(trained["config"])
    folder = tmp_path / "session1"
    names = _write_frames(folder, trained["config"])
    (folder / "notes.txt").write_text("not an image")
    _save_png(folder / "other.jpg", np.zeros((8, 8, 3), np.uint8))
    scorer = analyze_time_lapse_frames(trained["config"], str(folder), save_as_csv=True)
    assert scorer == f"DLC_effnet_lite0_{cfg['Task']}{cfg['date']}shuffle1_50"

    h5 = folder / f"session1{scorer}.h5"
    df = pd.read_hdf(h5, key="df_with_missing")
    with pd.HDFStore(h5, "r") as store:
        assert store.get_storer("df_with_missing").is_table
    assert list(df.columns.names) == ["scorer", "bodyparts", "coords"]
    assert set(df.columns.get_level_values("scorer")) == {scorer}
    assert list(dict.fromkeys(df.columns.get_level_values("bodyparts"))) == cfg["bodyparts"]
    assert list(df.columns.get_level_values("coords")[:3]) == ["x", "y", "likelihood"]
    assert list(df.index) == names  # sorted file names; notes.txt and other.jpg are not ".png"
    assert df.dtypes.eq("float64").all()
    pred = df.to_numpy().reshape(len(names), len(cfg["bodyparts"]), 3)
    np.testing.assert_allclose(pred[..., :2], video_predictions[FRAMES, :, :2], atol=0.5)
    np.testing.assert_allclose(pred[..., 2], video_predictions[FRAMES, :, 2], atol=0.02)
    truth = read_ground_truth(trained["config"])[FRAMES]
    assert np.median(np.linalg.norm(pred[..., :2] - truth, axis=-1)) < 8  # the network found the animal

    csv = pd.read_csv(folder / f"session1{scorer}.csv", header=[0, 1, 2], index_col=0)
    assert list(csv.index) == names
    np.testing.assert_allclose(csv.to_numpy(), df.to_numpy(), rtol=1e-9)

    with open(folder / f"session1{scorer}_meta.pickle", "rb") as fh:
        meta = pickle.load(fh)["data"]  # plain types: DeepLabCut unpickles it
    assert META_KEYS <= set(meta)
    assert meta["Scorer"] == scorer and meta["nframes"] == len(names) and meta["num_outputs"] == 1
    assert meta["frame_dimensions"] == (96, 128) and meta["batch_size"] == cfg["batch_size"]
    assert meta["cropping"] is False and meta["cropping_parameters"] == [0, 128, 0, 96]
    assert meta["config file"]["all_joints_names"] == cfg["bodyparts"]
    assert meta["stop"] >= meta["start"] and meta["run_duration"] >= 0

    # already analysed -> skipped, files untouched
    mtime = h5.stat().st_mtime_ns
    capsys.readouterr()
    analyze_time_lapse_frames(trained["config"], str(folder) + "/", save_as_csv=True)
    assert "already analyzed" in capsys.readouterr().out
    assert h5.stat().st_mtime_ns == mtime


@pytest.mark.slow
def test_frametype_mixed_sizes_and_no_csv(trained, tmp_path, video_predictions):
    """Images of two sizes, interleaved, with a non-default frametype: each row is its own image's prediction."""
    from posenb.demo import read_ground_truth
    from posenb.infer.analyze_frames import analyze_time_lapse_frames

    folder = tmp_path / "mixed"
    folder.mkdir()
    frames = _video_frames(trained["config"], FRAMES)
    padded = [k for k in range(len(FRAMES)) if k % 2]  # every other image in a 160x120 canvas (same coordinates)
    for k, (i, frame) in enumerate(zip(FRAMES, frames)):
        if k in padded:
            canvas = np.full((120, 160, 3), 150, np.uint8)
            canvas[:96, :128] = frame
            frame = canvas
        _save_png(folder / f"t{i:03d}_cam.png", frame)
        _save_png(folder / f"t{i:03d}_ir.png", np.zeros((50, 70, 3), np.uint8))  # not matched by "_cam"
    scorer = analyze_time_lapse_frames(trained["config"], folder, frametype="_cam.png")
    h5 = folder / f"mixed{scorer}.h5"
    df = pd.read_hdf(h5, key="df_with_missing")
    assert list(df.index) == [f"t{i:03d}_cam.png" for i in FRAMES]
    assert not h5.with_suffix(".csv").exists()  # only on request
    pred = df.to_numpy().reshape(len(FRAMES), -1, 3)
    same = [k for k in range(len(FRAMES)) if k not in padded]
    np.testing.assert_allclose(pred[same, :, :2], video_predictions[np.array(FRAMES)[same], :, :2], atol=0.5)
    truth = read_ground_truth(trained["config"])[FRAMES]
    err = np.linalg.norm(pred[padded, :, :2] - truth[padded], axis=-1)
    assert np.median(err) < 10  # padded images: predicted in their own (same) coordinates
    from posenb.io.predictions import read_meta

    meta = read_meta(h5)
    assert meta["frame_dimensions"] == (96, 128)  # the first image's, as DLC
    assert sorted(map(tuple, meta["posenb_image_sizes"])) == [(96, 128), (120, 160)]


class _IdPredictor:
    """Fake predictor: x = the image's id (its first pixel), y = its width; records the batches."""

    num_joints = 2

    def __init__(self):
        self.batches = []

    def predict(self, frames):
        frames = np.asarray(frames)
        self.batches.append(frames.shape)
        out = np.zeros((len(frames), 2, 3))
        out[..., 0] = frames[:, 0, 0, 0, None]
        out[..., 1] = frames.shape[2]
        return out


def test_predict_frames_keeps_order_groups_sizes_and_bounds_memory(tmp_path):
    from posenb.infer.analyze_frames import predict_frames

    rng = np.random.default_rng(0)
    widths = rng.choice([20, 24, 28, 32, 36, 40], size=53)
    files = []
    for i, w in enumerate(widths):
        img = np.zeros((16, int(w), 3), np.uint8)
        img[0, 0] = i
        files.append(tmp_path / f"{i:02d}.png")
        _save_png(files[-1], img)
    fake = _IdPredictor()
    out = predict_frames(fake, files, batch_size=3)
    np.testing.assert_array_equal(out[:, 0, 0], np.arange(53))
    np.testing.assert_array_equal(out[:, 0, 1], widths)
    assert sum(s[0] for s in fake.batches) == 53 and max(s[0] for s in fake.batches) <= 3

    # with a crop the network sees the cropped images; the crop callback gets (H, W) and the path
    seen = []

    def crop_for(shape, path):
        seen.append((shape, path.name))
        return (0, 10, 0, 8)

    out = predict_frames(fake, files[:5], batch_size=8, crop_for=crop_for)
    np.testing.assert_array_equal(out[:, 0, 1], 10)
    assert seen[0] == ((16, int(widths[0])), "00.png")


@pytest.mark.slow
def test_config_cropping(trained_copy, tmp_path):
    from posenb.infer.analyze_frames import analyze_time_lapse_frames
    from posenb.infer.predictor import load_predictor
    from posenb.io.predictions import read_meta
    from posenb.project.config import read_config, write_config

    cfg = read_config(trained_copy)
    cfg.update(cropping=True, x1=20, x2=120, y1=10, y2=90)
    write_config(trained_copy, cfg)
    folder = tmp_path / "crop"
    names = _write_frames(folder, trained_copy, FRAMES[:4])
    scorer = analyze_time_lapse_frames(trained_copy, folder)
    h5 = folder / f"crop{scorer}.h5"
    df = pd.read_hdf(h5, key="df_with_missing")
    assert list(df.index) == names
    predictor, _ = load_predictor(cfg)
    expected = predictor.predict(_video_frames(trained_copy, sorted(FRAMES[:4]))[:, 10:90, 20:120])
    np.testing.assert_allclose(df.to_numpy().reshape(expected.shape), expected, atol=0.05)  # crop coordinates
    meta = read_meta(h5)
    assert meta["cropping"] is True and meta["cropping_parameters"] == [20, 120, 10, 90]
    assert meta["frame_dimensions"] == (80, 100)  # DLC: the analysed (cropped) size

    # a crop that does not fit one of the images: clear error naming it, nothing written
    small = tmp_path / "small"
    _write_frames(small, trained_copy, [5])
    _save_png(small / "frame999.png", np.zeros((60, 80, 3), np.uint8))
    with pytest.raises(ConfigError, match="frame999.png"):
        analyze_time_lapse_frames(trained_copy, small)
    assert sorted(p.name for p in small.iterdir()) == ["frame005.png", "frame999.png"]


@pytest.mark.slow
def test_bad_inputs(trained, tmp_path):
    from posenb.infer.analyze_frames import analyze_time_lapse_frames

    with pytest.raises(VideoError, match="not found"):
        analyze_time_lapse_frames(trained["config"], tmp_path / "missing")

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.warns(UserWarning, match="No files containing"):
        analyze_time_lapse_frames(trained["config"], empty)
    (empty / "a.jpg").write_bytes(b"")
    with pytest.warns(UserWarning, match="frametype"):
        analyze_time_lapse_frames(trained["config"], empty)  # ".png" matches nothing
    assert [p.name for p in empty.iterdir()] == ["a.jpg"]

    for case, (bad_name, content) in enumerate((("empty.png", b""), ("frame002.png", None))):
        folder = tmp_path / f"bad{case}"
        _write_frames(folder, trained["config"], [0, 1])
        good = sorted(p.name for p in folder.iterdir())
        if content is None:  # a truncated PNG: valid header, data cut short -> found when decoding
            ok = (folder / good[0]).read_bytes()
            content = ok[: len(ok) // 2]
        (folder / bad_name).write_bytes(content)
        with pytest.raises(VideoError, match=bad_name):
            analyze_time_lapse_frames(trained["config"], folder)
        assert sorted(p.name for p in folder.iterdir()) == sorted([*good, bad_name])  # nothing written
