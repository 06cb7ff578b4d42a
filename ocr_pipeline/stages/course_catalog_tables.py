"""``course_catalog_tables``: course entries parsed from a document's page results."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from ocr_pipeline.catalog.parser import page_doubts, parse_pages
from ocr_pipeline.catalog.profile import CatalogProfile
from ocr_pipeline.models import CourseEntry
from ocr_pipeline.stages.ocr_pages import load_page_results
from ocr_pipeline.stages.work_keys import (
    entries_key,
    page_doubts_key,
    read_json,
    read_jsonl,
    write_json,
    write_jsonl,
)
from ocr_pipeline.storage.objects import ObjectStore

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


def parse_document(document_id: str, store: ObjectStore, profile: CatalogProfile) -> ParseSummary:
    """Parse and store a document's entries; also finds pages with course-like text but no entry."""
    started = time.perf_counter()
    page_results = load_page_results(document_id, store)
    entries = parse_pages(page_results, profile)
    rows = [entry.to_dict() for entry in entries]
    write_jsonl(store, entries_key(document_id), rows)
    doubts = page_doubts(page_results, entries, profile)
    write_json(store, page_doubts_key(document_id), {str(page): reasons for page, reasons in doubts.items()})
    pages = Counter(entry.page for entry in entries)
    return ParseSummary(
        entries=len(entries),
        pages_with_entries=len(pages),
        page_doubts=doubts,
        doubtful=sum(1 for e in entries if e.reasons),
        seconds=round(time.perf_counter() - started, 3),
        preview=preview_markdown(rows, ("page", "course_code", "title", "credits_min", "credits_max", "confidence")),
    )


def load_page_doubts(document_id: str, store: ObjectStore) -> dict[int, list[str]]:
    """Page -> reasons its course-like text was not covered by entries (empty before a parse)."""
    key = page_doubts_key(document_id)
    return {int(page): reasons for page, reasons in read_json(store, key).items()} if store.exists(key) else {}


def load_entries(document_id: str, store: ObjectStore) -> list[CourseEntry]:
    return [CourseEntry.from_dict(record) for record in read_jsonl(store, entries_key(document_id))]
