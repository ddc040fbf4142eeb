"""Multi-animal pose tables for post-processing: the tracked file ``<stem><DLCscorer>_el.h5`` and its kin.

A tracked table is a DataFrame with columns ``(scorer, individuals, bodyparts, coords)``, coords ``x``, ``y``,
``likelihood`` (pixels, [0, 1]); unique body parts sit under the individual ``"single"``; index = frame number.
A single-animal table has three column levels ``(scorer, bodyparts, coords)``. The functions here treat both
alike as a list of *groups* ``(individual, bodyparts, array)`` with ``array`` ``(n_frames, n_bodyparts, 3)``;
a single-animal table is one group whose individual is ``""``.

Which file is "the analysis" of a multi-animal project follows DeepLabCut's rule (``get_track_method`` and
``find_analyzed_data``): ``track_method`` (default config ``default_track_method``, else ``ellipse``) selects
the tracker suffix ``_el`` / ``_bx`` / ``_sk`` / ``_tr`` / ``_ctd`` that the file name must end with (before
``_filtered``). Single-animal projects have no suffix. The rule lives in :mod:`posenb.project.analysis_files`
(low enough for ``posenb.formats``); ``TRACKERS`` and ``tracker_suffix`` are re-exported here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import ConfigError, LabelError
from posenb.project.analysis_files import TRACKERS, tracker_suffix  # the rule's home; re-exported

__all__ = [
    "TRACKERS",
    "UNIQUE",
    "tracker_suffix",
    "read_pose_table",
    "is_multianimal",
    "pose_groups",
    "group_array",
    "table_arrays",
    "arrays_to_table",
    "flat_columns",
    "warn_ignored",
]

UNIQUE = "single"
COORDS = ("x", "y", "likelihood")


def _csv_levels(path: Path) -> int:
    with open(path, encoding="utf-8") as fh:
        second = [fh.readline() for _ in range(2)][-1]
    return 4 if second.split(",")[0] == "individuals" else 3


def read_pose_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a prediction or tracked table (``.h5`` or ``.csv``), 3 or 4 column levels, as float64.

    Single-animal files go through :func:`posenb.io.predictions.read_predictions` (unchanged behaviour);
    tracked files get level names ``(scorer, individuals, bodyparts, coords)``. Raises :class:`LabelError`
    for a missing or malformed file.
    """
    from posenb.io.labels import read_hdf_any  # noqa: PLC0415
    from posenb.io.predictions import read_predictions  # noqa: PLC0415

    path = Path(path)
    if not path.is_file():
        raise LabelError(f"Prediction file not found: {path}. Run analyze_videos first.")
    if path.suffix.lower() == ".csv":
        if _csv_levels(path) == 3:
            return read_predictions(path)
        df = pd.read_csv(path, header=[0, 1, 2, 3], index_col=0)
    else:
        df = read_hdf_any(path)
        if isinstance(df.columns, pd.MultiIndex) and df.columns.nlevels == 3:
            return read_predictions(path)
    if not isinstance(df.columns, pd.MultiIndex) or df.columns.nlevels != 4:
        raise LabelError(
            f"{path}: expected columns (scorer, bodyparts, coords) or (scorer, individuals, bodyparts, coords)."
        )
    df.columns = df.columns.set_names(["scorer", "individuals", "bodyparts", "coords"])
    try:
        return df.astype("float64")
    except (TypeError, ValueError) as exc:
        raise LabelError(f"{path}: prediction values must be numbers ({exc}).") from None


def is_multianimal(df: pd.DataFrame) -> bool:
    """True for a tracked table (4 column levels)."""
    return isinstance(df.columns, pd.MultiIndex) and df.columns.nlevels == 4


