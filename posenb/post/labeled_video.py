"""Labeled videos: ``create_labeled_video`` (DeepLabCut's name, arguments and file names) and pure drawing functions.

Fast mode (default) draws on the decoded frames as numpy arrays, a chunk of frames at a time: every visible
point of the chunk becomes a filled disk from pre-computed pixel offsets, alpha-blended in one fancy-indexing
operation; skeleton segments are sampled into pixels the same way. There is no Python loop over pixels, points
or frames. The :mod:`posenb.io.video` reader decodes the next chunk in a background thread while the frames are
drawn and the H.264 encoder (:class:`posenb.io.video.VideoWriter`, an ffmpeg process) compresses the previous
one, so both cores work in parallel; see benchmarks/RESULTS.md ("Post-processing") for frames/s. High-quality mode (``fastmode=False`` or ``save_frames=True``) draws each frame with matplotlib
(anti-aliased markers) and can keep the frames as PNG files (``temp-<stem>/file<idx>.png``).

Drawing parameters come from config.yaml (``pcutoff``, ``dotsize``, ``alphavalue``, ``colormap``,
``skeleton``, ``skeleton_color``); an explicit argument overrides the config value (as in DLC 3.0). A point
is drawn when its likelihood > pcutoff, a bone when both ends are. Output: ``<analysis h5 stem>_labeled.mp4``
next to the analysis file. For a cropped analysis (``_meta.pickle``) the crop offset x1, y1 is added back and
the full frame is shown, unless ``displaycropped=True`` (then the video shows only the crop).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posenb.post.labeled_video_hq import render_matplotlib
from posenb.post.video_chunks import pose_chunks

__all__ = [
    "disk_offsets",
    "draw_points",
    "draw_segments",
    "draw_poses",
    "labeled_video_path",
    "create_labeled_video",
]


# ------------------------------------------------------------------------------------------- pure drawing
def disk_offsets(radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer pixel offsets ``(dy, dx)`` of a filled disk of ``radius`` pixels around (0, 0)."""
    r = max(float(radius), 0.5)
    R = int(math.ceil(r))
    dy, dx = np.mgrid[-R : R + 1, -R : R + 1]
    inside = dy * dy + dx * dx <= r * r
    return dy[inside].astype(np.intp), dx[inside].astype(np.intp)


def _blend(frames: np.ndarray, f, y, x, colors: np.ndarray, alpha: float) -> None:
    """frames[f, y, x] = (1 - alpha) * frames + alpha * colors, for flat index arrays (in place)."""
    if alpha >= 1.0:
        frames[f, y, x] = colors
        return
    old = frames[f, y, x].astype(np.float32)
    frames[f, y, x] = (old * (1.0 - alpha) + colors.astype(np.float32) * alpha + 0.5).astype(np.uint8)


