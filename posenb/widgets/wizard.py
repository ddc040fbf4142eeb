"""``ProjectWizard``: create or open a project, edit its config, see where it stands.

- Create: name, experimenter, working directory, videos picked on the server (path box + file browser; videos
  stay where they are, linked or copied) or uploaded from the browser, then ``posenb.create_new_project``.
  Every typed path is checked before anything is written (:func:`check_new_project`).
- Open: the path of a ``config.yaml`` (or its folder).
- Config: body parts, skeleton and the main values; parsed by :func:`form_to_config`, checked with
  ``validate_config`` (its ``ConfigError`` text is shown in the panel) and saved with ``write_config``.
- Status: :func:`posenb.project.status.project_status` as a table.
- Import labels: another tool's label file into the project (:class:`posenb.widgets.import_labels.LabelImporter`).
"""

from __future__ import annotations

import copy
import datetime as _dt
import html
import os
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets

from posenb.errors import ConfigError, PosenbError
from posenb.project.paths import VIDEO_EXTENSIONS, list_videos, name_problem
from posenb.widgets._actions import status_html as _msg
from posenb.widgets._file_browser import FileBrowser, add_root, check_path

__all__ = ["ProjectWizard", "check_new_project", "form_to_config", "removed_labeled_parts", "status_html"]

UPLOAD_FOLDER = "uploaded-videos"


def check_new_project(
    name: str, experimenter: str, videos: list[str], working_directory: str, n_uploads: int = 0
) -> list[str]:
    """Problems that stop a project from being created (empty list: go ahead). Nothing is written."""
    problems = []
    for value, what in ((name, "Project name"), (experimenter, "Experimenter")):
        problem = name_problem(value, what)  # the core rule of create_new_project / create_new_project_3d
        if problem:
            problems.append(problem)
    wd = Path(working_directory or ".").expanduser()
    if not wd.is_dir():
        problems.append(f"Working directory {wd} does not exist (create it first, or pick another).")
    elif not os.access(wd, os.W_OK):
        problems.append(f"Working directory {wd} is not writable by this server.")
    if not videos and not n_uploads:
        problems.append("Add at least one video (a server path, a folder of videos, or an upload).")
    for v in videos:
        p = Path(v).expanduser()
        if not p.exists():
            problems.append(f"Video {p} does not exist on the server.")
        elif p.is_dir() and not list_videos(p):
            problems.append(f"Folder {p} holds no video files ({', '.join(VIDEO_EXTENSIONS[:4])}, ...).")
        elif p.is_file() and p.suffix.lower() not in VIDEO_EXTENSIONS:
            problems.append(f"{p.name} is not a video file ({', '.join(VIDEO_EXTENSIONS)}).")
    if not problems and wd.is_dir():
        target = wd / f"{name}-{experimenter}-{_dt.date.today().isoformat()}"
        if target.exists() and not (target / "config.yaml").exists() and any(target.iterdir()):
            problems.append(f"{target} exists and is not a project; choose another name or folder.")
    return problems


def _parse_list(text: str) -> list[str]:
    out = []
    for line in text.replace(",", "\n").splitlines():
        item = line.strip()
        if item:
            out.append(item)
    return out


def _parse_skeleton(text: str) -> list[list[str]]:
    bones = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if "," in line:
            parts = [p.strip() for p in line.split(",") if p.strip()]
        elif " - " in line:
            parts = [p.strip() for p in line.split(" - ") if p.strip()]
        else:
            parts = line.split()
        if len(parts) != 2:
            raise ConfigError(
                f"Skeleton line {n} ({line!r}): write two body parts per line, e.g. 'snout, leftear'."
            )
        bones.append(parts)
    return bones


def _number(text, kind, key):
    try:
        return kind(str(text).strip())
    except ValueError:
        raise ConfigError(
            f"'{key}' must be a {'whole number' if kind is int else 'number'}, got {text!r}."
        ) from None


def form_to_config(cfg: dict, form: dict) -> dict:
    """A copy of ``cfg`` updated from the panel's text fields (``form``: key -> value as typed).

    Raises :class:`ConfigError` for values that cannot be parsed; the result still needs ``validate_config``.
    """
    new = copy.deepcopy(cfg)
    if "bodyparts" in form:
        new["bodyparts"] = _parse_list(form["bodyparts"])
    if "skeleton" in form:
        new["skeleton"] = _parse_skeleton(form["skeleton"])
    if "TrainingFraction" in form:
        new["TrainingFraction"] = [
            _number(v, float, "TrainingFraction") for v in _parse_list(str(form["TrainingFraction"]))
        ]
    for key in ("numframes2pick", "dotsize", "batch_size", "iteration"):
        if key in form:
            new[key] = _number(form[key], int, key)
    for key in ("start", "stop", "pcutoff", "alphavalue"):
        if key in form:
            new[key] = _number(form[key], float, key)
    if "snapshotindex" in form:
        text = str(form["snapshotindex"]).strip()
        new["snapshotindex"] = "all" if text == "all" else _number(text, int, "snapshotindex")
    for key in ("colormap", "skeleton_color", "default_net_type"):
        if key in form:
            new[key] = str(form[key]).strip()
    return new


