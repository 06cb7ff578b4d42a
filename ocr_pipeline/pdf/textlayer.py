"""Read a page's text layer as line segments with boxes, font size and bold runs.

Works per text object (one per text-showing operator: a run in one font at one position),
not per character: a page has tens to hundreds of runs but thousands of characters, so this
is several times faster than walking characters through ctypes. Runs on the same baseline are
joined into line segments; a segment ends at a horizontal gap wider than the font size (a
column gutter or a table cell). Ordering segments across columns is the job of
:mod:`ocr_pipeline.catalog.reading_order`.
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ocr_pipeline.models import Line

BOLD_NAME_MARKERS = (b"bold", b"black", b"heavy", b"semibold", b"demi")
FORCE_BOLD_FLAG = 1 << 18
SOFT_HYPHENS = str.maketrans({"\ufffe": "-", "\x02": "-", "\u00ad": "-"})
"""pdfium reports a line-end hyphen as U+FFFE (or STX); it is a printed hyphen."""
GAP_SPLIT_FACTOR = 1.0
"""A gap wider than this many font sizes (of the smaller run) ends a segment (a column gutter, a table cell)."""
SPACE_FACTOR = 0.12
"""A gap wider than this many font sizes between two runs is a word space."""
SAME_LINE_OVERLAP = 0.5
"""Runs whose shared height is at least this share of the shorter one sit on one baseline."""


@dataclass
class _Run:
    text: str
    left: float
    bottom: float
    right: float
    top: float
    size: float
    bold: bool


class _FontInfo:
    """Bold-ness of each font handle, looked up once per font."""

    def __init__(self) -> None:
        self._bold: dict[int, bool] = {}
        self._name = ctypes.create_string_buffer(256)

    def bold(self, font: pdfium_c.FPDF_FONT) -> bool:
        key = ctypes.cast(font, ctypes.c_void_p).value or 0
        if key not in self._bold:
            pdfium_c.FPDFFont_GetBaseFontName(font, self._name, len(self._name))
            name = self._name.value.lower()
            self._bold[key] = (
                pdfium_c.FPDFFont_GetWeight(font) >= 600
                or bool(pdfium_c.FPDFFont_GetFlags(font) & FORCE_BOLD_FLAG)
                or any(marker in name for marker in BOLD_NAME_MARKERS)
            )
        return self._bold[key]


Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _compose(inner: Matrix, outer: Matrix) -> Matrix:
    """The matrix applying ``inner`` then ``outer``."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


class _RunReader:
    """Walks a page's objects (into form XObjects) through raw pdfium calls, collecting text runs."""

    def __init__(self, textpage: pdfium.PdfTextPage) -> None:
        self.textpage = textpage.raw
        self.fonts = _FontInfo()
        self.buffer = ctypes.create_string_buffer(1 << 16)
        self.wide = ctypes.cast(self.buffer, ctypes.POINTER(pdfium_c.FPDF_WCHAR))
        self.size = ctypes.c_float()
        self.matrix = pdfium_c.FS_MATRIX()
        self.bounds = [ctypes.c_float() for _ in range(4)]
        self.runs: list[_Run] = []

    def walk(self, count: int, get_object, outer: Matrix) -> None:
        for index in range(count):
            obj = get_object(index)
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
                self._text(obj, outer)
            elif kind == pdfium_c.FPDF_PAGEOBJ_FORM:
                pdfium_c.FPDFPageObj_GetMatrix(obj, self.matrix)
                m = self.matrix
                inner = _compose((m.a, m.b, m.c, m.d, m.e, m.f), outer)
                self.walk(
                    pdfium_c.FPDFFormObj_CountObjects(obj), lambda i, o=obj: pdfium_c.FPDFFormObj_GetObject(o, i), inner
                )

    def _text(self, obj, outer: Matrix) -> None:
        length = pdfium_c.FPDFTextObj_GetText(obj, self.textpage, self.wide, len(self.buffer))
        text = self.buffer.raw[: max(0, length - 2)].decode("utf-16-le", "replace").translate(SOFT_HYPHENS)
        if not text.strip():
            return
        left, bottom, right, top = self.bounds
        pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top)
        box = (left.value, bottom.value, right.value, top.value)
        if outer != IDENTITY:
            a, b, c, d, e, f = outer
            corners = [(box[0], box[1]), (box[0], box[3]), (box[2], box[1]), (box[2], box[3])]
            xs = [a * x + c * y + e for x, y in corners]
            ys = [b * x + d * y + f for x, y in corners]
            box = (min(xs), min(ys), max(xs), max(ys))
        pdfium_c.FPDFTextObj_GetFontSize(obj, self.size)
        pdfium_c.FPDFPageObj_GetMatrix(obj, self.matrix)
        m = _compose((self.matrix.a, self.matrix.b, self.matrix.c, self.matrix.d, 0.0, 0.0), outer)
        effective = self.size.value * math.sqrt(abs(m[0] * m[3] - m[1] * m[2])) or (box[3] - box[1])
        bold = self.fonts.bold(pdfium_c.FPDFTextObj_GetFont(obj))
        self.runs.append(_Run(text, box[0], box[1], box[2], box[3], effective, bold))


