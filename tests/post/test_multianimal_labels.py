"""Multi-animal label folders in check_labels and the refinement session (a real multi-animal project)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from posenb.errors import LabelError
from posenb.io.labels import read_labels
from posenb.post.check_labels import check_labels, label_colors, label_style
from posenb.post.refine import RefinementSession

INDIVIDUALS = ["female", "male"]
PARTS = ["head", "tail"]
UNIQUE = ["food"]
# image -> {individual: [(x, y) per part]}, "single": [(x, y)] of the unique parts
LABELS = {
    "img01.png": {"female": [(10, 10), (30, 10)], "male": [(10, 40), (30, 40)], "single": [(65, 50)]},
    "img05.png": {
        "female": [(np.nan, np.nan)] * 2,
        "male": [(50, 20), (70, 20)],
        "single": [(np.nan, np.nan)],
    },
}


def _table(scorer: str, labels: dict, coords=("x", "y"), likelihood: float | None = None) -> pd.DataFrame:
    """A 4-level table as DeepLabCut's multi-animal tools build it (per individual, then 'single')."""
    cols, rows = [], []
    for ind in [*INDIVIDUALS, "single"]:
        for part in PARTS if ind != "single" else UNIQUE:
            cols += [(scorer, ind, part, c) for c in coords]
    for per in labels.values():
        row = []
        for ind in [*INDIVIDUALS, "single"]:
            for x, y in per[ind]:
                row += [x, y] + ([likelihood] if likelihood is not None else [])
        rows.append(row)
    index = pd.MultiIndex.from_tuples([("labeled-data", "tiny", n) for n in labels])
    names = ["scorer", "individuals", "bodyparts", "coords"]
    return pd.DataFrame(rows, index=index, columns=pd.MultiIndex.from_tuples(cols, names=names), dtype=float)


@pytest.fixture
def ma_project(tmp_path, tiny_video):
    from posenb.io.labels import write_labels
    from posenb.project.config import read_config, write_config
    from posenb.project.create import create_new_project

    with contextlib.redirect_stdout(io.StringIO()):
        config = create_new_project(
            "ma", "Ann", [tiny_video], working_directory=tmp_path / "work", multianimal=True,
            individuals=INDIVIDUALS, bodyparts=PARTS, uniquebodyparts=UNIQUE, skeleton=[PARTS],
        )  # fmt: skip
    cfg = read_config(config)
    cfg.update(skeleton_color="white", colormap="rainbow", dotsize=7, alphavalue=1.0)
    write_config(config, cfg)
    folder = Path(config).parent / "labeled-data" / "tiny"
    folder.mkdir(parents=True, exist_ok=True)
    for name in LABELS:
        cv2.imwrite(str(folder / name), np.full((60, 80, 3), 128, np.uint8))
    write_labels(_table("Ann", LABELS), folder / "CollectedData_Ann.h5")
    return config, folder


