"""Machine labels: ``labeled-data/<stem>/machinelabels-iter<N>.h5`` + ``machinelabels.csv`` (DLC_COMPAT §2.5).

``extract_outlier_frames`` writes the network's predictions for the extracted frames here (columns
``(scorer, [individuals,] bodyparts, x/y/likelihood)``, scorer = the model's ``DLCscorer``); the refinement tools
read them as the starting point of human labels (:class:`MachineLabels`, arrays as in
:mod:`posenb.io.label_arrays`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from posenb.io.label_arrays import is_multianimal_table, table_individuals, table_to_arrays

__all__ = [
    "MachineLabels",
    "machinelabels_path",
    "find_machinelabels",
    "read_machinelabels",
    "read_machinelabels_table",
    "write_machinelabels",
]


def machinelabels_path(folder: str | os.PathLike, iteration: int) -> Path:
    """``labeled-data/<stem>/machinelabels-iter<N>.h5``."""
    return Path(folder) / f"machinelabels-iter{int(iteration)}.h5"


def find_machinelabels(folder: str | os.PathLike, iteration: int | None = None) -> Path | None:
    """``machinelabels-iter<iteration>.h5`` in ``folder`` if it exists, else the highest iteration's, else None."""
    folder = Path(folder)
    if iteration is not None and machinelabels_path(folder, iteration).exists():
        return machinelabels_path(folder, iteration)
    found = []
    for f in folder.glob("machinelabels-iter*.h5"):
        tail = f.stem[len("machinelabels-iter") :]
        if tail.isdigit():
            found.append((int(tail), f))
    return max(found)[1] if found else None


def read_machinelabels_table(path: str | os.PathLike) -> pd.DataFrame:
    """The table of a machinelabels file, rows normalised to 3-tuples (safe HDF5 reader: no pickle runs)."""
    from posenb.io.labels import guarantee_multiindex_rows, read_hdf_any

    return guarantee_multiindex_rows(read_hdf_any(Path(path)))


@dataclass
class MachineLabels:
    """The predictions of a machinelabels file, in the caller's part order.

    ``images``: image file names (``img0042.png``), one per row; ``points`` ``(n, n_individuals, K, 2)``,
    ``likelihood`` ``(n, n_individuals, K)``, ``unique`` ``(n, U, 2)``, ``unique_likelihood`` ``(n, U)``;
    ``extra_parts``: body parts of the file that were not asked for (ignored).
    """

    path: Path
    scorer: str
    images: list[str]
    points: np.ndarray
    likelihood: np.ndarray
    unique: np.ndarray
    unique_likelihood: np.ndarray
    extra_parts: list[str]


def read_machinelabels(
    path: str | os.PathLike,
    bodyparts: Sequence[str],
    individuals: Sequence[str] = (),
    unique_bodyparts: Sequence[str] = (),
) -> MachineLabels:
    """Read a machinelabels file into :class:`MachineLabels` (single- or multi-animal, like the project)."""
    df = read_machinelabels_table(path)
    arrays = table_to_arrays(df, bodyparts, individuals, unique_bodyparts)
    level = 2 if is_multianimal_table(df) else 1
    known = set(bodyparts) | set(unique_bodyparts)
    extra = sorted(set(map(str, df.columns.get_level_values(level))) - known)
    if is_multianimal_table(df):
        extra += [f"individual {i}" for i in table_individuals(df) if i not in individuals and i != "single"]
    return MachineLabels(
        Path(path),
        str(df.columns.get_level_values(0)[0]),
        [str(row[-1]) for row in df.index],
        arrays.points,
        arrays.likelihood,
        arrays.unique,
        arrays.unique_likelihood,
        extra,
    )


def write_machinelabels(folder: str | os.PathLike, iteration: int, new: pd.DataFrame) -> Path:
    """Append rows to ``machinelabels-iter<N>.h5`` (older rows win on duplicates) and rewrite ``machinelabels.csv``.

    ``new``: index = 3-level ``("labeled-data", stem, img)``, columns ``(scorer, [individuals,] bodyparts,
    x/y/likelihood)``. Both files are written atomically (HDF5 key ``df_with_missing``, fixed format, as DLC).
    """
    from posenb.io.atomic import atomic_write
    from posenb.io.hdf import write_hdf

    path = machinelabels_path(folder, iteration)
    table = new
    if path.exists():
        old = read_machinelabels_table(path)
        old_scorer, new_scorer = old.columns.get_level_values(0)[0], new.columns.get_level_values(0)[0]
        if old_scorer != new_scorer:  # another model in the same iteration: one scorer per file, as DLC's
            new = new.rename(columns={new_scorer: old_scorer}, level=0)
        table = pd.concat([old, new])
        table = table[~table.index.duplicated(keep="first")]
    table = table.sort_index()
    write_hdf(table, path, format="fixed")
    atomic_write(Path(folder) / "machinelabels.csv", lambda tmp: table.to_csv(tmp))
    return path
