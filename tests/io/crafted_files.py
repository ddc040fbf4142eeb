"""Hostile files for the safety tests: pickles and HDF5 tables whose loading would run code.

Every payload, if it ever runs, creates a marker file (``exec`` of ``open(marker, 'w')``); the tests assert both
that the crafted file really is dangerous (plain pickle / pandas runs it) where that is cheap to show, and that
posenb refuses it with the marker still absent.
"""

from __future__ import annotations

import builtins
import pickle
import sys
import types
import warnings
from pathlib import Path

import h5py
import numpy as np
import pandas as pd


class Payload:
    """Unpickling this object runs ``exec`` that creates ``marker``."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (builtins.exec, (f"open({self.marker!r}, 'w').close()",))


def payload_pickle(marker: Path, protocol: int = pickle.HIGHEST_PROTOCOL, wrap=None) -> bytes:
    """A pickle that creates ``marker`` when loaded; ``wrap(obj)`` may bury the payload in a structure."""
    obj = Payload(marker)
    return pickle.dumps(wrap(obj) if wrap else obj, protocol=protocol)


def label_table(scorer: str = "me", bodyparts=("nose", "tail"), n: int = 3, stem: str = "vid") -> pd.DataFrame:
    cols = pd.MultiIndex.from_product([[scorer], list(bodyparts), ["x", "y"]], names=["scorer", "bodyparts", "coords"])
    index = pd.MultiIndex.from_tuples([("labeled-data", stem, f"img{i}.png") for i in range(n)])
    values = np.arange(n * len(cols), dtype=float).reshape(n, len(cols)) + 10.0
    return pd.DataFrame(values, index=index, columns=cols)


def prediction_table(scorer: str = "DLC_x", bodyparts=("nose", "tail"), n: int = 5) -> pd.DataFrame:
    cols = pd.MultiIndex.from_product(
        [[scorer], list(bodyparts), ["x", "y", "likelihood"]], names=["scorer", "bodyparts", "coords"]
    )
    values = np.full((n, len(cols)), 0.9)
    return pd.DataFrame(values, columns=cols)


def object_column_h5(path: Path, df: pd.DataFrame, column: tuple, marker: Path) -> Path:
    """``df`` in pandas' fixed format with ``column`` turned into an object column holding a payload.

    pandas stores an object column as a pickle (PyTables ObjectAtom) and unpickles it on read.
    """
    evil = df.copy()
    evil[column] = evil[column].astype(object)
    evil.at[evil.index[0], column] = Payload(marker)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas' PerformanceWarning about pickled object columns
        evil.to_hdf(path, key="df_with_missing", mode="w", format="fixed")
    return path


def evil_attribute_h5(path: Path, df: pd.DataFrame, marker: Path, node: str = "df_with_missing",
                      attribute: str = "non_index_axes") -> Path:
    """``df`` in pandas' table format with one of pandas' pickled bookkeeping attributes replaced by a payload.

    PyTables unpickles every string attribute that looks like a pickle as soon as the node is opened.
    """
    df.to_hdf(path, key="df_with_missing", mode="w", format="table")
    with h5py.File(path, "r+") as f:
        f[node].attrs[attribute] = np.bytes_(payload_pickle(marker, protocol=0))
    return path


def stand_in_module(name: str, source: str) -> types.ModuleType:
    """Register a module ``name`` (and its parents) in ``sys.modules`` built from ``source`` (tests only)."""
    parts = name.split(".")
    for i in range(1, len(parts)):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(source, module.__dict__)  # noqa: S102 - builds stand-ins of DeepLabCut's enums in the test process
    return module


DLC_ENGINE_SOURCE = '''
from dataclasses import dataclass
from enum import Enum

@dataclass(frozen=True)
class EngineDataMixin:
    aliases: tuple
    model_folder_name: str
    pose_cfg_name: str
    results_folder_name: str

class Engine(EngineDataMixin, Enum):
    PYTORCH = (("pytorch", "torch"), "dlc-models-pytorch", "pytorch_config.yaml", "evaluation-results-pytorch")
    TF = (("tensorflow", "tf"), "dlc-models", "pose_cfg.yaml", "evaluation-results")
'''

DLC_TASK_SOURCE = '''
from dataclasses import dataclass
from enum import Enum

@dataclass(frozen=True)
class TaskDataMixin:
    aliases: tuple
    snapshot_prefix: str

class Task(TaskDataMixin, Enum):
    BOTTOM_UP = ("BU", "BottomUp"), "snapshot"
    TOP_DOWN = ("TD", "TopDown"), "snapshot"
'''


def dlc3_meta_pickle(path: Path, data: dict) -> Path:
    """A ``_meta.pickle`` as DeepLabCut 3 writes it: DLC's Engine/Task enums and pathlib paths inside.

    Stand-ins of ``deeplabcut.core.engine`` and ``deeplabcut.pose_estimation_pytorch.task`` are put in
    ``sys.modules`` just long enough to pickle (so the pickle names DLC's real globals) and removed again, so the
    reader cannot import them.
    """
    engine = stand_in_module("deeplabcut.core.engine", DLC_ENGINE_SOURCE)
    task = stand_in_module("deeplabcut.pose_estimation_pytorch.task", DLC_TASK_SOURCE)
    try:
        full = dict(data)
        full.setdefault("pytorch-config", {})
        full["pytorch-config"] = {
            **full["pytorch-config"],
            "engine": engine.Engine.PYTORCH,
            "method": task.Task.BOTTOM_UP,
            "metadata": {
                "project_path": Path("/data/dlc-project"),
                "pose_config_path": Path("/data/dlc-project/dlc-models-pytorch/pytorch_config.yaml"),
                "bodyparts": ["nose", "tail"],
                "individuals": ["single"],
                "unique_bodyparts": [],
            },
        }
        path.write_bytes(pickle.dumps({"data": full}, pickle.HIGHEST_PROTOCOL))
    finally:
        for name in [m for m in sys.modules if m == "deeplabcut" or m.startswith("deeplabcut.")]:
            del sys.modules[name]
    return path
