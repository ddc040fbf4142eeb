"""enable_colab(): a no-op outside Colab, calls Colab's widget-manager switch inside it (faked module)."""

import sys
import types

from posenb.widgets.colab import enable_colab, in_colab


def test_enable_colab_outside_colab_is_noop(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", None)  # import fails as it does outside Colab
    assert in_colab() is False
    assert enable_colab() is False


def test_enable_colab_calls_custom_widget_manager(monkeypatch):
    calls = []
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("enabled")
    colab.output = output
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.output", output)
    assert in_colab() is True
    assert enable_colab() is True
    assert calls == ["enabled"]
