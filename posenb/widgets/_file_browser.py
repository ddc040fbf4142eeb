"""A small server-side file browser: a path box, the listing of a folder, and "up" / "open" / "add".

The browser runs on the server, so it shows the server's file system (what a remote JupyterHub user needs);
files picked here stay where they are. :func:`list_folder` is the pure part (tested without widgets).

Confinement: the browser (and every path a panel takes from a text box, through :func:`check_path`) stays
inside the session's allowed roots (:func:`session_roots`: the folder the dashboard was started in, the roots
given to ``launch(roots=...)`` or in ``POSENB_ALLOWED_ROOTS``, and every project opened). The rule itself is
:func:`posenb.io.roots.confine` (``~``, ``..`` and symbolic links resolved first); "Up" stops at a root.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets

from posenb.io.roots import OutsideRootsError, allowed_roots, confine, parent_within
from posenb.project.paths import VIDEO_EXTENSIONS

__all__ = ["FileBrowser", "add_root", "check_path", "list_folder", "session_roots", "set_roots"]

_ROOTS: list[Path] = []


def session_roots() -> list[Path]:
    """The allowed roots of this kernel's panels (first use: the current folder and ``POSENB_ALLOWED_ROOTS``)."""
    if not _ROOTS:
        _ROOTS.extend(allowed_roots())
    return list(_ROOTS)


def set_roots(*roots, start: str | os.PathLike | None = None) -> list[Path]:
    """Replace the session's roots by ``start`` (default the current folder), ``roots`` and the env var."""
    new = allowed_roots(*roots, start=start)
    _ROOTS[:] = new
    return list(_ROOTS)


def add_root(folder: str | os.PathLike) -> None:
    """Allow ``folder`` too (a project opened by the app is one)."""
    for root in allowed_roots(folder, start=folder, env={}):
        if root not in session_roots():
            _ROOTS.append(root)


def check_path(path: str | os.PathLike, roots=None) -> Path:
    """``path`` resolved if inside the session's roots (or ``roots``); else :class:`OutsideRootsError`."""
    return confine(path, session_roots() if roots is None else roots)


def list_folder(
    folder: str | os.PathLike,
    extensions: tuple[str, ...] | None = VIDEO_EXTENSIONS,
    show_hidden: bool = False,
):
    """``(folders, files)`` names in ``folder``, sorted; files filtered by ``extensions`` (None: all).

    Raises ``OSError`` when the folder cannot be listed.
    """
    folder = Path(folder).expanduser()
    dirs, files = [], []
    for entry in os.scandir(folder):
        if not show_hidden and entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            dirs.append(entry.name)
        elif extensions is None or Path(entry.name).suffix.lower() in extensions:
            files.append(entry.name)
    return sorted(dirs, key=str.lower), sorted(files, key=str.lower)


