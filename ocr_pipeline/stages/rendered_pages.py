"""``rendered_pages``: each page's geometry and text layer, and a PNG where one is needed.

Pages stream in order (memory does not grow with page count); a large document is read by a
process pool, a chunk of pages per task. A born-digital page in
``auto`` mode is never rasterised: only pages bound for OCR (or every page, when
``images="all"``) are rendered and PNG-encoded.
"""

from __future__ import annotations

import io
import os
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from itertools import islice
from multiprocessing import get_context
from typing import Any, Literal

import pypdfium2 as pdfium

from ocr_pipeline.models import Line, PageRecord
from ocr_pipeline.pdf.document import open_pdf
from ocr_pipeline.pdf.pages import PageLimits, is_blank, read_page, render_page, too_large_reason
from ocr_pipeline.storage.work import WorkStore

OcrPolicy = Literal["auto", "ocr", "text"]
Progress = Callable[[int, int], None]
"""Called with (pages done, pages in all)."""
MIN_TEXT_CHARS = 20
PARALLEL_MIN_PAGES = 64
"""Smaller documents are read in this process: a worker pool's start-up would cost more."""
CHUNK_PAGES = 16


@dataclass(frozen=True)
class RenderSettings:
    dpi: int = 144
    max_pixels: int = 40_000_000
    workers: int = 0
    """Processes reading pages of one large document in parallel (0: one per core)."""
    policy: OcrPolicy = "auto"
    images: Literal["needed", "all"] = "needed"


def text_layer_problem(segments: Sequence[Line]) -> str | None:
    """Why a page's text layer cannot be trusted, or ``None`` when it is sane."""
    text = "".join(segment.text for segment in segments)
    visible = [c for c in text if not c.isspace()]
    if len(visible) < MIN_TEXT_CHARS:
        return "no text layer" if not visible else f"text layer too short ({len(visible)} characters)"
    bad = sum(1 for c in visible if c == "\ufffd" or unicodedata.category(c) in ("Co", "Cc", "Cn"))
    if bad > 0.05 * len(visible):
        return f"text layer has {bad} unmapped characters"
    letters = sum(1 for c in visible if c.isalpha())
    if letters < 0.4 * len(visible):
        return f"text layer looks garbled ({letters}/{len(visible)} letters)"
    return None


@dataclass(frozen=True)
class RenderSummary:
    pages: int
    text_layer_pages: int
    rendered_pages: int
    blank_pages: int
    capped_pages: int
    render_failed_pages: int
    seconds: float

    def as_metadata(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _PageOutput:
    """One page's record, and its PNG when it was rendered."""

    record: PageRecord
    png: bytes | None


def _read_one(document: pdfium.PdfDocument, index: int, settings: RenderSettings) -> _PageOutput:
    """Everything about one page that needs no I/O: text layer, OCR decision, rendering."""
    limits = PageLimits(settings.dpi, settings.max_pixels)
    page = read_page(document, index, limits)
    problem = text_layer_problem(page.segments)
    needs_ocr = settings.policy == "ocr" or (settings.policy == "auto" and problem is not None)
    notes = []
    png = blank = render_error = None
    if page.geometry.too_large:
        render_error = too_large_reason(page.geometry, limits)
        notes.append(render_error)
    elif page.geometry.capped:
        notes.append(f"page too large: rendered at {page.geometry.dpi} dpi to stay under {settings.max_pixels} pixels")
    if render_error is None and (needs_ocr or settings.images == "all"):
        try:
            image = render_page(document, index, page.geometry)
        except Exception as error:  # noqa: BLE001 - one page the renderer cannot draw must not fail the document
            render_error = f"page could not be rendered: {type(error).__name__}: {error}"
            notes.append(render_error)
        else:
            blank = is_blank(image)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", compress_level=1)
            png = buffer.getvalue()
    record = PageRecord(
        page=page.number,
        width=page.geometry.width,
        height=page.geometry.height,
        dpi=page.geometry.dpi,
        segments=tuple(page.segments),
        text_layer_problem=problem,
        needs_ocr=needs_ocr and not blank and render_error is None,
        blank=bool(blank) and problem is not None,
        image_key=None,
        notes=tuple(notes),
        render_error=render_error,
    )
    return _PageOutput(record, png)


_worker_state: dict[str, Any] = {}


def _start_worker(pdf: bytes, settings: RenderSettings) -> None:
    _worker_state["document"] = open_pdf(pdf, max_pages=None)
    _worker_state["settings"] = settings


def _read_range(start: int, stop: int) -> list[_PageOutput]:
    return [_read_one(_worker_state["document"], index, _worker_state["settings"]) for index in range(start, stop)]


def _outputs(pdf: bytes, settings: RenderSettings, page_count: int) -> Iterator[_PageOutput]:
    """Page outputs in page order: in this process for small documents, else from a process pool.

    At most two chunks per worker are in flight, so memory does not grow with page count.
    """
    workers = settings.workers or os.cpu_count() or 1
    if workers == 1 or page_count < PARALLEL_MIN_PAGES:
        document = open_pdf(pdf, max_pages=None)
        try:
            yield from (_read_one(document, index, settings) for index in range(page_count))
        finally:
            document.close()
        return
    chunks = iter([(start, min(start + CHUNK_PAGES, page_count)) for start in range(0, page_count, CHUNK_PAGES)])
    with ProcessPoolExecutor(
        workers, mp_context=get_context("spawn"), initializer=_start_worker, initargs=(pdf, settings)
    ) as pool:
        pending = deque(pool.submit(_read_range, *chunk) for chunk in islice(chunks, 2 * workers))
        while pending:
            outputs = pending.popleft().result()
            following = next(chunks, None)
            if following is not None:
                pending.append(pool.submit(_read_range, *following))
            yield from outputs


def _page_records(
    pdf: bytes,
    document_id: str,
    settings: RenderSettings,
    work: WorkStore,
    counts: dict[str, int],
    progress: Progress | None,
) -> Iterator[PageRecord]:
    document = open_pdf(pdf, max_pages=None)
    page_count = len(document)
    document.close()
    for output in _outputs(pdf, settings, page_count):
        record = output.record
        if output.png is not None:
            record = replace(record, image_key=work.put_page_image(document_id, record.page, output.png))
            counts["rendered"] += 1
        counts["blank"] += int(record.blank)
        counts["render_failed"] += int(record.render_error is not None)
        counts["capped"] += int(record.dpi != settings.dpi)
        counts["text"] += int(record.text_layer_problem is None)
        counts["pages"] += 1
        if progress is not None:
            progress(record.page, page_count)
        yield record


def render_document(
    pdf: bytes, document_id: str, settings: RenderSettings, work: WorkStore, progress: Progress | None = None
) -> RenderSummary:
    """Read every page of ``pdf`` into the work store's page records (and PNGs)."""
    started = time.perf_counter()
    counts = {"pages": 0, "text": 0, "rendered": 0, "blank": 0, "capped": 0, "render_failed": 0}
    work.put_pages(document_id, _page_records(pdf, document_id, settings, work, counts, progress))
    return RenderSummary(
        counts["pages"],
        counts["text"],
        counts["rendered"],
        counts["blank"],
        counts["capped"],
        counts["render_failed"],
        round(time.perf_counter() - started, 3),
    )
