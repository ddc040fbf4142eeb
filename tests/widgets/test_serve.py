"""serve_dashboard's command line and environment (the Voila process itself is driven in tests/browser)."""

from __future__ import annotations

import os
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
    from posenb.widgets.serve import serve_dashboard

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
    # kernels of closed pages are culled (tests/browser/test_kernel_culling_browser.py shows it in a browser)
    assert "--MappingKernelManager.cull_connected=False" in cmd
    assert any(c.startswith("--MappingKernelManager.cull_idle_timeout=") and int(c.split("=")[1]) > 0 for c in cmd)
    if os.name == "posix":  # no "Kernel is running over TCP without encryption" warning
        assert "--KernelManager.transport=ipc" in cmd
    serve_dashboard(str(config), ip="0.0.0.0")
    assert "--token" in calls[-1][0]
    assert "ssh -L 8866:127.0.0.1:8866" in capsys.readouterr().out


def test_voila_templates_found_from_a_venv_with_system_site_packages(monkeypatch, tmp_path):
    from posenb.widgets.serve import _voila_data_dir, serve_dashboard

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


def test_posenb_demo_serves_the_demo_project_after_the_run(monkeypatch, tmp_path):
    """``posenb demo`` serves from the CLI (the demo layer never imports posenb.widgets); --no-serve does not."""
    import posenb.demo.run
    import posenb.widgets.serve
    from posenb.cli import main

    served = []
    monkeypatch.setattr(posenb.demo.run, "run_demo", lambda workdir, **kw: {"project": str(tmp_path / "config.yaml")})
    monkeypatch.setattr(posenb.widgets.serve, "serve_dashboard", lambda config, port: served.append((config, port)))
    assert main(["demo", "--workdir", str(tmp_path), "--port", "9123"]) in (0, None)
    assert served == [(str(tmp_path / "config.yaml"), 9123)]
    assert main(["demo", "--workdir", str(tmp_path), "--no-serve"]) in (0, None)
    assert len(served) == 1


def test_the_readmes_voila_commands_cull_kernels_as_posenb_dashboard_does():
    from posenb.widgets.serve import culling_flags

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    commands = [c for c in readme.replace("\\\n", " ").splitlines() if " voila voila_apps/" in c]
    assert commands
    for command in commands:
        assert all(flag in command.split() for flag in culling_flags()), command
