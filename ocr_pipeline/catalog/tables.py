"""Course tables read by cell geometry: a row whose cell is a course code is an entry, and the
table's header row (``Course Title``, ``Credits``, ``ECTS``, ``Prerequisites``) says which cell
holds which field, by where it sits on the page. Pure functions, no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ocr_pipeline.catalog.codes import CodeMatch, CodeMatcher
from ocr_pipeline.catalog.credits import Credits, find_credits, trailing_number
from ocr_pipeline.models import Line

CODE_COLUMNS = 3
"""A row's code is in one of its first cells (after a serial number, at most)."""
HEADER_REACH = 8
"""Header lines are looked for this many lines above a table's first row."""
_HEADERS: dict[str, re.Pattern[str]] = {
    "credits": re.compile(r"^(?:total\s+)?(?:credits?|credit\s+hours?|cr\.?|units?|c)$", re.IGNORECASE),
    "ects": re.compile(r"^ects(?:\s+credits?)?$", re.IGNORECASE),
    "title": re.compile(r"^(?:course\s+|subject\s+|module\s+)?(?:title|name)s?$", re.IGNORECASE),
    "prerequisites": re.compile(r"^pre-?requisites?\b", re.IGNORECASE),
}


@dataclass(frozen=True)
class Columns:
    """Centre x of each known column of a table, from its header."""

    centres: dict[str, float]


def cell_texts(line: Line) -> list[str]:
    return [" ".join(cell.split()) for cell in line.text.split("\t")]


def code_cell(line: Line, matcher: CodeMatcher) -> tuple[int, CodeMatch] | None:
    """The cell (index, code) of a table row whose cell starts with a course code (the title may
    share its cell when the cells' gap is narrow: ``GERL101B1 German I B1-Track``)."""
    if len(line.cells) < 3:
        return None
    for index, text in enumerate(cell_texts(line)[:CODE_COLUMNS]):
        code = matcher.at_start(text)
        if code is not None and not code.number_only:
            return index, code
    return None


def _centre(cell: tuple[float, float]) -> float:
    return (cell[0] + cell[1]) / 2


def header_columns(lines: Sequence[Line]) -> Columns | None:
    """Known columns named in header lines (a header may wrap: ``Credit`` over ``Hours``)."""
    centres: dict[str, float] = {}
    for line in lines:
        boxes = line.cells or ((line.box[0], line.box[2]),)
        for text, cell in zip(cell_texts(line), boxes):
            for name, pattern in _HEADERS.items():
                if pattern.match(text) and name not in centres:
                    centres[name] = _centre(cell)
    return Columns(centres) if centres else None


CONTINUATION_PITCH = 2.2
"""A line starting this many row heights or less below the previous one may continue a row's cells."""
NUMBER_CELL = re.compile(r"^\d+(?:\.\d+)?$")


def _join_wrapped(parts: Sequence[str]) -> str:
    out = ""
    for part in parts:
        glue = "" if not out or out.endswith(("-", "/")) or part.startswith((",", ";", ")")) else " "
        out += glue + part
    return out.strip()


def continue_row(row: Line, below: Sequence[Line]) -> Line:
    """The row with the wrapped text of its cells (lines just below it) joined into each cell."""
    cells = [[list(cell), [text]] for cell, text in zip(row.cells, cell_texts(row))]
    height, top = row.box[3] - row.box[1], row.box[1]
    for line in below:
        if line.bold or line.box[1] - top > CONTINUATION_PITCH * height:
            break
        pieces = list(zip(cell_texts(line), line.cells or ((line.box[0], line.box[2]),)))
        homes = [next((c for c in cells if box[0] < c[0][1] and box[1] > c[0][0]), None) for _, box in pieces]
        if any(home is not None and NUMBER_CELL.match(home[1][0]) for home in homes):
            break  # a number cannot wrap: this line is a row of its own (``University Elective  3``)
        top = line.box[1]
        for (text, box), home in zip(pieces, homes):
            if home is None:
                cells.append([list(box), [text]])
            else:
                home[1].append(text)
    cells.sort(key=lambda c: c[0][0])
    joined = [_join_wrapped(parts) for _, parts in cells]
    return Line("\t".join(joined), row.box, row.confidence, row.size, row.bold_chars, row.label,
                tuple((c[0][0], c[0][1]) for c in cells))


def _cell_at(line: Line, x: float, skip: int) -> str | None:
    """The text of the row's cell under the column centred at ``x`` (the code's cell excluded)."""
    best, best_distance = None, float("inf")
    for index, (text, cell) in enumerate(zip(cell_texts(line), line.cells)):
        if index == skip:
            continue
        distance = 0.0 if cell[0] <= x <= cell[1] else min(abs(cell[0] - x), abs(cell[1] - x))
        if distance < best_distance:
            best, best_distance = text, distance
    width = max(c[1] for c in line.cells) - min(c[0] for c in line.cells)
    return best if best_distance <= 0.05 * width else None


def row_fields(line: Line, code_index: int, code_end: int, columns: Columns | None,
               is_title: Callable[[str], bool]) -> tuple[str | None, Credits | None, str | None]:
    """Title, credits and prerequisites of a table row whose code ends at ``code_end`` of its cell."""
    cells = cell_texts(line)
    centres = columns.centres if columns else {}
    title = _cell_at(line, centres["title"], code_index) if "title" in centres else None
    if title is None or not is_title(title):
        shared = cells[code_index][code_end:].strip(" .:-–\t*#")
        title = next((c for c in [shared, *cells[code_index + 1:]] if is_title(c)), None)
    credits = None
    for name in ("credits", "ects"):
        if name in centres and (cell := _cell_at(line, centres[name], code_index)) is not None:
            credits = find_credits(cell) or trailing_number(cell)
            if credits is not None:
                break
    if credits is None and not centres.keys() & {"credits", "ects"}:
        after = cells[cells.index(title) + 1:] if title in cells else cells[code_index + 1:]
        credits = next((c for cell in after if (c := trailing_number(cell))), None)
    prerequisites = _cell_at(line, centres["prerequisites"], code_index) if "prerequisites" in centres else None
    if prerequisites is not None and not re.search(r"[A-Za-z0-9]", prerequisites):
        prerequisites = None  # ``-``: none
    return title, credits, prerequisites
