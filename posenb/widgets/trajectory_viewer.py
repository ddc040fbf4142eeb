"""TrajectoryViewer: review the predictions of an analyzed video.

x, y and likelihood against time (bqplot) with a cursor linked to the video frame, drawn on a canvas with the
predicted points and skeleton; a p-cutoff slider, body-part toggles, raw or filtered predictions, and buttons
that call ``filterpredictions``, ``create_labeled_video`` and ``extract_outlier_frames(automatic=True)``
(:mod:`posenb.widgets._trajectory_actions`).

A multi-animal project's tracked file (``<video>DLC_<scorer>_el.h5``, individuals in the columns) is shown per
individual: one colour per animal on the frame and in the plots, a skeleton per animal, the animals' names on
the frame (optional), and a selector to show all animals or one.

The panel only reads the prediction file (:func:`posenb.post._common.find_analysis_file`) and draws it; what it
draws comes from pure functions (:mod:`posenb.widgets._trajectory_data`, :func:`posenb.widgets._review.frame_overlay`,
:func:`mask_low_likelihood`), tested alone.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from posenb.errors import PosenbError
from posenb.widgets._panel import Panel
from posenb.widgets._review import frame_overlay, mask_low_likelihood, nice_ticks, project_videos
from posenb.widgets._trajectory_actions import TrajectoryActions
from posenb.widgets._trajectory_data import (
    NEUTRAL,
    Trajectories,
    identity_labels,
    individual_legend,
    point_colors_hex,
    point_skeleton,
    read_trajectories,
    rgb,
    visible_points,
)
from posenb.widgets._trajectory_layout import PLOTS, TrajectoryLayout

__all__ = ["TrajectoryViewer"]

_PLOTS = PLOTS  # x, y, likelihood: the plots, top to bottom


class TrajectoryViewer(TrajectoryLayout, TrajectoryActions, Panel):
    """Predictions of one analyzed video: time series, frame with points, actions.

    Parameters
    ----------
    config : path of the project's config.yaml (or None: call :meth:`set_config` later).
    video : the video to show (default: the first video of the project that has predictions).
    shuffle, trainingsetindex : which model's predictions (as for ``analyze_videos``).
    """

    def __init__(
        self,
        config: str | os.PathLike | None = None,
        video: str | os.PathLike | None = None,
        shuffle: int = 1,
        trainingsetindex: int = 0,
    ):
        super().__init__()
        self.add_class("posenb-trajectory-viewer")
        self.config: str | None = None
        self.cfg: dict = {}
        self.video: Path | None = None
        self.h5: Path | None = None
        self.bodyparts: list[str] = []  # distinct body parts (the toggles)
        self.individuals: list[str] = []  # a multi-animal file's individuals; [] for a single animal
        self.points: list[tuple[str, str]] = []  # (individual, bodypart) of each column of ``data``
        self.data = np.zeros((0, 0, 3))  # (n_frames, P, 3) x, y (full-frame pixels), likelihood
        self.labels: list[tuple[str, float, float]] = []  # the names drawn on the frame: (individual, x, y)
        self.overlay = None  # the last Overlay drawn (for tests and debugging)
        self._reader = None
        self._frame_image: np.ndarray | None = None
        self._sent_frame: int | None = None
        self._drag = None
        self._lock = threading.RLock()
        self._loading = False
        self.colors: list[str] = []
        self.skeleton: list[tuple[int, int]] = []
        self._build(shuffle, trainingsetindex)
        if config is not None:
            self.set_config(config, video)

    # ------------------------------------------------------------------ project / data
    def set_config(self, config: str | os.PathLike, video: str | os.PathLike | None = None) -> None:
        """Switch to the project of ``config`` and show ``video`` (default: first video with predictions)."""
        from posenb.project.config import read_config

        self.config = str(config)
        self.cfg = read_config(config)
        self.pcutoff.value = float(self.cfg.get("pcutoff", 0.6))
        videos = project_videos(self.cfg)
        if video is not None:
            video = Path(video)
            videos = [v for v in videos if v.name != video.name]
            videos.insert(0, video)
        elif videos:
            video = next((v for v in videos if self._has_predictions(v)), videos[0])
        self._loading = True
        self.video_select.options = [(v.name, str(v)) for v in videos]
        self._loading = False
        if video is not None:
            if self.video_select.value == str(video):
                self.load()
            else:
                self.video_select.value = str(video)
        else:
            self._set_status("No videos in this project.", "warning")

    def _has_predictions(self, video: Path) -> bool:
        from posenb.post._common import find_analysis_file

        try:
            find_analysis_file(self.cfg, video, self.shuffle.value, self.trainingsetindex)
        except PosenbError:
            return False
        return True

    def _on_video(self, change) -> None:
        if not self._loading and change["new"]:
            self.load()

    def load(self) -> bool:
        """(Re)read the predictions of the selected video and source; True if found."""
        from posenb.io.video import open_for_viewing  # the frame shown is the frame extracted
        from posenb.post._common import find_analysis_file

        if not self.video_select.value or not self.cfg:
            return False
        video = Path(self.video_select.value)
        filtered = self.source.value == "filtered"
        with self._lock:
            if self.video != video:
                self._close_reader()
                self.video = video
                try:
                    self._reader = open_for_viewing(video)
                except PosenbError as exc:
                    self._reader = None
                    self._set_status(f"Video unreadable, showing predictions only: {exc}", "warning")
            try:
                h5 = find_analysis_file(
                    self.cfg, video, self.shuffle.value, self.trainingsetindex, filtered=filtered
                )
                traj = read_trajectories(self.cfg, h5)
            except PosenbError as exc:
                self.h5 = None
                self._set_trajectories(Trajectories())
                self._set_status(str(exc), "warning")
                self._refresh()
                return False
            self.h5 = h5
            self._set_trajectories(traj)
            n = len(traj.data)
            self._loading = True
            self.frame.max = self.play.max = max(0, n - 1)
            self.frame.value = min(self.frame.value, max(0, n - 1))
            self._loading = False
            self._xscale.min, self._xscale.max = 0.0, float(max(1, n - 1))
            if self._reader is not None:
                self._make_canvas(self._reader.width, self._reader.height)
            animals = (
                f", {len(self.individuals)} individuals ({', '.join(self.individuals)})"
                if self.individuals
                else ""
            )
            self._set_status(f"{h5.name}: {n} frames, {len(self.bodyparts)} body parts{animals}.")
        self._refresh()
        return True

    def _set_trajectories(self, traj: Trajectories) -> None:
        """Show ``traj``: points, colours (per body part, or per individual), skeleton, toggles, selector."""
        self.points, self.data = traj.points, traj.data
        self.bodyparts, self.individuals = traj.bodyparts, traj.individuals
        self.colors = point_colors_hex(self.points, self.cfg.get("colormap") or "rainbow")
        self.skeleton = point_skeleton(self.points, self.cfg.get("skeleton"))
        self._make_part_toggles()
        self._show_individuals()

    def _show_individuals(self) -> None:
        """The individual selector, names checkbox and legend: shown for a multi-animal file only."""
        current = self.individual_select.value
        self._loading = True
        self.individual_select.options = [("all", "all")] + [(i, i) for i in self.individuals]
        self.individual_select.value = current if current in self.individuals else "all"
        self._loading = False
        self._update_legend()
        self.individuals_box.layout.display = None if self.individuals else "none"

    def _close_reader(self) -> None:
        if self._reader is not None:
            try:
                self._reader.close()
            except Exception:
                pass
            self._reader = None
            self._frame_image = None
            self._sent_frame = None

    # ------------------------------------------------------------------ drawing
    def _update_legend(self) -> None:
        self.legend.value = individual_legend(
            self.individuals, self.colors, self.points, self.individual_select.value
        )

    def _on_individual(self, _change=None) -> None:
        if not self._loading:
            self._update_legend()
            self._refresh()

    @property
    def visible(self) -> list[bool]:
        """Per point (column of ``data``): its body part is toggled on and its individual is selected."""
        shown = {t.description: t.value for t in self.part_toggles}
        return visible_points(self.points, shown, self.individual_select.value)

    def set_frame(self, index: int) -> None:
        """Move the cursor (and the shown frame) to ``index``."""
        self.frame.value = int(np.clip(index, self.frame.min, self.frame.max))

    def _on_select(self, change) -> None:
        sel = change["new"]
        if sel is not None and len(sel):
            self.set_frame(int(round(float(sel[0]))))

    def _on_frame(self, change) -> None:
        if self._loading:
            return
        self._frame_image = None
        self._update_cursor()
        self._redraw_canvas()

    def _refresh(self) -> None:
        """Redraw the time series (p-cutoff, toggles, data changed), the cursor and the frame."""
        data = self.data
        n = len(data)
        masked = mask_low_likelihood(data, self.pcutoff.value) if n else data
        vis = np.flatnonzero(self.visible) if n else np.array([], int)
        frames = np.arange(n, dtype=float)
        for c, name in enumerate(_PLOTS):
            lines = self.lines[name]
            series = (
                (data if name == "likelihood" else masked)[:, vis, c].T
                if n and len(vis)
                else np.zeros((0, 0))
            )
            with lines.hold_sync():
                if len(series):
                    lines.x = frames
                    lines.y = series
                    lines.colors = [self.colors[i] for i in vis]
                else:
                    lines.x, lines.y = [], []
            if name != "likelihood" and len(series) and np.isfinite(series).any():
                ticks = nice_ticks(float(np.nanmin(series)), float(np.nanmax(series)))
                with self.yscales[name].hold_sync():
                    self.yscales[name].min, self.yscales[name].max = float(ticks[0]), float(ticks[-1])
                self.yaxes[name].tick_values = ticks
        self._update_cursor()
        self._redraw_canvas()

    def _update_cursor(self) -> None:
        f = float(self.frame.value)
        for cursor in self.cursors.values():
            cursor.x = [f, f]

    def _make_canvas(self, width: int, height: int) -> None:
        """An ImageCanvas for frames of ``width x height`` pixels (kept while the size does not change)."""
        from posenb.widgets._canvas import attach_canvas

        if self.image_canvas is not None and self.image_canvas.image_size == (width, height):
            return
        if self.image_canvas is not None:
            self.image_canvas.close()
        self.image_canvas = attach_canvas(
            self.view_box,
            (width, height),
            "posenb-trajectory-canvas",
            self._on_canvas_event,
            self._draw_overlay,
            max_w=480,
            max_h=360,
            min_w=480,  # small frames fill the view (no empty space beside the plots)
        )
        self._sent_frame = None

    def _on_canvas_event(self, ev) -> None:
        """Wheel zooms at the cursor; a double click (or key ``0``) fits the frame again; drag pans."""
        from posenb.widgets._canvas import pan_by, zoom_at

        ic = self.image_canvas
        if ic is None or ic.view is None:
            return
        if ev.kind == "wheel" and ev.x is not None:
            ic.set_view(zoom_at(ic.view, ev.x, ev.y, 0.8 if ev.delta > 0 else 1.25))
        elif ev.kind == "key" and ev.key == "0":
            ic.reset_view()
        elif ev.kind == "key" and ev.key in ("ArrowRight", "ArrowLeft"):
            self.set_frame(self.frame.value + (1 if ev.key == "ArrowRight" else -1))
        elif ev.kind == "down":
            self._drag = (ev.x, ev.y)
        elif ev.kind == "move" and getattr(self, "_drag", None) and ev.buttons & 1 and ev.x is not None:
            x0, y0 = self._drag
            self._drag = (ev.x, ev.y)
            ic.set_view(pan_by(ic.view, ev.x - x0, ev.y - y0))
        elif ev.kind in ("up", "leave"):
            self._drag = None

    def _redraw_canvas(self, *_args) -> None:
        """Send the current frame to the canvas and draw its predicted points."""
        from posenb.widgets._image import encode_image

        with self._lock:
            if (
                self._reader is not None
                and self._frame_image is None
                and self.frame.value < self._reader.n_frames
            ):
                try:
                    self._frame_image = self._reader.read(int(self.frame.value))
                except PosenbError as exc:
                    self._set_status(str(exc), "warning")
            n = len(self.data)
            if n and self.frame.value < n:
                xyp, vis = self.data[self.frame.value], self.visible
                self.overlay = frame_overlay(xyp, self.pcutoff.value, vis, self.skeleton)
                show_names = self.individuals and self.names_check.value
                self.labels = identity_labels(xyp, self.points, vis, self.pcutoff.value) if show_names else []
            else:
                self.overlay, self.labels = None, []
            ic = self.image_canvas
            if ic is None:
                return
            if self._frame_image is not None:
                img = self._frame_image
                if self._sent_frame != self.frame.value:
                    ic.set_image(encode_image(img, "jpeg", 90), (img.shape[1], img.shape[0]))
                    self._sent_frame = self.frame.value
                else:
                    ic.redraw(overlays_only=True)
            else:
                ic.redraw(overlays_only=True)

    def _draw_overlay(self) -> None:
        """Overlay layer: skeleton segments and discs (radius ``dotsize / 2`` image pixels) of the frame."""
        from posenb.widgets._canvas import image_to_canvas

        ic = self.image_canvas
        layer = ic.layers[1]
        layer.clear()
        overlay = self.overlay
        if overlay is None or not len(overlay.xy) or ic.view is None:
            return
        view = ic.view
        radius = max(2.0, float(self.cfg.get("dotsize", 6)) / 2 * view.zoom)
        if len(overlay.segments):
            sx, sy = image_to_canvas(view, overlay.segments[..., 0], overlay.segments[..., 1])
            layer.line_width = max(1.0, radius / 3)
            layer.stroke_style = str(self.cfg.get("skeleton_color") or "black")
            layer.stroke_line_segments(np.stack([sx, sy], axis=-1))
        cx, cy = image_to_canvas(view, overlay.xy[:, 0], overlay.xy[:, 1])
        colors = np.array([rgb(self.colors[i]) for i in overlay.part])
        alpha = float(self.cfg.get("alphavalue", 0.7))
        layer.fill_styled_circles(cx, cy, radius, color=colors, alpha=alpha if 0 < alpha <= 1 else 1.0)
        self._draw_names(layer, view, radius)

    def _draw_names(self, layer, view, radius: float) -> None:
        """Each animal's name in its colour, right of its rightmost point (multi-animal files, names on)."""
        from posenb.widgets._canvas import image_to_canvas

        if not self.labels:
            return
        first = {}
        for (ind, _), color in zip(self.points, self.colors):
            first.setdefault(ind, color)
        layer.font = "bold 13px sans-serif"
        for name, x, y in self.labels:
            cx, cy = image_to_canvas(view, np.array([x]), np.array([y]))
            layer.fill_style = first.get(name, NEUTRAL)
            layer.fill_text(name, float(cx[0]) + radius + 3, float(cy[0]) + 4)

    def close(self) -> None:
        if hasattr(self, "_reader"):
            self._close_reader()
        super().close()  # Panel: the image canvas, then the VBox
