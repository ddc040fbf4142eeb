"""What :class:`posenb.widgets.trajectory_viewer.TrajectoryViewer` shows, as pure functions (no widgets).

The viewer treats every analysis file as a flat list of *points* ``(individual, bodypart)`` with poses
``(n_frames, n_points, 3)`` x, y (full-frame pixels), likelihood (:func:`posenb.post._multi.flat_columns`): a
single-animal file is one individual ``""``; a multi-animal tracked file (``_el.h5``, columns scorer /
individuals / bodyparts / coords) has one group of points per individual, unique parts under ``"single"``.
Single-animal files are coloured per body part (config ``colormap``), multi-animal ones per individual.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "Trajectories",
    "read_trajectories",
    "point_colors_hex",
    "point_skeleton",
    "visible_points",
    "identity_labels",
    "individual_legend",
    "rgb",
    "describe",
]

NEUTRAL = "#333333"  # body-part toggles of a multi-animal file (the colours belong to the individuals)


@dataclass
class Trajectories:
    """The points of one analysis file: ``points`` ``[(individual, bodypart)]``, ``data`` ``(n, P, 3)``."""

    points: list[tuple[str, str]] = field(default_factory=list)
    data: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 3)))

    @property
    def multianimal(self) -> bool:
        return any(ind for ind, _ in self.points)

    @property
    def individuals(self) -> list[str]:
        """Distinct individuals in file order (``"single"`` last when present); ``[]`` for a single animal."""
        return [i for i in dict.fromkeys(ind for ind, _ in self.points) if i]

    @property
    def bodyparts(self) -> list[str]:
        """Distinct body parts in file order (unique parts after the per-animal ones)."""
        return list(dict.fromkeys(bp for _, bp in self.points))


def read_trajectories(cfg: dict, h5: str | os.PathLike) -> Trajectories:
    """Read a prediction (3 column levels) or tracked (4 levels) file as :class:`Trajectories`.

    Single-animal predictions get the crop offset of their ``_meta.pickle`` added (a cropped analysis);
    tracked files already hold full-frame pixels. Raises :class:`~posenb.errors.LabelError` for a malformed
    file (:func:`posenb.post._multi.read_pose_table`).
    """
    from posenb.io.predictions import read_meta  # noqa: PLC0415
    from posenb.post._common import crop_offset  # noqa: PLC0415
    from posenb.post._multi import flat_columns, is_multianimal, read_pose_table  # noqa: PLC0415

    df = read_pose_table(h5)
    points, data = flat_columns(df)
    data = np.array(data, dtype=float)
    if not is_multianimal(df):
        x1, y1 = crop_offset(read_meta(h5), h5, cfg)
        data[..., 0] += x1
        data[..., 1] += y1
    return Trajectories(list(points), data)


def point_colors_hex(points: Sequence[tuple[str, str]], colormap: str) -> list[str]:
    """``#rrggbb`` per point: per body part for a single animal (as before), per individual otherwise."""
    from posenb.post.individuals_drawing import point_colors  # noqa: PLC0415
    from posenb.widgets._review import hex_colors  # noqa: PLC0415

    if not any(ind for ind, _ in points):
        return hex_colors(colormap, len(points))
    rgb_table = point_colors(points, colormap, color_by="individual")
    return ["#{:02x}{:02x}{:02x}".format(*(int(v) for v in c)) for c in rgb_table]


def point_skeleton(
    points: Sequence[tuple[str, str]], skeleton: Sequence[Sequence[str]] | None
) -> list[tuple[int, int]]:
    """Index pairs into ``points``: config ``skeleton``, within each animal (never across animals)."""
    from posenb.post.individuals_drawing import animal_bones  # noqa: PLC0415
    from posenb.post.skeleton import skeleton_indices  # noqa: PLC0415

    if not any(ind for ind, _ in points):
        return list(skeleton_indices([bp for _, bp in points], skeleton))
    return animal_bones(points, [tuple(b) for b in skeleton or [] if len(b) == 2])


def visible_points(
    points: Sequence[tuple[str, str]], shown_parts: Mapping[str, bool], individual: str = "all"
) -> list[bool]:
    """Per point: its body part is shown (missing from ``shown_parts``: shown) and it belongs to
    ``individual`` (``"all"``: every individual)."""
    return [
        bool(shown_parts.get(bp, True)) and (individual in ("all", "", None) or ind == individual)
        for ind, bp in points
    ]


def identity_labels(
    xyp: np.ndarray, points: Sequence[tuple[str, str]], visible: Sequence[bool], pcutoff: float
) -> list[tuple[str, float, float]]:
    """``[(individual, x, y)]``: where to write each animal's name on one frame (image pixels).

    ``xyp`` ``(P, 3)``; the name goes level with the animal's topmost visible point (likelihood >=
    ``pcutoff``), starting at its rightmost one; an animal with no such point (and single-animal points,
    individual ``""``) gets no name.
    """
    xyp = np.asarray(xyp, dtype=float).reshape(-1, 3)
    ok = np.asarray(visible, bool) & np.isfinite(xyp[:, :2]).all(axis=1) & (xyp[:, 2] >= pcutoff)
    inds = np.array([ind for ind, _ in points], dtype=object)
    out = []
    for name in dict.fromkeys(ind for ind, _ in points):
        sel = ok & (inds == name)
        if name and sel.any():
            out.append((name, float(xyp[sel, 0].max()), float(xyp[sel, 1].min())))
    return out


def individual_legend(
    individuals: Sequence[str], colors: Sequence[str], points, selected: str = "all"
) -> str:
    """HTML: each individual's name in its colour (empty for a single animal); when one individual is
    ``selected``, the others are grey and struck through (class ``posenb-individual-hidden``)."""
    import html  # noqa: PLC0415

    if not individuals:
        return ""
    first = {}
    for (ind, _), color in zip(points, colors):
        first.setdefault(ind, color)
    spans = []
    for i in individuals:
        shown = selected in ("all", i)
        style = f"color:{first.get(i, NEUTRAL)};font-weight:bold" if shown else "color:#999999"
        cls = "posenb-individual" + ("" if shown else " posenb-individual-hidden")
        strike = "" if shown else ";text-decoration:line-through"
        spans.append(f'<span class="{cls}" style="{style}{strike}">&#9679; {html.escape(i)}</span>')
    return "&nbsp; ".join(spans)


def rgb(hex_color: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` -> ``(r, g, b)``."""
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def describe(result) -> str:
    """A short text for what a core function returned (file names, at most three)."""
    if result is None:
        return ""
    if isinstance(result, dict):  # {video: [frames]} (extract_outlier_frames)
        return f"({sum(len(v or ()) for v in result.values())} frame(s))"
    if isinstance(result, (list, tuple)):
        return ", ".join(Path(str(r)).name for r in result[:3])
    return Path(str(result)).name if isinstance(result, (str, os.PathLike)) else str(result)
