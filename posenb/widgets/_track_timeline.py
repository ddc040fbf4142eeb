"""The proofreader's timeline: one row per individual over the whole video (pure geometry, no Jupyter import).

A row shows where the track has points (its segments, filled in the individual's colour), the gaps between them
(empty), the low-confidence stretches (a band over the segment), the suspicious frames (ticks) and a cursor at
the current frame (and, while the swap has an end frame, the band of frames it would exchange:
:func:`span_geometry`). :func:`timeline_drawing` turns the runs a :class:`posenb.track.proofread.TrackEditor` reports
(``segments``, ``low_confidence``, ``suspicious``) into rectangles and lines in canvas pixels;
:meth:`TimelineGeometry.x_to_frame` and :meth:`TimelineGeometry.y_to_row` map a click back to a frame and an
individual; :func:`zoom_timeline` and :func:`follow` choose the frames shown (a long video is zoomed with the
wheel). :func:`segment_at` finds the segment under the cursor (for cut, join and delete).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "TimelineGeometry",
    "TimelineDrawing",
    "timeline_drawing",
    "cursor_geometry",
    "span_geometry",
    "row_labels",
    "segment_at",
    "zoom_timeline",
    "follow",
    "SUSPICION_COLORS",
]

#: tick colour of each kind of suspicion (``Suspicion.kind``); unknown kinds are drawn grey
SUSPICION_COLORS = {
    "swap": "#d62728",
    "jump": "#ff7f0e",
    "close": "#9467bd",
    "confidence": "#8c564b",
    "gap": "#7f7f7f",
}


@dataclass(frozen=True)
class TimelineGeometry:
    """Where frames and individuals sit on a timeline canvas of ``width x height`` canvas pixels.

    A label column of ``label_w`` px on the left names the individuals; the frames shown, ``first`` to
    ``first + visible - 1`` (``span`` frames, 0 = the whole video), share the rest of the width equally (frame
    ``f`` covers ``[x(f), x(f + 1))``); row ``i`` spans ``[top + i * (row_h + gap), + row_h)``.
    """

    n_frames: int
    n_rows: int
    width: int = 900
    label_w: int = 90
    row_h: int = 16
    gap: int = 4
    top: int = 4
    first: int = 0
    span: int = 0

    @property
    def visible(self) -> int:
        """How many frames the timeline shows."""
        return self.span if self.span > 0 else max(1, self.n_frames)

    @property
    def last(self) -> int:
        """The last frame shown."""
        return min(self.first + self.visible, max(1, self.n_frames)) - 1

    @property
    def height(self) -> int:
        return self.top + self.n_rows * (self.row_h + self.gap) + self.gap

    @property
    def px_per_frame(self) -> float:
        return (self.width - self.label_w) / self.visible

    def frame_to_x(self, frame) -> np.ndarray | float:
        """Left edge (canvas px) of ``frame`` (scalar or array); ``first + visible`` is the right end."""
        x = self.label_w + (np.asarray(frame, dtype=float) - self.first) * self.px_per_frame
        return float(x) if np.ndim(x) == 0 else x

    def x_to_frame(self, x: float) -> int:
        """The frame under canvas x (clamped to the frames shown; the label column gives the first)."""
        f = self.first + int(np.floor((float(x) - self.label_w) / self.px_per_frame))
        return int(min(max(f, self.first), self.last))

    def row_y(self, row: int) -> float:
        return float(self.top + row * (self.row_h + self.gap))

    def y_to_row(self, y: float) -> int | None:
        """The row under canvas y, None between rows or outside them."""
        r = (float(y) - self.top) / (self.row_h + self.gap)
        row = int(np.floor(r))
        if row < 0 or row >= self.n_rows or (r - row) * (self.row_h + self.gap) > self.row_h:
            return None
        return row


@dataclass
class TimelineDrawing:
    """What the timeline canvas shows, in canvas pixels.

    ``segments`` ``(k, 4)`` x, y, w, h of the runs with points, ``segment_rows`` ``(k,)`` their row (colour);
    ``low`` ``(m, 4)`` low-confidence bands; ``ticks`` ``(t, 2, 2)`` suspicious-frame lines and ``tick_colors``
    (t CSS colours); ``cursor`` ``(2, 2)`` the current frame's line, ``cursor_rect`` ``(4,)`` its frame's box;
    ``labels`` (name, x, y, bold) per row; ``rows`` ``(n, 4)`` every row's background box.
    """

    segments: np.ndarray
    segment_rows: np.ndarray
    low: np.ndarray
    ticks: np.ndarray
    tick_colors: list[str]
    cursor: np.ndarray
    cursor_rect: np.ndarray
    labels: list[tuple[str, float, float, bool]]
    rows: np.ndarray


def _run_rects(g: TimelineGeometry, runs: Sequence[tuple[int, int]], y: float, h: float) -> np.ndarray:
    """``(k, 4)`` boxes of ``[start, stop)`` frame runs at height ``y..y + h``; at least one pixel wide."""
    r = np.asarray(runs, dtype=float).reshape(-1, 2)
    r = np.clip(r, g.first, g.last + 1)  # the part of each run that is shown
    r = r[r[:, 1] > r[:, 0]]
    if not len(r):
        return np.zeros((0, 4))
    x0, x1 = g.frame_to_x(r[:, 0]), g.frame_to_x(r[:, 1])
    w = np.maximum(x1 - x0, 1.0)
    return np.stack([x0, np.full(len(r), y), w, np.full(len(r), h)], axis=1)


def timeline_drawing(
    g: TimelineGeometry,
    individuals: Sequence[str],
    segments: Sequence[Sequence[tuple[int, int]]],
    low_confidence: Sequence[Sequence[tuple[int, int]]],
    suspicious: Sequence = (),
    cursor: int = 0,
    selected: Sequence[int] = (),
) -> TimelineDrawing:
    """The timeline of ``individuals`` (one row each, in order).

    ``segments[i]`` / ``low_confidence[i]``: ``[start, stop)`` frame runs of individual ``i`` (as
    ``TrackEditor.segments`` / ``low_confidence`` return them); ``suspicious``: objects with ``frame``, ``kind``
    and ``individuals`` (names; none named: a tick on every row), e.g. ``Suspicion``; ``cursor``: the current
    frame; ``selected``: rows whose name is drawn bold (the individuals the buttons act on).
    """
    rows_idx = {name: i for i, name in enumerate(individuals)}
    seg_boxes, seg_rows, low_boxes, rows = [], [], [], []
    for i in range(len(individuals)):
        y = g.row_y(i)
        rows.append((g.label_w, y, g.width - g.label_w, g.row_h))
        boxes = _run_rects(g, segments[i] if i < len(segments) else (), y, g.row_h)
        seg_boxes.append(boxes)
        seg_rows.append(np.full(len(boxes), i, dtype=int))
        band = g.row_h * 0.4  # the lower part of the row: the segment's colour stays visible above it
        low_boxes.append(
            _run_rects(g, low_confidence[i] if i < len(low_confidence) else (), y + g.row_h - band, band)
        )
    ticks, tick_colors = [], []
    for s in suspicious:
        if not g.first <= s.frame <= g.last:
            continue
        who = [rows_idx[n] for n in getattr(s, "individuals", ()) if n in rows_idx] or range(len(individuals))
        x = g.frame_to_x(s.frame) + g.px_per_frame / 2
        for r in who:
            y = g.row_y(r)
            ticks.append(((x, y - 2), (x, y + g.row_h + 2)))
            tick_colors.append(SUSPICION_COLORS.get(getattr(s, "kind", ""), "#999999"))
    line, rect = cursor_geometry(g, cursor)
    return TimelineDrawing(
        segments=np.concatenate(seg_boxes) if seg_boxes else np.zeros((0, 4)),
        segment_rows=np.concatenate(seg_rows) if seg_rows else np.zeros(0, int),
        low=np.concatenate(low_boxes) if low_boxes else np.zeros((0, 4)),
        ticks=np.asarray(ticks, dtype=float).reshape(-1, 2, 2),
        tick_colors=tick_colors,
        cursor=line,
        cursor_rect=rect,
        labels=row_labels(g, individuals, selected),
        rows=np.asarray(rows, dtype=float).reshape(-1, 4),
    )


def row_labels(
    g: TimelineGeometry, individuals: Sequence[str], selected: Sequence[int] = ()
) -> list[tuple[str, float, float, bool]]:
    """(name, x, y, bold) of each row's name in the label column; ``selected`` rows bold."""
    return [(str(n), 4.0, g.row_y(i) + g.row_h * 0.8, i in set(selected)) for i, n in enumerate(individuals)]


