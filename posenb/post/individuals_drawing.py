"""Drawing several animals: colours by individual or body part, a skeleton per animal, identity labels.

Pure functions on the flat point list of :func:`posenb.post._multi.flat_columns` (``points`` =
``[(individual, bodypart)]``, poses ``(n_frames, n_points, 3)``), used by ``create_labeled_video`` and the
outlier-frame drawings. A single-animal table has individual ``""`` everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from posenb.errors import ConfigError

__all__ = ["COLOR_BY", "point_colors", "animal_bones", "label_groups", "draw_identity_labels", "what_to_draw"]

COLOR_BY = ("bodypart", "individual")


def point_colors(points: Sequence[tuple[str, str]], colormap: str, color_by: str = "bodypart") -> np.ndarray:
    """``(n_points, 3) uint8`` RGB: one colour per body part name, or per individual (DLC's ``color_by``).

    Colours are sampled evenly from ``colormap`` over the distinct body parts (or individuals, ``single``
    included) in the order of ``points``, as DeepLabCut does.
    """
    from posenb.post._common import bodypart_colors  # noqa: PLC0415

    if color_by not in COLOR_BY:
        raise ConfigError(f"color_by must be one of {list(COLOR_BY)}, got {color_by!r}.")
    key = 0 if color_by == "individual" else 1
    names = list(dict.fromkeys(p[key] for p in points))
    table = np.rint(bodypart_colors(colormap, len(names)) * 255).astype(np.uint8)
    return table[[names.index(p[key]) for p in points]].reshape(len(points), 3)


def animal_bones(
    points: Sequence[tuple[str, str]], skeleton: Sequence[Sequence[str]]
) -> list[tuple[int, int]]:
    """Index pairs into ``points``: every bone of ``skeleton`` within each individual (never across animals).

    ``points``: ``(individual, body part)`` pairs; the unique parts form their own group. Entries of ``skeleton``
    that are not pairs, or name a part an individual lacks, give no bone for it.
    """
    pos = {p: i for i, p in enumerate(points)}
    individuals = list(dict.fromkeys(ind for ind, _ in points))
    return [
        (pos[(ind, bone[0])], pos[(ind, bone[1])])
        for ind in individuals
        for bone in skeleton
        if len(bone) == 2 and (ind, bone[0]) in pos and (ind, bone[1]) in pos
    ]


def label_groups(points: Sequence[tuple[str, str]]) -> tuple[list[str], list[np.ndarray]]:
    """``(individual names, [point indices of each])`` in the order of ``points``."""
    names = list(dict.fromkeys(ind for ind, _ in points))
    return names, [np.array([i for i, p in enumerate(points) if p[0] == n], dtype=np.intp) for n in names]


def draw_identity_labels(
    frames: np.ndarray,
    poses: np.ndarray,
    names: Sequence[str],
    groups: Sequence[np.ndarray],
    colors: np.ndarray,
    pcutoff: float = 0.6,
    radius: float = 5.0,
) -> np.ndarray:
    """Write each individual's name next to it, in place.

    frames : ``(n, H, W, 3) uint8``; poses : ``(n, P, 3)`` x, y, likelihood in these frames' pixels;
    names, groups : from :func:`label_groups`; colors : ``(len(names), 3) uint8`` text colour per individual.
    The text starts ``radius + 2`` px right of the rightmost visible point (likelihood > ``pcutoff``) of the
    animal, level with its topmost one (kept inside the frame); an animal with no visible point gets no label.
    """
    import cv2  # noqa: PLC0415

    n, h, w = frames.shape[:3]
    scale = max(0.3, min(h, w) / 600)
    thickness = 1 if scale < 0.8 else 2
    for g, (name, idx) in enumerate(zip(names, groups)):
        if not name or not len(idx):
            continue
        pts = poses[:, idx]
        vis = (pts[..., 2] > pcutoff) & np.isfinite(pts[..., :2]).all(-1)
        (tw, th), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        color = tuple(int(c) for c in colors[g])
        for f in np.flatnonzero(vis.any(axis=1)):
            xs, ys = pts[f, vis[f], 0], pts[f, vis[f], 1]
            x = int(min(max(xs.max() + radius + 2, 0), max(w - tw, 0)))
            y = int(min(max(ys.min() + th, th), h - 1))
            img = np.ascontiguousarray(frames[f])
            cv2.putText(img, name, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, color, thickness, cv2.LINE_AA)
            frames[f] = img
    return frames


def what_to_draw(df, params, displayedbodyparts, displayedindividuals, color_by, draw_skeleton, labels):
    """What ``create_labeled_video`` draws of a prediction or tracked table ``df``.

    Returns ``(poses (n, P, 3), colors (P, 3) uint8, bones [(i, j)], labels)``; ``labels`` is None or the
    ``(names, groups, text colours)`` of :func:`draw_identity_labels` (text in the animal's colour when
    ``color_by="individual"``, else white). ``params``: :func:`posenb.post._common.drawing_params`.
    """
    from posenb.post._multi import flat_columns  # noqa: PLC0415

    points, arr = flat_columns(df, displayedindividuals, displayedbodyparts)
    colors = point_colors(points, params["colormap"], color_by)
    bones = animal_bones(points, params["skeleton"]) if draw_skeleton else []
    text = None
    if labels:
        names, groups = label_groups(points)
        text_colors = (
            np.array([colors[g[0]] for g in groups], np.uint8)
            if color_by == "individual"
            else np.full((len(names), 3), 255, np.uint8)
        )
        text = (names, groups, text_colors)
    return arr, colors, bones, text
