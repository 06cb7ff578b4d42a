"""The review web page and its JSON API (FastAPI): a queue, then a page image beside its entries.

Every route but ``/login`` and ``/static`` needs a reviewer token (``Authorization: Bearer``) or
the signed session cookie the login form sets. Login and logout forms carry a CSRF token bound to a
pre-session cookie; a write whose ``Origin`` (or ``Referer``) is another origin is refused; failed
logins and wrong bearer tokens are throttled (429 with ``Retry-After``). HTML is rendered by Jinja2
with autoescaping; entries are filled in by ``static/review.js`` through the DOM
(``value``/``textContent``), never as HTML.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel

from ocr_pipeline.review.auth import COOKIE, CSRF_COOKIE, LoginThrottle, Reviewer, TokenAuth
from ocr_pipeline.review.model import Answer, ReviewTask, TaskStatus
from ocr_pipeline.review.store import OPEN_STATUSES, ConflictError, ReviewStore
from ocr_pipeline.review.workflow import ReviewError, claim, submit

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make the browser send ``Origin: null`` on our own forms
    "Cache-Control": "no-store",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Claim(BaseModel):
    version: int


MAX_LOGIN_BYTES = 4096
"""A login form holds one token and a CSRF token; a larger body is not read as one."""
MAX_BODY_BYTES = 1_000_000
"""An answer lists a page's entries: far below this."""


class Submission(BaseModel):
    version: int
    entries: list[dict[str, Any]] = []
    no_courses: bool = False


def same_origin(request: Request) -> bool:
    """False when the request's ``Origin`` (else ``Referer``) names another host or port, or is ``null``.

    A request with neither (curl, scripts) passes: browsers send ``Origin`` on every cross-origin POST.
    The host and port are compared with ``Host`` or, behind a proxy that rewrites it, ``X-Forwarded-Host``
    (a cross-origin form cannot set either); the scheme is not, so a proxy may terminate TLS.
    """
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if claimed is None:
        return True
    if claimed == "null":
        return False
    try:
        netloc = urlsplit(claimed).netloc.lower()
    except ValueError:
        return False
    forwarded = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
    return bool(netloc) and netloc in {request.headers.get("host", "").lower(), forwarded.lower()}


