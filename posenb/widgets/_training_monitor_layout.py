"""The controls, the loss plot and the layout of :class:`posenb.widgets.training_monitor.TrainingMonitor` (a
mixin: the actions the controls call -- ``start``, ``stop``, ... -- are the monitor's)."""

from __future__ import annotations

import ipywidgets as widgets

__all__ = ["TrainingMonitorLayout"]


class TrainingMonitorLayout:
    """Builds the monitor's widgets (``_build``)."""

    def _build(self) -> None:
        self._build_settings()
        self._build_run_controls()
        self._build_plot()
        self._connect_and_lay_out()

    def _build_settings(self) -> None:
        """Shuffle, network and the training settings."""
        self.shuffle_select = widgets.Dropdown(
            description="Shuffle", options=[], layout=widgets.Layout(width="300px")
        )
        self.shuffle_select.add_class("posenb-shuffle")
        self.refresh_button = widgets.Button(
            icon="refresh", tooltip="Rescan the model folders", layout=widgets.Layout(width="40px")
        )
        self.maxiters = widgets.BoundedIntText(
            value=3000, min=1, max=10**9, description="Max iters", layout=widgets.Layout(width="190px")
        )
        self.batch_size = widgets.BoundedIntText(
            value=8, min=1, max=4096, description="Batch size", layout=widgets.Layout(width="170px")
        )
        self.saveiters = widgets.BoundedIntText(
            value=1000, min=1, max=10**9, description="Save every", layout=widgets.Layout(width="190px")
        )
        self.displayiters = widgets.BoundedIntText(
            value=50, min=1, max=10**9, description="Log every", layout=widgets.Layout(width="170px")
        )
        self.net_type = widgets.Dropdown(
            description="Network", options=[], layout=widgets.Layout(width="260px")
        )
        for w, cls in (
            (self.maxiters, "maxiters"),
            (self.batch_size, "batch-size"),
            (self.saveiters, "saveiters"),
            (self.displayiters, "displayiters"),
            (self.net_type, "net-type"),
        ):
            w.add_class(f"posenb-train-{cls}")

    def _build_run_controls(self) -> None:
        """Resume / start fresh, Start, Stop, Follow log, progress, stats and status."""
        self.mode = widgets.ToggleButtons(
            options=[("Resume", "resume"), ("Start fresh", "fresh")],
            value="resume",
            tooltips=[
                "Continue from the newest snapshot (up to Max iters)",
                "Train from the pretrained backbone; the old snapshots move to train/previous-<n>/",
            ],
        )
        self.mode.style.button_width = "100px"
        self.mode.add_class("posenb-train-mode")
        self.mode_hint = widgets.HTML()
        self.mode_hint.add_class("posenb-train-mode-hint")
        self.mode.observe(lambda _c: self._show_mode(), "value")
        self.maxiters.observe(lambda _c: self._show_mode(), "value")
        self.start_button = widgets.Button(description="Start", icon="play", button_style="success")
        self.stop_button = widgets.Button(
            description="Stop", icon="stop", button_style="danger", disabled=True
        )
        self.follow_button = widgets.ToggleButton(
            description="Follow log",
            icon="eye",
            value=False,
            tooltip="Follow learning_stats.csv of a training started elsewhere",
        )
        self.start_button.add_class("posenb-train-start")
        self.stop_button.add_class("posenb-train-stop")
        self.follow_button.add_class("posenb-train-follow")
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="300px"))
        self.stats = widgets.HTML()
        self.stats.add_class("posenb-train-stats")
        self.status = widgets.HTML()
        self.status.add_class("posenb-status")

    def _build_plot(self) -> None:
        """The loss and learning-rate plot (bqplot) and the snapshot list."""
        from bqplot import Axis, Figure, LinearScale, Lines

        xs = LinearScale()
        self.loss_scale = LinearScale(min=0.0)
        self.lr_scale = LinearScale(min=0.0)
        self.loss_line = Lines(
            x=[],
            y=[],
            scales={"x": xs, "y": self.loss_scale},
            colors=["#1f77b4"],
            labels=["loss"],
            display_legend=True,
            marker="circle",
            marker_size=12,
        )
        self.lr_line = Lines(
            x=[],
            y=[],
            scales={"x": xs, "y": self.lr_scale},
            colors=["#ff7f0e"],
            labels=["learning rate"],
            display_legend=True,
            line_style="dashed",
        )
        self.figure = Figure(
            marks=[self.loss_line, self.lr_line],
            # explicit tick formats: bqplot's automatic one fails on a one-point domain ("invalid format"),
            # after which the front end drops every later update of the marks
            axes=[
                Axis(scale=xs, label="iteration", tick_format="~s"),
                Axis(
                    scale=self.loss_scale,
                    orientation="vertical",
                    label="loss",
                    tick_format=".3~g",
                    label_offset="50px",
                ),
                Axis(
                    scale=self.lr_scale,
                    orientation="vertical",
                    side="right",
                    label="learning rate",
                    tick_format=".2~e",
                    label_offset="60px",
                ),
            ],
            fig_margin=dict(top=20, bottom=40, left=70, right=80),
            legend_location="top-right",
            animation_duration=0,
            layout=widgets.Layout(height="320px", width="100%"),
        )
        self.figure.add_class("posenb-train-figure")
        self.snapshots = widgets.Select(
            options=[], rows=5, description="Snapshots", layout=widgets.Layout(width="360px")
        )
        self.snapshots.add_class("posenb-snapshots")

    def _connect_and_lay_out(self) -> None:
        """Controls to their actions; the monitor's children."""
        self.shuffle_select.observe(self._on_shuffle, "value")
        self.refresh_button.on_click(lambda _b: self._scan_shuffles())
        self.start_button.on_click(lambda _b: self.start())
        self.stop_button.on_click(lambda _b: self.stop())
        self.follow_button.observe(self._on_follow_toggle, "value")

        self.children = [
            widgets.HBox([self.shuffle_select, self.refresh_button, self.net_type]),
            widgets.HBox([self.maxiters, self.batch_size, self.saveiters, self.displayiters]),
            widgets.HBox([self.mode, self.mode_hint]),
            widgets.HBox([self.start_button, self.stop_button, self.follow_button, self.progress]),
            self.stats,
            self.figure,
            self.snapshots,
            self.status,
        ]
