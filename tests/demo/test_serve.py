"""serve_dashboard's command line and environment (the Voila process itself is driven in tests/browser)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("voila")


def _capture(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, env=None, check=False: calls.append((cmd, env)))
    return calls


def test_localhost_without_token_and_beyond_with_one(monkeypatch, tmp_path, capsys):
    from posenb.demo.run import serve_dashboard

    calls = _capture(monkeypatch)
    config = tmp_path / "config.yaml"
    serve_dashboard(str(config), port=9999)
    cmd, env = calls[-1]
    assert cmd[:3] == [sys.executable, "-m", "voila"] and "--port=9999" in cmd and "--Voila.ip=127.0.0.1" in cmd
    assert "--token" not in cmd and env["POSENB_CONFIG"] == str(config.resolve())
    # Voila runs the kernel in the notebook's folder: the folder the dashboard was started in is passed on (an
    # allowed root of the panels' file browsers, posenb.io.roots)
    monkeypatch.delenv("POSENB_START_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    serve_dashboard(str(config), port=9999)
    assert calls[-1][1]["POSENB_START_DIR"] == str(tmp_path)
    serve_dashboard(str(config), ip="0.0.0.0")
    assert "--token" in calls[-1][0]
    assert "ssh -L 8866:127.0.0.1:8866" in capsys.readouterr().out


def test_voila_templates_found_from_a_venv_with_system_site_packages(monkeypatch, tmp_path):
    from posenb.demo.run import _voila_data_dir, serve_dashboard

    here = Path(sys.prefix).resolve() / "share" / "jupyter"
    found = _voila_data_dir()
    if (here / "voila" / "templates").is_dir():
        assert found is None  # Voila's data under this Python's prefix: nothing to add
    base = Path(found) if found else here
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))  # as in `python -m venv --system-site-packages`
    assert _voila_data_dir() == str(base)
    calls = _capture(monkeypatch)
    monkeypatch.setenv("JUPYTER_PATH", "/somewhere")
    serve_dashboard(None)
    assert calls[-1][1]["JUPYTER_PATH"].split(":") == [str(base), "/somewhere"]
