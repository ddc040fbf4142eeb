"""Helpers of the malformed-input campaign: file makers and the "clear error, nothing left behind" assertion."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from posenb.errors import PosenbError

SCORER = "me"
PARTS = ("nose", "tail")


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of every file under ``root`` (links not followed)."""
    out = {}
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            st = p.stat()
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def assert_clean_failure(root: Path, call: Callable[[], object], error: type[PosenbError], match: str = "") -> str:
    """``call()`` raises ``error`` (a posenb error, not a raw traceback type) and leaves ``root`` as it was:
    no new, changed or temporary file. Returns the message."""
    before = tree(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(PosenbError) as info:
            call()
    assert isinstance(info.value, error), f"expected {error.__name__}, got {type(info.value).__name__}: {info.value}"
    message = str(info.value)
    if match:
        assert match in message, message
    after = tree(root)
    assert after == before, f"files changed: {sorted(set(after.items()) ^ set(before.items()))}"
    return message


def labels(n: int = 3, parts=PARTS, scorer: str = SCORER, stem: str = "vid", values=None) -> pd.DataFrame:
    cols = pd.MultiIndex.from_product([[scorer], list(parts), ["x", "y"]], names=["scorer", "bodyparts", "coords"])
    index = pd.MultiIndex.from_tuples([("labeled-data", stem, f"img{i}.png") for i in range(n)])
    data = np.arange(n * len(cols), dtype=float).reshape(n, len(cols)) + 5 if values is None else values
    return pd.DataFrame(data, index=index, columns=cols)


def predictions(n: int = 4, parts=PARTS, scorer: str = "DLC_x") -> pd.DataFrame:
    cols = pd.MultiIndex.from_product(
        [[scorer], list(parts), ["x", "y", "likelihood"]], names=["scorer", "bodyparts", "coords"]
    )
    return pd.DataFrame(np.full((n, len(cols)), 0.5), columns=cols)


def to_h5(df, path: Path, fmt: str = "fixed", key: str = "df_with_missing") -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df.to_hdf(path, key=key, mode="w", format=fmt)
    return path


def raw_h5(path: Path, build: Callable[[h5py.File], None]) -> Path:
    with h5py.File(path, "w") as f:
        build(f)
    return path


def truncated(path: Path, fraction: float = 0.5) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path
