"""The controls of :class:`posenb.widgets.frame_grabber.FrameGrabber` and their layout (a mixin: the actions they
call -- ``show_frame``, ``grab``, ``extract``, ... -- are the grabber's)."""

from __future__ import annotations

import ipywidgets as widgets

__all__ = ["GrabberControls"]


class GrabberControls:
    """Builds the grabber's widgets (``_make_*``), wires them (``_connect``) and lays them out (``_lay_out``)."""

    def _make_scrub_controls(self) -> None:
        """Video choice, frame slider, Play and step buttons."""
        L = widgets.Layout
        self.video_select = widgets.Dropdown(description="Video", layout=L(width="360px"))
        self.video_select.add_class("posenb-video-select")
        self.slider = widgets.IntSlider(
            min=0, max=0, description="Frame", continuous_update=True, layout=L(width="520px")
        )
        self.slider.add_class("posenb-frame-slider")
        self.play = widgets.Play(min=0, max=0, interval=100, step=1, show_repeat=False)
        self.play.add_class("posenb-play")
        widgets.jslink((self.play, "value"), (self.slider, "value"))
        self.step_buttons = []
        for step, label in ((-10, "-10"), (-1, "-1"), (1, "+1"), (10, "+10")):
            b = widgets.Button(description=label, layout=L(width="48px"))
            b.add_class(f"posenb-step-{'back' if step < 0 else 'forward'}-{abs(step)}")
            b.on_click(lambda _b, s=step: self.show_frame(self.slider.value + s))
            self.step_buttons.append(b)
        self.frame_info = widgets.HTML()
        self.frame_info.add_class("posenb-frame-info")

    def _make_grab_controls(self) -> None:
        """Grab one frame or a range; the crop box."""
        L = widgets.Layout
        self.grab_button = widgets.Button(description="Grab frame", icon="camera", button_style="primary")
        self.grab_button.add_class("posenb-grab")
        self.range_start = widgets.BoundedIntText(description="from", min=0, max=0, layout=L(width="150px"))
        self.range_stop = widgets.BoundedIntText(description="to", min=0, max=0, layout=L(width="150px"))
        self.range_step = widgets.BoundedIntText(
            value=10, min=1, max=100000, description="every", layout=L(width="150px")
        )
        for w, c in ((self.range_start, "start"), (self.range_stop, "stop"), (self.range_step, "step")):
            w.add_class(f"posenb-range-{c}")
        self.range_button = widgets.Button(description="Grab range")
        self.range_button.add_class("posenb-grab-range")
        self.crop_check = widgets.Checkbox(
            value=False, description="save cropped to the crop box", indent=False
        )
        self.crop_check.add_class("posenb-crop-frames")
        self.crop_mode = widgets.ToggleButton(
            value=False,
            description="Draw crop box",
            icon="crop",
            tooltip="then drag a rectangle on the frame; 'Save crop' writes it to config.yaml",
        )
        self.crop_mode.add_class("posenb-crop-mode")
        self.crop_text = widgets.Text(
            description="crop", placeholder="x1, x2, y1, y2", layout=L(width="260px")
        )
        self.crop_text.add_class("posenb-crop-text")
        self.save_crop_button = widgets.Button(description="Save crop")
        self.save_crop_button.add_class("posenb-save-crop")

    def _make_extract_controls(self) -> None:
        """Automatic extraction, the list of extracted frames, messages, the canvas box."""
        L = widgets.Layout
        self.algo = widgets.Dropdown(
            options=[("k-means", "kmeans"), ("uniform", "uniform")], value="kmeans", description="Algorithm"
        )
        self.algo.add_class("posenb-extract-algo")
        self.n_pick = widgets.BoundedIntText(
            value=20, min=1, max=100000, description="frames", layout=L(width="180px")
        )
        self.n_pick.add_class("posenb-numframes2pick")
        self.scope = widgets.Dropdown(
            options=[("this video", "one"), ("all videos", "all")], value="one", layout=L(width="130px")
        )
        self.extract_button = widgets.Button(description="Extract", icon="magic", button_style="primary")
        self.extract_button.add_class("posenb-extract")
        self.progress = widgets.Output(layout=L(max_height="120px", overflow="auto"))
        self.progress.add_class("posenb-extract-progress")
        self.frame_list = widgets.SelectMultiple(rows=8, layout=L(width="260px"))
        self.frame_list.add_class("posenb-extracted-list")
        self.delete_button = widgets.Button(
            description="Delete selected", icon="trash", button_style="danger"
        )
        self.delete_button.add_class("posenb-delete-frames")
        self.list_info = widgets.HTML()
        self.message = widgets.HTML()
        self.message.add_class("posenb-grabber-message")
        self.canvas_box = widgets.Box(layout=widgets.Layout(flex="0 0 auto"))

    def _connect(self) -> None:
        """Buttons and fields to their actions."""
        self.video_select.observe(lambda c: self.open_video(c["new"]) if c["new"] else None, names="value")
        self.slider.observe(lambda c: self.show_frame(c["new"]), names="value")
        self.grab_button.on_click(lambda _: self.grab())
        self.range_button.on_click(
            lambda _: self.grab_range(self.range_start.value, self.range_stop.value, self.range_step.value)
        )
        self.save_crop_button.on_click(lambda _: self.save_crop())
        self.crop_mode.observe(
            lambda c: self._set_message("Drag a rectangle on the frame." if c["new"] else ""), names="value"
        )
        self.extract_button.on_click(lambda _: self.extract())
        self.delete_button.on_click(lambda _: self.delete_selected())
        self.frame_list.observe(self._on_list_select, names="value")
        self.crop_text.observe(
            lambda _c: self.image_canvas.redraw(overlays_only=True) if self.image_canvas else None,
            names="value",
        )

    def _lay_out(self) -> None:
        """The panel's children."""
        L = widgets.Layout
        scrub = widgets.HBox([self.play, *self.step_buttons, self.frame_info], layout=L(align_items="center"))
        grab = widgets.VBox(
            [
                widgets.HTML("<b>Grab</b>"),
                self.grab_button,
                widgets.HBox([self.range_start, self.range_stop]),
                widgets.HBox([self.range_step, self.range_button]),
                self.crop_check,
                widgets.HTML("<b>Crop box</b>"),
                self.crop_mode,
                widgets.HBox([self.crop_text, self.save_crop_button]),
                widgets.HTML("<b>Automatic extraction</b> (extract_frames)"),
                self.algo,
                widgets.HBox([self.n_pick, self.scope]),
                self.extract_button,
            ],
            layout=L(margin="0 0 0 8px"),
        )
        listing = widgets.VBox(
            [widgets.HTML("<b>Extracted frames</b>"), self.frame_list, self.list_info, self.delete_button],
            layout=L(margin="0 0 0 8px"),
        )
        from posenb.widgets.label_assist import FrameRanking  # noqa: PLC0415

        self.ranking = FrameRanking()
        self.ranking.on_extracted(lambda _table: self.refresh_list())
        self.ranking_box = widgets.Accordion(
            children=[self.ranking],
            titles=("Frames to label next (ranked by the model)",),
            selected_index=None,
        )
        self.children = [
            self.video_select,
            self.slider,
            scrub,
            widgets.HBox([self.canvas_box, grab, listing], layout=L(flex_flow="row wrap")),
            self.message,
            self.progress,
            self.ranking_box,
        ]
