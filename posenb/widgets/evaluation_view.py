"""EvaluationView: run ``evaluate_network`` and browse the labeled images with human and predicted points.

Markers as in DeepLabCut's evaluation plots: ``+`` human label, ``.`` (disc) prediction with likelihood >=
p-cutoff, ``x`` prediction below it; one colour per body part. The error table per body part (train / test,
all predictions and those above the p-cutoff slider) is recomputed from the stored predictions
(:func:`posenb.infer.evaluate.evaluation_table`) without predicting again.

On a single-animal project the "Run" choice (:data:`~posenb.widgets._run_modes.EVALUATION_MODES`, the words of the
Analyze videos tab) evaluates as the model is set up or more accurately, at test-time scales
(``evaluate_network(..., test_scales=...)``); each scale set has its own stored evaluation
(:func:`posenb.infer.eval_results.stored_evaluation`), the choice shows the one it names, and the status line says
which scales the figures are for. Multi-animal projects are evaluated in one pass: the choice is hidden.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from posenb.widgets._actions import ActionRunner
from posenb.widgets._panel import Panel
from posenb.widgets._review import hex_colors, list_shuffles, marker_segments
from posenb.widgets._run_modes import EVALUATION_MODES, RUN_MODES, run_mode_options

__all__ = ["EvaluationView", "EvaluationMarkers", "evaluation_markers"]


@dataclass
class EvaluationMarkers:
    """Markers of one image (image pixels). Each ``*_xy`` is ``(n, 2)``, each ``*_part`` ``(n,)`` body-part index."""

    human_xy: np.ndarray
    human_part: np.ndarray
    confident_xy: np.ndarray
    confident_part: np.ndarray
    low_xy: np.ndarray
    low_part: np.ndarray


def evaluation_markers(rows, bodyparts: list[str], pcutoff: float) -> EvaluationMarkers:
    """Markers of one image from its rows of the evaluation table (columns ``bodypart``, ``x_label``,
    ``y_label``, ``x``, ``y``, ``likelihood``): ``+`` where labeled, ``.`` / ``x`` for predictions
    above / below ``pcutoff``."""
    part = np.array([bodyparts.index(b) for b in rows["bodypart"]], dtype=int)
    lab = rows[["x_label", "y_label"]].to_numpy(dtype=float)
    pred = rows[["x", "y"]].to_numpy(dtype=float)
    like = rows["likelihood"].to_numpy(dtype=float)
    has_lab = np.isfinite(lab).all(axis=1)
    has_pred = np.isfinite(pred).all(axis=1)
    conf = has_pred & (like >= pcutoff)
    low = has_pred & ~(like >= pcutoff)
    return EvaluationMarkers(lab[has_lab], part[has_lab], pred[conf], part[conf], pred[low], part[low])


# pandas' HTML tables have no spacing of their own: pad the cells, right-align the numbers
_TABLE_CSS = (
    "<style>.posenb-eval-table{border-collapse:collapse;margin:4px 0}"
    ".posenb-eval-table th,.posenb-eval-table td{padding:2px 12px;text-align:right}"
    ".posenb-eval-table thead th{border-bottom:1px solid #999}</style>"
)


class EvaluationView(Panel):
    """Evaluate a trained shuffle and browse its train and test images.

    Parameters
    ----------
    config : path of the project's config.yaml (or None: call :meth:`set_config` later).
    shuffle : the shuffle shown first (default: the first model folder of the current iteration).
    """

    def __init__(self, config: str | os.PathLike | None = None, shuffle: int | None = None):
        super().__init__()
        self.add_class("posenb-evaluation-view")
        self.cfg: dict = {}
        self.table = None  # evaluation_table() of the shown snapshot
        self.results = None  # the DataFrame evaluate_network returned
        self.summary = None  # error_summary() at the current p-cutoff
        self.markers: EvaluationMarkers | None = None
        self.bodyparts: list[str] = []
        self.colors: list[str] = []
        self.images: list[str] = []
        self.image_canvas = None
        self._opening = False  # set_config resets the "Run" choice: nothing to load for the old project
        self._build()
        if config is not None:
            self.set_config(config, shuffle)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.shuffle_select = widgets.Dropdown(
            description="Shuffle", options=[], layout=widgets.Layout(width="300px")
        )
        self.snapshot_select = widgets.Dropdown(
            description="Snapshot", options=[], layout=widgets.Layout(width="280px")
        )
        # single-animal projects only (hidden otherwise: multi-animal evaluation runs one pass)
        self.scales_select = widgets.Dropdown(
            options=run_mode_options(EVALUATION_MODES),
            value="model",
            description="Run",
            layout=widgets.Layout(width="720px"),
        )
        self.scales_select.add_class("posenb-eval-scales")
        self.evaluate_button = widgets.Button(description="Evaluate", icon="check", button_style="primary")
        self.evaluate_button.add_class("posenb-evaluate-button")
        self.plotting = widgets.Checkbox(value=False, description="also write labeled images", indent=False)
        self.results_html = widgets.HTML()
        self.results_html.add_class("posenb-eval-results")
        self.pcutoff = widgets.FloatSlider(
            value=0.6, min=0.0, max=1.0, step=0.01, description="p-cutoff", continuous_update=False
        )
        self.pcutoff.add_class("posenb-pcutoff")
        self.errors_html = widgets.HTML()
        self.errors_html.add_class("posenb-eval-errors")
        self.split = widgets.ToggleButtons(
            options=["all", "train", "test"], value="all", description="Images"
        )
        self.split.style.button_width = "60px"
        self.order = widgets.Dropdown(
            options=[("by name", "name"), ("largest error first", "error")],
            value="name",
            description="Order",
            layout=widgets.Layout(width="240px"),
        )
        self.image_select = widgets.Dropdown(
            description="Image", options=[], layout=widgets.Layout(width="420px")
        )
        self.image_select.add_class("posenb-eval-image")
        self.prev_button = widgets.Button(icon="arrow-left", layout=widgets.Layout(width="40px"))
        self.next_button = widgets.Button(icon="arrow-right", layout=widgets.Layout(width="40px"))
        self.legend = widgets.HTML()
        self.view_box = widgets.VBox()
        self.status = widgets.HTML()
        self.status.add_class("posenb-status")
        self._actions = ActionRunner(
            self._set_status, (self.evaluate_button, self.scales_select), name="posenb-evaluate"
        )

        self.shuffle_select.observe(self._on_shuffle, "value")
        self.snapshot_select.observe(self._on_snapshot, "value")
        self.scales_select.observe(self._on_scales, "value")
        self.evaluate_button.on_click(lambda _b: self.evaluate())
        self.pcutoff.observe(lambda _c: self._refresh_errors(redraw=True), "value")
        self.split.observe(lambda _c: self._refresh_images(), "value")
        self.order.observe(lambda _c: self._refresh_images(), "value")
        self.image_select.observe(lambda _c: self._show_image(), "value")
        self.prev_button.on_click(lambda _b: self.step(-1))
        self.next_button.on_click(lambda _b: self.step(1))

        self.children = [
            widgets.HBox([self.shuffle_select, self.snapshot_select]),
            self.scales_select,
            widgets.HBox([self.evaluate_button, self.plotting]),
            self.results_html,
            widgets.HBox([self.pcutoff]),
            self.errors_html,
            widgets.HBox([self.split, self.order]),
            widgets.HBox([self.prev_button, self.image_select, self.next_button]),
            widgets.HBox([self.view_box, self.legend]),
            self.status,
        ]

    # ------------------------------------------------------------------ project / shuffle / snapshot
    def set_config(self, config: str | os.PathLike, shuffle: int | None = None) -> None:
        """Switch to the project of ``config``."""
        from posenb.project.config import project_parts

        self.load_config(config)
        multianimal = project_parts(self.cfg).multianimal
        self.scales_select.layout.display = "none" if multianimal else None
        if multianimal:
            self._opening = True
            try:
                self.scales_select.value = "model"
            finally:
                self._opening = False
        self.pcutoff.value = float(self.cfg.get("pcutoff", 0.6))
        entries = list_shuffles(self.cfg)
        self._entries = entries
        options = [
            (f"shuffle {k} (train {f.name.rsplit('-trainset', 1)[-1].split('shuffle')[0]}%)", i)
            for i, (k, _t, f) in enumerate(entries)
        ]
        self.shuffle_select.options = options
        if not options:
            self._set_status("No trained model yet: create a training set and train first.", "warning")
            return
        pick = 0
        if shuffle is not None:
            pick = next((i for i, (k, _t, _f) in enumerate(entries) if k == int(shuffle)), 0)
        if self.shuffle_select.value == pick:
            self._on_shuffle({"new": pick})
        else:
            self.shuffle_select.value = pick

    @property
    def shuffle(self) -> int | None:
        i = self.shuffle_select.value
        return None if i is None else self._entries[i][0]

    @property
    def trainingsetindex(self) -> int:
        i = self.shuffle_select.value
        return 0 if i is None else max(0, self._entries[i][1])

    def _on_shuffle(self, change) -> None:
        from posenb.nn.snapshots import list_snapshots

        if change["new"] is None:
            return
        folder = self._entries[change["new"]][2]
        snaps = list_snapshots(folder / "train")
        options = [(s.stem, s.stem) for s in snaps]
        self.snapshot_select.options = options
        if not options:
            self._set_status(f"{folder.name}: no snapshot yet; train first.", "warning")
            self.evaluate_button.disabled = True
            return
        self.evaluate_button.disabled = False
        last = options[-1][1]
        if self.snapshot_select.value == last:
            self._on_snapshot({"new": last})
        else:
            self.snapshot_select.value = last

    def _on_snapshot(self, change) -> None:
        """Show the stored evaluation of the snapshot at the chosen scales if there is one (nothing is predicted)."""
        from posenb.errors import PosenbError
        from posenb.infer.eval_results import stored_evaluation
        from posenb.infer.multiscale import scales_text

        snap = change["new"]
        if not snap or self.shuffle is None:
            return
        try:
            stored = stored_evaluation(
                self.cfg, self.shuffle, self.trainingsetindex, snap, **self._scales_args()
            )
        except PosenbError as exc:  # a bad test_scales in the shuffle's pose_cfg.yaml
            self._set_status(str(exc), "error")
            return
        if stored.path is not None:
            self.load()
        else:
            self.table = None
            self._refresh_errors()
            self._refresh_images()
            self._set_status(f"{snap} is not evaluated yet ({scales_text(stored.scales)}): press Evaluate.")

    def _on_scales(self, _change) -> None:
        """The "Run" choice changed: show its stored evaluation (or say there is none)."""
        if self._opening:
            return
        self.results = None  # evaluate_network's rows were for the other scales
        self._show_results()
        self._on_snapshot({"new": self.snapshot_select.value})

    def _scales_args(self) -> dict:
        """``evaluate_network`` / ``evaluation_table`` keywords of the "Run" choice (``{}``: as the model is set up,
        always on a multi-animal project, where :meth:`set_config` hides the choice)."""
        return dict(RUN_MODES[self.scales_select.value][1])

    # ------------------------------------------------------------------ core calls
    def evaluate(self) -> None:
        """``posenb.evaluate_network`` for the selected shuffle and snapshot (background thread), then show it."""
        import posenb

        if self.shuffle is None or not self.snapshot_select.value:
            self._set_status("Nothing to evaluate: train a model first.", "warning")
            return
        config, shuffle, tsi = self.config, self.shuffle, self.trainingsetindex
        snap, plotting, scales = self.snapshot_select.value, self.plotting.value, self._scales_args()

        def work():
            self.results = posenb.evaluate_network(
                config,
                Shuffles=[shuffle],
                trainingsetindex=tsi,
                plotting=plotting,
                show_errors=False,
                snapshots_to_evaluate=[snap],
                **scales,
            )
            self._show_results()
            self._load_table(scales)

        self._run(f"Evaluating {snap}", work)

    def load(self) -> None:
        """Read the stored evaluation of the selected snapshot at the chosen scales (``evaluation_table``) and show
        it."""
        self._run("Loading the evaluation", lambda: self._load_table(self._scales_args()), background=False)

    def _load_table(self, scales: dict) -> None:
        """Show ``evaluation_table`` of the selected snapshot; ``scales``: its ``test_scales`` keyword, if any."""
        from posenb.infer.evaluate import evaluation_table
        from posenb.infer.evaluate_ma_table import evaluation_table_ma
        from posenb.infer.multiscale import scales_text

        table_of = evaluation_table_ma if self.cfg.get("multianimalproject") else evaluation_table
        table = table_of(  # scales: {} on a multi-animal project (the choice is "model" there)
            self.config, self.shuffle, self.trainingsetindex, snapshot=self.snapshot_select.value, **scales
        )
        self.table = table
        self.bodyparts = list(dict.fromkeys(table["bodypart"]))
        self.colors = hex_colors(self.cfg.get("colormap") or "rainbow", len(self.bodyparts))
        self._refresh_errors()
        self._refresh_images()
        self._draw_legend()
        n_img = table["image"].nunique()
        self._set_status(
            f"{self.snapshot_select.value} ({scales_text(table.attrs.get('test_scales'))}): {n_img} images "
            f"({(table.drop_duplicates('image')['split'] == 'test').sum()} test)."
        )

    def _run(self, what: str, fn: Callable, background: bool = True) -> None:
        self._actions.run(what, fn, after=lambda _r: None, background=background)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running evaluation; True if none is running afterwards."""
        return self._actions.wait(timeout)

    # ------------------------------------------------------------------ tables
    def _show_results(self) -> None:
        df = self.results
        if df is None or not len(df):
            self.results_html.value = ""
            return
        self.results_html.value = _TABLE_CSS + df.to_html(
            index=False, float_format=lambda v: f"{v:.2f}", border=0, classes="posenb-eval-table"
        )

    def _refresh_errors(self, redraw: bool = False) -> None:
        if self.table is None:
            self.summary = None
            self.errors_html.value = ""
        else:
            # the core's summary, one or several animals per image (lazy: the app opens fast)
            from posenb.infer.evaluate import error_summary

            self.summary = error_summary(self.table, self.pcutoff.value)
            self.errors_html.value = (
                _TABLE_CSS
                + "<b>Mean error (px) per body part</b>"
                + self.summary.to_html(
                    float_format=lambda v: f"{v:.2f}", na_rep="-", border=0, classes="posenb-eval-table"
                )
            )
        if redraw:
            self._show_image()

    # ------------------------------------------------------------------ images
    def _refresh_images(self) -> None:
        if self.table is None:
            self.images = []
            self.image_select.options = []
            self._show_image()
            return
        t = self.table if self.split.value == "all" else self.table[self.table["split"] == self.split.value]
        if self.order.value == "error":
            worst = t.groupby("image", sort=False)["error_px"].max().fillna(-1.0)
            images = list(worst.sort_values(ascending=False, kind="stable").index)
        else:
            images = sorted(dict.fromkeys(t["image"]))
        split_of = dict(zip(self.table["image"], self.table["split"]))
        self.images = images
        current = self.image_select.value
        self.image_select.options = [(f"{split_of.get(im, '')}: {im}", im) for im in images]
        if current in images:
            self.image_select.value = current
        elif images:
            self.image_select.value = images[0]
        self._show_image()

    def step(self, delta: int) -> None:
        """Previous (-1) / next (+1) image in the list."""
        if not self.images:
            return
        i = self.images.index(self.image_select.value) if self.image_select.value in self.images else 0
        self.image_select.value = self.images[(i + delta) % len(self.images)]

    def _show_image(self) -> None:
        from posenb.widgets._canvas import attach_canvas
        from posenb.widgets._image import image_file_bytes

        image = self.image_select.value
        if self.table is None or not image:
            self.markers = None
            if self.image_canvas is not None:
                self.image_canvas.clear_image()
            return
        rows = self.table[self.table["image"] == image]
        self.markers = evaluation_markers(rows, self.bodyparts, self.pcutoff.value)
        path = Path(self.cfg["project_path"]) / image
        try:
            data, size = image_file_bytes(path)
        except (OSError, ValueError) as exc:
            self._set_status(f"Cannot show {image}: {exc}", "warning")
            data, size = None, None
        if self.image_canvas is None:
            self.image_canvas = attach_canvas(
                self.view_box,
                size or (640, 480),
                "posenb-eval-canvas",
                self._on_canvas_event,
                self._draw_markers,
                max_w=640,
                max_h=480,
                min_w=480,
            )
        if data is not None:
            self.image_canvas.set_image(data, size)
        else:
            self.image_canvas.clear_image()

    def _on_canvas_event(self, ev) -> None:
        from posenb.widgets._canvas import zoom_at

        ic = self.image_canvas
        if ev.kind == "wheel" and ev.x is not None and ic.view is not None:
            ic.set_view(zoom_at(ic.view, ev.x, ev.y, 0.8 if ev.delta > 0 else 1.25))
        elif ev.kind == "key" and ev.key in ("ArrowRight", "ArrowLeft"):
            self.step(1 if ev.key == "ArrowRight" else -1)
        elif ev.kind == "key" and ev.key == "r":
            ic.reset_view()

    def _draw_markers(self) -> None:
        from posenb.widgets._canvas import image_to_canvas

        ic = self.image_canvas
        layer = ic.layers[1]
        layer.clear()
        m = self.markers
        if m is None or ic.view is None:
            return
        view = ic.view
        size = max(3.0, float(self.cfg.get("dotsize", 8)) * 0.6 * min(view.zoom, 4.0))
        layer.line_width = 2
        for xy, part, shape in ((m.human_xy, m.human_part, "+"), (m.low_xy, m.low_part, "x")):
            for k in np.unique(part):
                pts = xy[part == k]
                cx, cy = image_to_canvas(view, pts[:, 0], pts[:, 1])
                layer.stroke_style = self.colors[k]
                layer.stroke_line_segments(marker_segments(np.stack([cx, cy], axis=1), size, shape))
        if len(m.confident_xy):
            cx, cy = image_to_canvas(view, m.confident_xy[:, 0], m.confident_xy[:, 1])
            colors = np.array(
                [[int(self.colors[k][i : i + 2], 16) for i in (1, 3, 5)] for k in m.confident_part]
            )
            layer.fill_styled_circles(cx, cy, size * 0.5, color=colors, alpha=0.9)

    def _draw_legend(self) -> None:
        items = "".join(
            f'<div><span style="color:{c};font-weight:bold">&#9632;</span> {html.escape(b)}</div>'
            for b, c in zip(self.bodyparts, self.colors)
        )
        self.legend.value = (
            f"<div style='padding-left:12px'>{items}<hr style='margin:4px 0'>"
            "<div><b>+</b> human label</div><div><b>&#9679;</b> prediction &ge; p-cutoff</div>"
            "<div><b>&times;</b> prediction &lt; p-cutoff</div></div>"
        )