def _rgb(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(int)


def _assert_colour(img, xy, colour, what):
    px = img[int(round(xy[1])), int(round(xy[0]))]
    assert np.abs(px - colour).max() < 40, (what, px, colour)
    assert px.max() - px.min() > 60, what  # coloured, not the gray background


def test_check_labels_one_colour_per_individual(ma_project):
    config, folder = ma_project
    (out,) = check_labels(config)
    assert out == folder.parent / "tiny_labeled"
    assert sorted(p.name for p in out.iterdir()) == sorted(LABELS)
    colours = label_colors("rainbow", 3).astype(int)  # female, male, single
    img = _rgb(out / "img01.png")
    for a, ind in enumerate(INDIVIDUALS):
        for k, xy in enumerate(LABELS["img01.png"][ind]):
            _assert_colour(img, xy, colours[a], (ind, PARTS[k]))
    _assert_colour(img, LABELS["img01.png"]["single"][0], colours[2], "food")
    # the skeleton (white) joins head and tail within each individual, never across individuals
    assert img[10, 20].min() > 200 and img[40, 20].min() > 200
    assert (img[25, 10] == 128).all()  # between female head (10, 10) and male head (10, 40): no bone
    img5 = _rgb(out / "img05.png")
    _assert_colour(img5, (50, 20), colours[1], "male head img05")
    assert (img5[10, 10] == 128).all()  # the female is not labeled there


def test_check_labels_colour_per_part_marker_per_individual(ma_project):
    config, folder = ma_project
    (out,) = check_labels(config, visualizeindividuals=False, draw_skeleton=False)
    colours = label_colors("rainbow", 3).astype(int)  # head, tail, food
    img = _rgb(out / "img01.png")
    for ind in INDIVIDUALS:
        for k, xy in enumerate(LABELS["img01.png"][ind]):
            _assert_colour(img, xy, colours[k], (ind, PARTS[k]))
    _assert_colour(img, LABELS["img01.png"]["single"][0], colours[2], "food")
    # female '+' (arms along the axes), male 'x' (diagonal arms): tell them apart by shape
    assert img[10, 10 + 2].max() - img[10, 10 + 2].min() > 60 and (img[10 + 2, 10 + 2] == 128).all()
    assert img[40 + 2, 10 + 2].max() - img[40 + 2, 10 + 2].min() > 60 and (img[40, 10 + 2] == 128).all()


def test_label_style_single_animal_is_unchanged():
    class Single:
        multianimal, individuals, bodyparts, unique_bodyparts = False, (), ("a", "b", "c"), ()

    colors, markers, bones = label_style(Single, "rainbow", [["a", "c"]])
    np.testing.assert_array_equal(colors, label_colors("rainbow", 3))
    assert markers is None and bones == [(0, 2)]


def test_label_style_bones_stay_within_each_animal_and_join_unique_parts():
    class Two:
        multianimal, individuals, bodyparts, unique_bodyparts = (
            True,
            ("f", "m"),
            ("head", "tail"),
            ("food", "cup"),
        )

    skeleton = [["head", "tail"], ["food", "cup"], ["head", "food"], ["tail", "nope"]]
    colors, markers, bones = label_style(Two, "rainbow", skeleton)
    # points: f/head 0, f/tail 1, m/head 2, m/tail 3, food 4, cup 5; never a bone across animals or to the scene
    assert sorted(bones) == [(0, 1), (2, 3), (4, 5)] and len(colors) == 6 and markers is None


def test_refinement_session_multi_animal(ma_project):
    from posenb.frames.outliers import write_machinelabels

    config, folder = ma_project
    machine = {"img09.png": {"female": [(5, 5), (6, 6)], "male": [(7, 7), (200, 8)], "single": [(9, 9)]}}
    cv2.imwrite(str(folder / "img09.png"), np.full((60, 80, 3), 128, np.uint8))
    write_machinelabels(folder, 0, _table("DLC_model", machine, ("x", "y", "likelihood"), likelihood=0.3))
    s = RefinementSession.load(config, "tiny")
    assert s.bodyparts == ["female/head", "female/tail", "male/head", "male/tail", "food"]
    assert [i[2] for i in s.images] == ["img01.png", "img05.png", "img09.png"]
    assert s.xy.shape == (3, 5, 2) and s.points.shape == (3, 2, 2, 2) and s.unique.shape == (3, 1, 2)
    np.testing.assert_array_equal(s.points[2, 1, 0], [7, 7])
    assert list(s.source) == ["human", "human", "machine"] and s.likelihood[2, 0] == pytest.approx(0.3)
    s.swap_individuals("img09.png", "female", "male")
    np.testing.assert_array_equal(s.points[2, 0, 0], [7, 7])
    s.move_point("img05.png", ("female", "head"), 1, 2)
    with pytest.raises(LabelError, match="Cannot swap 'female' and 'ghost'"):
        s.swap_individuals(0, "female", "ghost")
    s.drop_frame("img01.png")
    path = s.save()
    back = read_labels(path)
    assert back.columns.nlevels == 4 and [i[2] for i in back.index] == ["img05.png", "img09.png"]
    row9 = back.loc[("labeled-data", "tiny", "img09.png")]
    assert row9[("Ann", "female", "head", "x")] == 7 and np.isnan(
        row9[("Ann", "female", "tail", "x")]
    )  # outside
    assert row9[("Ann", "male", "head", "x")] == 5 and row9[("Ann", "single", "food", "y")] == 9
    assert back.loc[("labeled-data", "tiny", "img05.png"), ("Ann", "female", "head", "y")] == 2
    assert (folder / ".trash" / "img01.png").is_file()


def test_single_animal_file_in_a_multi_animal_project_is_refused(ma_project):
    from posenb.io.labels import array_to_labels, write_labels

    config, folder = ma_project
    single = array_to_labels(np.ones((1, 2, 2)), "Ann", PARTS, [("labeled-data", "tiny", "img01.png")])
    write_labels(single, folder / "CollectedData_Ann.h5")
    with pytest.raises(LabelError, match="single-animal .* in a multi-animal project"):
        check_labels(config)


def test_label_tools_on_a_multi_animal_csv(ma_project):
    """convertcsv2h5 on a maDLC CSV (4 header rows, old single path column) and dropunlabeledframes."""
    from posenb.project.label_tools import convertcsv2h5, dropunlabeledframes

    config, folder = ma_project
    (folder / "CollectedData_Ann.h5").unlink()
    table = _table(
        "Bob",
        {**LABELS, "img07.png": {k: [(np.nan, np.nan)] * len(v) for k, v in LABELS["img01.png"].items()}},
    )
    table.index = ["/".join(i) for i in table.index]  # DLC 2.2's string index
    table.to_csv(folder / "CollectedData_Ann.csv")
    (h5,) = convertcsv2h5(config, userfeedback=False)
    back = read_labels(h5)
    assert back.columns.nlevels == 4 and set(back.columns.get_level_values(0)) == {"Ann"}
    assert back.loc[("labeled-data", "tiny", "img01.png"), ("Ann", "single", "food", "x")] == 65
    assert dropunlabeledframes(config) == {"tiny": 1}
    assert [i[2] for i in read_labels(h5).index] == ["img01.png", "img05.png"]


def test_merge_refined_and_merge_datasets_multi_animal(ma_project):
    from posenb.post.refine import merge_datasets, merge_refined
    from posenb.project.config import read_config

    config, folder = ma_project
    existing = read_labels(folder / "CollectedData_Ann.h5")
    refined = _table("Ann", {"img05.png": LABELS["img01.png"], "img09.png": LABELS["img05.png"]})
    merged = merge_refined(refined, existing, drop=[("labeled-data", "tiny", "img01.png")])
    assert [i[2] for i in merged.index] == ["img05.png", "img09.png"] and merged.columns.nlevels == 4
    assert (
        merged.loc[("labeled-data", "tiny", "img05.png"), ("Ann", "female", "head", "x")] == 10
    )  # refined wins
    assert merge_datasets(config) == 1 and read_config(config)["iteration"] == 1
