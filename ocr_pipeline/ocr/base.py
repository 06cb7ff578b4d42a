"""The OCR engine interface every engine implements (CPU, GPU, remote).

Engines take a batch of page images and return one :class:`PageText` per page, in order.
An engine must never raise for a single bad page: it returns that page with
``status=FAILED`` and reasons, so the rest of the batch goes through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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

    @property
    def name(self) -> str:
        """The engine's name, recorded with every page it read (``ocr:<name>``)."""
        ...

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        """Read every page; one result per input page, same order."""
        ...


class LazyEngine:
    """An engine built on first use, so documents that need no OCR never load a model."""

    def __init__(self, build: Callable[[], OcrEngine]) -> None:
        self._build = build
        self._engine: OcrEngine | None = None

    @property
    def built(self) -> bool:
        return self._engine is not None

    @property
    def engine(self) -> OcrEngine:
        if self._engine is None:
            self._engine = self._build()
        return self._engine

    @property
    def name(self) -> str:
        return self.engine.name

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        return self.engine.recognize(pages)


def failed_page(engine: str, reason: str, seconds: float = 0.0) -> PageText:
    """The result for a page an engine could not read."""
    return PageText(
        engine=engine, lines=(), confidence=0.0, seconds=seconds, status=PageStatus.FAILED, reasons=(reason,)
    )
