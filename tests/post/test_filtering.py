"""filterpredictions and the array filters: outliers removed, edges kept, files written, originals untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from scipy import signal

from posenb.errors import ConfigError, LabelError
from posenb.io.predictions import (
    array_to_predictions,
    predictions_to_array,
    read_predictions,
    write_predictions,
)
from posenb.post.filtering import FILTERS, filter_array, filterpredictions, fit_sarimax, register_filter
from posenb.project.config import read_config
from posenb.project.paths import get_scorer_name


def smooth_poses(n: int = 200, k: int = 3, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """``(n, k, 3)``: slow sinusoids (pixels), likelihood 0.9."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    arr = np.zeros((n, k, 3))
    for j in range(k):
        arr[:, j, 0] = 100 + 20 * j + 30 * np.sin(t / 25 + j)
        arr[:, j, 1] = 80 + 25 * np.cos(t / 30 + j)
    arr[:, :, :2] += rng.normal(0, noise, (n, k, 2)) if noise else 0
    arr[:, :, 2] = 0.9
    return arr


def write_analysis(config: str, arr: np.ndarray, shuffle: int = 1) -> tuple[Path, Path]:
    """Synthetic predictions for the demo video, named as analyze_videos names them."""
    cfg = read_config(config)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = get_scorer_name(cfg, shuffle, cfg["TrainingFraction"][0], "resnet_50", 1000)
    h5 = video.with_name(video.stem + scorer + ".h5")
    write_predictions(array_to_predictions(arr, scorer, cfg["bodyparts"]), h5)
    return video, h5


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_median_removes_injected_outliers():
    clean = smooth_poses(noise=0.0)
    noisy = clean.copy()
    frames = [30, 80, 150]
    noisy[frames, 1, 0] += 60
    noisy[frames, 2, 1] -= 45
    out = filter_array(noisy, "median", windowlength=5)
    assert np.abs(out[:, :, :2] - clean[:, :, :2]).max() < 2.0  # curvature of the sinusoids only
    np.testing.assert_array_equal(out[:, :, 2], noisy[:, :, 2])  # likelihood untouched
    np.testing.assert_array_equal(noisy[frames, 1, 0], clean[frames, 1, 0] + 60)  # input not modified


def test_median_edges_repeat_the_end_value_unlike_medfilt():
    # a decreasing ramp passes a running median unchanged, ends included: medfilt's zero padding pulls the
    # first frames down, posenb's edge handling does not.
    arr = np.zeros((20, 1, 3))
    arr[:, 0, 0] = 300 - 5 * np.arange(20)
    arr[:, 0, 1] = 50 + 2 * np.arange(20)
    arr[:, 0, 2] = 1
    out = filter_array(arr, "median", windowlength=5)
    np.testing.assert_allclose(out, arr)
    assert signal.medfilt(arr[:, 0, 0], 5)[0] != arr[0, 0, 0]  # what DeepLabCut does at the ends


def test_median_with_nan_and_bad_window():
    arr = smooth_poses(60, 1)
    arr[10, 0, 0] = np.nan
    out = filter_array(arr, "median", windowlength=3)
    assert np.isfinite(out[:, 0, :2]).all()
    assert out[10, 0, 0] == pytest.approx(
        np.mean(arr[[9, 11], 0, 0]), abs=1e-9
    )  # nanmedian of the 2 neighbours
    with pytest.raises(ConfigError, match="odd"):
        filter_array(arr, "median", windowlength=4)


def test_arima_tracks_a_smooth_signal_and_ignores_uncertain_points():
    clean = smooth_poses(200, 1)
    noisy = smooth_poses(200, 1, noise=0.3, seed=1)
    noisy[120, 0, :2] += 150  # a wild point ...
    noisy[120, 0, 2] = 0.0  # ... that the network was unsure of: treated as missing data
    out = filter_array(noisy, "arima", p_bound=0.01, ARdegree=2, MAdegree=0)
    err = np.abs(out[5:, 0, :2] - clean[5:, 0, :2])
    assert np.median(err) < 1.0 and err.max() < 6.0
    assert abs(out[121, 0, 0] - clean[121, 0, 0]) < 3.0  # the missing point did not pull the prediction
    np.testing.assert_array_equal(out[0, 0, :2], noisy[0, 0, :2])  # frame 0 keeps the raw value (DLC)
    np.testing.assert_array_equal(out[:, 0, 2], noisy[:, 0, 2])
    # DLC's default orders, through the one-series function
    pred = fit_sarimax(noisy[:, 0, 0], noisy[:, 0, 2], p_bound=0.01, ARdegree=3, MAdegree=1)
    assert np.median(np.abs(pred[5:] - clean[5:, 0, 0])) < 1.0


