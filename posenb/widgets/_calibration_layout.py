"""The calibration panel's widgets: :class:`CalibrationLayout`, a mixin of
:class:`~posenb.widgets.calibration_view.CalibrationView` that builds its controls, connects them to the host's
actions (``open_typed``, ``detect``, ``calibrate``, ``drop``, ``keep``, ...) and lays them out; one image per
camera (:meth:`CalibrationLayout._build_views`) once the project's cameras are known."""

from __future__ import annotations

import ipywidgets as widgets

__all__ = ["CalibrationLayout"]

_STYLE = (
    "<style>.posenb-calib-table select{font-family:monospace;font-size:12px}"
    ".posenb-calib-rms-label{margin-right:14px}</style>"
)


class CalibrationLayout:
    """Mixin: the widgets of the calibration panel (see the module docstring)."""

    def _build(self, cbrow: int, cbcol: int) -> None:
        self._build_project_controls(cbrow, cbcol)
        self._build_review_controls()
        self._connect_and_lay_out()

    def _build_project_controls(self, cbrow: int, cbcol: int) -> None:
        """The 3D config path, Open, the project line and the board size."""
        L = widgets.Layout
        self.path_text = widgets.Text(
            placeholder="/path/to/<project>-3d/config.yaml",
            description="3D config",
            continuous_update=False,  # Enter or leaving the box opens the project
            layout=L(width="560px"),
        )
        self.path_text.add_class("posenb-calib-config")
        self.open_button = widgets.Button(description="Open", button_style="primary", layout=L(width="80px"))
        self.open_button.add_class("posenb-calib-open")
        self.project_html = widgets.HTML()
        self.project_html.add_class("posenb-calib-project")
        self.cbrow_input = widgets.BoundedIntText(
            value=cbrow, min=2, max=100, description="cbrow", layout=L(width="150px")
        )
        self.cbrow_input.add_class("posenb-calib-cbrow")
        self.cbcol_input = widgets.BoundedIntText(
            value=cbcol, min=2, max=100, description="cbcol", layout=L(width="150px")
        )
        self.cbcol_input.add_class("posenb-calib-cbcol")
        self._board_hint = widgets.HTML(
            "<small>inner corners per board column (cbrow) and row (cbcol): "
            "a 9x6 inner-corner board is cbrow=6, cbcol=9</small>"
        )

    def _build_review_controls(self) -> None:
        """Detect / Calibrate, the tuple table with Drop / Keep, the views, RMS errors, status and messages."""
        L = widgets.Layout
        self.detect_button = widgets.Button(description="Detect corners", icon="search", button_style="info")
        self.detect_button.add_class("posenb-calib-detect")
        self.calibrate_button = widgets.Button(description="Calibrate", icon="camera", button_style="primary")
        self.calibrate_button.add_class("posenb-calib-calibrate")
        self.order = widgets.Dropdown(
            options=[("by name", "name"), ("largest error first", "error")],
            value="name",
            description="Order",
            layout=L(width="240px"),
        )
        self.summary_html = widgets.HTML()
        self.summary_html.add_class("posenb-calib-summary")
        self.table = widgets.Select(options=[], rows=10, layout=L(width="760px"))
        self.table.add_class("posenb-calib-table")
        self.drop_button = widgets.Button(
            description="Drop",
            icon="trash",
            button_style="warning",
            disabled=True,
            tooltip="move the selected tuple to removed_calibration_images/",
        )
        self.drop_button.add_class("posenb-calib-drop")
        self.keep_button = widgets.Button(
            description="Keep",
            icon="undo",
            disabled=True,
            tooltip="move the selected tuple back to calibration_images/",
        )
        self.keep_button.add_class("posenb-calib-keep")
        self.views_box = widgets.HBox(layout=L(flex_flow="row wrap"))
        self.views_box.add_class("posenb-calib-views")
        self.rms_title = widgets.HTML()
        self.rms_box = widgets.HBox()
        self.rms_box.add_class("posenb-calib-rms")
        self.rms_warning = widgets.HTML()
        self.rms_warning.add_class("posenb-calib-rms-warning")
        self.status = widgets.HTML()
        self.status.add_class("posenb-status")
        self.log_html = widgets.HTML()
        self.log_html.add_class("posenb-calib-log")
        self._log_box = widgets.Accordion(children=[self.log_html], titles=("Messages",), selected_index=None)

    def _connect_and_lay_out(self) -> None:
        """Controls to their actions; the panel's children."""
        self.open_button.on_click(lambda _b: self.open_typed(self.path_text.value))
        self.path_text.observe(self._on_path, "value")
        self.detect_button.on_click(lambda _b: self.detect())
        self.calibrate_button.on_click(lambda _b: self.calibrate())
        self.drop_button.on_click(lambda _b: self.drop())
        self.keep_button.on_click(lambda _b: self.keep())
        self.table.observe(self._on_select, "value")
        self.order.observe(lambda _c: self._refresh_table(), "value")
        self.cbrow_input.observe(self._on_board_change, "value")
        self.cbcol_input.observe(self._on_board_change, "value")

        self.children = [
            widgets.HTML(_STYLE),
            widgets.HBox([self.path_text, self.open_button]),
            self.project_html,
            widgets.HBox([self.cbrow_input, self.cbcol_input, self._board_hint]),
            widgets.HBox([self.detect_button, self.calibrate_button]),
            self.rms_title, self.rms_box, self.rms_warning,
            widgets.HBox([self.summary_html, self.order]),
            self.table,
            widgets.HBox([self.drop_button, self.keep_button]),
            self.views_box,
            self.status,
            self._log_box,
        ]  # fmt: skip

    def _build_views(self) -> None:
        width = max(240, min(480, 960 // max(1, len(self.cameras))))
        self.image_widgets, self.captions, boxes = {}, {}, []
        for cam in self.cameras:
            image = widgets.Image(format="jpeg", layout=widgets.Layout(width=f"{width}px"))
            image.add_class("posenb-calib-image")
            caption = widgets.HTML()
            self.image_widgets[cam], self.captions[cam] = image, caption
            boxes.append(widgets.VBox([caption, image], layout=widgets.Layout(margin="0 8px 8px 0")))
        self.views_box.children = boxes
