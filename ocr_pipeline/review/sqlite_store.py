"""The embedded review store: one SQLite file, versions checked in ``UPDATE ... WHERE version = ?``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ocr_pipeline.review.model import ReviewTask, TaskStatus
from ocr_pipeline.review.store import OPEN_STATUSES, ConflictError

SCHEMA = """
CREATE TABLE IF NOT EXISTS review_tasks (
    task_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS review_tasks_by_status ON review_tasks (status, updated_at);
"""


class SqliteReviewStore:
    """Safe across threads and processes: a connection per call, WAL journal, busy timeout."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                yield db
        finally:
            db.close()

    def add(self, task: ReviewTask) -> bool:
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO review_tasks VALUES (?, ?, ?, ?, ?)",
                (task.task_id, task.status.value, task.version, task.updated_at, json.dumps(task.to_dict())),
            )
            return cursor.rowcount == 1

    def get(self, task_id: str) -> ReviewTask | None:
        with self._connect() as db:
            row = db.execute("SELECT data FROM review_tasks WHERE task_id = ?", (task_id,)).fetchone()
        return ReviewTask.from_dict(json.loads(row[0])) if row else None

    def save(self, task: ReviewTask, expected_version: int) -> ReviewTask:
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE review_tasks SET status = ?, version = ?, updated_at = ?, data = ? WHERE task_id = ? AND version = ?",
                (
                    task.status.value,
                    task.version,
                    task.updated_at,
                    json.dumps(task.to_dict()),
                    task.task_id,
                    expected_version,
                ),
            )
        if cursor.rowcount != 1:
            raise ConflictError(f"task {task.task_id} is no longer at version {expected_version}")
        return task

    def list(
        self, statuses: Sequence[TaskStatus] = OPEN_STATUSES, updated_since: str | None = None, limit: int = 500
    ) -> list[ReviewTask]:
        marks = ",".join("?" for _ in statuses)
        with self._connect() as db:
            rows = db.execute(
                f"SELECT data FROM review_tasks WHERE status IN ({marks}) AND updated_at >= ? ORDER BY updated_at LIMIT ?",
                (*(s.value for s in statuses), updated_since or "", limit),
            ).fetchall()
        return [ReviewTask.from_dict(json.loads(row[0])) for row in rows]
