"""Reviewers' corrections applied over the machine's rows (pure).

A :class:`Correction` is a page's entries as a person settled them; ``validated_courses`` applies
every correction of a document at publish time, so they survive a re-OCR of the same document.
They are kept in the work store (``ocr_pipeline.storage.work``); an accepted review task becomes one in
``ocr_pipeline.stages.corrections``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ocr_pipeline.catalog.codes import CodeMatcher
from ocr_pipeline.catalog.validate import catalog_name
from ocr_pipeline.models import Correction, DocumentInfo

_CODES = CodeMatcher()


def _split_code(code: str) -> tuple[str, str]:
    match = _CODES.at_start(code)
    return (match.subject, match.number) if match else (code, "")


def apply_corrections(
    rows: Sequence[dict[str, Any]],
    corrections: Sequence[Correction],
    info: DocumentInfo,
    page_methods: Mapping[int, str],
) -> list[dict[str, Any]]:
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
            merged.append(
                {
                    **{
                        name: entry.get(name)
                        for name in (
                            "course_code",
                            "title",
                            "credits_min",
                            "credits_max",
                            "description",
                            "prerequisites",
                        )
                    },
                    "document_id": info.document_id,
                    "source_uri": info.source_uri,
                    "source_id": info.source_id,
                    "institution": info.institution,
                    "page": page,
                    "subject": subject,
                    "number": number,
                    "confidence": 1.0,
                    "needs_review": False,
                    "extraction_method": original.get("extraction_method", page_methods.get(page, "text-layer")),
                    "catalog": catalog_name(info),
                    "reasons": [],
                    "box": original.get("box", []),
                    "corrected_by": correction.reviewer,
                    "corrected_at": datetime.fromisoformat(correction.at),
                }
            )
    merged.sort(key=lambda row: row["page"])
    occurrences: dict[str, int] = {}
    for row in merged:
        occurrences[row["course_code"]] = occurrences.get(row["course_code"], 0) + 1
        row["entry_id"] = f"{row['course_code']}#{occurrences[row['course_code']]}"
    return merged
