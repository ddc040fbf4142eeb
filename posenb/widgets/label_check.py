"""``CheckLabelsView``: run ``check_labels`` and browse the annotated images of ``labeled-data/<stem>_labeled``.

The panel calls ``posenb.post.check_labels.check_labels(config)`` (which draws the labels on copies of the
frames) and shows the results one at a time, as PNG/JPEG bytes in an ``ipywidgets.Image``.
"""

from __future__ import annotations

import html
from pathlib import Path

import ipywidgets as widgets

from posenb.errors import PosenbError
from posenb.widgets._panel import Panel
from posenb.widgets.labeler_io import list_images

__all__ = ["CheckLabelsView", "checked_folders"]


def checked_folders(project_path: str | Path) -> list[str]:
    """The ``<stem>_labeled`` folders of ``labeled-data`` that hold images, sorted."""
    root = Path(project_path) / "labeled-data"
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir() if p.is_dir() and p.name.endswith("_labeled") and list_images(p)
    )


class CheckLabelsView(Panel):
    """Run ``check_labels`` and page through the annotated frames, folder by folder."""

    STATUS = "message"

    def __init__(self, config: str | None = None):
        super().__init__()
        self.add_class("posenb-check-labels")
        self.images: list[str] = []
        L = widgets.Layout
        self.run_button = widgets.Button(
            description="Run check_labels", icon="check", button_style="primary", layout=L(width="170px")
        )
        self.run_button.add_class("posenb-run-check-labels")
        self.folder_select = widgets.Dropdown(description="Folder", layout=L(width="320px"))
        self.folder_select.add_class("posenb-check-folder")
        self.prev_button = widgets.Button(description="Previous", icon="arrow-left", layout=L(width="100px"))
        self.prev_button.add_class("posenb-check-prev")
        self.next_button = widgets.Button(description="Next", icon="arrow-right", layout=L(width="90px"))
        self.next_button.add_class("posenb-check-next")
        self.slider = widgets.IntSlider(
            min=0, max=0, description="Image", continuous_update=False, layout=L(width="420px")
        )
        self.slider.add_class("posenb-check-slider")
        self.caption = widgets.HTML()
        self.caption.add_class("posenb-check-caption")
        # shown at the image's own size (never upscaled: check_labels draws at full resolution), hidden when empty
        self.image = widgets.Image(format="png", layout=L(max_width="960px", display="none"))
        self.image.add_class("posenb-check-image")
        self.legend = widgets.HTML()
        self.legend.add_class("posenb-check-legend")
        self.message = widgets.HTML()
        self.message.add_class("posenb-check-message")
        self.output = widgets.Output(layout=L(max_height="100px", overflow="auto"))

        self.run_button.on_click(lambda _: self.run())
        self.folder_select.observe(lambda c: self.open_folder(c["new"]) if c["new"] else None, names="value")
        self.slider.observe(lambda c: self.show(c["new"]), names="value")
        self.prev_button.on_click(lambda _: self._step(-1))
        self.next_button.on_click(lambda _: self._step(1))
        self.children = [
            widgets.HBox([self.run_button, self.folder_select]),
            widgets.HBox([self.prev_button, self.slider, self.next_button]),
            self.caption,
            widgets.HBox([self.image, self.legend], layout=L(align_items="flex-start")),
            self.message,
            self.output,
        ]
        if config is not None:
            self.set_config(config)

    def set_config(self, config: str) -> None:
        from posenb.project.config import read_config

        self.config_path = str(config)
        try:
            self.cfg = read_config(config)
        except PosenbError as exc:
            self._set_message(str(exc), "error")
            return
        self.refresh()

    def refresh(self) -> None:
        """List the ``*_labeled`` folders and show the first one."""
        folders = checked_folders(self.cfg["project_path"]) if self.cfg else []
        current = self.folder_select.value
        self.folder_select.options = folders
        self.legend.value = _legend_html(self.cfg) if folders else ""
        if not folders:
            self.images = []
            self.image.value = b""
            self.image.layout.display = "none"
            self.caption.value = ""
            self._set_message("No checked labels yet: press 'Run check_labels'.")
        elif current in folders:
            self.open_folder(current)
        else:
            self.folder_select.value = folders[0]

    def run(self) -> bool:
        """Call ``check_labels(config)`` and show its output."""
        if self.cfg is None:
            self._set_message("Open a project first.", "error")
            return False
        try:
            from posenb.post.check_labels import check_labels
        except ImportError:
            self._set_message(
                "check_labels is not available in this installation (posenb.post.check_labels).", "error"
            )
            return False
        self.output.clear_output()
        self._set_message("Drawing the labels on the frames...")
        try:
            with self.output:
                check_labels(self.config_path)
        except (PosenbError, OSError) as exc:
            self._set_message(f"check_labels failed: {exc}", "error")
            return False
        self.refresh()
        n = len(self.folder_select.options)
        self._set_message(f"check_labels wrote {n} folder(s) of annotated frames.", "ok")
        return True

    @property
    def folder(self) -> Path | None:
        if self.cfg is None or not self.folder_select.value:
            return None
        return Path(self.cfg["project_path"]) / "labeled-data" / self.folder_select.value

    def open_folder(self, name: str) -> None:
        folder = Path(self.cfg["project_path"]) / "labeled-data" / name
        self.images = list_images(folder)
        with self.slider.hold_trait_notifications():
            self.slider.max = max(len(self.images) - 1, 0)
            self.slider.value = 0
        self.show(0)

    def show(self, index: int) -> None:
        """Show image ``index`` of the current folder."""
        if not self.images or self.folder is None:
            return
        index = int(min(max(index, 0), len(self.images) - 1))
        if self.slider.value != index:
            self.slider.value = index
            return
        path = self.folder / self.images[index]
        data = path.read_bytes()
        self.image.format = "jpeg" if path.suffix.lower() in (".jpg", ".jpeg") else "png"
        self.image.value = data
        size = _image_size(data)
        self.image.layout.width = f"{size[0]}px" if size else None
        self.image.layout.display = None
        self.caption.value = f"<b>{html.escape(self.folder.name)}/{html.escape(path.name)}</b> ({index + 1}/{len(self.images)})"

    def _step(self, delta: int) -> None:
        self.show(self.slider.value + delta)



def _image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` of PNG or JPEG bytes (None if unknown), read with OpenCV's decoder."""
    import cv2
    import numpy as np

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return None if img is None else (int(img.shape[1]), int(img.shape[0]))


def _legend_html(cfg: dict | None) -> str:
    """The body parts in the colours ``check_labels`` draws them with (config ``colormap``), one per line."""
    if not cfg or not cfg.get("bodyparts"):
        return ""
    from posenb.post.check_labels import label_colors

    parts = list(cfg["bodyparts"])
    try:
        colors = label_colors(cfg.get("colormap") or "rainbow", len(parts))
    except PosenbError:
        return ""
    rows = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;border-radius:6px;margin-right:6px;'
        f'background:rgb({int(c[0])},{int(c[1])},{int(c[2])})"></span>{html.escape(p)}</div>'
        for p, c in zip(parts, colors)
    )
    return f'<div style="padding-left:12px"><b>Body parts</b>{rows}</div>'

