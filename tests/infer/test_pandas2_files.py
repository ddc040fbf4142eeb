"""DeepLabCut 3.0 (pandas 2.x) reads every HDF5/CSV file of a posenb workflow.

One workflow on the shared tiny trained project writes every kind of table posenb writes: label files
(``CollectedData_<scorer>.h5/.csv``), the training set's merged labels, the analysis ``.h5`` (+ csv), the
``_filtered.h5`` and ``_skeleton.h5``, the time-lapse frames analysis (string row index), the evaluation
predictions, and ``machinelabels-iter0.h5``. Then

- every ``.h5`` carries the attributes pandas 2 needs (no pandas 2 needed, see posenb.io.hdf), and
- a real pandas 2 (a cached virtual environment, tests/pandas2_env.py) reads each of them as DeepLabCut does,
  ``pd.read_hdf(path)`` and ``pd.read_hdf(path, "df_with_missing")``, and gets what pandas 3 gets.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pandas2_env import READER, pandas2_python  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def written(trained, tmp_path_factory) -> list[Path]:
    import posenb
    from posenb.project.config import read_config

    base = tmp_path_factory.mktemp("pandas2")
    src = Path(trained["config"]).parent
    project = base / src.name
    shutil.copytree(src, project, symlinks=True)
    config = str(project / "config.yaml")
    read_config(config)
    video = project / "videos" / "demo_mouse.mp4"
    posenb.analyze_videos(config, [str(video)], save_as_csv=True)
    posenb.filterpredictions(config, [str(video)])
    posenb.analyzeskeleton(config, [str(video)])
    frames = base / "session1"
    frames.mkdir()
    for png in sorted((project / "labeled-data" / "demo_mouse").glob("img*.png"))[:3]:
        shutil.copy(png, frames / png.name)
    posenb.analyze_time_lapse_frames(config, str(frames), save_as_csv=True)
    posenb.evaluate_network(config, Shuffles=[1], show_errors=False)
    posenb.extract_outlier_frames(config, [str(video)], outlieralgorithm="list", frames2use=[3, 5], automatic=True)
    files = sorted(project.rglob("*.h5")) + sorted(frames.glob("*.h5"))
    files += sorted((project / "labeled-data").rglob("CollectedData_*.csv"))
    return files


def test_workflow_writes_every_kind_of_table(written):
    names = [p.name for p in written]
    kinds = {
        "labels": "CollectedData_",
        "analysis": "shuffle1_50.h5",
        "filtered": "_filtered.h5",
        "skeleton": "_skeleton.h5",
        "evaluation": "-snapshot-50.h5",
        "machinelabels": "machinelabels-iter0.h5",
        "frames": "session1DLC_",
    }
    for kind, part in kinds.items():
        assert any(part in n for n in names), f"no {kind} file among {names}"
    assert any(n.endswith(".csv") for n in names)


def test_every_written_h5_has_what_pandas2_needs(written):
    from posenb.io.hdf import pandas2_problems

    h5 = [p for p in written if p.suffix == ".h5"]
    assert len(h5) >= 8
    problems = [p for f in h5 for p in pandas2_problems(f)]
    assert problems == []


def _describe(df: pd.DataFrame) -> dict:
    def plain(v):
        if isinstance(v, float) and math.isnan(v):
            return None
        if hasattr(v, "item"):
            v = v.item()
            if isinstance(v, float) and math.isnan(v):
                return None
        return v

    return {
        "shape": list(df.shape),
        "column_names": [str(n) for n in df.columns.names],
        "columns": [[str(p) for p in (c if isinstance(c, tuple) else (c,))] for c in df.columns],
        "index_type": type(df.index).__name__,
        "index": [[str(p) for p in (i if isinstance(i, tuple) else (i,))] for i in df.index],
        "values": [[plain(v) for v in row] for row in df.to_numpy(dtype=object)],
    }


def test_pandas2_reads_every_written_file_like_deeplabcut(written, tmp_path):
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
        if path.suffix == ".csv":
            three = path.read_text().splitlines()[3].split(",")[0] == "labeled-data"
            want = pd.read_csv(path, header=[0, 1, 2], index_col=[0, 1, 2] if three else 0)
        else:
            want = pd.read_hdf(path)
        read, expected = got[str(path)], _describe(want)
        if path.suffix == ".csv":  # pandas 2 and 3 parse some decimals one ulp apart
            values = np.array(read.pop("values"), dtype=float)
            np.testing.assert_allclose(values, np.array(expected.pop("values"), dtype=float), rtol=1e-14)
        assert read == expected, path.name
        if path.suffix == ".h5" and "skeleton" not in path.name:
            assert read["column_names"] == ["scorer", "bodyparts", "coords"], path.name
        if path.name.startswith("demo_mouseDLC"):  # analysis, filtered, skeleton
            assert [int(i[0]) for i in read["index"]] == list(range(read["shape"][0])), path.name  # frame numbers
        if path.name.startswith("session1DLC"):
            assert len(read["index"]) == 3 and all(i[0].startswith("img") and i[0].endswith(".png") for i in read["index"])
        if path.name.startswith(("CollectedData_", "machinelabels")) or "-snapshot-" in path.name:
            assert read["index_type"] == "MultiIndex" and read["index"][0][0] == "labeled-data", path.name
