"""Prediction tables: ``<stem><DLCscorer>.h5`` (+ ``.csv``, ``_meta.pickle``), DeepLabCut's analysis output.

A prediction table is a ``pandas.DataFrame`` with a ``RangeIndex`` of frame numbers and columns
``(scorer, bodyparts, coords)``, coords ``x``, ``y``, ``likelihood`` (float64; x/y in pixels of the analysed
frame, likelihood in [0, 1]). Written with key ``df_with_missing`` in "table" format, atomically.

``_meta.pickle`` holds ``{"data": {...}}`` as DeepLabCut writes it. posenb writes it with plain Python types
only and reads it back with a restricted unpickler (builtins and numpy arrays; DeepLabCut 3's paths and enums as
plain values), so a pickle from elsewhere can never run code. The ``.h5`` tables are checked before pandas reads
them (:mod:`posenb.io.safe_hdf5`): pickled objects inside are refused.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import ConfigError, LabelError
from posenb.io.atomic import atomic_write
from posenb.io.hdf import write_hdf
from posenb.io.labels import read_hdf_any
from posenb.io.safe_pickle import UNPICKLE_ERRORS, restricted_load

__all__ = [
    "read_predictions",
    "write_predictions",
    "read_meta",
    "write_meta",
    "meta_path",
    "find_analyzed_data",
    "is_analysis_name",
    "write_predictions_csv",
    "predictions_to_array",
    "array_to_predictions",
    "safe_pickle_load",
    "check_pose_array",
    "select_bodyparts",
]


def predictions_to_array(df: pd.DataFrame, bodyparts: Sequence[str] | None = None) -> np.ndarray:
    """``(n_frames, n_bodyparts, 3)`` float64: x, y (pixels), likelihood."""
    scorer = df.columns.get_level_values(0)[0]
    bodyparts = list(bodyparts) if bodyparts is not None else list(dict.fromkeys(df.columns.get_level_values(1)))
    cols = [(scorer, bp, c) for bp in bodyparts for c in ("x", "y", "likelihood")]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise LabelError(f"prediction table lacks columns {missing[:3]} (body parts {bodyparts}).")
    return df.loc[:, cols].to_numpy(dtype="float64").reshape(len(df), len(bodyparts), 3)


def array_to_predictions(arr: np.ndarray, scorer: str, bodyparts: Sequence[str], index=None) -> pd.DataFrame:
    """Inverse of :func:`predictions_to_array`: ``(n_frames, K, 3)`` -> DLC prediction table."""
    arr = np.asarray(arr, dtype="float64")
    n, k, c = arr.shape
    if k != len(bodyparts) or c != 3:
        raise ValueError(f"array of shape {arr.shape} does not match {len(bodyparts)} body parts x (x, y, likelihood)")
    columns = pd.MultiIndex.from_product(
        [[scorer], list(bodyparts), ["x", "y", "likelihood"]], names=["scorer", "bodyparts", "coords"]
    )
    return pd.DataFrame(arr.reshape(n, k * 3), columns=columns, index=index if index is not None else pd.RangeIndex(n))


def read_predictions(path: str | os.PathLike) -> pd.DataFrame:
    """Read a DLC prediction file (``.h5`` or ``.csv``); raises :class:`LabelError` if missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"Prediction file not found: {path}. Run analyze_videos first.")
    if path.suffix.lower() == ".csv":
        try:
            df = pd.read_csv(path, header=[0, 1, 2], index_col=0)
        except (ValueError, pd.errors.ParserError) as exc:
            raise LabelError(f"{path}: not a DeepLabCut prediction CSV ({exc}).") from None
    else:
        df = read_hdf_any(path)
    if not isinstance(df.columns, pd.MultiIndex) or df.columns.nlevels != 3:
        raise LabelError(f"{path}: expected columns (scorer, bodyparts, coords); multi-animal files are not supported.")
    df.columns = df.columns.set_names(["scorer", "bodyparts", "coords"])
    try:
        return df.astype("float64")
    except (TypeError, ValueError) as exc:
        raise LabelError(f"{path}: prediction values must be numbers ({exc}).") from None


def write_predictions(df: pd.DataFrame, path: str | os.PathLike, save_as_csv: bool = False, backup: bool = True) -> Path:
    """Write a prediction table to ``path`` (``.h5``, key ``df_with_missing``, table format) atomically.

    With ``save_as_csv`` the same table goes to ``<path>.csv`` too.
    """
    path = Path(path)
    if path.suffix != ".h5":
        path = path.with_name(path.name + ".h5")

    write_hdf(df, path, format="table", backup=backup)
    if save_as_csv:
        write_predictions_csv(df, path.with_suffix(".csv"), backup=backup)
    return path


def write_predictions_csv(df: pd.DataFrame, path: str | os.PathLike, backup: bool = True) -> Path:
    """Write a prediction table as DeepLabCut's CSV (atomic): 3 header rows (scorer, bodyparts, coords),
    then one row per frame, first column = the row index (frame number or image name)."""
    path = Path(path)
    atomic_write(path, lambda tmp: df.to_csv(tmp), backup=backup)
    return path


