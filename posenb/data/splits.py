"""Train/test splits of a training set: seeded, reproducible, DeepLabCut's ``-1`` padding.

Each (fraction, shuffle) split comes from a seeded permutation (unlike DeepLabCut's unseeded
``np.random.permutation``): the seed is :func:`split_seed`, recorded in ``metadata.yaml`` and in
``train/pose_cfg.yaml`` (``split_seed``), so the same project always gives the same split. Indices are row
positions in the merged, sorted ``CollectedData`` table.
"""

from __future__ import annotations

import math

import numpy as np

from posenb.errors import ConfigError
from posenb.project import paths

__all__ = ["split_seed", "split_trials", "plan_splits"]


def split_seed(train_fraction: float, shuffle: int) -> int:
    """Seed of the permutation for (``train_fraction``, ``shuffle``): ``1000 * shuffle + pct``."""
    return 1000 * int(shuffle) + paths.train_fraction_pct(train_fraction)


def _pad_split(train: list[int], test: list[int], fraction: float) -> tuple[list[int], list[int]]:
    """Pad with -1 entries so that ``len(train) / (len(train) + len(test))`` is exactly ``fraction`` (DLC)."""
    n = len(train) + len(test)
    if n == 0 or len(train) / n == fraction:
        return train, test
    step = 100 // math.gcd(100, int(round(100 * fraction)))
    length = math.ceil(n / step) * step
    n_train = int(round(length * fraction))
    n_test = length - n_train
    if n_train < len(train) or n_test < len(test):
        return train, test
    return train + [-1] * (n_train - len(train)), test + [-1] * (n_test - len(test))


def split_trials(n: int, train_fraction: float, seed: int, enforce_train_fraction: bool = False):
    """Seeded train/test split of ``range(n)``: the first ``int(n * fraction)`` permuted positions train.

    Returns ``(train, test)`` lists of ints (in permutation order). With ``enforce_train_fraction``, pads
    with -1 so the ratio is exact (DLC's ``mergeandsplit``).
    """
    if not 0 <= train_fraction <= 1:
        raise ConfigError(f"TrainingFraction {train_fraction} must lie in [0, 1].")
    fraction = round(train_fraction, 2)
    perm = [int(i) for i in np.random.default_rng(seed).permutation(n)]
    n_train = int(n * fraction)
    train, test = perm[:n_train], perm[n_train:]
    if enforce_train_fraction and not float(n * fraction).is_integer():
        train, test = _pad_split(train, test, fraction)
    return train, test


def plan_splits(cfg: dict, n: int, num_shuffles, Shuffles, trainIndices, testIndices):  # noqa: N803 - DLC names
    """``([(fraction, shuffle, train, test, seed), ...], new fractions)``; fractions added to ``cfg`` in memory."""
    Shuffles = list(range(1, int(num_shuffles) + 1)) if Shuffles is None else [int(s) for s in Shuffles]  # noqa: N806
    splits: list[tuple[float, int, list[int], list[int], int | None]] = []
    if trainIndices is None and testIndices is None:
        for fraction in cfg["TrainingFraction"]:
            for shuffle in Shuffles:
                seed = split_seed(fraction, shuffle)
                train, test = split_trials(n, fraction, seed)
                splits.append((fraction, shuffle, train, test, seed))
        return splits, []
    if trainIndices is None or testIndices is None or len(trainIndices) != len(testIndices):
        raise ConfigError("Pass trainIndices and testIndices together, one list of each per shuffle.")
    if len(Shuffles) < len(trainIndices):
        Shuffles = list(range(1, len(trainIndices) + 1))  # noqa: N806
    new = []
    for shuffle, tr, te in zip(Shuffles, trainIndices, testIndices):
        tr, te = [int(i) for i in tr], [int(i) for i in te]
        fraction = round(len(tr) / (len(tr) + len(te)), 2)
        tr, te = [i for i in tr if i != -1], [i for i in te if i != -1]
        bad = [i for i in tr + te if not 0 <= i < n]
        if bad:
            raise ConfigError(
                f"trainIndices/testIndices hold positions {bad[:5]} outside the {n} labeled images."
            )
        if fraction not in cfg["TrainingFraction"]:
            cfg["TrainingFraction"].append(fraction)
            new.append(fraction)
        splits.append((fraction, shuffle, tr, te, None))
    return splits, new
