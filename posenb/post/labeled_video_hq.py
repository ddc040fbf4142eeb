"""High-quality labeled-video frames (``fastmode=False`` or ``save_frames=True``): matplotlib rendering.

One reused figure on the Agg canvas draws each frame (anti-aliased markers, ``dotsize**2`` scatter sizes,
trail alpha x0.75); frames can be kept as ``temp-<stem>/file<idx>.png``. Called by
:func:`posenb.post.labeled_video.create_labeled_video`.
"""

from __future__ import annotations

import math

import numpy as np

from posenb.post.video_chunks import pose_chunks

__all__ = ["render_matplotlib"]


def render_matplotlib(
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
    frames_dir,
):
    """High-quality mode: one reused matplotlib figure, frames rendered on the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    x1, x2, y1, y2 = crop
    w, h = x2 - x1, y2 - y1
    fig = Figure(figsize=(w / 100, h / 100), dpi=100, frameon=False)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_axis_off()
    image = ax.imshow(np.zeros((h, w, 3), np.uint8), interpolation="nearest")
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    size = params["dotsize"] ** 2
    rgb = colors / 255.0
    trail_sc = ax.scatter([], [], s=size, alpha=0.75 * params["alphavalue"], edgecolors="none")
    points = ax.scatter([], [], s=size, alpha=params["alphavalue"], edgecolors="none")
    lines = [ax.plot([], [], color=np.asarray(bone_color) / 255.0, linewidth=1)[0] for _ in bones]
    n_total = reader.n_frames
    width = max(1, int(math.ceil(math.log10(n_total)))) if n_total > 1 else 1
    for idx, chunk, poses, trail in pose_chunks(reader, arr, indices, crop, trailpoints, keypoints_only, 16):
        for j, i in enumerate(idx):
            frame, pose = chunk[j], poses[j]
            if params.get("labels"):
                from posenb.post.individuals_drawing import draw_identity_labels  # noqa: PLC0415

                draw_identity_labels(
                    frame[None], pose[None], *params["labels"], params["pcutoff"], params["dotsize"]
                )
            image.set_data(frame)
            vis = pose[:, 2] > params["pcutoff"]
            points.set_offsets(pose[vis, :2] if vis.any() else np.empty((0, 2)))
            points.set_color(rgb[vis])
            if trail is not None:
                past = trail[:, j].reshape(-1, 3)
                pcol = np.tile(rgb, (trailpoints, 1))
                pv = past[:, 2] > params["pcutoff"]
                trail_sc.set_offsets(past[pv, :2] if pv.any() else np.empty((0, 2)))
                trail_sc.set_color(pcol[pv])
            for line, (a, b) in zip(lines, bones):
                if vis[a] and vis[b]:
                    line.set_data([pose[a, 0], pose[b, 0]], [pose[a, 1], pose[b, 1]])
                else:
                    line.set_data([], [])
            canvas.draw()
            rendered = np.asarray(canvas.buffer_rgba())[:h, :w, :3]
            if frames_dir is not None:
                fig.savefig(frames_dir / f"file{int(i):0{width}d}.png", dpi=100)
            writer.write(np.ascontiguousarray(rendered))
            pbar.update(1)
