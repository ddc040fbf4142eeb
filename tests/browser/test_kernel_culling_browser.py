"""The dashboard does not pile up kernels: the app page opened and closed 10 times leaves no kernel behind, while
the kernel of a page that stays open is kept (issue: 12 loads left 12 kernels, 3.7 GB).

Voila is started with the command of ``posenb dashboard`` (:func:`posenb.widgets.serve.dashboard_command`), with
the culler's timeout shortened to seconds. Pages are closed as a killed tab is (no ``beforeunload``, so Voila's
own shutdown request is never sent): only the culler can free those kernels.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
IDLE_TIMEOUT, INTERVAL = 60, 5  # s; shorter than the dashboard's (CULL_IDLE_TIMEOUT), longer than a page takes to connect here


def _kernels(pid: int) -> list[int]:
    """Pids of the live child processes of ``pid`` (Voila's kernels), read from /proc."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.append(int(stat.parent.name))
    return kids


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture
def dashboard(tmp_path):
    """``posenb dashboard CONFIG`` on a free port (culler timeout shortened); yields (url, voila process)."""
    if not Path("/proc").is_dir():
        pytest.skip("counts kernels through /proc")
    from posenb.demo import make_demo_project
    from posenb.widgets.serve import dashboard_command

    with contextlib.redirect_stdout(io.StringIO()):
        config = make_demo_project(tmp_path / "work", n_frames=60, n_labeled=6)
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd, env = dashboard_command(config, port=port, cull_idle_timeout=IDLE_TIMEOUT, cull_interval=INTERVAL)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    log = open(tmp_path / "voila-0.log", "w")  # copied to test-artifacts/ on failure (copy_logs_on_failure)
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(tmp_path))

    def listening():
        assert proc.poll() is None, f"voila exited; see {log.name}"
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True

    try:
        _wait(listening, 180, "voila to listen")
        yield f"http://127.0.0.1:{port}/", proc
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


@pytest.mark.usefixtures("copy_logs_on_failure")
def test_closed_pages_leave_no_kernel_and_an_open_page_keeps_its_own(dashboard, pw_browser):
    url, voila = dashboard
    kept = pw_browser.new_context()
    page = kept.new_page()
    page.goto(url, timeout=120_000)
    page.wait_for_selector(".posenb-app", timeout=120_000)
    (own,) = _wait(lambda: _kernels(voila.pid), 30, "the open page's kernel")
    for _ in range(10):
        context = pw_browser.new_context()
        tab = context.new_page()
        tab.goto(url, timeout=120_000)
        tab.wait_for_selector(".posenb-app", timeout=120_000)
        context.close()  # like a killed tab: no beforeunload, no shutdown request
    # each closed page's kernel is culled IDLE_TIMEOUT s after it went idle without a connection
    # (without culling, the 10 closed pages would keep 10 kernels until the server stops)
    _wait(lambda: _kernels(voila.pid) == [own], 3 * IDLE_TIMEOUT + 30, "the closed pages' kernels to be culled")
    # the page that stayed open (idle far longer than the timeout) still has its kernel, and it answers
    page.locator(".posenb-app > .lm-TabBar .lm-TabBar-tab", has_text="Label").first.click()
    page.wait_for_selector(".posenb-tab-label", state="visible", timeout=60_000)
    assert _kernels(voila.pid) == [own]
    kept.close()
