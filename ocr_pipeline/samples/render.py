"""A tiny text-flow engine on top of a reportlab canvas.

``Catalog`` owns the canvas, page numbering and the running header/footer; ``Flow`` pours
wrapped lines (mixed fonts, optional justification and hyphenation) through one or more
columns, breaking to the next column or page when a column is full.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

CATALOG_YEAR = "2026-2027"
_DEJAVU_DIR = "/usr/share/fonts/truetype/dejavu"
_VOWELS = frozenset("aeiouy")
_ONSETS = frozenset(
    {
        "bl",
        "br",
        "ch",
        "ck",
        "cl",
        "cr",
        "dr",
        "fl",
        "fr",
        "gh",
        "gl",
        "gr",
        "ph",
        "pl",
        "pr",
        "sc",
        "sh",
        "sk",
        "sl",
        "sp",
        "st",
        "th",
        "tr",
        "wh",
        "wr",
    }
)


@cache
def dejavu(name: str) -> str:
    """Register the DejaVu TTF ``name`` (e.g. "DejaVuSerif-Bold") once and return the font name."""
    path = f"{_DEJAVU_DIR}/{name}.ttf"
    if not os.path.exists(path):
        raise FileNotFoundError(f"the sample catalogs need the DejaVu fonts: no {path} (Debian: fonts-dejavu)")
    pdfmetrics.registerFont(TTFont(name, path))
    return name


def width(text: str, font: str, size: float) -> float:
    """Rendered width of ``text`` in points."""
    return pdfmetrics.stringWidth(text, font, size)


@dataclass(frozen=True)
class Word:
    """One word of running text in a given font."""

    text: str
    font: str


def words(text: str, font: str) -> list[Word]:
    """Split ``text`` on whitespace into ``Word``s of one font."""
    return [Word(w, font) for w in text.split()]


class Catalog:
    """A reportlab canvas that stamps a running header and page-number footer on every page."""

    def __init__(
        self,
        institution: str,
        pagesize: tuple[float, float],
        *,
        font: str = "Helvetica",
        footer: str = "Page {n}",
        margin: float = 54.0,
    ) -> None:
        self.pagesize = pagesize
        self.margin = margin
        self._buf = io.BytesIO()
        self.canvas = Canvas(self._buf, pagesize=pagesize, invariant=1, pageCompression=1)
        self.canvas.setTitle(f"{institution} Catalog {CATALOG_YEAR}")
        self._header = f"{institution} Catalog {CATALOG_YEAR}"
        self._footer = footer
        self._font = font
        self.page = 0

    @property
    def top(self) -> float:
        """Baseline ceiling of the body area."""
        return self.pagesize[1] - self.margin - 18

    @property
    def bottom(self) -> float:
        """Lowest baseline of the body area."""
        return self.margin + 14

    def new_page(self) -> None:
        """Finish the current page (if any) and start the next one with header and footer."""
        c = self.canvas
        if self.page:
            c.showPage()
        self.page += 1
        w, h = self.pagesize
        c.setFont(self._font, 8.5)
        c.drawString(self.margin, h - self.margin + 6, self._header)
        c.setLineWidth(0.5)
        c.line(self.margin, h - self.margin + 2, w - self.margin, h - self.margin + 2)
        c.drawCentredString(w / 2, self.margin - 20, self._footer.format(n=self.page))

    def finish(self) -> bytes:
        """Close the document and return the PDF bytes."""
        self.canvas.showPage()
        self.canvas.save()
        return self._buf.getvalue()


class Flow:
    """Pours lines through ``columns`` equal columns, page after page."""

    def __init__(self, doc: Catalog, *, columns: int = 1, gutter: float = 18.0) -> None:
        self.doc = doc
        self.columns = columns
        self.col_width = (doc.pagesize[0] - 2 * doc.margin - (columns - 1) * gutter) / columns
        self._gutter = gutter
        self.col = 0
        if not doc.page:
            doc.new_page()
        self.y = doc.top

    @property
    def x(self) -> float:
        """Left edge of the current column."""
        return self.doc.margin + self.col * (self.col_width + self._gutter)

    def next_column(self) -> None:
        """Move to the top of the next column, starting a new page after the last one."""
        self.col += 1
        if self.col == self.columns:
            self.col = 0
            self.doc.new_page()
        self.y = self.doc.top

    def new_page(self) -> None:
        """Start a fresh page at the first column."""
        self.doc.new_page()
        self.col = 0
        self.y = self.doc.top

    def advance(self, height: float) -> int:
        """Reserve ``height`` points below the cursor (breaking if needed); return the page used."""
        if self.y - height < self.doc.bottom and self.y < self.doc.top:
            self.next_column()
        self.y -= height
        return self.doc.page

    def space(self, height: float) -> None:
        """Vertical white space (dropped at a column top)."""
        if self.y < self.doc.top:
            self.y -= height

    def paragraph(self, runs: Sequence[Word], size: float, *, justify: bool = False, hyphenate: bool = False) -> int:
        """Wrap and draw ``runs`` (leading 1.25 x size); return the page of the first line."""
        leading = size * 1.25
        lines = wrap(runs, size, self.col_width, hyphenate=hyphenate)
        first = 0
        for i, line in enumerate(lines):
            page = self.advance(leading)
            first = first or page
            stretch = justify and i < len(lines) - 1
            draw_line(self.doc.canvas, line, self.x, self.y, size, self.col_width if stretch else None)
        return first


def _split_word(word: Word, size: float, room: float) -> tuple[Word, Word] | None:
    """Hyphenate ``word`` so the head plus "-" fits in ``room``, breaking between two consonants."""
    text = word.text
    if len(text) < 7 or not text.isalpha():
        return None
    low = text.lower()

    def good(k: int) -> bool:
        pair = low[k - 1 : k + 1]
        return (
            pair[0] not in _VOWELS
            and pair[1] not in _VOWELS
            and pair not in _ONSETS
            and (low[k - 2] in _VOWELS or low[k + 1] in _VOWELS)
        )

    fits = [k for k in range(3, len(text) - 2) if good(k) and width(text[:k] + "-", word.font, size) <= room]
    if not fits:
        return None
    k = max(fits)
    return Word(text[:k] + "-", word.font), Word(text[k:], word.font)


def wrap(runs: Sequence[Word], size: float, max_width: float, *, hyphenate: bool = False) -> list[list[Word]]:
    """Greedy line breaking of ``runs`` into lines at most ``max_width`` wide."""
    lines: list[list[Word]] = []
    line: list[Word] = []
    used = 0.0
    queue = list(runs)
    while queue:
        word = queue.pop(0)
        gap = width(" ", line[-1].font, size) if line else 0.0
        w = width(word.text, word.font, size)
        if not line or used + gap + w <= max_width:
            line.append(word)
            used += gap + w
            continue
        split = _split_word(word, size, max_width - used - gap) if hyphenate else None
        if split:
            line.append(split[0])
            queue.insert(0, split[1])
        else:
            queue.insert(0, word)
        lines.append(line)
        line, used = [], 0.0
    if line:
        lines.append(line)
    return lines


def draw_line(canvas: Canvas, line: Sequence[Word], x: float, y: float, size: float, stretch_to: float | None) -> None:
    """Draw one line; when ``stretch_to`` is given, spread words to fill that width (justify)."""
    if stretch_to is not None and len(line) > 1:
        natural = sum(width(w.text, w.font, size) for w in line)
        gap = (stretch_to - natural) / (len(line) - 1)
        for i, w in enumerate(line):
            canvas.setFont(w.font, size)
            canvas.drawString(x, y, w.text if i == len(line) - 1 else w.text + " ")
            x += width(w.text, w.font, size) + gap
        return
    segments: list[tuple[str, list[str]]] = []
    for w in line:
        if segments and segments[-1][0] == w.font:
            segments[-1][1].append(w.text)
        else:
            segments.append((w.font, [w.text]))
    for i, (font, texts) in enumerate(segments):
        text = " ".join(texts) + (" " if i < len(segments) - 1 else "")
        canvas.setFont(font, size)
        canvas.drawString(x, y, text)
        x += width(text, font, size)


def table(
    flow: Flow,
    rows: Sequence[Sequence[str]],
    col_widths: Sequence[float],
    size: float,
    *,
    header: Sequence[str] | None = None,
    font: str = "Helvetica",
    bold: str = "Helvetica-Bold",
    bold_first_column: bool = False,
    pad: float = 4.0,
) -> list[int]:
    """Draw a ruled grid at the flow cursor and return the page of each body row.

    Cells wrap within their column; rows never split, and the header row is repeated after a break.
    """
    leading = size * 1.25
    canvas = flow.doc.canvas

    def layout(cells: Sequence[str], fonts: Sequence[str]) -> tuple[list[list[list[Word]]], float]:
        wrapped = [wrap(words(text, f), size, w - 2 * pad) for text, f, w in zip(cells, fonts, col_widths)]
        return wrapped, max(len(lines) for lines in wrapped) * leading + 2 * pad

    def draw(wrapped: list[list[list[Word]]], height: float) -> None:
        x, top = flow.x, flow.y
        canvas.setLineWidth(0.6)
        for lines, w in zip(wrapped, col_widths):
            canvas.rect(x, top - height, w, height)
            for i, line in enumerate(lines):
                draw_line(canvas, line, x + pad, top - pad - size - i * leading, size, None)
            x += w
        flow.y = top - height

    body_fonts = [bold if bold_first_column and i == 0 else font for i in range(len(col_widths))]
    head = layout(header, [bold] * len(col_widths)) if header else None
    if head:
        if flow.y - head[1] - 3 * leading < flow.doc.bottom:
            flow.next_column()
        draw(*head)
    pages = []
    for row in rows:
        wrapped, height = layout(row, body_fonts)
        if flow.y - height < flow.doc.bottom:
            flow.next_column()
            if head:
                draw(*head)
        draw(wrapped, height)
        pages.append(flow.doc.page)
    return pages