def test_arima_needs_more_than_ten_valid_samples():
    arr = smooth_poses(40, 1)
    arr[10:, 0, 2] = 0.0  # only 10 samples above p_bound
    out = filter_array(arr, "arima", p_bound=0.5)
    assert np.isnan(out[1:, 0, :2]).all()


def test_spline_fills_short_gaps_only():
    clean = smooth_poses(200, 2)
    arr = clean.copy()
    arr[50:53, 0, :2] = np.nan  # short gap (3 frames)
    arr[100:120, 0, :2] = np.nan  # long gap (20 frames)
    arr[0:2, 1, :2] = np.nan  # leading gap: never extrapolated
    arr[70, 1, 2] = 0.0001  # below p_bound: missing too
    out = filter_array(arr, "spline", windowlength=5, p_bound=0.001)
    np.testing.assert_allclose(out[50:53, 0, :2], clean[50:53, 0, :2], atol=0.05)
    np.testing.assert_allclose(out[50:53, 0, 2], 0.01)
    assert np.isnan(out[100:120, 0, :2]).all() and np.isnan(out[0:2, 1, :2]).all()
    np.testing.assert_allclose(out[70, 1, :2], clean[70, 1, :2], atol=0.05)
    assert out[70, 1, 2] == 0.01
    valid = np.isfinite(arr[:, :, 0]) & (arr[:, :, 2] >= 0.001)
    np.testing.assert_array_equal(out[valid], arr[valid])


def test_registry_unknown_and_custom_filters():
    arr = smooth_poses(20, 1)
    with pytest.raises(ConfigError, match="median"):
        filter_array(arr, "kalman")
    try:
        register_filter("shift")(lambda a, **_: a + np.array([1.0, 0.0, 0.0]))
        np.testing.assert_allclose(filter_array(arr, "shift")[:, :, 0], arr[:, :, 0] + 1)
    finally:
        FILTERS.pop("shift", None)


def test_filterpredictions_writes_filtered_file_and_keeps_original(demo_project):
    arr = smooth_poses(60, 4)
    arr[[10, 33], 0, 0] += 70
    video, h5 = write_analysis(demo_project, arr)
    before = sha(h5)
    out = filterpredictions(demo_project, [str(video)], filtertype="median", windowlength=5)
    filtered = h5.with_name(h5.stem + "_filtered.h5")
    assert out == [filtered] and filtered.exists() and filtered.with_suffix(".csv").exists()
    assert sha(h5) == before
    df = read_predictions(filtered)
    assert df.columns.equals(read_predictions(h5).columns)
    np.testing.assert_allclose(predictions_to_array(df), filter_array(arr, "median", windowlength=5))
    assert np.abs(predictions_to_array(df)[[10, 33], 0, 0] - arr[[10, 33], 0, 0]).min() > 60  # outliers gone
    # an existing filtered file is kept (DLC skips the video)
    mtime = filtered.stat().st_mtime_ns
    filterpredictions(demo_project, [str(video)], filtertype="spline")
    assert filtered.stat().st_mtime_ns == mtime


def test_filterpredictions_destfolder_and_missing_analysis(demo_project, tmp_path):
    cfg = read_config(demo_project)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    with pytest.raises(LabelError, match="analyze_videos"):
        filterpredictions(demo_project, [str(video)])
    dest = tmp_path / "analysis"
    dest.mkdir()
    scorer = get_scorer_name(cfg, 2, 0.8, "resnet_50", 500)
    write_predictions(
        array_to_predictions(smooth_poses(60, 4), scorer, cfg["bodyparts"]), dest / f"demo_mouse{scorer}.h5"
    )
    with pytest.raises(LabelError, match="shuffle"):
        filterpredictions(demo_project, [str(video)], shuffle=1, destfolder=str(dest))
    out = filterpredictions(demo_project, [str(video)], shuffle=2, destfolder=str(dest), save_as_csv=False)
    assert out[0].parent == dest and out[0].name.endswith("_filtered.h5")
    assert not out[0].with_suffix(".csv").exists()
