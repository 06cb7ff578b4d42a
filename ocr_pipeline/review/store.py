"""``ReviewStore``: durable review tasks with optimistic concurrency, and opening one from a URI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from urllib.parse import parse_qs, urlparse

from ocr_pipeline.review.model import ReviewTask, TaskStatus

OPEN_STATUSES = (TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.ANSWERED, TaskStatus.ESCALATED)


class ConflictError(Exception):
    """The task changed since it was read (another reviewer won); reload and retry."""


class ReviewStore(Protocol):
    def add(self, task: ReviewTask) -> bool:
        """Insert ``task`` unless its id exists; ``True`` when inserted."""

    def get(self, task_id: str) -> ReviewTask | None: ...

    def save(self, task: ReviewTask, expected_version: int) -> ReviewTask:
        """Replace the stored task if its version is still ``expected_version``, else :class:`ConflictError`."""

    def list(
        self, statuses: Sequence[TaskStatus] = OPEN_STATUSES, updated_since: str | None = None, limit: int = 500
    ) -> list[ReviewTask]:
        """Tasks in ``statuses`` (updated at or after ``updated_since``), oldest update first."""


def refresh(store: ReviewStore, task: ReviewTask) -> str:
    """Add a flagged page's task, or update an untouched one whose machine output changed.

    Returns ``created``, ``updated`` or ``kept`` (answered, accepted or unchanged tasks stay as they are).
    """
    if store.add(task):
        return "created"
    existing = store.get(task.task_id)
    if existing is None or existing.answers or existing.status is not TaskStatus.OPEN:
        return "kept"
    if (existing.entries, existing.reasons, existing.image_uri, existing.required_answers) == (
        task.entries,
        task.reasons,
        task.image_uri,
        task.required_answers,
    ):
        return "kept"
    try:
        store.save(
            existing.next_version(
                entries=task.entries,
                reasons=task.reasons,
                image_uri=task.image_uri,
                required_answers=task.required_answers,
            ),
            existing.version,
        )
    except ConflictError:
        return "kept"
    return "updated"


def open_review_store(uri: str, *, endpoint_url: str | None = None, region: str | None = None) -> ReviewStore:
    """``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``dynamodb://table`` (``?create=1`` makes it)."""
    parsed = urlparse(uri)
    if parsed.scheme == "sqlite":
        from ocr_pipeline.review.sqlite_store import SqliteReviewStore

        return SqliteReviewStore(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
    if parsed.scheme == "dynamodb":
        from ocr_pipeline.review.dynamo_store import DynamoReviewStore

        store = DynamoReviewStore(parsed.netloc, endpoint_url=endpoint_url, region=region)
        if parse_qs(parsed.query).get("create", ["0"])[0] in ("1", "true"):
            store.ensure_table()
        return store
    raise ValueError(f"unsupported review store {uri!r}: use sqlite:///path.db or dynamodb://table")
