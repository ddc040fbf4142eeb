"""The malformed-input campaign: each broken file or value gets a posenb error (a class of posenb/errors.py, never a
raw traceback type) that names the file, and leaves no new, changed or partial file behind.

Files of every kind posenb reads: label tables (.h5/.csv), prediction tables, config.yaml, 3D config.yaml,
meta/Documentation/calibration pickles, videos, and whole projects whose data are bad (create_training_dataset).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from campaign import (
    PARTS,
    SCORER,
    assert_clean_failure,
    labels,
    predictions,
    raw_h5,
    to_h5,
    truncated,
)

from posenb.errors import ConfigError, LabelError, ModelError, VideoError
from posenb.io.labels import read_labels
from posenb.io.predictions import read_meta, read_predictions

# ------------------------------------------------------------------------------------------ label files


def _h5_external(tmp):
    other = to_h5(labels(), tmp / "other.h5")
    import h5py

    return raw_h5(tmp / "CollectedData_me.h5", lambda f: f.__setitem__("df_with_missing", h5py.ExternalLink(str(other), "/df_with_missing")))


def _h5_payload(tmp):
    import warnings

    df = labels().astype(object)
    df.iat[0, 0] = _Evil()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df.to_hdf(tmp / "CollectedData_me.h5", key="df_with_missing", format="fixed")
    return tmp / "CollectedData_me.h5"


class _Evil:
    def __reduce__(self):
        return (exec, ("open('PAYLOAD_RAN', 'w').close()",))


def _series(tmp):
    return to_h5(pd.Series([1.0, 2.0]), tmp / "CollectedData_me.h5")


def _csv(tmp, text: str | bytes) -> Path:
    path = tmp / "CollectedData_me.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _csv_from(tmp, df: pd.DataFrame, edit=None) -> Path:
    path = tmp / "CollectedData_me.csv"
    df.to_csv(path)
    if edit:
        path.write_text(edit(path.read_text()))
    return path


LABEL_CASES = {
    "h5-empty": lambda t: _write(t / "CollectedData_me.h5", b""),
    "h5-text": lambda t: _write(t / "CollectedData_me.h5", b"scorer,me\nbodyparts,nose\n"),
    "h5-png-bytes": lambda t: _write(t / "CollectedData_me.h5", b"\x89PNG\r\n\x1a\n" + bytes(100)),
    "h5-truncated": lambda t: truncated(to_h5(labels(200), t / "CollectedData_me.h5"), 0.4),
    "h5-truncated-table": lambda t: truncated(to_h5(labels(200), t / "CollectedData_me.h5", "fixed"), 0.9),
    "h5-no-table": lambda t: raw_h5(t / "CollectedData_me.h5", lambda f: f.create_dataset("x", data=np.zeros(3))),
    "h5-no-keys": lambda t: raw_h5(t / "CollectedData_me.h5", lambda f: None),
    "h5-series": _series,
    "h5-two-column-levels": lambda t: to_h5(labels().droplevel(0, axis=1), t / "CollectedData_me.h5"),
    "h5-five-column-levels": lambda t: to_h5(  # 4 levels are a multi-animal table (scorer/individuals/...)
        pd.concat({"x": pd.concat({"ind1": labels()}, axis=1)}, axis=1), t / "CollectedData_me.h5"
    ),
    "h5-flat-columns": lambda t: to_h5(pd.DataFrame({"a": [1.0]}), t / "CollectedData_me.h5"),
    "h5-strings": lambda t: to_h5(labels().astype(str).replace("5.0", "five"), t / "CollectedData_me.h5"),
    "h5-inf": lambda t: to_h5(labels().replace(5.0, np.inf), t / "CollectedData_me.h5"),
    "h5-x-without-y": lambda t: to_h5(labels().drop(columns=[(SCORER, "tail", "y")]), t / "CollectedData_me.h5"),
    "h5-external-link": _h5_external,
    "h5-pickled-object-payload": _h5_payload,
    "csv-empty": lambda t: _csv(t, ""),
    "csv-binary": lambda t: _csv(t, bytes(range(256)) * 4),
    "csv-header-only": lambda t: _csv(t, "scorer,me,me\n"),
    "csv-one-header-row": lambda t: _csv(t, "scorer,nose,nose\nlabeled-data/v/img0.png,1,2\n"),
    "csv-multianimal-x-without-y": lambda t: _csv(  # a valid maDLC csv reads; here 'a' has no y, 'b' no x
        t, "scorer,me,me\nindividuals,a,b\nbodyparts,nose,nose\ncoords,x,y\nlabeled-data/v/img0.png,1,2\n"
    ),
    "csv-strings": lambda t: _csv_from(t, labels(), lambda s: s.replace("5.0", "five")),
    "csv-inf": lambda t: _csv_from(t, labels(), lambda s: s.replace("5.0", "inf")),
    "csv-missing-y-column": lambda t: _csv_from(t, labels().drop(columns=[(SCORER, "nose", "y")])),
    "csv-latin1-garbage": lambda t: _csv(t, "scorer,m\xe9\n".encode("latin1") + bytes([0xff, 0xfe]) * 50),
    "missing-file": lambda t: t / "CollectedData_me.h5",
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(LABEL_CASES))
def test_label_file(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a payload that ran would leave PAYLOAD_RAN here
    path = LABEL_CASES[case](tmp_path)
    message = assert_clean_failure(tmp_path, lambda: read_labels(path), LabelError)
    assert path.name in message
    assert not (tmp_path / "PAYLOAD_RAN").exists()


# ------------------------------------------------------------------------------------- prediction files
PREDICTION_CASES = {
    "empty": lambda t: _write(t / "vDLC_x.h5", b""),
    "garbage": lambda t: _write(t / "vDLC_x.h5", np.random.default_rng(0).bytes(4096)),
    "truncated": lambda t: truncated(to_h5(predictions(3000), t / "vDLC_x.h5", "table"), 0.5),
    "series": lambda t: to_h5(pd.Series([1.0]), t / "vDLC_x.h5"),
    "two-levels": lambda t: to_h5(predictions().droplevel(0, axis=1), t / "vDLC_x.h5", "table"),
    "strings": lambda t: to_h5(predictions().astype(str).replace("0.5", "high"), t / "vDLC_x.h5"),
    "no-keys": lambda t: raw_h5(t / "vDLC_x.h5", lambda f: f.create_group("empty")),
    "csv-empty": lambda t: _write(t / "vDLC_x.csv", b""),
    "csv-garbage": lambda t: _write(t / "vDLC_x.csv", b"\x00\x01\x02" * 100),
    "csv-one-header": lambda t: _write(t / "vDLC_x.csv", b"scorer,a,b\n0,1,2\n"),
    "csv-strings": lambda t: _write(
        t / "vDLC_x.csv", b"scorer,s,s,s\nbodyparts,n,n,n\ncoords,x,y,likelihood\n0,a,b,c\n"
    ),
    "missing": lambda t: t / "vDLC_x.h5",
}


@pytest.mark.parametrize("case", list(PREDICTION_CASES))
def test_prediction_file(tmp_path, case):
    path = PREDICTION_CASES[case](tmp_path)
    message = assert_clean_failure(tmp_path, lambda: read_predictions(path), LabelError)
    assert path.name in message


# ------------------------------------------------------------------------------------------ config.yaml
def _config_text(**changes) -> str:
    from posenb.project.config import DEFAULT_CONFIG

    cfg = dict(DEFAULT_CONFIG)
    cfg.update(Task="t", scorer="me", date="Jan1", bodyparts=list(PARTS), skeleton=[], video_sets={})
    cfg.update(changes)
    return yaml.safe_dump(cfg)


CONFIG_CASES = {
    "empty": "",
    "only-comment": "# nothing\n",
    "a-list": "- Task\n- scorer\n",
    "a-string": "hello",
    "syntax-error": "Task: [unclosed\nscorer: me\n",
    "tab-indent": "Task: t\n\tscorer: me\n",
    "python-tag-os-system": "Task: !!python/object/apply:os.system ['touch PAYLOAD_RAN']\nscorer: me\n",
    "python-name-tag": "Task: !!python/name:os.system\n",
    "binary": b"\x00\xff\xfe\x00" * 64,
    "no-bodyparts": _config_text(bodyparts=None),
    "bodyparts-a-string": _config_text(bodyparts="nose"),
    "bodyparts-duplicate": _config_text(bodyparts=["nose", "nose"]),
    "bodyparts-numbers": _config_text(bodyparts=[1, 2]),
    "training-fraction-too-big": _config_text(TrainingFraction=[1.5]),
    "training-fraction-string": _config_text(TrainingFraction=["0.8"]),
    "training-fraction-3-decimals": _config_text(TrainingFraction=[0.955]),
    "iteration-string": _config_text(iteration="../1"),
    "iteration-negative": _config_text(iteration=-2),
    "batch-size-zero": _config_text(batch_size=0),
    "batch-size-string": _config_text(batch_size="8"),
    "numframes2pick-negative": _config_text(numframes2pick=-1),
    "start-after-stop": _config_text(start=0.9, stop=0.1),
    "pcutoff-above-one": _config_text(pcutoff=2),
    "engine-unknown": _config_text(engine="jax"),
    "video-sets-a-list": _config_text(video_sets=["a.mp4"]),
    "crop-malformed": _config_text(video_sets={"/v/a.mp4": {"crop": "a, b, c"}}),
    "cropping-without-bounds": _config_text(cropping=True, x1=None),
    "multianimal": _config_text(multianimalproject=True),
    "task-path-traversal": _config_text(Task="../../outside"),
    "skeleton-not-a-list": _config_text(skeleton="nose-tail"),
    "skeleton-entry-of-three": _config_text(skeleton=[["nose", "tail", "nose"]]),
    "scorer-empty": _config_text(scorer=""),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_config_yaml(tmp_path, case, monkeypatch):
    from posenb.project.config import read_config

    monkeypatch.chdir(tmp_path)
    text = CONFIG_CASES[case]
    path = tmp_path / "proj" / "config.yaml"
    path.parent.mkdir()
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    message = assert_clean_failure(tmp_path, lambda: read_config(path), ConfigError)
    assert "config.yaml" in message
    assert not (tmp_path / "PAYLOAD_RAN").exists()


def test_missing_config(tmp_path):
    from posenb.project.config import read_config

    assert_clean_failure(tmp_path, lambda: read_config(tmp_path / "nope" / "config.yaml"), ConfigError, "nope")


# --------------------------------------------------------------------------------------- 3D config.yaml
CONFIG_3D_CASES = {
    "one-camera": {"camera_names": ["left"]},
    "duplicate-cameras": {"camera_names": ["a", "a"]},
    "camera-path": {"camera_names": ["left", "../x"]},
    "missing-pcutoff": {"pcutoff": None},
    "not-a-mapping": None,
}


@pytest.mark.parametrize("case", list(CONFIG_3D_CASES))
def test_config_3d(tmp_path, case):
    from posenb.threed import create_new_project_3d, read_config_3d

    config = Path(create_new_project_3d("r", "me", working_directory=tmp_path))
    change = CONFIG_3D_CASES[case]
    if change is None:
        config.write_text("- a list\n")
    else:
        raw = yaml.safe_load(config.read_text())
        for key, value in change.items():
            raw.pop(key) if value is None else raw.__setitem__(key, value)
        config.write_text(yaml.safe_dump(raw))
    assert_clean_failure(tmp_path, lambda: read_config_3d(config), ConfigError, "config.yaml")


# ------------------------------------------------------------------------------------------- pickles
PICKLE_CASES = {
    "empty": b"",
    "garbage": b"\x80\x05garbage",
    "text": b"hello world",
    "payload": pickle.dumps(_Evil()),
    "truncated": pickle.dumps({"data": {"a": list(range(100))}})[:50],
}


@pytest.mark.parametrize("case", list(PICKLE_CASES))
def test_meta_pickle(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)
    h5 = tmp_path / "vDLC_x.h5"
    (tmp_path / "vDLC_x_meta.pickle").write_bytes(PICKLE_CASES[case])
    assert_clean_failure(tmp_path, lambda: read_meta(h5), LabelError, "vDLC_x_meta.pickle")
    assert not (tmp_path / "PAYLOAD_RAN").exists()


@pytest.mark.parametrize("case", ["garbage", "payload"])
def test_calibration_pickle(tmp_path, case, monkeypatch):
    from posenb.threed._pickle import read_pickle

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "stereo_params.pickle"
    path.write_bytes(PICKLE_CASES[case])
    assert_clean_failure(tmp_path, lambda: read_pickle(path), ConfigError, "stereo_params.pickle")
    assert not (tmp_path / "PAYLOAD_RAN").exists()


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04broken zip", b"not a snapshot"], ids=["empty", "zip", "text"])
def test_snapshot_file(tmp_path, content):
    from posenb.nn.snapshots import load_snapshot

    path = tmp_path / "snapshot-10.pt"
    path.write_bytes(content)
    assert_clean_failure(tmp_path, lambda: load_snapshot(path), ModelError, "snapshot-10.pt")


# -------------------------------------------------------------------------------------------- videos
VIDEO_CASES = {
    "missing": None,
    "empty": b"",
    "text": b"this is not a video\n" * 20,
    "png-renamed": b"\x89PNG\r\n\x1a\n" + bytes(500),
    "random-bytes": np.random.default_rng(1).bytes(20000),
}


@pytest.mark.parametrize("case", list(VIDEO_CASES))
def test_video_file(tmp_path, case):
    from posenb.io.video import open_video

    path = tmp_path / "clip.mp4"
    if VIDEO_CASES[case] is not None:
        path.write_bytes(VIDEO_CASES[case])

    def call():
        reader = open_video(path)
        try:
            reader.read(0)
        finally:
            reader.close()

    assert_clean_failure(tmp_path, call, VideoError, "clip.mp4")


def test_truncated_video(tmp_path, tiny_video):
    from posenb.io.video import open_video

    path = truncated(tiny_video, 0.05)

    def call():
        reader = open_video(path)
        try:
            for i in range(reader.n_frames):
                reader.read(i)
        finally:
            reader.close()

    assert_clean_failure(tmp_path, call, VideoError, "tiny.mp4")


@pytest.mark.parametrize("case", ["missing", "text"])
def test_create_project_with_only_bad_videos_creates_nothing(tmp_path, case):
    from posenb.project.create import create_new_project

    video = tmp_path / "clip.mp4"
    if case == "text":
        video.write_text("not a video")
    work = tmp_path / "work"
    work.mkdir()
    assert_clean_failure(tmp_path, lambda: create_new_project("p", "me", [str(video)], working_directory=work),
                         VideoError, "clip.mp4")
    assert not list(work.iterdir())
