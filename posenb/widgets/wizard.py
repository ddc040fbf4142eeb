"""``ProjectWizard``: create or open a project, edit its config, see where it stands.

- Create: name, experimenter, working directory, videos picked on the server (path box + file browser; videos
  stay where they are, linked or copied) or uploaded from the browser, then ``posenb.create_new_project``.
  Every typed path is checked before anything is written (:func:`check_new_project`).
- Open: the path of a ``config.yaml`` (or its folder).
- Create a multi-animal project: tick the box, name the individuals and (optionally) the unique body parts.
- Config: body parts (of every individual, in a multi-animal project; its individuals and unique parts too),
  skeleton and the main values; parsed by :func:`form_to_config`, checked with ``validate_config`` (its
  ``ConfigError`` text is shown in the panel) and saved with ``write_config``. "net type" is the network posenb
  trains (posenb.yaml's ``net_type``, :func:`posenb.project.config.resolve_net_type`), not config.yaml's
  DeepLabCut ``default_net_type``.
- Status: :func:`posenb.project.status.project_status` as a table.
- Import labels: another tool's label file into the project (:class:`posenb.widgets.import_labels.LabelImporter`).
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import ipywidgets as widgets

from posenb.errors import ConfigError, PosenbError
from posenb.project.paths import VIDEO_EXTENSIONS, list_videos
from posenb.widgets._actions import status_html as _msg
from posenb.widgets._file_browser import FileBrowser, add_root, check_path
from posenb.widgets._panel import Panel
from posenb.widgets.wizard_config import ConfigTab
from posenb.widgets.wizard_forms import (
    check_new_project,
    form_to_config,
    parse_list,
    removed_labeled_parts,
    status_html,
)

__all__ = ["ProjectWizard", "check_new_project", "form_to_config", "removed_labeled_parts", "status_html"]

UPLOAD_FOLDER = "uploaded-videos"


class ProjectWizard(Panel, ConfigTab):
    """Create or open a project, edit its config.yaml, and show its status.

    ``on_project(callback)`` registers ``callback(config_path)``, called after a project is created or opened
    (the app uses it to switch every panel).
    """

    STATUS = "open_message"

    def __init__(self, config: str | None = None, working_directory: str | None = None):
        super().__init__()
        self.add_class("posenb-wizard")
        self.config_path: str | None = None
        self.cfg: dict | None = None
        self.current = widgets.HTML("No project open.")
        self.current.add_class("posenb-current-project")
        self.tabs = widgets.Tab()
        self.tabs.children = [
            self._build_open(),
            self._build_create(working_directory),
            self._build_edit(),
            self._build_status(),
            self._build_add_videos(),
            self._build_import(),
        ]
        self.tabs.titles = ("Open", "Create", "Config", "Status", "Add videos", "Import labels")
        self.children = [self.current, self.tabs]
        if config is not None:
            self.set_config(config)
        else:
            self.tabs.selected_index = 0

    # ------------------------------------------------------------------ building
    def _build_open(self):
        self.open_path = widgets.Text(
            placeholder="/path/to/project/config.yaml",
            description="config.yaml",
            layout=widgets.Layout(width="560px"),
        )
        self.open_path.add_class("posenb-open-path")
        self.open_button = widgets.Button(description="Open", button_style="primary")
        self.open_button.add_class("posenb-open-project")
        self.open_message = widgets.HTML()
        self.open_message.add_class("posenb-open-message")
        self.open_browser = FileBrowser(
            extensions=(".yaml",), pick_label="Open selected", css_prefix="posenb-open-browser"
        )
        self.open_browser.on_pick(lambda paths: self.open_project(paths[0]))
        self.open_button.on_click(lambda _: self.open_project(self.open_path.value))
        self.open_path.on_submit(lambda _: self.open_project(self.open_path.value))
        return widgets.VBox(
            [
                widgets.HBox([self.open_path, self.open_button]),
                self.open_message,
                widgets.HTML("<b>Or browse:</b>"),
                self.open_browser,
            ]
        )

    def _build_create(self, working_directory):
        L = widgets.Layout
        self.name_text = widgets.Text(description="Project", placeholder="reaching", layout=L(width="360px"))
        self.name_text.add_class("posenb-project-name")
        self.experimenter_text = widgets.Text(
            description="Experimenter", placeholder="Jane", layout=L(width="360px")
        )
        self.experimenter_text.add_class("posenb-experimenter")
        self.workdir_text = widgets.Text(
            value=str(working_directory or os.getcwd()), description="Work dir", layout=L(width="560px")
        )
        self.workdir_text.add_class("posenb-working-dir")
        self.video_path_text = widgets.Text(
            placeholder="/server/path/video.mp4 or a folder",
            description="Video path",
            layout=L(width="480px"),
        )
        self.video_path_text.add_class("posenb-video-path")
        self.add_video_button = widgets.Button(description="Add", layout=L(width="60px"))
        self.add_video_button.add_class("posenb-add-video")
        self.video_list = widgets.SelectMultiple(rows=4, description="Videos", layout=L(width="560px"))
        self.video_list.add_class("posenb-video-list")
        self.remove_video_button = widgets.Button(description="Remove selected", layout=L(width="140px"))
        self.upload = widgets.FileUpload(
            accept=",".join(VIDEO_EXTENSIONS), multiple=True, description="Upload videos"
        )
        self.upload.add_class("posenb-upload")
        self.copy_check = widgets.Checkbox(
            value=False, description="Copy videos into the project (default: link)", indent=False
        )
        self.copy_check.add_class("posenb-copy-videos")
        self.bodyparts_text = widgets.Text(
            description="Body parts",
            placeholder="snout, leftear, rightear, tailbase (optional)",
            layout=L(width="560px"),
        )
        self._build_multianimal_create()
        self.create_button = widgets.Button(
            description="Create project", button_style="primary", layout=L(width="140px")
        )
        self.create_button.add_class("posenb-create-project")
        self.create_message = widgets.HTML()
        self.create_message.add_class("posenb-create-message")
        self.video_browser = FileBrowser(start=self.workdir_text.value, css_prefix="posenb-video-browser")
        self.video_browser.on_pick(self.add_videos)
        self.add_video_button.on_click(lambda _: self.add_videos([self.video_path_text.value]))
        self.video_path_text.on_submit(lambda _: self.add_videos([self.video_path_text.value]))
        self.remove_video_button.on_click(lambda _: self._remove_videos())
        self.create_button.on_click(lambda _: self.create_project())
        hint = widgets.HTML(
            "<small>Videos on the server stay where they are (linked, or copied with the box ticked). "
            f"Uploads from your computer are saved to &lt;work dir&gt;/{UPLOAD_FOLDER}/ first; for large files "
            "prefer a server path.</small>"
        )
        return widgets.VBox(
            [
                self.name_text,
                self.experimenter_text,
                self.workdir_text,
                widgets.HBox([self.video_path_text, self.add_video_button]),
                widgets.Accordion(
                    children=[self.video_browser], titles=("Browse the server",), selected_index=None
                ),
                widgets.HBox([self.upload]),
                self.video_list,
                self.remove_video_button,
                self.copy_check,
                self.bodyparts_text,
                self.multianimal_check,
                self.multianimal_box,
                hint,
                self.create_button,
                self.create_message,
            ]
        )

    def _build_multianimal_create(self) -> None:
        """The Create tab's multi-animal box: individuals and unique parts, shown when the box is ticked."""
        L = widgets.Layout
        self.multianimal_check = widgets.Checkbox(
            value=False, description="Multi-animal project (several animals per frame)", indent=False
        )
        self.multianimal_check.add_class("posenb-multianimal")
        self.individuals_text = widgets.Text(
            description="Individuals",
            placeholder="individual1, individual2, individual3 (DeepLabCut's default)",
            layout=L(width="560px"),
        )
        self.individuals_text.add_class("posenb-individuals")
        self.unique_text = widgets.Text(
            description="Unique parts",
            placeholder="scene points labeled once per frame (optional)",
            layout=L(width="560px"),
        )
        self.unique_text.add_class("posenb-unique-bodyparts")
        self.multianimal_box = widgets.VBox([self.individuals_text, self.unique_text])
        self.multianimal_box.layout.display = "none"
        self.multianimal_check.observe(lambda _c: self._show_multianimal_fields(), names="value")

    def _build_status(self):
        self.status_html = widgets.HTML()
        self.status_html.add_class("posenb-project-status")
        refresh = widgets.Button(description="Refresh", icon="refresh")
        refresh.add_class("posenb-refresh-status")
        refresh.on_click(lambda _: self.refresh_status())
        return widgets.VBox([refresh, self.status_html])

    def _build_add_videos(self):
        from posenb.widgets.add_videos_panel import AddVideosPanel

        self.add_videos_panel = AddVideosPanel(on_added=lambda _c: (self.refresh_status(), self._notify()))
        return self.add_videos_panel

    def _build_import(self):
        from posenb.widgets.import_labels import LabelImporter

        self.importer = LabelImporter()
        self.importer.on_import(lambda: (self.reload_config(), self.refresh_status(), self._notify()))
        return self.importer

    # ------------------------------------------------------------------ actions
    def set_config(self, config: str) -> None:
        """Show project ``config`` (no callbacks: the caller switches the other panels itself)."""
        from posenb.project.config import read_config

        try:
            self.cfg = read_config(config)
        except PosenbError as exc:
            self.open_message.value = _msg(str(exc), "error")
            self.tabs.selected_index = 0
            return
        self.config_path = str(Path(self.cfg["project_path"]) / "config.yaml")
        add_root(self.cfg["project_path"])  # the open project is an allowed root of the file browsers
        self.add_videos_panel.set_config(self.config_path)
        self.importer.set_config(self.config_path)
        self.open_path.value = self.config_path
        self.current.value = (
            f"Project: <b>{html.escape(self.cfg['Task'])}</b> ({html.escape(self.config_path)})"
        )
        self._fill_form()
        self.refresh_status()
        self.tabs.selected_index = 3

    def open_project(self, path: str) -> str | None:
        """Open the project at ``path`` (config.yaml or its folder) and tell the listeners."""
        from posenb.project.config import read_config

        if not str(path).strip():
            self.open_message.value = _msg("Type the path of a project's config.yaml.", "error")
            return None
        try:
            p = check_path(path)  # inside the dashboard's allowed roots, '..' and links resolved
        except PosenbError as exc:
            self.open_message.value = _msg(str(exc), "error")
            return None
        if p.is_dir():
            p = p / "config.yaml"
        try:
            read_config(p)
        except PosenbError as exc:
            self.open_message.value = _msg(str(exc), "error")
            return None
        self.set_config(str(p))
        self.open_message.value = _msg(f"Opened {p}.", "ok")
        self._notify()
        return self.config_path

    def add_videos(self, paths: list[str]) -> None:
        """Add server paths (files or folders) to the list of videos of the project to create."""
        problems, added = [], []
        for raw in paths:
            raw = str(raw).strip()
            if not raw:
                continue
            try:
                p = check_path(raw)
            except PosenbError as exc:
                problems.append(str(exc))
                continue
            if not p.exists():
                problems.append(f"{p} does not exist on the server.")
                continue
            if p.is_dir():
                found = list_videos(p)
                if not found:
                    problems.append(f"{p} holds no video files.")
                    continue
            elif p.suffix.lower() not in VIDEO_EXTENSIONS:
                problems.append(f"{p.name} is not a video file.")
                continue
            if str(p) not in self.video_list.options:
                added.append(str(p))
        self.video_list.options = list(self.video_list.options) + added
        if problems:
            self.create_message.value = _msg("\n".join(problems), "error")
        elif added:
            self.create_message.value = _msg(f"Added {len(added)} video path(s).", "ok")
            self.video_path_text.value = ""

    def _remove_videos(self) -> None:
        keep = [v for v in self.video_list.options if v not in self.video_list.value]
        self.video_list.options = keep

    def _uploads(self) -> list[dict]:
        value = self.upload.value
        return list(value.values()) if isinstance(value, dict) else list(value or ())

    def create_project(self) -> str | None:
        """Check the inputs, save uploads, call ``create_new_project``, open the result."""
        import warnings

        from posenb.project.create import create_new_project

        name = self.name_text.value.strip()
        experimenter = self.experimenter_text.value.strip()
        wd = self.workdir_text.value.strip()
        videos = list(self.video_list.options)
        pending = self.video_path_text.value.strip()
        if pending and pending not in videos:
            videos.append(pending)
        uploads = self._uploads()
        problems = check_new_project(name, experimenter, videos, wd, n_uploads=len(uploads))
        for path in [wd] + videos:
            try:
                check_path(path or ".")
            except PosenbError as exc:
                problems.append(str(exc))
        bodyparts = parse_list(self.bodyparts_text.value)
        if len(set(bodyparts)) != len(bodyparts):
            problems.append("Body parts must be unique.")
        multianimal = bool(self.multianimal_check.value)
        individuals = parse_list(self.individuals_text.value) if multianimal else []
        unique = parse_list(self.unique_text.value) if multianimal else []
        if problems:
            self.create_message.value = _msg("\n".join(problems), "error")
            return None
        try:
            if uploads:
                folder = Path(wd).expanduser() / UPLOAD_FOLDER
                folder.mkdir(exist_ok=True)
                for up in uploads:
                    target = folder / Path(up["name"]).name
                    data = bytes(up["content"])
                    if target.exists() and target.stat().st_size != len(data):
                        raise ConfigError(f"{target} exists with different content; rename the upload.")
                    target.write_bytes(data)
                    videos.append(str(target))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                config = create_new_project(
                    name,
                    experimenter,
                    videos,
                    working_directory=wd,
                    copy_videos=self.copy_check.value,
                    multianimal=multianimal,
                    individuals=individuals or None,
                    bodyparts=bodyparts or None,
                    uniquebodyparts=unique or None,
                )
        except (PosenbError, OSError) as exc:
            self.create_message.value = _msg(f"Project not created: {exc}", "error")
            return None
        notes = [str(w.message) for w in caught]
        self.set_config(config)
        self.create_message.value = _msg("\n".join([f"Created {config}."] + notes), "warn" if notes else "ok")
        self._notify()
        return config

    def _show_multianimal_fields(self) -> None:
        self.multianimal_box.layout.display = None if self.multianimal_check.value else "none"

    def refresh_status(self) -> None:
        if self.config_path is None:
            self.status_html.value = "No project open."
            return
        try:
            self.status_html.value = status_html(self.config_path)
        except (PosenbError, OSError) as exc:
            self.status_html.value = _msg(str(exc), "error")

    def _notify(self) -> None:
        self._notify_project(self.config_path)
