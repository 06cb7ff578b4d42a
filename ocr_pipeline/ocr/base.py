"""The OCR engine interface every engine implements (CPU, GPU, remote).

Engines take a batch of page images and return one :class:`PageText` per page, in order.
An engine must never raise for a single bad page: it returns that page with
``status=FAILED`` and reasons, so the rest of the batch goes through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from PIL import Image

from ocr_pipeline.models import PageRef, PageStatus, PageText


@dataclass(frozen=True)
class PageImage:
    """A rendered page handed to an engine."""

    ref: PageRef
    image: Image.Image


@runtime_checkable
class OcrEngine(Protocol):
    """Batched pages in, lines and grounded blocks out."""

    name: str

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        """Read every page; one result per input page, same order."""
        ...


def failed_page(engine: str, reason: str, seconds: float = 0.0) -> PageText:
    """The result for a page an engine could not read."""
    return PageText(engine=engine, lines=(), confidence=0.0, seconds=seconds,
                    status=PageStatus.FAILED, reasons=(reason,))
