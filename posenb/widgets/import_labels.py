"""``LabelImporter``: the "Import labels" tab of the project panel: import another tool's labels, and export
the project's labels for another tool.

It gathers the input and calls :func:`posenb.formats.api.import_labels` or
:func:`posenb.formats.api.export_labels`; the report or the error text is shown below the buttons. Typed paths
are confined to the dashboard's allowed roots (:mod:`posenb.io.roots`).
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as widgets

from posenb.errors import PosenbError
from posenb.widgets._actions import status_html
from posenb.widgets._file_browser import check_path
from posenb.widgets._panel import Panel

__all__ = ["LabelImporter", "FORMAT_OPTIONS"]

#: (label, format name) of the dropdown; "" = from the file name
FORMAT_OPTIONS = [
    ("from the file name", ""),
    ("SLEAP (.slp)", "slp"),
    ("NWB, ndx-pose (.nwb)", "nwb"),
    ("COCO keypoints (.json)", "coco"),
    ("Lightning Pose (CollectedData.csv)", "lightning_pose"),
    ("DeepLabCut (CollectedData_*.h5)", "dlc"),
]


class LabelImporter(Panel):
    """Import another tool's labels into the open project; ``on_import(callback)`` is called after a success."""

    STATUS = "message"

    def __init__(self, config: str | None = None):
        super().__init__()
        self.add_class("posenb-import-labels")
        self.config = config
        self._callbacks: list[Callable[[], None]] = []
        self.path = widgets.Text(
            placeholder="/path/to/labels.slp, .nwb, COCO .json, CollectedData.csv or CollectedData_<scorer>.h5",
            description="File",
            layout=widgets.Layout(width="620px"),
        )
        self.path.add_class("posenb-import-path")
        self.format = widgets.Dropdown(
            options=FORMAT_OPTIONS, value="", description="Format", layout=widgets.Layout(width="420px")
        )
        self.predictions = widgets.Checkbox(value=False, description="SLEAP: also predicted instances", indent=False)
        self.overwrite = widgets.Checkbox(value=False, description="Replace labels that differ", indent=False)
        self.button = widgets.Button(description="Import labels", button_style="primary", icon="download",
                                     layout=widgets.Layout(width="160px"))
        self.button.add_class("posenb-import-button")
        self.message = widgets.HTML()
        self.message.add_class("posenb-import-message")
        self.button.on_click(lambda _: self.run())
        self.export_path = widgets.Text(
            placeholder="/path/to/labels.slp, .nwb, coco.json or a folder/CollectedData.csv",
            description="To",
            layout=widgets.Layout(width="620px"),
        )
        self.export_path.add_class("posenb-export-path")
        self.export_format = widgets.Dropdown(
            options=[o for o in FORMAT_OPTIONS], value="", description="Format", layout=widgets.Layout(width="420px")
        )
        self.export_button = widgets.Button(description="Export labels", icon="upload",
                                            layout=widgets.Layout(width="160px"))
        self.export_button.add_class("posenb-export-button")
        self.export_message = widgets.HTML()
        self.export_message.add_class("posenb-export-message")
        self.export_button.on_click(lambda _: self.export())
        self.children = [
            widgets.HTML(
                "Labels of SLEAP, NWB (ndx-pose), COCO, Lightning Pose or another DeepLabCut project go to "
                "labeled-data/&lt;video&gt;/ with their frames; a new project takes their body parts and skeleton."
            ),
            self.path,
            self.format,
            widgets.HBox([self.predictions, self.overwrite]),
            self.button,
            self.message,
            widgets.HTML("<b>Export</b> the project's labels (with their frames) for SLEAP, NWB, COCO, Lightning Pose "
                         "or DeepLabCut."),
            self.export_path,
            self.export_format,
            self.export_button,
            self.export_message,
        ]

    def on_import(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def set_config(self, config: str | None) -> None:
        self.config = config

    def run(self):
        """Import the file; returns the :class:`ImportReport` (None after an error, shown in the panel)."""
        from posenb.formats.api import import_labels

        if not self.config:
            self._set_status("Open or create a project first.", "error")
            return None
        if not self.path.value.strip():
            self._set_status("Type the path of the file to import.", "error")
            return None
        try:
            source = check_path(self.path.value.strip())
        except PosenbError as exc:
            self._set_status(str(exc), "error")
            return None
        self.button.disabled = True
        self._set_status("Importing...", "info")
        try:
            report = import_labels(
                self.config, source, format=self.format.value or None,
                predictions=self.predictions.value, overwrite=self.overwrite.value,
            )
        except (PosenbError, ImportError, OSError) as exc:
            self._set_status(str(exc), "error")
            return None
        finally:
            self.button.disabled = False
        self._set_status(str(report), "warn" if report.notes else "ok")
        for cb in list(self._callbacks):
            cb()
        return report

    def export(self):
        """Export the project's labels; returns the files written (None after an error, shown in the panel)."""
        from posenb.formats.api import export_labels

        if not self.config:
            self.export_message.value = status_html("Open or create a project first.", "error")
            return None
        if not self.export_path.value.strip():
            self.export_message.value = status_html("Type the path of the file to write.", "error")
            return None
        try:
            target = check_path(self.export_path.value.strip())
            self.export_button.disabled = True
            self.export_message.value = status_html("Exporting...", "info")
            written = export_labels(self.config, target, format=self.export_format.value or None)
        except (PosenbError, ImportError, OSError) as exc:
            self.export_message.value = status_html(str(exc), "error")
            return None
        finally:
            self.export_button.disabled = False
        self.export_message.value = status_html(f"Wrote {len(written)} file(s): " + ", ".join(p.name for p in written[:5]), "ok")
        return written
