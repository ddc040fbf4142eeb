"""animals_to_slots: the multi-animal model's animals as the labeler's slots (individual x part, then unique)."""

import numpy as np

from posenb.infer.suggest import animals_to_slots


def _out(identity=None, unique=None):
    poses = np.full((1, 3, 2, 3), np.nan)  # 3 animal slots, 2 parts; the third slot found nothing
    poses[0, 0] = [[10, 10, 0.9], [12, 12, 0.3]]  # best animal
    poses[0, 1] = [[50, 50, 0.8], [52, 52, 0.9]]
    scores = np.array([[0.95, 0.7, np.nan]])
    return {"poses": poses, "scores": scores, "identity": identity, "unique": unique}


def test_without_identity_the_animals_fill_the_individuals_by_score():
    slots = animals_to_slots(_out(), n_individuals=2, n_unique=0, pcutoff=0.5)
    assert slots.shape == (4, 3)
    np.testing.assert_allclose(slots[[0, 2, 3], :2], [[10, 10], [50, 50], [52, 52]])
    assert np.isnan(slots[1, :2]).all() and slots[1, 2] == np.float64(0.3)  # below pcutoff: not suggested


def test_identity_decides_who_is_who_and_unique_parts_come_last():
    # the best animal is the second individual
    identity = np.array([[[0.2, 0.8], [0.7, 0.3], [np.nan, np.nan]]])
    unique = np.array([[[70.0, 5.0, 0.9]]])
    slots = animals_to_slots(_out(identity, unique), n_individuals=2, n_unique=1, pcutoff=0.5)
    assert slots.shape == (5, 3)
    np.testing.assert_allclose(slots[:2, :2], [[50, 50], [52, 52]])  # individual 0 <- animal 1
    np.testing.assert_allclose(slots[2, :2], [10, 10])  # individual 1 <- animal 0
    np.testing.assert_allclose(slots[4], [70, 5, 0.9])
    none = animals_to_slots(_out(identity, None), n_individuals=2, n_unique=1, pcutoff=0.5)
    assert np.isnan(none[4]).all()  # a model without unique maps: nothing suggested there
