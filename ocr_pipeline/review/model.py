"""Review tasks and answers (frozen dataclasses with JSON round trips)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any

ENTRY_FIELDS = ("course_code", "title", "credits_min", "credits_max", "description", "prerequisites")
"""The fields a reviewer sees and edits for each course entry."""


class TaskStatus(str, Enum):
    OPEN = "open"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    """Some answers given, fewer than required."""
    ACCEPTED = "accepted"
    ESCALATED = "escalated"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def task_id_for(document_id: str, page: int) -> str:
    """Stable per document and page, so re-runs find the same task instead of adding one."""
    return f"{document_id}-p{page:05d}"


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return float(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def clean_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry reduced to :data:`ENTRY_FIELDS`, whitespace-normalised; raises ``ValueError`` when unusable."""
    code = _text(entry.get("course_code"))
    if not code:
        raise ValueError("every entry needs a course code")
    cleaned = {name: _text(entry.get(name)) for name in ("title", "description", "prerequisites")}
    return {"course_code": code, "title": cleaned["title"], "credits_min": _number(entry.get("credits_min")),
            "credits_max": _number(entry.get("credits_max")), "description": cleaned["description"],
            "prerequisites": cleaned["prerequisites"]}


@dataclass(frozen=True)
class Answer:
    """One reviewer's reading of a page: its entries, or that it has no courses."""

    reviewer: str
    entries: tuple[dict[str, Any], ...]
    no_courses: bool = False
    tier: int = 1
    at: str = field(default_factory=now_iso)

    @classmethod
    def build(cls, reviewer: str, entries: list[dict[str, Any]], no_courses: bool, tier: int = 1) -> Answer:
        """A validated answer: entries cleaned, none when the page has no courses."""
        cleaned = () if no_courses else tuple(clean_entry(entry) for entry in entries)
        return cls(reviewer, cleaned, no_courses or not cleaned, tier)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "entries": list(self.entries)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        return cls(data["reviewer"], tuple(data["entries"]), data["no_courses"], data.get("tier", 1), data["at"])


@dataclass(frozen=True)
class ReviewTask:
    """One flagged page waiting for (or done with) human review."""

    task_id: str
    document_id: str
    partition_key: str
    page: int
    image_uri: str | None
    entries: tuple[dict[str, Any], ...]
    """What the machine extracted (:data:`ENTRY_FIELDS` plus ``box``)."""
    reasons: tuple[str, ...]
    required_answers: int = 1
    status: TaskStatus = TaskStatus.OPEN
    answers: tuple[Answer, ...] = ()
    result: Answer | None = None
    """The accepted answer (consensus or tier 2)."""
    claimed_by: str | None = None
    version: int = 1
    updated_at: str = field(default_factory=now_iso)

    def next_version(self, **changes: Any) -> ReviewTask:
        """A copy with ``changes``, the version bumped and the time stamped."""
        return replace(self, **changes, version=self.version + 1, updated_at=now_iso())

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "entries": list(self.entries),
            "reasons": list(self.reasons),
            "status": self.status.value,
            "answers": [answer.to_dict() for answer in self.answers],
            "result": self.result.to_dict() if self.result else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReviewTask:
        return cls(**{
            **data,
            "entries": tuple(data["entries"]),
            "reasons": tuple(data["reasons"]),
            "status": TaskStatus(data["status"]),
            "answers": tuple(Answer.from_dict(a) for a in data["answers"]),
            "result": Answer.from_dict(data["result"]) if data.get("result") else None,
        })

