"""Tracking's files: the tracklets file (h5py) and the tracked table (DeepLabCut's ``_el.h5``), and their names.

- ``<stem><DLCscorer>_tracklets.h5`` (posenb's, in place of DeepLabCut's ``_el.pickle``: no pickle): datasets
  ``tracklet``, ``frame``, ``animal`` (N,) int, ``poses`` (N, P, 3) float32, ``identity`` (N, n_individuals) when
  the detections had identity, ``unique`` (T, U, 3) with unique parts; attrs ``format="posenb-tracklets"``,
  ``version=1``, ``bodyparts``, ``uniquebodyparts``, ``individuals``, ``scorer``, ``video``, ``nframes``,
  ``detections`` (the per-frame animals file's name).
- ``<stem><DLCscorer>_el.h5`` (+ ``.csv``): a pandas DataFrame, columns ``(scorer, individuals, bodyparts,
  coords)`` with coords x, y, likelihood; one individual per track, then ``single`` for the unique parts; index
  = frame numbers (RangeIndex); key ``df_with_missing``, written through :mod:`posenb.io.hdf` (atomic, the
  previous file kept as ``.bak``).
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from posenb.errors import ConfigError, LabelError
from posenb.io.atomic import atomic_write
from posenb.io.predictions import write_predictions
from posenb.project.config import UNIQUE_INDIVIDUAL
from posenb.track.tracklets import Tracklets

__all__ = [
    "DETECTIONS_SUFFIX",
    "TRACKLETS_SUFFIX",
    "TRACK_SUFFIXES",
    "tracked_name",
    "tracklets_name",
    "tracked_table",
    "write_tracked",
    "read_tracked",
    "write_tracklets",
    "read_tracklets",
]

DETECTIONS_SUFFIX = "_detections.h5"
TRACKLETS_SUFFIX = "_tracklets.h5"
#: DeepLabCut's tracker suffixes; posenb's tracker is the "ellipse" one's counterpart
TRACK_SUFFIXES = {"ellipse": "_el", "": "_el"}
_FORMAT = "posenb-tracklets"


def _base(detections: Path) -> str:
    name = detections.name
    return name[: -len(DETECTIONS_SUFFIX)] if name.endswith(DETECTIONS_SUFFIX) else detections.stem


def track_suffix(track_method: str = "") -> str:
    """``_el`` for posenb's tracker (DeepLabCut's ``ellipse``, its default); ConfigError for the others."""
    key = (track_method or "").lower()
    if key not in TRACK_SUFFIXES:
        raise ConfigError(
            f"track_method={track_method!r}: posenb tracks with motion prediction and identities, written as "
            "DeepLabCut's 'ellipse' files (_el.h5). Use track_method='ellipse' (or leave it empty)."
        )
    return TRACK_SUFFIXES[key]


def tracked_name(detections: str | os.PathLike, destfolder=None, track_method: str = "") -> Path:
    """``<dest>/<stem><DLCscorer>_el.h5`` for ``<stem><DLCscorer>_detections.h5`` (dest: its folder by default)."""
    detections = Path(detections)
    folder = Path(destfolder) if destfolder else detections.parent
    return folder / f"{_base(detections)}{track_suffix(track_method)}.h5"


def tracklets_name(detections: str | os.PathLike, destfolder=None) -> Path:
    """``<dest>/<stem><DLCscorer>_tracklets.h5`` for ``<stem><DLCscorer>_detections.h5``."""
    detections = Path(detections)
    folder = Path(destfolder) if destfolder else detections.parent
    return folder / f"{_base(detections)}{TRACKLETS_SUFFIX}"


def tracked_table(
    tracks: np.ndarray,
    scorer: str,
    individuals,
    bodyparts,
    unique: np.ndarray | None = None,
    unique_bodyparts=(),
) -> pd.DataFrame:
    """DeepLabCut's tracked DataFrame from ``tracks`` (T, n_tracks, P, 3) and ``unique`` (T, U, 3).

    Columns ``(scorer, individuals, bodyparts, coords)`` (coords x, y, likelihood), individuals in the given
    order then ``single`` with the unique parts; index RangeIndex(T) of frame numbers; float64.
    """
    tracks = np.asarray(tracks, dtype="float64")
    T, n, P, _ = tracks.shape
    if n != len(individuals) or P != len(bodyparts):
        raise ValueError(
            f"tracks of shape {tracks.shape} do not match {len(individuals)} individuals x {len(bodyparts)} parts"
        )
    coords = ["x", "y", "likelihood"]
    cols = [(scorer, ind, bp, c) for ind in individuals for bp in bodyparts for c in coords]
    data = [tracks.reshape(T, -1)]
    if unique is not None and len(unique_bodyparts):
        unique = np.asarray(unique, dtype="float64")
        cols += [(scorer, UNIQUE_INDIVIDUAL, bp, c) for bp in unique_bodyparts for c in coords]
        data.append(unique.reshape(T, -1))
    columns = pd.MultiIndex.from_tuples(cols, names=["scorer", "individuals", "bodyparts", "coords"])
    return pd.DataFrame(np.concatenate(data, axis=1), columns=columns, index=pd.RangeIndex(T))


def write_tracked(df: pd.DataFrame, path: str | os.PathLike, save_as_csv: bool = False) -> Path:
    """Write the tracked table to ``path`` (``.h5``, key ``df_with_missing``, table format; + ``.csv``) atomically."""
    return write_predictions(df, path, save_as_csv=save_as_csv)


def read_tracked(path: str | os.PathLike) -> pd.DataFrame:
    """Read a tracked ``_el.h5`` / ``.csv`` (columns scorer, individuals, bodyparts, coords)."""
    from posenb.io.labels import read_hdf_any  # noqa: PLC0415 - the safe reader (no pickled objects)

    path = Path(path)
    if not path.is_file():
        raise LabelError(
            f"Tracked file not found: {path}. Run stitch_tracklets (or analyze_videos with auto_track)."
        )
    if path.suffix.lower() == ".csv":
        df = pd.read_csv(path, header=[0, 1, 2, 3], index_col=0)
    else:
        df = read_hdf_any(path)
    if not isinstance(df.columns, pd.MultiIndex) or df.columns.nlevels != 4:
        raise LabelError(f"{path}: expected columns (scorer, individuals, bodyparts, coords).")
    df.columns = df.columns.set_names(["scorer", "individuals", "bodyparts", "coords"])
    return df.astype("float64")


def write_tracklets(
    path: str | os.PathLike, tk: Tracklets, meta: dict, unique: np.ndarray | None = None
) -> Path:
    """Write tracklets (and the unique parts (T, U, 3)) with h5py, atomically. ``meta``: the detections'
    attributes (``bodyparts``, ``uniquebodyparts``, ``individuals``, ``scorer``, ``video``, ``detections``)."""

    def _write(tmp: Path) -> None:
        with h5py.File(tmp, "w") as h:
            h.create_dataset("tracklet", data=tk.tracklet.astype("int32"))
            h.create_dataset("frame", data=tk.frame.astype("int64"))
            h.create_dataset("animal", data=tk.animal.astype("int16"))
            h.create_dataset("poses", data=tk.poses.astype("float32"))
            if tk.identity is not None:
                h.create_dataset("identity", data=tk.identity.astype("float32"))
            if unique is not None:
                h.create_dataset("unique", data=np.asarray(unique, dtype="float32"))
            h.attrs["format"], h.attrs["version"], h.attrs["nframes"] = _FORMAT, 1, int(tk.n_frames)
            for key in ("bodyparts", "uniquebodyparts", "individuals"):
                h.attrs[key] = [str(v) for v in meta.get(key, [])]
            for key in ("scorer", "video", "detections"):
                h.attrs[key] = str(meta.get(key, ""))

    return atomic_write(Path(path), _write)


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def read_tracklets(path: str | os.PathLike) -> tuple[Tracklets, dict, np.ndarray | None]:
    """(tracklets, attributes, unique parts (T, U, 3) or None) from a ``_tracklets.h5``."""
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"Tracklets file not found: {path}. Run convert_detections2tracklets first.")
    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise LabelError(
            f"{path}: not a readable HDF5 file ({exc}). Run convert_detections2tracklets again."
        ) from None
    with handle as h:
        if _text(h.attrs.get("format", "")) != _FORMAT:
            raise LabelError(f"{path}: not a posenb tracklets file. Run convert_detections2tracklets again.")
        tk = Tracklets(
            tracklet=h["tracklet"][()].astype(int),
            frame=h["frame"][()].astype(int),
            animal=h["animal"][()].astype(int),
            poses=h["poses"][()].astype("float64"),
            identity=h["identity"][()].astype("float64") if "identity" in h else None,
            n_frames=int(h.attrs["nframes"]),
        )
        meta = {
            k: [_text(v) for v in np.atleast_1d(h.attrs.get(k, []))]
            for k in ("bodyparts", "uniquebodyparts", "individuals")
        }
        meta.update({k: _text(h.attrs.get(k, "")) for k in ("scorer", "video", "detections")})
        unique = h["unique"][()].astype("float64") if "unique" in h else None
    return tk, meta, unique
