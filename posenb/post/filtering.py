"""Filtering of pose predictions: ``filterpredictions`` (DeepLabCut's name and files) and array filters.

Filters form a small registry (:data:`FILTERS`): each one is a pure function
``fn(arr, **params) -> arr`` on ``(n_frames, n_bodyparts, 3)`` float arrays (x, y in pixels, likelihood in
[0, 1]) that returns a new array of the same shape and never modifies its input. Panels call
:func:`filter_array`; ``filterpredictions`` applies one to analysis files. Add a filter with
``@register_filter("name")``.

- ``median``: running median of every x and y series over ``windowlength`` frames (odd). DeepLabCut uses
  ``scipy.signal.medfilt``, which zero-pads: the first and last ``windowlength // 2`` frames are pulled
  towards 0. posenb repeats the edge value instead (``scipy.ndimage.median_filter(mode="nearest")``), so
  the ends are filtered like the middle. Series with NaN use a NaN-ignoring median.
- ``arima``: DeepLabCut's SARIMAX(``ARdegree``, 0, ``MAdegree``) fit per series, with values whose likelihood
  < ``p_bound`` treated as missing, DLC's fallbacks, output = in-sample one-step-ahead predictions (frame 0
  keeps the raw value), likelihood unchanged. To stay tractable on long videos the parameters are estimated
  on a window of ``fit_frames`` frames (default 3000; ``None`` = the whole series, as DLC) and the Kalman
  filter then runs over the full series with those parameters; the series are processed in parallel
  processes (``n_jobs``). See benchmarks/RESULTS.md for timings.
- ``spline``: cubic-spline filling of gaps (NaN, or likelihood < ``p_bound``) up to ``windowlength`` frames
  long (0 = any length); filled points get likelihood 0.01 (DLC). Unlike DLC, points before the first or
  after the last valid sample are not extrapolated, and values are never blanked.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from posenb.errors import ConfigError
from posenb.io.predictions import check_pose_array

__all__ = [
    "FILTERS",
    "register_filter",
    "filter_array",
    "median_filter",
    "arima_filter",
    "spline_filter",
    "fit_sarimax",
    "filterpredictions",
    "filtered_path",
]

FILTERS: dict[str, Callable[..., np.ndarray]] = {}


def register_filter(name: str):
    """Decorator adding ``fn(arr, **params) -> arr`` to :data:`FILTERS` under ``name``."""

    def deco(fn):
        FILTERS[name] = fn
        return fn

    return deco


def filter_array(arr: np.ndarray, filtertype: str = "median", **params) -> np.ndarray:
    """Apply the registered filter ``filtertype`` to ``arr`` ``(n_frames, n_bodyparts, 3)``; returns a new array.

    Unknown keyword arguments are ignored by each filter, so one parameter set (DLC's) serves all.
    """
    if filtertype not in FILTERS:
        raise ConfigError(f"Unknown filtertype {filtertype!r}; choose one of {sorted(FILTERS)}.")
    return FILTERS[filtertype](check_pose_array(arr), **params)


# --------------------------------------------------------------------------------------------------- median
def _nan_median_1d(x: np.ndarray, window: int) -> np.ndarray:
    half = window // 2
    padded = np.pad(x, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows stay NaN
        return np.nanmedian(windows, axis=1)


@register_filter("median")
def median_filter(arr: np.ndarray, windowlength: int = 5, **_) -> np.ndarray:
    """Running median over ``windowlength`` frames (odd, >= 1) of each x and y series; likelihood unchanged.

    Edges repeat the first/last value (DLC's ``medfilt`` pads with zeros). ``(n, K, 3)`` -> ``(n, K, 3)``.
    """
    from scipy.ndimage import median_filter as _ndmedian  # noqa: PLC0415

    arr = check_pose_array(arr)
    windowlength = int(windowlength)
    if windowlength < 1 or windowlength % 2 == 0:
        raise ConfigError(
            f"windowlength must be an odd number of frames for the median filter (got {windowlength})."
        )
    out = arr.copy()
    if windowlength == 1 or len(arr) == 0:
        return out
    xy = arr[:, :, :2]
    nan_cols = np.isnan(xy).any(axis=0)  # (K, 2)
    out[:, :, :2] = _ndmedian(np.nan_to_num(xy), size=(windowlength, 1, 1), mode="nearest")
    for k, c in zip(*np.nonzero(nan_cols)):
        out[:, k, c] = _nan_median_1d(xy[:, k, c], windowlength)
    return out


# ---------------------------------------------------------------------------------------------------- arima
def _start_param(name: str) -> float:
    """DLC's start values after a ValueError: 0 for ar./ma. terms, 1 for sigma2."""
    return 1.0 if "sigma" in name else 0.0


def _fit_window(values: np.ndarray, fit_frames: int | None) -> slice:
    """The window of ``fit_frames`` frames holding the most finite values (whole series when None / shorter)."""
    n = len(values)
    if fit_frames is None or n <= fit_frames:
        return slice(0, n)
    finite = np.isfinite(values).astype(np.int64)
    csum = np.concatenate([[0], np.cumsum(finite)])
    counts = csum[fit_frames:] - csum[:-fit_frames]
    # prefer the middle of the video among equally good windows
    centre = (n - fit_frames) // 2
    best = np.flatnonzero(counts == counts.max())
    i0 = int(best[np.argmin(np.abs(best - centre))])
    return slice(i0, i0 + fit_frames)


def fit_sarimax(
    x: np.ndarray,
    likelihood: np.ndarray,
    p_bound: float = 0.001,
    ARdegree: int = 3,
    MAdegree: int = 1,
    fit_frames: int | None = 3000,
) -> np.ndarray:
    """One-step-ahead SARIMAX(``ARdegree``, 0, ``MAdegree``) predictions of the series ``x`` ``(n,)`` (pixels).

    DLC's ``FitSARIMAXModel``: samples with ``likelihood < p_bound`` (or NaN) are missing data; with 10 or
    fewer finite samples the result is all NaN; a ``ValueError`` during fitting retries from start
    parameters 0 (ar/ma) and 1 (sigma2); a ``LinAlgError`` retries without stationarity/invertibility
    constraints. Parameters are estimated on the best window of ``fit_frames`` frames (``None``: all), then
    the Kalman filter runs over the whole series with them. Returns ``(n,)`` float64.
    """
    import statsmodels.api as sm  # noqa: PLC0415

    y = np.asarray(x, dtype="float64").copy()
    y[~(np.asarray(likelihood) >= p_bound)] = np.nan
    n = len(y)
    if np.isfinite(y).sum() <= 10:
        return np.full(n, np.nan)
    window = _fit_window(y, fit_frames)
    if np.isfinite(y[window]).sum() <= 10:
        window = slice(0, n)
    order = (int(ARdegree), 0, int(MAdegree))
    kwargs: dict = {"order": order, "seasonal_order": (0, 0, 0, 0), "simple_differencing": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence / frequency warnings: DLC ignores them as well
        mod = sm.tsa.statespace.SARIMAX(y[window], **kwargs)
        try:
            try:
                res = mod.fit(disp=False)
            except ValueError:
                start = np.array([_start_param(p) for p in mod.param_names])
                res = mod.fit(start_params=start, disp=False)
        except np.linalg.LinAlgError:
            kwargs.update(enforce_stationarity=False, enforce_invertibility=False, use_exact_diffuse=False)
            mod = sm.tsa.statespace.SARIMAX(y[window], **kwargs)
            res = mod.fit(disp=False)
        if window == slice(0, n):
            full = res
        else:
            full = sm.tsa.statespace.SARIMAX(y, **kwargs).filter(res.params)
        pred = np.asarray(full.get_prediction(start=0, end=n - 1).predicted_mean, dtype="float64")
    return pred


def _arima_job(args) -> np.ndarray:
    x, p, p_bound, ar, ma, fit_frames = args
    return fit_sarimax(x, p, p_bound, ar, ma, fit_frames)


@register_filter("arima")
def arima_filter(
    arr: np.ndarray,
    p_bound: float = 0.001,
    ARdegree: int = 3,
    MAdegree: int = 1,
    alpha: float = 0.01,
    fit_frames: int | None = 3000,
    n_jobs: int | None = None,
    **_,
) -> np.ndarray:
    """ARIMA filter (DLC ``filtertype="arima"``) of every x and y series of ``arr`` ``(n, K, 3)``.

    x/y become the one-step-ahead predictions of :func:`fit_sarimax` (frame 0 keeps the raw value);
    likelihood is unchanged. ``alpha`` is accepted for DLC's signature (it only sets an unused confidence
    interval). ``n_jobs``: worker processes over the ``2K`` series (default: all cores for long series, 1
    for short ones, where starting processes costs more than it saves).
    """
    arr = check_pose_array(arr)
    n, k, _ = arr.shape
    jobs = [
        (arr[:, j, c], arr[:, j, 2], p_bound, ARdegree, MAdegree, fit_frames)
        for j in range(k)
        for c in (0, 1)
    ]
    if n_jobs is None:
        n_jobs = 1 if n * len(jobs) < 40_000 else min(len(jobs), os.cpu_count() or 1)
    if n_jobs > 1 and len(jobs) > 1:
        from joblib import Parallel, delayed  # noqa: PLC0415

        preds = Parallel(n_jobs=n_jobs)(delayed(_arima_job)(a) for a in jobs)
    else:
        preds = [_arima_job(a) for a in jobs]
    out = arr.copy()
    for (j, c), pred in zip([(j, c) for j in range(k) for c in (0, 1)], preds):
        pred = pred.copy()
        if n:
            pred[0] = arr[0, j, c]
        out[:, j, c] = pred
    return out


# --------------------------------------------------------------------------------------------------- spline
def _gap_runs(missing: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the runs of True in a boolean vector."""
    if not missing.any():
        return []
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


@register_filter("spline")
def spline_filter(arr: np.ndarray, windowlength: int = 5, p_bound: float = 0.001, **_) -> np.ndarray:
    """Fill gaps of at most ``windowlength`` frames (0: any) by a cubic spline through the valid samples.

    A sample is missing when x or y is NaN or its likelihood < ``p_bound``. Each x/y series needs more than
    3 valid samples. Only interior gaps are filled (no extrapolation); filled points get likelihood 0.01.
    """
    from scipy.interpolate import CubicSpline  # noqa: PLC0415

    arr = check_pose_array(arr)
    out = arr.copy()
    n, k, _ = arr.shape
    t = np.arange(n)
    max_gap = int(windowlength)
    for j in range(k):
        missing = np.isnan(arr[:, j, :2]).any(axis=1) | (arr[:, j, 2] < p_bound)
        valid = ~missing
        if valid.sum() <= 3 or not missing.any():
            continue
        to_fill = np.zeros(n, bool)
        for a, b in _gap_runs(missing):
            if a == 0 or b == n:  # before the first / after the last valid sample: no extrapolation
                continue
            if max_gap <= 0 or b - a <= max_gap:
                to_fill[a:b] = True
        if not to_fill.any():
            continue
        for c in (0, 1):
            spline = CubicSpline(t[valid], arr[valid, j, c])
            out[to_fill, j, c] = spline(t[to_fill])
        out[to_fill, j, 2] = 0.01
    return out


# ------------------------------------------------------------------------------------------------ files API
def filtered_path(h5: str | os.PathLike) -> Path:
    """``<analysis stem>_filtered.h5`` next to the analysis file."""
    h5 = Path(h5)
    return h5.with_name(h5.stem + "_filtered.h5")


def filterpredictions(
    config,
    video,
    videotype: str = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    filtertype: str = "median",
    windowlength: int = 5,
    p_bound: float = 0.001,
    ARdegree: int = 3,
    MAdegree: int = 1,
    alpha: float = 0.01,
    save_as_csv: bool = True,
    destfolder=None,
    modelprefix: str = "",
    track_method: str = "",
    return_data: bool = False,
    fit_frames: int | None = 3000,
    n_jobs: int | None = None,
):
    """Filter the predictions of analysed videos (DeepLabCut's ``filterpredictions``).

    Parameters
    ----------
    config : path of the project's config.yaml.
    video : a video, a folder of videos, or a list of both (``videotype`` filters folders).
    shuffle, trainingsetindex : which model's analysis to filter (scorer ``...<Task><date>shuffle<k>_...``).
    filtertype : ``"median"``, ``"arima"`` or ``"spline"`` (see the module docstring; :data:`FILTERS`).
    windowlength : median window (odd, frames) or the longest gap the spline fills.
    p_bound : likelihood below which a point is missing data (arima, spline).
    ARdegree, MAdegree, alpha : SARIMAX orders; ``alpha`` is unused, as in DeepLabCut.
    save_as_csv : also write ``_filtered.csv``.
    destfolder : folder of the analysis files (default: the video's folder).
    fit_frames, n_jobs : ARIMA speed-ups (window used to estimate parameters; worker processes).

    track_method : multi-animal projects: which tracked file (DeepLabCut's rule; default config
        ``default_track_method``, else ``ellipse``: ``<stem><DLCscorer>_el.h5``).

    Multi-animal projects filter the tracked file, every individual and body part on its own (unique parts
    under ``"single"`` too), into ``<stem><DLCscorer>_el_filtered.h5`` with the same four column levels.
    Writes ``<analysis stem>_filtered.h5`` (key ``df_with_missing``, table format) next to the analysis file;
    the analysis file itself is never modified. A video whose filtered file exists is skipped.
    Returns the list of filtered files, or with ``return_data`` a dict ``{video: DataFrame}``.
    """
    from tqdm.auto import tqdm  # noqa: PLC0415

    from posenb.post._common import iter_analyses
    from posenb.post._multi import read_pose_table, warn_ignored
    from posenb.project.config import read_config

    if filtertype not in FILTERS:
        raise ConfigError(f"Unknown filtertype {filtertype!r}; choose one of {sorted(FILTERS)}.")
    cfg = read_config(config)
    warn_ignored(cfg, modelprefix=modelprefix, track_method=track_method)
    params = dict(windowlength=windowlength, p_bound=p_bound, ARdegree=ARdegree, MAdegree=MAdegree, alpha=alpha,
                  fit_frames=fit_frames, n_jobs=n_jobs)  # fmt: skip
    written: list[Path] = []
    data: dict = {}
    items = list(
        iter_analyses(cfg, video, videotype, shuffle, trainingsetindex, False, destfolder, track_method)
    )
    for vid, h5 in tqdm(items, desc=f"filter ({filtertype})", disable=len(items) < 2):
        out, out_df = _filter_file(h5, vid, filtertype, params, save_as_csv)
        written.append(out)
        if return_data:
            data[str(vid)] = out_df if out_df is not None else read_pose_table(out)
    return data if return_data else written


def _filter_file(h5: Path, vid: Path, filtertype: str, params: dict, save_as_csv: bool):
    """Filter one analysis file into ``_filtered.h5``; returns ``(path, table)`` (table None: the file existed)."""
    from posenb.io.predictions import write_predictions  # noqa: PLC0415
    from posenb.post._multi import arrays_to_table, read_pose_table, table_arrays  # noqa: PLC0415

    out = filtered_path(h5)
    if out.exists():
        print(f"{out.name} exists already; skipping {vid.name} (delete it to filter again).")
        return out, None
    df = read_pose_table(h5)
    scorer = df.columns.get_level_values("scorer")[0]
    groups = [(ind, bps, filter_array(arr, filtertype, **params)) for ind, bps, arr in table_arrays(df)]
    out_df = arrays_to_table(scorer, groups, index=df.index)
    write_predictions(out_df, out, save_as_csv=save_as_csv, backup=False)
    print(f"Filtered ({filtertype}) {h5.name} -> {out.name}")
    return out, out_df
