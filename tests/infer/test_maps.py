"""Score maps and locref fields (extract_maps & co.) of the trained tiny demo model: shapes, units, PNGs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from posenb.data.dataset import read_image
from posenb.data.trainingset import read_training_split
from posenb.errors import ConfigError
from posenb.infer.maps import (
    cell_centers,
    extract_maps,
    extract_save_all_maps,
    maps_to_image,
    predict_maps,
    visualize_locrefs,
    visualize_scoremaps,
)
from posenb.infer.predictor import load_predictor
from posenb.io.labels import labels_to_array
from posenb.project.config import read_config

# the demo frames are 128x96 and the model runs at global_scale 1.5: 192x144 network input, maps 18x24
FRAME_HW, INPUT_HW, MAP_HW = (96, 128), (144, 192), (18, 24)


@pytest.fixture(scope="module")
def maps(trained) -> dict:
    """extract_maps of every labeled image (it writes nothing, so the shared project is fine)."""
    project = Path(trained["config"]).parent
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    out = extract_maps(trained["config"], shuffle=1)
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before
    return out


@pytest.fixture(scope="module")
def split(trained):
    cfg = read_config(trained["config"])
    data, train_idx, test_idx, fraction = read_training_split(cfg, 1, 0)
    return {"cfg": cfg, "data": data, "train": train_idx, "test": test_idx, "fraction": fraction}


def test_extract_maps_structure(maps, split):
    cfg, data = split["cfg"], split["data"]
    k = len(cfg["bodyparts"])
    assert list(maps) == [split["fraction"]]
    assert list(maps[split["fraction"]]) == ["snapshot-50"]
    records = maps[split["fraction"]]["snapshot-50"]
    assert sorted(records) == list(range(len(data)))
    for row, rec in records.items():
        image, scmap, locref, paf, peaks, bodyparts, graph, name, is_train = rec
        assert image.shape == (*FRAME_HW, 3) and image.dtype == np.uint8
        assert scmap.shape == (*MAP_HW, k) and scmap.dtype == np.float32
        assert locref.shape == (*MAP_HW, k, 2)
        assert 0.0 <= scmap.min() and scmap.max() <= 1.0
        assert paf is None and graph == [] and bodyparts == cfg["bodyparts"]
        assert peaks.shape == (k, 3)
        assert name == tuple(str(p) for p in data.index[row])
        assert is_train == (row in split["train"])


def test_argmax_of_each_map_is_near_the_label_on_training_images(maps, split):
    labels = labels_to_array(split["data"], split["cfg"]["bodyparts"])
    records = maps[split["fraction"]]["snapshot-50"]
    xs, ys = cell_centers(MAP_HW, scale=(INPUT_HW[1] / FRAME_HW[1], INPUT_HW[0] / FRAME_HW[0]))
    dist = []
    for row in split["train"]:
        scmap = records[row][1]
        for k in range(scmap.shape[2]):
            if np.isfinite(labels[row, k]).all():
                i, j = np.unravel_index(np.argmax(scmap[..., k]), MAP_HW)
                dist.append(math.hypot(xs[j] - labels[row, k, 0], ys[i] - labels[row, k, 1]))
    dist = np.array(dist)
    assert len(dist) >= 40
    # a cell is 8 / 1.5 = 5.3 frame pixels wide: the peak cell is the labeled one or a neighbour
    assert np.median(dist) < 8.0, np.sort(dist)
    assert np.mean(dist < 12.0) >= 0.75, np.sort(dist)


def test_locref_is_in_image_pixels(maps, split, trained):
    """locref is in the pixels of the returned image (both rescale modes): the argmax cell centre + its locref is
    that cell's proposal, and the peak (posenb's decoder: the agreeing proposals of the 3x3 cells around the argmax,
    averaged) lies within one cell of it; the peak's likelihood is the argmax cell's score."""
    records = maps[split["fraction"]]["snapshot-50"]
    scaled = extract_maps(trained["config"], shuffle=1, rescale=True, Indices=[0, 1])[split["fraction"]][
        "snapshot-50"
    ]
    sx, sy = INPUT_HW[1] / FRAME_HW[1], INPUT_HW[0] / FRAME_HW[0]
    for recs, scale, image_hw in ((records, (sx, sy), FRAME_HW), (scaled, (1.0, 1.0), INPUT_HW)):
        xs, ys = cell_centers(MAP_HW, scale=scale)
        cell = np.hypot(xs[1] - xs[0], ys[1] - ys[0]) / np.sqrt(2)  # one cell in the returned image's pixels
        for row in (0, 1):
            image, scmap, locref, peaks = recs[row][0], recs[row][1], recs[row][2], recs[row][4]
            assert image.shape[:2] == image_hw
            for k in range(scmap.shape[2]):
                i, j = np.unravel_index(np.argmax(scmap[..., k]), MAP_HW)
                proposal = np.array([xs[j] + locref[i, j, k, 0], ys[i] + locref[i, j, k, 1]])
                assert np.hypot(*(peaks[k, :2] - proposal)) <= cell * 1.0001
                assert scmap[i, j, k] == pytest.approx(peaks[k, 2], abs=1e-5)
    # same network run, so the maps do not depend on rescale; peaks map back to frame pixels
    np.testing.assert_allclose(scaled[0][1], records[0][1], atol=1e-6)
    np.testing.assert_allclose((scaled[0][4][:, 0] + 0.5) / sx - 0.5, records[0][4][:, 0], atol=1e-3)


def test_predict_maps_batch_matches_predictor(split, trained):
    cfg, data = split["cfg"], split["data"]
    project = Path(cfg["project_path"])
    frames = np.stack([read_image(project.joinpath(*map(str, data.index[i]))) for i in range(5)])
    predictor, _ = load_predictor(cfg, 1, 0)
    out = predict_maps(predictor, frames, batch_size=2)
    k = len(cfg["bodyparts"])
    assert out["scmap"].shape == (5, *MAP_HW, k) and out["locref"].shape == (5, *MAP_HW, k, 2)
    assert out["input_size"] == (INPUT_HW[1], INPUT_HW[0]) and out["stride"] == 8.0
    assert math.ceil(INPUT_HW[0] / 8) == MAP_HW[0] and math.ceil(INPUT_HW[1] / 8) == MAP_HW[1]
    assert (out["scmap"] >= 0).all() and (out["scmap"] <= 1).all()
    np.testing.assert_allclose(out["poses"], predictor.predict(frames), atol=1e-3)


def test_indices_select_images(trained, split):
    out = extract_maps(trained["config"], shuffle=1, Indices=[3, 1])[split["fraction"]]["snapshot-50"]
    assert sorted(out) == [1, 3]
    assert out[3][7] == tuple(str(p) for p in split["data"].index[3])
    with pytest.raises(ConfigError, match="out of range"):
        extract_maps(trained["config"], shuffle=1, Indices=[len(split["data"])])
    with pytest.raises(ConfigError, match="trainingsetindex"):
        extract_maps(trained["config"], shuffle=1, trainingsetindex=3)


def test_extract_save_all_maps_writes_pngs(trained_copy):
    import cv2

    cfg = read_config(trained_copy)
    data, train_idx, _, fraction = read_training_split(cfg, 1, 0)
    rows = [train_idx[0], 2]
    parts = ["snout", "tailbase"]
    written = extract_save_all_maps(trained_copy, Indices=rows, comparisonbodyparts=parts)
    from posenb.project import paths

    folder = Path(cfg["project_path"]) / paths.get_evaluation_folder(fraction, 1, cfg) / "maps"
    assert folder.parts[-4:-1] == (
        "evaluation-results",
        "iteration-0",
        f"{cfg['Task']}{cfg['date']}-trainset80shuffle1",
    )
    expected = set()
    for row in rows:
        _, video, img = data.index[row]
        label = "train" if row in train_idx else "test"
        tail = f"{label}_1_{fraction}_snapshot-50.png"
        name = f"{video}-{Path(img).stem}"
        expected |= {f"{name}_scmap_{tail}", f"{name}_locref_{tail}"}
        expected |= {f"{name}_{m}-{bp}_{tail}" for m in ("scmap", "locref") for bp in parts}
    assert {p.name for p in folder.iterdir()} == expected
    assert sorted(written) == sorted(folder / n for n in expected)
    for path in written:
        png = cv2.imread(str(path))
        assert png is not None and png.shape[0] > 100 and png.shape[1] > 100

    other = Path(trained_copy).parent / "elsewhere"
    files = extract_save_all_maps(trained_copy, Indices=[0], per_bodypart=False, dest_folder=other)
    assert {p.parent for p in files} == {other} and len(files) == 2
    with pytest.raises(ConfigError, match="nose"):
        extract_save_all_maps(trained_copy, Indices=[0], comparisonbodyparts=["nose"])


def test_maps_to_image_and_visualize(maps, split):
    import matplotlib.pyplot as plt

    image, scmap, locref = maps[split["fraction"]]["snapshot-50"][0][:3]
    sx, sy = INPUT_HW[1] / FRAME_HW[1], INPUT_HW[0] / FRAME_HW[0]
    big = maps_to_image(scmap, FRAME_HW, scale=(sx, sy))
    assert big.shape == (*FRAME_HW, scmap.shape[2])
    assert big.min() >= scmap.min() - 1e-6 and big.max() <= scmap.max() + 1e-6
    # alignment: a map equal to its column index, resampled, gives back the (fractional) column of every pixel
    ramp = np.tile(np.arange(MAP_HW[1], dtype=np.float32), (MAP_HW[0], 1))
    xs, _ = cell_centers(MAP_HW, scale=(sx, sy))
    inside = np.arange(int(np.ceil(xs[0])), int(np.floor(xs[-1])) + 1)
    column = (inside - xs[0]) / (xs[1] - xs[0])
    np.testing.assert_allclose(maps_to_image(ramp, FRAME_HW, scale=(sx, sy))[40, inside], column, atol=2e-3)

    fig, ax = visualize_scoremaps(image, big[..., 0])
    assert len(ax.images) == 2
    plt.close(fig)
    lx = maps_to_image(locref[..., 0, 0], FRAME_HW, scale=(sx, sy))
    ly = maps_to_image(locref[..., 0, 1], FRAME_HW, scale=(sx, sy))
    fig, ax = visualize_locrefs(image, big[..., 0], lx, ly, step=3, zoom_width=20)
    assert len(ax.collections) == 1  # the quiver
    assert ax.get_xlim()[1] - ax.get_xlim()[0] == pytest.approx(40)
    plt.close(fig)
    fig, ax = visualize_scoremaps(image, scmap)  # map-sized, all body parts: stretched over the image
    assert ax.images[1].get_extent() == [-0.5, FRAME_HW[1] - 0.5, FRAME_HW[0] - 0.5, -0.5]
    plt.close(fig)


def test_predictions_use_the_snapshots_decoding_and_older_snapshots_keep_locref_alone(trained, trained_copy):
    import torch

    from posenb.data.augment import rescale
    from posenb.nn import decode
    from posenb.nn.snapshots import load_snapshot

    cfg = read_config(trained["config"])
    predictor, info = load_predictor(cfg, 1, 0)
    mc = load_snapshot(info["snapshot"])["model_config"]
    model = predictor.model
    assert (model.heatmap_sigma, model.peak_weight) == (mc["heatmap_sigma"], mc["peak_weight"])
    project = Path(cfg["project_path"])
    data = read_training_split(cfg, 1, 0)[0]
    frames = np.stack([read_image(project.joinpath(*map(str, data.index[i]))) for i in range(4)])
    small = np.stack([rescale(f, None, predictor.global_scale)[0] for f in frames])  # network input (x1.5)
    with torch.inference_mode():
        out = model(model.normalize(small))
    for weight in (0.0, 0.25):  # what predictions give, whichever weight training chose
        predictor.model.peak_weight = weight  # (the predictor's model: BatchNorm folded into a copy)
        want = decode(out["heatmap"], out["locref"], heatmap_sigma=model.heatmap_sigma, peak_weight=weight)
        np.testing.assert_allclose(predictor.run(small), want.numpy(), atol=1e-3)
    # a snapshot saved before posenb stored the decoding: locref alone, as when it was trained
    copy_cfg = read_config(trained_copy)
    path = Path(load_predictor(copy_cfg, 1, 0)[1]["snapshot"])
    old = load_snapshot(path)
    for key in ("heatmap_sigma", "peak_weight"):
        del old["model_config"][key]
    torch.save(old, path)
    again = load_predictor(copy_cfg, 1, 0)[0]
    assert again.model.peak_weight == 0.0 and again.model.heatmap_sigma is None
    locref_alone = decode(out["heatmap"], out["locref"])
    np.testing.assert_allclose(again.run(small), locref_alone.numpy(), atol=1e-3)