def pose_groups(df: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """``[(individual, [bodyparts])]`` in the table's column order; a single-animal table: ``[("", parts)]``."""
    if not is_multianimal(df):
        return [("", list(dict.fromkeys(df.columns.get_level_values("bodyparts"))))]
    groups: dict[str, list[str]] = {}
    for _, ind, bp, _ in df.columns:
        parts = groups.setdefault(str(ind), [])
        if bp not in parts:
            parts.append(bp)
    return list(groups.items())


def group_array(df: pd.DataFrame, individual: str, bodyparts: Sequence[str]) -> np.ndarray:
    """``(n_frames, len(bodyparts), 3)`` float64 x, y, likelihood of one individual (``""``: single animal).

    A new (writable) array, never a view of ``df``.
    """
    from posenb.io.predictions import predictions_to_array  # noqa: PLC0415

    if not is_multianimal(df):
        return np.array(predictions_to_array(df, bodyparts), dtype="float64")  # a writable copy
    scorer = df.columns.get_level_values(0)[0]
    cols = [(scorer, individual, bp, c) for bp in bodyparts for c in COORDS]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise LabelError(f"tracked table lacks columns {missing[:3]} (individual {individual!r}).")
    return np.array(df.loc[:, cols].to_numpy(dtype="float64").reshape(len(df), len(bodyparts), 3))


def table_arrays(df: pd.DataFrame) -> list[tuple[str, list[str], np.ndarray]]:
    """``[(individual, bodyparts, (n, K, 3) array)]`` for every group of the table (see :func:`pose_groups`)."""
    return [(ind, bps, group_array(df, ind, bps)) for ind, bps in pose_groups(df)]


def arrays_to_table(
    scorer: str, groups: Sequence[tuple[str, Sequence[str], np.ndarray]], index=None
) -> pd.DataFrame:
    """Inverse of :func:`table_arrays`: a tracked table (or a single-animal one for one ``""`` group)."""
    from posenb.io.predictions import array_to_predictions  # noqa: PLC0415

    if len(groups) == 1 and groups[0][0] == "":
        return array_to_predictions(groups[0][2], scorer, groups[0][1], index=index)
    n = len(groups[0][2]) if groups else 0
    tuples = [(scorer, ind, bp, c) for ind, bps, _ in groups for bp in bps for c in COORDS]
    values = np.concatenate([np.asarray(a, "float64").reshape(n, -1) for _, _, a in groups], axis=1)
    columns = pd.MultiIndex.from_tuples(tuples, names=["scorer", "individuals", "bodyparts", "coords"])
    return pd.DataFrame(values, columns=columns, index=index if index is not None else pd.RangeIndex(n))


def flat_columns(
    df: pd.DataFrame, individuals="all", bodyparts="all"
) -> tuple[list[tuple[str, str]], np.ndarray]:
    """All points of a table as one array: ``([(individual, bodypart)], (n_frames, n_points, 3))``.

    ``individuals`` / ``bodyparts``: ``"all"``, a name or a list (DLC's ``displayedindividuals`` /
    ``displayedbodyparts``); unknown names raise :class:`ConfigError`. Single-animal tables have individual
    ``""``. Used to draw every animal at once (labeled videos, outlier frames).
    """
    from posenb.io.predictions import select_bodyparts  # noqa: PLC0415

    groups = pose_groups(df)
    names = [ind for ind, _ in groups]
    wanted_inds = names
    if names != [""] and individuals != "all":
        wanted_inds = [individuals] if isinstance(individuals, str) else list(individuals)
        unknown = [i for i in wanted_inds if i not in names]
        if unknown:
            raise ConfigError(f"Unknown individual(s) {unknown}; the tracked file has {names}.")
    all_parts = list(dict.fromkeys(bp for _, bps in groups for bp in bps))
    wanted_parts = set(select_bodyparts(all_parts, bodyparts))
    points, arrays = [], []
    for ind, bps in groups:
        if ind not in wanted_inds:
            continue
        keep = [bp for bp in bps if bp in wanted_parts]
        if keep:
            points += [(ind, bp) for bp in keep]
            arrays.append(group_array(df, ind, keep))
    arr = np.concatenate(arrays, axis=1) if arrays else np.zeros((len(df), 0, 3))
    return points, arr


def warn_ignored(cfg: dict, **args) -> None:
    """Warn about DeepLabCut arguments posenb ignores: those given a true value, except ``track_method`` on a
    multi-animal project (where it selects the tracked file) and ``displayedindividuals="all"``."""
    ignored = [
        k
        for k, v in args.items()
        if v
        and not (k == "track_method" and cfg.get("multianimalproject"))
        and not (k == "displayedindividuals" and (v == "all" or cfg.get("multianimalproject")))
    ]
    if ignored:
        warnings.warn(
            f"{', '.join(ignored)}: not supported by posenb for this project; ignored.", stacklevel=3
        )
