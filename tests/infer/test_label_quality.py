"""check_label_quality on the tiny trained demo project: planted mistakes are found, nothing is written."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from posenb.errors import ModelError
from posenb.infer.label_quality import check_label_quality
from posenb.io.labels import read_labels, write_labels
from posenb.project.config import read_config


def _label_file(config) -> Path:
    cfg = read_config(config)
    return next((Path(cfg["project_path"]) / "labeled-data").glob(f"*/CollectedData_{cfg['scorer']}.h5"))


def test_planted_mistakes_are_flagged_and_nothing_changes(trained_copy):
    path = _label_file(trained_copy)
    df = read_labels(path)
    scorer = df.columns.get_level_values(0)[0]
    row = df.index[3]
    left = df.loc[row, (scorer, "leftear")].to_numpy().copy()
    right = df.loc[row, (scorer, "rightear")].to_numpy().copy()
    df.loc[row, (scorer, "leftear")], df.loc[row, (scorer, "rightear")] = right, left
    dup = df.index[5]
    df.loc[dup, (scorer, "snout")] = df.loc[dup, (scorer, "tailbase")].to_numpy()
    write_labels(df, path)
    stamp = {p: p.stat().st_mtime_ns for p in path.parent.iterdir()}

    table = check_label_quality(trained_copy)
    assert list(table.columns) == ["image", "kind", "bodyparts", "score", "message"]
    swapped = "/".join(row)
    kinds = set(table.loc[table["image"] == swapped, "kind"])
    assert kinds & {"swap_model", "swap_geometry"}, table
    dups = table[table["kind"] == "duplicate"]
    assert list(dups["image"]) == ["/".join(dup)] and dups["bodyparts"].iloc[0] == "snout,tailbase"
    assert {p: p.stat().st_mtime_ns for p in path.parent.iterdir()} == stamp  # nothing written


def test_geometry_only_and_model_required(trained_copy):
    table = check_label_quality(trained_copy, use_model=False)
    assert not set(table["kind"]) & {"swap_model", "far_from_model"}
    cfg = read_config(trained_copy)
    shutil.rmtree(Path(cfg["project_path"]) / "dlc-models")
    with pytest.raises(ModelError):
        check_label_quality(trained_copy, use_model=True)
    with pytest.warns(UserWarning, match="geometric checks only"):
        auto = check_label_quality(trained_copy)
    assert np.array_equal(auto.to_numpy(), table.to_numpy())
