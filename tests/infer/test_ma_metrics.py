"""Multi-animal metrics on arrays with known answers (posenb/infer/ma_metrics.py)."""

import math

import numpy as np
import pytest

from posenb.infer.ma_metrics import (
    animal_distance,
    identity_accuracy,
    match_animals,
    matched_errors,
    oks,
    oks_map,
)


def _two_animals(n=4):
    """Labels (n, 2, 3, 2): animal 0 around x=20, animal 1 around x=80, 10 px boxes."""
    base = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]])
    gt = np.stack([np.stack([base + [20, 20], base + [80, 50]]) for _ in range(n)])
    return gt


def _pred(gt, offset=(0.0, 0.0), likelihood=0.9):
    pred = np.concatenate([gt + np.asarray(offset), np.full(gt.shape[:-1] + (1,), likelihood)], axis=-1)
    return pred


def test_perfect_predictions_zero_error_full_map():
    gt = _two_animals()
    res = matched_errors(gt, _pred(gt))
    assert np.nanmax(res["error"]) == 0 and not res["missed"].any()
    assert (res["assignment"] == [0, 1]).all()
    m = oks_map(gt, _pred(gt))
    assert m["mAP"] == pytest.approx(100) and m["mAR"] == pytest.approx(100)
    assert m["n_labeled"] == 8 and m["n_predicted"] == 8


def test_swapped_animal_order_gives_the_same_errors():
    gt = _two_animals()
    pred = _pred(gt, offset=(3.0, 4.0))  # every point 5 px off
    swapped = pred[:, ::-1]
    a, b = matched_errors(gt, pred), matched_errors(gt, swapped)
    np.testing.assert_allclose(a["error"], 5.0)
    np.testing.assert_allclose(b["error"], a["error"])
    assert (b["assignment"] == [1, 0]).all()
    assert oks_map(gt, pred)["mAP"] == pytest.approx(oks_map(gt, swapped)["mAP"])
    # labels in the other order too: each labeled animal keeps its own error
    np.testing.assert_allclose(matched_errors(gt[:, ::-1], pred)["error"], 5.0)


def test_matching_is_optimal_not_greedy():
    # greedy nearest-first would give prediction 0 to animal 1 (distance 1) and leave animal 0 at distance 10
    gt = np.array([[[[0.0, 0.0]], [[5.0, 0.0]]]])
    pred = np.array([[[[4.0, 0.0, 1.0]], [[-1.0, 0.0, 1.0]]]])
    assert match_animals(gt[0], pred[0]).tolist() == [1, 0]
    np.testing.assert_allclose(matched_errors(gt, pred)["error"][0, :, 0], [1.0, 1.0])


def test_missed_animal_counted_and_not_in_the_error():
    gt = _two_animals(n=1)
    pred = _pred(gt)[:, :1]  # only animal 0 predicted
    res = matched_errors(gt, pred)
    assert res["missed"].tolist() == [[False, True]] and res["labeled"].all()
    assert np.isnan(res["error"][0, 1]).all() and np.nanmax(res["error"]) == 0
    m = oks_map(gt, pred)
    assert m["mAR"] == pytest.approx(50)
    assert m["mAP"] == pytest.approx(100 * 51 / 101)  # precision 1 up to recall 0.5, then nothing
    # an unlabeled individual (all NaN) is neither labeled nor missed
    gt2 = gt.copy()
    gt2[0, 1] = np.nan
    res2 = matched_errors(gt2, pred)
    assert not res2["missed"].any() and res2["labeled"].tolist() == [[True, False]]
    assert oks_map(gt2, pred)["mAP"] == pytest.approx(100)


def test_pcutoff_and_partial_points():
    gt = _two_animals(n=1)
    pred = _pred(gt, offset=(0.0, 2.0))
    pred[0, 0, 1, 2] = 0.1  # one point below p-cutoff
    pred[0, 1, 2, :] = np.nan  # one point not predicted
    res = matched_errors(gt, pred, pcutoff=0.6)
    assert np.isfinite(res["error"]).sum() == 5 and np.isfinite(res["error_pcutoff"]).sum() == 4
    np.testing.assert_allclose(np.nanmean(res["error"]), 2.0)


