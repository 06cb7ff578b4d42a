"""The review page in headless Chromium: log in, open a task from the queue, fix an entry, submit."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ocr_pipeline.review.auth import TokenAuth
from ocr_pipeline.review.images import read_image
from ocr_pipeline.review.sqlite_store import SqliteReviewStore
from ocr_pipeline.review.web import create_app
from ocr_pipeline_tests.review_screenshots import CHROMIUM, TOKENS, chromium_page, demo_tasks, review_in_browser, serving

pytestmark = pytest.mark.skipif(
    os.environ.get("CI") != "true" and (not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None),
    reason="needs Debian's chromium (/usr/bin/chromium) and the playwright Python package (never skipped in CI)",
)


@contextmanager
def review_site(tmp_path: Path) -> Iterator[tuple[SqliteReviewStore, list, str, Any]]:
    """The demo tasks in a SQLite store, served on loopback, and a Chromium page."""
    store = SqliteReviewStore(tmp_path / "review.db")
    tasks = demo_tasks(tmp_path)
    for task in tasks:
        store.add(task)
    with serving(create_app(store, TokenAuth(TOKENS), read_image=read_image)) as url, chromium_page() as page:
        yield store, tasks, url, page


def test_a_reviewer_edits_a_title_in_the_browser_and_it_is_stored(tmp_path):
    with review_site(tmp_path) as (store, tasks, url, page):
        review_in_browser(page, url)
        page.goto(f"{url}/tasks/{tasks[0].task_id}")
        page.wait_for_selector("#entries tbody tr")
        assert page.locator("input[name=title]").nth(1).input_value().startswith("<img src=x")
        assert page.locator("img[src=x]").count() == 0
    result = store.get(tasks[1].task_id).result
    assert store.get(tasks[1].task_id).status.value == "accepted" and result.reviewer == "alice"
    assert {e["course_code"]: (e["title"], e["credits_max"]) for e in result.entries}["MATH 1A"] == ("Calculus I", 4.0)


def test_credits_typed_as_printed_are_shown_back_as_understood(tmp_path):
    with review_site(tmp_path) as (store, tasks, url, page):
        review_in_browser(page, url)  # logs in and accepts the first task
        page.goto(f"{url}/tasks/{tasks[0].task_id}")
        page.wait_for_selector("#entries tbody tr")
        row = page.locator("#entries tbody tr").first
        row.locator("input[name=credits_min]").fill("1-3 cr")
        row.locator("input[name=credits_max]").fill("")
        page.keyboard.press("Control+Enter")
        page.locator("#message", has_text="Read as").wait_for()
        assert "1-3" in page.locator("#message").inner_text()
        assert row.locator("input[name=credits_max]").input_value() == "3"
        row.locator("input[name=credits_min]").fill("lots")
        page.keyboard.press("Control+Enter")
        page.locator("#message.fail", has_text="credits_min").wait_for()
    entry = store.get(tasks[0].task_id).answers[-1].entries[0]
    assert (entry["credits_min"], entry["credits_max"]) == (1.0, 3.0)
