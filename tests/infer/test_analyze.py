"""analyze_videos: DeepLabCut's output files, streaming, cropping, errors (tiny trained demo project)."""

from __future__ import annotations

import pickle
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posenb.errors import ConfigError, ModelError, VideoError

pytestmark = pytest.mark.slow

META_KEYS = {
    "start", "stop", "run_duration", "Scorer", "DLC-model-config file", "fps", "batch_size", "frame_dimensions",
    "nframes", "iteration (active-learning)", "training set fraction", "cropping", "cropping_parameters",
}  # fmt: skip


def _video(config) -> Path:
    return Path(config).parent / "videos" / "demo_mouse.mp4"


def test_outputs_are_dlc_format(trained, tmp_path):
    from posenb.infer.analyze import analyze_videos
    from posenb.project.config import read_config

    cfg = read_config(trained["config"])
    scorer = analyze_videos(trained["config"], [str(_video(trained["config"]))], destfolder=str(tmp_path),
                            save_as_csv=True, batchsize=7)
    assert scorer == f"DLC_effnet_lite0_{cfg['Task']}{cfg['date']}shuffle1_50"
    h5 = tmp_path / f"demo_mouse{scorer}.h5"
    df = pd.read_hdf(h5, key="df_with_missing")
    assert list(df.columns.names) == ["scorer", "bodyparts", "coords"]
    assert set(df.columns.get_level_values("scorer")) == {scorer}
    assert list(dict.fromkeys(df.columns.get_level_values("bodyparts"))) == cfg["bodyparts"]
    assert list(df.columns.get_level_values("coords")[:3]) == ["x", "y", "likelihood"]
    assert len(df) == 150 and list(df.index) == list(range(150))
    assert df.notna().all().all()
    lik = df.xs("likelihood", level="coords", axis=1).to_numpy()
    assert ((lik >= 0) & (lik <= 1)).all()
    with pd.HDFStore(h5, "r") as store:
        assert store.get_storer("df_with_missing").is_table  # format="table", as DLC
    csv = pd.read_csv(tmp_path / f"demo_mouse{scorer}.csv", header=[0, 1, 2], index_col=0)
    np.testing.assert_allclose(csv.to_numpy(), df.to_numpy(), rtol=1e-6)

    with open(tmp_path / f"demo_mouse{scorer}_meta.pickle", "rb") as fh:
        meta = pickle.load(fh)["data"]  # plain types: any DLC version unpickles it
    assert META_KEYS <= set(meta)
    assert meta["nframes"] == 150 and meta["frame_dimensions"] == (96, 128) and meta["batch_size"] == 7
    assert meta["cropping"] is False and meta["cropping_parameters"] == [0, 128, 0, 96]
    assert meta["Scorer"] == scorer and meta["DLC-model-config file"]["all_joints_names"] == cfg["bodyparts"]

    # already analyzed -> skipped (file untouched)
    mtime = h5.stat().st_mtime_ns
    (tmp_path / "empty").mkdir()
    with pytest.warns(UserWarning, match="No videos found"):
        analyze_videos(trained["config"], [str(tmp_path / "empty")], destfolder=str(tmp_path))
    analyze_videos(trained["config"], str(_video(trained["config"]).parent), videotype=".mp4", destfolder=str(tmp_path))
    assert h5.stat().st_mtime_ns == mtime


def test_video_and_labeled_frames_get_the_same_predictions(trained, tmp_path):
    """The analysis path (decoder, batching, scale mapping) and the image path agree on labeled frames."""
    from posenb.data.trainingset import read_training_split
    from posenb.infer.analyze import analyze_videos
    from posenb.infer.evaluate import predict_images
    from posenb.infer.predictor import load_predictor
    from posenb.io.predictions import predictions_to_array, read_predictions
    from posenb.project.config import read_config
    from posenb.project.paths import frame_index

    cfg = read_config(trained["config"])
    scorer = analyze_videos(trained["config"], [str(_video(trained["config"]))], destfolder=str(tmp_path))
    video_pred = predictions_to_array(read_predictions(tmp_path / f"demo_mouse{scorer}.h5"))
    data, *_ = read_training_split(cfg, 1, 0)
    predictor, _ = load_predictor(cfg, 1, 0)
    image_pred = predict_images(predictor, Path(cfg["project_path"]), list(data.index))
    frames = [frame_index(i[2]) for i in data.index]
    np.testing.assert_allclose(video_pred[frames, :, :2], image_pred[..., :2], atol=0.5)


def test_cropping_keeps_crop_coordinates(trained, tmp_path):
    from posenb.infer.analyze import analyze_videos
    from posenb.io.predictions import predictions_to_array, read_meta, read_predictions

    scorer = analyze_videos(trained["config"], [str(_video(trained["config"]))], destfolder=str(tmp_path),
                            cropping=[20, 120, 10, 90])
    h5 = tmp_path / f"demo_mouse{scorer}.h5"
    pred = predictions_to_array(read_predictions(h5))
    meta = read_meta(h5)
    assert meta["cropping"] is True and meta["cropping_parameters"] == [20, 120, 10, 90]
    assert meta["frame_dimensions"] == (96, 128)  # the uncropped video, as DLC
    assert (pred[..., 0] < 100 + 8).all() and (pred[..., 1] < 80 + 8).all()  # crop frame: 100 x 80
    with pytest.raises(ConfigError, match="does not fit"):
        analyze_videos(trained["config"], [str(_video(trained["config"]))], destfolder=str(tmp_path / "x"),
                       cropping=[0, 500, 0, 90])


