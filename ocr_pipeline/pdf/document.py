"""Open and validate a PDF; every way a file can be unusable gets its own clear reason."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pypdfium2 as pdfium

PDF_MAGIC = b"%PDF-"


class DocumentError(Exception):
    """A source file that cannot be processed; ``reason`` is a short stable code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class PdfSummary:
    """What a quick look at a valid PDF tells."""

    sha256: str
    page_count: int
    has_text_layer: bool
    metadata: dict[str, str]


def content_id(data: bytes) -> str:
    """Stable document id: the first 16 hex digits of the content's sha256."""
    return hashlib.sha256(data).hexdigest()[:16]


def open_pdf(data: bytes, *, max_pages: int | None = 5000) -> pdfium.PdfDocument:
    """Open ``data`` as a PDF or raise :class:`DocumentError` saying why it cannot be used.

    ``max_pages=None``: no page limit (for documents already validated at ingest).
    """
    if not data:
        raise DocumentError("empty-file", "the file is empty (0 bytes)")
    if PDF_MAGIC not in data[:1024]:
        raise DocumentError("not-a-pdf", f"not a PDF: starts with {data[:8]!r}, expected %PDF-")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        # pdfium's error code is process-global and can be stale, so check the bytes too
        if getattr(error, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD and b"/Encrypt" in data:
            raise DocumentError("encrypted", "the PDF is encrypted and needs a password") from error
        if re.search(rb"/Count\s*0\b", data):
            raise DocumentError("no-pages", "the PDF has no pages") from error
        raise DocumentError("corrupt", f"the PDF is corrupt or truncated: {error}") from error
    pages = len(document)
    if pages == 0:
        document.close()
        raise DocumentError("no-pages", "the PDF has no pages")
    if max_pages is not None and pages > max_pages:
        document.close()
        raise DocumentError("too-many-pages", f"the PDF has {pages} pages, above the limit of {max_pages}")
    return document


def summarise_pdf(data: bytes, *, max_pages: int = 5000, sample_pages: int = 5) -> PdfSummary:
    """Validate ``data`` and read its page count, metadata and whether it has a text layer."""
    document = open_pdf(data, max_pages=max_pages)
    try:
        metadata = {k: str(v) for k, v in document.get_metadata_dict(skip_empty=True).items()}
        has_text = False
        for index in range(min(len(document), sample_pages)):
            page = document[index]
            textpage = page.get_textpage()
            has_text = textpage.count_chars() > 0
            textpage.close()
            page.close()
            if has_text:
                break
        return PdfSummary(hashlib.sha256(data).hexdigest(), len(document), has_text, metadata)
    finally:
        document.close()
