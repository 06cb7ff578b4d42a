"""The review app's login over HTTP on loopback: CSRF on login and logout, cross-origin writes refused,
throttled guesses, signed expiring sessions instead of the token in a cookie, tokens kept out of ``ps``."""

from __future__ import annotations

import base64
import json
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from ocr_pipeline.review import cli as review_cli
from ocr_pipeline.review.auth import COOKIE, CSRF_COOKIE, LoginThrottle, Reviewer, TokenAuth
from ocr_pipeline.review.sqlite_store import SqliteReviewStore
from ocr_pipeline.review.web import create_app
from ocr_pipeline_tests.review_screenshots import TIER2_TOKEN, TOKEN, TOKENS, serving

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
BOB = "test-token-bob"


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def log_in(http: httpx.Client, token: str = TOKEN, **headers: str) -> httpx.Response:
    """The login form as a browser fills it: fetch it (its cookie and token), post it back."""
    form = http.get("/login")
    return http.post("/login", data={"csrf_token": csrf_of(form.text), "token": token}, headers=headers)


@contextmanager
def review_app(tmp_path, auth: TokenAuth | None = None, **options) -> Iterator[str]:
    store = SqliteReviewStore(tmp_path / "review.db")
    with serving(create_app(store, auth or TokenAuth(TOKENS), read_image=lambda uri: b"", **options)) as url:
        yield url


def logged_in(http: httpx.Client) -> bool:
    queue = http.get("/")
    assert queue.status_code in (200, 401), queue.status_code
    return queue.status_code == 200 and "Log out" in queue.text


def test_a_login_without_the_forms_csrf_token_is_refused(tmp_path):
    with review_app(tmp_path) as url, httpx.Client(base_url=url) as http:
        bare = http.post("/login", data={"token": BOB})  # what a cross-site form knows
        assert bare.status_code == 403 and COOKIE not in bare.cookies and not logged_in(http)
        with httpx.Client(base_url=url) as attacker:  # a token from the attacker's own visit, not the victim's cookie
            theirs = csrf_of(attacker.get("/login").text)
        http.get("/login")
        assert http.post("/login", data={"csrf_token": theirs, "token": BOB}).status_code == 403
        assert not logged_in(http)
        assert log_in(http).status_code == 303 and logged_in(http)


def test_cross_origin_logins_logouts_and_writes_are_refused_and_logout_is_post_only(tmp_path):
    with review_app(tmp_path) as url, httpx.Client(base_url=url) as http:
        other = "http://127.0.0.1:1"  # same site (ports do not count), other origin
        assert log_in(http, BOB, Origin=other).status_code == 403 and not logged_in(http)
        assert log_in(http, BOB, Referer=f"{other}/attack").status_code == 403 and not logged_in(http)
        assert log_in(http, BOB, Origin="null").status_code == 403 and not logged_in(http)
        assert log_in(http, TOKEN, Origin=url).status_code == 303 and logged_in(http)
        token = csrf_of(http.get("/").text)
        for headers in ({"Origin": other}, {"Origin": "null"}, {"Referer": f"{other}/"}):
            assert http.post("/logout", data={"csrf_token": token}, headers=headers).status_code == 403
            assert logged_in(http), headers
        assert http.post("/logout").status_code == 403 and logged_in(http)  # no CSRF token
        assert http.get("/logout").status_code == 405 and logged_in(http)
        refused = http.post("/api/tasks/x/claim", json={"version": 1}, headers={"Origin": other})
        assert refused.status_code == 403
        out = http.post("/logout", data={"csrf_token": token}, headers={"Origin": url})
        assert out.status_code == 303 and not logged_in(http)
        proxied = log_in(http, TOKEN, Origin="https://review.example", **{"X-Forwarded-Host": "review.example"})
        assert proxied.status_code == 303 and logged_in(http)  # behind a proxy that rewrites Host


