"""``launch(config=None)``: the posenb app, one tab per workflow stage.

Tabs, in workflow order (:data:`PANELS`): Project (with "Add videos"), Extract frames, Label, Check labels,
Label QC & next frames, Training set, Train, Evaluate, Analyze videos, Analyze & review,
Proofread tracks (multi-animal), Refine, 3D calibration.
Each panel class is imported by module path when its tab is first opened (so the app starts fast and a
review-only session never imports torch). A panel whose module is not installed is left out with a logged
warning; a panel whose construction fails shows the error in its tab.
Opening or creating a project in the Project tab switches every panel to it.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import logging
import re
import traceback

import ipywidgets as widgets

__all__ = ["PANELS", "PANELS_3D", "PosenbApp", "fill_tooltips", "launch"]

log = logging.getLogger(__name__)

# (tab title, module, class) in workflow order
PANELS: list[tuple[str, str, str]] = [
    ("Project", "posenb.widgets.wizard", "ProjectWizard"),
    ("Extract frames", "posenb.widgets.frame_grabber", "FrameGrabber"),
    ("Label", "posenb.widgets.labeler", "Labeler"),
    ("Check labels", "posenb.widgets.label_check", "CheckLabelsView"),
    ("Label QC & next frames", "posenb.widgets.label_assist", "LabelAssistView"),
    ("Training set", "posenb.widgets.trainingset_panel", "TrainingSetPanel"),
    ("Train", "posenb.widgets.training_monitor", "TrainingMonitor"),
    ("Evaluate", "posenb.widgets.evaluation_view", "EvaluationView"),
    ("Analyze videos", "posenb.widgets.analyze_panel", "AnalyzePanel"),
    ("Analyze & review", "posenb.widgets.trajectory_viewer", "TrajectoryViewer"),
    ("Proofread tracks", "posenb.widgets.track_proofreader", "TrackProofreader"),
    ("Refine", "posenb.widgets.refiner", "RefinementEditor"),
    ("3D calibration", "posenb.widgets.calibration_view", "CalibrationView"),
]

# tabs that work on a 3D project's config.yaml: they get the app's project only when it is a 3D one (and the
# other tabs only 2D ones)
PANELS_3D = {"3D calibration"}


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _slug(title: str) -> str:
    """``"Analyze & review"`` -> ``"analyze-review"`` (tab CSS class ``posenb-tab-<slug>``)."""
    return re.sub("-+", "-", "".join(c if c.isalnum() else "-" for c in title.lower())).strip("-")


class PosenbApp(widgets.Tab):
    """The tabbed app; ``panels`` maps tab titles to the constructed panels (built on first view)."""

    def __init__(self, config: str | None = None, panels: list[tuple[str, str, str]] | None = None):
        super().__init__()
        self.add_class("posenb-app")
        self.config = str(config) if config is not None else None
        self.specs = []
        for title, module, cls in panels if panels is not None else PANELS:
            if _module_exists(module):
                self.specs.append((title, module, cls))
            else:
                log.warning("posenb app: panel %r left out (module %s is not installed).", title, module)
        self.panels: dict[str, widgets.Widget] = {}
        self.errors: dict[str, str] = {}
        self._boxes = []
        for title, _, _ in self.specs:
            box = widgets.VBox([widgets.HTML(f"<i>Loading {html.escape(title)}…</i>")])
            box.add_class(f"posenb-tab-{_slug(title)}")
            self._boxes.append(box)
        self.children = self._boxes
        self.titles = tuple(t for t, _, _ in self.specs)
        self.observe(self._on_select, names="selected_index")
        if self.specs:
            self.selected_index = 0
            self._ensure(0)

    @property
    def titles_list(self) -> list[str]:
        return [t for t, _, _ in self.specs]

    def panel(self, title: str):
        """The panel of tab ``title`` (constructed now if needed); None if its construction failed."""
        index = self.titles_list.index(title)
        self._ensure(index)
        return self.panels.get(title)

    def set_config(self, config: str, source=None) -> None:
        """Switch every constructed panel (but ``source``) to project ``config``; the others get it when built."""
        self.config = str(config)
        for title, panel in self.panels.items():
            if panel is source or not hasattr(panel, "set_config") or not self._fits(title, self.config):
                continue
            try:
                panel.set_config(self.config)
                fill_tooltips(panel)
            except Exception as exc:  # noqa: BLE001 - one panel's failure must not break the app
                log.warning("posenb app: %s could not open %s: %s", title, config, exc)

    @staticmethod
    def _fits(title: str, config: str | None) -> bool:
        """Whether tab ``title`` takes project ``config``: 3D tabs take 3D projects only, the others 2D ones."""
        if config is None:
            return True
        from posenb.threed.config import is_config_3d  # noqa: PLC0415

        return is_config_3d(config) == (title in PANELS_3D)

    def _on_select(self, change) -> None:
        if change["new"] is not None:
            self._ensure(int(change["new"]))

    def _ensure(self, index: int) -> None:
        title, module, cls = self.specs[index]
        if title in self.panels or title in self.errors:
            return
        box = self._boxes[index]
        try:
            klass = getattr(importlib.import_module(module), cls)
            panel = klass(self.config if self._fits(title, self.config) else None)
        except Exception as exc:  # noqa: BLE001 - show any failure of a panel in its own tab
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            log.warning("posenb app: panel %r failed: %s", title, text)
            self.errors[title] = text
            err = widgets.HTML(
                f'<div style="color:#cf222e"><b>The {html.escape(title)} panel could not be opened.</b><br>'
                f"<pre>{html.escape(text)}</pre></div>"
            )
            err.add_class("posenb-panel-error")
            box.children = [err]
            return
        fill_tooltips(panel)
        self.panels[title] = panel
        if hasattr(panel, "on_project"):
            panel.on_project(lambda path, src=panel: self.set_config(path, source=src))
        if hasattr(panel, "on_open_image"):
            panel.on_open_image(self.open_in_labeler)
        box.children = [panel]

    def open_in_labeler(self, image: str, part: str | None = None) -> None:
        """Show ``labeled-data/<video>/<png>`` in the Label tab (switching to it); ``part`` (a body part, or
        ``"<individual> <part>"`` in a multi-animal project) becomes the current one, so a click moves it."""
        parts = str(image).replace("\\", "/").split("/")
        labeler = self.panel("Label")
        if labeler is None or len(parts) < 2:
            return
        stem, name = parts[-2], parts[-1]
        if labeler.folder != stem:
            labeler.open_folder(stem)
        if labeler.state is not None and name in labeler.state.images:
            labeler.go_to(labeler.state.images.index(name))
            if part in labeler.state.bodyparts:
                labeler.select_part(part)
        self.selected_index = self.titles_list.index("Label")


def fill_tooltips(widget) -> int:
    """Give every widget under ``widget`` that has no tooltip its description as one (or an empty one).

    ipywidgets 8 writes a missing tooltip into the page as the text "null" (``title="null"`` on buttons and
    on the labels of number boxes). Returns the number of widgets changed.
    """
    n = 0
    seen = set()
    stack = [widget]
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        if getattr(w, "tooltip", "") is None and w.has_trait("tooltip"):
            w.tooltip = str(getattr(w, "description", "") or "")
            n += 1
        stack.extend(c for c in getattr(w, "children", ()) or () if isinstance(c, widgets.Widget))
    return n


def launch(config: str | None = None, roots=None) -> PosenbApp:
    """The posenb app for project ``config`` (None: start in the Project tab to open or create one).

    ``roots``: folders (a path or a list) the panels' file browsers and path boxes may open, besides the folder
    the app was started in, the project's folder and the folders of ``POSENB_ALLOWED_ROOTS`` (``os.pathsep``
    separated); anything else is refused (:mod:`posenb.io.roots`).
    """
    from pathlib import Path  # noqa: PLC0415

    from posenb.widgets._file_browser import add_root, session_roots  # noqa: PLC0415

    session_roots()  # the start folder and POSENB_ALLOWED_ROOTS
    extra = [roots] if isinstance(roots, (str, Path)) else list(roots or [])
    if config is not None:
        p = Path(str(config)).expanduser()
        extra.append(p if p.is_dir() else p.parent)
    for root in extra:
        add_root(root)
    return PosenbApp(config)
