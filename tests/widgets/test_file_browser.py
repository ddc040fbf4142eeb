"""The panels' file browser stays inside its allowed roots (issue 11, item 2): typed paths, Up, links, picks."""

from __future__ import annotations

from pathlib import Path

import pytest

from posenb.widgets import _file_browser
from posenb.widgets._file_browser import FileBrowser


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "root"
    (root / "videos").mkdir(parents=True)
    (root / "videos" / "a.mp4").write_bytes(b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "b.mp4").write_bytes(b"x")
    (root / "videos" / "out.mp4").symlink_to(outside / "b.mp4")
    (root / "link-out").symlink_to(outside)
    return root.resolve(), outside.resolve()


def test_typed_paths_outside_the_roots_are_refused(tree):
    root, outside = tree
    fb = FileBrowser(start=str(root), roots=[root])
    picked = []
    fb.on_pick(picked.extend)
    for typed in ("/etc", "/root", str(outside), str(root / ".." / "outside"), str(root / "link-out"), "~", "/"):
        fb.path_text.value = typed
        fb.go_button.click()
        assert "outside the folders this dashboard may open" in fb.message.value, typed
        assert fb.folder == root and fb.path_text.value == str(root)  # the box shows where it stays
    fb.show("/etc/passwd")  # a file path outside: not shown, not selected
    assert fb.folder == root and "outside" in fb.message.value
    assert "  passwd" not in fb.listing.options and not picked


def test_up_stops_at_the_root(tree):
    root, _ = tree
    fb = FileBrowser(start=str(root / "videos"), roots=[root])
    assert not fb.up_button.disabled
    fb.up_button.click()
    assert fb.folder == root and fb.up_button.disabled  # at the root: Up is off
    fb.up()  # (a click that gets through anyway says why nothing happens)
    assert fb.folder == root and "top folder" in fb.message.value


def test_a_link_out_of_the_roots_cannot_be_picked(tree):
    root, _ = tree
    fb = FileBrowser(start=str(root / "videos"), roots=[root])
    picked = []
    fb.on_pick(picked.extend)
    assert set(fb.listing.options) == {"  a.mp4", "  out.mp4"}
    fb.listing.value = ("  out.mp4",)
    fb.pick_button.click()
    assert picked == [] and "outside" in fb.message.value
    fb.listing.value = ("  a.mp4",)
    fb.pick_button.click()
    assert picked == [str(root / "videos" / "a.mp4")]


def test_a_start_outside_the_roots_shows_the_first_root(tree):
    root, outside = tree
    fb = FileBrowser(start=str(outside), roots=[root])
    assert fb.folder == root


def test_launch_adds_its_roots_and_the_project(tree, monkeypatch):
    from posenb.widgets.app import launch

    root, outside = tree
    monkeypatch.chdir(root)
    _file_browser._ROOTS.clear()
    monkeypatch.setenv("POSENB_ALLOWED_ROOTS", "")
    launch(roots=[str(outside)])
    roots = _file_browser.session_roots()
    assert root in roots and outside in roots and Path("/") not in roots
    fb = FileBrowser()
    fb.show(outside)
    assert fb.folder == outside
    fb.show("/etc")
    assert fb.folder == outside and "outside" in fb.message.value
