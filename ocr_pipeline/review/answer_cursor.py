"""The ``review_answers_sensor`` cursor: accepted answers are never missed and never handled twice.

A task's ``updated_at`` is stamped by the process that saves it, before its write commits, and
reviewers' app replicas have their own clocks. So an answer stamped 12:00:00 can become visible
after one stamped 12:00:05 was already processed: a plain "updated since the last one" cursor skips
it for good. Instead each tick re-reads a window reaching ``LOOKBACK`` behind the newest stamp seen,
and remembers which ``task@version`` it has handled inside that window (pure functions, no I/O).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ocr_pipeline.review.model import ReviewTask

LOOKBACK = timedelta(minutes=15)
"""How late (commit delay plus clock skew) an answer may become visible and still be picked up."""


@dataclass(frozen=True)
class AnswerCursor:
    watermark: str | None = None
    """The newest ``updated_at`` seen."""
    handled: dict[str, str] = field(default_factory=dict)
    """``task@version`` -> ``updated_at`` for answers handled within the look-back window."""

    @classmethod
    def parse(cls, raw: str | None) -> AnswerCursor:
        if not raw:
            return cls()
        if not raw.startswith("{"):  # before 0.2 the cursor was the last ``updated_at`` itself
            return cls(watermark=raw)
        data = json.loads(raw)
        return cls(data.get("watermark"), dict(data.get("handled", {})))

    def serialise(self) -> str:
        return json.dumps({"watermark": self.watermark, "handled": self.handled}, sort_keys=True)

    def since(self) -> str | None:
        """Where the next read starts: ``LOOKBACK`` before the watermark."""
        if self.watermark is None:
            return None
        return (datetime.fromisoformat(self.watermark) - LOOKBACK).isoformat(timespec="microseconds")


def answer_key(task: ReviewTask) -> str:
    return f"{task.task_id}@v{task.version}"


def advance(cursor: AnswerCursor, listed: Sequence[ReviewTask]) -> tuple[list[ReviewTask], AnswerCursor]:
    """The answers in ``listed`` not handled yet, and the cursor that remembers them.

    Handled keys older than the window are dropped, so the cursor stays small.
    """
    fresh = [task for task in listed if answer_key(task) not in cursor.handled]
    handled = {**cursor.handled, **{answer_key(task): task.updated_at for task in fresh}}
    stamps = [task.updated_at for task in listed] + ([cursor.watermark] if cursor.watermark else [])
    watermark = max(stamps, key=datetime.fromisoformat) if stamps else None
    if watermark is not None:
        oldest = datetime.fromisoformat(watermark) - LOOKBACK
        handled = {key: at for key, at in handled.items() if datetime.fromisoformat(at) >= oldest}
    return fresh, AnswerCursor(watermark, handled)


def read_window(
    list_since: Callable[[str | None], Sequence[ReviewTask]], since: str | None, page_size: int
) -> list[ReviewTask]:
    """Every task from ``since`` on, following pages of ``page_size`` (each page starts at the last stamp read)."""
    tasks: dict[str, ReviewTask] = {}
    while True:
        page = list_since(since)
        tasks.update((answer_key(task), task) for task in page)
        if len(page) < page_size or page[-1].updated_at == since:
            return sorted(tasks.values(), key=lambda task: datetime.fromisoformat(task.updated_at))
        since = page[-1].updated_at
