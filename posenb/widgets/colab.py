"""Google Colab support: turn on Colab's widget manager so that ipywidgets, ipycanvas and bqplot panels render.

Call :func:`enable_colab` at the top of a notebook; it is a no-op (returns False) anywhere but Colab.
"""

from __future__ import annotations

__all__ = ["enable_colab", "in_colab"]


def in_colab() -> bool:
    """True when running in a Google Colab kernel."""
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True


def enable_colab() -> bool:
    """Enable third-party widgets in Colab (``output.enable_custom_widget_manager()``); False elsewhere."""
    try:
        from google.colab import output
    except ImportError:
        return False
    output.enable_custom_widget_manager()
    return True
