"""Data that flows between pipeline stages.

Small frozen dataclasses with explicit ``to_dict``/``from_dict`` so every stage's output is
stored as JSON or Parquet in the work store, never pickled.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any

Box = tuple[float, float, float, float]
"""x0, y0, x1, y1 in page pixels at the render DPI, origin top-left."""


class PageStatus(str, Enum):
    OK = "ok"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"


@dataclass(frozen=True)
class PageRef:
    """One page of a document, with its size in pixels at the render DPI."""

    document_id: str
    page: int
    width: int
    height: int
    dpi: int
    image_uri: str | None = None


@dataclass(frozen=True)
class Line:
    """A line of text in reading order: the unit the catalog parser reads.

    ``size`` and ``bold_chars`` (how many leading characters are set in a bold face) come from
    the text layer's fonts; OCR output leaves them ``None`` unless its engine labels the line
    (a ``title`` block counts as bold).
    """

    text: str
    box: Box
    confidence: float = 1.0
    size: float | None = None
    bold_chars: int | None = None
    label: str = "text"
    cells: tuple[tuple[float, float], ...] = ()
    """Left and right edges of each tab-separated cell of a table row (empty for running text)."""

    @property
    def bold(self) -> bool:
        """Whether the whole line is set in bold (or labelled a title by an OCR engine)."""
        if self.bold_chars is None:
            return self.label in ("title", "sub_title")
        return self.bold_chars >= len(self.text.rstrip())

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "box": list(self.box),
            "confidence": self.confidence,
            "size": self.size,
            "bold_chars": self.bold_chars,
            "label": self.label,
            "cells": [list(c) for c in self.cells],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Line:
        return cls(**{**data, "box": tuple(data["box"]), "cells": tuple(tuple(c) for c in data.get("cells", ()))})


@dataclass(frozen=True)
class Block:
    """A labelled region of a page (title, text, table, ...) as an engine reports it."""

    label: str
    box: Box
    text: str
    confidence: float
    min_confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "box": list(self.box)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Block:
        return cls(**{**data, "box": tuple(data["box"])})


@dataclass(frozen=True)
class PageText:
    """What an engine (or the text layer) read from one page."""

    engine: str
    lines: tuple[Line, ...]
    blocks: tuple[Block, ...] = ()
    confidence: float = 1.0
    seconds: float = 0.0
    status: PageStatus = PageStatus.OK
    reasons: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "lines": [line.to_dict() for line in self.lines],
            "blocks": [block.to_dict() for block in self.blocks],
            "confidence": self.confidence,
            "seconds": self.seconds,
            "status": self.status.value,
            "reasons": list(self.reasons),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageText:
        return cls(
            engine=data["engine"],
            lines=tuple(Line.from_dict(x) for x in data["lines"]),
            blocks=tuple(Block.from_dict(x) for x in data.get("blocks", [])),
            confidence=data["confidence"],
            seconds=data.get("seconds", 0.0),
            status=PageStatus(data.get("status", "ok")),
            reasons=tuple(data.get("reasons", [])),
        )


@dataclass(frozen=True)
class PageResult:
    """A page after OCR: where its text came from and how sure we are."""

    ref: PageRef
    method: str  # "text-layer" or "ocr:<engine>"
    text: PageText

    @property
    def status(self) -> PageStatus:
        return self.text.status

    def to_dict(self) -> dict[str, Any]:
        return {"ref": asdict(self.ref), "method": self.method, "text": self.text.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageResult:
        return cls(PageRef(**data["ref"]), data["method"], PageText.from_dict(data["text"]))


@dataclass(frozen=True)
class CourseEntry:
    """One course as parsed from a page, before validation."""

    course_code: str
    subject: str
    number: str
    title: str | None
    credits_min: float | None
    credits_max: float | None
    description: str | None
    prerequisites: str | None
    page: int
    box: Box
    confidence: float
    reasons: tuple[str, ...] = ()
    extraction_method: str = "text-layer"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "box": list(self.box), "reasons": list(self.reasons)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CourseEntry:
        names = {f.name for f in fields(cls)}
        clean = {k: v for k, v in data.items() if k in names}
        return cls(**{**clean, "box": tuple(clean["box"]), "reasons": tuple(clean.get("reasons", []))})


@dataclass(frozen=True)
class PageRecord:
    """One page as ``rendered_pages`` read it (a line of ``pages.jsonl``), what ``ocr_pages`` starts from.

    ``segments`` is the text layer (in pixels at ``dpi``); ``needs_ocr`` the OCR decision; ``image_key``
    the rendered PNG in the work store when one was needed; ``notes`` what the reader should know (a capped
    DPI, a page that could not be rendered).
    """

    page: int
    width: int
    height: int
    dpi: int
    segments: tuple[Line, ...]
    text_layer_problem: str | None
    needs_ocr: bool
    blank: bool
    image_key: str | None
    notes: tuple[str, ...]
    render_error: str | None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "segments": [segment.to_dict() for segment in self.segments], "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageRecord:
        return cls(
            **{**data, "segments": tuple(Line.from_dict(s) for s in data["segments"]), "notes": tuple(data["notes"])}
        )


def source_id_for(source_uri: str) -> str:
    """The id that published rows belong to: the source object (its URI), not its content.

    Two objects with the same bytes share their work files (``document_id``, the content hash) but
    never their rows: re-processing one of them can only replace that object's own rows.
    """
    return hashlib.sha256(source_uri.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DocumentInfo:
    """What ingest learned about a source PDF.

    ``document_id`` is the content hash (work files, review tasks and corrections follow the
    content); ``source_id`` names the source object (published rows follow the object).
    """

    partition_key: str
    source_uri: str
    document_id: str
    institution: str | None
    size: int
    etag: str | None
    sha256: str
    page_count: int
    has_text_layer: bool
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def source_id(self) -> str:
        return source_id_for(self.source_uri)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentInfo:
        return cls(**data)


@dataclass(frozen=True)
class Correction:
    """A page's entries as a person settled them (empty: the page has no courses); applied over the machine's
    rows at every publish (``ocr_pipeline.catalog.corrections``), so they survive a re-OCR."""

    document_id: str
    page: int
    entries: tuple[dict[str, Any], ...]
    reviewer: str
    at: str
    task_id: str
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "entries": list(self.entries)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Correction:
        return cls(**{**data, "entries": tuple(data["entries"])})
