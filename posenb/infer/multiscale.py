"""Test-time scales: run the network on a frame at several input scales and average the key points.

A pose model trained with scale jitter (``scale_jitter_lo`` .. ``scale_jitter_up`` around ``global_scale``) sees
the same animal at other sizes during training; running it at slightly enlarged inputs puts more score-map cells
on each part, and averaging two scales halves the variance of the two estimates. Measured on the recipe's
snapshots (benchmarks/RESULTS.md, "Test-time scales"): mean error of openfield's three test sets 1.81 -> 1.73 px,
synthetic frames against the exact truth 0.50 / 0.61 -> 0.43 / 0.36 px, at the cost of one network pass per
scale at ``scale**2`` the pixels (~2.8x the compute of one pass for ``(1.1, 1.25)``). It is what the labeler's
suggestions use (:class:`posenb.infer.suggest.LabelSuggester`), where a frame is predicted once and accuracy is
worth the time; analysis keeps one pass by default.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from posenb.errors import ConfigError

__all__ = ["SUGGESTION_SCALES", "check_scales", "predict_multiscale"]

#: test-time scales of the labeler's suggestions, relative to the model's ``global_scale`` (inside the default
#: scale jitter, x0.75-x1.25, that training covers)
SUGGESTION_SCALES: tuple[float, ...] = (1.1, 1.25)


def check_scales(scales: Sequence[float] | None) -> tuple[float, ...] | None:
    """``scales`` as a tuple of positive floats; None or ``(1.0,)`` -> None (one pass at the model's scale)."""
    if scales is None:
        return None
    try:
        out = tuple(float(s) for s in scales)
    except (TypeError, ValueError):
        raise ConfigError(f"test_scales must be a list of numbers, got {scales!r}.") from None
    if not out or any(not (0.1 <= s <= 4.0) for s in out):
        raise ConfigError(
            f"test_scales must be between 0.1 and 4 (relative to global_scale), got {scales!r}."
        )
    return None if out == (1.0,) else out


def predict_multiscale(predictor, frames: np.ndarray, scales: Sequence[float]) -> np.ndarray:
    """Key points of ``frames`` ``(n, H, W, 3)`` uint8 RGB averaged over the input ``scales`` (relative to the
    predictor's ``global_scale``): ``(n, K, 3)`` float64, x, y in frame pixels (mean over the scales) and
    likelihood (mean). A part missing (NaN) at one scale takes the others' mean."""
    runs = [predictor.predict_at(frames, s) for s in scales]  # one pass per scale, in frame pixels
    stack = np.stack(runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a part NaN at every scale stays NaN
        return np.nanmean(stack, axis=0)
