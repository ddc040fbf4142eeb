"""DeepLabCut's label-file helpers on synthetic projects: duplicates, deleted images, unlabeled rows, csv -> h5,
video_sets vs labeled-data folders, and the yes/no prompt that never hangs."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from posenb.io.labels import read_hdf_any, read_labels
from posenb.project.label_tools import (
    adddatasetstovideolistandviceversa,
    comparevideolistsanddatafolders,
    confirm,
    convertcsv2h5,
    dropannotationfileentriesduetodeletedimages,
    dropduplicatesinannotatinfiles,
    dropunlabeledframes,
)

BODYPARTS = ["snout", "tail"]


@pytest.fixture
def project(tmp_path, tiny_video):
    """A project with video ``tiny`` and bodyparts snout, tail; returns (config path, labeled-data/tiny)."""
    from posenb.project.config import read_config, write_config
    from posenb.project.create import create_new_project

    with contextlib.redirect_stdout(io.StringIO()):
        config = create_new_project("lt", "Jane", [tiny_video], working_directory=tmp_path / "work")
    cfg = read_config(config)
    cfg.update(bodyparts=BODYPARTS, skeleton=[])
    write_config(config, cfg)
    folder = Path(config).parent / "labeled-data" / "tiny"
    for i in range(4):
        (folder / f"img{i:02d}.png").write_bytes(b"png")
    return config, folder


def table(rows, values, scorer="Jane") -> pd.DataFrame:
    cols = pd.MultiIndex.from_product(
        [[scorer], BODYPARTS, ["x", "y"]], names=["scorer", "bodyparts", "coords"]
    )
    return pd.DataFrame(np.asarray(values, dtype=float), index=pd.MultiIndex.from_tuples(rows), columns=cols)


def raw_write(df: pd.DataFrame, folder: Path, scorer: str = "Jane") -> Path:
    """Write a label file bypassing write_labels' checks (as a buggy tool or a hand edit would)."""
    h5 = folder / f"CollectedData_{scorer}.h5"
    df.to_hdf(h5, key="df_with_missing", mode="w")
    df.to_csv(h5.with_suffix(".csv"))
    return h5


def row(i: int):
    return ("labeled-data", "tiny", f"img{i:02d}.png")


def test_dropduplicates_keeps_the_first(project):
    config, folder = project
    df = table([row(1), row(0), row(1)], [[1, 1, 2, 2], [3, 3, 4, 4], [9, 9, 9, 9]])
    h5 = raw_write(df, folder)
    assert dropduplicatesinannotatinfiles(config) == {"tiny": 1}
    out = read_labels(h5)
    assert list(out.index) == [row(0), row(1)]
    assert out.loc[row(1)].tolist() == [1, 1, 2, 2]  # the first occurrence, not the later one
    assert read_labels(h5.with_suffix(".csv")).equals(out)
    assert (folder / "CollectedData_Jane.h5.bak").exists()  # previous file kept
    with pd.HDFStore(h5, "r") as store:
        assert [k.strip("/") for k in store.keys()] == ["df_with_missing"]
    assert dropduplicatesinannotatinfiles(config) == {"tiny": 0}


def test_drop_rows_of_deleted_images(project):
    config, folder = project
    h5 = raw_write(table([row(0), row(2), row(3)], [[1, 1, 2, 2], [3, 3, 4, 4], [5, 5, 6, 6]]), folder)
    (folder / "img02.png").unlink()
    mtime = h5.stat().st_mtime_ns
    assert dropannotationfileentriesduetodeletedimages(config) == {"tiny": 1}
    assert list(read_labels(h5).index) == [row(0), row(3)]
    assert h5.stat().st_mtime_ns != mtime
    mtime = h5.stat().st_mtime_ns
    assert dropannotationfileentriesduetodeletedimages(config) == {"tiny": 0}
    assert h5.stat().st_mtime_ns == mtime  # nothing to drop: the file is not rewritten


def test_dropunlabeledframes(project):
    config, folder = project
    nan = np.nan
    h5 = raw_write(table([row(0), row(1), row(2)], [[nan] * 4, [1, 1, nan, nan], [nan] * 4]), folder)
    assert dropunlabeledframes(config) == {"tiny": 2}
    out = read_labels(h5)
    assert list(out.index) == [row(1)] and out.iloc[0, :2].tolist() == [1, 1]  # partly labeled rows stay


