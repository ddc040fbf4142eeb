"""RefinementEditor: correct machine labels of outlier frames and save them as human labels.

``posenb.refine_labels(config)`` returns this panel. A ``labeled-data/<stem>`` folder is loaded into a
:class:`posenb.post.refine.RefinementSession` (machine labels of ``extract_outlier_frames`` plus existing human
labels). Points below the likelihood threshold are drawn as open circles, those above as discs, human (or
edited) points as discs with a dark ring. The mouse and keys are handled by the labeler's pure handlers
(:func:`posenb.widgets.labeler_state.handle_event`: drag to move, right-click to delete, click to place the
selected part, wheel zoom, arrows, Ctrl-Z); every change of a point is passed on to the session. **Frame
invalid** drops the frame, **Save** writes ``CollectedData_<scorer>`` (DeepLabCut's refinement contract), and
**Merge** calls ``merge_datasets`` (the next ``create_training_dataset`` builds iteration N + 1).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, replace
from pathlib import Path

import ipywidgets as widgets
import numpy as np

from posenb.errors import PosenbError
from posenb.widgets._canvas import ImageCanvas, css_color, part_colors
from posenb.widgets._frame_view import FrameView
from posenb.widgets._panel import Panel
from posenb.widgets._parts import part_button
from posenb.widgets.labeler_state import LabelerState, draw_points, new_state

__all__ = ["RefinementEditor", "RefineDrawing", "refine_drawing", "changed_points"]

HELP = (
    "Open circles: machine points below the likelihood threshold; discs: above it; ringed discs: human or "
    "corrected points. <b>Drag</b> a point to move it, <b>right-click</b> to delete it, <b>click</b> on the image "
    "to place the selected body part. <b>&larr;/&rarr;</b> previous/next frame, <b>Ctrl-Z</b> undo, <b>wheel</b> zoom, "
    "<b>Shift-drag</b> pan, <b>r</b> reset view."
)


@dataclass
class RefineDrawing:
    """Points of the current frame in canvas pixels, split by how they are drawn.

    ``xy`` ``(n, 2)``, ``parts`` ``(n,)``, ``colors`` ``(n, 3)`` uint8; ``hollow`` ``(n,)`` bool (machine point
    below the threshold: open circle); ``human`` ``(n,)`` bool (human or edited point: ringed disc);
    ``segments`` ``(m, 2, 2)`` skeleton; ``highlight`` the selected part's point or None.
    """

    xy: np.ndarray
    parts: np.ndarray
    colors: np.ndarray
    hollow: np.ndarray
    human: np.ndarray
    segments: np.ndarray
    highlight: np.ndarray | None


def refine_drawing(state: LabelerState, classes: np.ndarray, colors: np.ndarray) -> RefineDrawing:
    """What to draw for ``state``'s frame; ``classes``: ``(n_images, K)`` from ``RefinementSession.classify``."""
    from posenb.post.refine import HUMAN, UNCERTAIN

    d = draw_points(state, colors)
    cls = classes[state.frame][d.parts] if len(classes) else np.zeros(0, int)
    return RefineDrawing(d.xy, d.parts, d.colors, cls == UNCERTAIN, cls == HUMAN, d.segments, d.highlight)


def changed_points(old: np.ndarray, new: np.ndarray) -> list[tuple[int, int]]:
    """``(frame, part)`` of every point that differs between two ``(n, K, 2)`` arrays (NaN equals NaN)."""
    same = (old == new) | (np.isnan(old) & np.isnan(new))
    return [tuple(int(v) for v in ij) for ij in np.argwhere(~same.all(axis=-1))]


