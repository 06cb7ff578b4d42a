"""Validation of parsed entries into the output contract's rows (pure; no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ocr_pipeline.models import CourseEntry, DocumentInfo, PageResult, PageStatus


@dataclass(frozen=True)
class ValidationRules:
    """Bounds and thresholds; every row failing one is flagged for review with the reason."""

    min_credits: float = 0.0
    max_credits: float = 30.0
    min_confidence: float = 0.75
    max_title_length: int = 200
    max_code_length: int = 40


def validation_problems(entry: CourseEntry, rules: ValidationRules) -> list[str]:
    """What is wrong with one entry on its own."""
    problems = []
    if not entry.title:
        problems.append("missing title")
    elif len(entry.title) > rules.max_title_length:
        problems.append(f"title longer than {rules.max_title_length} characters")
    if not any(c.isdigit() for c in entry.course_code) or len(entry.course_code) > rules.max_code_length:
        problems.append(f"course code {entry.course_code!r} has an unexpected shape")
    problems += [problem for _, problem in credit_problems(entry.credits_min, entry.credits_max, rules)]
    return problems


def credit_problems(low: float | None, high: float | None, rules: ValidationRules) -> list[tuple[str, str]]:
    """(field, problem) for credits outside the bounds (NaN included: it fails every bound) or inverted;
    the same rules for machine output and for reviewers' answers."""
    problems = []
    for name, value in (("credits_min", low), ("credits_max", high)):
        if value is not None and not rules.min_credits <= value <= rules.max_credits:
            problems.append((name, f"credits {value:g} outside [{rules.min_credits:g}, {rules.max_credits:g}]"))
            break
    if low is not None and high is not None and low > high:
        problems.append(("credits_min", "credits_min above credits_max"))
    return problems


def validate_entries(
    entries: Sequence[CourseEntry], info: DocumentInfo, pages: Sequence[PageResult], rules: ValidationRules
) -> list[dict[str, Any]]:
    """Rows in the output contract's shape, flagged where validation or confidence fails."""
    page_status = {page.ref.page: page.text for page in pages}
    first_seen: dict[str, int] = {}
    occurrences: dict[str, int] = {}
    counts = Counter(entry.course_code for entry in entries)
    rows = []
    for entry in entries:
        problems = validation_problems(entry, rules)
        if entry.confidence < rules.min_confidence:
            problems.append(f"parse confidence {entry.confidence:.2f} below {rules.min_confidence:.2f}")
        problems += entry.reasons  # the parser's doubts (title, code shape, missing credits, OCR)
        reasons = list(dict.fromkeys(problems))
        if entry.course_code in first_seen:
            reasons.append(f"duplicate course code (first on page {first_seen[entry.course_code]})")
        elif counts[entry.course_code] > 1:
            reasons.append(f"course code printed {counts[entry.course_code]} times in this document")
        first_seen.setdefault(entry.course_code, entry.page)
        occurrence = occurrences[entry.course_code] = occurrences.get(entry.course_code, 0) + 1
        page_text = page_status.get(entry.page)
        if page_text is not None and page_text.status is not PageStatus.OK:
            reasons.append(f"page {entry.page} {page_text.status.value}: {'; '.join(page_text.reasons)}")
        needs_review = bool(reasons) or (page_text is not None and page_text.status is not PageStatus.OK)
        rows.append(
            {
                "document_id": info.document_id,
                "source_uri": info.source_uri,
                "source_id": info.source_id,
                "institution": info.institution,
                "page": entry.page,
                "course_code": entry.course_code,
                "subject": entry.subject,
                "number": entry.number,
                "title": entry.title,
                "credits_min": entry.credits_min,
                "credits_max": entry.credits_max,
                "description": entry.description,
                "prerequisites": entry.prerequisites,
                "confidence": float(min(max(entry.confidence, 0.0), 1.0)),
                "needs_review": needs_review,
                "extraction_method": entry.extraction_method,
                "catalog": catalog_name(info),
                "entry_id": f"{entry.course_code}#{occurrence}",
                "reasons": reasons,
                "box": [float(v) for v in entry.box],
            }
        )
    return rows


def catalog_name(info: DocumentInfo) -> str:
    """The catalog's name: its PDF title, else the file name without extension."""
    title = info.metadata.get("Title", "").strip()
    return title or info.source_uri.rsplit("/", 1)[-1].rsplit(".", 1)[0]
