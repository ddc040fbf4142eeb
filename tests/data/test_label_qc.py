"""Label QC checks on synthetic animals with planted mistakes, and on DeepLabCut's openfield labels."""

from __future__ import annotations

import numpy as np
import pytest

from posenb.data.augment import find_symmetric_pairs
from posenb.data.label_qc import (
    find_bone_length_outliers,
    find_duplicate_points,
    find_far_from_model,
    find_parts_on_other_animals,
    find_swaps_geometry,
    find_swaps_model,
    issues_table,
)
from posenb.demo.synthetic import DEMO_BODYPARTS, DEMO_SKELETON, simulate_trajectory

BP = list(DEMO_BODYPARTS)
PAIRS = find_symmetric_pairs(BP)  # [(1, 2)]: leftear / rightear


@pytest.fixture
def clean() -> np.ndarray:
    """(60, 4, 2) true key points of the demo animal walking around a 320x240 arena."""
    return simulate_trajectory(60, 320, 240, seed=3)["keypoints"].copy()


def _flagged(issues, kind):
    return sorted({i.image for i in issues if i.kind == kind})


def test_clean_labels_flag_nothing(clean):
    assert find_duplicate_points(clean, BP) == []
    assert find_bone_length_outliers(clean, BP, DEMO_SKELETON) == []
    assert find_swaps_geometry(clean, BP, PAIRS) == []


def test_duplicate_points(clean):
    labels = clean.copy()
    labels[7, 2] = labels[7, 1] + 0.3  # rightear clicked on leftear
    issues = find_duplicate_points(labels, BP, tol_px=1.0)
    assert [(i.image, i.bodyparts) for i in issues] == [(7, ("leftear", "rightear"))]


def test_bone_length_finds_the_misplaced_point(clean):
    labels = clean.copy()
    labels[11, 0] += (25.0, -20.0)  # snout far off
    issues = find_bone_length_outliers(labels, BP, DEMO_SKELETON)
    assert _flagged(issues, "bone_length") == [11]
    assert all("snout" in i.bodyparts for i in issues)


def test_bone_length_counts_a_pose_copied_across_frames_once(clean):
    """An animal at rest whose points were copied from frame to frame (SLEAP's two flies: ~40 distinct leg
    positions in 120 frames) repeats one edge exactly; the frames where it moves are not outliers for that, but
    a misplaced point still is."""
    rng = np.random.default_rng(0)
    labels = clean.copy()
    rest = labels[0].copy()
    for n in range(1, 40):  # 40 frames: the same pose, moved as a whole (rigid translation)
        labels[n] = rest + rng.uniform(-30, 30, size=2)
    # the tailbase of the moving frames swings +-30 % along the body: a flexible edge, like a fly's leg
    body = labels[40:, 3] - labels[40:, 0]
    labels[40:, 3] = labels[40:, 0] + body * rng.uniform(0.7, 1.3, size=(20, 1))
    assert find_bone_length_outliers(labels, BP, DEMO_SKELETON) == []
    labels[45, 1] += (30.0, 25.0)  # leftear far off in a moving frame
    assert _flagged(find_bone_length_outliers(labels, BP, DEMO_SKELETON), "bone_length") == [45]


def test_bone_length_ignores_unknown_parts_and_missing_labels(clean):
    labels = clean.copy()
    labels[:, 3] = np.nan  # tailbase never labeled
    issues = find_bone_length_outliers(labels, BP, [*DEMO_SKELETON, ["bodypart1", "bodypart2"]])
    assert issues == []


def test_geometric_swaps_are_found(clean):
    labels = clean.copy()
    swapped = [4, 20, 41]
    labels[swapped, 1], labels[swapped, 2] = clean[swapped, 2], clean[swapped, 1]
    issues = find_swaps_geometry(labels, BP, PAIRS)
    assert _flagged(issues, "swap_geometry") == swapped


def test_geometric_swaps_need_a_consistent_majority(clean):
    labels = clean.copy()
    half = np.arange(0, 60, 2)  # half the frames mirrored: no side is usual, nothing can be called a swap
    labels[half, 1], labels[half, 2] = clean[half, 2], clean[half, 1]
    assert find_swaps_geometry(labels, BP, PAIRS) == []


def test_model_checks(clean):
    pred = np.concatenate([clean + 0.5, np.full((60, 4, 1), 0.95)], axis=2)
    labels = clean.copy()
    labels[9, 1], labels[9, 2] = clean[9, 2], clean[9, 1]  # swapped pair
    labels[30, 3] += (40.0, 0.0)  # tailbase misplaced
    pred[50, 0, :2] += 60.0
    pred[50, 0, 2] = 0.1  # an unconfident bad prediction is no evidence
    labels[50, 0] = clean[50, 0]
    swaps = find_swaps_model(labels, pred, BP, PAIRS, pcutoff=0.6)
    assert [(s.image, s.kind) for s in swaps] == [(9, "swap_model")]
    explained = {(s.image, bp) for s in swaps for bp in s.bodyparts}
    far = find_far_from_model(labels, pred, BP, pcutoff=0.6, min_px=10, skip=explained)
    assert [(f.image, f.bodyparts) for f in far] == [(30, ("tailbase",))]


