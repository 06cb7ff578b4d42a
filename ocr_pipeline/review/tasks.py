"""Review tasks for one published document: flag its pages, make sure each has an image, store the tasks."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from ocr_pipeline.catalog.reading_order import reading_order
from ocr_pipeline.models import DocumentInfo, Line
from ocr_pipeline.review.corrections import load_corrections
from ocr_pipeline.review.flags import FlagRules, page_flags
from ocr_pipeline.review.images import ensure_page_images
from ocr_pipeline.review.model import ENTRY_FIELDS, ReviewTask, task_id_for
from ocr_pipeline.review.store import ReviewStore, refresh
from ocr_pipeline.stages.read import load_page_results
from ocr_pipeline.stages.work_keys import pages_key, published_key, read_json, read_jsonl
from ocr_pipeline.storage.objects import ObjectStore


@dataclass
class TaskSummary:
    flags: dict[int, list[str]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    """``created`` / ``updated`` / ``kept`` -> count."""


def published_rows(work: ObjectStore, output: ObjectStore, partition_key: str) -> list[dict[str, Any]]:
    """The rows this partition last published (after corrections)."""
    key = read_json(work, published_key(partition_key))["courses_key"]
    return pq.read_table(io.BytesIO(output.get(key))).to_pylist()


def sane_text_layers(work: ObjectStore, document_id: str, pages: set[int]) -> dict[int, str]:
    """Page -> text-layer text, for those of ``pages`` whose text layer passed the sanity checks."""
    if not pages:
        return {}
    return {
        record["page"]: "\n".join(line.text for line in reading_order([Line.from_dict(s) for s in record["segments"]]))
        for record in read_jsonl(work, pages_key(document_id))
        if record["page"] in pages and record["segments"] and not record["text_layer_problem"]
    }


def create_review_tasks(info: DocumentInfo, work: ObjectStore, output: ObjectStore, store: ReviewStore,
                        pdf: Callable[[], bytes], count_codes: Callable[[str], int], rules: FlagRules,
                        required_answers: int = 1) -> TaskSummary:
    """One task per flagged page (idempotent: stable ids, answered tasks left alone)."""
    pages = load_page_results(info.document_id, work)
    rows = published_rows(work, output, info.partition_key)
    corrected = {correction.page for correction in load_corrections(work, info.document_id)}
    ocr_pages = {page.ref.page for page in pages if page.method.startswith("ocr:")}
    text_layers = sane_text_layers(work, info.document_id, ocr_pages)  # only OCR'd pages are compared
    flags = page_flags(pages, rows, text_layers, count_codes, rules, corrected)
    images = ensure_page_images(work, [page.ref for page in pages if page.ref.page in flags], pdf)
    summary = TaskSummary(flags)
    for page, reasons in flags.items():
        entries = tuple({**{name: row[name] for name in ENTRY_FIELDS}, "box": row["box"]}
                        for row in rows if row["page"] == page)
        task = ReviewTask(task_id_for(info.document_id, page), info.document_id, info.partition_key, page,
                          work.uri(images[page]), entries, tuple(reasons), required_answers)
        outcome = refresh(store, task)
        summary.outcomes[outcome] = summary.outcomes.get(outcome, 0) + 1
    return summary
