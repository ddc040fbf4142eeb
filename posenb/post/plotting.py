"""Trajectory plots: ``plot_trajectories`` (DeepLabCut's name, folder and file names) and a pure figure builder.

For each video, ``<video folder or destfolder>/plot-poses/<stem>/`` receives four figures, ``<name><sfx><imagetype>``
with ``<sfx>`` = ``""`` or ``"_filtered"`` (multi-animal: four per individual, ``<name><sfx><individual><imagetype>``,
as DeepLabCut names them):

- ``trajectory``: x against y of every body part (image orientation: y axis pointing down);
- ``plot``: x (dashed) and y (solid) against the frame index;
- ``plot-likelihood``: likelihood against the frame index;
- ``hist``: histograms (100 bins) of the frame-to-frame differences of x and y.

Points with likelihood < config ``pcutoff`` are masked; colours come from config ``colormap`` (one per body
part, with a colour bar naming them), transparency from ``alphavalue``. Figures are drawn with matplotlib's
object API on the Agg canvas: no pyplot state, no window, safe in threads and on servers.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["FIGURE_NAMES", "pose_figures", "save_figures", "plot_trajectories"]

FIGURE_NAMES = ("trajectory", "plot", "plot-likelihood", "hist")


def _colorbar(fig, ax, colors: np.ndarray, bodyparts: Sequence[str]) -> None:
    from matplotlib.cm import ScalarMappable  # noqa: PLC0415
    from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: PLC0415

    n = len(bodyparts)
    cmap = ListedColormap(colors)
    sm = ScalarMappable(norm=BoundaryNorm(np.arange(n + 1) - 0.5, n), cmap=cmap)
    cbar = fig.colorbar(sm, ax=ax, ticks=np.arange(n))
    cbar.set_ticklabels(list(bodyparts))


def pose_figures(
    arr: np.ndarray,
    bodyparts: Sequence[str],
    pcutoff: float = 0.6,
    colormap: str = "rainbow",
    alphavalue: float = 0.7,
    linewidth: float = 1.0,
    dotsize: float = 5.0,
    resolution: int = 100,
    title: str = "",
) -> dict:
    """The four figures of :data:`FIGURE_NAMES` for ``arr`` ``(n_frames, n_bodyparts, 3)`` (x, y px, likelihood).

    Returns ``{name: matplotlib.figure.Figure}`` (not attached to pyplot; display them in a notebook or save
    them with :func:`save_figures`).
    """
    from matplotlib.figure import Figure  # noqa: PLC0415

    from posenb.post._common import bodypart_colors

    arr = np.asarray(arr, dtype="float64")
    n = len(arr)
    colors = bodypart_colors(colormap, len(bodyparts))
    frames = np.arange(n)
    keep = arr[:, :, 2] >= pcutoff  # DLC masks p < pcutoff
    xs = np.where(keep, arr[:, :, 0], np.nan)
    ys = np.where(keep, arr[:, :, 1], np.nan)
    figs = {}

    fig = Figure(dpi=resolution)
    ax = fig.add_subplot()
    for j in range(len(bodyparts)):
        ax.plot(xs[:, j], ys[:, j], ".", color=colors[j], alpha=alphavalue, markersize=dotsize)
    ax.invert_yaxis()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("X position in pixels")
    ax.set_ylabel("Y position in pixels")
    ax.set_title(f"{title} trajectories".strip())
    _colorbar(fig, ax, colors, bodyparts)
    figs["trajectory"] = fig

    fig = Figure(dpi=resolution)
    ax = fig.add_subplot()
    for j in range(len(bodyparts)):
        ax.plot(frames, xs[:, j], "--", color=colors[j], alpha=alphavalue, linewidth=linewidth)
        ax.plot(frames, ys[:, j], "-", color=colors[j], alpha=alphavalue, linewidth=linewidth)
    ax.set_xlabel("Frame index")
    ax.set_ylabel("X (dashed) and Y (solid) position in pixels")
    _colorbar(fig, ax, colors, bodyparts)
    figs["plot"] = fig

    fig = Figure(dpi=resolution)
    ax = fig.add_subplot()
    for j in range(len(bodyparts)):
        ax.plot(frames, arr[:, j, 2], "-", color=colors[j], alpha=alphavalue, linewidth=linewidth)
    ax.axhline(pcutoff, color="0.5", linestyle=":", linewidth=linewidth)
    ax.set_xlabel("Frame index")
    ax.set_ylabel("Likelihood")
    ax.set_ylim(-0.05, 1.05)
    _colorbar(fig, ax, colors, bodyparts)
    figs["plot-likelihood"] = fig

    fig = Figure(dpi=resolution)
    ax = fig.add_subplot()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for j in range(len(bodyparts)):
            for series, style in ((xs[:, j], "bar"), (ys[:, j], "step")):
                d = np.diff(series)
                d = d[np.isfinite(d)]
                if d.size:
                    ax.hist(d, bins=100, histtype=style, color=colors[j], alpha=alphavalue)
    ax.set_xlabel("Frame-to-frame change in pixels (x: filled, y: outline)")
    ax.set_ylabel("Count")
    _colorbar(fig, ax, colors, bodyparts)
    figs["hist"] = fig
    return figs


def save_figures(
    figs: dict, folder: str | os.PathLike, suffix: str = "", imagetype: str = ".png"
) -> list[Path]:
    """Save ``{name: Figure}`` as ``<folder>/<name><suffix><imagetype>``; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ext = imagetype if imagetype.startswith(".") else "." + imagetype
    paths = []
    for name, fig in figs.items():
        path = folder / f"{name}{suffix}{ext}"
        fig.savefig(path)
        paths.append(path)
    return paths


