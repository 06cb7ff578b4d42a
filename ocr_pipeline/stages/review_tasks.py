"""``review_tasks``: a review task per page the last publish flagged, each with a page image.

Pipeline side of the review: reads what ``validated_courses`` published and the page results, renders
page images the reviewers need where ``rendered_pages`` made none, and writes tasks to the review
store (``ocr_pipeline.review.store``), where the reviewers' web app (``ocr_pipeline.review.web``) finds them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from ocr_pipeline.models import DocumentInfo, PageRef
from ocr_pipeline.pdf.document import open_pdf
from ocr_pipeline.pdf.pages import POINTS_PER_INCH, PageGeometry, render_page
from ocr_pipeline.review.model import ENTRY_FIELDS, ReviewTask, task_id_for
from ocr_pipeline.review.store import ReviewStore, refresh
from ocr_pipeline.stages.ocr_pages import load_page_results
from ocr_pipeline.stages.work_keys import page_image_key, published_key, read_json
from ocr_pipeline.storage.objects import ObjectStore


@dataclass
class TaskSummary:
    flags: dict[int, list[str]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    """``created`` / ``updated`` / ``kept`` -> count."""


def published_rows(
    work: ObjectStore, output: ObjectStore, partition_key: str, table: str = "courses_key"
) -> list[dict[str, Any]]:
    """The course rows this partition last published (after corrections)."""
    key = read_json(work, published_key(partition_key))[table]
    return pq.read_table(io.BytesIO(output.get(key))).to_pylist()


def published_pages(work: ObjectStore, output: ObjectStore, partition_key: str) -> list[dict[str, Any]]:
    """The page rows this partition last published: which pages need review, and why."""
    return published_rows(work, output, partition_key, "pages_key")


def ensure_page_images(work: ObjectStore, refs: Sequence[PageRef], pdf: Callable[[], bytes]) -> dict[int, str]:
    """Page -> work-store key of its PNG; pages without one are rendered from ``pdf()`` (read once, if needed)."""
    keys = {ref.page: ref.image_uri or page_image_key(ref.document_id, ref.page) for ref in refs}
    missing = [ref for ref in refs if not work.exists(keys[ref.page])]
    if missing:
        document = open_pdf(pdf())
        try:
            for ref in missing:
                geometry = PageGeometry(
                    ref.width * POINTS_PER_INCH / ref.dpi, ref.height * POINTS_PER_INCH / ref.dpi, ref.dpi, capped=False
                )
                buffer = io.BytesIO()
                render_page(document, ref.page - 1, geometry).save(buffer, format="PNG")
                work.put(keys[ref.page], buffer.getvalue())
        finally:
            document.close()
    return keys


def create_review_tasks(
    info: DocumentInfo,
    work: ObjectStore,
    output: ObjectStore,
    store: ReviewStore,
    pdf: Callable[[], bytes],
    required_answers: int = 1,
) -> TaskSummary:
    """One task per page the last publish flagged (idempotent: stable ids, answered tasks left alone)."""
    pages = load_page_results(info.document_id, work)
    rows = published_rows(work, output, info.partition_key)
    flags = {
        row["page"]: list(row["reasons"])
        for row in published_pages(work, output, info.partition_key)
        if row["needs_review"]
    }
    images = ensure_page_images(work, [page.ref for page in pages if page.ref.page in flags], pdf)
    summary = TaskSummary(flags)
    for page, reasons in flags.items():
        entries = tuple(
            {**{name: row[name] for name in ENTRY_FIELDS}, "box": row["box"]} for row in rows if row["page"] == page
        )
        task = ReviewTask(
            task_id_for(info.document_id, page),
            info.document_id,
            info.partition_key,
            page,
            work.uri(images[page]),
            entries,
            tuple(reasons),
            required_answers,
        )
        outcome = refresh(store, task)
        summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
    return summary
