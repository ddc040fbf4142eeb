"""Real-browser tests: Voila (or JupyterLab) serves a notebook, Playwright drives Debian's chromium.

- One Playwright instance per test session (a second sync instance in the same run fails): pytest-playwright's
  ``playwright`` fixture when that plugin is loaded, else our own.
- Chromium: ``/usr/bin/chromium`` (``POSENB_CHROMIUM`` overrides) with the flags of ../shared/WIDGET_TESTING.md;
  never ``playwright install``.
- ``voila_app(notebook, config)`` starts Voila on 127.0.0.1 with a free port, a random token and
  ``POSENB_CONFIG=config``, waits for the port, returns the URL (with ``?token=``) and stops Voila after the test.
- ``jupyter_lab(root_dir) -> base URL`` starts JupyterLab (no token: bound to 127.0.0.1 in a test) on a free port
  with its settings, workspaces and runtime files under the test's tmp dir; after the test its kernels are shut
  down with the server (SIGTERM, then the leftovers are killed by pid) and no process is left behind.
- ``label_project(**kw) -> (config, folder)``: a demo project whose extracted frames are all unlabeled;
  ``wait_labels(path, image, n_points)`` polls its CollectedData file until an image has that many points.
- ``new_page()`` opens a page whose CDN font requests are aborted; on failure a screenshot is saved under
  ``test-artifacts/`` (gitignored).

Everything here skips cleanly when chromium, playwright or voila (jupyterlab for ``jupyter_lab``) is missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
import shutil
import signal
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


def _wait_listening(server, name: str, timeout: float, log_path: Path) -> None:
    """Wait until ``server.proc`` listens on ``server.port``; stop it and fail, naming the log, if it does not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {server.proc.returncode}; see {log_path}")
        try:
            socket.create_connection(("127.0.0.1", server.port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not listen on port {server.port} within {timeout:.0f} s; see {log_path}")


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
        _wait_listening(self, "voila", 60, log_path)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def _children(pid: int) -> list[int]:
    """Pids of the live processes whose parent is ``pid`` (read from /proc; empty elsewhere)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class JupyterLabServer:
    """``jupyter lab`` serving ``root`` on 127.0.0.1 without a token; ``url`` once it listens."""

    def __init__(self, root: Path, work: Path, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.pop("POSENB_CONFIG", None)
        env["JUPYTER_RUNTIME_DIR"] = str(work / "runtime")  # connection files: not in ~/.local
        # no "Would you like to get notified about official Jupyter news?" toast, no update check
        notification = (
            work / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        )
        notification.parent.mkdir(parents=True, exist_ok=True)
        notification.write_text('{"fetchNews": "false", "checkForUpdates": false}')
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.kernels: list[int] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                "--IdentityProvider.token=",
                "--ServerApp.password=",
                f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=None",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                f"--LabApp.workspaces_dir={work / 'workspaces'}",
                f"--LabApp.user_settings_dir={work / 'settings'}",
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=str(root),
            start_new_session=True,  # its own process group, so stop() can end everything it started
        )
        _wait_listening(self, "jupyter lab", 90, log_path)

    def stop(self) -> None:
        """SIGTERM: the server shuts its kernels down and exits. Whatever is left after 20 s is killed."""
        if self.proc.poll() is None:
            # kernels run in sessions of their own (jupyter_client), so note them before the server goes
            self.kernels = _children(self.proc.pid)
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in self.kernels) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in self.kernels:
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._log.close()


@pytest.fixture
def jupyter_lab(tmp_path):
    """``jupyter_lab(root_dir) -> base URL``: JupyterLab serving ``root_dir`` for this test."""
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.skip("jupyterlab is not installed")
    servers = []

    def start(root: Path) -> str:
        work = tmp_path / f"jupyterlab-{len(servers)}"
        work.mkdir()
        server = JupyterLabServer(Path(root), work, tmp_path / f"jupyterlab-{len(servers)}.log")
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.stop()
        assert not any(_alive(pid) for pid in server.kernels), f"kernels left running: {server.kernels}"


def make_label_project(root: Path, **kw) -> tuple[str, Path]:
    """A demo project under ``root/work`` whose 6 extracted frames are all unlabeled (every click places a
    point); returns its config path and ``labeled-data/demo_mouse``."""
    import io

    from posenb.demo import make_demo_project

    with contextlib.redirect_stdout(io.StringIO()):
        config = make_demo_project(root / "work", n_frames=60, n_labeled=6, **kw)
    folder = Path(config).parent / "labeled-data" / "demo_mouse"
    for f in folder.glob("CollectedData_*"):
        f.unlink()
    return config, folder


@pytest.fixture
def label_project(tmp_path):
    """``label_project(**make_demo_project_kwargs) -> (config, labeled-data folder)``."""
    return lambda **kw: make_label_project(tmp_path, **kw)


def wait_labels(path: Path, image: str, n_points: int, timeout: float = 15.0):
    """Poll the label file until ``image`` has ``n_points`` labeled parts (the kernel writes asynchronously);
    returns its row."""
    from posenb.errors import LabelError
    from posenb.io.labels import read_labels

    deadline = time.monotonic() + timeout
    while True:
        try:
            df = read_labels(path)
            row = df.loc[("labeled-data", Path(path).parent.name, image)]
            if int(row.notna().sum()) == 2 * n_points:
                return row
        except (LabelError, KeyError, OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not get {n_points} points for {image} within {timeout} s")
        time.sleep(0.1)


@pytest.fixture(name="wait_labels")
def wait_labels_fixture():
    """:func:`wait_labels` for test modules (conftest is not imported by name)."""
    return wait_labels


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
    """Copy Voila and JupyterLab logs to test-artifacts/ when the test fails."""
    yield
    rep = getattr(request.node, "posenb_rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for log in [*tmp_path.glob("voila-*.log"), *tmp_path.glob("jupyterlab-*.log")]:
            shutil.copy(log, ARTIFACTS / f"{request.node.name}-{log.name}")