def plot_trajectories(
    config,
    videos,
    videotype: str = "",
    shuffle: int = 1,
    trainingsetindex: int = 0,
    filtered: bool = False,
    displayedbodyparts="all",
    displayedindividuals="all",
    showfigures: bool = False,
    destfolder=None,
    modelprefix: str = "",
    imagetype: str = ".png",
    resolution: int = 100,
    linewidth: float = 1.0,
    track_method: str = "",
):
    """Plot the trajectories of analysed videos (DeepLabCut's ``plot_trajectories``).

    Writes ``plot-poses/<stem>/{trajectory,plot,plot-likelihood,hist}[_filtered]<imagetype>`` next to the
    analysis file (in ``destfolder`` when given, where the analysis was written). ``displayedbodyparts``:
    ``"all"`` or a list. Returns ``{video: [paths]}``; with ``showfigures`` returns ``{video: {name: Figure}}``
    instead, for display in a notebook (the files are written in both cases).

    Multi-animal projects (the tracked file, ``track_method`` as DeepLabCut): one set of four figures per
    individual, DeepLabCut's names ``<name><sfx><individual><imagetype>`` (e.g. ``trajectory_filteredmouse1.png``),
    unique parts under ``single``; ``displayedindividuals``: ``"all"`` or a list. ``showfigures`` then returns
    ``{video: {individual: {name: Figure}}}``.
    """
    from posenb.post._common import drawing_params, iter_analyses
    from posenb.post._multi import read_pose_table, warn_ignored
    from posenb.project.config import read_config
    from posenb.project.paths import video_stem

    cfg = read_config(config)
    warn_ignored(
        cfg, modelprefix=modelprefix, track_method=track_method, displayedindividuals=displayedindividuals
    )
    params = drawing_params(cfg)
    suffix = "_filtered" if filtered else ""
    result = {}
    found = iter_analyses(
        cfg, videos, videotype, shuffle, trainingsetindex, filtered, destfolder, track_method
    )
    for video, h5 in found:
        df = read_pose_table(h5)
        folder = h5.parent / "plot-poses" / video_stem(video)
        figs, paths = {}, []
        for ind, bodyparts, arr in _plotted_groups(df, displayedbodyparts, displayedindividuals):
            ind_figs = pose_figures(
                arr,
                bodyparts,
                params["pcutoff"],
                params["colormap"],
                params["alphavalue"],
                linewidth,
                resolution=resolution,
                title=f"{video_stem(video)} {ind}".strip(),
            )
            paths += save_figures(ind_figs, folder, suffix + ind, imagetype)
            if ind:
                figs[ind] = ind_figs
            else:
                figs = ind_figs
        print(f"Plots of {video.name} in {folder}")
        result[str(video)] = figs if showfigures else paths
    return result


def _plotted_groups(df, displayedbodyparts, displayedindividuals) -> list:
    """``[(individual, bodyparts, array)]`` to plot: one group per shown individual holding a shown part."""
    from posenb.post._multi import flat_columns, pose_groups

    points, arr = flat_columns(df, displayedindividuals, displayedbodyparts)
    out = []
    for ind, _ in pose_groups(df):
        cols = [j for j, (i, _) in enumerate(points) if i == ind]
        if cols:
            out.append((ind, [points[j][1] for j in cols], arr[:, cols]))
    return out
