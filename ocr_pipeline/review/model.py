"""Review tasks and answers (frozen dataclasses with JSON round trips)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from ocr_pipeline.catalog.credits import find_credits, trailing_number
from ocr_pipeline.catalog.validate import ValidationRules, credit_problems

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
    return datetime.now(UTC).isoformat(timespec="microseconds")


def task_id_for(document_id: str, page: int) -> str:
    """Stable per document and page, so re-runs find the same task instead of adding one."""
    return f"{document_id}-p{page:05d}"


def _credits(entry: dict[str, Any]) -> tuple[float | None, float | None]:
    """A reviewer's credits, typed the way catalogs print them (``3``, ``1-3``, ``4 cr``, ``VAR``) and read
    by the pipeline's own credit parser, then held to the same bounds as machine output.

    A range typed into ``credits_min`` alone fills both ends. Raises ``ValueError`` naming the field.
    """
    values: dict[str, tuple[float | None, float | None]] = {}
    for name in ("credits_min", "credits_max"):
        value = entry.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, bool):
            raise ValueError(f"{name}: {value!r} is not a credit value")
        if isinstance(value, int | float):
            values[name] = (float(value), float(value))
            continue
        text = str(value).strip()
        credits = find_credits(text) or trailing_number(text)
        if credits is None or (credits.low is None and not credits.variable):
            raise ValueError(f"{name}: cannot read credits from {text!r} (type e.g. 3, 1-3 or 4 cr)")
        values[name] = (credits.low, credits.high)
    low = values.get("credits_min", (None, None))[0]
    high = values["credits_max"][1] if "credits_max" in values else values.get("credits_min", (None, None))[1]
    for name, problem in credit_problems(low, high, ValidationRules()):
        raise ValueError(f"{name}: {problem}")
    return low, high


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
    low, high = _credits(entry)
    return {
        "course_code": code,
        "title": cleaned["title"],
        "credits_min": low,
        "credits_max": high,
        "description": cleaned["description"],
        "prerequisites": cleaned["prerequisites"],
    }


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
        return cls(
            **{
                **data,
                "entries": tuple(data["entries"]),
                "reasons": tuple(data["reasons"]),
                "status": TaskStatus(data["status"]),
                "answers": tuple(Answer.from_dict(a) for a in data["answers"]),
                "result": Answer.from_dict(data["result"]) if data.get("result") else None,
            }
        )