def _runs(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> list[_Run]:
    reader = _RunReader(textpage)
    reader.walk(pdfium_c.FPDFPage_CountObjects(page.raw), lambda i: pdfium_c.FPDFPage_GetObject(page.raw, i), IDENTITY)
    return reader.runs


def _vertical_overlap(a: _Run, b: _Run) -> float:
    """Shared height of two runs as a share of the shorter one."""
    overlap = min(a.top, b.top) - max(a.bottom, b.bottom)
    return overlap / max(min(a.top - a.bottom, b.top - b.bottom), 1e-6)


def _segments(runs: list[_Run]) -> list[list[_Run]]:
    """Runs joined left to right into segments: same baseline, no gap wider than the font size."""
    if not runs:
        return []
    widest_gap = GAP_SPLIT_FACTOR * max(run.size for run in runs)
    active: list[list[_Run]] = []
    finished: list[list[_Run]] = []
    for run in sorted(runs, key=lambda r: r.left):
        still_open = []
        best, best_overlap = None, SAME_LINE_OVERLAP
        for segment in active:
            last = segment[-1]
            if last.right + widest_gap < run.left:
                finished.append(segment)
                continue
            still_open.append(segment)
            if last.top <= run.bottom or last.bottom >= run.top:
                continue  # another line
            gap = run.left - last.right
            if -run.size <= gap <= GAP_SPLIT_FACTOR * min(run.size, last.size):
                overlap = _vertical_overlap(last, run)
                if overlap >= best_overlap:
                    best, best_overlap = segment, overlap
        active = still_open
        if best is None:
            active.append([run])
        else:
            best.append(run)
    return finished + active


def _line(runs: list[_Run], page_height: float, scale: float) -> Line:
    text = runs[0].text.strip()
    bold_chars = len(text) if runs[0].bold else 0
    for previous, run in zip(runs, runs[1:]):
        gap = run.left - previous.right
        joiner = " " if gap > SPACE_FACTOR * max(run.size, previous.size) else ""
        piece = run.text.strip() if joiner else run.text.rstrip()
        if not joiner and (previous.text[-1:].isspace() or run.text[:1].isspace()):
            joiner, piece = " ", run.text.strip()
        text += joiner + piece
        if run.bold and bold_chars == len(text) - len(joiner + piece):
            bold_chars = len(text)
    return Line(
        text=" ".join(text.split()) if "  " in text else text,
        box=(
            min(r.left for r in runs) * scale,
            (page_height - max(r.top for r in runs)) * scale,
            max(r.right for r in runs) * scale,
            (page_height - min(r.bottom for r in runs)) * scale,
        ),
        size=round(max(r.size for r in runs), 2),
        bold_chars=bold_chars,
    )


def read_text_lines(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, scale: float) -> list[Line]:
    """Line segments of ``page`` in pixels at ``scale`` pixels per point, origin top-left."""
    page_height = page.get_height()
    return [_line(segment, page_height, scale) for segment in _segments(_runs(page, textpage))]
