"""``create_labeled_video_3d``: the camera views with their 2D points next to a 3D plot, as an mp4.

Frames are drawn with matplotlib (Agg canvas, no pyplot, no display) and encoded with
:class:`posenb.io.video.VideoWriter`. The videos and 2D files are taken from the triangulation's
``_meta.pickle`` (posenb's ``videos`` / ``data_files`` keys) or, for DeepLabCut's files, found as DLC does
(videos grouped by camera name in ``videofolder``, 2D files ``<video stem><scorer>*[filtered].h5``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from posenb.errors import PosenbError

__all__ = ["create_labeled_video_3d", "axis_limits_3d"]


def axis_limits_3d(xyz: np.ndarray, xlim=None, ylim=None, zlim=None):
    """Default 3D limits as DLC: a cube centred on the 25-75 % percentile box of ``(n, K, 3)`` points, its
    side 1.1 x the largest interquartile range. (DLC scales the coordinates instead of the range, which
    shifts the cube away from the data when it is far from the origin; posenb keeps it centred.)
    Given limits are kept."""
    finite = xyz[np.isfinite(xyz).all(axis=-1)]
    if finite.size == 0:
        q = np.array([[-1.0, 1.0]] * 3)
    else:
        q = np.percentile(finite, q=[25, 75], axis=0).T  # (3, 2)
    half = max(1.1 * (q[:, 1] - q[:, 0]).max() / 2, 1e-6)
    lims = []
    for given, (lo, hi) in zip((xlim, ylim, zlim), q, strict=True):
        mid = (lo + hi) / 2
        lims.append(tuple(given) if given is not None else (mid - half, mid + half))
    return lims


def _triangulated_files(path, scorer_3d: str) -> list[Path]:
    items = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    out = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(p.glob(f"*{scorer_3d}.h5"))
        elif p.is_file() and p.suffix == ".h5":
            out.append(p)
        else:
            raise PosenbError(f"{p} is neither a triangulated .h5 file nor a folder holding some.")
    return out


def _inputs(h5: Path, meta: dict, cams: list[str], scorer_3d: str, videofolder, videotype: str):
    """(videos, 2D data files) of a triangulated file, one per camera."""
    from posenb.io.predictions import find_analyzed_data
    from posenb.threed.triangulation import get_camerawise_videos, output_name_3d

    videos = [Path(meta.get("videos", {}).get(c, "")) for c in cams]
    if not all(v.is_file() for v in videos):
        folder = Path(videofolder) if videofolder is not None else h5.parent
        matches = [
            g
            for g in get_camerawise_videos(folder, cams, videotype)
            if h5.stem == output_name_3d(g[0], cams[0], scorer_3d)
        ]
        if not matches:
            raise PosenbError(
                f"No videos of {cams} found for {h5.name} in {folder}. Pass videofolder= where the videos are."
            )
        videos = matches[0]
    data = [Path(meta.get("data_files", {}).get(c, "")) for c in cams]
    if not all(d.is_file() for d in data):
        data = []
        for cam, v in zip(cams, videos, strict=True):
            scorer = meta.get("scorer_name", {}).get(cam)
            for filtered in (True, False):
                try:
                    data.append(find_analyzed_data(h5.parent, v.stem, filtered=filtered, scorer=scorer))
                    break
                except PosenbError:
                    continue
            else:
                raise PosenbError(f"No 2D predictions of {v.name} (scorer {scorer}) in {h5.parent}.")
    return videos, data


def _synced_frames(readers, start: int, stop: int):
    """Yield ``(k, [frame_cam1, frame_cam2, ...])`` reading all videos sequentially."""
    iters = [r.iter_frames(start, stop, chunk=16) for r in readers]
    for chunks in zip(*iters, strict=False):
        idx0 = chunks[0][0]
        n = min(len(b) for _, b in chunks)
        for j in range(n):
            yield idx0 + j, [b[j] for _, b in chunks]


def _frame_range(h5, available: int, start: int, end: int | None) -> range:
    """The frames to render: ``[start, end)`` within the ``available`` ones; :class:`PosenbError` when empty."""
    stop = available if end is None else min(int(end), available)
    frames = range(max(0, int(start)), stop)
    if len(frames) == 0:
        raise PosenbError(
            f"No frames to render for {h5.name} (start={start}, end={end}, {stop} frames available)."
        )
    return frames


def _points(h5, data_files, pcutoff: float):
    """``(bodyparts, xyz (n, K, 3), [xy (n, K, 2) per camera])``: the 3D points of ``h5`` and each view's 2D
    points (NaN below ``pcutoff``)."""
    from posenb.io.predictions import predictions_to_array, read_predictions
    from posenb.threed.triangulation import read_predictions_3d

    df3d = read_predictions_3d(h5)
    bodyparts = list(dict.fromkeys(df3d.columns.get_level_values("bodyparts")))
    xyz = df3d.to_numpy(dtype=np.float64).reshape(len(df3d), len(bodyparts), 3)
    xy = []
    for d in data_files:
        a = predictions_to_array(read_predictions(d), bodyparts)[: len(df3d)].copy()
        a[~(a[..., 2] >= pcutoff), :2] = np.nan
        xy.append(a[..., :2])
    return bodyparts, xyz, xy


def _figure(cfg, cams, readers, bodyparts, lims, draw_skeleton, figsize, dpi, view) -> dict:
    """The figure (one axes per camera, then the 3D axes) and the artists the render loop updates."""
    from matplotlib import gridspec
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    from posenb.post._common import bodypart_colors
    from posenb.project.project_config import skeleton_indices

    n_cams, n_bp = len(cams), len(bodyparts)
    colors = bodypart_colors(cfg.get("colormap", "jet"), n_bp, "the 3D project's config.yaml")
    links = list(skeleton_indices(bodyparts, cfg.get("skeleton"))) if draw_skeleton else []
    size = cfg.get("dotsize", 15)
    alpha = cfg.get("alphaValue", 0.8)
    skel_color = cfg.get("skeleton_color", "black")

    fig = Figure(figsize=figsize or (20 / 3 * (n_cams + 1), 8), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    grid = gridspec.GridSpec(1, n_cams + 1, figure=fig)
    ims, pts2d, colls2d = [], [], []
    for i, (cam, r) in enumerate(zip(cams, readers, strict=True)):
        ax = fig.add_subplot(grid[0, i])
        ims.append(ax.imshow(np.zeros((r.height, r.width, 3), np.uint8)))
        pts2d.append(ax.scatter(np.zeros(n_bp), np.zeros(n_bp), s=size, alpha=alpha))
        coll = LineCollection(np.zeros((len(links), 2, 2)), colors=skel_color)
        ax.add_collection(coll)
        colls2d.append(coll)
        ax.set_xlim(0, r.width)
        ax.set_ylim(r.height, 0)
        ax.set_title(cam)
        ax.set_axis_off()
    ax3 = fig.add_subplot(grid[0, n_cams], projection="3d")
    ax3.set_xlim3d(lims[0])
    ax3.set_ylim3d(lims[1])
    ax3.set_zlim3d(lims[2])
    ax3.set_box_aspect((1, 1, 1))
    ax3.set_xticklabels([])
    ax3.set_yticklabels([])
    ax3.set_zticklabels([])
    ax3.view_init(view[0], view[1])
    ax3.set_xlabel("X")
    ax3.set_ylabel("Y")
    ax3.set_zlabel("Z")
    pts3d = ax3.scatter(*np.zeros((3, n_bp)), s=size, alpha=alpha)
    coll3d = Line3DCollection(np.zeros((len(links), 2, 3)), colors=skel_color)
    ax3.add_collection(coll3d)
    ia, ib = (np.array(x, dtype=int) for x in (zip(*links, strict=True) if links else ([], [])))

    return {
        "canvas": canvas, "colors": colors, "links": links, "ims": ims, "pts2d": pts2d, "colls2d": colls2d,
        "pts3d": pts3d, "coll3d": coll3d, "ia": ia, "ib": ib,
    }  # fmt: skip


def _render(art: dict, readers, xy, xyz, frames: range, trailpoints: int, out, fps: float) -> None:
    """Draw every frame of ``frames`` into the figure and write it to the video ``out``."""
    from tqdm.auto import tqdm

    from posenb.io.video import VideoWriter

    canvas, colors, links, ims, pts2d = art["canvas"], art["colors"], art["links"], art["ims"], art["pts2d"]
    colls2d, pts3d, coll3d, ia, ib = art["colls2d"], art["pts3d"], art["coll3d"], art["ia"], art["ib"]
    n_cams, n_bp = len(readers), len(colors)
    canvas.draw()
    height, width = np.asarray(canvas.buffer_rgba()).shape[:2]
    trail_colors = None
    with VideoWriter(out, fps, (width, height)) as writer:
        for k, images in tqdm(
            _synced_frames(readers, frames.start, frames.stop), total=len(frames), desc=out.name
        ):
            sl = slice(max(0, k - trailpoints), k + 1)
            n_trail = sl.stop - sl.start
            if trail_colors is None or len(trail_colors) != n_trail * n_bp:
                trail_colors = np.tile(colors, (n_trail, 1))
            for i in range(n_cams):
                ims[i].set_data(images[i])
                pts2d[i].set_offsets(xy[i][sl].reshape(-1, 2))
                pts2d[i].set_color(trail_colors)
                if links:
                    colls2d[i].set_segments(np.stack([xy[i][k, ia], xy[i][k, ib]], axis=1))
            pts3d._offsets3d = tuple(  # matplotlib has no public 3D setter (DLC does the same)
                xyz[sl].reshape(-1, 3).T
            )
            pts3d.set_color(trail_colors)
            if links:
                coll3d.set_segments(np.stack([xyz[k, ia], xyz[k, ib]], axis=1))
            canvas.draw()
            writer.write(np.asarray(canvas.buffer_rgba())[..., :3])


def create_labeled_video_3d(
    config: str | os.PathLike,
    path,
    videofolder: str | os.PathLike | None = None,
    start: int = 0,
    end: int | None = None,
    trailpoints: int = 0,
    videotype: str = "",
    view=(-113, -270),
    xlim=None,
    ylim=None,
    zlim=None,
    draw_skeleton: bool = True,
    color_by: str = "bodypart",
    figsize=None,
    fps: float = 30,
    dpi: int = 100,
) -> list[Path]:
    """Render each camera view with its 2D points and the 3D reconstruction side by side.

    Parameters
    ----------
    config : the 3D project's config.yaml.
    path : a triangulated ``.h5`` file, a folder holding some, or a list of them.
    videofolder : where the videos are, when the triangulation's meta file does not point to them
        (default: the folder of the ``.h5``).
    start, end : frame range (``end`` exclusive, default: all).
    trailpoints : also draw the points of that many previous frames.
    videotype : video extension used when searching ``videofolder``.
    view : (elevation, azimuth) of the 3D axes, degrees.
    xlim, ylim, zlim : 3D axis limits (default: a cube around the 25-75 % percentiles, as DLC).
    draw_skeleton : draw the config's ``skeleton`` in ``skeleton_color``.
    color_by : only ``"bodypart"`` (single animal).
    figsize : figure size in inches (default ``(6.67 * (n_cameras + 1), 8)``, DLC's 20x8 for 2 cameras).
    fps : frame rate of the output video.
    dpi : resolution of the figure (DLC uses 300; 100 keeps videos small).

    A 2D point is drawn when its likelihood >= ``pcutoff``; a 3D point when it was triangulated (not NaN).
    Writes ``<h5 stem>.mp4`` next to each ``.h5`` (an existing video is kept) and returns the video paths.
    """
    from posenb.io.video import open_video
    from posenb.threed._pickle import read_pickle
    from posenb.threed.config import read_config_3d

    if color_by != "bodypart":
        raise ValueError(f"color_by={color_by!r}: only 'bodypart' is supported (single-animal projects).")
    cfg = read_config_3d(config)
    cams = cfg["camera_names"]
    pcutoff = float(cfg["pcutoff"])
    scorer_3d = str(cfg["scorername_3d"])
    files = _triangulated_files(path, scorer_3d)
    if not files:
        raise PosenbError(f"No triangulated files (*{scorer_3d}.h5) in {path}. Run triangulate() first.")
    outputs = []
    for h5 in files:
        out = h5.with_suffix(".mp4")
        if out.is_file():
            print(f"{out.name} already exists; delete it to render it again.")
            outputs.append(out)
            continue
        meta_file = h5.with_name(h5.stem + "_meta.pickle")
        meta = read_pickle(meta_file) if meta_file.is_file() else {}
        videos, data_files = _inputs(h5, meta, cams, scorer_3d, videofolder, videotype)

        bodyparts, xyz, xy = _points(h5, data_files, pcutoff)
        readers = [open_video(v) for v in videos]
        try:
            available = min([len(xyz)] + [r.n_frames for r in readers] + [len(a) for a in xy])
            frames = _frame_range(h5, available, start, end)
            lims = axis_limits_3d(xyz[frames.start : frames.stop], xlim, ylim, zlim)

            art = _figure(cfg, cams, readers, bodyparts, lims, draw_skeleton, figsize, dpi, view)
            _render(art, readers, xy, xyz, frames, int(trailpoints), out, fps)
        finally:
            for r in readers:
                r.close()
        print(f"Wrote {out}")
        outputs.append(out)
    return outputs