def test_missing_label_file_is_reported(project, capsys):
    config, _ = project
    assert dropunlabeledframes(config) == {}
    assert "does not appear to have labeled data" in capsys.readouterr().out


def _csv(folder: Path, index_rows: list[str], scorer="Jane", n_index: int = 1) -> Path:
    """DLC's csv: 3 header rows; 1 index column (old) or 3 (labeled-data, stem, image) with empty header cells."""
    pad = "," * (n_index - 1)
    lines = [
        f"scorer{pad},{scorer},{scorer},{scorer},{scorer}",
        f"bodyparts{pad},snout,snout,tail,tail",
        f"coords{pad},x,y,x,y",
        *index_rows,
    ]
    path = folder / "CollectedData_Jane.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_convertcsv2h5_single_column_index_with_windows_separators(project):
    config, folder = project
    _csv(
        folder,
        ["labeled-data\\tiny\\img01.png,1.5,2.5,,", "labeled-data/tiny/img00.png,3,4,5,6"],
        scorer="Old",
    )
    (h5,) = convertcsv2h5(config, userfeedback=False, scorer="Jane")
    assert h5 == folder / "CollectedData_Jane.h5"
    raw = read_hdf_any(h5)
    assert isinstance(raw.index, pd.MultiIndex) and list(raw.index) == [row(0), row(1)]
    assert set(raw.columns.get_level_values("scorer")) == {"Jane"}
    assert raw.loc[row(1)].tolist()[:2] == [1.5, 2.5] and np.isnan(raw.loc[row(1)].tolist()[2])
    # the csv is rewritten in the 3-column form
    assert (
        (folder / "CollectedData_Jane.csv")
        .read_text()
        .splitlines()[3]
        .startswith("labeled-data,tiny,img00.png")
    )


def test_convertcsv2h5_three_column_index_and_scorer(project):
    config, folder = project
    _csv(folder, ["labeled-data,tiny,img03.png,7,8,9,10"], n_index=3)
    (h5,) = convertcsv2h5(config, userfeedback=False, scorer="Bob")  # scorer level renamed, file name kept
    df = read_labels(h5)
    assert h5.name == "CollectedData_Jane.h5" and set(df.columns.get_level_values(0)) == {"Bob"}
    assert df.loc[row(3)].tolist() == [7, 8, 9, 10]
    (h5,) = convertcsv2h5(config, userfeedback=False)  # default: the config's scorer
    assert set(read_labels(h5).columns.get_level_values(0)) == {"Jane"}


