"""Course tables read by cell geometry: a row whose cell is a course code is an entry, and the
table's header row (``Course Title``, ``Credits``, ``ECTS``, ``Prerequisites``) says which cell
holds which field, by where it sits on the page. Pure functions, no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ocr_pipeline.catalog.codes import CodeMatch, CodeMatcher
from ocr_pipeline.catalog.credits import Credits, find_credits, trailing_number
from ocr_pipeline.models import Line

CODE_COLUMNS = 3
"""A row's code is in one of its first cells (after a serial number, at most)."""
HEADER_MAX_WORDS = 4
"""A header line without cells has at most this many words (a wrapped ``Credit`` / ``Hours``)."""
HEADER_REACH = 8
"""Header lines are looked for this many lines above a table's first row."""
_HEADERS: dict[str, re.Pattern[str]] = {
    "credits": re.compile(r"^(?:total\s+)?(?:credits?|credit\s+hours?|cr\.?|units?)$", re.IGNORECASE),
    "ects": re.compile(r"^ects(?:\s+credits?)?$", re.IGNORECASE),
    "title": re.compile(
        r"^(?:course\s+|subject\s+|module\s+)?(?:(?:code|no\.?)\s+(?:and|&)\s+)?(?:title|name)s?$", re.IGNORECASE
    ),
    "prerequisites": re.compile(r"^pre-?requisites?$", re.IGNORECASE),
}


@dataclass(frozen=True)
class Columns:
    """Left and right x of each known column of a table, between its neighbours' header cells."""

    spans: dict[str, tuple[float, float]]


def cell_texts(line: Line) -> list[str]:
    return [" ".join(cell.split()) for cell in line.text.split("\t")]


def code_cell(line: Line, matcher: CodeMatcher) -> tuple[int, CodeMatch] | None:
    """The cell (index, code) of a table row whose cell starts with a course code (the title may
    share its cell when the cells' gap is narrow: ``GERL101B1 German I B1-Track``)."""
    if len(line.cells) < 2:
        return None
    found = None
    for index, text in enumerate(cell_texts(line)[:CODE_COLUMNS]):
        code = matcher.at_start(text)
        if code is not None and not code.number_only and (len(line.cells) > 2 or code.end >= len(text.rstrip(" *#"))):
            found = index, code  # two cells only when the first is wholly a code (``GERL102B1  B1-Track``)
        if re.search(r"[a-z]{2}", text[code.end :] if code else text):
            break  # the title: of two code-like cells before it (``DC-13  IT 601 Unix``), the one beside it
    return found


def title_cells(line: Line, index: int, code: CodeMatch) -> list[str]:
    """The cells that may hold a row's title: what follows the code in its cell, then the cells after it."""
    cells = cell_texts(line)
    return [cells[index][code.end :].strip(" .:-–\t*#"), *cells[index + 1 :]]


def _words(text: str, cell: tuple[float, float]) -> list[tuple[str, tuple[float, float]]]:
    """A cell's words with boxes estimated from their character offsets (OCR may merge header cells:
    ``J Credits``)."""
    width = (cell[1] - cell[0]) / max(len(text), 1)
    return [(m.group(), (cell[0] + m.start() * width, cell[0] + m.end() * width)) for m in re.finditer(r"\S+", text)]


def header_columns(lines: Sequence[Line]) -> Columns | None:
    """Known columns named in header lines (a header may wrap: ``Credit`` over ``Hours``)."""
    named: dict[str, tuple[float, float]] = {}
    heads: list[tuple[float, float]] = []
    for line in lines:
        words = [
            w
            for text, cell in zip(cell_texts(line), line.cells or ((line.box[0], line.box[2]),))
            for w in _words(text, cell)
        ]
        if not line.cells and len(words) > HEADER_MAX_WORDS:
            continue  # running text, not a header
        found: dict[str, tuple[float, float]] = {}
        for size in (4, 3, 2, 1):  # ``Course Code and Title`` before ``Course Title`` before ``Title``
            for start in range(len(words) - size + 1):
                phrase = " ".join(word for word, _ in words[start : start + size])
                box = (words[start][1][0], words[start + size - 1][1][1])
                for name, pattern in _HEADERS.items():
                    if name not in found and pattern.match(phrase):
                        found[name] = box
        if found:  # a header line (data lines between merged rows are not)
            heads += [box for _, box in words]
            named = {**found, **named}
    # a column runs from the header word on its left to the one on its right (headers are centred)
    spans = {
        name: (
            max((h[1] for h in heads if h[1] <= x0 + 1), default=float("-inf")),
            min((h[0] for h in heads if h[0] >= x1 - 1), default=float("inf")),
        )
        for name, (x0, x1) in named.items()
    }
    return Columns(spans) if spans else None


