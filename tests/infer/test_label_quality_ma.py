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
    explained = model_issues_ma(labels, pred, BP, INDS, skip={(5, "male snout")})  # e.g. flagged other_animal
    assert [(i.image, i.kind) for i in explained] == [(9, "swap_model")]


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
    """tests/train/ma_synth's two-animal project (12 frames, 96 px), its top-down model trained 40 iterations per
    network (about 30 s of CPU: most animals found within a few pixels, likelihoods about 0.25, so pcutoff 0.1)."""
    import yaml
    from ma_synth import make_ma_project

    from posenb import create_training_dataset, train_network

    config = make_ma_project(tmp_path_factory.mktemp("ma-qc"), n=12)
    cfg = yaml.safe_load(Path(config).read_text())
    cfg["pcutoff"] = 0.1
    Path(config).write_text(yaml.safe_dump(cfg, sort_keys=False))
    create_training_dataset(config)
    train_network(
        config, maxiters=40, progress=False, batch_size=8, warmup_iters=5, lr=2e-3, gaussian_noise=0.0
    )
    return config


def _model_rows(table):
    rows = table[table["kind"].isin(["far_from_model", "swap_model"])]
    return rows, table.drop(rows.index).reset_index(drop=True)


@pytest.mark.slow  # a small training (about 30 s of CPU)
def test_real_predictor_end_to_end(trained_synth):
    """The labeled images go through the trained shuffle's predictor, predicted animals are matched to the labeled
    ones: a head shifted 30 px on a well-predicted animal is flagged, well-predicted clean animals are not, the
    model rows are model_issues_ma on the predictor's output, nothing in the project changes."""
    from posenb.data.ma_trainingset import merge_ma_datasets
    from posenb.infer.analyze_ma import load_predictor_ma
    from posenb.infer.evaluate_ma import predict_images_ma
    from posenb.infer.ma_metrics import matched_errors
    from posenb.io.label_arrays import table_to_arrays
    from posenb.project.config import project_parts

    cfg = read_config(trained_synth)
    parts, data = project_parts(cfg), merge_ma_datasets(cfg)
    bps, inds, names = list(parts.bodyparts), list(parts.individuals), ["/".join(i) for i in data.index]
    points = table_to_arrays(data, bps, inds, parts.unique_bodyparts).points  # (12, 2, 3, 2)
    predictor, _ = load_predictor_ma(trained_synth, cfg, 1, 0)
    poses = predict_images_ma(predictor, Path(cfg["project_path"]), list(data.index))["poses"]
    error = matched_errors(points, poses, cfg["pcutoff"])["error_pcutoff"]  # (12, 2, 3) px
    good = np.nan_to_num(error, nan=1e9).max(axis=-1) < 6.0  # (image, animal) predicted within 6 px
    assert good.sum() >= 3, error

    clean, _ = _model_rows(check_label_quality(trained_synth, use_model=True))
    flagged = {
        (names.index(img), inds.index(b.split()[0])) for img, b in zip(clean["image"], clean["bodyparts"])
    }
    assert not any(good[n, a] for n, a in flagged), clean  # no alarm where the model agrees with the labels

    n, a = map(int, np.argwhere(good)[0])
    path = _label_file(trained_synth)
    df = read_labels(path)
    df.loc[df.index[n], (df.columns[0][0], inds[a], "head", "x")] += 30.0
    write_labels(df, path, backup=False)
    points[n, a, 0, 0] += 30.0
    before = _hashes(trained_synth)
    model_rows, rest = _model_rows(check_label_quality(trained_synth, use_model=True))
    assert _hashes(trained_synth) == before  # nothing written, not even a cache
    assert (names[n], f"{inds[a]} head", "far_from_model") in set(
        zip(model_rows["image"], model_rows["bodyparts"], model_rows["kind"])
    )
    assert rest.to_dict("list") == check_label_quality(trained_synth, use_model=False).to_dict("list")
    placed = {
        (names.index(i), b)
        for i, b, k in zip(rest["image"], rest["bodyparts"], rest["kind"])
        if k == "other_animal"
    }
    expected = model_issues_ma(points, poses, bps, inds, cfg["pcutoff"], skip=placed)
    assert sorted(zip(model_rows["image"], model_rows["bodyparts"], model_rows["kind"])) == sorted(
        (names[i.image], ",".join(i.bodyparts), i.kind) for i in expected
    )