def test_oks_known_values_and_threshold_sweep():
    gt = np.array([[0.0, 0.0], [10.0, 10.0]])  # bounding box area 100
    assert oks(gt, gt) == pytest.approx(1.0)
    pred = gt + [[0.0, 0.0], [2.0, 0.0]]
    # k = 2 * 0.1: exp(-4 / (2 * 100 * 0.04)) = exp(-0.5) for the moved point
    assert oks(gt, pred) == pytest.approx((1 + math.exp(-0.5)) / 2)
    assert oks(gt, pred, sigma=[0.1, 0.2]) == pytest.approx((1 + math.exp(-0.125)) / 2)
    assert math.isnan(oks(gt[:1], pred[:1]))  # < 2 labeled points: not scored
    # OKS 0.72: matched at thresholds 0.50 ... 0.70 (5 of 10) -> mAP = mAR = 50
    d = math.sqrt(-math.log(0.44) * 2 * 100 * 0.04)
    pred = np.array([[0.0, 0.0, 1.0], [10.0 + d, 10.0, 1.0]])
    assert oks(gt, pred) == pytest.approx(0.72)
    m = oks_map(gt[None, None], pred[None, None])
    assert m["mAP"] == pytest.approx(50) and m["mAR"] == pytest.approx(50)


def test_false_positive_ranked_first_halves_precision():
    gt = _two_animals(n=1)[:, :1]  # one labeled animal
    good = _pred(gt)[0, 0]
    far = good.copy()
    far[:, :2] += 300
    pred = np.stack([far, good])[None]
    m = oks_map(gt, pred, scores=np.array([[0.9, 0.5]]))
    assert m["mAP"] == pytest.approx(50) and m["mAR"] == pytest.approx(100)
    assert oks_map(gt, pred, scores=np.array([[0.5, 0.9]]))["mAP"] == pytest.approx(100)
    assert oks_map(gt, pred[:, :0])["mAP"] == 0.0  # nothing predicted


def test_animal_distance_without_shared_parts_is_inf_and_identity_accuracy():
    gt = np.array([[[0.0, 0.0], [np.nan, np.nan]]])
    pred = np.array([[[np.nan, np.nan, np.nan], [1.0, 1.0, 1.0]]])
    assert np.isinf(animal_distance(gt, pred)).all() and match_animals(gt, pred).tolist() == [-1]
    gt2 = _two_animals(n=2)
    res = matched_errors(gt2, _pred(gt2)[:, ::-1])  # prediction 0 is animal 1
    ident = np.array([[[0.1, 0.9], [0.8, 0.2]], [[0.9, 0.1], [0.8, 0.2]]])  # image 1: both say individual 0
    assert identity_accuracy(ident, res["assignment"], res["labeled"]) == pytest.approx(3 / 4)


def test_evaluate_animals_splits_unique_parts_and_columns():
    from posenb.infer.evaluate_ma import MA_COLUMNS, evaluate_animals

    gt = _two_animals(n=4)  # images 0, 1 train; 2, 3 test
    poses = _pred(gt, offset=(3.0, 4.0))[:, ::-1].copy()  # 5 px off, animals in the other order
    poses[2:, :, :, :2] += [6.0, 8.0]  # test images: 15 px off
    poses[3, 0] = np.nan  # image 3: animal 1 not found
    poses[0, :, 0, 2] = 0.1  # image 0: "head" below p-cutoff
    gt_u = np.full((4, 1, 2), 50.0)
    pred_u = np.concatenate([gt_u + [0.0, 2.0], np.full((4, 1, 1), 0.9)], axis=-1)
    pred = {"poses": poses, "scores": None, "identity": None, "unique": pred_u}
    names = ["head", "mid", "tail", "corner"]
    ev = evaluate_animals(gt, pred, [0, 1], [2, 3], 0.6, names, gt_unique=gt_u, pred_unique=pred_u)
    s = ev["summary"]
    assert s.loc["head", "train"] == pytest.approx(5) and s.loc["head", "test"] == pytest.approx(15)
    assert s.loc["corner", "train"] == pytest.approx(2) and s.loc["corner", "test"] == pytest.approx(2)
    # all train cells: 2 images x 2 animals x 3 parts at 5 px, 2 unique at 2 px
    assert s.loc["all", "train"] == pytest.approx((12 * 5 + 2 * 2) / 14)
    assert s.loc["all", "train (p-cutoff)"] == pytest.approx((10 * 5 + 2 * 2) / 12)
    assert s.loc["all", "test"] == pytest.approx((9 * 15 + 2 * 2) / 11)  # missed animal: no cells
    ma = ev["ma"]
    assert set(ma) == set(MA_COLUMNS)
    assert ma["Train animals missed"] == 0 and ma["Test animals missed"] == 1
    assert ma["Train mAP"] < 100 and ma["Test mAR"] <= 50  # 15 px on a 10 px animal: OKS ~ 0
    assert np.isnan(ma["Train identity accuracy"])
    assert list(ev["keypoint"].columns) == names
    only = evaluate_animals(
        gt, pred, [0, 1], [2, 3], 0.6, names, gt_unique=gt_u, pred_unique=pred_u, cols=[3]
    )
    assert only["summary"].loc["all", "train"] == pytest.approx(2)
