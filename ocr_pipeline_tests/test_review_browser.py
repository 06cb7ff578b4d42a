"""The review page in headless Chromium: log in, open a task from the queue, fix an entry, submit; a page
on another loopback port can neither log the reviewer in (as someone else) nor out."""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from ocr_pipeline.review.auth import TokenAuth
from ocr_pipeline.review.images import read_image
from ocr_pipeline.review.sqlite_store import SqliteReviewStore
from ocr_pipeline.review.web import create_app
from ocr_pipeline_tests.review_screenshots import (
    CHROMIUM,
    TOKEN,
    TOKENS,
    chromium_page,
    demo_tasks,
    review_in_browser,
    serving,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.integration,
    pytest.mark.skipif(
        os.environ.get("CI") != "true" and (not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None),
        reason="needs Debian's chromium (/usr/bin/chromium) and the playwright Python package (never skipped in CI)",
    ),
]


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


def attacker_site(target: str) -> FastAPI:
    """Pages that post forms to the review app at ``target`` as soon as they load: login with the
    attacker's own token, and logout. Cookies do not tell ports apart, so the login page first plants a
    CSRF cookie the attacker fetched from the app, with its matching form token: only the Origin check
    is left to refuse it."""
    app = FastAPI()

    def auto_post(action: str, fields: dict[str, str]) -> HTMLResponse:
        inputs = "".join(f'<input type="hidden" name="{name}" value="{value}">' for name, value in fields.items())
        return HTMLResponse(
            f'<form method="post" action="{target}{action}">{inputs}</form><script>document.forms[0].submit()</script>'
        )

    @app.get("/win-a-prize")
    def login_csrf() -> HTMLResponse:
        form = httpx.get(f"{target}/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        response = auto_post("/login", {"token": "test-token-bob", "csrf_token": csrf})
        response.set_cookie("review_csrf", form.cookies["review_csrf"], path="/")  # for 127.0.0.1, any port
        return response

    app.get("/bye")(lambda: auto_post("/logout", {"csrf_token": "unknown"}))
    return app


def test_a_page_on_another_loopback_port_can_neither_log_in_nor_log_out_the_reviewer(tmp_path):
    with review_site(tmp_path) as (_, _, url, page), serving(attacker_site(url)) as evil:
        page.goto(f"{url}/login")  # the reviewer has the login page's cookie
        with page.expect_response(f"{url}/login") as posted:
            page.goto(f"{evil}/win-a-prize")
        assert posted.value.status == 403
        assert page.goto(f"{url}/").status == 401 and page.locator("#token").count() == 1  # not logged in as bob

        page.fill("#token", TOKEN)
        page.click("button[type=submit]")
        page.wait_for_selector("#queue tbody tr")
        assert page.locator(".who").inner_text() == "alice"
        cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
        assert TOKEN not in str(cookies) and cookies["review_session"]["httpOnly"]
        assert cookies["review_session"]["sameSite"] == "Strict" and cookies["review_session"]["expires"] > 0

        with page.expect_response(f"{url}/logout") as posted:
            page.goto(f"{evil}/bye")
        assert posted.value.status == 403
        assert page.goto(f"{url}/").status == 200 and page.locator(".who").inner_text() == "alice"

        page.click("header button[type=submit]")  # the reviewer's own Log out
        page.wait_for_selector("#token")
        assert page.goto(f"{url}/").status == 401


def test_keys_after_submitting_move_on_and_long_fields_are_text_areas(tmp_path):
    """Issue 15 item 7: the answers count updates, `j` after submitting opens the next task instead of typing
    into a field, descriptions are edited in text areas, and the shortcuts are plain keys (no accesskeys)."""
    with review_site(tmp_path) as (store, tasks, url, page):
        review_in_browser(page, url)  # logs in and accepts a task with Ctrl+Enter from inside a field
        assert page.locator("#answers").inner_text() == "1/1"
        page.keyboard.press("j")
        page.wait_for_url("**/tasks/*")
        page.wait_for_selector("#entries tbody tr")
        assert page.locator("#entries tbody textarea[name=description]").count() >= 1
        assert page.locator("#entries tbody input[name=description]").count() == 0
        assert page.locator("[accesskey]").count() == 0
        rows = page.locator("#entries tbody tr").count()
        page.keyboard.press("Escape")
        page.keyboard.press("a")  # outside a field: adds an entry (and focuses it)
        assert page.locator("#entries tbody tr").count() == rows + 1
        page.keyboard.type("CS 999")
        assert page.locator("#entries tbody tr").last.locator("input[name=course_code]").input_value() == "CS 999"
        page.keyboard.press("Escape")
        page.keyboard.press("n")
        assert page.locator("#no-courses").is_checked()
        page.keyboard.press("q")
        page.wait_for_selector("#queue")
