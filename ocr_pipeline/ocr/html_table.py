"""Parse the HTML ``<table>`` markup OCR models emit into a grid and into text lines."""

from __future__ import annotations

from html.parser import HTMLParser


class _TableParser(HTMLParser):
    """Collect rows of ``(text, rowspan, colspan)`` cells from the first level of a table."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[tuple[str, int, int]]] = []
        self._cell: list[str] | None = None
        self._span = (1, 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._close_cell()
            self.rows.append([])
        elif tag in ("td", "th"):
            self._close_cell()
            if not self.rows:
                self.rows.append([])
            found = dict(attrs)
            self._span = (_span(found.get("rowspan")), _span(found.get("colspan")))
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "tr", "table"):
            self._close_cell()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def close(self) -> None:
        super().close()
        self._close_cell()

    def _close_cell(self) -> None:
        if self._cell is not None:
            text = " ".join("".join(self._cell).split())
            self.rows[-1].append((text, *self._span))
            self._cell = None


def _span(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1000))
    except ValueError:
        return 1


def parse_table(html: str) -> list[list[str]]:
    """The table as a rectangular grid; a spanned cell's text fills every slot it covers."""
    parser = _TableParser()
    parser.feed(html)
    parser.close()
    grid: dict[tuple[int, int], str] = {}
    for r, row in enumerate(parser.rows):
        c = 0
        for text, rowspan, colspan in row:
            while (r, c) in grid:
                c += 1
            for dr in range(rowspan):
                for dc in range(colspan):
                    grid.setdefault((r + dr, c + dc), text)
            c += colspan
    if not grid:
        return []
    height = max(r for r, _ in grid) + 1
    width = max(c for _, c in grid) + 1
    return [[grid.get((r, c), "") for c in range(width)] for r in range(height)]


def table_lines(html: str) -> list[str]:
    """One text line per table row, cells joined with `` | `` (repeats from spans collapsed)."""
    lines = []
    for row in parse_table(html):
        cells: list[str] = []
        for cell in row:
            if cell and (not cells or cells[-1] != cell):
                cells.append(cell)
        if cells:
            lines.append(" | ".join(cells))
    return lines
