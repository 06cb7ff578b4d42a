"""``rendered_pages``: each page's geometry and text layer, and a PNG where one is needed.

Pages stream one at a time (memory does not grow with page count). A born-digital page in
``auto`` mode is never rasterised: only pages bound for OCR (or every page, when
``images="all"``) are rendered and PNG-encoded.
"""

from __future__ import annotations

import io
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ocr_pipeline.models import Line
from ocr_pipeline.pdf.document import open_pdf
from ocr_pipeline.pdf.pages import PageLimits, is_blank, read_page, render_page
from ocr_pipeline.stages.work_keys import page_image_key, pages_key, write_jsonl
from ocr_pipeline.storage.objects import ObjectStore

OcrPolicy = Literal["auto", "ocr", "text"]
Progress = Callable[[int, int], None]
"""Called with (pages done, pages in all)."""
MIN_TEXT_CHARS = 20


@dataclass(frozen=True)
class RenderSettings:
    dpi: int = 144
    max_pixels: int = 40_000_000
    max_pages: int = 5000
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


def _page_records(pdf: bytes, document_id: str, settings: RenderSettings, store: ObjectStore,
                  counts: dict[str, int], progress: Progress | None) -> Iterator[dict[str, Any]]:
    limits = PageLimits(settings.dpi, settings.max_pixels)
    document = open_pdf(pdf, max_pages=settings.max_pages)
    try:
        for index in range(len(document)):
            page = read_page(document, index, limits)
            problem = text_layer_problem(page.segments)
            needs_ocr = settings.policy == "ocr" or (settings.policy == "auto" and problem is not None)
            notes = []
            if page.geometry.capped:
                counts["capped"] += 1
                notes.append(f"page too large: rendered at {page.geometry.dpi} dpi to stay under {settings.max_pixels} pixels")
            image_key = blank = render_error = None
            if needs_ocr or settings.images == "all":
                try:
                    image = render_page(document, index, page.geometry)
                except Exception as error:  # noqa: BLE001 - one page the renderer cannot draw must not fail the document
                    render_error = f"page could not be rendered: {type(error).__name__}: {error}"
                    notes.append(render_error)
                    counts["render_failed"] += 1
                else:
                    blank = is_blank(image)
                    buffer = io.BytesIO()
                    image.save(buffer, format="PNG", compress_level=1)
                    image_key = page_image_key(document_id, page.number)
                    store.put(image_key, buffer.getvalue())
                    counts["rendered"] += 1
                    counts["blank"] += int(bool(blank and problem))
            counts["text"] += int(problem is None)
            counts["pages"] += 1
            if progress is not None:
                progress(page.number, len(document))
            yield {
                "page": page.number,
                "width": page.geometry.width,
                "height": page.geometry.height,
                "dpi": page.geometry.dpi,
                "segments": [segment.to_dict() for segment in page.segments],
                "text_layer_problem": problem,
                "needs_ocr": needs_ocr and not blank and render_error is None,
                "blank": bool(blank) and problem is not None,
                "image_key": image_key,
                "notes": notes,
                "render_error": render_error,
            }
    finally:
        document.close()


def render_document(pdf: bytes, document_id: str, settings: RenderSettings, store: ObjectStore,
                    progress: Progress | None = None) -> RenderSummary:
    """Read every page of ``pdf`` into the work store's page records (and PNGs)."""
    started = time.perf_counter()
    counts = {"pages": 0, "text": 0, "rendered": 0, "blank": 0, "capped": 0, "render_failed": 0}
    write_jsonl(store, pages_key(document_id), _page_records(pdf, document_id, settings, store, counts, progress))
    return RenderSummary(counts["pages"], counts["text"], counts["rendered"], counts["blank"], counts["capped"],
                         counts["render_failed"], round(time.perf_counter() - started, 3))
