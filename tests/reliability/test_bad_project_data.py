"""Bad data inside a project: create_training_dataset / train_network refuse with an error naming the file and
the rows (or warn, naming them, when the data are usable), and a failed call leaves no half-built training set."""

from __future__ import annotations

import pickle
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from campaign import assert_clean_failure, tree

from posenb.data.trainingset import create_training_dataset
from posenb.errors import ConfigError, LabelError
from posenb.io.labels import read_labels, write_labels
from posenb.project.config import read_config, write_config


def _labels(config: str):
    cfg = read_config(config)
    h5 = Path(cfg["project_path"]) / "labeled-data" / "demo_mouse" / f"CollectedData_{cfg['scorer']}.h5"
    return cfg, h5, read_labels(h5)


def _assert_no_training_set(config: str) -> None:
    project = Path(config).parent
    assert (
        not list((project / "training-datasets").rglob("*.*"))
        if (project / "training-datasets").exists()
        else True
    )
    assert not list((project / "dlc-models").rglob("*.*")) if (project / "dlc-models").exists() else True


def _fail(config, error, match, **kwargs):
    project = Path(config).parent
    message = assert_clean_failure(project, lambda: create_training_dataset(config, **kwargs), error, match)
    _assert_no_training_set(config)
    return message


def test_missing_image(demo_project):
    cfg, h5, df = _labels(demo_project)
    image = Path(cfg["project_path"]).joinpath(*df.index[3])
    image.unlink()
    _fail(demo_project, LabelError, image.name)


def test_image_that_is_not_an_image(demo_project):
    cfg, h5, df = _labels(demo_project)
    image = Path(cfg["project_path"]).joinpath(*df.index[2])
    image.write_bytes(b"not a png at all")
    _fail(demo_project, LabelError, image.name)


@pytest.mark.parametrize(
    "shift", [(1000.0, 0.0), (-500.0, -500.0), (0.0, 400.0)], ids=["right", "negative", "below"]
)
def test_labels_all_outside_the_image(demo_project, shift):
    cfg, h5, df = _labels(demo_project)
    arr = df.to_numpy().reshape(len(df), -1, 2) + np.array(shift)
    df.iloc[:, :] = arr.reshape(len(df), -1)
    write_labels(df, h5, backup=False)
    message = _fail(demo_project, LabelError, "0 usable training entries")
    assert "labeled-data/demo_mouse/img" in message and "in 128x96" in message


def test_some_points_outside_are_named_in_a_warning(demo_project):
    cfg, h5, df = _labels(demo_project)
    df.iloc[0, 0] = 500.0  # one snout x outside the 128 px wide frame
    write_labels(df, h5, backup=False)
    row = "/".join(df.index[0])
    with pytest.warns(UserWarning, match="outside their image") as record:
        create_training_dataset(demo_project, Shuffles=[1])
    text = " ".join(str(w.message) for w in record)
    assert row in text or "1 labeled point(s)" in text


def test_train_network_refuses_a_training_set_without_usable_entries(demo_project):
    """A training set made before the check (0 usable entries in its Documentation pickle) is refused."""
    from posenb.data.trainingset import read_training_split

    create_training_dataset(demo_project)
    doc = next(Path(demo_project).parent.rglob("Documentation_data-*.pickle"))
    _, train, test, fraction = pickle.loads(doc.read_bytes())
    doc.write_bytes(pickle.dumps([[], train, test, fraction], protocol=4))
    with pytest.raises(LabelError, match="0 usable training entries"):
        read_training_split(demo_project)
    from posenb.train.api import train_network

    project = Path(demo_project).parent
    before = tree(project)
    with pytest.raises(LabelError, match="0 usable"):
        train_network(demo_project, maxiters=1)
    assert tree(project) == before


def test_conflicting_duplicate_rows_are_refused_naming_them(demo_project):
    cfg, h5, df = _labels(demo_project)
    dup = df.iloc[[4]].copy()
    dup.iloc[0, 0] += 7.0
    csv = h5.with_suffix(".csv")
    import pandas as pd

    both = pd.concat([df, dup])
    both.to_csv(csv)
    h5.unlink()  # only the CSV holds the labels (as after a hand edit)
    name = "/".join(df.index[4])
    with pytest.warns(UserWarning, match="more than one row"):
        read_labels(csv)
    message = _fail(demo_project, LabelError, name)
    assert "different coordinates" in message


def test_identical_duplicate_rows_are_used_once_with_a_warning(demo_project):
    import pandas as pd

    cfg, h5, df = _labels(demo_project)
    csv = h5.with_suffix(".csv")
    pd.concat([df, df.iloc[[1]]]).to_csv(csv)
    h5.unlink()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        created = create_training_dataset(demo_project, Shuffles=[1])
    assert any("/".join(df.index[1]) in str(w.message) for w in record)
    fraction, _, train, test = created[0]
    assert len(train) + len(test) == len(df)


