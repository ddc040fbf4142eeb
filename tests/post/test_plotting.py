"""plot_trajectories: DLC's folder and file names, pcutoff masking, body-part selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posenb.errors import ConfigError
from posenb.io.predictions import array_to_predictions, write_predictions
from posenb.post.plotting import FIGURE_NAMES, plot_trajectories, pose_figures
from posenb.project.config import read_config
from posenb.project.paths import get_scorer_name


def poses(n: int = 60) -> np.ndarray:
    t = np.arange(n)
    arr = np.zeros((n, 4, 3))
    for j in range(4):
        arr[:, j, 0] = 40 + 10 * j + 5 * np.sin(t / 7)
        arr[:, j, 1] = 30 + 5 * np.cos(t / 9)
    arr[:, :, 2] = 0.9
    arr[10:20, 1, 2] = 0.1
    return arr


def test_pose_figures_mask_low_likelihood():
    arr = poses()
    figs = pose_figures(arr, ["a", "b", "c", "d"], pcutoff=0.5, colormap="viridis")
    assert set(figs) == set(FIGURE_NAMES)
    ax = figs["trajectory"].axes[0]
    xdata = ax.lines[1].get_xdata()  # body part "b"
    assert np.isnan(xdata[10:20]).all() and np.isfinite(xdata[:10]).all()
    assert ax.yaxis_inverted()
    y = figs["plot-likelihood"].axes[0].lines[1].get_ydata()
    np.testing.assert_allclose(y, arr[:, 1, 2])


def test_plot_trajectories_writes_the_four_figures(demo_project):
    cfg = read_config(demo_project)
    video = Path(cfg["project_path"]) / "videos" / "demo_mouse.mp4"
    scorer = get_scorer_name(cfg, 1, 0.8, "resnet_50", 1000)
    h5 = video.with_name(f"demo_mouse{scorer}.h5")
    write_predictions(array_to_predictions(poses(), scorer, cfg["bodyparts"]), h5)
    out = plot_trajectories(demo_project, [str(video)])
    folder = video.parent / "plot-poses" / "demo_mouse"
    assert sorted(p.name for p in out[str(video)]) == sorted(f"{n}.png" for n in FIGURE_NAMES)
    assert all((folder / f"{n}.png").stat().st_size > 1000 for n in FIGURE_NAMES)
    write_predictions(
        array_to_predictions(poses(), scorer, cfg["bodyparts"]), h5.with_name(h5.stem + "_filtered.h5")
    )
    plot_trajectories(
        demo_project, [str(video)], filtered=True, displayedbodyparts=["snout", "tailbase"], imagetype=".svg"
    )
    assert all((folder / f"{n}_filtered.svg").exists() for n in FIGURE_NAMES)
    figs = plot_trajectories(demo_project, [str(video)], showfigures=True)[str(video)]
    assert set(figs) == set(FIGURE_NAMES)
    with pytest.raises(ConfigError, match="nose"):
        plot_trajectories(demo_project, [str(video)], displayedbodyparts=["nose"])
