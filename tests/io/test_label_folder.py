"""The label-folder model (posenb.io.label_folder) and multi-animal label tables, on files written as DeepLabCut
writes them (DataFrames built by hand as DLC's labeling GUI does, written with pandas)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posenb.errors import LabelError
from posenb.io.label_folder import LabelFolder, list_images
from posenb.io.labels import conform_labels, read_labels, write_labels

SCORER = "Jane"
INDIVIDUALS = ["female", "male"]
PARTS = ["head", "thorax", "abdomen"]
UNIQUE = ["food"]
IMAGES = ["img003.png", "img010.png", "img042.png"]


class Parts:  # what posenb.project.config.project_parts(cfg) returns (duck-typed: io does not import project)
    def __init__(self, multianimal=True, individuals=INDIVIDUALS, bodyparts=PARTS, unique=UNIQUE):
        self.multianimal, self.individuals = multianimal, tuple(individuals)
        self.bodyparts, self.unique_bodyparts = tuple(bodyparts), tuple(unique)


def _folder(tmp_path: Path, stem: str = "vid") -> Path:
    folder = tmp_path / "labeled-data" / stem
    folder.mkdir(parents=True)
    for name in IMAGES:
        (folder / name).write_bytes(b"png")  # the model only lists names
    return folder


def _dlc_ma_table(stem="vid", unique=True, string_index=False, individuals=INDIVIDUALS) -> pd.DataFrame:
    """As DeepLabCut's multi-animal labeling toolbox builds CollectedData (one block per individual, then the
    'single' block of unique parts); values = 100*row + 10*individual + part (x) and +0.5 (y)."""
    rows = [("labeled-data", stem, img) for img in IMAGES[:2]]
    index = ["/".join(r) for r in rows] if string_index else pd.MultiIndex.from_tuples(rows)
    blocks = []
    for a, ind in enumerate(individuals):
        cols = pd.MultiIndex.from_product(
            [[SCORER], [ind], PARTS, ["x", "y"]], names=["scorer", "individuals", "bodyparts", "coords"]
        )
        vals = [
            [100 * r + 10 * a + k + (0.5 if c == "y" else 0) for k in range(len(PARTS)) for c in "xy"]
            for r in (1, 2)
        ]
        blocks.append(pd.DataFrame(vals, index=index, columns=cols))
    if unique:
        cols = pd.MultiIndex.from_product(
            [[SCORER], ["single"], UNIQUE, ["x", "y"]], names=["scorer", "individuals", "bodyparts", "coords"]
        )
        blocks.append(pd.DataFrame([[7.0, 8.0], [np.nan, np.nan]], index=index, columns=cols))
    df = pd.concat(blocks, axis=1)
    df.iloc[1, 2:4] = np.nan  # female thorax not labeled in the second image
    return df


# the 2.2.0 GUI's "table" files have the string index (pandas cannot store a row and a column MultiIndex as a table)
FORMS = [(".h5", False), (".h5", True), (".csv", False), (".csv", True), ("table.h5", True)]


@pytest.mark.parametrize("unique", [True, False])
@pytest.mark.parametrize(("suffix", "string_index"), FORMS)
def test_reads_deeplabcut_multianimal_files(tmp_path, unique, string_index, suffix):
    """h5 "fixed" (DLC >= 2.2.1 GUI), h5 "table" (the 2.2.0 GUI), csv; 3-tuple and string row indices."""
    folder = _folder(tmp_path)
    df = _dlc_ma_table(unique=unique, string_index=string_index)
    path = folder / f"CollectedData_{SCORER}{'.csv' if suffix == '.csv' else '.h5'}"
    if suffix.endswith(".h5"):
        df.to_hdf(path, key="df_with_missing", mode="w", format="table" if suffix == "table.h5" else "fixed")
    else:
        df.to_csv(path)
        head = path.read_text().splitlines()
        assert head[1].startswith("individuals") and len(head[0].split(",")) == len(head[4].split(","))
    table = read_labels(path)
    assert table.columns.names == ["scorer", "individuals", "bodyparts", "coords"]
    assert list(table.index) == [("labeled-data", "vid", IMAGES[0]), ("labeled-data", "vid", IMAGES[1])]
    model = LabelFolder.load(folder, SCORER, parts=Parts(unique=UNIQUE if unique else ()))
    assert model.images == IMAGES and model.source == path
    assert model.points.shape == (3, 2, 3, 2) and model.unique.shape == (3, 1 if unique else 0, 2)
    np.testing.assert_array_equal(model.points[0, 1, 2], [112.0, 112.5])  # row 1, male, abdomen
    assert np.isnan(model.points[1, 0, 1]).all() and np.isnan(model.points[2]).all()
    assert model.file_rows == set(IMAGES[:2])
    if unique:
        np.testing.assert_array_equal(model.unique[0, 0], [7.0, 8.0])
        assert np.isnan(model.unique[1:]).all()


def test_single_animal_is_the_one_individual_case(tmp_path):
    folder = _folder(tmp_path)
    cols = pd.MultiIndex.from_product([[SCORER], PARTS, ["x", "y"]], names=["scorer", "bodyparts", "coords"])
    df = pd.DataFrame([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], index=pd.MultiIndex.from_tuples([("labeled-data", "vid", IMAGES[1])]),
                      columns=cols)  # fmt: skip
    write_labels(df, folder / f"CollectedData_{SCORER}.h5")
    model = LabelFolder.load(folder, SCORER, PARTS)
    assert not model.multianimal and model.individuals == () and model.n_individuals == 1
    assert model.points.shape == (3, 1, 3, 2) and model.unique.shape == (3, 0, 2)
    np.testing.assert_array_equal(model.points[1, 0], [[1, 2], [3, 4], [5, 6]])
    model.set_point("img042.png", "head", 9, 10)
    path = model.save()
    back = read_labels(path)
    assert back.columns.nlevels == 3 and list(back.columns.names) == ["scorer", "bodyparts", "coords"]
    assert back.loc[("labeled-data", "vid", "img042.png"), (SCORER, "head", "x")] == 9
    pd.testing.assert_frame_equal(back.loc[[("labeled-data", "vid", IMAGES[1])]], df, check_names=False)
    assert Path(str(path) + ".bak").is_file() and (folder / f"CollectedData_{SCORER}.csv.bak").is_file()


def test_edits_and_save_round_trip(tmp_path):
    folder = _folder(tmp_path)
    _dlc_ma_table().to_hdf(folder / f"CollectedData_{SCORER}.h5", key="df_with_missing", mode="w")
    model = LabelFolder.load(folder, SCORER, parts=Parts())
    before = model.points.copy()
    model.swap_individuals("img003.png", "female", "male")
    np.testing.assert_array_equal(model.points[0, 0], before[0, 1])
    np.testing.assert_array_equal(model.points[0, 1], before[0, 0])
    model.set_point(2, "thorax", 50, 60, individual="male")
    model.set_point("img042.png", "food", 1, 2)  # a unique part: no individual
    model.delete_point("img010.png", "head", individual=0)
    model.drop_frame("img003.png")
    assert model.images == IMAGES[1:] and model.dropped == ["img003.png"]
    path = model.save()
    back = read_labels(path)
    csv = read_labels(path.with_suffix(".csv"))
    pd.testing.assert_frame_equal(back, csv)
    assert [r[-1] for r in back.index] == ["img010.png", "img042.png"]
    assert back.loc[("labeled-data", "vid", "img042.png"), (SCORER, "male", "thorax", "y")] == 60
    assert back.loc[("labeled-data", "vid", "img042.png"), (SCORER, "single", "food", "x")] == 1
    assert np.isnan(back.loc[("labeled-data", "vid", "img010.png"), (SCORER, "female", "head", "x")])
    assert list(dict.fromkeys(back.columns.get_level_values(1))) == ["female", "male", "single"]
    again = LabelFolder.load(folder, SCORER, parts=Parts())
    np.testing.assert_array_equal(again.points[1:], model.points)  # img003 still on disk, now unlabeled
    assert np.isnan(again.points[0]).all() and again.file_rows == {"img010.png", "img042.png"}


def test_to_and_from_dataframe(tmp_path):
    folder = _folder(tmp_path)
    model = LabelFolder.from_dataframe(
        _dlc_ma_table(), folder, SCORER, PARTS, INDIVIDUALS, UNIQUE, images=IMAGES
    )
    df = model.to_dataframe()
    assert df.shape == (2, 2 * 3 * 2 + 2)
    same = LabelFolder.from_dataframe(df, folder, SCORER, PARTS, INDIVIDUALS, UNIQUE)
    np.testing.assert_array_equal(same.points, model.points[:2])
    assert model.add_image("img005.png") == 1 and model.images[1] == "img005.png"
    assert np.isnan(model.points[1]).all() and model.points.shape[0] == 4
    assert list_images(folder) == IMAGES


def test_individuals_that_differ_from_config(tmp_path):
    folder = _folder(tmp_path)
    table = _dlc_ma_table(individuals=["female", "intruder"])
    with pytest.raises(LabelError, match=r"individual\(s\) \['intruder'\].*individuals"):
        conform_labels(table, SCORER, PARTS, "f.h5", individuals=INDIVIDUALS, unique_bodyparts=UNIQUE)
    # fewer individuals in the file than in config: the missing ones are unlabeled columns
    partial = _dlc_ma_table(individuals=["male"])
    out = conform_labels(partial, SCORER, PARTS, individuals=INDIVIDUALS, unique_bodyparts=UNIQUE)
    assert list(dict.fromkeys(out.columns.get_level_values(1))) == ["female", "male", "single"]
    assert out.xs("female", level="individuals", axis=1).isna().all().all()
    # a 3-level table in a multi-animal project, and the reverse
    single = pd.DataFrame([[1.0, 2.0]], index=pd.MultiIndex.from_tuples([("labeled-data", "vid", IMAGES[0])]),
                          columns=pd.MultiIndex.from_product([[SCORER], ["head"], ["x", "y"]]))  # fmt: skip
    with pytest.raises(LabelError, match="single-animal .* in a multi-animal project"):
        conform_labels(single, SCORER, PARTS, individuals=INDIVIDUALS)
    with pytest.raises(LabelError, match="multi-animal .* in a single-animal project"):
        conform_labels(table, SCORER, PARTS)
    table.to_hdf(folder / f"CollectedData_{SCORER}.h5", key="df_with_missing", mode="w")
    with pytest.raises(LabelError, match="intruder"):
        LabelFolder.load(folder, SCORER, parts=Parts())


def test_unknown_names_are_clear_errors(tmp_path):
    model = LabelFolder.load(_folder(tmp_path), SCORER, parts=Parts())
    assert model.source is None and model.labeled().sum() == 0 and model.save() is None
    with pytest.raises(LabelError, match="Unknown individual 'ghost'"):
        model.set_point(0, "head", 1, 2, individual="ghost")
    with pytest.raises(LabelError, match="Unknown body part 'wing'"):
        model.set_point(0, "wing", 1, 2, individual="male")
    with pytest.raises(LabelError, match="img999.png is not an image"):
        model.row("img999.png")


def test_copy_labels_fills_the_unlabeled_points(tmp_path):
    folder = _folder(tmp_path)
    model = LabelFolder.from_dataframe(
        _dlc_ma_table(), folder, SCORER, PARTS, INDIVIDUALS, UNIQUE, images=IMAGES
    )
    model.set_point("img042.png", "head", 1, 1, individual="female")
    assert model.copy_labels("img003.png", "img042.png") == 2 * 3 - 1 + 1  # all but the female head, and food
    np.testing.assert_array_equal(model.points[2, 0, 0], [1, 1])
    np.testing.assert_array_equal(model.points[2, 1], model.points[0, 1])
    np.testing.assert_array_equal(model.unique[2], model.unique[0])
    assert model.copy_labels(0, 2, overwrite=True) == 7
    np.testing.assert_array_equal(model.points[2], model.points[0])


def test_label_file_rows_lists_images_with_a_row_in_human_or_machine_labels(tmp_path, capsys):
    from posenb.io.label_files import label_file_rows, label_files

    folder = tmp_path / "labeled-data" / "v"
    folder.mkdir(parents=True)
    assert label_files(folder) == [] and label_file_rows(folder) == set()
    assert label_file_rows(tmp_path / "missing") == set()
    cols = pd.MultiIndex.from_product(
        [["me"], ["snout"], ["x", "y"]], names=["scorer", "bodyparts", "coords"]
    )
    rows = pd.MultiIndex.from_tuples(
        [("labeled-data", "v", "img003.png"), ("labeled-data", "v", "img010.png")]
    )
    write_labels(pd.DataFrame(np.nan, index=rows, columns=cols), folder / "CollectedData_me.h5", backup=False)
    (folder / "machinelabels-iter0.h5").write_bytes(b"not an hdf5 file")
    assert [p.name for p in label_files(folder)] == ["CollectedData_me.h5", "machinelabels-iter0.h5"]
    assert label_file_rows(folder) == {
        "img003.png",
        "img010.png",
    }  # rows with no point count: the frame is taken
    out = capsys.readouterr().out
    assert "could not read" in out and "machinelabels-iter0.h5" in out  # reported by name, extraction goes on
