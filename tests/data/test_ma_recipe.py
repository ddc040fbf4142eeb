"""The multi-animal recipe's budgets (posenb.data.ma_trainingset.derive_ma_recipe) follow the single-animal rule,
posenb.data.recipe.training_budget: labeled animals as the pose model's frames, the centroid model at its canvas."""

from __future__ import annotations

import numpy as np
import pytest

from posenb.data.ma_trainingset import CENTROID_SHARE, derive_ma_recipe
from posenb.data.recipe import seconds_per_iteration, training_budget

FRAME = (640, 480)


def animals(n_frames: int, n_parts: int, n_animals: int = 2, seed: int = 0) -> np.ndarray:
    """``(n_frames, n_animals, n_parts, 2)`` labels [px] of ~40 px animals, one per 640 / n_animals wide band of a
    640x480 frame (animals > 100 px apart)."""
    rng = np.random.default_rng(seed)
    band = FRAME[0] / n_animals
    centres = np.stack(
        [
            (np.arange(n_animals) + 0.5) * band + rng.uniform(-band / 4, band / 4, (n_frames, n_animals)),
            rng.uniform(60, 420, (n_frames, n_animals)),
        ],
        axis=-1,
    )
    return centres[:, :, None] + rng.uniform(-20, 20, (n_frames, n_animals, n_parts, 2))


def parts(n: int) -> list[str]:
    return [f"p{i}" for i in range(n)]


def test_pose_budget_is_the_single_animal_rule_with_animals_as_frames():
    values, reasons = derive_ma_recipe(FRAME, animals(60, 4), parts(4))
    # 120 labeled animals: 1500 + 15 x 120 = 3300; 4 parts: x1; the instance crop (128 px) holds the animal: x1;
    # 3300 x 0.14 s (128 px crops) = 7.8 min -> the 12 min floor
    assert values["crop_size"] == [128, 128]
    assert values["max_iters"] == 3300 and values["max_minutes"] == 12.0
    assert training_budget(120, 4, 128, 128)[0] == {"max_iters": 3300, "max_minutes": 12.0}
    assert reasons["max_iters"].startswith("pose model: 120 labeled animals: 1500 + 15 per animal = 3300")
    assert "time model: 3300 x 0.14 s (128x128 crops" in reasons["max_minutes"]


@pytest.mark.parametrize(
    ("n_frames", "n_parts", "n_animals"), [(30, 4, 2), (150, 4, 2), (60, 9, 3), (200, 16, 2)]
)
def test_pose_budget_equals_training_budget(n_frames, n_parts, n_animals):
    coords = animals(n_frames, n_parts, n_animals, seed=n_frames)
    values, _ = derive_ma_recipe(FRAME, coords, parts(n_parts))
    side = values["crop_size"][0]
    want, _ = training_budget(n_frames * n_animals, n_parts, side, side)
    assert {k: values[k] for k in want} == want


def test_budget_counts_labeled_animals_and_labeled_parts():
    coords = animals(100, 9)
    full, _ = derive_ma_recipe(FRAME, coords, parts(9))
    coords[:50, 1] = np.nan  # the second animal unlabeled in half of the frames: 150 labeled animals
    coords[:, :, 5:] = np.nan  # parts 5-8 never labeled: 5 parts
    fewer, reasons = derive_ma_recipe(FRAME, coords, parts(9))
    side = fewer["crop_size"][0]
    assert fewer["max_iters"] == training_budget(150, 5, side, side)[0]["max_iters"] < full["max_iters"]
    assert "150 labeled animals" in reasons["max_iters"] and "for 5 parts" in reasons["max_iters"]


def test_budget_grows_with_labeled_animals_and_parts():
    def iters(n_frames, n_parts, n_animals=2):
        return derive_ma_recipe(FRAME, animals(n_frames, n_parts, n_animals), parts(n_parts))[0]["max_iters"]

    assert iters(50, 4) < iters(100, 4) < iters(200, 4) < iters(200, 4, n_animals=3)
    assert iters(100, 4) < iters(100, 9) < iters(100, 16)
    assert iters(100, 16) == iters(100, 25)  # the parts factor is capped at x2, as for single-animal projects
    assert iters(3000, 16) == 20000  # and the iterations at 20000


def test_centroid_budget_at_its_canvas_with_its_share():
    values, reasons = derive_ma_recipe(FRAME, animals(60, 4), parts(4))
    # 640 px frame -> x0.5 = 320 px, canvas 256 (coverage 320 / 256 = 1.25); 60 labeled frames: 1500 + 900 =
    # 2400 x 1.25 = 3000, a third: 1000; 1000 x 0.57 s (256 px canvas) = 9.5 min, in [4, 20]
    assert values["ma_centroid_scale"] == 0.5 and values["ma_centroid_crop"] == [256, 256]
    assert values["ma_centroid_iters"] == 1000 and values["ma_centroid_minutes"] == 9.5
    budget, _ = training_budget(60, 1, 256, 320, share=CENTROID_SHARE)
    assert budget == {"max_iters": 1000, "max_minutes": 9.5}
    assert 1000 * seconds_per_iteration((256, 256)) / 60 == pytest.approx(9.48, abs=0.01)
    why = reasons["ma_centroid_iters"]
    assert why.startswith("centroid model, 1 map (the anchors): 60 labeled frames")
    assert (
        "x1.25 crop coverage (320 px scaled frame / 256 px crop" in why and "x0.33 of a pose model's" in why
    )
    assert "in [4, 20]" in reasons["ma_centroid_minutes"]
    # few frames: the floors are a third of the pose model's (700 iterations, 4 min)
    small, _ = derive_ma_recipe(FRAME, animals(8, 4), parts(4))
    assert small["ma_centroid_iters"] == 700 and small["ma_centroid_minutes"] == 6.6  # 700 x 0.57 s
    assert training_budget(8, 1, 160, 160, share=CENTROID_SHARE)[0] == {"max_iters": 700, "max_minutes": 4.0}


def test_centroid_budget_counts_unique_parts_as_maps():
    coords = animals(60, 4)
    unique = np.random.default_rng(1).uniform(10, 470, (60, 7, 2))  # 7 unique parts: 8 maps, x sqrt(2)
    values, reasons = derive_ma_recipe(FRAME, coords, parts(4), unique)
    assert (
        values["ma_centroid_iters"] == training_budget(60, 8, 256, 320, share=CENTROID_SHARE)[0]["max_iters"]
    )
    assert values["ma_centroid_iters"] == 1400  # 3000 x 1.41 / 3 = 1414
    assert "1 map (the anchors) + 7 unique part(s)" in reasons["ma_centroid_iters"]
    unique[:, 3:] = np.nan  # only 3 unique parts labeled: 4 maps, x1
    assert derive_ma_recipe(FRAME, coords, parts(4), unique)[0]["ma_centroid_iters"] == 1000
    # a frame with only its unique parts labeled is a training frame of the centroid model
    coords[:20] = np.nan
    assert derive_ma_recipe(FRAME, coords, parts(4), unique)[0]["ma_centroid_iters"] == 1000