def _padded_clip(config, dst: Path) -> Path:
    """The demo video (128x96) in the middle of a 384x288 frame of its background colour: a small animal."""
    from posenb.io.video import VideoWriter, open_video

    reader = open_video(_video(config))
    with VideoWriter(dst, reader.fps, (384, 288)) as w:
        for i in range(reader.n_frames):
            f = reader.read(i)
            big = np.empty((288, 384, 3), np.uint8)
            big[:] = np.median(np.concatenate([f[0], f[-1]]), axis=0).astype(np.uint8)
            big[96:192, 128:256] = f
            w.write(big)
    reader.close()
    return dst


def test_following_the_animal_keeps_whole_frame_coordinates(trained, tmp_path):
    """dynamic: the default follows a small animal in a window (frame coordinates, meta records it); DeepLabCut's
    (False, ...) analyses whole frames; (True, threshold, margin) is taken as given."""
    from posenb.infer.analyze import analyze_videos
    from posenb.io.predictions import predictions_to_array, read_meta, read_predictions

    video = _padded_clip(trained["config"], tmp_path / "small_mouse.mp4")
    got = {}
    for name, dynamic in [("whole", (False, 0.5, 10)), ("auto", "auto"), ("on", (True, 0.3, 20))]:
        scorer = analyze_videos(
            trained["config"], [str(video)], destfolder=str(tmp_path / name), dynamic=dynamic
        )
        h5 = tmp_path / name / f"small_mouse{scorer}.h5"
        got[name] = (predictions_to_array(read_predictions(h5)), read_meta(h5)["posenb_dynamic"])
    assert got["whole"][1] is None
    auto, on = got["auto"][1], got["on"][1]
    assert auto["mode"] == "auto" and auto["window"] == 288  # a training crop (192x144 at x1.5) + 2 x 48
    assert auto["followed"] >= 100 and auto["followed"] + auto["whole"] == 150
    assert on["mode"] == "on" and on["threshold"] == 0.3 and on["followed"] >= 100
    whole = got["whole"][0]
    for name in ("auto", "on"):
        dist = np.linalg.norm(got[name][0][..., :2] - whole[..., :2], axis=-1)
        # this tiny model learnt from whole demo frames, so the window's context moves its points a little
        # (openfield's recipe model: 0.04 px median); a wrong offset or scale would be tens of pixels
        assert np.median(dist) < 1.5, name
    with pytest.raises(ConfigError, match="dynamic="):
        analyze_videos(
            trained["config"], [str(video)], destfolder=str(tmp_path / "bad"), dynamic=(True, 5, 10)
        )
    assert not (tmp_path / "bad").exists()


def test_undecodable_video_is_a_clear_error(trained, tmp_path):
    from posenb.infer.analyze import analyze_videos

    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 1000)
    with pytest.raises(VideoError, match="broken.mp4"):
        analyze_videos(trained["config"], [str(bad)], destfolder=str(tmp_path))
    assert not list(tmp_path.glob("*.h5"))


def test_snapshot_of_other_bodyparts_is_refused(trained_copy):
    from posenb.infer.analyze import analyze_videos
    from posenb.nn.snapshots import list_snapshots, load_snapshot, save_snapshot
    from posenb.project.config import read_config
    from posenb.train.api import get_train_dir

    train_dir, _ = get_train_dir(read_config(trained_copy), 1, 0)
    state = load_snapshot(list_snapshots(train_dir)[-1])
    state["bodyparts"] = ["nose"]
    state["iteration"] = 999
    save_snapshot(train_dir, state)
    with pytest.raises(ModelError, match="trained on body parts"):
        analyze_videos(trained_copy, [str(_video(trained_copy))])


class _SlowReader:
    """A fake reader of 40 frames that counts how far decoding runs ahead of the consumer."""

    path = Path("fake.mp4")

    def __init__(self, fail_at=None):
        self.produced = 0
        self.fail_at = fail_at

    def iter_frames(self, chunk=8):
        for i0 in range(0, 40, chunk):
            if self.fail_at is not None and i0 >= self.fail_at:
                raise RuntimeError("corrupt packet")
            self.produced += chunk
            yield i0, np.zeros((chunk, 4, 4, 3), np.uint8)


def test_frame_stream_is_bounded_and_reports_errors():
    from posenb.infer.analyze import FrameStream

    reader = _SlowReader()
    ahead = []
    with FrameStream(reader, 4, max_queue=2) as stream:
        for i0, frames in stream:
            time.sleep(0.02)
            ahead.append(reader.produced - (i0 + len(frames)))
    assert max(ahead) <= 4 * (2 + 1)  # queue + one batch in hand: memory does not grow with the video
    with pytest.raises(VideoError, match="corrupt packet"):
        with FrameStream(_SlowReader(fail_at=16), 4) as stream:
            for _ in stream:
                pass
    # stopping early ends the decoding thread
    stream = FrameStream(_SlowReader(), 4, max_queue=1)
    next(iter(stream))
    stream.close()
    assert not any(t.name == "posenb-decode" and t.is_alive() for t in threading.enumerate())
