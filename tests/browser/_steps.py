"""Steps shared by the real-browser tests (Playwright pages on Voila apps): the JavaScript that tells a canvas
has been drawn, opening an app tab, setting an integer box and waiting for files the app writes."""

from __future__ import annotations

import re
import time
from pathlib import Path

#: the tab bar of posenb's app (voila_apps/posenb_app.ipynb)
TAB = ".posenb-app > .lm-TabBar .lm-TabBar-tab"


def js_drawn(canvas_css: str) -> str:
    """A JS predicate for ``page.wait_for_function``: the canvas's centre pixel has been painted."""
    return f"""() => {{
  const c = document.querySelector('{canvas_css}');
  if (!c) return false;
  const d = c.getContext('2d').getImageData(c.width / 2, c.height / 2, 1, 1).data;
  return d[3] > 0;
}}"""


def wait_files(folder: Path, pattern: str, timeout: float) -> list[Path]:
    """Poll until ``folder.glob(pattern)`` finds a file; fail naming the pattern if it does not."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = sorted(folder.glob(pattern))
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"no {pattern} under {folder} after {timeout:.0f} s")


def open_tab(page, title: str, css: str) -> None:
    """Click the app tab called ``title`` and wait until ``css`` is visible."""
    page.locator(TAB).filter(has_text=re.compile(f"^\\s*{re.escape(title)}\\s*$")).first.click()
    page.wait_for_selector(css, state="visible", timeout=120_000)


def set_int(page, css: str, value: int) -> None:
    """Type ``value`` into the IntText widget with class ``css`` and commit it with Enter."""
    box = page.locator(f"{css} input")
    box.fill(str(value))
    box.press("Enter")