def cursor_geometry(g: TimelineGeometry, frame: int) -> tuple[np.ndarray, np.ndarray]:
    """The cursor at ``frame``: ``(2, 2)`` a vertical line through the middle of the frame's column over every
    row, and ``(4,)`` x, y, w, h of the column (at least a pixel wide)."""
    x = g.frame_to_x(frame)
    bottom = float(g.row_y(g.n_rows)) if g.n_rows else float(g.top + g.row_h)
    mid = x + g.px_per_frame / 2
    return np.array([[mid, 0.0], [mid, bottom]]), np.array([x, 0.0, max(g.px_per_frame, 1.0), bottom])


def span_geometry(g: TimelineGeometry, start: int, stop: int) -> np.ndarray | None:
    """``(4,)`` x, y, w, h of frames ``[start, stop)`` over every row, clipped to the frames shown; None when the
    range is empty or not shown."""
    first, last = max(int(start), g.first), min(int(stop), g.last + 1)
    if last <= first:
        return None
    bottom = float(g.row_y(g.n_rows)) if g.n_rows else float(g.top + g.row_h)
    x0, x1 = float(g.frame_to_x(first)), float(g.frame_to_x(last))
    return np.array([x0, 0.0, max(x1 - x0, 1.0), bottom])


def zoom_timeline(g: TimelineGeometry, frame: int, factor: float, min_span: int = 20) -> TimelineGeometry:
    """Show ``factor`` times as many frames (< 1 zooms in), keeping ``frame`` where it is on the timeline; at
    least ``min_span`` frames, at most the whole video."""
    n = max(1, g.n_frames)
    span = int(round(g.visible * factor))
    span = min(max(span, min(min_span, n)), n)
    offset = min(int((frame - g.first) / g.visible * span), span - 1)  # where the frame is, in the new window
    first = int(frame) - offset
    first = min(max(first, 0), n - span)
    return replace(g, first=first, span=0 if span == n else span)


def follow(g: TimelineGeometry, frame: int) -> TimelineGeometry:
    """``g``, or ``g`` moved so that ``frame`` is shown (in the middle) when it was not."""
    if g.first <= frame <= g.last:
        return g
    n = max(1, g.n_frames)
    first = min(max(int(frame) - g.visible // 2, 0), max(0, n - g.visible))
    return replace(g, first=first)


def segment_at(
    segments: Sequence[tuple[int, int]], frame: int, after: bool = False
) -> tuple[int, int] | None:
    """The ``[start, stop)`` run of ``segments`` that holds ``frame``; with ``after``, else the first run that
    starts after it. None when there is none."""
    for start, stop in segments:
        if start <= frame < stop:
            return int(start), int(stop)
    if after:
        later = [(int(a), int(b)) for a, b in segments if a > frame]
        return min(later) if later else None
    return None