def test_the_cookie_is_a_signed_expiring_session_never_the_token(tmp_path):
    now = [1_000_000.0]
    auth = TokenAuth(TOKENS, clock=lambda: now[0])
    with review_app(tmp_path, auth) as url, httpx.Client(base_url=url) as http:
        done = log_in(http)
        set_cookies = done.headers.get_list("set-cookie")
        assert done.status_code == 303 and set_cookies
        assert not any(TOKEN in header for header in set_cookies)
        session = next(header for header in set_cookies if header.startswith(f"{COOKIE}="))
        assert {"httponly", "samesite=strict", "max-age=28800"} <= {part.strip().lower() for part in session.split(";")}
        assert "secure" not in session.lower()
        value = http.cookies[COOKIE]
        assert logged_in(http)

        payload, signature = value.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        assert (claims["name"], claims["tier"]) == ("alice", 1) and TOKEN not in value
        forged = base64.urlsafe_b64encode(json.dumps({**claims, "name": "carol", "tier": 2}).encode()).decode()
        flipped = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
        for cookie in (
            f"{COOKIE}={forged.rstrip('=')}.{signature}",
            f"{COOKIE}={flipped}",
            f"{COOKIE}=garbage",
            f"{COOKIE}={TOKEN}",
            f"review_token={TOKEN}",
        ):  # the last: the raw-token cookie of old
            assert httpx.get(f"{url}/", headers={"Cookie": cookie}).status_code == 401, cookie

        now[0] += 8 * 3600 - 1
        assert logged_in(http)
        now[0] += 2
        assert not logged_in(http)  # expired: logged out
        bearer = http.get("/api/tasks", headers={"Authorization": f"Bearer {TIER2_TOKEN}"})
        assert bearer.status_code == 200  # API tokens work as before

    with review_app(tmp_path, secure_cookie=True) as url, httpx.Client(base_url=url) as http:
        form = http.get("/login")
        assert "secure" in form.headers["set-cookie"].lower()
        done = http.post(
            "/login",
            data={"csrf_token": csrf_of(form.text), "token": TOKEN},
            headers={"Cookie": f"{CSRF_COOKIE}={form.cookies[CSRF_COOKIE]}"},
        )
        assert done.status_code == 303 and "secure" in done.headers["set-cookie"].lower()


def test_sessions_end_with_their_token_and_survive_a_restart_only_with_a_shared_secret():
    secret = b"s" * 32
    first = TokenAuth(TOKENS, secret=secret)
    session = first.issue_session(TOKEN)
    assert TokenAuth(TOKENS, secret=secret).session_reviewer(session) == Reviewer("alice")
    assert TokenAuth(TOKENS).session_reviewer(session) is None  # another process's random key
    revoked = {token: reviewer for token, reviewer in TOKENS.items() if token != TOKEN}
    assert TokenAuth(revoked, secret=secret).session_reviewer(session) is None
    promoted = {**TOKENS, TOKEN: Reviewer("alice", tier=2)}
    assert TokenAuth(promoted, secret=secret).session_reviewer(session) is None
    with pytest.raises(ValueError):
        TokenAuth(TOKENS, secret=b"short")


def test_failed_logins_are_throttled_with_retry_after(tmp_path):
    with review_app(tmp_path, throttle=LoginThrottle(base_delay=60)) as url, httpx.Client(base_url=url) as http:
        for _ in range(5):
            assert log_in(http, "wrong-token-guess").status_code == 401
        locked = log_in(http, TOKEN)  # even the right token is not checked while locked out
        assert locked.status_code == 429 and 55 <= int(locked.headers["retry-after"]) <= 60
        assert "Too many failed logins" in locked.text and not logged_in(http)
        api = http.get("/api/tasks", headers={"Authorization": f"Bearer {TOKEN}"})
        assert api.status_code == 429 and "retry-after" in api.headers

    with review_app(tmp_path, throttle=LoginThrottle(base_delay=60)) as url, httpx.Client(base_url=url) as http:
        for _ in range(5):  # guessing through the API's bearer header counts the same
            assert http.get("/api/tasks", headers={"Authorization": "Bearer wrong-token-guess"}).status_code == 401
        assert log_in(http, TOKEN).status_code == 429


