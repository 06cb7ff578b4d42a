"""Accepted review answers as corrections: kept per document and page in the work store, applied
over the machine's rows at publish time (so they survive a re-OCR of the same document)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ocr_pipeline.catalog.codes import CodeMatcher
from ocr_pipeline.catalog.validate import catalog_name
from ocr_pipeline.models import DocumentInfo
from ocr_pipeline.review.model import ReviewTask
from ocr_pipeline.storage.objects import ObjectStore

_CODES = CodeMatcher()


@dataclass(frozen=True)
class Correction:
    """A page's entries as a person settled them (empty: the page has no courses)."""

    document_id: str
    page: int
    entries: tuple[dict[str, Any], ...]
    reviewer: str
    at: str
    task_id: str
    version: int

    @classmethod
    def from_task(cls, task: ReviewTask) -> Correction:
        if task.result is None:
            raise ValueError(f"task {task.task_id} has no accepted answer")
        return cls(task.document_id, task.page, task.result.entries, task.result.reviewer, task.result.at,
                   task.task_id, task.version)


def corrections_prefix(document_id: str) -> str:
    return f"documents/{document_id}/corrections/"


def save_correction(work: ObjectStore, correction: Correction) -> str:
    """Write (or overwrite) the page's correction; returns its key."""
    key = f"{corrections_prefix(correction.document_id)}{correction.page:05d}.json"
    work.put(key, json.dumps({**asdict(correction), "entries": list(correction.entries)}, ensure_ascii=False).encode())
    return key


def load_corrections(work: ObjectStore, document_id: str) -> list[Correction]:
    found = [json.loads(work.get(obj.key)) for obj in work.list(corrections_prefix(document_id)) if obj.key.endswith(".json")]
    return [Correction(**{**data, "entries": tuple(data["entries"])}) for data in found]


def _split_code(code: str) -> tuple[str, str]:
    match = _CODES.at_start(code)
    return (match.subject, match.number) if match else (code, "")


def apply_corrections(rows: Sequence[dict[str, Any]], corrections: Sequence[Correction], info: DocumentInfo,
                      page_methods: Mapping[int, str]) -> list[dict[str, Any]]:
    """Rows with each corrected page's rows replaced by the reviewer's entries (pure).

    Corrected rows keep the machine's box where the code matches, are not flagged, and carry
    ``corrected_by``/``corrected_at``; ``entry_id`` occurrences are renumbered in page order.
    """
    by_page = {correction.page: correction for correction in corrections}
    machine = {(row["page"], row["course_code"]): row for row in rows}
    merged = [row for row in rows if row["page"] not in by_page]
    for page, correction in by_page.items():
        for entry in correction.entries:
            subject, number = _split_code(entry["course_code"])
            original = machine.get((page, entry["course_code"]), {})
            merged.append({
                **{name: entry.get(name) for name in ("course_code", "title", "credits_min", "credits_max",
                                                      "description", "prerequisites")},
                "document_id": info.document_id, "source_uri": info.source_uri, "source_id": info.source_id,
                "institution": info.institution,
                "page": page, "subject": subject, "number": number, "confidence": 1.0, "needs_review": False,
                "extraction_method": original.get("extraction_method", page_methods.get(page, "text-layer")),
                "catalog": catalog_name(info), "reasons": [], "box": original.get("box", []),
                "corrected_by": correction.reviewer, "corrected_at": datetime.fromisoformat(correction.at),
            })
    merged.sort(key=lambda row: row["page"])
    occurrences: dict[str, int] = {}
    for row in merged:
        occurrences[row["course_code"]] = occurrences.get(row["course_code"], 0) + 1
        row["entry_id"] = f"{row['course_code']}#{occurrences[row['course_code']]}"
    return merged