def _second_folder(config: str, drop_part: str | None):
    """A second labeled video folder whose CSV lacks ``drop_part``'s columns (a hand-edited file)."""
    cfg, h5, df = _labels(config)
    project = Path(cfg["project_path"])
    src, dst = project / "labeled-data" / "demo_mouse", project / "labeled-data" / "second"
    shutil.copytree(src, dst)
    (dst / h5.name).unlink()
    import pandas as pd

    df2 = df.copy()
    df2.index = pd.MultiIndex.from_tuples([("labeled-data", "second", i[2]) for i in df.index])
    if drop_part:
        df2 = df2.drop(columns=drop_part, level="bodyparts")
    df2.to_csv(dst / h5.with_suffix(".csv").name)
    cfg["video_sets"][str(project / "videos" / "second.mp4")] = {"crop": "0, 128, 0, 96"}
    write_config(config, cfg)
    return dst / h5.with_suffix(".csv").name


def test_csv_missing_a_body_parts_columns_is_refused(demo_project):
    csv = _second_folder(demo_project, "leftear")
    message = _fail(demo_project, LabelError, csv.name)
    assert "leftear" in message and "second" in message


def test_older_h5_without_a_part_is_a_warning_naming_it(demo_project):
    """An .h5 written before a part was added to config.yaml (DeepLabCut allows that): warned, not refused."""
    csv = _second_folder(demo_project, "leftear")
    write_labels(read_labels(csv), csv.with_suffix(".h5"), csv=False, backup=False)
    csv.unlink()
    with pytest.warns(UserWarning, match="leftear") as record:
        create_training_dataset(demo_project, Shuffles=[1])
    assert any("second" in str(w.message) for w in record)


def test_new_body_part_in_config_is_a_warning(demo_project):
    cfg, _, _ = _labels(demo_project)
    cfg["bodyparts"] = [*cfg["bodyparts"], "tailtip"]
    write_config(demo_project, cfg)
    with pytest.warns(UserWarning, match="tailtip"):
        create_training_dataset(demo_project, Shuffles=[1])


def test_unknown_net_type_is_refused_with_the_known_list(demo_project):
    message = _fail(demo_project, ConfigError, "hrnet_w99", net_type="hrnet_w99")
    assert "efficientnet-lite0" in message and "resnet_50" in message


def test_trainindices_out_of_range(demo_project):
    _fail(demo_project, ConfigError, "outside", trainIndices=[[0, 1, 500]], testIndices=[[2]])


def test_no_labeled_point(demo_project):
    cfg, h5, df = _labels(demo_project)
    df.iloc[:, :] = np.nan
    write_labels(df, h5, backup=False)
    _fail(demo_project, LabelError, "no labeled point")


def test_labels_of_another_scorer_only(demo_project):
    cfg, h5, df = _labels(demo_project)
    cfg["scorer"] = "someoneelse"
    write_config(demo_project, cfg)
    _fail(demo_project, LabelError, "No labels found")


def test_a_failure_while_writing_removes_what_was_created(demo_project, monkeypatch):
    """Even when writing itself fails half-way (disk full, ...), no half-built training set is left."""
    import posenb.data.trainingset as ts

    project = Path(demo_project).parent
    create_training_dataset(demo_project, Shuffles=[1])
    before = tree(project)

    def boom(path, rows):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ts, "write_mat", boom)
    with pytest.raises(OSError):
        create_training_dataset(demo_project, Shuffles=[2])
    after = tree(project)
    assert set(after) == set(before)  # shuffle 1 kept, nothing of shuffle 2 left
    assert not list(project.rglob("*trainset*shuffle2*"))


def test_destfolder_that_is_a_file(tmp_path):
    from posenb.infer.distributed import _plan
    from posenb.project.paths import ensure_folder

    target = tmp_path / "results.txt"
    target.write_text("notes")
    assert_clean_failure(tmp_path, lambda: ensure_folder(target), ConfigError, "results.txt")
    assert_clean_failure(tmp_path, lambda: ensure_folder(target / "sub"), ConfigError, "results.txt")
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    assert_clean_failure(tmp_path, lambda: _plan([video], target, "DLC_x", False), ConfigError, "results.txt")
    assert target.read_text() == "notes"


def test_filterpredictions_destfolder_that_is_a_file(demo_project):
    from posenb.post.filtering import filterpredictions

    project = Path(demo_project).parent
    target = project / "notes.txt"
    target.write_text("x")
    video = project / "videos" / "demo_mouse.mp4"
    assert_clean_failure(
        project,
        lambda: filterpredictions(demo_project, [str(video)], destfolder=str(target)),
        LabelError,
        "notes.txt",
    )
