"""The review web page and its JSON API (FastAPI): a queue, then a page image beside its entries.

Every route but ``/login`` and ``/static`` needs a reviewer token (``Authorization: Bearer`` or
the cookie the login form sets). HTML is rendered by Jinja2 with autoescaping; entries are
filled in by ``static/review.js`` through the DOM (``value``/``textContent``), never as HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel

from ocr_pipeline.review.auth import COOKIE, Reviewer, TokenAuth
from ocr_pipeline.review.model import Answer, ReviewTask, TaskStatus
from ocr_pipeline.review.store import OPEN_STATUSES, ConflictError, ReviewStore
from ocr_pipeline.review.workflow import ReviewError, claim, submit

HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Claim(BaseModel):
    version: int


MAX_LOGIN_BYTES = 4096
"""A login form holds one token; a larger body is not read as one."""
MAX_BODY_BYTES = 1_000_000
"""An answer lists a page's entries: far below this."""


class Submission(BaseModel):
    version: int
    entries: list[dict[str, Any]] = []
    no_courses: bool = False


def create_app(store: ReviewStore, auth: TokenAuth, *, read_image: Callable[[str], bytes],
               agreement: float = 0.6, secure_cookie: bool = False) -> FastAPI:
    """The app; ``read_image`` fetches a task's ``image_uri``; ``secure_cookie`` when served over HTTPS."""
    app = FastAPI(title="ocr_pipeline review", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))

    @app.middleware("http")
    async def authenticate_before_reading(request: Request, call_next):
        """API writes: the token and the declared size are checked before a byte of the body is read."""
        if request.method == "POST" and request.url.path.startswith("/api/"):
            if current(request) is None:
                return JSONResponse({"detail": "a reviewer token is required"}, 401,
                                    headers={"WWW-Authenticate": "Bearer"})
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
        return auth.reviewer(request.headers.get("authorization"), request.cookies.get(COOKIE))

    def required(request: Request) -> Reviewer:
        reviewer = current(request)
        if reviewer is None:
            raise HTTPException(401, "a reviewer token is required", headers={"WWW-Authenticate": "Bearer"})
        return reviewer

    def page(name: str, http_status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**values), status_code=http_status)

    def login_page(error: str | None = None, http_status: int = 401) -> HTMLResponse:
        return page("login.html", http_status, error=error)

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

    @app.get("/login", response_class=HTMLResponse)
    def login_form() -> HTMLResponse:
        return login_page(http_status=200)

    @app.post("/login")
    async def login(request: Request) -> Response:
        body = await request.body()
        try:
            token = parse_qs(body.decode()).get("token", [""])[0] if len(body) <= MAX_LOGIN_BYTES else ""
        except UnicodeDecodeError:
            token = ""  # not a form any browser sends: the same answer as a wrong token
        if auth.reviewer(None, token) is None:
            return login_page("That token is not valid.")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure_cookie)
        return response

    @app.post("/logout")
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse)
    def queue(request: Request, status: TaskStatus | None = None) -> HTMLResponse:
        reviewer = current(request)
        if reviewer is None:
            return login_page()
        tasks = store.list([status] if status else OPEN_STATUSES)
        return page("queue.html", tasks=tasks, reviewer=reviewer, status=status, statuses=list(TaskStatus))

    @app.get("/tasks/{task_id}", response_class=HTMLResponse)
    def task_page(request: Request, task_id: str) -> HTMLResponse:
        reviewer = current(request)
        if reviewer is None:
            return login_page()
        task = task_or_404(task_id)
        ids = [t.task_id for t in store.list(OPEN_STATUSES)]
        position = ids.index(task_id) if task_id in ids else -1
        neighbours = {"previous": ids[position - 1] if position > 0 else "",
                      "next": ids[position + 1] if 0 <= position < len(ids) - 1 else ""}
        return page("task.html", task=task, reviewer=reviewer, **neighbours)

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
