"""``Panel``: the small base every panel of the app shares (project config, status line, project callbacks).

A panel is a ``VBox`` constructed as ``Panel(config=None)``; :class:`~posenb.widgets.app.PosenbApp` calls its
:meth:`Panel.set_config` whenever the user opens or creates another project. The base holds what each panel used to
write for itself:

- ``config`` (the path of config.yaml, also readable and writable as ``config_path``) and ``cfg`` (its dict):
  :meth:`Panel.load_config` reads them; the default :meth:`Panel.set_config` does that and calls
  :meth:`Panel.show_project` (panels whose ``set_config`` takes further arguments override it and call
  ``load_config`` themselves);
- the status line: the HTML widget named by ``STATUS`` (``"status"``, or ``"message"`` in panels whose ``status``
  is something else); :meth:`Panel._set_status` writes ``text`` coloured by ``level`` ("info", "ok", "warning",
  "error"; :func:`posenb.widgets._actions.status_html`) and keeps the plain text in ``status_text`` (for tests);
  :meth:`Panel.status_info`, ``status_ok``, ``status_warning``, ``status_error`` are shorthands;
- ``on_project(callback)``: ``callback(config)`` is called (:meth:`Panel._notify_project`) when the panel made or
  changed a project in a way the other tabs should see (the app re-opens the project in them);
- ``close()`` also closes the panel's ``image_canvas`` if it has one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import ipywidgets as widgets

from posenb.widgets._actions import status_html

__all__ = ["Panel"]

log = logging.getLogger(__name__)


class Panel(widgets.VBox):
    """Base class of the app's panels (see the module docstring)."""

    #: attribute name of the status line (an ``ipywidgets.HTML``)
    STATUS = "status"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.config: str | None = None
        self.cfg: dict | None = None
        self.status_text = ""
        self._project_callbacks: list[Callable[[str], None]] = []

    # ------------------------------------------------------------------ project
    @property
    def config_path(self) -> str | None:
        """Same as ``config``: the path of the open project's config.yaml (None: no project open)."""
        return self.config

    @config_path.setter
    def config_path(self, value: str | os.PathLike | None) -> None:
        self.config = None if value is None else str(value)

    def load_config(self, config: str | os.PathLike) -> dict:
        """Read project ``config`` (``posenb.project.config.read_config``) into ``config`` and ``cfg``.

        ``config`` is set first, so it names the project even when reading it fails (the error is raised).
        """
        from posenb.project.config import read_config  # noqa: PLC0415

        self.config = str(config)
        self.cfg = read_config(config)
        return self.cfg

    def set_config(self, config: str | os.PathLike) -> None:
        """Open project ``config`` (what the app calls on every panel when the project changes)."""
        self.load_config(config)
        self.show_project()

    def show_project(self) -> None:
        """Show the project just loaded into ``cfg`` (subclasses fill their widgets here)."""

    def on_project(self, callback: Callable[[str], None]) -> None:
        """Register ``callback(config)``, called when this panel made or changed a project (the app uses it to
        refresh the other tabs)."""
        self._project_callbacks.append(callback)

    def _notify_project(self, config: str | None = None, catch: bool = False) -> None:
        """Call every ``on_project`` callback with ``config`` (default: the open project). ``catch``: log a
        callback's error instead of raising it (when another panel's refresh must not break this one)."""
        config = self.config if config is None else config
        for callback in list(self._project_callbacks):
            if not catch:
                callback(config)
                continue
            try:
                callback(config)
            except Exception:  # noqa: BLE001 - another panel's refresh must not break this one
                log.exception("posenb: a project callback failed")

    # ------------------------------------------------------------------ status line
    def _set_status(self, text: str, level: str = "info") -> None:
        """Show ``text`` in the status line, coloured by ``level``; an empty ``text`` clears it."""
        getattr(self, self.STATUS).value = status_html(text, level)
        self.status_text = text

    def _set_message(self, text: str, kind: str = "info") -> None:
        """Same as :meth:`_set_status` (the name the labeling panels use)."""
        self._set_status(text, kind)

    def status_info(self, text: str) -> None:
        self._set_status(text, "info")

    def status_ok(self, text: str) -> None:
        self._set_status(text, "ok")

    def status_warning(self, text: str) -> None:
        self._set_status(text, "warning")

    def status_error(self, text: str) -> None:
        self._set_status(text, "error")

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Close the panel (and its ``image_canvas``, if any)."""
        canvas = getattr(self, "image_canvas", None)
        if canvas is not None:
            canvas.close()
        super().close()
