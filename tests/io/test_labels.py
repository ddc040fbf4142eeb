from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posenb.errors import LabelError
from posenb.io.atomic import atomic_write
from posenb.io.labels import (
    array_to_labels,
    conform_labels,
    labels_to_array,
    read_labels,
    write_labels,
)

IMAGES = [("labeled-data", "vid", f"img{i:03d}.png") for i in range(5)]


def _table(scorer="Jane", bodyparts=("nose", "tail")):
    arr = np.arange(5 * len(bodyparts) * 2, dtype=float).reshape(5, len(bodyparts), 2) + 0.25
    arr[1, 0] = np.nan
    return array_to_labels(arr, scorer, list(bodyparts), IMAGES), arr


def test_write_read_round_trip_h5_and_csv(tmp_path):
    df, arr = _table()
    path = write_labels(df, tmp_path / "CollectedData_Jane.h5")
    for p in (path, path.with_suffix(".csv")):
        back = read_labels(p)
        assert back.index.equals(df.index) and back.columns.equals(df.columns)
        np.testing.assert_allclose(labels_to_array(back), arr)
    # DLC's own reader: no key, 3-level index, columns names
    raw = pd.read_hdf(path)
    assert raw.columns.names == ["scorer", "bodyparts", "coords"] and raw.index.nlevels == 3
    with pd.HDFStore(path) as store:
        assert store.keys() == ["/df_with_missing"]
    head = path.with_suffix(".csv").read_text().splitlines()
    assert head[0].startswith("scorer,,,Jane") and head[2].startswith("coords,,,x,y")
    assert head[3].startswith("labeled-data,vid,img000.png,0.25,1.25")


def test_reads_old_string_index_windows_separators_and_napari_key(tmp_path):
    df, arr = _table()
    old = df.copy()
    old.index = [f"labeled-data\\vid\\{i[2]}" for i in IMAGES]
    old.to_hdf(tmp_path / "old.h5", key="df_with_missing", format="table")
    napari = df.copy()
    napari.to_hdf(tmp_path / "napari.h5", key="keypoints")
    old.to_csv(tmp_path / "old.csv")
    for name in ("old.h5", "napari.h5", "old.csv"):
        back = read_labels(tmp_path / name)
        assert list(back.index) == IMAGES, name
        np.testing.assert_allclose(labels_to_array(back), arr)


def test_openfield_labels_round_trip(openfield_dir, tmp_path):
    src = openfield_dir / "labeled-data" / "m4s1" / "CollectedData_Pranav.h5"
    df = read_labels(src)
    assert df.shape == (116, 8)
    assert df.index[0] == ("labeled-data", "m4s1", "img0000.png")
    out = write_labels(df, tmp_path / "CollectedData_Pranav.h5")
    pd.testing.assert_frame_equal(read_labels(out), df)
    pd.testing.assert_frame_equal(read_labels(out.with_suffix(".csv")), df)
    pd.testing.assert_frame_equal(read_labels(src.with_suffix(".csv")), df)


def test_write_keeps_backup(tmp_path):
    df, _ = _table()
    path = write_labels(df, tmp_path / "CollectedData_Jane.h5")
    df2 = df.copy()
    df2.iloc[0, 0] = 999.0
    write_labels(df2, path)
    assert read_labels(path).iloc[0, 0] == 999.0
    assert read_labels(Path(str(path) + ".bak")).iloc[0, 0] == 0.25
    assert Path(str(path.with_suffix(".csv")) + ".bak").exists()


def test_crash_mid_write_leaves_old_file(tmp_path, monkeypatch):
    df, _ = _table()
    path = write_labels(df, tmp_path / "CollectedData_Jane.h5")
    before = path.read_bytes()

    def crash(self, *a, **k):
        Path(a[0]).write_bytes(b"partial")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(pd.DataFrame, "to_hdf", crash)
    with pytest.raises(KeyboardInterrupt):
        write_labels(df, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["CollectedData_Jane.csv", "CollectedData_Jane.h5"]


def test_refuses_to_drop_or_mix(tmp_path):
    df, _ = _table()
    dup = pd.concat([df, df.iloc[:1]])
    with pytest.raises(LabelError, match="duplicate rows"):
        write_labels(dup, tmp_path / "x.h5")
    other, _ = _table(scorer="Bob")
    mixed = pd.concat([df, other], axis=1)
    with pytest.raises(LabelError, match="one scorer"):
        write_labels(mixed, tmp_path / "x.h5")
    assert not list(tmp_path.iterdir())


def test_conform_labels_other_scorer_and_unknown_part():
    df, _ = _table()
    with pytest.raises(LabelError, match="scorer 'Jane'.*config.yaml's scorer is 'Bob'"):
        conform_labels(df, "Bob", ["nose", "tail"], where="CollectedData_Jane.h5")
    with pytest.raises(LabelError, match=r"body part\(s\) \['tail'\]"):
        conform_labels(df, "Jane", ["nose"], where="f.h5")
    out = conform_labels(df, "Jane", ["tail", "nose", "paw"])
    assert list(out.columns.get_level_values(1).unique()) == ["tail", "nose", "paw"]
    assert out[("Jane", "paw", "x")].isna().all()


def test_malformed_files(tmp_path):
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    with pytest.raises(LabelError, match="bad.h5"):
        read_labels(tmp_path / "bad.h5")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(LabelError, match="bad.csv"):
        read_labels(tmp_path / "bad.csv")
    with pytest.raises(LabelError, match="not found"):
        read_labels(tmp_path / "none.h5")


def test_atomic_write_failure_cleans_temp(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")

    def boom(tmp):
        Path(tmp).write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]
