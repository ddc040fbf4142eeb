"""TrajectoryViewer: review the predictions of an analyzed video.

x, y and likelihood against time (bqplot) with a cursor linked to the video frame, drawn on a canvas with the
predicted points and skeleton; a p-cutoff slider, body-part toggles, raw or filtered predictions, and buttons
that call ``filterpredictions``, ``create_labeled_video`` and ``extract_outlier_frames(automatic=True)``.

The panel only reads the prediction file (:func:`posenb.post._common.find_analysis_file`) and draws it; the
drawing is :func:`posenb.widgets._review.frame_overlay` / :func:`mask_low_likelihood` (pure, tested alone).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from posenb.errors import PosenbError
from posenb.post.skeleton import skeleton_indices
from posenb.widgets._actions import status_html
from posenb.widgets._panel import Panel
from posenb.widgets._review import (
    frame_overlay,
    hex_colors,
    mask_low_likelihood,
    nice_ticks,
    project_videos,
)
from posenb.widgets._trajectory_layout import PLOTS, TrajectoryLayout

__all__ = ["TrajectoryViewer"]

_PLOTS = PLOTS  # x, y, likelihood: the plots, top to bottom


class TrajectoryViewer(TrajectoryLayout, Panel):
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
        self.bodyparts: list[str] = []
        self.data = np.zeros((0, 0, 3))  # (n_frames, K, 3) x, y (full-frame pixels), likelihood
        self.overlay = None  # the last Overlay drawn (for tests and debugging)
        self._reader = None
        self._frame_image: np.ndarray | None = None
        self._sent_frame: int | None = None
        self._drag = None
        self._lock = threading.RLock()
        self._loading = False
        self.colors: list[str] = []
        self.skeleton: list[tuple[int, int]] = []
        self.status_text = ""
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
        from posenb.io.predictions import predictions_to_array, read_meta, read_predictions
        from posenb.io.video import open_video
        from posenb.post._common import crop_offset, find_analysis_file

        if not self.video_select.value or not self.cfg:
            return False
        video = Path(self.video_select.value)
        filtered = self.source.value == "filtered"
        with self._lock:
            if self.video != video:
                self._close_reader()
                self.video = video
                try:
                    self._reader = open_video(video)
                except PosenbError as exc:
                    self._reader = None
                    self._set_status(f"Video unreadable, showing predictions only: {exc}", "warning")
            try:
                h5 = find_analysis_file(
                    self.cfg, video, self.shuffle.value, self.trainingsetindex, filtered=filtered
                )
                df = read_predictions(h5)
            except PosenbError as exc:
                self.h5, self.data, self.bodyparts = None, np.zeros((0, 0, 3)), []
                self._set_status(str(exc), "warning")
                self._refresh()
                return False
            self.h5 = h5
            self.bodyparts = list(dict.fromkeys(df.columns.get_level_values("bodyparts")))
            data = np.array(predictions_to_array(df, self.bodyparts), dtype=float)
            x1, y1 = crop_offset(read_meta(h5), h5, self.cfg)
            data[..., 0] += x1
            data[..., 1] += y1
            self.data = data
            self.colors = hex_colors(self.cfg.get("colormap") or "rainbow", len(self.bodyparts))
            self.skeleton = list(skeleton_indices(self.bodyparts, self.cfg.get("skeleton")))
            self._make_part_toggles()
            n = len(data)
            self._loading = True
            self.frame.max = self.play.max = max(0, n - 1)
            self.frame.value = min(self.frame.value, max(0, n - 1))
            self._loading = False
            self._xscale.min, self._xscale.max = 0.0, float(max(1, n - 1))
            if self._reader is not None:
                self._make_canvas(self._reader.width, self._reader.height)
            self._set_status(f"{h5.name}: {n} frames, {len(self.bodyparts)} body parts.")
        self._refresh()
        return True

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
    @property
    def visible(self) -> list[bool]:
        return [t.value for t in self.part_toggles]

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
                self.overlay = frame_overlay(
                    self.data[self.frame.value], self.pcutoff.value, self.visible, self.skeleton
                )
            else:
                self.overlay = None
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
        colors = np.array([_rgb(self.colors[i]) for i in overlay.part])
        alpha = float(self.cfg.get("alphavalue", 0.7))
        layer.fill_styled_circles(cx, cy, radius, color=colors, alpha=alpha if 0 < alpha <= 1 else 1.0)

    # ------------------------------------------------------------------ actions (core functions)
    def filter_predictions(self) -> None:
        """``posenb.filterpredictions`` on this video, then show the filtered predictions."""
        import posenb

        video = self._require_video()
        if video is None:
            return
        self._run(
            "Filtering",
            lambda: posenb.filterpredictions(
                self.config,
                [str(video)],
                shuffle=self.shuffle.value,
                trainingsetindex=self.trainingsetindex,
                filtertype=self.filtertype.value,
            ),
            after=lambda _r: self._show_source("filtered"),
        )

    def labeled_video(self) -> None:
        """``posenb.create_labeled_video`` of this video (raw or filtered, as shown)."""
        import posenb

        video = self._require_video()
        if video is None:
            return
        filtered = self.source.value == "filtered"
        self._run(
            "Writing the labeled video",
            lambda: posenb.create_labeled_video(
                self.config,
                [str(video)],
                shuffle=self.shuffle.value,
                trainingsetindex=self.trainingsetindex,
                filtered=filtered,
                draw_skeleton=bool(self.skeleton),
                overwrite=True,
            ),
            after=lambda r: self._set_status(f"Labeled video written next to {video.name}: {_describe(r)}"),
        )

    def save_plots(self) -> None:
        """``posenb.plot_trajectories`` of this video (raw or filtered, as shown): PNGs next to the analysis."""
        import posenb

        video = self._require_video()
        if video is None:
            return
        filtered = self.source.value == "filtered"
        self._run(
            "Saving the trajectory plots",
            lambda: posenb.plot_trajectories(
                self.config,
                [str(video)],
                shuffle=self.shuffle.value,
                trainingsetindex=self.trainingsetindex,
                filtered=filtered,
            ),
            after=lambda r: self._set_status(
                f"Plots saved: {', '.join(Path(str(p)).name for paths in r.values() for p in paths)} "
                f"(in plot-poses/{video.stem}/ next to the analysis file)."
            ),
        )

    def outlier_frames(self) -> None:
        """``posenb.extract_outlier_frames(..., automatic=True)`` with the chosen algorithm ("uncertain" uses the
        p-cutoff slider as ``p_bound``)."""
        import posenb

        video = self._require_video()
        if video is None:
            return
        algo = self.outlier_algo.value
        # "uncertain": frames with a point below the p-cutoff shown here (DLC's p_bound)
        extra = {"p_bound": float(self.pcutoff.value)} if algo == "uncertain" else {}
        self._run(
            "Extracting outlier frames",
            lambda: posenb.extract_outlier_frames(
                self.config,
                [str(video)],
                shuffle=self.shuffle.value,
                trainingsetindex=self.trainingsetindex,
                outlieralgorithm=algo,
                automatic=True,
                **extra,
            ),
            after=lambda r: self._set_status(
                f"Outlier frames saved in labeled-data/{video.stem} {_describe(r)}; refine them in the "
                "refinement editor."
            ),
        )

    def extract_frame(self, index: int | None = None) -> None:
        """Add frame ``index`` (default: the one under the cursor) to ``labeled-data`` with its machine labels
        (``extract_outlier_frames(outlieralgorithm="list", frames2use=[index], automatic=True)``)."""
        import posenb

        video = self._require_video()
        if video is None:
            return
        index = int(self.frame.value if index is None else index)
        self._run(
            f"Extracting frame {index}",
            lambda: posenb.extract_outlier_frames(
                self.config,
                [str(video)],
                shuffle=self.shuffle.value,
                trainingsetindex=self.trainingsetindex,
                outlieralgorithm="list",
                frames2use=[index],
                automatic=True,
            ),
            after=lambda r: self._set_status(
                f"Frame {index} added to labeled-data/{video.stem} with its predictions."
            ),
        )

    def _require_video(self) -> Path | None:
        if self.config is None or not self.video_select.value:
            self._set_status("Open a project and pick a video first.", "warning")
            return None
        return Path(self.video_select.value)

    def _show_source(self, source: str) -> None:
        if self.source.value == source:
            self.load()
        else:
            self.source.value = source  # reloads
        self._set_status(f"Showing {source} predictions: {self.h5.name if self.h5 else '-'}")

    def _run(self, what: str, fn: Callable, after: Callable | None = None) -> None:
        """Run a core function in a thread (the notebook stays usable); report in the status line."""
        self._actions.run(what, fn, after)

    @property
    def last_result(self):
        """What the last action (filter, labeled video, outliers) returned."""
        return self._actions.result

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running action (filter, labeled video, outliers); True if none is running afterwards."""
        return self._actions.wait(timeout)

    def _set_status(self, text: str, level: str = "info") -> None:
        self.status.value = status_html(text, level)
        self.status_text = text

    def close(self) -> None:
        if hasattr(self, "_reader"):
            self._close_reader()
        if getattr(self, "image_canvas", None) is not None:
            self.image_canvas.close()
        super().close()


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _describe(result) -> str:
    if result is None:
        return ""
    if isinstance(result, (list, tuple)):
        return ", ".join(Path(str(r)).name for r in result[:3])
    return Path(str(result)).name if isinstance(result, (str, os.PathLike)) else str(result)
