"""An ``/invocations`` request: its JSON body, its one source, and the page images it yields."""

from __future__ import annotations

import base64
import binascii
import io
import re
import threading
from dataclasses import dataclass
from typing import Any

import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, ValidationError

from ocr_pipeline.models import PageRef
from ocr_pipeline.ocr.base import PageImage
from ocr_pipeline.ocr.deepseek_common import resolve_prompt
from ocr_pipeline.pdf.document import DocumentError, content_id, open_pdf
from ocr_pipeline.pdf.pages import PageLimits, page_geometry, render_page, too_large_reason
from ocr_pipeline.serve.config import ServiceConfig
from ocr_pipeline.serve.errors import ServiceError
from ocr_pipeline.serve.fetch import Fetcher

SOURCES = ("image_url", "image_base64", "pdf_url", "pdf_base64")
_DATA_URL = re.compile(r"^data:[\w.+-]+/[\w.+-]+;base64,", re.IGNORECASE)
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


class Invocation(BaseModel):
    """The JSON body: exactly one of the ``SOURCES``, and options."""

    model_config = ConfigDict(extra="forbid")

    image_url: str | None = None
    image_base64: str | None = None
    pdf_url: str | None = None
    pdf_base64: str | None = None
    prompt: str | None = None
    dpi: int | None = None
    pages: str | None = None

    @classmethod
    def parse(cls, body: bytes) -> Invocation:
        try:
            return cls.model_validate_json(body)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors())
            raise ServiceError(400, "invalid-request", problems) from None

    def source(self) -> tuple[str, str]:
        """``(field, value)`` of the one source given."""
        given = [(name, value) for name in SOURCES if (value := getattr(self, name)) is not None]
        if len(given) != 1:
            raise ServiceError(
                400, "one-source-required", f"give exactly one of {', '.join(SOURCES)} (got {len(given)})"
            )
        return given[0]


@dataclass(frozen=True)
class Document:
    """The pages to read and whether they came from a PDF."""

    pages: list[PageImage]
    is_pdf: bool


def engine_prompt(engine: Any, prompt: str | None) -> str | None:
    """The request's prompt in the form a prompt-driven engine (one with a ``prompt`` attribute) holds.

    ``None`` for engines without prompts, which ignore it. DeepSeek prompts must contain
    ``<image>``; the ``grounding`` and ``free`` presets are accepted too.
    """
    current = getattr(engine, "prompt", None)
    if not isinstance(current, str):
        return None
    try:
        text = resolve_prompt(prompt or "grounding")
    except ValueError as error:
        raise ServiceError(400, "invalid-prompt", str(error)) from None
    return text if "<image>" in current else text.replace("<image>", "").strip()


def load_document(invocation: Invocation, config: ServiceConfig, fetcher: Fetcher) -> Document:
    """Fetch or decode the source and turn it into page images within the configured limits."""
    field, value = invocation.source()
    data = fetcher.fetch(value) if field.endswith("_url") else decode_base64(value)
    dpi = invocation.dpi or config.dpi
    if not 1 <= dpi <= config.max_dpi:
        raise ServiceError(400, "invalid-dpi", f"dpi must be between 1 and {config.max_dpi}")
    if field.startswith("pdf"):
        return Document(pdf_pages(data, invocation.pages, dpi, config), is_pdf=True)
    if invocation.pages is not None:
        raise ServiceError(400, "invalid-request", "'pages' applies to PDF sources only")
    image = open_image(data, config.max_pixels)
    return Document([PageImage(PageRef(content_id(data), 1, image.width, image.height, dpi), image)], is_pdf=False)


def decode_base64(value: str) -> bytes:
    """Strict base64 (whitespace and a ``data:`` URL prefix allowed)."""
    text = "".join(_DATA_URL.sub("", value.strip(), count=1).split())
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ServiceError(400, "invalid-base64", f"the source is not valid base64: {error}") from None
    if not data:
        raise ServiceError(400, "empty-file", "the source is empty")
    return data


def open_image(data: bytes, max_pixels: int) -> Image.Image:
    """Decode an image, refusing non-images and images over ``max_pixels`` before decoding pixels."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > max_pixels:
            raise ServiceError(
                413, "too-many-pixels", f"the image is {image.width}x{image.height}, above {max_pixels} pixels"
            )
        image.load()
    except Image.DecompressionBombError as error:
        raise ServiceError(413, "too-many-pixels", str(error)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise ServiceError(400, "not-an-image", f"the source is not a readable image: {error}") from None
    return image


def parse_page_range(spec: str | None, count: int) -> list[int]:
    """1-based page numbers from ``"1-3,5"`` (all pages when ``None``), sorted, each once."""
    if spec is None:
        return list(range(1, count + 1))
    numbers: set[int] = set()
    for part in spec.split(","):
        match = _RANGE.match(part)
        if not match:
            raise ServiceError(400, "invalid-page-range", f"bad page range {spec!r}; expected e.g. '1-3,5'")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if not 1 <= first <= last <= count:
            raise ServiceError(400, "invalid-page-range", f"pages {part.strip()!r} not within 1-{count}")
        numbers.update(range(first, last + 1))
    return sorted(numbers)


PDFIUM_LOCK = threading.Lock()
"""PDFium is not thread-safe: concurrent requests decoded on worker threads crashed the service ("double free
or corruption") when two PDFs were open at once. One PDF at a time per process; images decode in parallel."""


def pdf_pages(data: bytes, spec: str | None, dpi: int, config: ServiceConfig) -> list[PageImage]:
    """Render the selected pages; the pixel cap lowers the DPI of oversized pages (as in the pipeline)."""
    with PDFIUM_LOCK:
        return _pdf_pages(data, spec, dpi, config)


def _pdf_pages(data: bytes, spec: str | None, dpi: int, config: ServiceConfig) -> list[PageImage]:
    try:
        document = open_pdf(data)
    except DocumentError as error:
        raise ServiceError(413 if error.reason == "too-many-pages" else 400, error.reason, error.message) from None
    try:
        numbers = parse_page_range(spec, len(document))
        if len(numbers) > config.max_pages:
            raise ServiceError(
                413, "too-many-pages", f"{len(numbers)} pages requested, above the limit of {config.max_pages}"
            )
        limits, doc_id, geometries = PageLimits(dpi=dpi, max_pixels=config.max_pixels), content_id(data), []
        for number in numbers:  # every page's size first: a request over a limit renders nothing
            page = document[number - 1]
            try:
                geometry = page_geometry(page.get_width(), page.get_height(), limits)
            finally:
                page.close()
            if geometry.too_large:
                raise ServiceError(413, "page-too-large", f"page {number}: {too_large_reason(geometry, limits)}")
            geometries.append(geometry)
        total = sum(geometry.width * geometry.height for geometry in geometries)
        if total > config.max_request_pixels:
            raise ServiceError(
                413,
                "too-many-pixels",
                f"the {len(numbers)} pages would render to {total} pixels, "
                f"above the limit of {config.max_request_pixels} per request",
            )
        pages = []
        for number, geometry in zip(numbers, geometries):
            image = render_page(document, number - 1, geometry)
            pages.append(PageImage(PageRef(doc_id, number, image.width, image.height, geometry.dpi), image))
        return pages
    except (ValueError, pdfium.PdfiumError) as error:
        raise ServiceError(400, "corrupt", f"cannot render the PDF: {error}") from None
    finally:
        document.close()