def create_app(
    store: ReviewStore,
    auth: TokenAuth,
    *,
    read_image: Callable[[str], bytes],
    agreement: float = 0.6,
    secure_cookie: bool = False,
    throttle: LoginThrottle | None = None,
) -> FastAPI:
    """The app; ``read_image`` fetches a task's ``image_uri``; ``secure_cookie`` when served over HTTPS
    (cookies are also Secure on requests that arrive as https); ``throttle`` limits failed logins."""
    app = FastAPI(title="ocr_pipeline review", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
    throttle = throttle if throttle is not None else LoginThrottle()

    def address(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def secure(request: Request) -> bool:
        return secure_cookie or request.url.scheme == "https"

    def too_many(request: Request, wait: float) -> Response:
        seconds = max(1, math.ceil(wait))
        headers = {"Retry-After": str(seconds)}
        if request.url.path.startswith("/api/") or request.headers.get("authorization"):
            return JSONResponse({"detail": f"too many failed logins: retry in {seconds} s"}, 429, headers=headers)
        response = login_page(request, f"Too many failed logins: try again in {seconds} seconds.", 429)
        response.headers.update(headers)
        return response

    @app.middleware("http")
    async def authenticate_before_reading(request: Request, call_next):
        """Writes: same origin; tokens throttled; API writes: the token and the declared size are checked
        before a byte of the body is read."""
        if request.method not in SAFE_METHODS and not same_origin(request):
            return JSONResponse({"detail": "a cross-origin request is refused"}, 403)
        if request.headers.get("authorization") or (request.method == "POST" and request.url.path == "/login"):
            wait = throttle.retry_after(address(request))
            if wait > 0:
                return too_many(request, wait)
        if request.method == "POST" and request.url.path.startswith("/api/"):
            if current(request) is None:
                return JSONResponse(
                    {"detail": "a reviewer token is required"}, 401, headers={"WWW-Authenticate": "Bearer"}
                )
            length = request.headers.get("content-length")
            if length is None or not length.isdigit():
                return JSONResponse({"detail": "a Content-Length is required"}, 411)
            if int(length) > MAX_BODY_BYTES:
                return JSONResponse({"detail": f"the body is over {MAX_BODY_BYTES} bytes"}, 413)
        return await call_next(request)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    def current(request: Request) -> Reviewer | None:
        """The reviewer of a bearer token (a wrong one counts as a failed login) or of the session cookie."""
        token = auth.bearer(request.headers.get("authorization"))
        if token is None:
            return auth.session_reviewer(request.cookies.get(COOKIE))
        reviewer = auth.check(token)
        if reviewer is None:
            throttle.failed(address(request))
        return reviewer

    def required(request: Request) -> Reviewer:
        reviewer = current(request)
        if reviewer is None:
            raise HTTPException(401, "a reviewer token is required", headers={"WWW-Authenticate": "Bearer"})
        return reviewer

    def page(request: Request, name: str, http_status: int = 200, **values: Any) -> HTMLResponse:
        """A page; its forms carry the CSRF token of the pre-session cookie, set here when missing."""
        cookie = request.cookies.get(CSRF_COOKIE)
        fresh = not cookie or len(cookie) > 64
        seed = secrets.token_urlsafe(32) if fresh or cookie is None else cookie
        html = templates.get_template(name).render(csrf_token=auth.csrf_token(seed), **values)
        response = HTMLResponse(html, status_code=http_status)
        if fresh:
            response.set_cookie(CSRF_COOKIE, seed, httponly=True, samesite="strict", secure=secure(request))
        return response

    def login_page(request: Request, error: str | None = None, http_status: int = 401) -> HTMLResponse:
        return page(request, "login.html", http_status, error=error)

    def task_or_404(task_id: str) -> ReviewTask:
        task = store.get(task_id)
        if task is None:
            raise HTTPException(404, f"no task {task_id}")
        return task

    def change(task_id: str, version: int, step: Callable[[ReviewTask], ReviewTask]) -> dict[str, Any]:
        task = task_or_404(task_id)
        if task.version != version:
            raise HTTPException(409, f"task {task_id} is at version {task.version}, not {version}: reload it")
        try:
            return store.save(step(task), version).to_dict()
        except ConflictError as error:
            raise HTTPException(409, str(error)) from error
        except ReviewError as error:
            raise HTTPException(403 if error.forbidden else 400, str(error)) from error

    async def form(request: Request) -> dict[str, str] | None:
        """A small URL-encoded form's fields; None for a body too large or not UTF-8."""
        body = await request.body()
        if len(body) > MAX_LOGIN_BYTES:
            return None
        try:
            return {name: values[0] for name, values in parse_qs(body.decode()).items()}
        except UnicodeDecodeError:
            return None  # not a form any browser sends

    def csrf_ok(request: Request, fields: dict[str, str]) -> bool:
        return auth.csrf_valid(request.cookies.get(CSRF_COOKIE), fields.get("csrf_token"))

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> HTMLResponse:
        return login_page(request, http_status=200)

    @app.post("/login")
    async def login(request: Request) -> Response:
        fields = await form(request)
        if fields is None:
            return login_page(request, "That token is not valid.")
        if not csrf_ok(request, fields):
            return login_page(request, "The login form expired: log in again.", 403)
        token = fields.get("token", "")
        if auth.check(token) is None:
            throttle.failed(address(request))
            return login_page(request, "That token is not valid.")
        throttle.succeeded(address(request))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            auth.issue_session(token),
            max_age=auth.session_seconds,
            httponly=True,
            samesite="strict",
            secure=secure(request),
        )
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        fields = await form(request)
        if fields is None or not csrf_ok(request, fields):
            raise HTTPException(403, "the logout form expired: reload the page")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, httponly=True, samesite="strict", secure=secure(request))
        return response

    @app.get("/", response_class=HTMLResponse)
    def queue(request: Request, status: TaskStatus | None = None) -> HTMLResponse:
        reviewer = current(request)
        if reviewer is None:
            return login_page(request)
        tasks = store.list([status] if status else OPEN_STATUSES)
        return page(request, "queue.html", tasks=tasks, reviewer=reviewer, status=status, statuses=list(TaskStatus))

    @app.get("/tasks/{task_id}", response_class=HTMLResponse)
    def task_page(request: Request, task_id: str) -> HTMLResponse:
        reviewer = current(request)
        if reviewer is None:
            return login_page(request)
        task = task_or_404(task_id)
        ids = [t.task_id for t in store.list(OPEN_STATUSES)]
        position = ids.index(task_id) if task_id in ids else -1
        previous = ids[position - 1] if position > 0 else ""
        following = ids[position + 1] if 0 <= position < len(ids) - 1 else ""
        return page(request, "task.html", task=task, reviewer=reviewer, previous=previous, next=following)

    @app.get("/api/tasks")
    def list_tasks(status: TaskStatus | None = None, _: Reviewer = Depends(required)) -> list[dict[str, Any]]:
        return [task.to_dict() for task in store.list([status] if status else OPEN_STATUSES)]

    @app.get("/api/tasks/{task_id}")
    def get_task(task_id: str, _: Reviewer = Depends(required)) -> dict[str, Any]:
        return task_or_404(task_id).to_dict()

    @app.get("/api/tasks/{task_id}/image")
    def get_image(task_id: str, _: Reviewer = Depends(required)) -> Response:
        task = task_or_404(task_id)
        if not task.image_uri:
            raise HTTPException(404, "this task has no page image")
        return Response(read_image(task.image_uri), media_type="image/png")

    @app.post("/api/tasks/{task_id}/claim")
    def claim_task(task_id: str, body: Claim, reviewer: Reviewer = Depends(required)) -> dict[str, Any]:
        return change(task_id, body.version, lambda task: claim(task, reviewer.name))

    @app.post("/api/tasks/{task_id}/answers")
    def answer_task(task_id: str, body: Submission, reviewer: Reviewer = Depends(required)) -> JSONResponse:
        try:
            answer = Answer.build(reviewer.name, body.entries, body.no_courses, reviewer.tier)
        except (ValueError, TypeError) as error:
            raise HTTPException(400, f"invalid answer: {error}") from error
        return JSONResponse(change(task_id, body.version, lambda task: submit(task, answer, agreement)))

    return app