class FileBrowser(widgets.VBox):
    """Browse the server's folders and pick files (``on_pick(callback)`` receives a list of paths).

    Parameters
    ----------
    start : folder shown first (default: the current working directory).
    extensions : file extensions listed (default: video files); None lists every file.
    pick_label : text of the button that hands the selection to the callback.
    css_prefix : prefix of the CSS classes of the path box, listing and buttons.
    roots : the folders it may show (default :func:`session_roots`); a start outside them shows the first root.
    """

    def __init__(
        self,
        start: str | None = None,
        extensions: tuple[str, ...] | None = VIDEO_EXTENSIONS,
        pick_label: str = "Add selected",
        css_prefix: str = "posenb-browser",
        roots=None,
    ):
        super().__init__()
        self.extensions = extensions
        self._roots = None if roots is None else list(roots)
        self._callbacks: list[Callable[[list[str]], None]] = []
        try:
            self.folder = check_path(start or os.getcwd(), self._roots)
        except OutsideRootsError:
            self.folder = self.roots[0]
        self.path_text = widgets.Text(
            value=str(self.folder), description="Folder", layout=widgets.Layout(width="520px")
        )
        self.path_text.add_class(f"{css_prefix}-path")
        self.go_button = widgets.Button(description="Go", layout=widgets.Layout(width="50px"))
        self.up_button = widgets.Button(
            description="Up", icon="arrow-up", layout=widgets.Layout(width="60px")
        )
        self.listing = widgets.SelectMultiple(rows=8, layout=widgets.Layout(width="520px"))
        self.listing.add_class(f"{css_prefix}-listing")
        self.open_button = widgets.Button(description="Open folder", layout=widgets.Layout(width="110px"))
        self.pick_button = widgets.Button(
            description=pick_label, button_style="info", layout=widgets.Layout(width="130px")
        )
        self.pick_button.add_class(f"{css_prefix}-pick")
        self.message = widgets.HTML()
        self.go_button.on_click(lambda _: self.show(self.path_text.value))
        self.path_text.on_submit(lambda _: self.show(self.path_text.value))
        self.up_button.on_click(lambda _: self.up())
        self.open_button.on_click(lambda _: self._open_selected())
        self.pick_button.on_click(lambda _: self.pick())
        self.children = [
            widgets.HBox([self.path_text, self.go_button, self.up_button]),
            self.listing,
            widgets.HBox([self.open_button, self.pick_button]),
            self.message,
        ]
        self.show(self.folder)

    def on_pick(self, callback: Callable[[list[str]], None]) -> None:
        self._callbacks.append(callback)

    @property
    def roots(self) -> list[Path]:
        return session_roots() if self._roots is None else [Path(r).resolve() for r in self._roots]

    def up(self) -> None:
        """Show the parent folder; at a root, say so and stay."""
        parent = parent_within(self.folder, self.roots)
        if parent is None:
            self.message.value = _error(f"{self.folder} is the top folder this dashboard may show.")
            self.up_button.disabled = True
            return
        self.show(parent)

    def show(self, folder) -> None:
        """List ``folder`` (a file path shows its folder with the file selected); paths outside the roots are
        refused with a message."""
        try:
            path = check_path(folder, self.roots)
        except OutsideRootsError as exc:
            self.message.value = _error(str(exc))
            self.path_text.value = str(self.folder)
            return
        selected = ()
        if path.is_file():
            selected = (f"  {path.name}",)
            path = path.parent
        try:
            dirs, files = list_folder(path, self.extensions)
        except OSError as exc:
            self.message.value = _error(f"Cannot list {path}: {exc.strerror or exc}")
            return
        self.folder = path
        self.up_button.disabled = parent_within(path, self.roots) is None
        self.path_text.value = str(path)
        self.listing.options = [f"[{d}]" for d in dirs] + [f"  {f}" for f in files]
        self.listing.value = tuple(v for v in selected if v in self.listing.options)
        kind = "video files" if self.extensions == VIDEO_EXTENSIONS else "files"
        self.message.value = f"{len(dirs)} folder(s), {len(files)} {kind}"

    def selected_paths(self) -> list[str]:
        """The selected entries, resolved; an entry that leads outside the roots (a link) is left out."""
        out = []
        for v in self.listing.value:
            try:
                out.append(str(check_path(self.folder / (v[1:-1] if v.startswith("[") else v.strip()), self.roots)))
            except OutsideRootsError as exc:
                self.message.value = _error(str(exc))
        return out

    def _open_selected(self) -> None:
        dirs = [v for v in self.listing.value if v.startswith("[")]
        if dirs:
            self.show(self.folder / dirs[0][1:-1])
        else:
            self.message.value = "Select a folder (shown in [brackets]) to open it."

    def pick(self) -> list[str]:
        """Hand the selected files (folders are scanned by the receiver) to the callbacks."""
        if not self.listing.value:
            self.message.value = "Select one or more files (or folders) first."
            return []
        paths = self.selected_paths()
        if not paths:
            return []
        for cb in list(self._callbacks):
            cb(paths)
        return paths


def _error(text: str) -> str:
    import html  # noqa: PLC0415

    return f'<span style="color:#cf222e">{html.escape(text)}</span>'
