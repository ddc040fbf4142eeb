"""analyze_videos_converth5_to_csv: DLC's CSV next to every prediction .h5 of the videos, nothing else."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posenb.errors import VideoError
from posenb.io.predictions import array_to_predictions, write_predictions
from posenb.post.convert import analyze_videos_converth5_to_csv

SCORER = "DLC_resnet50_demoJan1shuffle1_1000"
BODYPARTS = ["snout", "leftear", "tailbase"]


def _predictions(path: Path, seed: int, scorer: str = SCORER, n: int = 25) -> tuple[Path, np.ndarray]:
    arr = np.random.default_rng(seed).random((n, len(BODYPARTS), 3)) * [128, 96, 1]
    arr[3, 1] = np.nan  # a missing point survives the conversion
    write_predictions(array_to_predictions(arr, scorer, BODYPARTS), path)
    return path, arr


def _read_csv(path) -> pd.DataFrame:
    return pd.read_csv(path, header=[0, 1, 2], index_col=0)


@pytest.fixture
def folder(tmp_path) -> dict:
    """Videos a.mp4, b.mp4, ab.avi, a_labeled.mp4 (never read) with analysis files and look-alikes."""
    for name in ("a.mp4", "b.mp4", "ab.avi", "a_labeled.mp4"):
        (tmp_path / name).write_bytes(b"not decoded")
    files = {
        "a": _predictions(tmp_path / f"a{SCORER}.h5", 1),
        "a_filtered": _predictions(tmp_path / f"a{SCORER}_filtered.h5", 2),
        "b_legacy": _predictions(tmp_path / "bDeepCut_resnet50_demoJan1shuffle1_1000.h5", 3,
                                 scorer="DeepCut_resnet50_demoJan1shuffle1_1000"),
        "ab": _predictions(tmp_path / f"ab{SCORER}.h5", 4),  # video ab.avi: not a .mp4
        "c": _predictions(tmp_path / f"c{SCORER}.h5", 5),  # no video c
        "a_labeled": _predictions(tmp_path / f"a_labeled{SCORER}.h5", 6),  # belongs to a skipped video
    }
    skeleton = pd.DataFrame(np.ones((25, 3)), columns=pd.MultiIndex.from_product([["snout_tailbase"],
                                                                                  ["length", "orientation", "likelihood"]]))
    skeleton.to_hdf(tmp_path / f"a{SCORER}_skeleton.h5", key="df_with_missing")
    _predictions(tmp_path / "aDLC_3D.h5", 7)
    (tmp_path / f"a{SCORER}_meta.pickle").write_bytes(b"")
    return {"dir": tmp_path, "files": files}


def test_converts_every_prediction_file_of_the_folder_videos(folder):
    d = folder["dir"]
    written = analyze_videos_converth5_to_csv(str(d), videotype=".mp4")
    expected = [d / f"a{SCORER}.csv", d / f"a{SCORER}_filtered.csv", d / "bDeepCut_resnet50_demoJan1shuffle1_1000.csv"]
    assert written == [str(p) for p in expected]
    assert sorted(p.name for p in d.glob("*.csv")) == sorted(p.name for p in expected)  # nothing else written
    for key in ("a", "a_filtered", "b_legacy"):
        h5, arr = folder["files"][key]
        csv = _read_csv(h5.with_suffix(".csv"))
        assert list(csv.columns.get_level_values(2)[:3]) == ["x", "y", "likelihood"]
        assert list(dict.fromkeys(csv.columns.get_level_values(1))) == BODYPARTS
        assert list(csv.index) == list(range(25))
        np.testing.assert_allclose(csv.to_numpy().reshape(arr.shape), arr, rtol=1e-12, equal_nan=True)
        pd.testing.assert_frame_equal(csv, pd.read_hdf(h5, "df_with_missing"), check_names=False)


def test_csv_is_identical_to_analyze_videos_csv(tmp_path):
    """Byte for byte what write_predictions(save_as_csv=True) (analyze_videos, filterpredictions) writes."""
    (tmp_path / "v.mp4").write_bytes(b"")
    arr = np.random.default_rng(0).random((40, 3, 3))
    h5 = write_predictions(array_to_predictions(arr, SCORER, BODYPARTS), tmp_path / f"v{SCORER}.h5", save_as_csv=True)
    reference = h5.with_suffix(".csv").read_bytes()
    h5.with_suffix(".csv").unlink()
    assert analyze_videos_converth5_to_csv(tmp_path) == [str(h5.with_suffix(".csv"))]
    assert h5.with_suffix(".csv").read_bytes() == reference


def test_list_of_videos_and_other_videotypes(folder):
    d = folder["dir"]
    written = analyze_videos_converth5_to_csv([str(d / "b.mp4")], listofvideos=True)
    assert written == [str(d / "bDeepCut_resnet50_demoJan1shuffle1_1000.csv")]
    written = analyze_videos_converth5_to_csv(str(d / "ab.avi"), listofvideos=True)  # one video as a string
    assert written == [str(d / f"ab{SCORER}.csv")]
    written = analyze_videos_converth5_to_csv([d / "ab.avi", d / "ab.avi"])  # a list without the flag; once
    assert written == [str(d / f"ab{SCORER}.csv")]
    assert not (d / f"a{SCORER}.csv").exists()
    written = analyze_videos_converth5_to_csv(str(d), videotype=".avi")
    assert written == [str(d / f"ab{SCORER}.csv")]


def test_existing_csv_replaced_with_backup(folder):
    d = folder["dir"]
    csv = d / f"a{SCORER}.csv"
    csv.write_text("old")
    analyze_videos_converth5_to_csv([d / "a.mp4"], listofvideos=True)
    assert (d / f"a{SCORER}.csv.bak").read_text() == "old"
    assert len(_read_csv(csv)) == 25
    assert not list(d.glob(".*tmp"))  # atomic: no temporary left


def test_unreadable_h5_is_skipped_with_a_warning(tmp_path):
    (tmp_path / "v.mp4").write_bytes(b"")
    (tmp_path / f"v{SCORER}.h5").write_bytes(b"not hdf5")
    good, _ = _predictions(tmp_path / f"v{SCORER}_filtered.h5", 0)
    with pytest.warns(UserWarning, match="Not converted"):
        written = analyze_videos_converth5_to_csv(tmp_path)
    assert written == [str(good.with_suffix(".csv"))]
    assert not (tmp_path / f"v{SCORER}.csv").exists()


def test_nothing_to_convert(tmp_path):
    with pytest.raises(VideoError, match="not found"):
        analyze_videos_converth5_to_csv(tmp_path / "missing")
    with pytest.warns(UserWarning, match="No videos found"):
        assert analyze_videos_converth5_to_csv(tmp_path) == []
    (tmp_path / "v.mp4").write_bytes(b"")
    with pytest.warns(UserWarning, match="run analyze_videos first"):
        assert analyze_videos_converth5_to_csv(tmp_path) == []
    assert not list(tmp_path.glob("*.csv"))