CELL_REACH = 0.03
"""A cell this share of the row's width away from a header cell can still be under it."""
CONTINUATION_PITCH = 2.2
"""A line starting this many row heights or less below the previous one may continue a row's cells."""
NUMBER_CELL = re.compile(r"^\d+(?:\.\d+)?$")


def _join_wrapped(parts: Sequence[str]) -> str:
    out = ""
    for part in parts:
        glue = "" if not out or out.endswith(("-", "/")) or part.startswith((",", ";", ")")) else " "
        out += glue + part
    return re.sub(r"\s+([,;])", r"\1", out).strip()


def is_merged_row(row: Line) -> bool:
    """A row without a number cell of its own: it shares merged cells (name, credits) with its neighbour."""
    return not any(NUMBER_CELL.match(text) for text in cell_texts(row))


def continue_row(row: Line, below: Sequence[Line], above: Sequence[Line] = ()) -> Line:
    """The row with the wrapped text of its cells (lines just below it) joined into each cell, and the
    cells of ``above`` lines (merged cells printed between this row and the previous one) added."""
    cells: list[list[Any]] = [[list(cell), [text]] for cell, text in zip(row.cells, cell_texts(row))]  # [span, texts]
    for line in above:
        cells += [
            [list(cell), [text]] for cell, text in zip(line.cells or ((line.box[0], line.box[2]),), cell_texts(line))
        ]
    height, top = row.box[3] - row.box[1], row.box[1]
    for line in below:
        if line.bold or line.box[1] - top > CONTINUATION_PITCH * height:
            break
        pieces = list(zip(cell_texts(line), line.cells or ((line.box[0], line.box[2]),)))
        reach = height  # a lone ``,`` just right of its cell still belongs to it
        homes = [next((c for c in cells if box[0] < c[0][1] + reach and box[1] > c[0][0]), None) for _, box in pieces]
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
    return Line(
        "\t".join(joined),
        row.box,
        row.confidence,
        row.size,
        row.bold_chars,
        row.label,
        tuple((c[0][0], c[0][1]) for c in cells),
    )


def _cell_at(line: Line, span: tuple[float, float], code_index: int, code_end: int) -> str | None:
    """The text under the column ``span``: the words whose middle lies in it, left to right (a merged
    name cell and a track cell; OCR cells merged across columns), the code itself left out; else the
    nearest cell within a small distance."""
    words = []
    for index, (text, cell) in enumerate(zip(cell_texts(line), line.cells)):
        skip = code_end if index == code_index else 0
        words += [
            w
            for w in _words(text, cell)
            if index != code_index or w[1][0] >= cell[0] + skip * ((cell[1] - cell[0]) / max(len(text), 1)) - 0.5
        ]
    inside = [word for word, box in words if span[0] <= (box[0] + box[1]) / 2 < span[1]]
    if inside:
        return " ".join(inside)
    width = max(c[1] for c in line.cells) - min(c[0] for c in line.cells)
    nearest: tuple[float, str | None] = min(
        ((max(box[0] - span[1], span[0] - box[1]), word) for word, box in words), default=(0.0, None)
    )
    return nearest[1] if nearest[0] <= CELL_REACH * width else None


def row_fields(
    line: Line, code_index: int, code_end: int, columns: Columns | None, is_title: Callable[[str], bool]
) -> tuple[str | None, Credits | None, str | None]:
    """Title, credits and prerequisites of a table row whose code ends at ``code_end`` of its cell."""
    cells = cell_texts(line)
    spans = columns.spans if columns else {}
    title = _cell_at(line, spans["title"], code_index, code_end) if "title" in spans else None
    if title is None or not is_title(title):
        shared = cells[code_index][code_end:].strip(" .:-–\t*#")
        title = next((c for c in [shared, *cells[code_index + 1 :]] if is_title(c)), None)
    credits = None
    for name in ("credits", "ects"):
        if name in spans and (cell := _cell_at(line, spans[name], code_index, code_end)) is not None:
            credits = find_credits(cell) or trailing_number(cell)
            if credits is not None:
                break
    if credits is None and not spans.keys() & {"credits", "ects"}:
        after = cells[cells.index(title) + 1 :] if title in cells else cells[code_index + 1 :]
        credits = next((c for cell in after if (c := trailing_number(cell))), None)
    prerequisites = _cell_at(line, spans["prerequisites"], code_index, code_end) if "prerequisites" in spans else None
    if prerequisites is not None and not re.search(r"[A-Za-z0-9]", prerequisites):
        prerequisites = None  # ``-``: none
    return title, credits, prerequisites
