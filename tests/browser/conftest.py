"""Real-browser tests: Voila serves a dashboard of voila_apps/, Playwright drives Debian's chromium.

- One Playwright instance per test session (a second sync instance in the same run fails): pytest-playwright's
  ``playwright`` fixture when that plugin is loaded, else our own.
- Chromium: ``/usr/bin/chromium`` (``POSENB_CHROMIUM`` overrides) with the flags of ../shared/WIDGET_TESTING.md;
  never ``playwright install``.
- ``voila_app(notebook, config)`` starts Voila on 127.0.0.1 with a free port, a random token and
  ``POSENB_CONFIG=config``, waits for the port, returns the URL (with ``?token=``) and stops Voila after the test.
- ``new_page()`` opens a page whose CDN font requests are aborted; on failure a screenshot is saved under
  ``test-artifacts/`` (gitignored).

Everything here skips cleanly when chromium, playwright or voila is missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("POSENB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CDN = re.compile(r"^https?://(?!127\.0\.0\.1|localhost)")


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    for module in ("playwright", "voila"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"posenb_rep_{report.when}", report)


@pytest.fixture(scope="session")
def pw_browser(request):
    """One chromium for the whole session."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    if request.config.pluginmanager.hasplugin("playwright"):
        pw = request.getfixturevalue("playwright")  # pytest-playwright's session instance
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    else:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VoilaServer:
    """A Voila process serving one notebook; ``url`` once it listens."""

    def __init__(self, notebook: Path, config: str | None, log_path: Path):
        self.port = free_port()
        # Voila 0.5 serves without a token unless told otherwise; the tests use one, as users should.
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/?token={self.token}"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        if config:
            env["POSENB_CONFIG"] = str(config)
        else:
            env.pop("POSENB_CONFIG", None)
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voila",
                str(notebook),
                "--no-browser",
                f"--port={self.port}",
                "--Voila.ip=127.0.0.1",
                f"--Voila.token={self.token}",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=str(notebook.parent),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"voila exited with {self.proc.returncode}; see {log_path}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"voila did not listen on port {self.port} within 60 s; see {log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@pytest.fixture
def voila_app(tmp_path):
    """``voila_app(notebook_name, config) -> url``: serve ``voila_apps/<notebook_name>`` for this test."""
    servers = []

    def start(name: str, config: str | None) -> str:
        server = VoilaServer(REPO / "voila_apps" / name, config, tmp_path / f"voila-{len(servers)}.log")
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def new_page(pw_browser, request):
    """``new_page() -> Page`` with CDN requests aborted; screenshot saved in test-artifacts/ on failure."""
    pages = []

    def make():
        context = pw_browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.route(CDN, lambda route: route.abort())
        pages.append((context, page))
        return page

    yield make
    failed = any(
        getattr(request.node, f"posenb_rep_{w}", None) is not None
        and getattr(request.node, f"posenb_rep_{w}").failed
        for w in ("setup", "call")
    )
    for i, (context, page) in enumerate(pages):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / f"{safe}-{i}.png"), full_page=True)
        context.close()


@pytest.fixture
def copy_logs_on_failure(request, tmp_path):
    """Copy Voila logs to test-artifacts/ when the test fails."""
    yield
    rep = getattr(request.node, "posenb_rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for log in tmp_path.glob("voila-*.log"):
            shutil.copy(log, ARTIFACTS / f"{request.node.name}-{log.name}")
