"""posenb.io.hdf: every HDF5 table posenb writes carries what pandas 2 (DeepLabCut 3.0's pandas) needs.

These checks need no pandas-2 environment: they test the attributes pandas 2's pytables reads
(``pandas_version``; per table ``index_cols``, ``values_cols``, ``non_index_axes``, ``<block>_dtype``).
tests/infer/test_pandas2_files.py reads every file of a whole workflow with a real pandas 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tables

from posenb.io.hdf import PANDAS_STORAGE_VERSION, pandas2_problems, write_hdf
from posenb.io.labels import empty_labels, read_labels, write_labels
from posenb.io.predictions import array_to_predictions, read_predictions, write_predictions


def _predictions(n=6, index=None):
    rng = np.random.default_rng(0)
    arr = rng.uniform(0, 100, (n, 3, 3))
    arr[2, 1, :2] = np.nan
    return array_to_predictions(arr, "DLC_effnet_lite0_demoJan1shuffle1_50", ["snout", "ear", "tail"], index=index)


def _group_attrs(path, key="df_with_missing"):
    with tables.open_file(str(path)) as h:
        node = h.get_node("/" + key)
        return {n: getattr(node._v_attrs, n) for n in node._v_attrs._v_attrnamesuser}


@pytest.mark.parametrize("fmt", ["table", "fixed"])
def test_write_hdf_stamps_pandas_version_and_round_trips(tmp_path, fmt):
    df = _predictions()
    path = write_hdf(df, tmp_path / "a.h5", format=fmt)
    attrs = _group_attrs(path)
    assert str(attrs["pandas_version"]) == PANDAS_STORAGE_VERSION
    assert str(attrs["pandas_type"]) == ("frame_table" if fmt == "table" else "frame")
    assert pandas2_problems(path) == []
    back = pd.read_hdf(path)
    pd.testing.assert_frame_equal(back, df)
    pd.testing.assert_frame_equal(pd.read_hdf(path, "df_with_missing"), df)


def test_checker_finds_what_pandas2_misses(tmp_path):
    """Without pandas_version (what pandas >= 3.1 writes) pandas 2 reads the pre-0.10.1 layout: reported."""
    path = write_hdf(_predictions(), tmp_path / "a.h5", format="table")
    with tables.open_file(str(path), mode="a") as h:
        del h.get_node("/df_with_missing")._v_attrs.pandas_version
    problems = pandas2_problems(path)
    assert problems == [f"{path}:/df_with_missing: no pandas_version attribute"]
    with tables.open_file(str(path), mode="a") as h:
        h.get_node("/df_with_missing")._v_attrs.pandas_version = "0.10.0"
        del h.get_node("/df_with_missing/table")._v_attrs.values_block_0_dtype
    problems = pandas2_problems(path)
    assert any("pre-0.10.1 layout" in p for p in problems)
    assert any("no values_block_0_dtype" in p for p in problems)


def test_write_hdf_is_atomic_and_keeps_previous(tmp_path):
    path = tmp_path / "a.h5"
    write_hdf(_predictions(4), path, format="table")
    write_hdf(_predictions(5), path, format="table")
    assert len(pd.read_hdf(path)) == 5
    assert len(pd.read_hdf(tmp_path / "a.h5.bak")) == 4

    class Boom(Exception):
        pass

    bad = _predictions(7)
    bad.to_hdf = lambda *a, **k: (_ for _ in ()).throw(Boom())  # a writer that fails mid-way
    with pytest.raises(Boom):
        write_hdf(bad, path, format="table")
    assert len(pd.read_hdf(path)) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h5", "a.h5.bak"]


def test_label_and_prediction_writers_are_pandas2_ready(tmp_path):
    images = [("labeled-data", "vid", f"img{i:03d}.png") for i in (3, 1, 2)]
    labels = empty_labels("Jane", ["snout", "ear"], images)
    labels.iloc[0, :2] = [1.5, 2.5]
    h5 = write_labels(labels, tmp_path / "CollectedData_Jane.h5")
    assert pandas2_problems(h5) == []
    assert list(read_labels(h5).index) == sorted(images)

    pred = write_predictions(_predictions(), tmp_path / "vidDLC_x.h5", save_as_csv=True)
    assert pandas2_problems(pred) == []
    pd.testing.assert_frame_equal(read_predictions(pred), _predictions())

    frames = write_predictions(_predictions(3, index=pd.Index(["a.png", "b.png", "c.png"])), tmp_path / "framesDLC_x.h5")
    assert pandas2_problems(frames) == []
    assert list(read_predictions(frames).index) == ["a.png", "b.png", "c.png"]