def test_issues_table_sorted_and_named(clean):
    labels = clean.copy()
    labels[5, 2] = labels[5, 1]
    labels[6, 0] += 50
    images = [("labeled-data", "v", f"img{i:03d}.png") for i in range(60)]
    issues = find_duplicate_points(labels, BP) + find_bone_length_outliers(labels, BP, DEMO_SKELETON)
    table = issues_table(issues, images)
    assert list(table.columns) == ["image", "kind", "bodyparts", "score", "message"]
    assert set(table["image"]) == {"labeled-data/v/img005.png", "labeled-data/v/img006.png"}
    assert list(table["kind"]) == sorted(table["kind"])
    assert issues_table([], images).empty


@pytest.mark.shared
def test_openfield_real_swap_and_planted_mistakes(openfield_dir):
    """DLC's own openfield labels: one real left/right ear swap (img0102: the mouse faces left, its left ear is
    labeled on its right side); planted swaps and shifted snouts are recalled with few false alarms."""
    from posenb.io.labels import labels_to_array, read_labels

    df = read_labels(openfield_dir / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5")
    labels = labels_to_array(df, BP)
    names = [i[2] for i in df.index]
    found = find_swaps_geometry(labels, BP, PAIRS)
    assert [names[i.image] for i in found] == ["img0102.png"]

    rng = np.random.default_rng(0)
    corrupt = labels.copy()
    candidates = [i for i in range(len(labels)) if names[i] != "img0102.png" and np.isfinite(labels[i]).all()]
    swapped = sorted(rng.choice(candidates, 8, replace=False).tolist())
    corrupt[swapped, 1], corrupt[swapped, 2] = labels[swapped, 2], labels[swapped, 1]
    flagged = set(_flagged(find_swaps_geometry(corrupt, BP, PAIRS), "swap_geometry"))
    recall = len(flagged & set(swapped)) / len(swapped)
    precision = len(flagged & set(swapped)) / max(len(flagged - {names.index("img0102.png")}), 1)
    assert recall >= 0.75 and precision >= 0.75, (recall, precision)


def test_part_placed_on_another_animal():
    a = simulate_trajectory(20, 320, 240, seed=1)["keypoints"]
    b = a + np.array([150.0, 0.0])  # a second animal, 150 px to the right
    labels = np.stack([a, b], axis=1)  # (20, 2, 4, 2)
    assert find_parts_on_other_animals(labels, BP, ["female", "male"]) == []
    labels[6, 0, 3] = b[6, 1]  # the female's tailbase clicked on the male
    issues = find_parts_on_other_animals(labels, BP, ["female", "male"])
    assert [(i.image, i.bodyparts) for i in issues] == [(6, ("female tailbase",))]
    assert "female's tailbase lies on male" in issues[0].message


def test_parts_on_other_animals_touching_and_crossing():
    """Three animals that touch and cross (the multi-animal demo's motion), labels with 1.5 px of click noise: no
    false alarm on the clean labels; parts clicked on another animal's same part are found, naming both."""
    from posenb.demo.synthetic_multi import simulate_animals

    rng = np.random.default_rng(0)
    sim = simulate_animals(300, 320, 240, n_animals=3, seed=2)
    labels = sim["keypoints"] + rng.normal(0, 1.5, sim["keypoints"].shape)  # (300, 3, 4, 2)
    inds = ["mouse1", "mouse2", "mouse3"]
    assert find_parts_on_other_animals(labels, BP, inds) == []
    planted = {}
    for n in rng.choice(300, 20, replace=False):
        a, b = rng.choice(3, 2, replace=False)
        k = int(rng.integers(4))
        labels[n, a, k] = labels[n, b, k] + rng.uniform(-3, 3, 2)
        planted[int(n)] = (f"{inds[a]} {BP[k]}", inds[b])
    issues = find_parts_on_other_animals(labels, BP, inds)
    found = {i.image: i for i in issues}
    assert set(found) <= set(planted)  # no false alarm
    assert len(found) >= 0.75 * len(planted), (len(found), len(planted))
    for n, issue in found.items():
        assert issue.bodyparts == (planted[n][0],)
        assert (
            issue.message.startswith(f"{planted[n][0].split()[0]}'s")
            and f"lies on {planted[n][1]}" in issue.message
        )
