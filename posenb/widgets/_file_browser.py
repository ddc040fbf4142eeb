"""A small server-side file browser: a path box, the listing of a folder, and "up" / "open" / "add".

The browser runs on the server, so it shows the server's file system (what a remote JupyterHub user needs);
files picked here stay where they are. :func:`list_folder` is the pure part (tested without widgets).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets

from posenb.project.paths import VIDEO_EXTENSIONS

__all__ = ["FileBrowser", "list_folder"]


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
    """

    def __init__(
        self,
        start: str | None = None,
        extensions: tuple[str, ...] | None = VIDEO_EXTENSIONS,
        pick_label: str = "Add selected",
        css_prefix: str = "posenb-browser",
    ):
        super().__init__()
        self.extensions = extensions
        self._callbacks: list[Callable[[list[str]], None]] = []
        self.folder = Path(start or os.getcwd()).expanduser()
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
        self.up_button.on_click(lambda _: self.show(self.folder.parent))
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

    def show(self, folder) -> None:
        """List ``folder`` (a file path shows its folder with the file selected)."""
        path = Path(str(folder)).expanduser()
        selected = ()
        if path.is_file():
            selected = (f"  {path.name}",)
            path = path.parent
        try:
            dirs, files = list_folder(path, self.extensions)
        except OSError as exc:
            self.message.value = (
                f'<span style="color:#cf222e">Cannot list {path}: {exc.strerror or exc}</span>'
            )
            return
        self.folder = path
        self.path_text.value = str(path)
        self.listing.options = [f"[{d}]" for d in dirs] + [f"  {f}" for f in files]
        self.listing.value = tuple(v for v in selected if v in self.listing.options)
        kind = "video files" if self.extensions == VIDEO_EXTENSIONS else "files"
        self.message.value = f"{len(dirs)} folder(s), {len(files)} {kind}"

    def selected_paths(self) -> list[str]:
        return [str(self.folder / (v[1:-1] if v.startswith("[") else v.strip())) for v in self.listing.value]

    def _open_selected(self) -> None:
        dirs = [v for v in self.listing.value if v.startswith("[")]
        if dirs:
            self.show(self.folder / dirs[0][1:-1])

    def pick(self) -> list[str]:
        """Hand the selected files (folders are scanned by the receiver) to the callbacks."""
        paths = self.selected_paths()
        if not paths:
            self.message.value = "Select one or more files (or folders) first."
            return []
        for cb in list(self._callbacks):
            cb(paths)
        return paths
