"""The simulated labeler of benchmarks/bench_label_assist_ma.py (multi-animal clicks per frame) on hand-made
arrays: accept / drag / place / dismiss per matched animal, one Enter per frame, identity swaps, extra animals."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))  # the script imports its siblings (_common, bench_label_assist, bench_ma_fly)
_spec = importlib.util.spec_from_file_location("bench_label_assist_ma", BENCH / "bench_label_assist_ma.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
sys.path.remove(str(BENCH))

NAN = np.nan


def _animals() -> np.ndarray:
    """Two animals of 3 parts, far apart: (2, 3, 2)."""
    return np.array(
        [[[10.0, 10.0], [20.0, 10.0], [30.0, 10.0]], [[200.0, 200.0], [210.0, 200.0], [220.0, 200.0]]]
    )


def test_without_suggestions_every_visible_point_is_one_click():
    truth = _animals()
    truth[1, 2] = NAN
    assert bench.frame_clicks(None, truth)["clicks"] == 5


def test_perfect_suggestions_cost_one_enter():
    truth = _animals()
    res = bench.frame_clicks(truth + 1.0, truth)  # 1.41 px off: within 3 px
    assert (res["clicks"], res["swaps"], res["id_errors"], res["matched"], res["extra"]) == (1, 0, 0, 2, 0)
    np.testing.assert_allclose(res["errors"], np.full(6, np.sqrt(2)))
    np.testing.assert_allclose(res["saved"], truth + 1.0)  # accepted as suggested


def test_drag_place_and_dismiss_per_matched_part():
    truth = _animals()
    truth[1, 2] = NAN  # the truth leaves animal 1's third part unlabeled
    sugg = truth.copy()
    sugg[0, 0] += [5.0, 0.0]  # 5 px off: drag
    sugg[0, 1] = NAN  # not suggested: place
    sugg[1, 2] = [225.0, 200.0]  # suggested, unlabeled in the truth: dismiss
    res = bench.frame_clicks(sugg, truth)
    assert res["clicks"] == 1 + 1 + 1 + 1  # Enter, drag, place, dismiss
    saved = res["saved"]
    np.testing.assert_allclose(saved[0, 0], truth[0, 0])  # the dragged point ends on the truth
    assert np.isnan(saved[1, 2]).all()


def test_swapped_identities_cost_one_swap_and_count_two_errors():
    truth = _animals()
    sugg = truth[::-1].copy()  # the male suggested in the female's slot and vice versa
    res = bench.frame_clicks(sugg, truth)
    assert (res["clicks"], res["swaps"], res["id_errors"]) == (2, 1, 2)  # Enter + x
    np.testing.assert_allclose(res["saved"], truth)


def test_one_animal_in_the_other_slot_needs_one_swap():
    truth = _animals()
    truth[1] = NAN  # only animal 0 is in the frame
    sugg = np.full_like(truth, NAN)
    sugg[1] = truth[0]
    res = bench.frame_clicks(sugg, truth)
    assert (res["clicks"], res["swaps"], res["id_errors"], res["matched"]) == (2, 1, 1, 1)


def test_extra_suggested_animal_is_dismissed_point_by_point():
    truth = _animals()
    truth[1] = NAN
    sugg = _animals()
    sugg[1, 0] = NAN  # a second, wrong animal with 2 points
    res = bench.frame_clicks(sugg, truth)
    assert (res["clicks"], res["extra"], res["matched"], res["id_errors"]) == (1 + 2, 1, 1, 0)


def test_far_off_animal_is_matched_and_dragged_not_deleted():
    truth = _animals()
    sugg = truth.copy()
    sugg[1] += 80.0  # every point of animal 1 far off: 3 drags (cheaper than 3 dismisses + 3 placements)
    res = bench.frame_clicks(sugg, truth)
    assert (res["clicks"], res["matched"], res["extra"]) == (1 + 3, 2, 0)


def test_no_swap_when_no_suggested_point_becomes_a_label():
    truth = _animals()
    truth[0, 2] = NAN
    truth[1] = NAN
    sugg = np.full_like(truth, NAN)
    sugg[1, 2] = [30.0, 10.0]  # only a part the truth leaves unlabeled, in the other slot
    res = bench.frame_clicks(sugg, truth)
    assert (res["swaps"], res["id_errors"]) == (0, 1)
    assert res["clicks"] == 1 + 2  # dismiss it, place the two labeled parts


def test_swaps_needed_counts_cycles_and_chains():
    assert bench.swaps_needed([(0, 0), (1, 1)]) == 0
    assert bench.swaps_needed([(0, 1), (1, 0)]) == 1
    assert bench.swaps_needed([(1, 0), (2, 1), (0, 2)]) == 2  # a 3-cycle
    assert bench.swaps_needed([(1, 0), (2, 1)]) == 2  # a chain: slot 0 -> 1 -> 2 (empty): two swaps


def test_match_animals_pairs_nearest_by_mean_part_distance():
    truth = _animals()
    sugg = np.stack([truth[1] + 2.0, truth[0] - 2.0, np.full((3, 2), NAN)])
    assert sorted(bench.match_animals(sugg, truth)) == [(0, 1), (1, 0)]
    assert bench.match_animals(np.full((2, 3, 2), NAN), truth) == []
