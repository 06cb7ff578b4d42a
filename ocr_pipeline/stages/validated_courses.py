"""``validated_courses``: validation, then Parquet for analysts and an idempotent DynamoDB upsert."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from ocr_pipeline.catalog.corrections import apply_corrections
from ocr_pipeline.catalog.flags import FlagRules, page_flags
from ocr_pipeline.catalog.prerequisites import prerequisite_rows
from ocr_pipeline.catalog.validate import ValidationRules, validate_entries
from ocr_pipeline.models import DocumentInfo, PageResult
from ocr_pipeline.review.model import ENTRY_FIELDS
from ocr_pipeline.stages.course_catalog_tables import preview_markdown
from ocr_pipeline.stages.ocr_pages import sane_text_layers
from ocr_pipeline.storage.dynamo import DynamoCourseSink
from ocr_pipeline.storage.objects import ObjectStore
from ocr_pipeline.storage.parquet import COURSES_SCHEMA, PAGES_SCHEMA, PREREQUISITES_SCHEMA, hive_key, table_bytes
from ocr_pipeline.storage.work import FlaggedPage, Published, WorkStore


@dataclass(frozen=True)
class PublishSummary:
    rows: int
    needs_review: int
    flagged_pages: list[int]
    page_reasons: dict[int, list[str]]
    """Why each flagged page needs review (the same reasons as in pages.parquet)."""
    courses_uri: str
    pages_uri: str
    dynamodb: dict[str, int] | None
    seconds: float
    preview: str
    prerequisites_uri: str = ""
    prerequisite_edges: int = 0

    def as_metadata(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "rows_needing_review": self.needs_review,
            "flagged_pages": self.flagged_pages,
            "courses_parquet": self.courses_uri,
            "pages_parquet": self.pages_uri,
            "prerequisites_parquet": self.prerequisites_uri,
            "prerequisite_edges": self.prerequisite_edges,
            "dynamodb": self.dynamodb or "disabled",
            "seconds": self.seconds,
        }


def openable(uri: str) -> str:
    """What an analyst pastes into pandas or DuckDB: ``s3://…`` as is, a local file as its plain path (DuckDB
    cannot open percent-encoded ``file://`` URIs)."""
    parsed = urlparse(uri)
    return url2pathname(parsed.path) if parsed.scheme == "file" else uri


def page_rows(info: DocumentInfo, pages: list[PageResult], flags: Mapping[int, list[str]]) -> list[dict[str, Any]]:
    """One row per page; ``needs_review`` says whether a person should look at it, ``reasons`` why (then the
    page's own notes: a blank page, a capped render)."""
    return [
        {
            "document_id": info.document_id,
            "source_id": info.source_id,
            "page": result.ref.page,
            "method": result.method,
            "engine": result.text.engine,
            "confidence": result.text.confidence,
            "needs_review": result.ref.page in flags,
            "status": result.status.value,
            "reasons": list(dict.fromkeys([*flags.get(result.ref.page, []), *result.text.reasons])),
        }
        for result in pages
    ]


def flagged_pages(
    pages: list[PageResult], rows: list[dict[str, Any]], flags: Mapping[int, list[str]]
) -> list[FlaggedPage]:
    """What ``review_tasks`` needs of each flagged page: its geometry, the reasons, its rows as a reviewer sees
    them (the published fields a reviewer edits, and the box that locates each on the page image)."""
    entries: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row["page"] in flags:
            entries.setdefault(row["page"], []).append(
                {**{name: row[name] for name in ENTRY_FIELDS}, "box": list(row["box"])}
            )
    return [
        FlaggedPage(page.ref, tuple(flags[page.ref.page]), tuple(entries.get(page.ref.page, ())))
        for page in pages
        if page.ref.page in flags
    ]


def publish_document(
    info: DocumentInfo,
    work: WorkStore,
    output: ObjectStore,
    rules: ValidationRules,
    sink: DynamoCourseSink | None,
    flag_rules: FlagRules = FlagRules(),
) -> PublishSummary:
    """Validate the parsed entries, apply reviewers' corrections and publish the rows (with the prerequisite
    codes parsed from them, and their edge list); replaces what this partition published before."""
    started = time.perf_counter()
    pages = work.page_results(info.document_id)
    corrections = work.corrections(info.document_id)
    rows = apply_corrections(
        validate_entries(work.entries(info.document_id), info, pages, rules),
        corrections,
        info,
        {page.ref.page: page.method for page in pages},
    )
    rows, edges = prerequisite_rows(rows)  # after corrections: a reviewer's prerequisites are parsed too
    ocr_pages = {page.ref.page for page in pages if page.method.startswith("ocr:")}
    flags = page_flags(
        pages,
        rows,
        sane_text_layers(work, info.document_id, ocr_pages),  # only OCR'd pages compared
        work.page_doubts(info.document_id),
        flag_rules,
        {correction.page for correction in corrections},
    )
    pages_table = page_rows(info, pages, flags)
    courses_key = hive_key("courses", info.institution, info.source_id, "courses.parquet")
    pages_key = hive_key("pages", info.institution, info.source_id, "pages.parquet")
    prerequisites_key = hive_key("prerequisites", info.institution, info.source_id, "prerequisites.parquet")
    output.put(courses_key, table_bytes(rows, COURSES_SCHEMA))
    output.put(pages_key, table_bytes(pages_table, PAGES_SCHEMA))
    output.put(prerequisites_key, table_bytes(edges, PREREQUISITES_SCHEMA))

    previous = work.published(info.partition_key)
    for old_key in previous.output_keys() if previous else ():
        if old_key not in (courses_key, pages_key, prerequisites_key):
            output.delete(old_key)
    dynamo = sink.replace_source(info.source_id, rows) if sink is not None else None
    published = Published(
        info.document_id,
        info.source_id,
        courses_key,
        pages_key,
        prerequisites_key,
        (previous.first_published_at if previous else None) or datetime.now(UTC).isoformat(),
        flags,  # page_flags: in page order
    )
    work.put_published(info.partition_key, published, flagged_pages(pages, rows, flags))
    return PublishSummary(
        rows=len(rows),
        needs_review=sum(1 for row in rows if row["needs_review"]),
        flagged_pages=sorted(flags),
        page_reasons=published.flags,
        courses_uri=openable(output.uri(courses_key)),
        pages_uri=openable(output.uri(pages_key)),
        prerequisites_uri=openable(output.uri(prerequisites_key)),
        prerequisite_edges=len(edges),
        dynamodb=dynamo,
        seconds=round(time.perf_counter() - started, 3),
        preview=preview_markdown(rows, ("page", "course_code", "title", "credits_min", "credits_max", "needs_review")),
    )
