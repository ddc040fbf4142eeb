"""The labeler panel on a multi-animal project, without a browser: DOM events through the widgets' comms, the
4-level CollectedData file read back from disk."""

import numpy as np
import pytest

pytest.importorskip("ipycanvas")
pytest.importorskip("ipyevents")

from _comm_recorder import dom_event, send_custom  # noqa: E402
from _ma_project import BODYPARTS, INDIVIDUALS, SCORER, make_ma_project, truth  # noqa: E402

from posenb.io.label_arrays import table_to_arrays  # noqa: E402
from posenb.io.labels import read_labels, write_labels  # noqa: E402
from posenb.widgets._canvas import image_to_canvas  # noqa: E402
from posenb.widgets.labeler import Labeler  # noqa: E402


def _click_image(lab, x, y):
    """A mouse click through ipyevents' comm at image pixel (x, y)."""
    cx, cy = image_to_canvas(lab.state.view, x, y)
    ev = lab.image_canvas._events
    send_custom(ev, dom_event("mousedown", float(cx), float(cy), button=0, buttons=1))
    send_custom(ev, dom_event("mouseup", float(cx), float(cy), button=0, buttons=0))


def _key(lab, key, **kw):
    send_custom(lab.image_canvas._events, dom_event("keydown", key=key, **kw))


def _saved(folder, n_rows):
    df = read_labels(folder / f"CollectedData_{SCORER}.h5")
    assert list(df.columns.names) == ["scorer", "individuals", "bodyparts", "coords"]
    assert list(dict.fromkeys(df.columns.get_level_values(1))) == ["female", "male", "single"]
    assert len(df) == n_rows
    return df, table_to_arrays(df, BODYPARTS, INDIVIDUALS, ("arena",))


def test_multianimal_panel_places_picks_swaps_copies_and_saves_4_levels(tmp_path):
    config, folder = make_ma_project(tmp_path, n_images=4, n_labeled=1)
    animals, unique = truth(4)
    lab = Labeler(config)
    s = lab.state
    assert s.slots.multianimal and s.n_images == 4 and s.points.shape == (4, 7, 2)
    assert np.allclose(lab.labels.points[0], np.concatenate([animals[0].reshape(6, 2), unique[0]]))
    # the individual controls are shown, the single-animal-only ones hidden
    assert lab.animals.layout.display is None
    assert [b.description for b in lab.animals.buttons] == ["▶ female (3/3)", "male (3/3)", "single (1/1)"]
    assert lab.suggest_toggle.layout.display is None and lab.add_part_box.layout.display == "none"
    assert not lab.suggest()  # no model yet: no suggestions (copy previous carries points instead)
    assert "Tab" in lab.help_html.value

    lab.go_to(1)
    assert [b.description for b in lab.part_box.children] == ["▶ 1. head", "2. thorax", "3. abdomen"]
    # pick the second individual with its button, place its three parts by clicks
    lab.animals.buttons[1].click()
    assert lab.state.group == 1 and lab.state.part == 3
    assert lab.part_box.children[0] is lab.part_buttons[3]
    for x, y in animals[1, 1]:
        _click_image(lab, x, y)
    assert lab.state.part == 6  # next: the unique part
    assert "single arena" in lab.status.value
    _click_image(lab, *unique[1, 0])
    # next: wraps to the female's first unlabeled part; placed at the male's place by mistake, then swapped
    assert lab.state.group == 0 and lab.state.part == 0
    for x, y in animals[1, 1] + 2:
        _click_image(lab, x, y)
    lab.animals.swap_with.value = 1
    lab.animals.swap_button.click()
    assert np.allclose(lab.state.points[1, 0:3], animals[1, 1])
    assert np.allclose(lab.state.points[1, 3:6], animals[1, 1] + 2)
    lab.next_button.click()  # changing image saves
    df, arrays = _saved(folder, 2)
    assert np.allclose(arrays.points[0], animals[0])  # the first image kept
    assert np.allclose(arrays.points[1, 0], animals[1, 1]) and np.allclose(
        arrays.points[1, 1], animals[1, 1] + 2
    )
    assert np.allclose(arrays.unique[1, 0], unique[1, 0])
    assert (folder / f"CollectedData_{SCORER}.csv").exists() and (
        folder / f"CollectedData_{SCORER}.h5.bak"
    ).exists()

    # copy the previous image's animals onto image 2 (key c), swap back with the key x, undo restores
    assert lab.state.frame == 2
    lab.animals.copy_button.click()
    assert np.allclose(lab.state.points[2], lab.state.points[1])
    _key(lab, "x")
    assert np.allclose(lab.state.points[2, 0:3], lab.state.points[1, 3:6])
    lab.undo_button.click()
    assert np.allclose(lab.state.points[2], lab.state.points[1])
    lab.save(force=True)
    _, arrays = _saved(folder, 3)
    assert np.allclose(arrays.points[2], arrays.points[1])

    # the same project reopened shows the saved points
    again = Labeler(config)
    assert np.allclose(again.state.points, lab.state.points, equal_nan=True)