def test_convertcsv2h5_asks_and_never_hangs(project, monkeypatch, capsys):
    config, folder = project
    _csv(folder, ["labeled-data,tiny,img03.png,7,8,9,10"], n_index=3)
    assert len(convertcsv2h5(config, userfeedback=True)) == 1  # no terminal under pytest: proceeds
    assert "no interactive input available" in capsys.readouterr().out
    (folder / "CollectedData_Jane.h5").unlink()
    monkeypatch.setattr("posenb.io.prompt.stdin_is_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *_: "no")
    assert convertcsv2h5(config, userfeedback=True) == []
    assert not (folder / "CollectedData_Jane.h5").exists()


def test_confirm(monkeypatch, capsys):
    assert confirm("Go?") is True and "no interactive input" in capsys.readouterr().out
    monkeypatch.setattr("posenb.io.prompt.stdin_is_interactive", lambda: True)
    for answer, expected in [("yes", True), ("Y", True), ("oui", True), ("no", False), ("", False)]:
        monkeypatch.setattr("builtins.input", lambda *_, a=answer: a)
        assert confirm("Go?") is expected

    def eof(*_):
        raise EOFError

    monkeypatch.setattr("builtins.input", eof)
    assert confirm("Go?") is True  # stdin closed: proceed, do not crash


def test_compare_and_sync_video_list_with_folders(project, tmp_path, capsys):
    from posenb.io.video import write_video
    from posenb.project.config import read_config

    config, folder = project
    project_dir = Path(config).parent
    (project_dir / "labeled-data" / "extra").mkdir()
    (project_dir / "labeled-data" / "orphan").mkdir()
    (project_dir / "labeled-data" / "tiny_labeled").mkdir()  # check_labels output: ignored
    write_video(project_dir / "videos" / "extra.mp4", [np.zeros((24, 32, 3), np.uint8)] * 3)
    no_folder, no_video = comparevideolistsanddatafolders(config)
    assert no_folder == [] and no_video == ["extra", "orphan"]
    assert "extra is missing in config file!" in capsys.readouterr().out

    import shutil

    shutil.rmtree(folder)  # the tiny video's folder is gone
    removed, added = adddatasetstovideolistandviceversa(config)
    assert [Path(v).stem for v in removed] == ["tiny"] and added == [
        str(project_dir / "videos" / "extra.mp4")
    ]
    cfg = read_config(config)
    assert cfg["video_sets"] == {str(project_dir / "videos" / "extra.mp4"): {"crop": "0, 32, 0, 24"}}
    assert (Path(config).parent / "config.yaml.bak").exists()
    assert "orphan is missing in config file, and no video" in capsys.readouterr().out
    assert comparevideolistsanddatafolders(config) == ([], ["orphan"])


def test_public_api_names():
    import posenb

    assert posenb.convertcsv2h5 is convertcsv2h5 and posenb.dropunlabeledframes is dropunlabeledframes


def test_dropimagesduetolackofannotation(project, monkeypatch, capsys):
    from posenb.project.label_tools import dropimagesduetolackofannotation

    config, folder = project
    (folder / "notes.txt").write_text("keep me")
    (folder / "IMG99.PNG").write_bytes(b"png")
    raw_write(table([row(0), row(2)], [[1, 2, 3, 4], [np.nan] * 4]), folder)  # img02: a row without labels
    labeled = folder.parent / "tiny_labeled"  # check_labels output, never touched
    labeled.mkdir()
    (labeled / "img01.png").write_bytes(b"png")

    # the user says no: nothing deleted
    monkeypatch.setattr("posenb.io.prompt.stdin_is_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda *_: "no")
    assert dropimagesduetolackofannotation(config) == {"tiny": []}
    assert len(list(folder.glob("*.png"))) == 4
    # yes: images without a row go, rows (even unlabeled ones) keep theirs, other files stay
    monkeypatch.setattr("builtins.input", lambda *_: "yes")
    out = dropimagesduetolackofannotation(config)
    assert sorted(p.name for p in out["tiny"]) == ["IMG99.PNG", "img01.png", "img03.png"]
    assert sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".png") == ["img00.png", "img02.png"]
    assert (folder / "notes.txt").exists() and (labeled / "img01.png").exists()
    assert len(read_labels(folder / "CollectedData_Jane.h5")) == 2  # the label file is not rewritten
    # nothing left to do, and no question asked
    monkeypatch.setattr("builtins.input", lambda *_: pytest.fail("asked although nothing is deleted"))
    assert dropimagesduetolackofannotation(config, userfeedback=True) == {"tiny": []}


def test_dropimages_never_deletes_without_a_label_file(project, capsys):
    from posenb.project.label_tools import dropimagesduetolackofannotation

    config, folder = project
    assert dropimagesduetolackofannotation(config, userfeedback=False) == {}
    assert len(list(folder.glob("*.png"))) == 4
    assert "does not appear to have labeled data" in capsys.readouterr().out
    # an empty label table deletes nothing either
    empty = table([row(0)], [[1, 2, 3, 4]]).iloc[:0]
    raw_write(empty, folder)
    assert dropimagesduetolackofannotation(config, userfeedback=False) == {"tiny": []}
    assert len(list(folder.glob("*.png"))) == 4
    # a csv-only folder counts (the h5 may not exist yet)
    (folder / "CollectedData_Jane.h5").unlink()
    raw_write(table([row(1)], [[1, 2, 3, 4]]), folder)
    (folder / "CollectedData_Jane.h5").unlink()
    out = dropimagesduetolackofannotation(config, userfeedback=False)
    assert sorted(p.name for p in out["tiny"]) == ["img00.png", "img02.png", "img03.png"]
    assert [p.name for p in folder.glob("*.png")] == ["img01.png"]


def test_dropimages_unreadable_label_file_deletes_nothing(project):
    from posenb.errors import LabelError
    from posenb.project.label_tools import dropimagesduetolackofannotation

    config, folder = project
    (folder / "CollectedData_Jane.h5").write_bytes(b"not an hdf5 file")
    with pytest.raises(LabelError):
        dropimagesduetolackofannotation(config, userfeedback=False)
    assert len(list(folder.glob("*.png"))) == 4
