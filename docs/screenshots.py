"""Take the README's screenshots of a running UI with Debian's headless Chromium (Playwright drives it; never
`playwright install`). Start the UI first (`make run`, or `assistant ui --port 7871`), then:

    .venv/bin/python docs/screenshots.py http://127.0.0.1:7871

Writes docs/ui-*.png (palette PNGs, each well under 300 KB). With the local model an answer takes ~10-30 s,
so the whole run takes a few minutes.
"""

from __future__ import annotations

import io
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ANSWERED = "When did the EU and Japan sign their security and defence partnership?"
STAND_IN = "Which SDPs cover space security?"
ABSTAINED = "How much did the EU pay Georgia under its SDP in 2031?"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def _save(png: bytes, name: str) -> None:
    """Palette PNG: a UI screenshot has few colours, and 256 keep the text crisp at a third of the size."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    out = DOCS / name
    img.save(out, optimize=True)
    print(f"{out.relative_to(DOCS.parent)}: {out.stat().st_size // 1024} KB", flush=True)


def _ask(page, question: str, count: int) -> None:
    page.fill("#question textarea", question)
    page.click("#ask-btn")
    page.wait_for_function(f"document.querySelectorAll('#chat .meta').length >= {count}", timeout=300_000)


def main(url: str) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        raise SystemExit("error: no chromium; install it with: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.wait_for_selector("#question textarea", timeout=60_000)
            page.wait_for_function("document.querySelector('#warm').innerText.includes('Ready')", timeout=300_000)

            page.fill("#question textarea", ANSWERED)
            page.click("#ask-btn")
            page.wait_for_selector("#chat .progress", timeout=60_000)
            page.wait_for_function("/passages… ([5-9]|\\d\\d) s/.test(document.querySelector('#chat .progress')"
                                   "?.innerText || '')", timeout=120_000)
            _save(page.screenshot(), "ui-progress.png")
            page.wait_for_function("document.querySelectorAll('#chat .meta').length >= 1", timeout=300_000)
            page.click("#chat a.cite >> nth=0")
            page.wait_for_timeout(600)
            _save(page.screenshot(), "ui-answer-wide.png")

            _ask(page, STAND_IN, 2)
            page.wait_for_timeout(300)
            _save(page.screenshot(full_page=True), "ui-stand-in.png")

            page.set_viewport_size({"width": 430, "height": 900})
            page.wait_for_timeout(600)
            _save(page.screenshot(), "ui-answer-narrow.png")
            page.set_viewport_size({"width": 1400, "height": 900})

            page.get_by_role("button", name="New conversation").click()
            page.wait_for_selector("#chat .meta", state="detached", timeout=10_000)
            _ask(page, ABSTAINED, 1)
            page.wait_for_timeout(300)
            _save(page.screenshot(), "ui-abstention.png")

            page.get_by_role("tab", name="Documents").click()
            page.wait_for_selector("#doc-list table", timeout=10_000)
            page.click("#doc-pick input")
            page.get_by_role("option", name=re.compile("bilateral security and defence partnerships$")).first.click()
            page.wait_for_selector("#doc-view table caption", timeout=30_000)
            page.set_viewport_size({"width": 1400, "height": 1250})
            page.eval_on_selector("#doc-view", "(el) => { const t = el.querySelectorAll('.doc-table')[1]; "
                                               "el.scrollTop = t.offsetTop - el.offsetTop - 40; }")
            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(300)
            _save(page.screenshot(), "ui-documents.png")
            page.set_viewport_size({"width": 1400, "height": 900})

            dark = browser.new_page(viewport={"width": 1400, "height": 900})
            dark.goto(url.rstrip("/") + "/?__theme=dark")
            dark.wait_for_selector("#question textarea", timeout=60_000)
            _ask(dark, ANSWERED, 1)
            dark.click("#chat a.cite >> nth=0")
            dark.wait_for_timeout(600)
            _save(dark.screenshot(), "ui-dark.png")
        finally:
            browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:7860")
