"""Calibration pickles: DLC's protocols load, anything beyond arrays and plain values is refused."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from posenb.errors import ConfigError
from posenb.threed._pickle import read_pickle, write_pickle


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_dlc_pickles_of_every_protocol_load(tmp_path, protocol):
    pair = {"R": np.eye(3), "T": np.ones((3, 1)), "roi1": (0, 0, 640, 480), "s": np.float64(2.5)}
    data = {"camera-1-camera-2": pair}
    path = tmp_path / "stereo_params.pickle"
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    got = read_pickle(path)
    got = got["camera-1-camera-2"]
    assert np.array_equal(got["R"], np.eye(3)) and got["roi1"] == (0, 0, 640, 480) and got["s"] == 2.5


def test_write_is_atomic_and_readable_by_plain_pickle(tmp_path):
    path = write_pickle(tmp_path / "x.pickle", {"a": np.arange(3)})
    write_pickle(path, {"a": np.arange(4)})
    assert np.array_equal(pickle.loads(path.read_bytes())["a"], np.arange(4))
    assert np.array_equal(read_pickle(path.with_name("x.pickle.bak"))["a"], np.arange(3))


def test_foreign_objects_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.pickle"
    evil.write_bytes(pickle.dumps({"R": _Evil()}))
    with pytest.raises(ConfigError, match="cannot be read safely"):
        read_pickle(evil)
    assert not (tmp_path / "pwned.txt").exists()
    other = tmp_path / "path.pickle"
    other.write_bytes(pickle.dumps({"p": Path("/x")}))
    with pytest.raises(ConfigError, match="pathlib"):
        read_pickle(other)
    with pytest.raises(ConfigError, match="not found"):
        read_pickle(tmp_path / "missing.pickle")