def meta_path(h5_path: str | os.PathLike) -> Path:
    """``<stem><scorer>_meta.pickle`` next to ``<stem><scorer>.h5``; a filtered ``<stem><scorer>_filtered.h5`` has
    its analysis' meta file (filtering writes none, as in DeepLabCut)."""
    h5_path = Path(h5_path)
    stem = h5_path.stem.removesuffix("_filtered")
    return h5_path.with_name(stem + "_meta.pickle")


def safe_pickle_load(path: str | os.PathLike, foreign: bool = True):
    """Load a DeepLabCut pickle (meta, Documentation, calibration files) without running anything from it.

    Only builtins and numpy arrays are rebuilt; with ``foreign`` (the default) DeepLabCut 3's ``pathlib`` paths
    become ``str`` and its enums / dataclasses (``Engine``, ``Task``) their plain value, without importing
    deeplabcut. Any other class or function named in the file is refused: :class:`LabelError` naming the file.
    """
    path = Path(path)
    try:
        return restricted_load(path, foreign=foreign)
    except OSError as exc:
        raise LabelError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    except UNPICKLE_ERRORS as exc:
        raise LabelError(
            f"{path}: cannot be read safely ({exc}). posenb only reads pickles holding plain values and arrays "
            "(as DeepLabCut and posenb write them); recreate the file (e.g. analyze the video again)."
        ) from None


def _plain(value):
    """Convert numpy scalars/arrays to plain Python so that any DLC version can unpickle the meta file."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return value


def write_meta(h5_path: str | os.PathLike, data: dict) -> Path:
    """Write ``_meta.pickle`` = ``{"data": data}`` next to the prediction file (atomic)."""
    path = meta_path(h5_path)
    payload = pickle.dumps({"data": _plain(data)}, protocol=4)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(payload))
    return path


def read_meta(h5_path: str | os.PathLike) -> dict:
    """The ``data`` dict of ``_meta.pickle`` next to a prediction file ({} if there is none)."""
    path = meta_path(h5_path)
    if not path.is_file():
        return {}
    meta = safe_pickle_load(path)
    return meta.get("data", {}) if isinstance(meta, dict) else {}


def is_analysis_name(name: str, stem: str, filtered: bool | None = False) -> bool:
    """Is ``name`` the analysis ``.h5`` of video ``stem``: ``<stem>DLC...h5`` (or legacy ``<stem>DeepCut...h5``)?

    ``_skeleton``, ``_meta`` and ``3D`` files are not. ``filtered``: True = only ``..._filtered.h5``,
    False = only unfiltered ones, None = both.
    """
    if not name.endswith(".h5"):
        return False
    if not (name.startswith(stem + "DLC") or name.startswith(stem + "DeepCut")):
        return False
    rest = name[len(stem) :]
    if any(tag in rest for tag in ("skeleton", "_meta", "3D")):
        return False
    return filtered is None or rest.endswith("_filtered.h5") == filtered


def find_analyzed_data(
    folder: str | os.PathLike, stem: str, scorer_prefix: str = "DLC", filtered: bool = False, scorer: str | None = None
) -> Path:
    """The analysis ``.h5`` of video ``stem`` in ``folder`` (DLC's ``find_analyzed_data``).

    Matches ``<stem><scorer>*.h5`` (or ``<stem>DLC*`` / legacy ``<stem>DeepCut*`` when ``scorer`` is None),
    excluding ``_skeleton`` files and ``_filtered`` unless ``filtered``. Newest first if several match.
    Raises :class:`LabelError` when nothing is found.
    """
    folder = Path(folder)
    prefixes = [stem + scorer] if scorer else [stem + scorer_prefix, stem + "DeepCut"]
    hits = []
    if folder.is_dir():
        for f in folder.iterdir():
            name = f.name
            if f.suffix != ".h5" or not any(name.startswith(p) for p in prefixes):
                continue
            if "skeleton" in name or "_meta" in name or "3D" in name[len(stem):]:
                continue
            if ("_filtered" in name) != filtered:
                continue
            hits.append(f)
    if not hits:
        kind = "filtered predictions" if filtered else "predictions"
        raise LabelError(
            f"No {kind} for video {stem!r} in {folder}"
            + (" (run filterpredictions first)." if filtered else " (run analyze_videos first).")
        )
    return sorted(hits, key=lambda p: p.stat().st_mtime, reverse=True)[0]


def check_pose_array(arr) -> np.ndarray:
    """``arr`` as float64 ``(n_frames, n_bodyparts, 3)`` (x, y, likelihood); ValueError for any other shape."""
    arr = np.asarray(arr, dtype="float64")
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(
            f"expected an array (n_frames, n_bodyparts, 3) of x, y, likelihood; got shape {arr.shape}"
        )
    return arr


def select_bodyparts(
    available: Sequence[str], displayed: str | Sequence[str] = "all", where: str = "the predictions"
) -> list[str]:
    """Body parts to use, in the order of ``available`` (the prediction file's or config.yaml's).

    ``displayed`` is ``"all"``, one name or a list of names (DLC's ``displayedbodyparts`` /
    ``comparisonbodyparts``). Unknown names raise :class:`ConfigError` listing the valid ones of ``where``.
    """
    available = list(available)
    if isinstance(displayed, str):
        if displayed == "all":
            return available
        displayed = [displayed]
    wanted = list(displayed)
    unknown = [b for b in wanted if b not in available]
    if unknown:
        raise ConfigError(f"Unknown body part(s) {unknown}; {where} have {available}.")
    return [b for b in available if b in wanted]
