"""Suggestions for the labeler and ranking of frames to label next, on the shared tiny trained demo project."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from posenb.errors import ConfigError, ModelError
from posenb.infer.suggest import flip_disagreement, label_suggestions, suggest_frames
from posenb.io.labels import labels_to_array, read_labels
from posenb.project.config import read_config


def _labels(config):
    cfg = read_config(config)
    folder = next(p for p in (Path(cfg["project_path"]) / "labeled-data").iterdir() if p.is_dir())
    df = read_labels(folder / f"CollectedData_{cfg['scorer']}.h5")
    return cfg, folder, df


def test_model_suggestions_land_near_the_labels(trained_copy):
    cfg, folder, df = _labels(trained_copy)
    images = [str(Path(*i)) for i in df.index[:6]]
    sugg = label_suggestions(trained_copy, images)
    assert set(sugg) == set(images)
    truth = labels_to_array(df, cfg["bodyparts"])[:6]
    pred = np.stack([sugg[i][0] for i in images])
    assert {s for _, s in sugg.values()} == {"model"}
    assert pred.shape == (6, len(cfg["bodyparts"]), 3)
    # 128x96 frames, tiny model
    assert np.nanmedian(np.hypot(*(pred[..., :2] - truth).transpose(2, 0, 1))) < 12


def test_without_a_model_points_are_carried_forward(trained_copy):
    cfg, folder, df = _labels(trained_copy)
    shutil.rmtree(Path(cfg["project_path"]) / "dlc-models")
    first = df.index[0]
    labeled = {str(Path(*first)): labels_to_array(df, cfg["bodyparts"])[0]}
    pngs = sorted(folder.glob("*.png"))
    # a frame near the labeled one (demo frames are consecutive enough for the tracker)
    names = [p.name for p in pngs]
    target = Path(*first[:2]) / names[min(names.index(first[2]) + 1, len(names) - 1)]
    sugg = label_suggestions(trained_copy, [str(target)], labeled=labeled, max_gap=200)
    if sugg:  # the tracker may lose every point on texture-less demo frames; then nothing is suggested
        pts, source = sugg[str(target)]
        assert source == "carried" and pts.shape == (len(cfg["bodyparts"]), 3)
    far = label_suggestions(trained_copy, [str(target)], labeled=labeled, max_gap=0)
    assert far == {}


def test_flip_disagreement_of_a_mirror_symmetric_model():
    class Mirror:
        """A 'model' that finds the brightest pixel: exactly consistent under mirroring."""

        num_joints = 1

        def predict(self, frames):
            flat = frames[..., 0].reshape(len(frames), -1).argmax(1)
            y, x = np.divmod(flat, frames.shape[2])
            return np.stack([x, y, np.ones_like(x)], axis=1)[:, None, :].astype(float)

    frames = np.zeros((3, 20, 30, 3), np.uint8)
    for i in range(3):
        frames[i, 5 + i, 7 + 4 * i] = 255
    pred, dist = flip_disagreement(Mirror(), frames, [])
    np.testing.assert_allclose(dist, 0.0)
    np.testing.assert_allclose(pred[:, 0, 0], [7, 11, 15])


def test_suggest_frames_ranks_and_extracts(trained_copy):
    cfg = read_config(trained_copy)
    project = Path(cfg["project_path"])
    before = {p for p in (project / "labeled-data").rglob("*.png")}
    table = suggest_frames(trained_copy, n=3, n_candidates=24, seed=1)
    assert list(table["rank"][:3]) == [1, 2, 3] and (table["rank"][3:] == 0).all()
    for col in ("uncertainty", "flip_px", "novelty", "score", "below_pcutoff"):
        assert col in table and table[col].notna().all()
    assert table["extracted"][:3].all()
    after = {p for p in (project / "labeled-data").rglob("*.png")}
    new = after - before
    assert len(new) == 3 and not (before - after)
    picked = set(table["frame"][:3])
    assert {int(p.stem[3:]) for p in new} == picked
    # the same call again never suggests what is already extracted
    again = suggest_frames(trained_copy, n=2, n_candidates=24, seed=1, extract=False)
    assert not picked & set(again["frame"])


def test_suggest_frames_without_model(trained_copy):
    cfg = read_config(trained_copy)
    shutil.rmtree(Path(cfg["project_path"]) / "dlc-models")
    with pytest.raises(ModelError, match="Train a model first"):
        suggest_frames(trained_copy, n=2, method="uncertainty", extract=False)
    with pytest.warns(UserWarning, match="diversity only"):
        table = suggest_frames(trained_copy, n=2, method="combined", n_candidates=12, extract=False)
    assert "uncertainty" not in table and list(table["rank"][:2]) == [1, 2]
    assert table.attrs["model"] is None
    with pytest.raises(ConfigError, match="method"):
        suggest_frames(trained_copy, method="magic")


def _uncertainty(predictor, table) -> np.ndarray:
    """suggest_frames' uncertainty (1 - mean likelihood) of the table's frames, by ``predictor``."""
    from posenb.frames.extract import read_exact_frames

    video = table["video"].iloc[0]
    frames = dict(read_exact_frames(video, table["frame"]))
    pred = predictor.predict(np.stack([frames[int(i)] for i in table["frame"]]))
    return 1.0 - np.nanmean(np.clip(pred[..., 2], 0, 1), axis=1)


def test_suggest_frames_scores_with_the_newest_model(trained_copy):
    """The labeling model, newer than the shuffle's snapshot, scores the frames (as for the labeler); a shuffle
    snapshot written after it takes over."""
    import os

    from posenb.infer.predictor import load_predictor
    from posenb.train.labeling_model import update_labeling_model

    cfg = read_config(trained_copy)
    update = update_labeling_model(trained_copy, iterations=2, progress=False)  # a few steps: other weights
    table = suggest_frames(trained_copy, n=2, method="uncertainty", n_candidates=8, extract=False, seed=1)
    model = table.attrs["model"]
    assert model["source"] == "labeling model" and model["snapshot"] == str(update.snapshot)
    labeling = load_predictor(cfg, snapshot=update.snapshot)[0]
    shuffle_pred, info = load_predictor(cfg)
    assert info["snapshot"] != str(update.snapshot)
    own = np.abs(table["uncertainty"].to_numpy() - _uncertainty(labeling, table)).max()
    other = np.abs(table["uncertainty"].to_numpy() - _uncertainty(shuffle_pred, table)).max()
    assert own < 1e-4 < other, (own, other)

    later = update.snapshot.stat().st_mtime + 60  # the user trains the shuffle again: its snapshot is newest
    os.utime(info["snapshot"], (later, later))
    again = suggest_frames(trained_copy, n=2, method="uncertainty", n_candidates=8, extract=False, seed=1)
    assert again.attrs["model"]["source"] == "shuffle 1"
    assert again.attrs["model"]["snapshot"] == info["snapshot"]
