"""``AddVideosPanel``: add videos to an open project (``posenb.add_new_videos``), the Project tab's "Add videos".

Videos are typed (a file or a folder) or picked in the confined file browser; "Add videos" calls
``add_new_videos(config, videos, copy_videos=...)`` once and lists what was added (and, from its warnings, what
was skipped and why). ``on_added(config)`` is called afterwards so the other tabs see the new videos.
"""

from __future__ import annotations

import html
import os
import warnings
from collections.abc import Callable

import ipywidgets as widgets

from posenb.errors import PosenbError
from posenb.widgets._file_browser import FileBrowser, check_path
from posenb.widgets._panel import Panel

__all__ = ["AddVideosPanel"]


class AddVideosPanel(Panel):
    """Pick videos on the server and add them to the project of ``config``."""

    STATUS = "message"

    def __init__(self, config: str | os.PathLike | None = None, on_added: Callable[[str], None] | None = None):
        super().__init__()
        self.add_class("posenb-add-videos-panel")
        self.added: list[str] = []
        self._on_added = on_added
        L = widgets.Layout
        self.path_text = widgets.Text(
            placeholder="/server/path/video.mp4 or a folder", description="Video path", layout=L(width="560px")
        )
        self.path_text.add_class("posenb-add-videos-path")
        self.list_button = widgets.Button(description="Put in list", layout=L(width="110px"))
        self.pending = widgets.SelectMultiple(options=[], rows=4, description="To add", layout=L(width="680px"))
        self.pending.add_class("posenb-add-videos-list")
        self.remove_button = widgets.Button(description="Remove selected", layout=L(width="140px"))
        self.copy_check = widgets.Checkbox(
            value=False, description="Copy videos into the project (default: link)", indent=False
        )
        self.add_button = widgets.Button(
            description="Add videos", icon="plus", button_style="primary", layout=L(width="140px")
        )
        self.add_button.add_class("posenb-add-videos")
        self.message = widgets.HTML()
        self.message.add_class("posenb-add-videos-message")
        self.browser = FileBrowser(pick_label="Put in list", css_prefix="posenb-add-videos-browser")
        self.browser.on_pick(self.queue)
        self.list_button.on_click(lambda _b: self.queue([self.path_text.value]))
        self.path_text.on_submit(lambda _t: self.queue([self.path_text.value]))
        self.remove_button.on_click(
            lambda _b: setattr(self.pending, "options", [v for v in self.pending.options if v not in self.pending.value])
        )
        self.add_button.on_click(lambda _b: self.add())
        self.children = [
            widgets.HBox([self.path_text, self.list_button]),
            widgets.Accordion(children=[self.browser], titles=("Browse the server",)),
            self.pending,
            widgets.HBox([self.remove_button, self.copy_check]),
            self.add_button,
            self.message,
        ]
        if config is not None:
            self.set_config(config)

    def set_config(self, config: str | os.PathLike) -> None:
        self.config = str(config)

    def queue(self, paths: list[str]) -> None:
        """Put server paths (files or folders, inside the allowed roots) in the list of videos to add."""
        problems, queued = [], []
        for raw in paths:
            if not str(raw).strip():
                problems.append("Type a video path or pick one in the browser first.")
                continue
            try:
                p = check_path(raw)
            except PosenbError as exc:
                problems.append(str(exc))
                continue
            if not p.exists():
                problems.append(f"{p} does not exist on the server.")
            elif str(p) not in self.pending.options:
                queued.append(str(p))
        self.pending.options = list(self.pending.options) + queued
        if problems:
            self._set_status("\n".join(problems), "error")
        else:
            self._set_status(f"{len(queued)} path(s) in the list; press 'Add videos'.", "info")
            self.path_text.value = ""

    def add(self) -> list[str]:
        """``posenb.add_new_videos(config, <the list>)``; returns the paths added to ``video_sets``."""
        import posenb

        if self.config is None:
            self._set_status("Open or create a project first.", "warning")
            return []
        videos = list(self.pending.options)
        if not videos and self.path_text.value.strip():
            self.queue([self.path_text.value])
            videos = list(self.pending.options)
        if not videos:
            self._set_status(
                "Nothing added: put one or more videos (or folders) in the list first.", "warning"
            )
            return []
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                added = posenb.add_new_videos(self.config, videos, copy_videos=bool(self.copy_check.value))
        except (PosenbError, OSError) as exc:
            self._set_status(f"Nothing added: {exc}", "error")
            return []
        notes = [str(w.message) for w in caught]
        self.added = list(added)
        self.pending.options = []
        if added:
            names = "".join(f"<br>&nbsp;&nbsp;{html.escape(os.path.basename(a))}" for a in added)
            self._set_status(
                "\n".join([f"Added {len(added)} video(s) to the project; extract their frames next."] + notes),
                "warn" if notes else "ok",
            )
            self.message.value += names
        else:
            self._set_status(
                "\n".join(["No video added (already in the project, or unreadable)."] + notes), "warning"
            )
        if self._on_added is not None:
            self._on_added(self.config)
        return self.added
