"""Test-time scales in analysis and evaluation (analyze_videos / evaluate_network ``test_scales``, the shuffle's
``pose_cfg.yaml`` key), on the shared tiny trained demo project (128x96 frames, global_scale 1.5)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import yaml
from demo_clips import demo_clip

from posenb.errors import ConfigError

pytestmark = pytest.mark.slow

SCALES = (1.1, 1.25)
N_CLIP = 12


def _clip(config, dst: Path) -> Path:
    """The first N_CLIP frames of the demo video as a new mp4."""
    return demo_clip(config, dst, N_CLIP)


def _frames(video: Path) -> np.ndarray:
    """Every frame of ``video`` as the analysis decodes it (full size, RGB)."""
    from posenb.io.video_stream import open_stream

    reader = open_stream(video)
    try:
        return np.concatenate([frames for _, frames in reader.iter_frames(chunk=16)])
    finally:
        reader.close()


def _result(h5: Path) -> tuple[np.ndarray, dict]:
    from posenb.io.predictions import read_predictions

    with open(h5.with_name(h5.stem + "_meta.pickle"), "rb") as fh:
        meta = pickle.load(fh)["data"]
    df = read_predictions(h5)
    return df.to_numpy(dtype=float).reshape(len(df), -1, 3), meta


def _set_pose_cfg_scales(config, value) -> Path:
    path = _train_dir(config) / "pose_cfg.yaml"
    data = yaml.safe_load(path.read_text())
    assert "test_scales" in data and data["test_scales"] is None  # written by create_training_dataset, off
    data["test_scales"] = value
    path.write_text(yaml.safe_dump(data))
    return path


def test_analysis_at_scales_is_the_multiscale_prediction_and_says_so(trained, tmp_path):
    from posenb.infer.analyze import analyze_videos
    from posenb.infer.multiscale import predict_multiscale
    from posenb.infer.predictor import load_predictor
    from posenb.project.config import read_config

    config = trained["config"]
    clip = _clip(config, tmp_path / "clip.mp4")
    one = dict(destfolder=str(tmp_path / "one"), batchsize=5, backend="torch")
    scorer = analyze_videos(config, [str(clip)], **one)
    analyze_videos(config, [str(clip)], destfolder=str(tmp_path / "multi"), batchsize=5, backend="torch",
                   test_scales=list(SCALES))  # fmt: skip
    got_one, meta_one = _result(tmp_path / "one" / f"clip{scorer}.h5")
    got, meta = _result(tmp_path / "multi" / f"clip{scorer}.h5")  # DeepLabCut's name either way
    assert meta_one["posenb_test_scales"] is None and meta["posenb_test_scales"] == list(SCALES)
    assert meta["posenb_backend"] == "torch"

    frames = _frames(clip)
    predictor, _ = load_predictor(read_config(config))
    want = np.concatenate(
        [predict_multiscale(predictor, frames[i : i + 5], SCALES) for i in range(0, N_CLIP, 5)]
    )
    np.testing.assert_allclose(got, want, atol=1e-4)
    # the default is today's single pass, untouched
    single = np.concatenate([predictor.predict(frames[i : i + 5]) for i in range(0, N_CLIP, 5)])
    np.testing.assert_allclose(got_one, single, atol=1e-4)
    assert np.abs(got[..., :2] - got_one[..., :2]).max() > 1e-3  # the scales changed the key points


def test_scales_are_not_lost_on_the_decoder_resize_path(trained, tmp_path):
    """With global_scale < 1 a single pass decodes frames at network size; with scales full frames are decoded
    and each scale resized from them, as predict_multiscale does."""
    from posenb.infer.analyze import analyze_video
    from posenb.infer.multiscale import predict_multiscale
    from posenb.infer.predictor import load_predictor
    from posenb.project.config import read_config

    config = trained["config"]
    clip = _clip(config, tmp_path / "clip.mp4")
    predictor, _ = load_predictor(read_config(config), test_scales=SCALES)
    predictor.global_scale = 0.5  # 64x48 at scale 1: the decoder would resize
    out, info = analyze_video(predictor, clip, batch_size=6, decoder_resize=True, progress=False)
    frames = _frames(clip)
    want = np.concatenate([predict_multiscale(predictor, frames[i : i + 6], SCALES) for i in (0, 6)])
    np.testing.assert_allclose(out, want, atol=1e-4)
    assert info["decoded"] == N_CLIP


def test_pose_cfg_default_is_honoured_and_the_keyword_wins(trained_copy, tmp_path):
    from posenb.infer.analyze import analyze_videos

    clip = _clip(trained_copy, tmp_path / "clip.mp4")
    _set_pose_cfg_scales(trained_copy, [1.25])
    scorer = analyze_videos(trained_copy, [str(clip)], destfolder=str(tmp_path / "cfg"), backend="torch")
    h5 = tmp_path / "cfg" / f"clip{scorer}.h5"
    assert _result(h5)[1]["posenb_test_scales"] == [1.25]
    analyze_videos(
        trained_copy, [str(clip)], destfolder=str(tmp_path / "kw"), backend="torch", test_scales=[1]
    )
    assert _result(tmp_path / "kw" / f"clip{scorer}.h5")[1]["posenb_test_scales"] is None  # [1]: one pass

    # a video analysed at other scales is kept, and the user is told how to redo it
    mtime = h5.stat().st_mtime_ns
    with pytest.warns(
        UserWarning, match=r"already analysed with test scales x1\.25.*not analysed again with one pass"
    ):
        analyze_videos(trained_copy, [str(clip)], destfolder=str(tmp_path / "cfg"), test_scales=[1.0])
    assert h5.stat().st_mtime_ns == mtime


def test_bad_scales_fail_before_any_file_is_written(trained_copy, tmp_path):
    from posenb.infer.analyze import analyze_videos

    clip = _clip(trained_copy, tmp_path / "clip.mp4")
    with pytest.raises(ConfigError, match="test_scales must be between"):
        analyze_videos(trained_copy, [str(clip)], destfolder=str(tmp_path / "a"), test_scales=[0.0])
    assert not (tmp_path / "a").exists()
    path = _set_pose_cfg_scales(trained_copy, "big")
    with pytest.raises(ConfigError, match=rf"{path.name}.*test_scales must be a list of numbers"):
        analyze_videos(trained_copy, [str(clip)], destfolder=str(tmp_path / "b"))
    assert not (tmp_path / "b").exists()


def test_evaluation_caches_are_kept_apart_per_scale_set(trained_copy, monkeypatch, capsys):
    import posenb.infer.evaluate as E
    from posenb.io.predictions import read_predictions
    from posenb.nn.snapshots import select_snapshot

    one = E.evaluate_network(trained_copy)
    assert one.attrs["test_scales"] == {1: None}
    eval_dir = _train_dir(trained_copy, evaluation=True)
    snap = select_snapshot(_train_dir(trained_copy), -1).stem
    cache_one = next(eval_dir.glob(f"*-{snap}.h5"))
    mtime = cache_one.stat().st_mtime_ns
    capsys.readouterr()

    multi = E.evaluate_network(trained_copy, test_scales=list(SCALES))
    assert "(test scales x1.1, x1.25)" in capsys.readouterr().out
    assert multi.attrs["test_scales"] == {1: list(SCALES)}
    cache_multi = cache_one.with_name(cache_one.stem + "-scales1.1_1.25.h5")
    assert cache_multi.is_file() and cache_one.stat().st_mtime_ns == mtime  # recomputed, own file
    a, b = read_predictions(cache_one).to_numpy(), read_predictions(cache_multi).to_numpy()
    assert a.shape == b.shape and np.abs(a - b).max() > 1e-3
    scorer = cache_one.name[: -len(f"-{snap}.h5")]
    assert (eval_dir / f"{scorer}-scales1.1_1.25-results.csv").is_file()
    assert (eval_dir / f"{scorer}-scales1.1_1.25-keypoint-results.csv").is_file()
    assert (eval_dir.parent / "CombinedEvaluation-scales1.1_1.25-results.csv").is_file()
    import pandas as pd

    assert len(pd.read_csv(eval_dir / f"{scorer}-results.csv", index_col=0)) == 1  # DLC's file: one pass only

    # one pass again: its own cache is read, nothing is predicted
    def no_prediction(*args, **kwargs):
        raise AssertionError("the one-pass cache should have been used")

    monkeypatch.setattr(E, "predict_images", no_prediction)
    again = E.evaluate_network(trained_copy)
    pd.testing.assert_frame_equal(again, one)
    assert len(pd.read_csv(eval_dir / f"{scorer}-results.csv", index_col=0)) == 2

    # the evaluation panel's per-image table reads the same files: one pass, or the scale set's own
    t_one = E.evaluation_table(trained_copy)
    t_multi = E.evaluation_table(trained_copy, test_scales=list(SCALES))
    assert t_one.attrs["test_scales"] is None and t_multi.attrs["test_scales"] == list(SCALES)
    k = len(t_one) // len(a)  # body parts
    np.testing.assert_allclose(t_one["x"].to_numpy(), a.reshape(len(a), k, 3)[..., 0].ravel())
    np.testing.assert_allclose(t_multi["x"].to_numpy(), b.reshape(len(b), k, 3)[..., 0].ravel())
    # with the shuffle's pose_cfg.yaml key set, the table follows it as evaluate_network does
    cfg_file = _train_dir(trained_copy) / "pose_cfg.yaml"
    cfg = yaml.safe_load(cfg_file.read_text())
    cfg["test_scales"] = list(SCALES)
    cfg_file.write_text(yaml.safe_dump(cfg))
    pd.testing.assert_frame_equal(E.evaluation_table(trained_copy), t_multi)


def _train_dir(config, evaluation: bool = False) -> Path:
    """Shuffle 1's train folder (``evaluation``: its evaluation-results folder)."""
    from posenb.project import paths
    from posenb.project.config import read_config

    cfg = read_config(config)
    if evaluation:
        return Path(cfg["project_path"]) / paths.get_evaluation_folder(cfg["TrainingFraction"][0], 1, cfg)
    return paths.get_train_dir(cfg, 1, 0)[0]


def test_multi_animal_projects_refuse_scales(tmp_path):
    from _ma_project import make_ma_project

    from posenb.infer.analyze import analyze_videos
    from posenb.infer.evaluate import evaluate_network

    config, _ = make_ma_project(tmp_path)
    with pytest.raises(ConfigError, match="single-animal only"):
        analyze_videos(config, [str(tmp_path / "none.mp4")], test_scales=[1.1, 1.25])
    with pytest.raises(ConfigError, match="single-animal only"):
        evaluate_network(config, test_scales=[1.25])
