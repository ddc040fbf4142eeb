"""Screenshots of every tab of the Voila app at 1400x1000, for a review by eye (issue 15): cut text, "null"
tooltips, empty space, contrast. Not a test; run it by hand::

    PYTHONPATH=. python tests/browser/screenshots.py /tmp/posenb-shots

It builds a demo project with a 2-iteration model and its analysis (so every tab has something to show),
serves voila_apps/posenb_app.ipynb on it and writes ``<NN>-<tab>.png`` (and ``-full.png``, the whole page) per
tab to the folder given. PNGs are not committed.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from conftest import CDN, CHROMIUM, CHROMIUM_ARGS, REPO, VoilaServer  # noqa: E402


def demo_with_model(base: Path) -> str:
    import posenb

    with contextlib.redirect_stdout(io.StringIO()):
        config = posenb.make_demo_project(base, n_frames=60, n_labeled=12)
        posenb.create_training_dataset(config)
        posenb.train_network(config, maxiters=2, saveiters=2, displayiters=1, progress=False, batch_size=2,
                             crop_size=None)
        cfg = posenb.read_config(config)
        posenb.analyze_videos(config, [str(Path(cfg["project_path"]) / "videos")], save_as_csv=True)
    return config


def main(out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="posenb-shots-"))
    config = demo_with_model(work)
    server = VoilaServer(REPO / "voila_apps" / "posenb_app.ipynb", config, work / "voila.log")
    shots = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.route(CDN, lambda route: route.abort())
            page.goto(server.url, timeout=120_000)
            page.wait_for_selector(".posenb-app", timeout=120_000)
            tabs = page.locator(".posenb-app > .lm-TabBar .lm-TabBar-tab")
            titles = [t.strip() for t in tabs.all_inner_texts()]
            for i, title in enumerate(titles):
                tabs.nth(i).click()
                end = time.monotonic() + 90
                while time.monotonic() < end and "Loading" in page.inner_text(".posenb-app"):
                    time.sleep(0.5)
                if title == "Check labels":  # show an annotated frame and its legend
                    page.click(".posenb-run-check-labels")
                    page.wait_for_selector(".posenb-check-caption >> text=_labeled", timeout=120_000)
                time.sleep(4)
                slug = re.sub("[^a-z0-9]+", "-", title.lower()).strip("-")
                path = out / f"{i:02d}-{slug}.png"
                page.screenshot(path=str(path))
                page.screenshot(path=str(out / f"{i:02d}-{slug}-full.png"), full_page=True)
                shots.append(path)
                # review aids: tooltips reading "null" and text cut with an ellipsis
                nulls = page.evaluate(
                    """() => [...document.querySelectorAll('[title="null"], [title="undefined"]')]
                               .filter(e => e.offsetParent !== null).map(e => e.className + ': ' + e.textContent)"""
                )
                cut = page.evaluate(
                    """() => [...document.querySelectorAll('button, select, .widget-label, .widget-html-content')]
                               .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1
                                            && getComputedStyle(e).textOverflow === 'ellipsis')
                               .map(e => e.textContent.trim() || e.value)"""
                )
                for what, items in (("null tooltip", nulls), ("cut text", cut)):
                    for item in items:
                        print(f"{title}: {what}: {item}")
            browser.close()
    finally:
        server.stop()
    return shots


if __name__ == "__main__":
    for p in main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/posenb-shots")):
        print(p)
