"""Serving the dashboards with Voila (``posenb dashboard``, ``posenb demo``): command line, templates, kernel culling.

Voila starts one kernel per page load. Voila 0.5 asks for it to be shut down when the page unloads, but a page
that is killed, loses its network or is closed on a laptop that sleeps never says so, and each such kernel keeps
its memory (a few hundred MB with torch) until the server stops. :func:`culling_flags` therefore turns on
jupyter_server's culler: a kernel with no open page (no websocket connection) and idle for
``idle_timeout`` seconds is shut down; kernels of open pages, and busy kernels, are never culled. A kernel
still starting counts as idle, so the timeout stays well above a kernel's start on a loaded machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from posenb.widgets.apps import app_path

__all__ = ["serve_dashboard", "dashboard_command", "culling_flags", "CULL_IDLE_TIMEOUT", "CULL_INTERVAL"]

CULL_IDLE_TIMEOUT = 120  # s a kernel with no open page may stay idle (the README's voila commands use the same)
CULL_INTERVAL = 30  # s between the culler's checks


def culling_flags(idle_timeout: int = CULL_IDLE_TIMEOUT, interval: int = CULL_INTERVAL) -> list[str]:
    """Voila / jupyter_server options that shut down the kernels of closed pages.

    ``idle_timeout`` (s): a kernel without any connection that was idle this long is shut down; ``interval`` (s):
    how often this is checked. Kernels with an open page (``cull_connected=False``) or busy are kept.
    """
    return [
        f"--MappingKernelManager.cull_idle_timeout={int(idle_timeout)}",
        f"--MappingKernelManager.cull_interval={int(interval)}",
        "--MappingKernelManager.cull_connected=False",
    ]


def _voila_data_dir() -> str | None:
    """The ``share/jupyter`` folder holding Voila's templates when it is not under this Python's prefix.

    Voila looks for its templates in Jupyter's data path, which starts at ``sys.prefix``; in a virtual environment
    created with ``--system-site-packages`` (a common setup on clusters) Voila comes from the base Python, whose
    ``share/jupyter`` is not on that path, and Voila stops with "No template sub-directory with name 'lab'".
    """
    import importlib.util
    import sys

    spec = importlib.util.find_spec("voila")
    if spec is None or not spec.origin:
        return None
    for prefix in Path(spec.origin).resolve().parents:
        data = prefix / "share" / "jupyter"
        if (data / "voila" / "templates").is_dir():
            inside = Path(sys.prefix).resolve() / "share" / "jupyter"
            return None if data == inside else str(data)
    return None


def dashboard_command(
    config: str | None = None,
    port: int = 8866,
    ip: str = "127.0.0.1",
    app: str = "posenb_app",
    cull_idle_timeout: int = CULL_IDLE_TIMEOUT,
    cull_interval: int = CULL_INTERVAL,
) -> tuple[list[str], dict]:
    """``(command, environment)`` that serves ``voila_apps/<app>.ipynb`` with Voila (see :func:`serve_dashboard`)."""
    import sys

    env = dict(os.environ)
    if config:
        env["POSENB_CONFIG"] = str(Path(config).resolve())
    env.setdefault("POSENB_START_DIR", os.getcwd())  # an allowed root of the file browsers (posenb.io.roots)
    extra = _voila_data_dir()
    if extra is not None:
        env["JUPYTER_PATH"] = os.pathsep.join(p for p in (extra, env.get("JUPYTER_PATH", "")) if p)
    # debugpy's "frozen modules" notice from every kernel on Python >= 3.11 is noise for a dashboard
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    cmd = [sys.executable, "-m", "voila", str(app_path(app)), "--no-browser", f"--port={port}", f"--Voila.ip={ip}"]
    cmd += culling_flags(cull_idle_timeout, cull_interval)
    if os.name == "posix":
        # kernel traffic over Unix sockets (readable by this user only) instead of unencrypted local TCP ports:
        # ipykernel >= 7 warns "Kernel is running over TCP without encryption" otherwise
        cmd.append("--KernelManager.transport=ipc")
    if ip not in ("127.0.0.1", "localhost", "::1"):
        # Standalone Voila 0.5 serves without a token unless asked: beyond localhost, always require one.
        cmd.append("--token")
    return cmd, env


def serve_dashboard(config: str | None = None, port: int = 8866, ip: str = "127.0.0.1", app: str = "posenb_app") -> None:
    """Serve ``voila_apps/<app>.ipynb`` with Voila (blocks). Served beyond localhost, Jupyter's token stays on.

    The kernel of a page that was closed is shut down (:func:`culling_flags`), so page loads do not pile up
    kernels on a shared server.
    """
    import subprocess

    cmd, env = dashboard_command(config, port, ip, app)
    print(f"\nServing the posenb dashboard: http://{ip}:{port}/  (Ctrl-C to stop)")
    if "--token" in cmd:
        print("Served beyond localhost with a token: open the URL ending in ?token=... that Voila prints.")
    print(f"From a laptop, forward the port first: ssh -L {port}:127.0.0.1:{port} user@server")
    try:
        subprocess.run(cmd, env=env, check=False)
    except KeyboardInterrupt:
        pass
