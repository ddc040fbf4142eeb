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

import copy
import html
import os
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets

from posenb.errors import ConfigError, PosenbError
from posenb.project.paths import VIDEO_EXTENSIONS, list_videos
from posenb.widgets._actions import status_html as _msg
from posenb.widgets._file_browser import FileBrowser, add_root, check_path
from posenb.widgets.wizard_forms import (
    check_new_project,
    config_key,
    form_to_config,
    parse_list,
    removed_labeled_individuals,
    removed_labeled_parts,
    status_html,
)

__all__ = ["ProjectWizard", "check_new_project", "form_to_config", "removed_labeled_parts", "status_html"]

UPLOAD_FOLDER = "uploaded-videos"


class ProjectWizard(widgets.VBox):
    """Create or open a project, edit its config.yaml, and show its status.

    ``on_project(callback)`` registers ``callback(config_path)``, called after a project is created or opened
    (the app uses it to switch every panel).
    """

    def __init__(self, config: str | None = None, working_directory: str | None = None):
        super().__init__()
        self.add_class("posenb-wizard")
        self.config_path: str | None = None
        self.cfg: dict | None = None
        self._callbacks: list[Callable[[str], None]] = []
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

    def _build_edit(self):
        L = widgets.Layout
        self.bodyparts_area = widgets.Textarea(
            description="Body parts", placeholder="one per line", layout=L(width="360px", height="140px")
        )
        self.bodyparts_area.add_class("posenb-bodyparts")
        self.skeleton_area = widgets.Textarea(
            description="Skeleton",
            placeholder="snout, leftear (one bone per line)",
            layout=L(width="360px", height="140px"),
        )
        self.skeleton_area.add_class("posenb-skeleton")
        self.individuals_area = widgets.Textarea(
            description="Individuals", placeholder="one per line", layout=L(width="360px", height="100px")
        )
        self.individuals_area.add_class("posenb-config-individuals")
        self.unique_area = widgets.Textarea(
            description="Unique parts",
            placeholder="one per line (optional)",
            layout=L(width="360px", height="100px"),
        )
        self.unique_area.add_class("posenb-config-uniquebodyparts")
        self.multianimal_note = widgets.HTML(
            "<small>Multi-animal project: the body parts are labeled on every individual "
            "(multianimalbodyparts); unique parts once per frame (stored under 'single').</small>"
        )
        self.multianimal_edit = widgets.VBox(
            [self.multianimal_note, widgets.HBox([self.individuals_area, self.unique_area])]
        )
        self.multianimal_edit.layout.display = "none"
        self.fields = {
            "numframes2pick": widgets.Text(description="numframes2pick"),
            "start": widgets.Text(description="start"),
            "stop": widgets.Text(description="stop"),
            "TrainingFraction": widgets.Text(description="TrainingFraction"),
            "pcutoff": widgets.Text(description="pcutoff"),
            "dotsize": widgets.Text(description="dotsize"),
            "alphavalue": widgets.Text(description="alphavalue"),
            "colormap": widgets.Text(description="colormap"),
            "skeleton_color": widgets.Text(description="skeleton_color"),
            "net_type": widgets.Text(
                description="net type", tooltip="the network posenb trains (posenb.yaml's net_type)"
            ),
            "batch_size": widgets.Text(description="batch_size"),
            "iteration": widgets.Text(description="iteration"),
            "snapshotindex": widgets.Text(description="snapshotindex"),
        }
        for key, w in self.fields.items():
            w.add_class(f"posenb-config-{key}")
            w.style.description_width = "120px"
        self.save_config_button = widgets.Button(description="Save config", button_style="primary")
        self.save_config_button.add_class("posenb-save-config")
        self.reload_config_button = widgets.Button(description="Reload")
        self.config_message = widgets.HTML()
        self.config_message.add_class("posenb-config-message")
        self.save_config_button.on_click(lambda _: self.save_config())
        self.reload_config_button.on_click(lambda _: self.reload_config())
        grid = widgets.GridBox(list(self.fields.values()), layout=L(grid_template_columns="repeat(2, 300px)"))
        return widgets.VBox(
            [
                widgets.HBox([self.bodyparts_area, self.skeleton_area]),
                self.multianimal_edit,
                grid,
                widgets.HBox([self.save_config_button, self.reload_config_button]),
                self.config_message,
            ]
        )

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
    def on_project(self, callback: Callable[[str], None]) -> None:
        self._callbacks.append(callback)

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

    def _fill_form(self) -> None:
        from posenb.project.config import project_parts, resolve_net_type

        cfg = self.cfg
        if cfg is None:
            return
        parts = project_parts(cfg)
        self.bodyparts_area.value = "\n".join(parts.bodyparts)
        self.individuals_area.value = "\n".join(parts.individuals)
        self.unique_area.value = "\n".join(parts.unique_bodyparts)
        self.multianimal_edit.layout.display = None if parts.multianimal else "none"
        self.skeleton_area.value = "\n".join(f"{a}, {b}" for a, b in (cfg.get("skeleton") or []))
        for key, w in self.fields.items():
            value = resolve_net_type(cfg)[0] if key == "net_type" else cfg.get(key)
            if key == "TrainingFraction":
                value = ", ".join(str(v) for v in (value or []))
            w.value = "" if value is None else str(value)
        self.config_message.value = ""
        # what the form showed: only fields the user changed are written, so edits made meanwhile by another
        # panel (e.g. a body part added in the labeler) are not undone by a stale form
        self._form_snapshot = self.form_values()
        self._cfg_snapshot = copy.deepcopy(cfg)
        self._net_snapshot = self.fields["net_type"].value

    def reload_config(self) -> None:
        """Re-read config.yaml into the form (dropping unsaved edits)."""
        from posenb.project.config import read_config

        if self.config_path is None:
            return
        try:
            self.cfg = read_config(self.config_path)
        except PosenbError as exc:
            self.config_message.value = _msg(str(exc), "error")
            return
        self._fill_form()

    def form_values(self) -> dict:
        """The form as typed: config.yaml keys (see :func:`form_to_config`) and ``net_type``."""
        values = {key: w.value for key, w in self.fields.items()}
        values["bodyparts"] = self.bodyparts_area.value
        values["skeleton"] = self.skeleton_area.value
        if self.cfg and self.cfg.get("multianimalproject"):
            values["individuals"] = self.individuals_area.value
            values["uniquebodyparts"] = self.unique_area.value
        return values

    def _edited(self, current: dict) -> dict:
        """The form fields changed since the form was filled; refused when config.yaml (or posenb.yaml's
        net_type) changed meanwhile in the field's own key."""
        from posenb.project.config import resolve_net_type

        snapshot = getattr(self, "_form_snapshot", {})
        edited = {k: v for k, v in self.form_values().items() if snapshot.get(k) != v}

        def on_disk(key: str, cfg: dict, net: str):
            return net if key == "net_type" else cfg.get(config_key(key, cfg))

        now = resolve_net_type(current)[0]
        changed = [
            k
            for k in edited
            if on_disk(k, current, now) != on_disk(k, self._cfg_snapshot, self._net_snapshot)
        ]
        if changed:
            raise ConfigError(
                f"config.yaml was changed meanwhile ({', '.join(changed)}); press Reload to see it, then edit again."
            )
        return edited

    @staticmethod
    def _refuse_lost_labels(current: dict, new: dict) -> None:
        from posenb.project.config import project_parts

        parts = project_parts(new)
        for what, lost in (
            ("body part(s)", removed_labeled_parts(current, parts.all_bodyparts)),
            ("individual(s)", removed_labeled_individuals(current, list(parts.individuals))),
        ):
            if lost:
                where = "; ".join(f"{b} (in {', '.join(f)})" for b, f in lost.items())
                raise ConfigError(
                    f"Not saved: {what} with labels would be removed: {where}. Keep them, or delete their "
                    "labels first (renaming = adding the new name; the old labels stay under the old name)."
                )

    def save_config(self) -> bool:
        """Validate the form and write config.yaml (the network: posenb.yaml); messages say what is wrong."""
        from posenb.project.config import (
            read_config,
            read_settings,
            resolve_net_type,
            validate_config,
            write_config,
            write_settings,
        )

        if self.cfg is None:
            self.config_message.value = _msg("Open or create a project first.", "error")
            return False
        try:
            current = read_config(self.config_path)
            edited = self._edited(current)
            new = form_to_config(current, edited)
            warnings = validate_config(new, self.config_path)
            self._refuse_lost_labels(current, new)
            write_config(self.config_path, new)
            if "net_type" in edited:
                settings = read_settings(new["project_path"])
                settings["net_type"] = str(edited["net_type"]).strip() or None  # empty: posenb's default
                write_settings(new["project_path"], settings)
        except (PosenbError, OSError) as exc:
            self.config_message.value = _msg(str(exc), "error")
            return False
        self.cfg = new
        self.fields["net_type"].value = self._net_snapshot = resolve_net_type(new)[0]
        self._form_snapshot = self.form_values()
        self._cfg_snapshot = copy.deepcopy(new)
        self.config_message.value = _msg(
            "\n".join(["Saved config.yaml."] + warnings), "warn" if warnings else "ok"
        )
        self.refresh_status()
        self._notify()
        return True

    def refresh_status(self) -> None:
        if self.config_path is None:
            self.status_html.value = "No project open."
            return
        try:
            self.status_html.value = status_html(self.config_path)
        except (PosenbError, OSError) as exc:
            self.status_html.value = _msg(str(exc), "error")

    def _notify(self) -> None:
        for cb in list(self._callbacks):
            cb(self.config_path)
