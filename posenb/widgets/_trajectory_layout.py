"""The controls, plots and layout of :class:`posenb.widgets.trajectory_viewer.TrajectoryViewer` (a mixin: the
actions the controls call -- ``load``, ``filter_predictions``, ... -- are the viewer's)."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from posenb.widgets._actions import ActionRunner
from posenb.widgets._trajectory_data import NEUTRAL

__all__ = ["TrajectoryLayout", "PLOTS"]

PLOTS = ("x", "y", "likelihood")


def _style_toggle(toggle, color: str) -> None:
    """A shown part's toggle names it in its colour, darkened until it reads on the grey button; a hidden
    part's toggle is grey and struck through. (ipywidgets' ToggleButton has no background colour style.)"""
    if toggle.value:
        rgb = np.array([int(color.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)], float)
        luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
        if luminance > 120:
            rgb *= 120 / luminance
        toggle.style.text_color = "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb))
        toggle.style.text_decoration = "none"
    else:
        toggle.style.text_color = "#999999"
        toggle.style.text_decoration = "line-through"


class TrajectoryLayout:
    """Builds the viewer's widgets (``_build``)."""

    def _build(self, shuffle: int, trainingsetindex: int) -> None:
        self._build_controls(shuffle, trainingsetindex)
        self._build_plots()
        self._build_actions()
        self._connect()
        self._lay_out()

    def _build_controls(self, shuffle: int, trainingsetindex: int) -> None:
        """Video, shuffle, raw/filtered, p-cutoff, body-part toggles, the frame view's box."""
        self.video_select = widgets.Dropdown(
            description="Video", options=[], layout=widgets.Layout(width="360px")
        )
        self.shuffle = widgets.BoundedIntText(
            value=shuffle, min=1, max=10_000, description="Shuffle", layout=widgets.Layout(width="150px")
        )
        self.trainingsetindex = trainingsetindex
        self.source = widgets.ToggleButtons(
            options=[("raw", "raw"), ("filtered", "filtered")], value="raw", description="Predictions"
        )
        self.source.style.button_width = "70px"
        self.pcutoff = widgets.FloatSlider(
            value=0.6, min=0.0, max=1.0, step=0.01, description="p-cutoff", continuous_update=False
        )
        self.pcutoff.add_class("posenb-pcutoff")
        self.parts_box = widgets.HBox(layout=widgets.Layout(flex_flow="row wrap"))
        self.part_toggles: list[widgets.ToggleButton] = []
        self._build_individuals()

        self.image_canvas = None  # an ImageCanvas sized for the video (made in load())
        self.view_box = widgets.VBox(layout=widgets.Layout(width="40%", overflow="auto"))

    def _build_individuals(self) -> None:
        """A multi-animal file's controls (hidden otherwise): which animal to show, names on the frame, legend."""
        self.individual_select = widgets.Dropdown(
            description="Animal",
            options=[("all", "all")],
            value="all",
            tooltip="show every individual, or one",
            layout=widgets.Layout(width="220px"),
        )
        self.individual_select.add_class("posenb-individual-select")
        self.names_check = widgets.Checkbox(value=True, description="names on the frame", indent=False)
        self.names_check.add_class("posenb-individual-names")
        self.legend = widgets.HTML()
        self.legend.add_class("posenb-individuals-legend")
        self.individuals_box = widgets.HBox(
            [self.individual_select, self.names_check, self.legend],
            layout=widgets.Layout(display="none", align_items="center"),
        )

    def _build_plots(self) -> None:
        """One bqplot figure per coordinate (x, y, likelihood) with a frame cursor and a click-to-scrub selector."""
        from bqplot import Axis, Figure, LinearScale, Lines
        from bqplot.interacts import IndexSelector

        self._xscale = LinearScale(min=0.0, max=1.0)
        self.lines: dict[str, Lines] = {}
        self.cursors: dict[str, Lines] = {}
        self.figures: dict[str, Figure] = {}
        self.selectors: dict[str, IndexSelector] = {}
        self.yscales: dict[str, LinearScale] = {}
        self.yaxes: dict[str, Axis] = {}
        for name in PLOTS:
            ys = LinearScale(min=0.0, max=1.0) if name == "likelihood" else LinearScale()
            lines = Lines(x=[], y=[], scales={"x": self._xscale, "y": ys}, stroke_width=1.2)
            cursor = Lines(
                x=[0, 0],
                y=[0, 1],
                scales={"x": self._xscale, "y": LinearScale(min=0.0, max=1.0)},
                colors=["#d62728"],
                stroke_width=1.5,
            )
            sel = IndexSelector(scale=self._xscale, marks=[lines], color="#d62728", line_width=0)
            sel.observe(self._on_select, "selected")
            fig = Figure(
                marks=[lines, cursor],
                # explicit tick formats: bqplot's automatic one breaks on a one-value domain ("invalid format")
                axes=[
                    Axis(scale=self._xscale, label="frame", tick_format="~s"),
                    Axis(
                        scale=ys,
                        orientation="vertical",
                        label=name + ("" if name == "likelihood" else " (px)"),
                        tick_format=".2f" if name == "likelihood" else ".4~g",
                        # a 150 px plot: about 5 round ticks (x and y get theirs from the data, see _refresh)
                        tick_values=[0.0, 0.25, 0.5, 0.75, 1.0] if name == "likelihood" else None,
                    ),
                ],
                fig_margin=dict(top=8, bottom=36, left=56, right=10),
                interaction=sel,
                layout=widgets.Layout(height="150px", width="100%"),
                animation_duration=0,
            )
            fig.add_class(f"posenb-plot-{name}")
            self.lines[name], self.cursors[name], self.figures[name], self.selectors[name] = (
                lines,
                cursor,
                fig,
                sel,
            )
            self.yscales[name], self.yaxes[name] = ys, fig.axes[1]

    def _build_actions(self) -> None:
        """Frame slider and Play; filter, labeled video, plots, outlier and frame extraction buttons; status."""
        self.frame = widgets.IntSlider(
            value=0,
            min=0,
            max=0,
            description="Frame",
            continuous_update=True,
            layout=widgets.Layout(width="100%"),
        )
        self.frame.add_class("posenb-frame-slider")
        self.play = widgets.Play(value=0, min=0, max=0, interval=50, description="Play")
        widgets.jslink((self.play, "value"), (self.frame, "value"))

        self.filtertype = widgets.Dropdown(
            options=["median", "arima", "spline"],
            value="median",
            description="Filter",
            layout=widgets.Layout(width="180px"),
        )
        self.filter_button = widgets.Button(description="Filter predictions", icon="filter")
        self.video_button = widgets.Button(description="Labeled video", icon="film")
        self.plot_button = widgets.Button(
            description="Save plots",
            icon="line-chart",
            tooltip="plot_trajectories: PNGs in plot-poses/<video>/",
        )
        self.outlier_algo = widgets.Dropdown(
            options=["jump", "uncertain", "fitting"],
            value="jump",
            description="Outliers",
            layout=widgets.Layout(width="180px"),
        )
        self.outlier_button = widgets.Button(description="Extract outlier frames", icon="search")
        self.pick_button = widgets.Button(
            description="Extract this frame",
            icon="plus",
            tooltip="Add the frame under the cursor to labeled-data with its predictions "
            "(outlieralgorithm='list')",
        )
        for b, cls in (
            (self.filter_button, "filter"),
            (self.video_button, "labeled-video"),
            (self.plot_button, "plot"),
            (self.outlier_button, "outliers"),
            (self.pick_button, "pick-frame"),
        ):
            b.add_class(f"posenb-{cls}-button")
            b.layout.width = "auto"  # the whole label (a fixed width cut "Extract outlier fr…")
        self.status = widgets.HTML()
        self.status.add_class("posenb-status")
        self._actions = ActionRunner(
            self._set_status,
            (self.filter_button, self.video_button, self.plot_button, self.outlier_button, self.pick_button),
            name="posenb-trajectory-action",
        )

    def _connect(self) -> None:
        """Controls to their actions."""
        self.video_select.observe(self._on_video, "value")
        self.shuffle.observe(lambda _c: self.load(), "value")
        self.source.observe(lambda _c: self.load(), "value")
        self.pcutoff.observe(lambda _c: self._refresh(), "value")
        self.individual_select.observe(self._on_individual, "value")
        self.names_check.observe(lambda _c: self._redraw_canvas(), "value")
        self.frame.observe(self._on_frame, "value")
        self.filter_button.on_click(lambda _b: self.filter_predictions())
        self.video_button.on_click(lambda _b: self.labeled_video())
        self.plot_button.on_click(lambda _b: self.save_plots())
        self.outlier_button.on_click(lambda _b: self.outlier_frames())
        self.pick_button.on_click(lambda _b: self.extract_frame())

    def _lay_out(self) -> None:
        """The viewer's children."""
        hint = widgets.HTML(
            "<small>Click a plot to scrub through the frames with the mouse, click again to stop; on the frame, "
            "wheel zooms, drag pans, &larr;/&rarr; step, 0 fits.</small>"
        )
        plots = widgets.VBox([self.figures[n] for n in PLOTS] + [hint], layout=widgets.Layout(width="60%"))
        self.children = [
            widgets.HBox([self.video_select, self.shuffle, self.source]),
            widgets.HBox([self.pcutoff, self.parts_box]),
            self.individuals_box,
            widgets.HBox([self.view_box, plots]),
            widgets.HBox([self.play, self.frame]),
            widgets.HBox(
                [
                    self.filtertype,
                    self.filter_button,
                    self.video_button,
                    self.plot_button,
                    self.outlier_algo,
                    self.outlier_button,
                    self.pick_button,
                ],
                layout=widgets.Layout(flex_flow="row wrap"),
            ),
            self.status,
        ]

    def _make_part_toggles(self) -> None:
        """One toggle per body part, in its colour (kept on or off across reloads); a multi-animal file's
        colours are the individuals', so its toggles are dark. Offers the ``swap`` outliers for such a file."""
        old = {t.description: t.value for t in self.part_toggles}
        toggles = []
        colors = [NEUTRAL] * len(self.bodyparts) if self.individuals else self.colors
        for bp, color in zip(self.bodyparts, colors):
            t = widgets.ToggleButton(
                value=old.get(bp, True),
                description=bp,
                tooltip=f"show or hide {bp} on the frame and the plots",
                layout=widgets.Layout(width="auto"),
            )
            t.style.font_weight = "bold"
            t.add_class("posenb-part-toggle")
            _style_toggle(t, color)
            t.observe(lambda c, color=color: (_style_toggle(c["owner"], color), self._refresh()), "value")
            toggles.append(t)
        self.part_toggles = toggles
        self.parts_box.children = toggles
        algos = ["jump", "uncertain", "fitting"] + (["swap"] if self.individuals else [])
        if list(self.outlier_algo.options) != algos:
            current = self.outlier_algo.value
            self.outlier_algo.options = algos
            self.outlier_algo.value = current if current in algos else "jump"
