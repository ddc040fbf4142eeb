"""Running one core function from a panel button: in a thread, with the panel's buttons disabled and the outcome
in its status line (``ActionRunner``); ``status_html`` formats that line. Used by the review panels."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Sequence
from typing import Any

from posenb.errors import PosenbError

__all__ = ["ActionRunner", "status_html"]

_COLORS = {"info": "#333", "ok": "#1a7f37", "warning": "#9a6700", "warn": "#9a6700", "error": "#cf222e"}


def status_html(text: str, level: str = "info") -> str:
    """A status line of a panel: ``text`` escaped (new lines kept), coloured by ``level``.

    Levels: "info", "ok", "warning" (or "warn"), "error". An empty ``text`` gives an empty string.
    """
    if not text:
        return ""
    body = "<br>".join(html.escape(line) for line in str(text).split("\n"))
    return f'<span style="color:{_COLORS.get(level, "#333")}">{body}</span>'


class ActionRunner:
    """Runs one action at a time for a panel.

    ``set_status(text, level)`` is the panel's status writer; ``buttons`` are disabled while an action runs.
    ``result`` holds what the last action returned (None if it failed).
    """

    def __init__(
        self, set_status: Callable[[str, str], None], buttons: Sequence = (), name: str = "posenb-action"
    ):
        self.set_status = set_status
        self.buttons = list(buttons)
        self.name = name
        self.result: Any = None
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(
        self,
        what: str,
        fn: Callable[[], Any],
        after: Callable[[Any], None] | None = None,
        background: bool = True,
    ) -> None:
        """Call ``fn()`` (in a daemon thread if ``background``), then ``after(result)``; errors go to the status."""
        if self.busy:
            self.set_status("Busy: wait for the current action to finish.", "warning")
            return
        self.result = None
        if background:
            self._thread = threading.Thread(
                target=self._work, args=(what, fn, after), daemon=True, name=self.name
            )
            self._thread.start()
        else:
            self._work(what, fn, after)

    def _work(self, what: str, fn: Callable, after: Callable | None) -> None:
        for b in self.buttons:
            b.disabled = True
        self.set_status(f"{what}...", "info")
        try:
            self.result = fn()
            if after is not None:
                after(self.result)
            else:
                self.set_status(f"{what}: done.", "info")
        except PosenbError as exc:
            self.set_status(f"{what} failed: {exc}", "error")
        except Exception as exc:  # noqa: BLE001 - shown in the panel, never lost in a thread
            self.set_status(f"{what} failed: {type(exc).__name__}: {exc}", "error")
        finally:
            for b in self.buttons:
                b.disabled = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running action; True if none is running afterwards."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.busy