def test_the_throttle_doubles_per_address_locks_globally_and_stays_bounded():
    now = [0.0]
    throttle = LoginThrottle(
        free_failures=3,
        base_delay=1,
        max_delay=30,
        forget_after=100,
        global_failures=50,
        global_window=60,
        max_addresses=100,
        clock=lambda: now[0],
    )
    waits = []
    for _ in range(10):
        throttle.failed("10.0.0.1")
        waits.append(throttle.retry_after("10.0.0.1"))
    assert waits == [0, 0, 1, 2, 4, 8, 16, 30, 30, 30]
    assert throttle.retry_after("10.0.0.2") == 0  # another address is not held back
    throttle.succeeded("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 0
    now[0] += 61
    for n in range(100_000):  # many addresses, one guess each: memory stays bounded...
        throttle.failed(f"10.{n // 65536}.{n // 256 % 256}.{n % 256}")
    assert len(throttle) <= 100
    assert throttle.retry_after("192.0.2.1") > 0  # ... and the global limit holds everyone back
    now[0] += 61
    assert throttle.retry_after("192.0.2.1") == 0
    now[0] += 200
    throttle.failed("192.0.2.9")
    assert len(throttle) == 1  # forgotten addresses are pruned


@pytest.fixture
def served_apps(monkeypatch, tmp_path):
    """``review serve``'s app as ``main`` would run it (uvicorn.run captured), with a clean environment."""
    apps = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: apps.append(app))
    for name in (review_cli.TOKEN_ENV, review_cli.TOKENS_ENV, review_cli.SECRET_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OCR_PIPELINE_REVIEW_STORE_URI", f"sqlite:///{tmp_path}/review.db")
    return apps


def who(app, token: str) -> int:
    with TestClient(app) as http:
        return http.get("/api/tasks", headers={"Authorization": f"Bearer {token}"}).status_code


def test_serve_reads_tokens_from_a_file_or_the_environment_and_warns_about_token(
    served_apps, monkeypatch, capsys, tmp_path
):
    token_file = tmp_path / "token"
    token_file.write_text("token-from-file-1\n")
    token_file.chmod(0o600)
    assert review_cli.main(["serve", "--token-file", str(token_file), "--reviewer", "boss"]) == 0
    assert who(served_apps[-1], "token-from-file-1") == 200 and who(served_apps[-1], "token-from-fil") == 401
    assert "warning" not in capsys.readouterr().err

    token_file.chmod(0o644)
    assert review_cli.main(["serve", "--token-file", str(token_file)]) == 0
    assert f"chmod 600 {token_file}" in capsys.readouterr().err

    monkeypatch.setenv(review_cli.TOKENS_ENV, json.dumps({"token-env-alice": {"name": "alice", "tier": 1}}))
    monkeypatch.setenv(review_cli.TOKEN_ENV, "token-env-boss")
    assert review_cli.main(["serve"]) == 0
    assert who(served_apps[-1], "token-env-alice") == 200 and who(served_apps[-1], "token-env-boss") == 200
    assert "warning" not in capsys.readouterr().err

    assert review_cli.main(["serve", "--token", "token-on-the-command-line"]) == 0
    assert "--token is visible to other users" in capsys.readouterr().err
    assert who(served_apps[-1], "token-on-the-command-line") == 200

    with pytest.raises(SystemExit):
        review_cli.main(["serve", "--token", "token-on-the-command-line", "--token-file", str(token_file)])
    monkeypatch.setenv(review_cli.TOKENS_ENV, "not json")
    assert review_cli.main(["serve"]) == 2
    assert "reviewer tokens are not" in capsys.readouterr().err


def test_serve_signs_sessions_with_the_configured_secret_and_lifetime(served_apps, monkeypatch, tmp_path):
    monkeypatch.setenv(review_cli.TOKEN_ENV, TOKEN)
    secret = tmp_path / "secret"
    secret.write_text("k" * 40)
    secret.chmod(stat.S_IRUSR)
    assert review_cli.main(["serve", "--session-secret-file", str(secret), "--session-hours", "1"]) == 0
    monkeypatch.setenv(review_cli.SECRET_ENV, "k" * 40)
    assert review_cli.main(["serve"]) == 0
    first, second = served_apps
    with TestClient(first) as one, TestClient(second) as two:
        form = one.get("/login")
        done = one.post("/login", data={"csrf_token": csrf_of(form.text), "token": TOKEN}, follow_redirects=False)
        assert done.status_code == 303 and "max-age=3600" in done.headers["set-cookie"].lower()
        two.cookies.set(COOKIE, one.cookies[COOKIE])  # another replica with the same secret
        assert two.get("/").status_code == 200
    monkeypatch.setenv(review_cli.SECRET_ENV, "too short")
    assert review_cli.main(["serve"]) == 2