class RefinementEditor(FrameView, Panel):
    """Refine the machine labels of a project's label folders (DeepLabCut's ``refine_labels``).

    Parameters
    ----------
    config : path of the project's config.yaml (or None: call :meth:`set_config` later).
    folder : the ``labeled-data`` folder (video stem) to open first (default: the first one with machine labels).
    multianimal : DeepLabCut's ``refine_labels`` argument; only False (single animal) is supported.
    """

    CANVAS_CLASS = "posenb-refine-canvas"

    def __init__(
        self, config: str | os.PathLike | None = None, folder: str | None = None, multianimal: bool = False
    ):
        if multianimal:
            from posenb.errors import ConfigError

            raise ConfigError("Multi-animal refinement is not supported by posenb yet (single animal only).")
        super().__init__()
        self.add_class("posenb-refinement-editor")
        self.cfg: dict = {}
        self.session = None  # posenb.post.refine.RefinementSession
        self.state: LabelerState | None = None
        self.colors = np.zeros((0, 3), np.uint8)
        self.image_canvas: ImageCanvas | None = None
        self.dirty = False
        self.radius = 6.0
        self._original: tuple[np.ndarray, np.ndarray] | None = None
        self._updating = False
        self._build()
        if config is not None:
            self.set_config(config, folder)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.folder_select = widgets.Dropdown(
            description="Folder", options=[], layout=widgets.Layout(width="280px")
        )
        self.folder_select.add_class("posenb-refine-folder")
        self.threshold = widgets.FloatSlider(
            value=0.6, min=0.0, max=1.0, step=0.01, description="Likelihood", continuous_update=True
        )
        self.threshold.add_class("posenb-refine-threshold")
        self.prev_button = widgets.Button(icon="arrow-left", layout=widgets.Layout(width="40px"))
        self.next_button = widgets.Button(icon="arrow-right", layout=widgets.Layout(width="40px"))
        self.image_select = widgets.Dropdown(options=[], layout=widgets.Layout(width="200px"))
        self.image_select.add_class("posenb-refine-image")
        self.invalid_button = widgets.Button(
            description="Frame invalid",
            icon="ban",
            button_style="warning",
            tooltip="Drop this frame: its labels and (moved to .trash/) its image",
        )
        self.save_button = widgets.Button(description="Save", icon="save", button_style="primary")
        self.merge_button = widgets.Button(
            description="Merge datasets",
            icon="code-fork",
            tooltip="merge_datasets: next iteration (after saving)",
        )
        for b, cls in (
            (self.invalid_button, "invalid"),
            (self.save_button, "save"),
            (self.merge_button, "merge"),
        ):
            b.add_class(f"posenb-refine-{cls}")
        self.part_box = widgets.VBox(layout=widgets.Layout(width="170px"))
        self.part_buttons: list[widgets.Button] = []
        self.canvas_box = widgets.Box()
        self.info = widgets.HTML()
        self.status = widgets.HTML()
        self.status.add_class("posenb-status")

        self.folder_select.observe(self._on_folder, "value")
        self.threshold.observe(lambda _c: self._redraw_points(), "value")
        self.image_select.observe(self._on_image_change, "value")
        self.prev_button.on_click(lambda _b: self.go_to(self.state.frame - 1) if self.state else None)
        self.next_button.on_click(lambda _b: self.go_to(self.state.frame + 1) if self.state else None)
        self.invalid_button.on_click(lambda _b: self.mark_invalid())
        self.save_button.on_click(lambda _b: self.save())
        self.merge_button.on_click(lambda _b: self.merge())

        self.children = [
            widgets.HBox([self.folder_select, self.threshold]),
            widgets.HBox(
                [
                    self.prev_button,
                    self.image_select,
                    self.next_button,
                    self.invalid_button,
                    self.save_button,
                    self.merge_button,
                ],
                layout=widgets.Layout(flex_flow="row wrap"),
            ),
            self.info,
            widgets.HBox(
                [
                    self.canvas_box,
                    widgets.VBox(
                        [widgets.HTML("<b>Body parts</b>"), self.part_box],
                        layout=widgets.Layout(margin="0 0 0 8px"),
                    ),
                ]
            ),
            self.status,
            widgets.HTML(f"<small>{HELP}</small>"),
        ]

    # ------------------------------------------------------------------ project / folder
    def set_config(self, config: str | os.PathLike, folder: str | None = None) -> None:
        """Open a project; shows ``folder`` (default: the first folder with machine labels)."""
        from posenb.post.refine import find_machinelabels
        from posenb.widgets.labeler_io import list_label_folders

        self.load_config(config)
        self.threshold.value = float(self.cfg.get("pcutoff", 0.6))
        root = Path(self.cfg["project_path"]) / "labeled-data"
        folders = list_label_folders(self.cfg["project_path"])
        with_machine = [f for f in folders if find_machinelabels(root / f) is not None]
        options = with_machine + [f for f in folders if f not in with_machine]
        self._updating = True
        self.folder_select.options = [
            (f + ("  (machine labels)" if f in with_machine else ""), f) for f in options
        ]
        self.folder_select.value = folder if folder in options else (options[0] if options else None)
        self._updating = False
        if self.folder_select.value is None:
            self._set_status(
                "No labeled-data folders: extract outlier frames first (extract_outlier_frames).", "warning"
            )
            return
        self.open_folder(self.folder_select.value)

    def _on_folder(self, change) -> None:
        if not self._updating and change["new"]:
            self.open_folder(change["new"])

    def open_folder(self, stem: str) -> bool:
        """Load ``labeled-data/<stem>`` (machine + human labels) into a refinement session."""
        from posenb.post.refine import RefinementSession

        if self.dirty and self.session is not None:
            self._set_status(f"Unsaved changes in {self.session.folder.name} were saved first.")
            self.save()
        folder = Path(self.cfg["project_path"]) / "labeled-data" / stem
        try:
            session = RefinementSession.load(self.config, folder)
        except PosenbError as exc:
            self.session, self.state = None, None
            self._set_status(str(exc), "warning")
            if self.image_canvas is not None:
                self.image_canvas.clear_image()
            return False
        self.session = session
        self._original = (session.xy.copy(), session.likelihood.copy())
        self.dirty = False
        names = [img[2] for img in session.images]
        view = self._open_view(self._first_image_size(session.folder, names) or (640, 480))
        self.state = new_state(
            session.bodyparts,
            names,
            session.xy,
            view,
            skeleton=self.cfg.get("skeleton") or [],
            hit_radius=self.radius + 3,
        )
        machine_rows = np.flatnonzero(session.source == "machine")
        if len(machine_rows):  # open on the first frame to correct, not on an already-labeled one
            self.state = replace(self.state, frame=int(machine_rows[0]))
        self.colors = part_colors(len(session.bodyparts), self.cfg.get("colormap") or "rainbow")
        self._build_part_buttons()
        self._sync_images()
        machine = len(machine_rows)
        self._set_status(
            f"{stem}: {len(session)} frames ({machine} with machine labels"
            f"{', from ' + session.machine_file.name if session.machine_file else ''})."
        )
        self._show_frame()
        return True

    def _build_part_buttons(self) -> None:
        buttons = []
        for i, name in enumerate(self.session.bodyparts):
            b = part_button(self.colors[i], "160px", ["posenb-refine-part"], description=name)
            b.on_click(lambda _b, i=i: self.select_part(i))
            buttons.append(b)
        self.part_buttons = buttons
        self.part_box.children = buttons

    def _sync_images(self) -> None:
        self._updating = True
        names = list(self.state.images) if self.state else []
        source = self.session.source if self.session is not None else []
        self.image_select.options = [
            (n + ("  (machine)" if i < len(source) and source[i] == "machine" else ""), i)
            for i, n in enumerate(names)
        ]
        self.image_select.value = self.state.frame if names else None
        self._updating = False

    # ------------------------------------------------------------------ edits
    def _apply(self, new: LabelerState) -> None:
        old = self.state
        if old is None or new is None:
            return
        if new.points is not old.points:
            self._record(changed_points(old.points, new.points), new.points)
        self.state = new
        if new.frame != old.frame:
            self._updating = True
            self.image_select.value = new.frame
            self._updating = False
            self._show_frame()
        elif new.view != old.view:
            self.image_canvas.set_view(new.view)
        else:
            self._redraw_points()
        if new.message and new.message != old.message:
            self._set_status(new.message)

    def _record(self, changes: list[tuple[int, int]], points: np.ndarray) -> None:
        """Pass point changes to the session; a point put back exactly where the machine had it (undo)
        gets its machine likelihood back."""
        s = self.session
        oxy, olik = self._original
        for i, j in changes:
            x, y = points[i, j]
            if np.isnan(x):
                s.delete_point(i, j)
            elif np.array_equal(points[i, j], oxy[i, j]):
                s.xy[i, j] = oxy[i, j]
                s.likelihood[i, j] = olik[i, j]
                s.edited[i, j] = False
            else:
                s.move_point(i, j, float(x), float(y))
        if changes:
            self.dirty = True
            self._update_info()

    def mark_invalid(self) -> None:
        """Drop the current frame (its labels now; its PNG goes to ``.trash/`` on save)."""
        if self.state is None or not len(self.session):
            return
        i = self.state.frame
        name = self.session.images[i][2]
        self.session.drop_frame(i)
        keep = np.arange(len(self._original[0])) != i
        self._original = (self._original[0][keep], self._original[1][keep])
        self.dirty = True
        view = self.state.view
        self.state = replace(
            new_state(
                self.session.bodyparts,
                [img[2] for img in self.session.images],
                self.session.xy,
                view,
                skeleton=self.cfg.get("skeleton") or [],
                frame=min(i, max(0, len(self.session) - 1)),
                hit_radius=self.radius + 3,
            ),
            view=view,
        )
        self._sync_images()
        self._show_frame()
        self._set_status(
            f"{name} marked invalid; Save removes it from the labels and moves the image to .trash/."
        )

    def save(self) -> Path | None:
        """Write the folder's labels as human labels (``CollectedData_<scorer>.h5/.csv``)."""
        if self.session is None:
            self._set_status("Nothing to save: open a folder with frames first.", "warning")
            return None
        try:
            path = self.session.save()
        except PosenbError as exc:
            self._set_status(f"Not saved: {exc}", "error")
            return None
        self._original = (self.session.xy.copy(), self.session.likelihood.copy())
        self.dirty = False
        self.last_saved = path
        self._redraw_points()
        self._set_status(
            f"Saved {len(self.session)} frames as human labels: {path.name} (+ .csv, previous kept as .bak)."
        )
        return path

    def merge(self) -> int | None:
        """Save if needed, then ``posenb.merge_datasets(config)``; returns the new iteration."""
        import posenb

        if self.dirty:
            self.save()
        try:
            iteration = posenb.merge_datasets(self.config)
        except PosenbError as exc:
            self._set_status(f"Not merged: {exc}", "error")
            return None
        self._set_status(
            f"Merged: the project is now at iteration {iteration}. Next: the 'Training set' tab (create_training_dataset), "
            "then the Train tab."
        )
        return iteration

    # ------------------------------------------------------------------ drawing
    def _show_frame(self) -> None:
        s, ic = self.state, self.image_canvas
        if s is None or ic is None:
            return
        if not s.images:
            ic.clear_image()
            self._update_info()
            return
        frame = self._load_frame(self.session.folder / s.images[s.frame])
        if frame is None:
            return
        ic.set_image(*frame)
        self._update_info()

    def _redraw_points(self) -> None:
        super()._redraw_points()
        self._update_info()

    @property
    def drawing(self) -> RefineDrawing | None:
        """What the points layer shows now (for tests)."""
        if self.state is None or self.session is None or not len(self.session):
            return None
        return refine_drawing(self.state, self.session.classify(self.threshold.value), self.colors)

    def _draw_overlay(self) -> None:
        layer = self.image_canvas.layers[1]
        layer.clear()
        d = self.drawing
        if d is None:
            return
        r = self.radius
        if len(d.segments):
            layer.stroke_style = css_color(self.cfg.get("skeleton_color") or "black")
            layer.line_width = 2
            layer.global_alpha = 0.7
            layer.stroke_line_segments(d.segments)
            layer.global_alpha = 1.0
        solid = ~d.hollow
        if solid.any():
            layer.fill_styled_circles(d.xy[solid, 0], d.xy[solid, 1], r, d.colors[solid], 0.9)
        if d.human.any():
            layer.stroke_style = "#222"
            layer.line_width = 2
            layer.stroke_circles(d.xy[d.human, 0], d.xy[d.human, 1], r + 1)
        if d.hollow.any():
            layer.line_width = 2.5
            layer.stroke_styled_circles(d.xy[d.hollow, 0], d.xy[d.hollow, 1], r, d.colors[d.hollow], 1.0)
        if d.highlight is not None:
            layer.stroke_style = "white"
            layer.line_width = 2
            layer.stroke_circle(float(d.highlight[0]), float(d.highlight[1]), r + 4)

    def _update_info(self) -> None:
        s, sess = self.state, self.session
        if s is None or sess is None or not len(sess):
            self.info.value = ""
            return
        cls = sess.classify(self.threshold.value)[s.frame]
        from posenb.post.refine import CONFIDENT, HUMAN, MISSING, UNCERTAIN

        counts = {
            name: int(np.sum(cls == c))
            for name, c in (
                ("below threshold", UNCERTAIN),
                ("above", CONFIDENT),
                ("human/corrected", HUMAN),
                ("missing", MISSING),
            )
        }
        part = s.bodyparts[s.part] if s.part is not None else "-"
        self.info.value = (
            f"<b>{html.escape(s.images[s.frame])}</b> ({s.frame + 1}/{s.n_images}, "
            f"{sess.source[s.frame]} labels) &middot; "
            + " &middot; ".join(f"{v} {k}" for k, v in counts.items())
            + f" &middot; selected part: <b>{html.escape(part)}</b>"
            + (" &middot; <i>unsaved</i>" if self.dirty else "")
        )
