"""Label tables <-> arrays, for one animal or several (DeepLabCut's single- and multi-animal layouts).

A label (or machine-label) table has either 3 column levels ``(scorer, bodyparts, coords)`` (single-animal
project) or 4 ``(scorer, individuals, bodyparts, coords)`` (multi-animal project: ``individuals`` in config order,
then the individual ``"single"`` holding only the unique body parts, DLC_COMPAT §2.3). ``coords`` are ``x``, ``y``
and, in machine labels and predictions, ``likelihood``.

The array form is the same for both, single-animal being the one-individual case:

- ``points``: ``(n_rows, n_individuals, n_bodyparts, 2)`` float64 x/y pixels, NaN = not labeled
  (``n_individuals`` = 1 for a 3-level table);
- ``unique``: ``(n_rows, n_unique, 2)`` float64 (``n_unique`` = 0 without unique body parts);
- ``likelihood`` ``(n_rows, n_individuals, n_bodyparts)`` and ``unique_likelihood`` ``(n_rows, n_unique)``, NaN
  where the table has no likelihood.

Nothing here reads config.yaml: the caller passes the parts (``posenb.project.config.project_parts(cfg)`` gives
them: ``bodyparts``, ``individuals``, ``unique_bodyparts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from posenb.errors import LabelError

__all__ = [
    "UNIQUE_INDIVIDUAL",
    "LabelArrays",
    "label_columns",
    "is_multianimal_table",
    "table_individuals",
    "table_to_arrays",
    "arrays_to_table",
]

UNIQUE_INDIVIDUAL = "single"  # DeepLabCut's individual for unique body parts (= posenb.project.config's)
LEVELS3 = ["scorer", "bodyparts", "coords"]
LEVELS4 = ["scorer", "individuals", "bodyparts", "coords"]


@dataclass
class LabelArrays:
    """The arrays of a label table (shapes in the module docstring)."""

    points: np.ndarray
    unique: np.ndarray
    likelihood: np.ndarray
    unique_likelihood: np.ndarray


def is_multianimal_table(df: pd.DataFrame) -> bool:
    """True for a table with 4 column levels (scorer, individuals, bodyparts, coords)."""
    return isinstance(df.columns, pd.MultiIndex) and df.columns.nlevels == 4


def table_individuals(df: pd.DataFrame) -> list[str]:
    """The ``individuals`` level of a 4-level table in column order (``"single"`` included); ``[]`` for 3 levels."""
    return list(dict.fromkeys(df.columns.get_level_values(1))) if is_multianimal_table(df) else []


def label_columns(
    scorer: str,
    bodyparts: Sequence[str],
    individuals: Sequence[str] = (),
    unique_bodyparts: Sequence[str] = (),
    coords: Sequence[str] = ("x", "y"),
    multianimal: bool | None = None,
) -> pd.MultiIndex:
    """DeepLabCut's columns of a label table.

    Single-animal (``multianimal`` False, the default when ``individuals`` and ``unique_bodyparts`` are empty):
    ``(scorer, bodypart, coord)``. Multi-animal: ``(scorer, individual, bodypart, coord)`` for each individual
    and per-animal part, then ``(scorer, "single", unique part, coord)``.
    """
    if multianimal is None:
        multianimal = bool(individuals) or bool(unique_bodyparts)
    coords = list(coords)
    if not multianimal:
        return pd.MultiIndex.from_product([[scorer], list(bodyparts), coords], names=LEVELS3)
    tuples = [(scorer, str(i), b, c) for i in individuals for b in bodyparts for c in coords]
    tuples += [(scorer, UNIQUE_INDIVIDUAL, u, c) for u in unique_bodyparts for c in coords]
    return pd.MultiIndex.from_tuples(tuples, names=LEVELS4)


def _column(df: pd.DataFrame, key: tuple, n: int) -> np.ndarray:
    return df[key].to_numpy(dtype="float64") if key in df.columns else np.full(n, np.nan)


def table_to_arrays(
    df: pd.DataFrame,
    bodyparts: Sequence[str],
    individuals: Sequence[str] = (),
    unique_bodyparts: Sequence[str] = (),
) -> LabelArrays:
    """The arrays of ``df`` in the given part and individual order (parts or individuals absent from the table are
    NaN; those of the table not asked for are ignored -- :func:`posenb.io.labels.conform_labels` refuses to lose
    labels, this function does not check).

    A 3-level table needs ``individuals=()`` (it fills the one individual); a 4-level table needs ``individuals``
    (and ``unique_bodyparts`` for its ``"single"`` columns); the other combinations raise :class:`LabelError`.
    The scorer is the table's first.
    """
    n = len(df)
    scorer = df.columns.get_level_values(0)[0] if len(df.columns) else ""
    multi = is_multianimal_table(df)
    if multi and not individuals and not unique_bodyparts and len(df.columns):
        raise LabelError(
            f"A multi-animal label table (individuals {table_individuals(df)}) was read where a single-animal "
            "one was expected. Set multianimalproject: true (and individuals) in config.yaml."
        )
    if not multi and individuals and len(df.columns):
        raise LabelError(
            f"A single-animal label table (3 column levels) was read where a multi-animal one (individuals "
            f"{list(individuals)}) was expected. Relabel it in the multi-animal project, or set "
            "multianimalproject: false in config.yaml."
        )
    slots = list(individuals) if multi else [None]
    out = LabelArrays(
        np.full((n, len(slots), len(bodyparts), 2), np.nan),
        np.full((n, len(unique_bodyparts), 2), np.nan),
        np.full((n, len(slots), len(bodyparts)), np.nan),
        np.full((n, len(unique_bodyparts)), np.nan),
    )
    for a, ind in enumerate(slots):
        for k, bp in enumerate(bodyparts):
            key = (scorer, bp) if ind is None else (scorer, str(ind), bp)
            out.points[:, a, k, 0] = _column(df, (*key, "x"), n)
            out.points[:, a, k, 1] = _column(df, (*key, "y"), n)
            out.likelihood[:, a, k] = _column(df, (*key, "likelihood"), n)
    for k, bp in enumerate(unique_bodyparts):
        key = (scorer, UNIQUE_INDIVIDUAL, bp) if multi else (scorer, bp)
        out.unique[:, k, 0] = _column(df, (*key, "x"), n)
        out.unique[:, k, 1] = _column(df, (*key, "y"), n)
        out.unique_likelihood[:, k] = _column(df, (*key, "likelihood"), n)
    return out


def arrays_to_table(
    points: np.ndarray,
    scorer: str,
    bodyparts: Sequence[str],
    index: Sequence[tuple] | pd.Index,
    individuals: Sequence[str] = (),
    unique: np.ndarray | None = None,
    unique_bodyparts: Sequence[str] = (),
    likelihood: np.ndarray | None = None,
    unique_likelihood: np.ndarray | None = None,
    multianimal: bool | None = None,
) -> pd.DataFrame:
    """Inverse of :func:`table_to_arrays`: a float64 table with :func:`label_columns` columns.

    ``points`` ``(n, n_individuals, K, 2)`` (or ``(n, K, 2)`` for a single animal); ``index`` one entry per row
    (3-tuples ``("labeled-data", stem, img)``, or any index). With ``likelihood`` the coords are x, y, likelihood.
    """
    if multianimal is None:
        multianimal = bool(individuals) or bool(unique_bodyparts)
    points = np.asarray(points, dtype="float64")
    n = len(index)
    if points.ndim == 3:
        points = points[:, None]
    n_ind = len(individuals) if multianimal else 1
    if points.shape != (n, n_ind, len(bodyparts), 2):
        raise ValueError(f"points {points.shape} does not match {(n, n_ind, len(bodyparts), 2)}")
    coords = ["x", "y", "likelihood"] if likelihood is not None else ["x", "y"]
    per_animal = points
    if likelihood is not None:
        lik = np.asarray(likelihood, dtype="float64").reshape(n, n_ind, len(bodyparts), 1)
        per_animal = np.concatenate([points, lik], axis=-1)
    blocks = [per_animal.reshape(n, -1)]
    if unique_bodyparts:
        u = (
            np.full((n, len(unique_bodyparts), 2), np.nan)
            if unique is None
            else np.asarray(unique, "float64")
        )
        if likelihood is not None:
            ul = (
                np.full((n, len(unique_bodyparts)), np.nan)
                if unique_likelihood is None
                else unique_likelihood
            )
            u = np.concatenate([u, np.asarray(ul, "float64").reshape(n, -1, 1)], axis=-1)
        blocks.append(u.reshape(n, -1))
    columns = label_columns(scorer, bodyparts, individuals, unique_bodyparts, coords, multianimal)
    if not multianimal and unique_bodyparts:
        raise ValueError("unique body parts need a multi-animal table")
    if isinstance(index, pd.Index):
        rows = index
    elif n:
        rows = pd.MultiIndex.from_tuples([tuple(i) for i in index])
    else:
        rows = pd.MultiIndex.from_tuples([], names=[None, None, None])
    return pd.DataFrame(np.concatenate(blocks, axis=1), index=rows, columns=columns, dtype="float64")
