"""Widget tests work in pytest's temporary folders: those are the allowed roots of the panels' file browsers
(posenb.io.roots; the real app allows the folder it was started in, the project and POSENB_ALLOWED_ROOTS)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _roots_in_tmp(tmp_path_factory, monkeypatch):
    from posenb.widgets import _file_browser

    monkeypatch.delenv("POSENB_ALLOWED_ROOTS", raising=False)
    monkeypatch.delenv("POSENB_START_DIR", raising=False)
    base = tmp_path_factory.getbasetemp()
    _file_browser.set_roots(start=base)
    yield
    _file_browser._ROOTS.clear()