def test_colour_mode_and_advance_switch(tmp_path):
    config, _ = make_ma_project(tmp_path, n_images=2, n_labeled=1)
    lab = Labeler(config)
    head_f, head_m = lab.part_buttons[0], lab.part_buttons[3]
    assert head_f.style.button_color != head_m.style.button_color  # one colour per individual
    lab.set_color_mode("bodypart")
    assert lab.color_by == "bodypart"
    assert lab.part_buttons[0].style.button_color == lab.part_buttons[3].style.button_color
    assert lab.part_buttons[0].style.button_color != lab.part_buttons[1].style.button_color
    lab.animals.advance.value = "stay"
    assert lab.state.advance == "stay"
    lab.go_to(1)
    for x, y in [(20, 20), (30, 20), (40, 20)]:
        _click_image(lab, x, y)
    assert lab.state.group == 0 and lab.state.part is None  # stays on the female, all her parts placed
    _click_image(lab, 60, 60)
    assert "pick another individual" in lab.message.value
    lab.select_individual("male")
    assert lab.state.group == 1 and lab.state.part == 3
    lab.swap_individuals("female", "male")
    assert np.allclose(lab.state.points[1, 3:6], [(20, 20), (30, 20), (40, 20)])
    assert np.isnan(lab.state.points[1, 0:3]).all()


def test_single_animal_table_in_a_multianimal_project_opens_read_only(tmp_path):
    config, folder = make_ma_project(tmp_path, n_images=2, n_labeled=0)
    from posenb.io.labels import array_to_labels

    df = array_to_labels(
        np.ones((1, 2, 2)), SCORER, ["head", "thorax"], [("labeled-data", "clip", "img000.png")]
    )
    write_labels(df, folder / f"CollectedData_{SCORER}.h5")
    lab = Labeler(config)
    assert lab.state.readonly
    assert "single-animal" in lab.message.value and "Fix or move the file away" in lab.message.value
    assert lab.save(force=True) is None
    assert read_labels(folder / f"CollectedData_{SCORER}.h5").columns.nlevels == 3  # untouched


def test_opens_the_two_animal_demo_project(tmp_path):
    import contextlib
    import io

    from posenb.demo import make_demo_project
    from posenb.io.label_folder import LabelFolder
    from posenb.project.config import project_parts, read_config

    with contextlib.redirect_stdout(io.StringIO()):
        config = make_demo_project(
            tmp_path, n_frames=20, n_labeled=4, width=128, height=96, animals=2, unique=True
        )
    cfg = read_config(config)
    parts = project_parts(cfg)
    lab = Labeler(config)
    assert lab.state.slots.individuals == parts.individuals and lab.state.slots.unique_bodyparts
    assert [b.description.split(" (")[0].lstrip("▶ ") for b in lab.animals.buttons] == parts.table_individuals
    model = LabelFolder.load(lab.labels.folder, cfg["scorer"], parts=parts)
    shown = [model.row(name) for name in lab.state.images]
    n_ind, k = len(parts.individuals), len(parts.bodyparts)
    assert np.allclose(
        lab.state.points[:, : n_ind * k].reshape(-1, n_ind, k, 2), model.points[shown], equal_nan=True
    )
    assert np.allclose(lab.state.points[:, n_ind * k :], model.unique[shown], equal_nan=True)
    assert int((~np.isnan(lab.state.points[:, :, 0])).any(axis=1).sum()) == 4
