"""The review app over HTTP on loopback: tokens, escaping, version conflicts, tiers."""

from __future__ import annotations

import httpx
import pytest

from ocr_pipeline.review.auth import TokenAuth
from ocr_pipeline.review.images import read_image
from ocr_pipeline.review.sqlite_store import SqliteReviewStore
from ocr_pipeline.review.web import create_app
from ocr_pipeline_tests.review_screenshots import HOSTILE, TIER2_TOKEN, TOKEN, TOKENS, demo_tasks, serving
from ocr_pipeline_tests.test_review_login import log_in


@pytest.fixture
def site(tmp_path):
    store = SqliteReviewStore(tmp_path / "review.db")
    tasks = demo_tasks(tmp_path)
    for task in tasks:
        store.add(task)
    with serving(create_app(store, TokenAuth(TOKENS), read_image=read_image)) as url:
        yield url, store, tasks


def client(url: str, token: str | None = TOKEN) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"} if token else {})


def test_nothing_is_readable_or_writable_without_a_token(site):
    url, store, tasks = site
    anonymous, wrong = client(url, None), client(url, "not-a-real-token")
    for http in (anonymous, wrong):
        assert http.get("/api/tasks").status_code == 401
        assert http.get(f"/api/tasks/{tasks[0].task_id}/image").status_code == 401
        assert http.post(f"/api/tasks/{tasks[0].task_id}/answers", json={"version": 1}).status_code == 401
        queue = http.get("/")
        assert queue.status_code == 401 and "Log in" in queue.text and "catalog.pdf" not in queue.text
    assert store.get(tasks[0].task_id).version == 1


def test_login_form_sets_a_cookie_that_opens_the_queue(site):
    url, _, _ = site
    http = client(url, None)
    assert log_in(http, "wrong-token").status_code == 401
    assert log_in(http, TOKEN).status_code == 303
    queue = http.get("/")
    assert queue.status_code == 200 and "Example U/catalog.pdf" in queue.text
    assert "default-src 'self'" in queue.headers["content-security-policy"]


def test_text_from_ocr_is_escaped_in_the_pages(site):
    url, _, tasks = site
    http = client(url)
    for path in ("/", f"/tasks/{tasks[0].task_id}"):
        html = http.get(path).text
        assert HOSTILE not in html and "&lt;img src=x onerror=&#34;window.pwned=1&#34;&gt;" in html
    assert http.get(f"/api/tasks/{tasks[0].task_id}").json()["entries"][1]["title"] == HOSTILE
    image = http.get(f"/api/tasks/{tasks[0].task_id}/image")
    assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG")


def test_a_stale_version_gets_a_conflict_and_escalated_tasks_need_tier_two(site):
    url, store, tasks = site
    task_id = tasks[1].task_id
    entries = [{"course_code": "MATH 1A", "title": "Calculus", "credits_min": 4, "credits_max": 4}]
    http = client(url)
    assert http.post(f"/api/tasks/{task_id}/claim", json={"version": 1}).json()["status"] == "claimed"
    stale = http.post(f"/api/tasks/{task_id}/answers", json={"version": 1, "entries": entries})
    assert stale.status_code == 409
    bad = http.post(f"/api/tasks/{task_id}/answers", json={"version": 2, "entries": [{"title": "no code"}]})
    assert bad.status_code == 400
    done = http.post(f"/api/tasks/{task_id}/answers", json={"version": 2, "entries": entries})
    assert done.status_code == 200 and done.json()["status"] == "accepted"
    assert store.get(task_id).result.entries[0]["credits_max"] == 4.0
    assert http.post(f"/api/tasks/{task_id}/answers", json={"version": 3, "entries": entries}).status_code == 400
    reopened = client(url, TIER2_TOKEN).post(f"/api/tasks/{task_id}/answers", json={"version": 3, "no_courses": True})
    assert reopened.status_code == 200 and reopened.json()["status"] == "accepted"  # tier 2 corrects a mistake
    assert store.get(task_id).result.no_courses and store.get(task_id).version == 4


def test_credits_are_read_as_catalogs_print_them_and_bad_ones_refused(site):
    url, store, tasks = site
    task_id = tasks[1].task_id
    http = client(url)
    for typed, field in (("-5", "credits_min"), ("1e200", "credits_min"), ("lots", "credits_min")):
        refused = http.post(
            f"/api/tasks/{task_id}/answers",
            json={"version": 1, "entries": [{"course_code": "MATH 1A", "credits_min": typed}]},
        )
        assert refused.status_code == 400 and field in refused.json()["detail"], typed
    nan = http.post(
        f"/api/tasks/{task_id}/answers",
        content=b'{"version": 1, "entries": [{"course_code": "MATH 1A", "credits_min": NaN}]}',
        headers={"Content-Type": "application/json"},
    )
    assert nan.status_code in (400, 422)
    done = http.post(
        f"/api/tasks/{task_id}/answers",
        json={
            "version": 1,
            "entries": [
                {"course_code": "MATH 1A", "title": "Calculus", "credits_min": "1-3"},
                {"course_code": "MATH 1AL", "title": "Calculus Lab", "credits_min": "4 cr"},
            ],
        },
    )
    assert done.status_code == 200, done.text
    entries = store.get(task_id).result.entries
    assert [(e["credits_min"], e["credits_max"]) for e in entries] == [(1.0, 3.0), (4.0, 4.0)]


def test_a_login_body_that_is_not_utf8_or_too_large_is_a_refused_login(site):
    url, _, _ = site
    http = client(url, None)
    for body in (b"token=\xff\xfe\xfa", b"token=" + b"x" * 10_000):
        refused = http.post("/login", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert refused.status_code == 401 and "not valid" in refused.text


def test_api_writes_are_authenticated_and_size_checked_before_the_body_is_read(site):
    url, _, tasks = site
    huge = b'{"version": 1, "entries": [' + b'{"course_code": "X"},' * 60_000 + b'{"course_code": "Y"}]}'
    anonymous = client(url, None).post(
        f"/api/tasks/{tasks[0].task_id}/answers", content=huge, headers={"Content-Type": "application/json"}
    )
    assert anonymous.status_code == 401
    too_big = client(url).post(
        f"/api/tasks/{tasks[0].task_id}/answers", content=huge, headers={"Content-Type": "application/json"}
    )
    assert too_big.status_code == 413 and too_big.headers["X-Content-Type-Options"] == "nosniff"
