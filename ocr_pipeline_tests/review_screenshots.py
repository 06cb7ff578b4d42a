"""Review page helpers for tests, and ``python -m ocr_pipeline_tests.review_screenshots`` which
refreshes ``docs/images/review-queue.png`` and ``review-task.png`` with headless Chromium."""

from __future__ import annotations

import io
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdfium2 as pdfium
import uvicorn
from fastapi import FastAPI
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

from ocr_pipeline.review.auth import Reviewer, TokenAuth
from ocr_pipeline.review.images import read_image
from ocr_pipeline.review.model import ReviewTask, task_id_for
from ocr_pipeline.review.sqlite_store import SqliteReviewStore
from ocr_pipeline.review.web import create_app
from ocr_pipeline_tests.support import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "test-token-alice"
TIER2_TOKEN = "test-token-carol"
TOKENS = {TOKEN: Reviewer("alice"), "test-token-bob": Reviewer("bob"), TIER2_TOKEN: Reviewer("carol", tier=2)}
HOSTILE = '<img src=x onerror="window.pwned=1">'

HARD_PAGES = [
    [
        ("CS 101", "Introduction to Computing", "4 units", "Programs, data and algorithms for beginners in science."),
        ("CS 102", "Data Structures", "4 units", "Lists, trees, hash tables and their analysis in practice."),
    ],
    [
        ("MATH 1A", "Calculus", "45 units", "Limits, derivatives and integrals of functions of one variable."),
        ("MATH 1B", "Calculus II", "4 units", "Series, techniques of integration and applications."),
    ],
]
"""A two-page catalog whose MATH 1A has impossible credits (45 units): the planted hard page 2."""


def hard_catalog_pdf() -> bytes:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=LETTER, invariant=1)
    for courses in HARD_PAGES:
        y = 700
        for code, title, units, description in courses:
            canvas.setFont("Helvetica-Bold", 10.5)
            canvas.drawString(72, y, f"{code} {title} ({units})")
            canvas.setFont("Helvetica", 10)
            canvas.drawString(72, y - 14, description)
            y -= 60
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def demo_tasks(image_dir: Path) -> list[ReviewTask]:
    """Two tasks on the hard catalog's pages (page images rendered to ``image_dir``), one with hostile text."""
    document = pdfium.PdfDocument(hard_catalog_pdf())
    tasks = []
    for number, courses in enumerate(HARD_PAGES, 1):
        image = image_dir / f"page-{number}.png"
        document[number - 1].render(scale=1.2, grayscale=True).to_pil().save(image)
        entries = tuple(
            {
                "course_code": code,
                "title": title,
                "credits_min": 45.0 if units.startswith("45") else 4.0,
                "credits_max": 45.0 if units.startswith("45") else 4.0,
                "description": description,
                "prerequisites": None,
                "box": [],
            }
            for code, title, units, description in courses
        )
        reasons = ("MATH 1A: credits 45 outside (0, 30]",) if number == 2 else (f"CS 102: title {HOSTILE}",)
        if number == 1:
            entries = (entries[0], {**entries[1], "title": HOSTILE})
        tasks.append(
            ReviewTask(
                task_id_for("demo0123456789ab", number),
                "demo0123456789ab",
                "Example U/catalog.pdf",
                number,
                image.as_uri(),
                entries,
                reasons,
            )
        )
    document.close()
    return tasks


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on a loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review app did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium_page() -> Iterator:
    """A Playwright page in Debian's headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1680, "height": 860})
        finally:
            browser.close()


def review_in_browser(page, base_url: str, shots: Path | None = None) -> None:
    """Log in, open the first task from the queue with the keyboard, fix MATH 1A and submit with Ctrl+Enter."""
    page.goto(f"{base_url}/")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_selector("#queue tbody tr.selected")  # the page's script is listening for keys
    if shots:
        page.screenshot(path=str(shots / "review-queue.png"))
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_selector("#entries tbody tr")
    row = page.locator("#entries tbody tr", has=page.locator("input[value='MATH 1A']"))
    row.locator("input[name=title]").fill("Calculus I")
    row.locator("input[name=credits_min]").fill("4")
    row.locator("input[name=credits_max]").fill("4")
    if shots:
        page.screenshot(path=str(shots / "review-task.png"))
    page.keyboard.press("Control+Enter")
    page.locator("#message", has_text="accepted").wait_for()


def main() -> int:
    shots = Path(__file__).resolve().parent.parent / "docs" / "images"
    shots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteReviewStore(Path(tmp) / "review.db")
        for task in demo_tasks(Path(tmp)):
            store.add(task)
        with serving(create_app(store, TokenAuth(TOKENS), read_image=read_image)) as url, chromium_page() as page:
            review_in_browser(page, url, shots)
    print(f"wrote {shots / 'review-queue.png'} and {shots / 'review-task.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
