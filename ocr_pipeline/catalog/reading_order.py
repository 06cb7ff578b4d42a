"""Put line segments into reading order: bands top to bottom, columns left to right.

Works the same for text-layer segments and OCR boxes. A column gutter is a vertical strip
that almost no line crosses (the few that do, headings and running headers, split the page into
bands); it only counts when the columns on both sides look like running text
(wide enough, several words per line), so table cells and right-aligned credits stay on
their row instead of becoming columns of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

import numpy as np

from ocr_pipeline.models import Line

MIN_GUTTER_FRACTION = 0.012
MIN_COLUMN_FRACTION = 0.15
MIN_WORDS_PER_LINE = 3.0
ROW_OVERLAP = 0.5
CELL_GAP = 0.8
"""Segments of one row further apart than this many row heights are joined with a tab (table cells)."""
CROSSING_SHARE = 0.05
"""Lines that may cross a gutter (headings, running headers) as a share of the page's lines."""


def _gutters(lines: Sequence[Line], left: int, right: int) -> list[tuple[int, int]]:
    """Vertical strips inside [left, right) that almost no line covers, wide enough to be gutters."""
    coverage = np.zeros(right - left + 1, dtype=np.int32)
    for line in lines:
        coverage[int(line.box[0]) - left : int(line.box[2]) - left + 1] += 1
    crossing_allowance = max(2, int(CROSSING_SHARE * len(lines)))
    empty = np.concatenate(([False], coverage <= crossing_allowance, [False]))
    edges = np.flatnonzero(np.diff(empty.astype(np.int8)))
    min_width = MIN_GUTTER_FRACTION * (right - left)
    return [
        (int(start) + left, int(stop) + left)
        for start, stop in zip(edges[::2], edges[1::2])
        if stop - start >= min_width
    ]


def _looks_like_text(lines: Sequence[Line], width: float, content_width: float) -> bool:
    """Whether a would-be column holds running text (rows joined first: justified text splits into words)."""
    if not lines or width < MIN_COLUMN_FRACTION * content_width:
        return False
    return median(len(line.text.split()) for line in merge_rows(lines)) >= MIN_WORDS_PER_LINE


def _columns(lines: Sequence[Line]) -> list[tuple[float, float]]:
    """Column x-ranges of a set of lines; one range when there is a single column."""
    left = int(min(line.box[0] for line in lines))
    right = int(max(line.box[2] for line in lines)) + 1
    bounds = [left] + [x for gutter in _gutters(lines, left, right) for x in gutter] + [right]
    ranges = list(zip(bounds[::2], bounds[1::2]))
    changed = True
    while changed and len(ranges) > 1:
        changed = False
        for i, (x0, x1) in enumerate(ranges):
            members = [line for line in lines if x0 <= (line.box[0] + line.box[2]) / 2 < x1]
            if not _looks_like_text(members, x1 - x0, right - left):
                j = i + 1 if i == 0 else i - 1
                merged = (min(x0, ranges[j][0]), max(x1, ranges[j][1]))
                ranges[min(i, j)] = merged
                del ranges[max(i, j)]
                changed = True
                break
    return [(float(x0), float(x1)) for x0, x1 in ranges]


def merge_rows(lines: Sequence[Line]) -> list[Line]:
    """Join segments that sit on the same row (same column), left to right, top to bottom."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda item: (item.box[1], item.box[0])):
        height = line.box[3] - line.box[1]
        if rows:
            last = rows[-1][-1]
            overlap = min(last.box[3], line.box[3]) - max(last.box[1], line.box[1])
            if overlap >= ROW_OVERLAP * min(height, last.box[3] - last.box[1]):
                rows[-1].append(line)
                continue
        rows.append([line])
    return [_join(sorted(row, key=lambda item: item.box[0])) for row in rows]


def _join(row: Sequence[Line]) -> Line:
    if len(row) == 1:
        return row[0]
    first = row[0]
    text = row[0].text.strip()
    cells = [[first.box[0], first.box[2]]]
    for previous, part in zip(row, row[1:]):
        height = max(previous.box[3] - previous.box[1], part.box[3] - part.box[1])
        if part.box[0] - previous.box[2] > CELL_GAP * height:
            text += "\t" + part.text.strip()
            cells.append([part.box[0], part.box[2]])
        else:
            text += " " + part.text.strip()
            cells[-1][1] = part.box[2]
    bold_chars = None
    if first.bold_chars is not None:
        bold_chars = first.bold_chars if not first.bold else len(first.text.strip())
        for previous, part in zip(row, row[1:]):
            if not previous.bold:
                break
            bold_chars += 1 + (part.bold_chars or 0)
    sizes = [part.size for part in row if part.size is not None]
    return Line(
        text=text,
        box=(
            min(p.box[0] for p in row),
            min(p.box[1] for p in row),
            max(p.box[2] for p in row),
            max(p.box[3] for p in row),
        ),
        confidence=min(part.confidence for part in row),
        size=max(sizes) if sizes else None,
        bold_chars=bold_chars,
        label=first.label,
        cells=tuple((x0, x1) for x0, x1 in cells) if len(cells) > 1 else (),
    )


def _column_of(line: Line, columns: Sequence[tuple[float, float]]) -> int:
    """The column holding the line's centre; for a centre in a gutter (a credit hanging past its column, a lone
    mark), the nearest column: no line is ever left out."""
    center = (line.box[0] + line.box[2]) / 2

    def distance(column: tuple[float, float]) -> float:
        x0, x1 = column
        return 0.0 if x0 <= center < x1 else min(abs(center - x0), abs(center - x1))

    return min(range(len(columns)), key=lambda index: distance(columns[index]))


def reading_order(lines: Sequence[Line]) -> list[Line]:
    """Lines in reading order, same-row segments of a column joined into one line.

    A line that reaches into two columns (a heading, a running header) ends the band above it.
    """
    if not lines:
        return []
    columns = _columns(lines)
    if len(columns) == 1:
        return merge_rows(lines)
    ordered: list[Line] = []
    band: list[Line] = []

    def flush() -> None:
        by_column: list[list[Line]] = [[] for _ in columns]
        for line in band:
            by_column[_column_of(line, columns)].append(line)
        for members in by_column:
            ordered.extend(merge_rows(members))
        band.clear()

    for line in sorted(lines, key=lambda item: (item.box[1], item.box[0])):
        if sum(line.box[0] < x1 and line.box[2] > x0 for x0, x1 in columns) > 1:
            flush()
            ordered.append(line)
        else:
            band.append(line)
    flush()
    return ordered
