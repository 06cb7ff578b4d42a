"""``review_tasks``: a review task per page the last publish flagged, each with a page image.

Pipeline side of the review: reads the flagged pages ``validated_courses`` recorded in the work store
(reasons, geometry, rows), renders page images the reviewers need where ``rendered_pages`` made none,
and writes tasks to the review store (``ocr_pipeline.review.store``), where the reviewers' web app
(``ocr_pipeline.review.web``) finds them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ocr_pipeline.models import DocumentInfo, PageRef
from ocr_pipeline.pdf.document import open_pdf
from ocr_pipeline.pdf.pages import POINTS_PER_INCH, PageGeometry, render_page
from ocr_pipeline.review.model import ReviewTask, task_id_for
from ocr_pipeline.review.store import ReviewStore, refresh
from ocr_pipeline.storage.work import WorkStore


@dataclass
class TaskSummary:
    flags: dict[int, list[str]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    """``created`` / ``updated`` / ``kept`` -> count."""


def ensure_page_images(work: WorkStore, refs: Sequence[PageRef], pdf: Callable[[], bytes]) -> dict[int, str]:
    """Page -> work-store key of its PNG; pages without one are rendered from ``pdf()`` (read once, if needed)."""
    keys = {ref.page: ref.image_uri or work.page_image_key(ref.document_id, ref.page) for ref in refs}
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
                keys[ref.page] = work.put_page_image(ref.document_id, ref.page, buffer.getvalue())
        finally:
            document.close()
    return keys


def create_review_tasks(
    info: DocumentInfo,
    work: WorkStore,
    store: ReviewStore,
    pdf: Callable[[], bytes],
    required_answers: int = 1,
) -> TaskSummary:
    """One task per page the last publish flagged (idempotent: stable ids, answered tasks left alone)."""
    flagged = work.flagged_pages(info.partition_key)
    images = ensure_page_images(work, [page.ref for page in flagged], pdf)
    summary = TaskSummary({page.ref.page: list(page.reasons) for page in flagged})
    for page in flagged:
        task = ReviewTask(
            task_id_for(info.document_id, page.ref.page),
            info.document_id,
            info.partition_key,
            page.ref.page,
            work.uri(images[page.ref.page]),
            page.entries,
            page.reasons,
            required_answers,
        )
        outcome = refresh(store, task)
        summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
    return summary
