"""Model suggestions in the labeler of a multi-animal project, without a browser (DOM events through the widgets'
comms; the 4-level CollectedData file read back from disk).

A tiny multi-animal project (tests/_ma_project.py: two animals of three parts, one unique part "arena") is
labeled on 8 of its 10 images and its top-down model trained for a few dozen iterations; on an unlabeled image the
labeler shows the model's animals as hollow suggestions, one per individual, plus the unique part; one is
dismissed (Delete), one accepted by a press, the rest by Enter; the saved file holds them as human labels.
"""

import json

import numpy as np
import pytest
import yaml

pytest.importorskip("ipycanvas")
pytest.importorskip("ipyevents")

from _comm_recorder import dom_event, send_custom  # noqa: E402
from _ma_project import BODYPARTS, INDIVIDUALS, SCORER, UNIQUE, make_ma_project, truth  # noqa: E402

from posenb.io.label_arrays import table_to_arrays  # noqa: E402
from posenb.io.labels import read_labels  # noqa: E402
from posenb.widgets._canvas import image_to_canvas  # noqa: E402
from posenb.widgets.labeler import Labeler  # noqa: E402
from posenb.widgets.labeler_state import draw_points, shown_suggestions  # noqa: E402

FAST = {"batch_size": 8, "warmup_iters": 5, "lr": 2e-3, "gaussian_noise": 0.0, "display_iters": 20}
N_IMAGES, N_LABELED = 10, 8


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory):
    """(config, label folder) of the project, its model trained 60 iterations per network (about a minute)."""
    from posenb import create_training_dataset, train_network

    config, folder = make_ma_project(tmp_path_factory.mktemp("ma-suggest"), N_IMAGES, N_LABELED)
    cfg = yaml.safe_load(open(config))
    cfg["pcutoff"] = 0.05  # a barely trained model: suggest what it finds
    open(config, "w").write(yaml.safe_dump(cfg, sort_keys=False))
    create_training_dataset(config)
    train_network(config, maxiters=60, progress=False, **FAST)
    return config, folder


def _canvas_xy(lab, x, y):
    cx, cy = image_to_canvas(lab.state.view, x, y)
    return float(cx), float(cy)


def _send(lab, kind, x=None, y=None, **kw):
    send_custom(lab.image_canvas._events, dom_event(kind, x, y, **kw))


@pytest.mark.slow  # a small training (about a minute of CPU)
def test_model_suggestions_per_individual_accept_dismiss_and_save(trained_project):
    config, folder = trained_project
    animals, unique = truth(N_IMAGES)
    lab = Labeler(config)
    assert lab.suggest_toggle.layout.display is None and lab.accept_button.layout.display is None
    lab.go_to(N_LABELED)  # the first image without labels: the model is asked
    s = lab.state
    assert s.frame == N_LABELED and np.isnan(s.current_points).all()
    assert lab._suggest_source[N_LABELED] == "model"
    shown = shown_suggestions(s)  # (7 slots, 2): female's 3 parts, male's 3 parts, arena
    assert shown.shape == (7, 2) and np.isfinite(shown).all()
    # each individual's suggestions are one animal (the best match among the true ones), the two are different
    per_ind = shown[:6].reshape(2, 3, 2)
    # (individual, true animal) mean distance of the parts
    dist = np.linalg.norm(per_ind[:, None] - animals[N_LABELED][None], axis=-1).mean(-1)
    assert dist.min(axis=1).max() < 6.0, dist
    assert set(dist.argmin(axis=1)) == {0, 1}
    assert np.linalg.norm(shown[6] - unique[N_LABELED, 0]) < 6.0
    # drawn hollow, each in its individual's colour; listed in the panel's hidden view info
    drawn = draw_points(s, lab.colors)
    assert sorted(drawn.suggested_parts) == list(range(7)) and len(drawn.parts) == 0
    np.testing.assert_array_equal(drawn.suggested_colors, lab.colors[drawn.suggested_parts])
    assert len({tuple(c) for c in lab.colors[:3]}) == 1 and tuple(lab.colors[0]) != tuple(lab.colors[3])
    assert len(json.loads(lab.view_info.value)["suggestions"]) == 7
    assert "7 suggested (model)" in lab.status.value

    # delete one: the pointer on the male's thorax suggestion, then Delete
    _send(lab, "mousemove", *_canvas_xy(lab, *shown[4]), buttons=0)
    _send(lab, "keydown", key="Delete")
    assert np.isnan(shown_suggestions(lab.state)[4]).all() and np.isnan(lab.state.current_points[4]).all()
    # accept one: a press on the female's head suggestion (and release without moving)
    _send(lab, "mousedown", *_canvas_xy(lab, *shown[0]), button=0, buttons=1)
    _send(lab, "mouseup", *_canvas_xy(lab, *shown[0]), button=0, buttons=0)
    np.testing.assert_allclose(lab.state.current_points[0], shown[0], atol=0.01)
    assert np.isnan(lab.state.current_points[1:]).all()
    # accept all: Enter takes the five still shown
    _send(lab, "keydown", key="Enter")
    pts = lab.state.current_points
    keep = [0, 1, 2, 3, 5, 6]
    np.testing.assert_allclose(pts[keep], shown[keep], atol=0.01)
    assert np.isnan(pts[4]).all()
    lab.save()

    df = read_labels(folder / f"CollectedData_{SCORER}.h5")
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert list(dict.fromkeys(df.columns.get_level_values(1))) == [*INDIVIDUALS, "single"]
    arrays = table_to_arrays(df, BODYPARTS, INDIVIDUALS, UNIQUE)
    row = list(df.index).index(("labeled-data", "clip", f"img{N_LABELED:03d}.png"))
    np.testing.assert_allclose(
        arrays.points[row].reshape(6, 2)[[0, 1, 2, 3, 5]], shown[[0, 1, 2, 3, 5]], atol=0.01
    )
    assert np.isnan(arrays.points[row, 1, 1]).all()  # the dismissed male thorax stays unlabeled
    np.testing.assert_allclose(arrays.unique[row, 0], shown[6], atol=0.01)
    # the 8 human-labeled images are untouched
    first = list(df.index).index(("labeled-data", "clip", "img000.png"))
    np.testing.assert_allclose(arrays.points[first], animals[0])
