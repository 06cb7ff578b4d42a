"""Read a page's text layer as line segments with boxes, font size and bold runs.

pdfium reports characters in content order and inserts ``\\r\\n`` at line ends; it does not
split two columns that share a baseline, so a segment also ends at a horizontal gap wider
than the font size. Ordering segments across columns is :mod:`ocr_pipeline.catalog.layout`'s job.
"""

from __future__ import annotations

import ctypes

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ocr_pipeline.models import Line

BOLD_NAME_MARKERS = ("bold", "black", "heavy", "semibold", "demi")
FORCE_BOLD_FLAG = 1 << 18
SOFT_HYPHENS = {"\ufffe": "-", "\x02": "-", "\u00ad": "-"}
"""pdfium reports a line-end hyphen as U+FFFE (or STX); it is a printed hyphen."""
GAP_SPLIT_FACTOR = 1.0
"""A gap wider than this many font sizes ends a segment (a column gutter, a table cell)."""


class _Segment:
    """Characters gathered into one line segment."""

    __slots__ = ("chars", "left", "top", "right", "bottom", "size", "bold_chars", "all_bold")

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.left = self.bottom = float("inf")
        self.right = self.top = float("-inf")
        self.size = 0.0
        self.bold_chars = 0
        self.all_bold = True


def _is_bold(name: bytes, flags: int, weight: int) -> bool:
    lowered = name.lower()
    return weight >= 600 or bool(flags & FORCE_BOLD_FLAG) or any(m.encode() in lowered for m in BOLD_NAME_MARKERS)


def read_text_lines(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, scale: float) -> list[Line]:
    """Line segments of ``page`` in pixels at ``scale`` pixels per point, origin top-left."""
    page_height = page.get_height()
    handle = textpage.raw
    text = textpage.get_text_range()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    name_buffer = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    font_cache: dict[tuple[bytes, int, int], bool] = {}
    segments: list[_Segment] = []
    current: _Segment | None = None
    pending_space = False

    def close() -> None:
        nonlocal current
        if current is not None and "".join(current.chars).strip():
            segments.append(current)
        current = None

    for index, char in enumerate(text):
        if char in "\r\n":
            close()
            pending_space = False
            continue
        if char.isspace():
            pending_space = current is not None
            continue
        if not pdfium_c.FPDFText_GetCharBox(handle, index, left, right, bottom, top):
            continue
        size = pdfium_c.FPDFText_GetFontSize(handle, index) or (top.value - bottom.value)
        if current is not None and (
            left.value - current.right > GAP_SPLIT_FACTOR * max(size, current.size)
            or left.value < current.right - size
        ):
            close()
            pending_space = False
        if current is None:
            current = _Segment()
        pdfium_c.FPDFText_GetFontInfo(handle, index, name_buffer, len(name_buffer), flags)
        key = (name_buffer.value, flags.value, pdfium_c.FPDFText_GetFontWeight(handle, index))
        bold = font_cache.get(key)
        if bold is None:
            bold = font_cache[key] = _is_bold(*key)
        if pending_space:
            current.chars.append(" ")
            pending_space = False
        current.chars.append(SOFT_HYPHENS.get(char, char))
        if bold and current.all_bold:
            current.bold_chars = len(current.chars)
        elif not bold:
            current.all_bold = False
        current.left = min(current.left, left.value)
        current.right = max(current.right, right.value)
        current.bottom = min(current.bottom, bottom.value)
        current.top = max(current.top, top.value)
        current.size = max(current.size, size)
    close()
    return [
        Line(
            text="".join(s.chars),
            box=(s.left * scale, (page_height - s.top) * scale, s.right * scale, (page_height - s.bottom) * scale),
            size=round(s.size, 2),
            bold_chars=s.bold_chars,
        )
        for s in segments
    ]
