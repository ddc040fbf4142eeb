"""``Labeler``: label body parts on the extracted frames of a project (``posenb.label_frames(config)``).

The panel gathers clicks and keys and draws; the logic lives in pure modules:
:mod:`posenb.widgets.labeler_state` (state + handlers (state, event) -> state, drawing as arrays) and
:mod:`posenb.widgets.labeler_io` (folder labels <-> ``CollectedData_<scorer>`` through ``posenb.io.labels``).
The frame is drawn once per image on its own layer (sent as PNG/JPEG bytes); points and skeleton are redrawn
on a second layer with vectorised calls inside ``hold_canvas``. Labels are saved on every image or folder
change and on Save.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from posenb.errors import PosenbError
from posenb.widgets._actions import status_html as _message_html
from posenb.widgets._canvas import CanvasEvent, ImageCanvas, attach_canvas, css_color, fit_view, part_colors
from posenb.widgets._image import image_file_bytes, image_size
from posenb.widgets._parts import part_button
from posenb.widgets.labeler_io import FolderLabels, list_label_folders, load_folder_labels, save_folder_labels
from posenb.widgets.labeler_state import (
    HELP_TEXT,
    LabelerState,
    accept_suggestions,
    add_bodyparts,
    draw_points,
    go_to_frame,
    handle_event,
    labeled_counts,
    new_state,
    select_part,
    set_suggestions,
    shown_suggestions,
    skip_part,
    undo,
)

__all__ = ["Labeler", "label_frames", "css_name"]

_NAME_OK = re.compile(r"^[A-Za-z0-9_.\-]+$")


def css_name(name: str) -> str:
    """A body-part name made safe for a CSS class (``posenb-bodypart-<css_name>``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def _button(css_class: str, width: str, **kwargs) -> widgets.Button:
    """A ``width`` wide button with the CSS class ``css_class`` (which tests and browser tests select by)."""
    button = widgets.Button(layout=widgets.Layout(width=width), **kwargs)
    button.add_class(css_class)
    return button


class Labeler(widgets.VBox):
    """Label frames of ``labeled-data/<stem>`` folders; see :data:`~posenb.widgets.labeler_state.HELP_TEXT`.

    Parameters
    ----------
    config : path of the project's config.yaml (None: an empty panel; call :meth:`set_config`).
    folder : the ``labeled-data`` folder name to open first (default: the first one).
    image_format : ``"auto"`` (PNG files sent as they are unless large, then JPEG), ``"png"`` or ``"jpeg"``.
    """

    def __init__(self, config: str | None = None, folder: str | None = None, image_format: str = "auto"):
        super().__init__()
        self.add_class("posenb-labeler")
        self.config_path: str | None = None
        self.cfg: dict | None = None
        self.image_format = image_format
        self.labels: FolderLabels | None = None
        self.state: LabelerState | None = None
        self.colors = np.zeros((0, 3), np.uint8)
        self.n_saves = 0
        self._updating = False
        self.image_canvas: ImageCanvas | None = None
        self.suggester = None  # posenb.infer.suggest.LabelSuggester, made at the first suggestion
        self._suggested: set[int] = set()  # images of the open folder already asked for suggestions
        self._suggest_source: dict[int, str] = {}  # image -> "model" or "carried"

        self.folder_select = widgets.Dropdown(description="Folder", layout=widgets.Layout(width="260px"))
        self.folder_select.add_class("posenb-folder-select")
        self.prev_button = _button("posenb-prev", "100px", description="Previous", icon="arrow-left")
        self.next_button = _button("posenb-next", "90px", description="Next", icon="arrow-right")
        self.image_select = widgets.Dropdown(layout=widgets.Layout(width="170px"))
        self.image_select.add_class("posenb-image-select")
        self.save_button = _button(
            "posenb-save", "80px", description="Save", icon="save", button_style="primary"
        )
        self.fit_button = _button("posenb-fit", "60px", description="Fit", tooltip="Reset zoom and pan (r)")
        self.undo_button = _button("posenb-undo", "70px", description="Undo", tooltip="Ctrl-Z or u")
        self.status = widgets.HTML()
        self.status.add_class("posenb-labeler-status")
        self.message = widgets.HTML()
        self.message.add_class("posenb-labeler-message")
        # zoom/pan and shown suggestions (image pixels) as JSON, hidden: lets browser tests map page pixels
        self.view_info = widgets.HTML(layout=widgets.Layout(display="none"))
        self.view_info.add_class("posenb-labeler-view")

        self.part_box = widgets.VBox(layout=widgets.Layout(width="190px"))
        self.part_buttons: list[widgets.Button] = []
        self.skip_button = _button(
            "posenb-skip", "180px", description="Skip part (not visible)", tooltip="Space"
        )
        self.new_part_text = widgets.Text(placeholder="new body part", layout=widgets.Layout(width="120px"))
        self.new_part_text.add_class("posenb-add-bodypart-name")
        self.new_part_button = _button("posenb-add-bodypart", "55px", description="Add")
        self.suggest_toggle = widgets.Checkbox(
            value=True,
            description="Suggestions",
            indent=False,
            tooltip="Show the model's guesses (or points carried from a nearby labeled frame) as hollow circles",
            layout=widgets.Layout(width="180px"),
        )
        self.suggest_toggle.add_class("posenb-suggest-toggle")
        self.accept_button = _button(
            "posenb-accept-suggestions", "180px", description="Accept suggestions", tooltip="Enter"
        )
        self.canvas_box = widgets.Box(layout=widgets.Layout(flex="0 0 auto"))
        help_html = widgets.HTML(HELP_TEXT)
        self.help = widgets.Accordion(children=[help_html], titles=("Help",), selected_index=None)
        self.help.add_class("posenb-labeler-help")

        self.folder_select.observe(self._on_folder_change, names="value")
        self.image_select.observe(self._on_image_change, names="value")
        self.prev_button.on_click(lambda _: self.go_to(self.state.frame - 1 if self.state else 0))
        self.next_button.on_click(lambda _: self.go_to(self.state.frame + 1 if self.state else 0))
        self.save_button.on_click(lambda _: self.save(force=True))
        self.fit_button.on_click(lambda _: self._apply(self._fit_state()))
        self.undo_button.on_click(lambda _: self._apply(undo(self.state)) if self.state else None)
        self.skip_button.on_click(lambda _: self._apply(skip_part(self.state)) if self.state else None)
        self.new_part_button.on_click(lambda _: self.add_bodypart(self.new_part_text.value))
        self.accept_button.on_click(lambda _: self._apply(accept_suggestions(self.state)) if self.state else None)
        self.suggest_toggle.observe(lambda _: self._on_suggest_toggle(), names="value")

        toolbar = widgets.HBox(
            [
                self.folder_select,
                self.prev_button,
                self.image_select,
                self.next_button,
                self.save_button,
                self.undo_button,
                self.fit_button,
            ],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        side = widgets.VBox(
            [
                widgets.HTML("<b>Body parts</b>"),
                self.part_box,
                self.skip_button,
                self.suggest_toggle,
                self.accept_button,
                widgets.HBox([self.new_part_text, self.new_part_button]),
            ],
            layout=widgets.Layout(margin="0 0 0 8px"),
        )
        self.children = [
            toolbar,
            self.status,
            widgets.HBox([self.canvas_box, side], layout=widgets.Layout(flex_flow="row wrap")),
            self.message,
            self.help,
            self.view_info,
        ]
        if config is not None:
            self.set_config(config, folder=folder)

    # ------------------------------------------------------------------ public API
    @property
    def canvas(self):
        """The MultiCanvas widget (CSS class ``posenb-labeler-canvas``)."""
        return self.image_canvas.widget if self.image_canvas else None

    @property
    def folder(self) -> str | None:
        return self.labels.stem if self.labels else None

    def set_config(self, config: str, folder: str | None = None) -> None:
        """Open a project (saving the current folder first)."""
        from posenb.project.config import read_config

        self.save()
        same_project = (
            self.config_path is not None and Path(self.config_path).resolve() == Path(config).resolve()
        )
        keep = (
            (self.folder, self.state.frame if self.state else 0)
            if same_project and folder is None
            else (None, 0)
        )
        self.config_path = str(config)
        self.suggester = None
        try:
            self.cfg = read_config(config)
        except PosenbError as exc:
            self.cfg = None
            self._set_message(str(exc), "error")
            return
        folders = list_label_folders(self.cfg["project_path"])
        if not folders:
            self._set_message(
                "This project has no labeled-data folders yet: add videos and extract frames first.", "warn"
            )
        folder = folder or keep[0]
        self._updating = True
        try:
            self.folder_select.options = folders
            self.folder_select.value = folder if folder in folders else (folders[0] if folders else None)
        finally:
            self._updating = False
        if self.folder_select.value is not None:
            self.open_folder(self.folder_select.value)
            if self.folder_select.value == keep[0] and keep[1]:
                self.go_to(keep[1])  # the same project re-read (e.g. config edited): stay where the user was

    def open_folder(self, stem: str) -> None:
        """Save the current folder and show ``labeled-data/<stem>``."""
        self.save()
        try:
            self.labels = load_folder_labels(self.cfg, stem)
        except PosenbError as exc:
            self._set_message(str(exc), "error")
            return
        labels = self.labels
        first_size = None
        for name in labels.images[:1]:
            with open(labels.folder / name, "rb") as fh:
                first_size = image_size(fh.read(65536))
        self._ensure_canvas(first_size or (640, 480))
        cw, ch = self.image_canvas.canvas_size
        iw, ih = first_size or (cw, ch)
        dotsize = float(self.cfg.get("dotsize") or 12)
        self.radius = float(max(4.0, min(dotsize / 2.0, 9.0)))
        self.state = new_state(
            labels.bodyparts,
            labels.images,
            labels.points,
            fit_view(iw, ih, cw, ch),
            skeleton=self.cfg.get("skeleton") or [],
            readonly=labels.readonly_reason is not None,
            hit_radius=self.radius + 3,
        )
        self._suggested = set()
        self._suggest_source = {}
        self.colors = part_colors(len(labels.bodyparts), self.cfg.get("colormap") or "rainbow")
        self._build_part_buttons()
        self._updating = True
        try:
            if self.folder_select.value != stem:
                self.folder_select.value = stem
            self.image_select.options = [(name, i) for i, name in enumerate(labels.images)]
            self.image_select.value = 0 if labels.images else None
        finally:
            self._updating = False
        if labels.readonly_reason:
            self._set_message(labels.readonly_reason, "warn")
        elif not labels.images:
            self._set_message(f"No extracted frames in labeled-data/{stem}: extract frames first.", "warn")
        else:
            self._set_message(labels.message)
        self._show_frame()

    def go_to(self, index: int) -> None:
        """Show image ``index`` of the folder (saving the labels when the image changes)."""
        if self.state is None or not self.state.images:
            return
        if index >= self.state.n_images or index < 0:
            self._set_message(
                "This is the last image of the folder." if index > 0 else "This is the first image."
            )
        self._apply(go_to_frame(self.state, index))

    def next_image(self) -> None:
        self.go_to(self.state.frame + 1)

    def previous_image(self) -> None:
        self.go_to(self.state.frame - 1)

    def select_part(self, name_or_index) -> None:
        """Make a body part current (by name or index)."""
        idx = (
            self.state.bodyparts.index(name_or_index)
            if isinstance(name_or_index, str)
            else int(name_or_index)
        )
        self._apply(select_part(self.state, idx))

    def handle(self, event: CanvasEvent) -> None:
        """Apply one canvas event (what the canvas's mouse and key listeners call)."""
        if self.state is not None:
            self._apply(handle_event(self.state, event))

    def suggest(self) -> bool:
        """Ask the core for suggestions on the current image (once per image); True when some are shown.

        Suggestions come from :class:`posenb.infer.suggest.LabelSuggester`: the model of shuffle 1 when it has a
        snapshot, else the points of a labeled frame up to 30 video frames before, carried by optical flow.
        """
        s = self.state
        if s is None or not s.images or not self.suggest_toggle.value or s.frame in self._suggested:
            return False
        if not np.isnan(s.current_points[:, 0]).any():
            return False
        self._suggested.add(s.frame)
        try:
            if self.suggester is None:
                from posenb.infer.suggest import LabelSuggester  # noqa: PLC0415

                self.suggester = LabelSuggester(self.config_path)
            labeled = {
                str(self.labels.folder / name): s.points[i]
                for i, name in enumerate(s.images)
                if i != s.frame and not np.isnan(s.points[i, :, 0]).all()
            }
            got = self.suggester.suggest(self.labels.folder / s.images[s.frame], labeled)
        except (PosenbError, OSError, ValueError) as exc:
            self._set_message(f"No suggestions: {exc}", "warn")
            return False
        if got is None:
            return False
        xy, source = got
        self.state = set_suggestions(self.state, s.frame, xy[:, :2])
        self._suggest_source[s.frame] = source
        return bool((~np.isnan(shown_suggestions(self.state)[:, 0])).any())

    def _on_suggest_toggle(self) -> None:
        if self.suggest_toggle.value:
            self.suggest()
        self._redraw_points()
        self._update_status()

    def save(self, force: bool = False) -> Path | None:
        """Write the folder's labels if they changed (``force``: even if not). Returns the ``.h5`` path or None."""
        if self.state is None or self.labels is None:
            return None
        if self.labels.readonly_reason:
            if force:
                self._set_message(self.labels.readonly_reason, "warn")
            return None
        if not self.state.dirty and not force:
            return None
        try:
            path = save_folder_labels(self.labels, self.state.points, list(self.state.bodyparts))
        except (PosenbError, OSError) as exc:
            self._set_message(f"Labels NOT saved: {exc}", "error")
            return None
        self.state = replace(self.state, dirty=frozenset())
        self.n_saves += 1
        self._update_status()  # the "unsaved" marker goes with the save
        if path is not None:
            n = int(np.sum(labeled_counts(self.state) > 0))
            self._set_message(f"Saved {n} labeled image(s) to {path.parent.name}/{path.name} (+ .csv).", "ok")
        elif force:
            self._set_message("Nothing to save yet: no labels in this folder.")
        return path

    def add_bodypart(self, name: str) -> bool:
        """Add a body part to config.yaml's ``bodyparts`` and to the label table (NaN for every image)."""
        from posenb.project.config import read_config, write_config

        name = (name or "").strip()
        if self.state is None or self.cfg is None:
            return False
        if not _NAME_OK.match(name):
            self._set_message(f"Body-part name {name!r}: use letters, digits, '_', '-' or '.' only.", "error")
            return False
        if name in self.state.bodyparts:
            self._set_message(f"{name!r} is already a body part.", "warn")
            return False
        if self.labels.readonly_reason:
            self._set_message(self.labels.readonly_reason, "warn")
            return False
        try:
            cfg = read_config(self.config_path)
            if name not in cfg["bodyparts"]:
                cfg["bodyparts"] = list(cfg["bodyparts"]) + [name]
                write_config(self.config_path, cfg)
            self.cfg = cfg
        except (PosenbError, OSError) as exc:
            self._set_message(f"Could not add {name!r} to config.yaml: {exc}", "error")
            return False
        self.state = add_bodyparts(self.state, [name])
        self.colors = part_colors(len(self.state.bodyparts), self.cfg.get("colormap") or "rainbow")
        self._build_part_buttons()
        self.new_part_text.value = ""
        self.save(force=True)
        self._set_message(
            f"Added body part {name!r} to config.yaml and to the labels of {self.labels.stem}.", "ok"
        )
        self._redraw_points()
        return True

    # ------------------------------------------------------------------ internals
    def _ensure_canvas(self, image_wh: tuple[int, int]) -> None:
        if self.image_canvas is None:
            self.image_canvas = attach_canvas(
                self.canvas_box, image_wh, "posenb-labeler-canvas", self.handle, self._draw_overlay
            )

    def _fit_state(self) -> LabelerState:
        v = self.state.view
        return replace(self.state, view=fit_view(v.image_w, v.image_h, v.canvas_w, v.canvas_h))

    def _set_message(self, text: str, kind: str = "info") -> None:
        self.message.value = _message_html(text, kind)

    def _build_part_buttons(self) -> None:
        buttons = []
        for i, name in enumerate(self.state.bodyparts):
            b = part_button(self.colors[i], "180px", ["posenb-bodypart", f"posenb-bodypart-{css_name(name)}"])
            b.on_click(lambda _b, i=i: self._apply(select_part(self.state, i)))
            buttons.append(b)
        self.part_buttons = buttons
        self._part_desc = [None] * len(buttons)
        self.part_box.children = buttons
        self._update_part_buttons()

    def _update_part_buttons(self) -> None:
        s = self.state
        if s is None or not self.part_buttons:
            return
        pts = s.current_points if s.images else np.full((len(s.bodyparts), 2), np.nan)
        for i, b in enumerate(self.part_buttons):
            key = i + 1 if i < 9 else (0 if i == 9 else None)
            cur = s.part == i
            done = not np.isnan(pts[i, 0])
            desc = f"{'▶ ' if cur else ''}{'' if key is None else f'{key}. '}{s.bodyparts[i]}{' ✓' if done else ''}"
            if self._part_desc[i] != desc:
                self._part_desc[i] = desc
                with b.hold_sync():
                    b.description = desc
                    b.style.font_weight = "bold" if cur else "normal"

    def _update_status(self) -> None:
        s = self.state
        if s is None or not s.images:
            self.status.value = ""
            return
        v = s.view
        sugg = shown_suggestions(s) if self.suggest_toggle.value else np.full((len(s.bodyparts), 2), np.nan)
        info = json.dumps(
            {
                "zoom": v.zoom,
                "x0": v.x0,
                "y0": v.y0,
                "canvas_w": v.canvas_w,
                "canvas_h": v.canvas_h,
                "suggestions": [[int(k), float(x), float(y)] for k, (x, y) in enumerate(sugg) if not np.isnan(x)],
            }
        )
        if self.view_info.value != info:
            self.view_info.value = info
        counts = labeled_counts(s)
        n_done = int(np.sum(counts > 0))
        part = s.bodyparts[s.part] if s.part is not None else "(all labeled)"
        self.status.value = (
            f"<b>{html.escape(s.images[s.frame])}</b> ({s.frame + 1}/{s.n_images}) · "
            f"{int(counts[s.frame])}/{len(s.bodyparts)} parts · {n_done} of {s.n_images} image(s) labeled by hand · "
            f"current: <b>{html.escape(part)}</b> · zoom {s.view.zoom:.2f}"
            + _unsaved_note(s)
            + self._suggestion_status()
        )

    def _suggestion_status(self) -> str:
        s = self.state
        if not self.suggest_toggle.value or s.frame not in self._suggest_source:
            return ""
        n = int((~np.isnan(shown_suggestions(s)[:, 0])).sum())
        if not n:
            return ""
        what = "model" if self._suggest_source[s.frame] == "model" else "carried from a nearby labeled frame"
        return f" · {n} suggested ({what}): Enter accepts all"

    def _show_frame(self) -> None:
        s = self.state
        ic = self.image_canvas
        if s is None or ic is None:
            return
        if not s.images:
            ic.clear_image()
            self._update_status()
            return
        path = self.labels.folder / s.images[s.frame]
        try:
            data, size = image_file_bytes(path, self.image_format)
        except (OSError, ValueError) as exc:
            self._set_message(f"Cannot show {path}: {exc}", "error")
            ic.clear_image()
            return
        if (s.view.image_w, s.view.image_h) != tuple(size):
            cw, ch = ic.canvas_size
            self.state = s = replace(s, view=fit_view(size[0], size[1], cw, ch))
        ic.view = s.view
        self.suggest()
        ic.set_image(data, size)
        self._update_part_buttons()
        self._update_status()

    def _draw_overlay(self) -> None:
        layer = self.image_canvas.layers[1]
        layer.clear()
        if self.state is None or not self.state.images:
            return
        d = draw_points(self.state, self.colors)
        alpha = float(self.cfg.get("alphavalue") or 0.7) if self.cfg else 0.7
        if len(d.segments):
            layer.stroke_style = css_color(self.cfg.get("skeleton_color") or "black")
            layer.line_width = 2
            layer.global_alpha = alpha
            layer.stroke_line_segments(d.segments)
            layer.global_alpha = 1.0
        if len(d.xy):
            r = self.radius
            layer.fill_styled_circles(d.xy[:, 0], d.xy[:, 1], r, d.colors, alpha)
            layer.stroke_style = "black"
            layer.line_width = 1
            layer.stroke_circles(d.xy[:, 0], d.xy[:, 1], r)
        if len(d.suggested_xy) and self.suggest_toggle.value:
            layer.line_width = 2
            layer.stroke_styled_circles(
                d.suggested_xy[:, 0], d.suggested_xy[:, 1], self.radius, d.suggested_colors, 1.0
            )
        if d.highlight is not None:
            layer.stroke_style = "white"
            layer.line_width = 2
            layer.stroke_circle(float(d.highlight[0]), float(d.highlight[1]), self.radius + 3)

    def _redraw_points(self) -> None:
        if self.image_canvas is not None:
            self.image_canvas.view = self.state.view
            self.image_canvas.redraw(overlays_only=True)

    def _apply(self, new: LabelerState) -> None:
        """Make ``new`` the state and update exactly what changed on screen."""
        old = self.state
        if new is None or old is None:
            return
        self.state = new
        if new.frame != old.frame:
            self._show_frame()
            self._updating = True
            try:
                self.image_select.value = new.frame
            finally:
                self._updating = False
            if old.dirty:
                self.save()
        else:
            if new.view != old.view:
                self.image_canvas.set_view(new.view)
            elif new.points is not old.points or new.part != old.part or new.suggestions is not old.suggestions:
                self._redraw_points()
            if (
                new.points is not old.points
                or new.part != old.part
                or new.view != old.view
                or new.dirty != old.dirty
                or new.suggestions is not old.suggestions
            ):
                self._update_part_buttons()
                self._update_status()
        if new.message != old.message and new.message:
            self._set_message(
                new.message, "warn" if "outside" in new.message or "read-only" in new.message else "info"
            )

    def _on_folder_change(self, change) -> None:
        if not self._updating and change["new"] is not None:
            self.open_folder(change["new"])

    def _on_image_change(self, change) -> None:
        if not self._updating and change["new"] is not None and self.state is not None:
            self.go_to(int(change["new"]))


def label_frames(
    config: str,
    multiple_individualsGUI: bool = False,  # noqa: N803 (DeepLabCut's argument name)
    imtypes=("*.png",),
    config3d=None,
    sourceCam=None,  # noqa: N803
    image_folder: str | None = None,
) -> Labeler:
    """DeepLabCut's ``label_frames``: returns the :class:`Labeler` panel (display it in a notebook).

    ``image_folder`` picks the ``labeled-data`` folder to open first. Multi-animal labeling is not supported.
    ``imtypes``, ``config3d`` and ``sourceCam`` are accepted for DeepLabCut compatibility and ignored.
    """
    from posenb.errors import ConfigError

    if multiple_individualsGUI:
        raise ConfigError("Multi-animal labeling is not supported by posenb yet (single animal only).")
    folder = Path(image_folder).name if image_folder else None
    return Labeler(config, folder=folder)


def _unsaved_note(state) -> str:
    """`` · unsaved`` for an image with changes not yet written (other changed images are counted)."""
    if not state.dirty:
        return ""
    if state.frame in state.dirty:
        others = len(state.dirty) - 1
        return " · <i>unsaved</i>" + (f" (+{others} other image(s))" if others else "")
    return f" · <i>unsaved changes on {len(state.dirty)} other image(s)</i>"

