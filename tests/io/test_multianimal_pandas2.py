"""DeepLabCut 3.0 (pandas 2.x) reads the multi-animal files posenb writes (4 column levels, h5 and csv).

Same check as tests/infer/test_pandas2_files.py, on a multi-animal label folder saved through the label-folder
model, a multi-animal machinelabels file and a tracked analysis file (``..._el.h5`` + csv, the unique parts under
the individual "single"): the ``.h5`` carry what pandas 2 needs, and a real pandas 2 (the cached
environment of tests/pandas2_env.py) reads them as DeepLabCut does and gets what pandas 3 gets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pandas2_env import READER, pandas2_python  # noqa: E402

from posenb.io.label_arrays import arrays_to_table  # noqa: E402
from posenb.io.label_folder import LabelFolder  # noqa: E402
from posenb.io.machinelabels import write_machinelabels  # noqa: E402
from posenb.track.files import tracked_table, write_tracked  # noqa: E402

INDIVIDUALS, PARTS, UNIQUE = ("female", "male"), ("head", "tail"), ("food",)


@pytest.fixture
def written(tmp_path) -> list[Path]:
    folder = tmp_path / "labeled-data" / "vid"
    folder.mkdir(parents=True)
    for name in ("img01.png", "img02.png"):
        (folder / name).write_bytes(b"")
    model = LabelFolder.load(folder, "Ann", PARTS, INDIVIDUALS, UNIQUE)
    model.set_point("img01.png", "head", 1.25, 2.5, individual="male")
    model.set_point("img02.png", "food", 3.0, 4.0)
    h5 = model.save()
    rows = [("labeled-data", "vid", "img03.png")]
    machine = arrays_to_table(np.ones((1, 2, 2, 2)), "DLC_x", PARTS, rows, INDIVIDUALS, np.ones((1, 1, 2)), UNIQUE,
                              likelihood=np.full((1, 2, 2), 0.5), unique_likelihood=np.full((1, 1), 0.5))  # fmt: skip
    ml = write_machinelabels(folder, 0, machine)
    tracks = np.arange(5 * 2 * 2 * 3, dtype=float).reshape(5, 2, 2, 3) / 7
    tracks[1, 0] = np.nan  # an individual lost in one frame
    table = tracked_table(tracks, "DLC_x", INDIVIDUALS, PARTS, np.full((5, 1, 3), 0.25), UNIQUE)
    tracked = write_tracked(table, tmp_path / "vidDLC_x_el.h5", save_as_csv=True)
    return [h5, h5.with_suffix(".csv"), ml, folder / "machinelabels.csv", tracked, tracked.with_suffix(".csv")]


def test_multianimal_h5_have_what_pandas2_needs(written):
    from posenb.io.hdf import pandas2_problems

    for path in written:
        if path.suffix == ".h5":
            assert pandas2_problems(path) == [], path.name
            assert pd.read_hdf(path).columns.names == ["scorer", "individuals", "bodyparts", "coords"]


@pytest.mark.slow
def test_pandas2_reads_multianimal_files_like_deeplabcut(written, tmp_path):
    python, why = pandas2_python()
    if python is None:
        pytest.skip(f"no pandas-2 environment: {why}")
    script = tmp_path / "read_with_pandas2.py"
    script.write_text(READER)
    res = subprocess.run([str(python), str(script), *map(str, written)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout)
    assert got["pandas"].startswith("2.")
    for path in written:
        labels = "_el" not in path.stem
        want = (
            pd.read_csv(path, header=[0, 1, 2, 3], index_col=[0, 1, 2] if labels else 0)
            if path.suffix == ".csv"
            else pd.read_hdf(path)
        )
        read = got[str(path)]
        assert read["column_names"] == ["scorer", "individuals", "bodyparts", "coords"], path.name
        assert read["shape"] == list(want.shape), path.name
        if labels:
            assert read["index"][0][0] == "labeled-data", path.name
        else:  # frame numbers; the unique part under "single" after the individuals
            assert [int(i[0]) for i in read["index"]] == list(range(5)), path.name
            assert [c[1] for c in read["columns"]][-3:] == ["single"] * 3, path.name
        assert read["columns"] == [list(map(str, c)) for c in want.columns], path.name
        values = np.array(read["values"], dtype=float)
        np.testing.assert_allclose(values, want.to_numpy(dtype=float), rtol=1e-14)