def removed_labeled_parts(cfg: dict, new_bodyparts: list[str]) -> dict[str, list[str]]:
    """Body parts dropped from ``bodyparts`` that have labels: ``{part: [label folders]}``."""
    from posenb.errors import LabelError
    from posenb.io.labels import read_labels

    removed = [b for b in cfg.get("bodyparts") or [] if b not in new_bodyparts]
    found: dict[str, list[str]] = {}
    if not removed:
        return found
    root = Path(cfg["project_path"]) / "labeled-data"
    for f in sorted(root.glob(f"*/CollectedData_{cfg['scorer']}.h5")):
        try:
            df = read_labels(f)
        except LabelError:
            continue
        for b in removed:
            if b in df.columns.get_level_values(1) and df.xs(b, level=1, axis=1).notna().to_numpy().any():
                found.setdefault(b, []).append(f.parent.name)
    return found


def status_html(config) -> str:
    """The project status (:func:`posenb.project.status.project_status`) as an HTML table."""
    from posenb.project.status import project_status

    s = project_status(config)
    e = html.escape
    rows = [
        f"<b>{e(s.task)}</b> · scorer <b>{e(s.scorer)}</b> · iteration {s.iteration} · {e(s.project_path)}"
    ]
    rows.append(f"<br>Body parts: {e(', '.join(s.bodyparts))}")
    rows.append(
        "<table class='posenb-status-table' style='border-collapse:collapse' cellpadding='4'>"
        "<tr><th>video</th><th>file</th><th>frames</th><th>labeled</th><th>analyzed</th></tr>"
    )
    folders = {f.stem: f for f in s.folders}
    for v in s.videos:
        f = folders.pop(v.stem, None)
        filtered = f" (+{len(v.filtered)} filtered)" if v.filtered else ""
        rows.append(
            f"<tr><td>{e(v.stem)}</td><td>{'ok' if v.found else '<b>missing</b>'}</td>"
            f"<td>{f.n_images if f else 0}</td><td>{f.n_labeled if f else 0}</td>"
            f"<td>{len(v.analyzed)}{filtered}</td></tr>"
        )
    for f in folders.values():
        rows.append(
            f"<tr><td>{e(f.stem)}</td><td>(no video)</td><td>{f.n_images}</td><td>{f.n_labeled}</td><td></td></tr>"
        )
    rows.append("</table>")
    rows.append(
        f"Training sets: {len(s.training_sets)}"
        + "".join(
            f"<br>&nbsp;&nbsp;iteration {t.iteration}: {t.train_pct}% shuffle {t.shuffle}"
            for t in s.training_sets
        )
    )
    rows.append(
        f"<br>Models: {len(s.models)}"
        + "".join(
            f"<br>&nbsp;&nbsp;{e(m.folder)}: {len(m.snapshots)} snapshot(s)"
            + (f", last {m.snapshots[-1]}" if m.snapshots else "")
            + (", evaluated" if m.evaluated else "")
            for m in s.models
        )
    )
    rows.append(f"<br><b>Next:</b> {e(s.next_step)}")
    return "".join(rows)


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
            "default_net_type": widgets.Text(description="net type"),
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
        bodyparts = _parse_list(self.bodyparts_text.value)
        if len(set(bodyparts)) != len(bodyparts):
            problems.append("Body parts must be unique.")
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
                    bodyparts=bodyparts or None,
                )
        except (PosenbError, OSError) as exc:
            self.create_message.value = _msg(f"Project not created: {exc}", "error")
            return None
        notes = [str(w.message) for w in caught]
        self.set_config(config)
        self.create_message.value = _msg("\n".join([f"Created {config}."] + notes), "warn" if notes else "ok")
        self._notify()
        return config

    def _fill_form(self) -> None:
        cfg = self.cfg
        if cfg is None:
            return
        self.bodyparts_area.value = "\n".join(cfg.get("bodyparts") or [])
        self.skeleton_area.value = "\n".join(f"{a}, {b}" for a, b in (cfg.get("skeleton") or []))
        for key, w in self.fields.items():
            value = cfg.get(key)
            if key == "TrainingFraction":
                value = ", ".join(str(v) for v in (value or []))
            w.value = "" if value is None else str(value)
        self.config_message.value = ""
        # what the form showed: only fields the user changed are written, so edits made meanwhile by another
        # panel (e.g. a body part added in the labeler) are not undone by a stale form
        self._form_snapshot = self.form_values()
        self._cfg_snapshot = copy.deepcopy(cfg)

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
        values = {key: w.value for key, w in self.fields.items()}
        values["bodyparts"] = self.bodyparts_area.value
        values["skeleton"] = self.skeleton_area.value
        return values

    def save_config(self) -> bool:
        """Validate the form and write config.yaml; messages say what is wrong."""
        from posenb.project.config import read_config, validate_config, write_config

        if self.cfg is None:
            self.config_message.value = _msg("Open or create a project first.", "error")
            return False
        try:
            current = read_config(self.config_path)
            snapshot = getattr(self, "_form_snapshot", {})
            edited = {k: v for k, v in self.form_values().items() if snapshot.get(k) != v}
            changed = [k for k in edited if current.get(k) != self._cfg_snapshot.get(k)]
            if changed:
                raise ConfigError(
                    f"config.yaml was changed meanwhile ({', '.join(changed)}); press Reload to see it, then edit again."
                )
            new = form_to_config(current, edited)
            warnings = validate_config(new, self.config_path)
            lost = removed_labeled_parts(current, new["bodyparts"])
            if lost:
                where = "; ".join(f"{b} (in {', '.join(f)})" for b, f in lost.items())
                raise ConfigError(
                    f"Not saved: body part(s) with labels would be removed: {where}. Keep them, or delete their "
                    "labels first (renaming a part = adding the new name; the old labels stay under the old name)."
                )
            write_config(self.config_path, new)
        except (PosenbError, OSError) as exc:
            self.config_message.value = _msg(str(exc), "error")
            return False
        self.cfg = new
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
