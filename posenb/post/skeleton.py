"""Skeleton features: ``analyzeskeleton`` (DeepLabCut's name and files) and the array function behind it.

For every bone ``[bp1, bp2]`` of config.yaml's ``skeleton``:

- ``length``: Euclidean distance between the two points (pixels);
- ``orientation``: angle of the vector bp1 -> bp2 in degrees in [0, 360), ``atan2(y2 - y1, x2 - x1)`` in image
  coordinates (x to the right, y *down*, so angles increase clockwise on screen);
- ``likelihood``: the smaller likelihood of the two ends (DeepLabCut intends this but returns bp2's).

Multi-animal projects: the bones of every individual of the tracked file, named ``<individual>_<bp1>_<bp2>``
(DeepLabCut's names; unique parts, individual ``single``, have no bones).

Output: ``<analysis stem>_skeleton.h5`` (``..._filtered_skeleton.h5`` from filtered data), key
``df_with_missing``, columns a 2-level MultiIndex ``(bone, metric)`` with bone ``<bp1>_<bp2>``, index = frame.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.errors import ConfigError
from posenb.project.project_config import skeleton_indices  # noqa: F401 - re-exported (its home is project/)

__all__ = [
    "bone_features",
    "skeleton_table",
    "individuals_skeleton_table",
    "analyzeskeleton",
    "skeleton_path",
    "skeleton_indices",
]

METRICS = ("length", "orientation", "likelihood")


def bone_features(arr: np.ndarray, bodyparts: Sequence[str], skeleton: Sequence[Sequence[str]]) -> np.ndarray:
    """``(n_frames, n_bones, 3)`` float64: length (px), orientation (deg, [0, 360)), likelihood (min of ends).

    ``arr``: ``(n_frames, n_bodyparts, 3)`` x, y, likelihood in ``bodyparts`` order. A bone whose end is
    missing (NaN) gets NaN length and orientation.
    """
    arr = np.asarray(arr, dtype="float64")
    index = {bp: i for i, bp in enumerate(bodyparts)}
    bad = [pair for pair in skeleton if len(pair) != 2 or pair[0] not in index or pair[1] not in index]
    if bad:
        raise ConfigError(
            f"skeleton pairs {bad} name body parts that are not in the predictions ({list(bodyparts)})."
        )
    i1 = np.array([index[a] for a, _ in skeleton], dtype=int)
    i2 = np.array([index[b] for _, b in skeleton], dtype=int)
    p1, p2 = arr[:, i1], arr[:, i2]  # (n, B, 3)
    d = p2[..., :2] - p1[..., :2]
    length = np.hypot(d[..., 0], d[..., 1])
    orientation = np.degrees(np.arctan2(d[..., 1], d[..., 0])) % 360.0
    orientation[orientation >= 360.0] = 0.0  # -0.0 % 360 and tiny negatives round to 360
    likelihood = np.fmin(p1[..., 2], p2[..., 2])
    return np.stack([length, orientation, likelihood], axis=-1)


def skeleton_table(
    arr: np.ndarray, bodyparts: Sequence[str], skeleton: Sequence[Sequence[str]], index=None
) -> pd.DataFrame:
    """:func:`bone_features` as DLC's table: columns ``(bone, metric)`` (unnamed levels), one row per frame."""
    feats = bone_features(arr, bodyparts, skeleton)
    n, b, _ = feats.shape
    bones = [f"{a}_{c}" for a, c in skeleton]
    columns = pd.MultiIndex.from_product([bones, list(METRICS)])
    return pd.DataFrame(
        feats.reshape(n, b * 3), columns=columns, index=index if index is not None else pd.RangeIndex(n)
    )


def individuals_skeleton_table(df: pd.DataFrame, skeleton: Sequence[Sequence[str]]) -> pd.DataFrame:
    """:func:`skeleton_table` of a prediction or tracked table (:mod:`posenb.post._multi`).

    Single animal: bones ``<bp1>_<bp2>``. Multi-animal: the bones of every individual, named
    ``<individual>_<bp1>_<bp2>`` (DeepLabCut's names), individuals in the file's order; the unique parts
    (``single``) have no skeleton and are skipped, like the bones whose parts an individual lacks.
    """
    from posenb.post._multi import UNIQUE, is_multianimal, table_arrays

    if not is_multianimal(df):
        ((_, bodyparts, arr),) = table_arrays(df)
        return skeleton_table(arr, bodyparts, skeleton, index=df.index)
    tables = []
    for ind, bodyparts, arr in table_arrays(df):
        bones = [b for b in skeleton if b[0] in bodyparts and b[1] in bodyparts]
        if ind == UNIQUE or not bones:
            continue
        table = skeleton_table(arr, bodyparts, bones, index=df.index)
        table.columns = pd.MultiIndex.from_tuples([(f"{ind}_{bone}", m) for bone, m in table.columns])
        tables.append(table)
    if not tables:
        raise ConfigError(
            f"No skeleton bone joins two body parts of an individual of the tracked file ({skeleton})."
        )
    return pd.concat(tables, axis=1)


def skeleton_path(h5: str | os.PathLike) -> Path:
    """``<analysis stem>_skeleton.h5`` next to the analysis (or filtered) file."""
    h5 = Path(h5)
    return h5.with_name(h5.stem + "_skeleton.h5")


def analyzeskeleton(
    config,
    videos,
    videotype: str = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    filtered: bool = False,
    save_as_csv: bool = False,
    destfolder=None,
    modelprefix: str = "",
    track_method: str = "",
    return_data: bool = False,
):
    """Bone lengths, orientations and likelihoods for analysed videos (DeepLabCut's ``analyzeskeleton``).

    Needs a non-empty ``skeleton`` in config.yaml. For each video with an analysis file (``filtered=True``:
    its ``_filtered`` version) writes ``<analysis stem>_skeleton.h5`` (+ ``.csv`` with ``save_as_csv``);
    an existing skeleton file is replaced (through an atomic write with a backup). Returns the list of
    files written, or with ``return_data`` a dict ``{video: DataFrame}``.
    """
    from posenb.io.atomic import atomic_write
    from posenb.io.hdf import write_hdf
    from posenb.post._common import iter_analyses
    from posenb.post._multi import read_pose_table, warn_ignored
    from posenb.project.config import project_parts, read_config, usable_skeleton

    cfg = read_config(config)
    warn_ignored(cfg, modelprefix=modelprefix, track_method=track_method)
    skeleton = usable_skeleton(cfg)  # entries naming unknown parts are skipped (read_config warned)
    if not skeleton:
        raise ConfigError(
            f"{config}: 'skeleton' has no bone between two of the body parts {project_parts(cfg).all_bodyparts}; "
            "list the bones as pairs of body parts, e.g. [[snout, tailbase]]."
        )
    out_files, data = [], {}
    found = iter_analyses(
        cfg, videos, videotype, shuffle, trainingsetindex, filtered, destfolder, track_method
    )
    for video, h5 in found:
        table = individuals_skeleton_table(read_pose_table(h5), skeleton)
        out = skeleton_path(h5)
        write_hdf(table, out, format="table")
        if save_as_csv:
            atomic_write(out.with_suffix(".csv"), lambda tmp, t=table: t.to_csv(tmp))
        print(f"Skeleton features of {video.name} -> {out.name}")
        out_files.append(out)
        data[str(video)] = table
    return data if return_data else out_files