def draw_points(
    frames: np.ndarray,
    xy: np.ndarray,
    visible: np.ndarray,
    colors: np.ndarray,
    radius: float = 5.0,
    alpha: float = 1.0,
    offsets: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Draw filled disks in place.

    frames : ``(n, H, W, 3) uint8``.
    xy : ``(n, K, 2)`` float pixel coordinates (x, y) of K points per frame.
    visible : ``(n, K)`` bool, which points to draw.
    colors : ``(K, 3) uint8`` RGB per point.
    Pixels outside the frame are clipped. Returns ``frames``.
    """
    n, h, w = frames.shape[:3]
    dy, dx = offsets if offsets is not None else disk_offsets(radius)
    ok = visible & np.isfinite(xy).all(axis=-1)
    f, k = np.nonzero(ok)
    if f.size == 0:
        return frames
    cx = np.rint(xy[f, k, 0]).astype(np.intp)
    cy = np.rint(xy[f, k, 1]).astype(np.intp)
    X = (cx[:, None] + dx[None, :]).ravel()
    Y = (cy[:, None] + dy[None, :]).ravel()
    F = np.repeat(f, dx.size)
    C = np.repeat(k, dx.size)
    inside = (X >= 0) & (X < w) & (Y >= 0) & (Y < h)
    _blend(frames, F[inside], Y[inside], X[inside], np.asarray(colors, np.uint8)[C[inside]], alpha)
    return frames


def draw_segments(
    frames: np.ndarray,
    p1: np.ndarray,
    p2: np.ndarray,
    visible: np.ndarray,
    color: np.ndarray,
    alpha: float = 1.0,
) -> np.ndarray:
    """Draw 1-pixel line segments in place.

    frames : ``(n, H, W, 3) uint8``; p1, p2 : ``(n, B, 2)`` float end points (x, y); visible : ``(n, B)``
    bool; color : ``(3,) uint8``. Each segment is sampled at one point per pixel of its longer axis.
    """
    n, h, w = frames.shape[:3]
    ok = visible & np.isfinite(p1).all(-1) & np.isfinite(p2).all(-1)
    f, b = np.nonzero(ok)
    if f.size == 0:
        return frames
    a, c = p1[f, b], p2[f, b]  # (m, 2)
    steps = int(np.ceil(np.abs(c - a).max())) + 1
    steps = min(steps, 2 * (h + w))
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    pts = np.rint(a[:, None, :] + t * (c - a)[:, None, :]).astype(np.intp)  # (m, S, 2)
    X, Y = pts[..., 0].ravel(), pts[..., 1].ravel()
    F = np.repeat(f, steps)
    inside = (X >= 0) & (X < w) & (Y >= 0) & (Y < h)
    cols = np.broadcast_to(np.asarray(color, np.uint8), (int(inside.sum()), 3))
    _blend(frames, F[inside], Y[inside], X[inside], cols, alpha)
    return frames


def draw_poses(
    frames: np.ndarray,
    poses: np.ndarray,
    colors: np.ndarray,
    pcutoff: float = 0.6,
    radius: float = 5.0,
    alpha: float = 0.7,
    bones: Sequence[tuple[int, int]] = (),
    bone_color=(0, 0, 0),
    trail: np.ndarray | None = None,
    offsets=None,
) -> np.ndarray:
    """Draw poses on a chunk of frames, in place (the fast mode's drawing; panels may call it too).

    frames : ``(n, H, W, 3) uint8`` RGB.
    poses : ``(n, K, 3)`` x, y (pixels in these frames), likelihood.
    colors : ``(K, 3) uint8``; bones : index pairs into K; bone_color : RGB uint8.
    trail : optional ``(T, n, K, 3)`` poses of the T previous frames of each frame (drawn under the points
    with 0.75 alpha, DLC's trail alpha in high-quality mode).
    """
    poses = np.asarray(poses, dtype="float64")
    visible = poses[..., 2] > pcutoff
    if len(bones):
        i1 = np.array([b[0] for b in bones], dtype=np.intp)
        i2 = np.array([b[1] for b in bones], dtype=np.intp)
        draw_segments(
            frames,
            poses[:, i1, :2],
            poses[:, i2, :2],
            visible[:, i1] & visible[:, i2],
            np.asarray(bone_color, np.uint8),
        )
    if trail is not None:
        for past in trail:
            draw_points(frames, past[..., :2], past[..., 2] > pcutoff, colors, radius, 0.75 * alpha, offsets)
    draw_points(frames, poses[..., :2], visible, colors, radius, alpha, offsets)
    return frames


# ------------------------------------------------------------------------------------------------ helpers
def labeled_video_path(h5: str | os.PathLike, color_by: str | None = None) -> Path:
    """``<analysis stem>_labeled.mp4`` next to the analysis file (DLC: ``.h5`` -> ``_labeled.mp4``).

    ``color_by`` is given for multi-animal (tracked) files only: DLC inserts ``_id`` (``"individual"``) or
    ``_bp`` (``"bodypart"``) before ``_labeled``: ``<stem><DLCscorer>_el_id_labeled.mp4``.
    """
    h5 = Path(h5)
    tag = {"individual": "_id", "bodypart": "_bp"}.get(color_by or "", "")
    return h5.with_name(h5.stem + tag + "_labeled.mp4")


# -------------------------------------------------------------------------------------------- video making
def _render_fast(
    reader,
    writer,
    arr,
    indices,
    crop,
    colors,
    params,
    bones,
    bone_color,
    trailpoints,
    keypoints_only,
    pbar,
    chunk=32,
):
    """Fast mode: :func:`draw_poses` on each chunk of frames (numpy), then the encoder."""
    offsets = disk_offsets(params["dotsize"])
    for _, frames, poses, trail in pose_chunks(
        reader, arr, indices, crop, trailpoints, keypoints_only, chunk
    ):
        draw_poses(
            frames, poses, colors, params["pcutoff"], params["dotsize"], params["alphavalue"], bones, bone_color,
            trail, offsets,
        )  # fmt: skip
        if params.get("labels"):
            from posenb.post.individuals_drawing import draw_identity_labels  # noqa: PLC0415

            draw_identity_labels(frames, poses, *params["labels"], params["pcutoff"], params["dotsize"])
        writer.write(frames)
        pbar.update(len(frames))


def create_labeled_video(
    config, videos, videotype: str = "", shuffle: int = 1, trainingsetindex: int = 0, filtered: bool = False,
    fastmode: bool = True, save_frames: bool = False, keypoints_only: bool = False, Frames2plot=None,
    displayedbodyparts="all", displayedindividuals="all", codec: str = "mp4v", outputframerate=None,
    destfolder=None, draw_skeleton: bool = False, trailpoints: int = 0, displaycropped: bool = False,
    color_by: str = "bodypart", modelprefix: str = "", init_weights: str = "", track_method: str = "",
    superanimal_name: str = "", pcutoff=None, skeleton=None, skeleton_color=None, dotsize=None, colormap=None,
    alphavalue=None, overwrite: bool = False, confidence_to_alpha: bool = False, preset: str = "ultrafast",
    individual_labels: bool = False,
):  # fmt: skip
    """Draw the predictions onto the videos (DeepLabCut's ``create_labeled_video``).

    Parameters (DLC's; the main ones)
    ----------
    config : config.yaml path. videos, videotype : videos and/or folders.
    shuffle, trainingsetindex : which model's analysis. filtered : use the ``_filtered`` predictions.
    fastmode : numpy drawing (fast); False -> matplotlib rendering. save_frames : keep PNG frames in
        ``temp-<stem>/`` (implies the matplotlib path). Frames2plot : frame indices to draw (default: all).
    displayedbodyparts : ``"all"`` or a list. draw_skeleton : draw config ``skeleton`` (or ``skeleton=``).
    trailpoints : also draw the positions of that many previous frames.
    displaycropped : for a cropped analysis, show only the crop instead of the full frame.
    outputframerate : fps of the output (default: the video's). codec : accepted for compatibility; the
        output is always H.264 mp4 (plays in browsers and notebooks). preset : x264 speed/size trade-off
        (default ``"ultrafast"``: the cheapest encoder, ~3 ms/frame at 640x480; ``"veryfast"`` makes files
        ~3x smaller for ~2x the encoding time).
    pcutoff, dotsize, colormap, alphavalue, skeleton_color, skeleton : override config.yaml.
    overwrite : replace an existing labeled video (otherwise it is skipped).

    Multi-animal projects draw the tracked file (``track_method`` as DeepLabCut: ``<stem><DLCscorer>_el.h5``):
    every individual (``displayedindividuals``: ``"all"`` or a list; unique parts under ``single``),
    ``color_by="individual"`` (one colour per animal) or ``"bodypart"`` (one per part, DLC's default), the
    skeleton within each animal (never across), and with ``individual_labels=True`` each animal's name next to
    it. Output ``<stem><DLCscorer>_el_id_labeled.mp4`` (``_bp_`` when coloured by body part), DLC's names.

    Returns the list of labeled video paths (existing ones included).
    """
    from posenb.post._common import drawing_params, iter_analyses  # noqa: PLC0415
    from posenb.post._multi import warn_ignored  # noqa: PLC0415
    from posenb.project.config import read_config  # noqa: PLC0415

    cfg = read_config(config)
    multi = bool(cfg.get("multianimalproject"))
    warn_ignored(
        cfg, modelprefix=modelprefix, track_method=track_method, superanimal_name=superanimal_name,
        init_weights=init_weights, confidence_to_alpha=confidence_to_alpha, displayedindividuals=displayedindividuals,
        color_by=color_by if color_by != "bodypart" and not multi else "", individual_labels=individual_labels and not multi,
    )  # fmt: skip
    params = drawing_params(
        cfg,
        pcutoff=pcutoff,
        dotsize=dotsize,
        alphavalue=alphavalue,
        colormap=colormap,
        skeleton_color=skeleton_color,
        skeleton=[list(p) for p in skeleton] if skeleton else None,
    )
    options = {
        "displayedbodyparts": displayedbodyparts, "displayedindividuals": displayedindividuals,
        "color_by": color_by if multi else "bodypart", "draw_skeleton": draw_skeleton,
        "individual_labels": individual_labels and multi, "displaycropped": displaycropped,
        "Frames2plot": Frames2plot, "outputframerate": outputframerate, "save_frames": save_frames,
        "slow": save_frames or not fastmode, "trailpoints": int(trailpoints), "keypoints_only": keypoints_only,
        "preset": preset,
    }  # fmt: skip
    outputs = []
    found = iter_analyses(
        cfg, videos, videotype, shuffle, trainingsetindex, filtered, destfolder, track_method
    )
    for video, h5 in found:
        out = labeled_video_path(h5, color_by if multi else None)
        if out.exists() and not overwrite:
            print(f"{out.name} exists; skipping (overwrite=True to redo it).")
        else:
            _label_one_video(cfg, video, h5, out, params, options)
            print(f"Labeled video: {out}")
        outputs.append(out)
    return outputs


def _frames_to_draw(reader, Frames2plot) -> np.ndarray | None:  # noqa: N803 - DLC's name
    """Sorted frame indices of ``Frames2plot`` inside the video (None: every frame)."""
    if Frames2plot is None:
        return None
    return np.array(sorted({int(i) for i in Frames2plot if 0 <= int(i) < reader.n_frames}), dtype=np.intp)


def _place_poses(cfg: dict, h5: Path, arr: np.ndarray, reader, displaycropped: bool):
    """``(poses in the drawn frames' pixels, crop (x1, x2, y1, y2))``: a cropped analysis gets its crop offset back
    (full frame), or with ``displaycropped`` the frames are cropped instead. Tracked (multi-animal) files already
    hold full-frame pixels."""
    from posenb.io.predictions import read_meta  # noqa: PLC0415
    from posenb.post._common import crop_offset  # noqa: PLC0415

    multi = bool(cfg.get("multianimalproject"))
    meta = {} if multi else read_meta(h5)
    ox, oy = (0.0, 0.0) if multi else crop_offset(meta, h5, cfg)
    crop = (0, reader.width, 0, reader.height)
    if displaycropped and (ox or oy or meta.get("cropping")):
        cx1, cx2, cy1, cy2 = (int(v) for v in meta["cropping_parameters"])
        return arr, (max(cx1, 0), min(cx2, reader.width), max(cy1, 0), min(cy2, reader.height))
    arr = arr.copy()
    arr[..., 0] += ox
    arr[..., 1] += oy
    return arr, crop


def _label_one_video(cfg: dict, video: Path, h5: Path, out: Path, params: dict, options: dict) -> None:
    """Draw the predictions of ``h5`` on ``video`` into ``out`` (fast or matplotlib renderer)."""
    from tqdm.auto import tqdm  # noqa: PLC0415

    from posenb.io.video import VideoWriter, open_video  # noqa: PLC0415
    from posenb.post._common import color_to_rgb  # noqa: PLC0415
    from posenb.post._multi import read_pose_table  # noqa: PLC0415
    from posenb.post.individuals_drawing import what_to_draw  # noqa: PLC0415
    from posenb.project.paths import video_stem  # noqa: PLC0415

    arr, colors, bones, labels = what_to_draw(
        read_pose_table(h5), params, options["displayedbodyparts"], options["displayedindividuals"],
        options["color_by"], options["draw_skeleton"], options["individual_labels"],
    )  # fmt: skip
    params["labels"] = labels
    reader = open_video(video)
    try:
        arr, crop = _place_poses(cfg, h5, arr, reader, options["displaycropped"])
        bone_color = np.rint(color_to_rgb(params["skeleton_color"]) * 255).astype(np.uint8)
        indices = _frames_to_draw(reader, options["Frames2plot"])
        n_out = reader.n_frames if indices is None else len(indices)
        fps = float(options["outputframerate"]) if options["outputframerate"] else reader.fps
        size = (crop[1] - crop[0], crop[3] - crop[2])
        frames_dir = None
        if options["save_frames"]:
            frames_dir = h5.parent / f"temp-{video_stem(video)}"
            frames_dir.mkdir(parents=True, exist_ok=True)
        with (
            VideoWriter(out, fps, size, preset=options["preset"]) as writer,
            tqdm(total=n_out, desc=f"labeled video {video.name}", unit="frame") as pbar,
        ):
            render = render_matplotlib if options["slow"] else _render_fast
            extra = (frames_dir,) if options["slow"] else ()
            render(
                reader, writer, arr, indices, crop, colors, params, bones, bone_color, options["trailpoints"],
                options["keypoints_only"], pbar, *extra,
            )  # fmt: skip
    finally:
        reader.close()
