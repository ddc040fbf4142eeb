"""The shared panel helpers in posenb.widgets._actions."""

from __future__ import annotations

import ipywidgets as widgets

from posenb.errors import ConfigError
from posenb.widgets._actions import ActionRunner, status_html


def test_status_html_escapes_colours_and_keeps_lines():
    assert status_html("") == ""
    ok = status_html("saved <3 labels>\nnext frame", "ok")
    assert ok.startswith('<span style="color:#1a7f37">') and "&lt;3 labels&gt;<br>next frame" in ok
    assert "#cf222e" in status_html("bad", "error")
    assert status_html("careful", "warn") == status_html("careful", "warning")
    assert "#333" in status_html("unknown level", "whatever")


def test_action_runner_reports_errors_and_reenables_buttons():
    seen = []
    button = widgets.Button()
    runner = ActionRunner(lambda text, level: seen.append((text, level)), buttons=[button])

    def fail():
        assert button.disabled  # disabled while the action runs
        raise ConfigError("config.yaml: bodyparts is empty; add at least one body part.")

    runner.run("Checking", fail)
    assert runner.wait(10)
    assert seen[0] == ("Checking...", "info")
    assert seen[-1] == ("Checking failed: config.yaml: bodyparts is empty; add at least one body part.", "error")
    assert button.disabled is False and runner.result is None

    got = []
    runner.run("Counting", lambda: 3, after=got.append, background=False)
    assert got == [3] and runner.result == 3
