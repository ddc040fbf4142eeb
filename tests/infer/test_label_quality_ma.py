"""check_label_quality on multi-animal projects: a part placed on another animal, and the model checks after
matching predicted to labeled animals (injected predictions, then a tiny trained top-down model end to end);
nothing in the project changes."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from posenb.errors import ModelError
from posenb.infer.label_quality import check_label_quality
from posenb.infer.label_quality_ma import model_issues_ma
from posenb.io.labels import read_labels, write_labels
from posenb.project.config import read_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))

BP = ["snout", "leftear", "rightear", "tailbase"]
INDS = ["female", "male"]


def _hashes(config) -> dict[str, str]:
    """sha1 of every file of the project."""
    project = Path(read_config(config)["project_path"])
    return {
        str(p): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(project.rglob("*")) if p.is_file()
    }


def _label_file(config) -> Path:
    cfg = read_config(config)
    return next((Path(cfg["project_path"]) / "labeled-data").glob(f"*/CollectedData_{cfg['scorer']}.h5"))


@pytest.fixture
def animals() -> np.ndarray:
    """(40, 2, 4, 2) labels of two demo animals that touch and cross, with 1 px of click noise."""
    from posenb.demo.synthetic_multi import simulate_animals

    kp = simulate_animals(40, 320, 240, n_animals=2, seed=1)["keypoints"]
    return kp + np.random.default_rng(0).normal(0, 1.0, kp.shape)


def _predicted(labels: np.ndarray, rng) -> np.ndarray:
    """A good model's animals: labels + 0.7 px noise, likelihood 0.9, slots in reversed order plus an empty one."""
    pred = np.full((len(labels), 3, labels.shape[2], 3), np.nan)
    pred[:, :2, :, :2] = labels[:, ::-1] + rng.normal(0, 0.7, labels.shape)
    pred[:, :2, :, 2] = 0.9
    return pred


def test_model_checks_match_animals_then_flag_per_animal(animals):
    rng = np.random.default_rng(1)
    pred = _predicted(animals, rng)
    assert model_issues_ma(animals, pred, BP, INDS) == []  # clean labels, a good model: nothing
    labels = animals.copy()
    labels[5, 1, 0] += [25.0, -10.0]  # the male's snout shifted
    labels[9, 0, [1, 2]] = animals[9, 0, [2, 1]]  # the female's ears swapped
    labels[12, 0, 3] += [30.0, 0.0]  # shifted, but the model is unsure there
    pred[12, 1, 3, 2] = 0.2  # (slot 1 = the female after the reversal)
    found = {(i.image, i.kind, ",".join(i.bodyparts)) for i in model_issues_ma(labels, pred, BP, INDS)}
    assert found == {(5, "far_from_model", "male snout"), (9, "swap_model", "female leftear,female rightear")}


def test_part_on_the_other_animal_and_nothing_written(ma_demo_project):
    path = _label_file(ma_demo_project)
    assert "other_animal" not in set(check_label_quality(ma_demo_project, use_model=False)["kind"])  # clean
    df = read_labels(path)
    scorer, image = df.columns[0][0], df.index[7]
    for c in ("x", "y"):  # mouse1's tailbase clicked on mouse2's
        df.loc[image, (scorer, "mouse1", "tailbase", c)] = (
            df.loc[image, (scorer, "mouse2", "tailbase", c)] + 2.0
        )
    write_labels(df, path, backup=False)
    before = _hashes(ma_demo_project)
    with pytest.warns(UserWarning, match="geometric checks only"):  # no snapshot: the model is skipped
        table = check_label_quality(ma_demo_project)
    other = table[table["kind"] == "other_animal"]
    assert list(other["image"]) == ["/".join(image)] and list(other["bodyparts"]) == ["mouse1 tailbase"]
    assert "mouse1's tailbase lies on mouse2" in other["message"].iloc[0]
    with pytest.raises(ModelError, match="use_model=False"):
        check_label_quality(ma_demo_project, use_model=True)
    assert _hashes(ma_demo_project) == before


@pytest.fixture(scope="module")
def trained_synth(tmp_path_factory) -> str:
    """tests/train/ma_synth's two-animal project (12 frames, 96 px), its top-down model trained 3 iterations."""
    from ma_synth import make_ma_project

    from posenb import create_training_dataset, train_network

    config = make_ma_project(tmp_path_factory.mktemp("ma-qc"), n=12)
    create_training_dataset(config)
    train_network(
        config, maxiters=3, progress=False, batch_size=2, warmup_iters=1, display_iters=1, save_iters=3
    )
    return config


def test_real_predictor_end_to_end(trained_synth):
    """The labeled images go through the trained shuffle's predictor; its model rows are exactly model_issues_ma
    on those predictions (a 3-iteration model is not accurate enough to assert which points it flags)."""
    from posenb.data.ma_trainingset import merge_ma_datasets
    from posenb.infer.analyze_ma import load_predictor_ma
    from posenb.infer.evaluate_ma import predict_images_ma
    from posenb.io.label_arrays import table_to_arrays
    from posenb.project.config import project_parts

    before = _hashes(trained_synth)
    table = check_label_quality(trained_synth, use_model=True, far_px=1.0)
    geometric = check_label_quality(trained_synth, use_model=False)
    assert _hashes(trained_synth) == before  # nothing written, not even a cache
    model_rows = table[table["kind"].isin(["far_from_model", "swap_model"])]
    rest = table.drop(model_rows.index).reset_index(drop=True)
    assert rest.equals(geometric)
    cfg = read_config(trained_synth)
    parts, data = project_parts(cfg), merge_ma_datasets(cfg)
    points = table_to_arrays(data, parts.bodyparts, parts.individuals, parts.unique_bodyparts).points
    predictor, _ = load_predictor_ma(trained_synth, cfg, 1, 0)
    poses = predict_images_ma(predictor, Path(cfg["project_path"]), list(data.index))["poses"]
    expected = model_issues_ma(
        points, poses, list(parts.bodyparts), list(parts.individuals), cfg["pcutoff"], 1.0
    )
    names = ["/".join(i) for i in data.index]
    assert sorted(zip(model_rows["image"], model_rows["bodyparts"], model_rows["kind"])) == sorted(
        (names[i.image], ",".join(i.bodyparts), i.kind) for i in expected
    )
    assert all(b.split()[0] in ("big", "small") for b in model_rows["bodyparts"])
