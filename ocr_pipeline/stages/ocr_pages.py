"""``ocr_pages``: the text parsing will use for each page, from the text layer or an OCR engine."""

from __future__ import annotations

import io
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ocr_pipeline.catalog.reading_order import reading_order
from ocr_pipeline.models import PageRecord, PageRef, PageResult, PageStatus, PageText
from ocr_pipeline.ocr.base import OcrEngine, PageImage, failed_page
from ocr_pipeline.stages.rendered_pages import Progress
from ocr_pipeline.storage.work import WorkStore

TEXT_LAYER = "text-layer"


@dataclass
class ReadSummary:
    pages: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    failed_pages: list[int] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    doubtful: dict[int, PageText] = field(default_factory=dict)
    """Pages not read cleanly: not OK, or OCR'd (their confidence is for the caller to judge)."""
    ocr_seconds: float = 0.0
    seconds: float = 0.0

    def as_metadata(self) -> dict[str, Any]:
        histogram = Counter(min(int(c * 10), 9) for c in self.confidences)
        return {
            "pages": self.pages,
            "pages_by_method": dict(self.by_method),
            "failed_pages": self.failed_pages,
            "mean_confidence": round(sum(self.confidences) / len(self.confidences), 4) if self.confidences else None,
            "confidence_histogram": {f"{b / 10:.1f}-{(b + 1) / 10:.1f}": histogram.get(b, 0) for b in range(10)},
            "ocr_seconds": round(self.ocr_seconds, 3),
            "seconds": round(self.seconds, 3),
        }


def _ref(document_id: str, record: PageRecord) -> PageRef:
    return PageRef(document_id, record.page, record.width, record.height, record.dpi, record.image_key)


def _text_layer_page(record: PageRecord) -> PageText:
    reasons = record.notes
    if record.blank:
        return PageText("none", (), confidence=1.0, reasons=("blank page", *reasons))
    lines = tuple(reading_order(list(record.segments)))
    problem = record.text_layer_problem
    if problem and record.render_error:
        return PageText("none", lines, confidence=0.0, status=PageStatus.FAILED, reasons=(*reasons, problem))
    if problem:
        return PageText(
            TEXT_LAYER,
            lines,
            confidence=0.0,
            status=PageStatus.NEEDS_REVIEW,
            reasons=(f"{problem}, and OCR is off for this run", *reasons),
        )
    return PageText(TEXT_LAYER, lines, confidence=1.0, reasons=reasons)


def _recognize(engine: OcrEngine, images: list[PageImage]) -> list[PageText]:
    """The engine's results; a batch that raises is retried page by page, and a page that still
    raises is failed on its own (the engine contract, enforced for engines that break it)."""
    try:
        return engine.recognize(images)
    except Exception as error:  # noqa: BLE001 - one crashing page must not fail the document
        if len(images) > 1:
            return [result for image in images for result in _recognize(engine, [image])]
        return [failed_page(engine.name, f"OCR engine {engine.name} crashed: {type(error).__name__}: {error}")]


def _ocr_batch(batch: list[PageRecord], document_id: str, engine: OcrEngine, work: WorkStore) -> Iterator[PageResult]:
    images = [PageImage(_ref(document_id, r), Image.open(io.BytesIO(work.page_image(str(r.image_key))))) for r in batch]
    results = _recognize(engine, images)
    if len(results) != len(batch):
        raise RuntimeError(f"engine {engine.name} returned {len(results)} results for {len(batch)} pages")
    for record, image, result in zip(batch, images, results):
        ordered = PageText(
            result.engine,
            tuple(reading_order(result.lines)),
            result.blocks,
            result.confidence,
            result.seconds,
            result.status,
            (
                *result.reasons,
                *record.notes,
                *([record.text_layer_problem] if record.text_layer_problem else []),
            ),
        )
        yield PageResult(image.ref, f"ocr:{result.engine}", ordered)


def _results(
    document_id: str,
    work: WorkStore,
    engine: OcrEngine | None,
    batch_size: int,
    summary: ReadSummary,
    progress: Progress | None,
    total: int,
) -> Iterator[PageResult]:
    batch: list[PageRecord] = []

    def emit(result: PageResult) -> PageResult:
        summary.pages += 1
        if progress is not None:
            progress(summary.pages, total)
        summary.by_method[result.method] += 1
        summary.confidences.append(result.text.confidence)
        if result.status is PageStatus.FAILED:
            summary.failed_pages.append(result.ref.page)
        if result.status is not PageStatus.OK or result.method != TEXT_LAYER:
            summary.doubtful[result.ref.page] = result.text
        return result

    def flush() -> Iterator[PageResult]:
        assert engine is not None  # only pages that need OCR are batched, after the check below
        started = time.perf_counter()
        results = list(_ocr_batch(batch, document_id, engine, work))
        summary.ocr_seconds += time.perf_counter() - started
        batch.clear()
        yield from (emit(result) for result in results)

    for record in work.pages(document_id):
        if record.needs_ocr:
            if engine is None:
                raise ValueError(f"page {record.page} needs OCR but no OCR engine was given")
            batch.append(record)
            if len(batch) >= batch_size:
                yield from flush()
        else:
            text = _text_layer_page(record)
            method = TEXT_LAYER if text.engine == TEXT_LAYER else "none"
            yield emit(PageResult(_ref(document_id, record), method, text))
    if batch:
        yield from flush()


def read_document(
    document_id: str,
    work: WorkStore,
    engine: OcrEngine | None,
    batch_size: int = 4,
    progress: Progress | None = None,
    total_pages: int = 0,
) -> ReadSummary:
    """Write one :class:`PageResult` per page to the work store (OCR'd pages after their batch)."""
    started = time.perf_counter()
    summary = ReadSummary()
    work.put_page_results(document_id, _results(document_id, work, engine, batch_size, summary, progress, total_pages))
    summary.seconds = time.perf_counter() - started
    return summary


def sane_text_layers(work: WorkStore, document_id: str, pages: set[int]) -> dict[int, str]:
    """Page -> text-layer text, for those of ``pages`` whose text layer passed the sanity checks."""
    if not pages:
        return {}
    return {
        record.page: "\n".join(line.text for line in reading_order(list(record.segments)))
        for record in work.pages(document_id)
        if record.page in pages and record.segments and not record.text_layer_problem
    }
