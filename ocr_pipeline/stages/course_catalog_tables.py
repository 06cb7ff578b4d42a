"""``course_catalog_tables``: course entries parsed from a document's page results."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ocr_pipeline.catalog.parser import page_doubts, parse_pages
from ocr_pipeline.catalog.profile import CatalogProfile
from ocr_pipeline.storage.work import WorkStore

MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()<>!#|{}~])")


@dataclass(frozen=True)
class ParseSummary:
    entries: int
    pages_with_entries: int
    page_doubts: dict[int, list[str]]
    """Pages whose course-like text produced too few entries, with the reason."""
    doubtful: int
    """Entries the parser has doubts about (each is flagged for review)."""
    seconds: float
    preview: str

    @property
    def uncovered_pages(self) -> list[int]:
        return sorted(self.page_doubts)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "pages_with_entries": self.pages_with_entries,
            "entries_with_doubts": self.doubtful,
            "seconds": self.seconds,
        }


def preview_markdown(rows: list[dict[str, Any]], columns: tuple[str, ...], limit: int = 10) -> str:
    """A small Markdown table for the Dagster UI."""

    def cell(value: Any) -> str:
        text = "" if value is None else " ".join(str(value).split())
        text = text[:60] + "…" if len(text) > 60 else text
        return MARKDOWN_SPECIAL.sub(r"\\\1", text)  # text from a document never becomes markup (links, images)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(c)) for c in columns) + " |" for row in rows[:limit]]
    return "\n".join(lines)


def parse_document(document_id: str, work: WorkStore, profile: CatalogProfile) -> ParseSummary:
    """Parse and store a document's entries; also finds pages with course-like text but no entry."""
    started = time.perf_counter()
    page_results = work.page_results(document_id)
    entries = parse_pages(page_results, profile)
    work.put_entries(document_id, entries)
    doubts = page_doubts(page_results, entries, profile)
    work.put_page_doubts(document_id, doubts)
    pages = Counter(entry.page for entry in entries)
    return ParseSummary(
        entries=len(entries),
        pages_with_entries=len(pages),
        page_doubts=doubts,
        doubtful=sum(1 for e in entries if e.reasons),
        seconds=round(time.perf_counter() - started, 3),
        preview=preview_markdown(
            [entry.to_dict() for entry in entries[:10]],
            ("page", "course_code", "title", "credits_min", "credits_max", "confidence"),
        ),
    )
