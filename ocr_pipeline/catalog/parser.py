"""Course entries from pages of lines in reading order: pure functions, no I/O.

1. Running headers, footers and page numbers are dropped (:func:`body_lines`).
2. Lines are grouped into paragraphs by layout: a line that stops short of its column's right
   edge, a larger vertical gap, a change of font size (or, for OCR lines, line height) or a
   ``Label:`` line starts a new paragraph.
3. A line that begins with a course code starts an entry when the layout says so (bold code,
   larger font, code on its own line, a new paragraph, credits or table cells on the line);
   references in prose or prerequisite lists (``... or`` / ``MATH 120 or permission``) do not.
   The catalog's usual start style and code shape are learnt from the document, and starts that
   differ from them need stronger evidence.
4. An entry runs to the next start or to a heading at least as prominent as its own first line.
   Its header (the bold run, else ``Title. Credits.``, ``Title (credits)``, table cells or the
   Title Case run) gives the title and credits; labelled fields and headed sections give
   prerequisites, credits and the description.
5. Each entry gets a confidence from its evidence, with the reasons when it falls short.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import TypeVar

from ocr_pipeline.catalog.codes import CodeMatch, CodeMatcher
from ocr_pipeline.catalog.credits import BARE_PARENTHESISED, Credits, find_credits, trailing_number
from ocr_pipeline.catalog.forms import FIELD_LABEL, MIN_FORM_FIELDS, read_form
from ocr_pipeline.catalog.profile import CatalogProfile
from ocr_pipeline.catalog.tables import HEADER_REACH as TABLE_HEADER_REACH
from ocr_pipeline.catalog.tables import (
    Columns,
    code_cell,
    continue_row,
    header_columns,
    is_merged_row,
    row_fields,
    title_cells,
)
from ocr_pipeline.models import CourseEntry, Line, PageResult

EDGE_ZONE = 0.08
"""Share of the page height at the top and bottom where running headers and footers live."""
RUNNING_HEADER_SCALE = 1.5
"""Running headers are set no larger than this many times the page's usual line (a form's large
number box near the top edge, ``1.1`` then ``1.2``, is content)."""
PAGE_NUMBER = re.compile(r"^(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
MINOR_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "&",
        "-",
        "–",
        "vs.",
        "via",
    }
)
CONTINUATION_START = re.compile(
    r"^(?:and|or|nor|with|are|is|must|may|concurrent(?:ly)?|recommended)\b|^[,;)\]/]", re.IGNORECASE
)
OPEN_END = re.compile(
    r"(?:[:,;&(/]|\b(?:and|or|nor|with|see|see also|prerequisites?|corequisites?|including|"
    r"completed|following|than|of|in|the)\b)\s*$",
    re.IGNORECASE,
)
FIELD = re.compile(r"^(?P<label>[A-Z][A-Za-z()/'&-]*(?: [A-Za-z()/'&-]+){0,3})\s*:\s*(?P<value>.*)$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"(\[])")
NEXT_LABEL = re.compile(r"(?:^|(?<=[.;,]\s))(?:[A-Z][A-Za-z-]*(?: [A-Za-z-]+)?|PR or CR)\s?:\s")
"""A label run into text after a prerequisite (``Coreq:``, ``Cross Listing:``) ends it."""
REQUIREMENT = re.compile(
    r"\b(?:[A-Z]{2,5} ?\d{2,4}[A-Z]?|\d{3}[A-Z]?|recommended|required|equivalent|consent|permission|"
    r"standing|approval|admission)\b",
    re.IGNORECASE,
)
SECTION_LABEL = re.compile(r"^(?:pre-?req\w*|co-?req\w*|credits?|units?|description|notes?|PR)\b", re.IGNORECASE)
"""Labels that start a field of their own even inside a bold run."""
LABEL_VALUE = re.compile(r"^[A-Za-z][A-Za-z .]{0,20}:\s*\S{0,8}$")
"""A title like ``Term: 3`` is a form label with its value."""
T = TypeVar("T")
CATALOG_WINDOW = 25
"""An entry is compared with this many entries before and after it (its section's conventions)."""
MAX_TITLE_LENGTH = 150
CODE_IN_TITLE = re.compile(r"\b[A-Z]{2,5}[ -]?\d{3,4}[A-Z]?\d?\b")
"""A course code inside a title: another row's code, or the code read twice."""
CROSS_LISTING_END = re.compile(r"\s*\((?:[A-Z]{2,5}[ ,/]*)+(?:\d{3}[A-Z]?(?:/\d{3}[A-Z]?)*\)|,?)\s*$")
"""A parenthesised cross-listing at a title's end: subjects, then a number, the bracket perhaps cut off."""
MIN_OCR_LINE_CONFIDENCE = 0.9
"""Entries whose OCR'd lines average below this are flagged."""
MIN_OCR_WORD_CONFIDENCE = 0.6
"""Entries with a line read below this confidence are flagged."""
MIN_CODE_LINES = 2
"""A page needs at least this many lines led by a course code to count as course-like."""
MIN_CODES_ANYWHERE = 5
"""A page without entries but this many course codes anywhere in its text (columns read out of order,
a scan's lines broken up) is flagged."""
MIN_PAGE_COVERAGE = 0.5
"""A page whose entries cover less than this share of its code-led lines is flagged."""
SIZE_CHANGE = 1.1
"""Font sizes differing by more than this factor are different paragraphs."""
HEIGHT_CHANGE = 1.3
"""The same for OCR line heights, which are noisier."""
MEASURE_PERCENTILE = 0.8
MEASURE_OUTLIER = 1.5
"""A line wider than this many times the column's usual width (its 80th percentile) is not in the column."""
PARAGRAPH_GAP = 1.45
"""A line pitch this many times the usual pitch is a paragraph break."""
HEADER_REACH = 160
"""Credits further into an unformatted header paragraph than this many characters are not its credits."""


@dataclass(frozen=True)
class _Item:
    """A body line with its page, cleaned text and the right edge of its column on the page."""

    page: int
    line: Line
    text: str
    measure: float

    @property
    def height(self) -> float:
        return self.line.box[3] - self.line.box[1]

    @property
    def scale(self) -> float:
        """The line's type size: its font size, else (OCR) its box height."""
        return self.line.size or self.height


@dataclass(frozen=True)
class _Start:
    """An entry start: the line, its code, the evidence for it and its style."""

    index: int
    code: CodeMatch
    score: float
    style: frozenset[str]
    shape: tuple[str, int]


@dataclass
class _Fields:
    title: str | None = None
    credits: Credits | None = None
    description: list[str] = field(default_factory=list)
    prerequisites: list[str] = field(default_factory=list)
    doubts: list[str] = field(default_factory=list)
    """What made reading this entry uncertain (merged table cells, two code-like cells)."""


# ---------------------------------------------------------------------------------------------
# text helpers


def clean_text(text: str) -> str:
    """Ligatures expanded (NFKC) and whitespace, tabs included, normalised."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def join_lines(parts: Sequence[str]) -> str:
    """Join wrapped lines, undoing end-of-line hyphenation (``physio-`` + ``logy``)."""
    out = ""
    for part in (clean_text(p) for p in parts):
        if not part:
            continue
        if out.endswith("-") and len(out) > 1 and out[-2].isalpha() and part[:1].islower():
            out = out[:-1] + part
        elif out.endswith(("-", "/")) and len(out) > 1 and out[-2].isalnum() and part[:1].isalnum():
            out += part  # a compound's hyphen (``Pre-`` + ``Accounting``) or ``451/`` + ``851``
        else:
            out = f"{out} {part}" if out else part
    return out


def _cells(text: str) -> list[str]:
    """Tab-separated cells of a line (wide gaps become tabs in reading order)."""
    return [c for c in (clean_text(cell) for cell in text.split("\t")) if c]


def _strip_punct(text: str) -> str:
    return text.strip(" .,:;-–—|(\t")


def _minor(word: str) -> bool:
    """A word Title Case leaves lowercase (``of``, ``and``); capitalised ``A``/``The`` are not minor."""
    return word in MINOR_WORDS


def _title_case_prefix(words: Sequence[str]) -> int:
    """How many leading words form a Title Case run (a title run into its description)."""
    count = 0
    for word in words:
        bare = word.strip("()[],:;")
        if bare and (bare[0].isupper() or bare[0].isdigit() or _minor(bare)):
            count += 1
        else:
            break
    if 0 < count < len(words) and words[count][:1].islower():
        while count and _minor(words[count - 1]):
            count -= 1
        if count > 1:
            count -= 1  # the last capitalised word starts the description's first sentence
    while count and _minor(words[count - 1]):
        count -= 1
    return count


def _is_title_like(text: str) -> bool:
    """Title Case words without a sentence break, e.g. ``Introduction to Data Structures``."""
    words = text.split()
    return bool(words) and words[0][:1].isupper() and ". " not in text and _title_case_prefix(words) == len(words)


def looks_like_title(text: str) -> bool:
    """A cell or line that can be a course title: words with lowercase letters, not a code, number or label."""
    text = _strip_punct(text)
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 3 or trailing_number(text) is not None or find_credits(text) is not None:
        return False
    if any(c.islower() for c in letters):
        return True
    words = text.split()  # upper case: words, not department or code tokens (``HPA-PUB AFF``)
    return sum(len(w) > 4 and "-" not in w for w in words) * 2 >= len(words)


def _sentences(text: str) -> list[str]:
    """Sentences of ``text``; initials (``C. I.``) and lowercase continuations do not end one."""
    out, begin = [], 0
    for match in SENTENCE_END.finditer(text):
        before, after = text[: match.start()], text[match.end() :]
        if re.search(r"\b[A-Z]\.$", before) and re.match(r"[A-Z]\.(?:\s|$)", after):
            continue
        out.append(text[begin : match.start()].strip())
        begin = match.end()
    return [*out, text[begin:].strip()]


def split_prerequisite(text: str) -> tuple[str, str]:
    """A run-in prerequisite and what follows it: it ends at the next ``Label:`` or with its sentence,
    unless the next sentence is a short one about requirements (``STAT 380 recommended.``)."""
    label = NEXT_LABEL.search(text)
    head, tail = (text[: label.start()], text[label.start() :]) if label else (text, "")
    sentences = _sentences(head)
    keep = 1
    while keep < len(sentences) and len(sentences[keep].split()) <= 6 and REQUIREMENT.search(sentences[keep]):
        keep += 1
    rest = " ".join(sentences[keep:] + ([tail] if tail else []))
    return " ".join(sentences[:keep]).strip(), rest.strip()


def _label_in(text: str, labels: Sequence[str]) -> bool:
    """Whether ``text`` is one of ``labels``, ignoring case and spaces (text layers split words:
    ``Prerequisite s``)."""
    folded = "".join(text.casefold().rstrip(": ").split())
    return any(folded == "".join(label.casefold().split()) for label in labels)


# ---------------------------------------------------------------------------------------------
# lines and paragraphs


def _edge_text(line: Line, height: float) -> bool:
    return line.box[1] < EDGE_ZONE * height or line.box[3] > (1 - EDGE_ZONE) * height


def _edge_signature(text: str) -> str:
    return re.sub(r"\d+", "#", clean_text(text).lower())


def _measures(lines: Sequence[Line]) -> list[float]:
    """Each line's column right edge: the furthest right edge among lines starting where it starts,
    leaving out lines far wider than most (a full-width introduction above a column)."""
    by_left = sorted((line.box[0], line.box[2]) for line in lines)
    lefts = [left for left, _ in by_left]
    known: dict[tuple[float, float], float] = {}  # lines of one column share their left edge and size
    measures = []
    for line in lines:
        left, reach = line.box[0], 1.5 * (line.box[3] - line.box[1])
        if (left, reach) not in known:
            edges = sorted(
                right for _, right in by_left[bisect_left(lefts, left - reach) : bisect_right(lefts, left + reach)]
            )
            usual = edges[int(MEASURE_PERCENTILE * (len(edges) - 1))]
            known[left, reach] = max(edge for edge in edges if edge - left <= MEASURE_OUTLIER * (usual - left))
        measures.append(known[left, reach])
    return measures


def _page_bodies(pages: Sequence[PageResult]) -> Iterator[tuple[int, list[Line]]]:
    """Each page's lines in reading order, without running headers, footers and page numbers."""
    recurring: Counter[str] = Counter()
    for page in pages:
        recurring.update({_edge_signature(line.text) for line in page.text.lines if _edge_text(line, page.ref.height)})
    threshold = max(2, 0.5 * len(pages))
    for page in pages:
        typical = median([line.box[3] - line.box[1] for line in page.text.lines]) if page.text.lines else 0.0
        yield (
            page.ref.page,
            [
                line
                for line in page.text.lines
                if (text := clean_text(line.text))
                and not (
                    _edge_text(line, page.ref.height)
                    and line.box[3] - line.box[1] <= RUNNING_HEADER_SCALE * typical
                    and (PAGE_NUMBER.match(text) or recurring[_edge_signature(text)] >= threshold)
                )
            ],
        )


def body_lines(pages: Sequence[PageResult]) -> list[_Item]:
    """All pages' body lines in reading order, each with its column's right edge."""
    return [
        _Item(page, line, clean_text(line.text), measure)
        for page, lines in _page_bodies(pages)
        for line, measure in zip(lines, _measures(lines))
    ]


@dataclass(frozen=True)
class _Layout:
    """Document-wide typical values that paragraph breaks are judged against."""

    pitch: float
    body_scale: float


def _layout(items: Sequence[_Item]) -> _Layout:
    pitches = [
        b.line.box[1] - a.line.box[1]
        for a, b in zip(items, items[1:])
        if a.page == b.page and 0 < b.line.box[1] - a.line.box[1] < 3 * a.height
    ]
    scales = [item.scale for item in items]
    return _Layout(median(pitches) if pitches else 0.0, median(scales) if scales else 0.0)


def _same_scale(a: _Item, b: _Item) -> bool:
    limit = SIZE_CHANGE if a.line.size and b.line.size else HEIGHT_CHANGE
    return max(a.scale, b.scale) <= limit * min(a.scale, b.scale)


def _ends_short(item: _Item, following: _Item) -> bool:
    """Whether ``item`` stops before its column's edge with room for the next line's first word."""
    first_word = following.text.split()[0]
    char_width = (item.line.box[2] - item.line.box[0]) / max(len(item.text), 1)
    slack = 1.5 if item.line.size else 3.0  # OCR boxes and widths are rougher than font metrics
    return item.measure - item.line.box[2] > (len(first_word) + slack) * char_width


def paragraph_break(items: Sequence[_Item], index: int, layout: _Layout) -> bool:
    """Whether ``items[index]`` starts a new paragraph."""
    if index == 0:
        return True
    previous, item = items[index - 1], items[index]
    if not _same_scale(previous, item):
        return True
    if (
        previous.line.bold
        and previous.line.bold_chars
        and item.line.bold_chars
        and not SECTION_LABEL.match(item.text)
        and (not FIELD.match(item.text) or ("\t" not in previous.line.text and find_credits(previous.text) is None))
    ):
        return False  # a bold run (a wrapped title, even one ending ``Title:``) goes on
    if FIELD.match(item.text):
        return True
    if _ends_short(previous, item):
        return True
    same_column = previous.page == item.page and item.line.box[1] > previous.line.box[1]
    pitch = layout.pitch * max(1.0, previous.scale / layout.body_scale) if layout.body_scale else layout.pitch
    return same_column and pitch > 0 and item.line.box[1] - previous.line.box[1] > PARAGRAPH_GAP * pitch


def _paragraphs(items: Sequence[_Item], begin: int, end: int, layout: _Layout) -> list[list[int]]:
    """Indices of ``items[begin:end]`` grouped into paragraphs."""
    groups: list[list[int]] = []
    for index in range(begin, end):
        if not groups or paragraph_break(items, index, layout):
            groups.append([])
        groups[-1].append(index)
    return groups


# ---------------------------------------------------------------------------------------------
# entry starts


def _code_is_bold(line: Line, code: CodeMatch) -> bool:
    return line.bold_chars is not None and line.bold_chars >= len(code.code)


def _candidate(items: Sequence[_Item], index: int, matcher: CodeMatcher, layout: _Layout) -> _Start | None:
    """The evidence that ``items[index]`` starts an entry, or ``None`` when it cannot."""
    item = items[index]
    row = code_cell(item.line, matcher)
    if row is not None and any(looks_like_title(cell) for cell in title_cells(item.line, *row)):
        shape = (row[1].sep, -1 if row[1].number_only else row[1].subject.count("-"))
        return _Start(index, row[1], 3, frozenset({"row"}), shape)  # a table row with its title in a cell
    code = matcher.at_start(item.text)
    if code is None:
        return None
    rest = _strip_punct(item.text[code.end :])
    previous = items[index - 1].text if index else ""
    if rest[:1].islower() or CONTINUATION_START.match(item.text[code.end :].strip()) or OPEN_END.search(previous):
        return None
    following = items[index + 1] if index + 1 < len(items) else None
    style = set()
    if _code_is_bold(item.line, code):
        style.add("bold")
    if (
        not rest
        and following is not None
        and not item.text.endswith(".")
        and following.text[:1].isupper()
        and matcher.at_start(following.text) is None
    ):
        style.add("alone")
    if item.text[code.end :].lstrip().startswith((".", "-", "–", ":")) and _title_case_prefix(rest.split()) >= 1:
        style.add("run-in")
    if "\t" in item.line.text.strip():
        style.add("cells")
    if item.scale > (1.15 if item.line.size else 1.3) * layout.body_scale:
        style.add("large")
    if find_credits(rest) or trailing_number(rest) or any(trailing_number(c) for c in _cells(item.line.text)[1:]):
        style.add("credits")
    if paragraph_break(items, index, layout):
        style.add("paragraph")
    score = sum(
        {"bold": 2, "alone": 2, "run-in": 1, "cells": 1, "large": 1, "credits": 1, "paragraph": 1}[s] for s in style
    )
    if not rest and "alone" not in style:
        score = 0  # a bare code that is not followed by its title is a list item or a reference
    if score < 1:
        return None
    shape = (code.sep, -1 if code.number_only else code.subject.count("-"))
    return _Start(index, code, score, frozenset(style - {"credits", "paragraph"}), shape)


def windows(values: Sequence[T], reach: int = 0) -> Iterator[Counter[T]]:
    """For each position, the counts of ``values`` within ``reach`` positions of it (one Counter, updated
    as the window slides: read it before the next step)."""
    reach = reach or CATALOG_WINDOW
    counts: Counter[T] = Counter(values[:reach])
    for position in range(len(values)):
        if position + reach < len(values):
            counts[values[position + reach]] += 1
        if position - reach - 1 >= 0:
            counts[values[position - reach - 1]] -= 1
        yield counts


def _most(counts: Counter[T]) -> T:
    return max(counts, key=counts.__getitem__)


def find_starts(items: Sequence[_Item], matcher: CodeMatcher, layout: _Layout) -> list[_Start]:
    """Entry starts, keeping candidates that fit the catalog's usual start style and code shape."""
    candidates = [c for i in range(len(items)) if (c := _candidate(items, i, matcher, layout))]
    if not candidates:
        return []
    if Counter(c.shape[1] for c in candidates).most_common(1)[0][0] != -1:
        candidates = [c for c in candidates if c.shape[1] != -1]  # number-only codes only where they are usual
    kept = []
    styles, parts = windows([c.style for c in candidates]), windows([c.shape[1] for c in candidates])
    for candidate, style, part in zip(candidates, styles, parts):  # judged against its section's usual start
        penalty = (candidate.style != _most(style)) + (candidate.shape[1] != _most(part))
        if not penalty or candidate.score - penalty >= 2:
            kept.append(candidate)
    return kept


def _code_cells_before_title(cells: Sequence[str], matcher: CodeMatcher) -> int:
    """How many of a row's cells up to its title cell start with a course code (which is the code?)."""
    count = 0
    for cell in cells:
        code = matcher.at_start(cell)
        count += code is not None
        if looks_like_title(cell[code.end :] if code else cell):
            break
    return count


def _table_columns(items: Sequence[_Item], rows: set[int]) -> dict[int, Columns | None]:
    """The header columns that apply to each table row: the header above a table's first row, carried
    on to later rows and to tables continuing on the next page without a header of their own."""
    current: Columns | None = None
    found: dict[int, Columns | None] = {}
    for index in sorted(rows):
        if index - 1 not in rows:
            above = [
                items[i].line
                for i in range(max(0, index - TABLE_HEADER_REACH), index)
                if items[i].page == items[index].page and i not in rows
            ]
            current = header_columns(above) or current
        found[index] = current
    return found


def _usual_code(code: CodeMatch, separator: str) -> tuple[str, str | None]:
    """The code with the catalog's usual separator when OCR lost or changed it, and the reason."""
    if code.sep == separator or separator == "" or code.sep not in ("", " ", "-"):
        return code.code, None
    return f"{code.subject}{separator}{code.number}", f"code separator normalised from {code.code!r}"


# ---------------------------------------------------------------------------------------------
# entry fields


def _bold_run(items: Sequence[_Item], indices: Sequence[int]) -> int | None:
    """Length of the leading bold run of the paragraph's joined text, or ``None`` without font info."""
    lines = [items[i].line for i in indices]
    if lines[0].bold_chars is None or not lines[0].bold_chars:
        return None
    texts: list[str] = []
    for line in lines:
        bold = min(line.bold_chars or 0, len(line.text.rstrip()))
        texts.append(line.text[:bold])
        if bold < len(line.text.rstrip()):
            break
    return len(join_lines(texts))


def split_header(text: str, bold: int | None = None) -> tuple[str | None, Credits | None, str]:
    """Title, credits and the rest (run-in description) of a header paragraph without its code.

    ``bold`` is the length of the header's leading bold run, where the text layer says so.
    """
    cells = _cells(text)
    if len(cells) > 1 and bold is None:
        credits = next((cr for c in cells if (cr := find_credits(c) or trailing_number(c))), None)
        title = next((_strip_punct(c) for c in cells if looks_like_title(c)), None)
        return title, credits, ""
    text = clean_text(text)
    if bold is not None and 0 < bold <= len(text):
        head, tail = text[:bold], text[bold:].strip()
        credits = find_credits(head)
        if credits is not None:
            head = head[: credits.start]
        elif (number := trailing_number(head)) is not None and number.start > 0:
            credits, head = number, head[: number.start]
        if credits is None and (found := find_credits(tail)) is not None and found.start <= 2:
            credits, tail = found, tail[found.end :]
        return _strip_punct(head) or None, credits, tail.lstrip(" .)|")
    credits = find_credits(text)
    if credits is not None and credits.start <= HEADER_REACH:
        before = _strip_punct(text[: credits.start])
        if _is_title_like(before):
            return before, credits, text[credits.end :].lstrip(" .)|")
    number = trailing_number(text)
    if number is not None and _is_title_like(_strip_punct(text[: number.start])):
        return _strip_punct(text[: number.start]), number, ""
    first, dot, after = text.partition(". ")
    if dot and _is_title_like(first):
        return first.strip(), None, after.strip()
    words = text.split()
    keep = _title_case_prefix(words)
    if keep in (0, len(words)):
        return (text.strip(" .") or None), None, ""
    return " ".join(words[:keep]), None, " ".join(words[keep:])


def _header(
    items: Sequence[_Item], paragraphs: list[list[int]], start: _Start, matcher: CodeMatcher
) -> tuple[str | None, Credits | None, str, int]:
    """Title, credits, run-in description and how many paragraphs the header used."""
    if "alone" in start.style and len(paragraphs) > 1:
        indices = paragraphs[1]
        text = join_lines([items[i].line.text for i in indices])
        if len(indices) == 1 and len(paragraphs) > 2 and not text.endswith("."):
            return _strip_punct(text), None, "", 2  # a title line of its own
        return (*split_header(text, _bold_run(items, indices)), 2)
    indices = paragraphs[0]
    first = items[indices[0]]
    raw = unicodedata.normalize("NFKC", first.line.text).strip()
    code = matcher.at_start(raw)
    end = code.end if code is not None else 0
    cell_credits = _credits_cell(raw[end:])
    if cell_credits is not None:
        raw = raw[:end]  # ``CS 101<tab>3``: the credits have their own cell; the title follows the code line
    if "\t" in raw[end:].strip():
        title, credits, leftover = split_header(raw[end:].strip(" .:-–—\t"))
    else:
        text = join_lines([raw] + [items[i].line.text for i in indices[1:]])
        prefix = clean_text(raw[:end])
        rest = text[len(prefix) :].lstrip(" .:-–—|")
        bold = _bold_run(items, indices) if _code_is_bold(first.line, start.code) else None
        if bold is None and "large" in start.style and first.line.bold_chars is None:
            bold = len(text)  # an OCR'd heading set large: all of it is the title (and its credits)
        if bold is not None:
            bold -= len(text) - len(rest)
        title, credits, leftover = split_header(rest, bold if bold and bold > 0 else None)
    credits = credits or cell_credits
    if title is not None and not looks_like_title(title):
        title = None  # a column value (``HPA-PUB``): the title is run in below
    if title is None and "\t" in raw[end:].strip() and len(indices) > 1:
        run_in = _run_in_title(items, indices[1:])  # the title's bold run went on from the code line
        if run_in is not None:
            return run_in[0], credits, run_in[1], 1
        if len(paragraphs) > 1 and first.line.bold_chars is None:  # OCR: a wrapped ``Title:`` lead
            run_in = _run_in_title(items, indices[1:] + paragraphs[1])
            if run_in is not None:
                return run_in[0], credits, run_in[1], 2
    if title is None and len(paragraphs) > 1 and (run_in := _run_in_title(items, paragraphs[1])) is not None:
        return run_in[0], credits, run_in[1], 2
    return title, credits, leftover, 1


def _credits_cell(after_code: str) -> Credits | None:
    """The credits when all that follows the code on its line is one cell holding only them (``\t3``,
    ``\t1-3 credits``): without this the value was read as the start of the title (``3 Data Structures``)."""
    cell = after_code.strip()
    if "\t" not in after_code or "\t" in cell or not cell:
        return None
    credits = find_credits(cell) or trailing_number(cell)
    return credits if credits is not None and credits.start == 0 and credits.end == len(cell) else None


def _run_in_title(items: Sequence[_Item], indices: list[int]) -> tuple[str, str] | None:
    """A title run into the paragraph after a code line: its bold run, else a ``Title:`` lead."""
    text = join_lines([items[i].line.text for i in indices])
    bold = _bold_run(items, indices)
    if bold is not None and 0 < bold <= len(text):
        return _strip_punct(text[:bold]), text[bold:].strip()
    found = None
    for colon in re.finditer(r":(?:\s+|$)", text[:MAX_TITLE_LENGTH]):  # the longest ``Title: Subtitle:`` lead
        lead = text[: colon.start()]
        last = lead.rsplit(":", 1)[-1].strip()
        if not re.match(r"^[A-Z][^.;]{2,}$", lead) or SECTION_LABEL.match(last) or not _is_title_like(lead):
            break
        found = (lead.strip(), text[colon.end() :])
    return found


def _is_heading(item: _Item, indices: Sequence[int]) -> bool:
    """A one-line paragraph that reads like a heading (short, no sentence punctuation)."""
    return (
        len(indices) == 1
        and len(item.text.split()) <= 8
        and not item.text.endswith((".", ",", ";", ":"))
        and not FIELD.match(item.text)
    )


def _ocr_heading(item: _Item) -> bool:
    """Without font information (OCR), a line of one to three capitalised words is a section heading
    (``Literature``): the bold that marks it in print is lost."""
    words = item.text.split()
    return item.line.bold_chars is None and 1 <= len(words) <= 3 and all(w[:1].isupper() for w in words)


def _prominent(item: _Item, layout: _Layout) -> bool:
    return item.line.bold or item.scale > 1.08 * layout.body_scale


def _entry_end(items: Sequence[_Item], paragraphs: list[list[int]], start: _Start, layout: _Layout) -> int:
    """How many paragraphs belong to the entry: it ends at a heading as prominent as its start."""
    first = items[start.index]
    for position, indices in enumerate(paragraphs[1:], 1):
        item = items[indices[0]]
        if "alone" in start.style and position == 1:
            continue
        if (
            _is_heading(item, indices)
            and _prominent(item, layout)
            and item.scale >= 0.97 * first.scale
            and not find_credits(item.text)
        ):
            return position
    return len(paragraphs)


def _section(text: str, profile: CatalogProfile) -> str:
    if _label_in(text, profile.prerequisite_labels):
        return "prerequisites"
    if _label_in(text, profile.description_labels):
        return "description"
    if _label_in(text, profile.credit_labels):
        return "credits"
    return "other"


def _read_fields(
    items: Sequence[_Item], paragraphs: Sequence[list[int]], fields: _Fields, profile: CatalogProfile, layout: _Layout
) -> None:
    """Fill ``fields`` from the paragraphs after the header."""
    section = "description"
    headed = False
    for indices in paragraphs:
        text = join_lines([items[i].line.text for i in indices])
        item = items[indices[0]]
        label = FIELD.match(text)
        credits = find_credits(text)
        if (
            credits is not None
            and credits.start <= len(text.split()[0]) + 8
            and fields.credits is None
            and len(text) < 40
            and (label is None or _section(label.group("label"), profile) == "credits")
        ):
            fields.credits = credits
            continue
        if credits is not None and credits.start == 0 and fields.credits is None:
            fields.credits = credits  # a paragraph led by the credits (``Credits 3. 3 Lecture Hours. ...``)
            text = text[credits.end :].lstrip(" .;")
            label = FIELD.match(text)
        if "\t" in items[indices[0]].line.text.strip() and len(indices) == 1:
            continue  # a table row (its credits were read above)
        if label is not None:
            kind = _section(label.group("label"), profile)
            value = label.group("value")
            inline = profile.inline_prerequisite_pattern.search(value) if kind == "other" else None
            if inline is not None:  # ``Coreq: CSCE 230L. Prereq: CSCE 150.``
                kind, value = "prerequisites", value[inline.end() :]
            if kind == "prerequisites":
                prerequisite, after = split_prerequisite(value)
                fields.prerequisites.append(prerequisite)
                fields.description += [after] if after else []
            elif kind == "description":
                fields.description.append(value)
            elif kind == "credits" and fields.credits is None:
                fields.credits = find_credits(text) or trailing_number(value)
            if headed:
                section = "other"
            continue
        if _is_heading(item, indices) and (
            _prominent(item, layout) or _section(text, profile) != "other" or _ocr_heading(item)
        ):
            section, headed = _section(text, profile), True
            continue
        if section == "description":
            fields.description.append(text)
        elif section == "prerequisites":
            fields.prerequisites.append(text)
        elif section == "credits" and fields.credits is None:
            fields.credits = find_credits(text) or trailing_number(text)


def ocr_title_fixes(title: str | None) -> str | None:
    """Undo OCR's usual confusions in a title's closing Roman numeral: ``Il`` -> ``II``, ``CalculusI`` ->
    ``Calculus I`` (OCR'd titles only: a text layer spells what is printed)."""
    if not title:
        return title
    title = re.sub(r"(?<=\s)([Il]{2,3})$", lambda m: "I" * len(m.group(1)), title)
    return re.sub(r"(?<=[a-z]{4})(II?I?|IV|VI{0,3})$", r" \1", title)


def _without_cross_listing(title: str | None) -> str | None:
    """The title without a trailing cross-listing (``Digital Logic Design (ELEC 370)``), also one cut off
    at the line end (``Water Quality Strategy (AGRO, CRPL, GEOL``)."""
    if title is None:
        return None
    trimmed = CROSS_LISTING_END.sub("", title).strip()
    return trimmed or title


def _entry_fields(
    items: Sequence[_Item],
    paragraphs: list[list[int]],
    start: _Start,
    matcher: CodeMatcher,
    profile: CatalogProfile,
    layout: _Layout,
    columns: Columns | None,
) -> _Fields:
    if "row" in start.style:
        index = start.index
        below = []
        for item in items[index + 1 : index + 1 + TABLE_HEADER_REACH]:
            if item.page != items[index].page or code_cell(item.line, matcher) is not None:
                break
            below.append(item.line)
        line = continue_row(items[index].line, below)
        doubts = []
        if is_merged_row(line):  # its name and credits are merged cells printed above it
            for item in reversed(items[max(0, index - TABLE_HEADER_REACH) : index]):
                if item.page != items[index].page or item.line.bold or code_cell(item.line, matcher) is not None:
                    break
                if not is_merged_row(item.line):
                    line = continue_row(items[index].line, below, [item.line])
                    doubts.append("name or credits read from cells merged with the row above")
                    break
        if _code_cells_before_title(_cells(items[index].line.text), matcher) > 1:
            doubts.append("the row has more than one code-like cell")
        found = code_cell(line, matcher)
        index, end = (found[0], found[1].end) if found else (0, 0)
        title, credits, prerequisites = row_fields(line, index, end, columns, looks_like_title)
        if line.bold_chars is None:
            title = ocr_title_fixes(title)
        return _Fields(
            title=_strip_punct(title) if title else None,
            credits=credits,
            prerequisites=[prerequisites] if prerequisites else [],
            doubts=doubts,
        )
    title, credits, leftover, used = _header(items, paragraphs, start, matcher)
    if items[start.index].line.bold_chars is None:
        title = ocr_title_fixes(title)
    fields = _Fields(title=_without_cross_listing(title), credits=credits, description=[leftover] if leftover else [])
    if {"bold", "alone"} <= start.style and len(paragraphs) > 1 and not items[paragraphs[1][0]].line.bold_chars:
        fields.doubts.append("title not set in bold like its code (it may be the description's first words)")
    _read_fields(items, paragraphs[used:], fields, profile, layout)
    description = join_lines(fields.description)
    inline = profile.inline_prerequisite_pattern.search(description)
    if inline is not None:
        prerequisite, after = split_prerequisite(description[inline.end() :])
        fields.prerequisites.insert(0, prerequisite)
        description = f"{description[: inline.start()]} {after}"
    fields.description = [description.strip()] if description.strip(" .") else []
    return fields


# ---------------------------------------------------------------------------------------------
# confidence


@dataclass(frozen=True)
class _Catalog:
    """What most entries of this catalog have, so that an entry without it stands out."""

    credits: float
    description: float
    style: frozenset[str] | None
    shape: tuple[str, int] | None
    digits: int | None
    """The usual count of digits in a course number (a truncated code has fewer)."""


def _catalogs(drafts: Sequence[tuple[_Start, _Fields, list[int]]]) -> Iterator[tuple[_Catalog, str]]:
    """For each entry, what its neighbours usually have (a catalog's sections may differ in style),
    and their usual code separator."""
    starts = [start for start, _, _ in drafts]
    features = zip(
        windows([f.credits is not None for _, f, _ in drafts]),
        windows([bool(f.description) for _, f, _ in drafts]),
        windows([s.style for s in starts]),
        windows([s.shape for s in starts]),
        windows([_digits(s.code) for s in starts]),
        windows([s.code.sep for s in starts]),
    )
    for credits, described, style, shape, digits, separator in features:
        total = credits.total()
        yield (
            _Catalog(credits[True] / total, described[True] / total, _most(style), _most(shape), _usual(digits)),
            _most(separator),
        )


def title_doubts(title: str | None) -> list[str]:
    """Why a title may be wrong: the shapes a wrongly chosen title takes in real catalogs."""
    if not title:
        return ["no title found"]
    bare = title.strip()
    if len(bare) <= 2:
        return ["title is one or two characters"]
    doubts = []
    if not looks_like_title(bare) and find_credits(bare) is None:
        doubts.append("title looks like a code or a column value")
    if LABEL_VALUE.match(bare):
        doubts.append("title looks like a label and its value")
    if bare[:1].islower():
        doubts.append("title starts mid-sentence")
    if find_credits(bare) is not None or BARE_PARENTHESISED.search(bare):
        doubts.append("title contains a credit notation")
    if OPEN_END.search(bare) and not bare.endswith((")", "&")):
        doubts.append("title looks cut off")
    if CODE_IN_TITLE.search(bare):
        doubts.append("title contains a course code")
    if re.search(r"\s\d+(?:\.\d+)?$", bare):
        doubts.append("title ends with a number (a column value may have run into it)")
    if len(bare) > MAX_TITLE_LENGTH:
        doubts.append(f"title longer than {MAX_TITLE_LENGTH} characters")
    return doubts


def _score(start: _Start, fields: _Fields, confidences: Sequence[float], catalog: _Catalog) -> tuple[float, list[str]]:
    """Parse confidence in [0, 1] from the entry's evidence, and the reasons it falls short.

    Every reason is a doubt a reviewer should settle: an entry with any reason is flagged."""
    score = 0.55 + min(start.score, 4) * 0.05
    reasons = title_doubts(fields.title)
    score += 0.15 if not reasons else -0.15 * len(reasons)
    reasons += fields.doubts
    score -= 0.1 * len(fields.doubts)
    if fields.credits is not None or catalog.credits < 0.5:
        score += 0.1
    else:
        reasons.append("no credits found (most entries in this catalog have them)")
    if fields.description or catalog.description < 0.5:
        score += 0.05
    if catalog.style is not None and start.style != catalog.style:
        score -= 0.1
        reasons.append("entry start differs from this catalog's usual style")
    if catalog.shape is not None and start.shape[1] != catalog.shape[1]:
        score -= 0.1
        reasons.append("course code shape differs from this catalog's usual shape")
    if catalog.digits and _digits(start.code) < catalog.digits:
        score -= 0.1
        reasons.append(f"course number has {_digits(start.code)} digits where this catalog's have {catalog.digits}")
    mean = sum(confidences) / len(confidences) if confidences else 1.0
    lowest = min(confidences, default=1.0)
    score = max(0.0, min(1.0, score))
    if mean < 1.0:
        score *= 0.5 + 0.5 * mean
    if mean < MIN_OCR_LINE_CONFIDENCE:
        reasons.append(f"low OCR confidence ({mean:.2f})")
    if lowest < MIN_OCR_WORD_CONFIDENCE:
        score -= 0.1
        reasons.append(f"a line was read with confidence {lowest:.2f}")
    return round(max(0.0, score), 4), reasons


def _usual(counts: Counter[int]) -> int | None:
    """The value most entries share, when at least 80% do (else the catalog has no usual one)."""
    value = _most(counts)
    return value if counts[value] >= 0.8 * counts.total() else None


def _digits(code: CodeMatch) -> int:
    return len(code.number) - len(code.number.lstrip("0123456789"))


# ---------------------------------------------------------------------------------------------


def parse_pages(pages: Sequence[PageResult], profile: CatalogProfile | None = None) -> list[CourseEntry]:
    """Course entries found in ``pages`` (a whole document, pages in order)."""
    profile = profile or CatalogProfile()
    matcher = CodeMatcher(profile.code_pattern)
    items = body_lines(pages)
    layout = _layout(items)
    starts = find_starts(items, matcher, layout)
    columns = _table_columns(items, {s.index for s in starts if "row" in s.style})
    methods = {page.ref.page: page.method for page in pages}
    drafts = []
    for position, start in enumerate(starts):
        end = starts[position + 1].index if position + 1 < len(starts) else len(items)
        if "row" in start.style:
            end = start.index + 1  # a table row is its own entry
        paragraphs = _paragraphs(items, start.index, end, layout)
        paragraphs = paragraphs[: _entry_end(items, paragraphs, start, layout)]
        used = [i for group in paragraphs for i in group]
        fields = _entry_fields(items, paragraphs, start, matcher, profile, layout, columns.get(start.index))
        drafts.append((start, fields, used))
    forms = _form_entries(items, {items[s.index].page for s, _, _ in drafts}, profile, layout, methods)
    if not drafts:
        return forms
    entries = []
    for (start, fields, used), (catalog, separator) in zip(drafts, _catalogs(drafts)):
        item = items[start.index]
        score, reasons = _score(start, fields, [items[i].line.confidence for i in used], catalog)
        code, renamed = start.code.code, None
        if methods.get(item.page, "text-layer").startswith("ocr:"):  # a text layer spells codes as printed
            code, renamed = _usual_code(start.code, separator)
        reasons += [renamed] if renamed else []
        boxes = [items[i].line.box for i in used if items[i].page == item.page]
        prerequisites = join_lines(fields.prerequisites).strip() if fields.prerequisites else None
        entries.append(
            CourseEntry(
                course_code=code,
                subject=start.code.subject,
                number=start.code.number,
                title=fields.title or None,
                credits_min=fields.credits.low if fields.credits else None,
                credits_max=fields.credits.high if fields.credits else None,
                description=fields.description[0] if fields.description else None,
                prerequisites=prerequisites or None,
                page=item.page,
                box=(
                    min(b[0] for b in boxes),
                    min(b[1] for b in boxes),
                    max(b[2] for b in boxes),
                    max(b[3] for b in boxes),
                ),
                confidence=score,
                reasons=tuple(reasons),
                extraction_method=methods.get(item.page, "text-layer"),
            )
        )
    return sorted(entries + forms, key=lambda entry: entry.page)


def _form_entries(
    items: Sequence[_Item], covered: set[int], profile: CatalogProfile, layout: _Layout, methods: dict[int, str]
) -> list[CourseEntry]:
    """Entries of form pages (one unit per page) among the pages no other entry starts on."""
    entries = []
    for page in sorted({item.page for item in items} - covered):
        lines = [item.line for item in items if item.page == page]
        form = read_form(
            lines, layout.body_scale, profile.title_labels, profile.credit_labels, profile.prerequisite_labels
        )
        if form is None:
            continue
        reasons = title_doubts(form.title) + ([] if form.credits else ["no credits found on a form page"])
        confidences = [line.confidence for line in lines]
        mean = sum(confidences) / len(confidences)
        if mean < MIN_OCR_LINE_CONFIDENCE:
            reasons.append(f"low OCR confidence ({mean:.2f})")
        entries.append(
            CourseEntry(
                course_code=form.code,
                subject="",
                number=form.code,
                title=form.title,
                credits_min=form.credits.low if form.credits else None,
                credits_max=form.credits.high if form.credits else None,
                description=None,
                prerequisites=form.prerequisites,
                page=page,
                box=(
                    min(line.box[0] for line in lines),
                    min(line.box[1] for line in lines),
                    max(line.box[2] for line in lines),
                    max(line.box[3] for line in lines),
                ),
                confidence=round(max(0.0, (0.9 if not reasons else 0.6) * mean), 4),
                reasons=tuple(reasons),
                extraction_method=methods.get(page, "text-layer"),
            )
        )
    return entries


def page_doubts(
    pages: Sequence[PageResult],
    entries: Sequence[CourseEntry],
    profile: CatalogProfile | None = None,
    min_code_lines: int = MIN_CODE_LINES,
) -> dict[int, list[str]]:
    """Pages with course-like text that the entries do not cover, with the reason.

    A line that begins with a course code (or a table row with a code cell) looks like an entry;
    a page with at least ``min_code_lines`` of them and entries for fewer than
    :data:`MIN_PAGE_COVERAGE` of them is flagged: its entries were probably missed.
    """
    matcher = CodeMatcher((profile or CatalogProfile()).code_pattern)
    found = Counter(entry.page for entry in entries)
    lines: Counter[int] = Counter()
    credits: Counter[int] = Counter()
    fields: Counter[int] = Counter()
    for page, body in _page_bodies(pages):
        for line in body:
            text = clean_text(line.text)
            if matcher.at_start(text) is not None or code_cell(line, matcher) is not None:
                lines[page] += 1
            if not found[page]:  # a form is a page without entries
                credits[page] += find_credits(text) is not None
                fields[page] += sum(1 for cell in _cells(line.text) if FIELD_LABEL.match(cell))
    doubts = {
        page: [f"course-like text: {count} lines start with a course code but {found[page]} entries were parsed"]
        for page, count in lines.items()
        if count >= min_code_lines and found[page] < MIN_PAGE_COVERAGE * count
    }
    for page in credits.keys() - doubts.keys():
        if not found[page] and credits[page] and fields[page] >= MIN_FORM_FIELDS:
            doubts[page] = [f"course-like text: a credit notation and {fields[page]} form fields but no entry parsed"]
    for result in pages:
        number = result.ref.page
        codes = matcher.count_in(result.text.text)
        if number not in doubts and not found[number] and codes >= MIN_CODES_ANYWHERE:
            doubts[number] = [f"course-like text: {codes} course codes but no entry parsed"]
    return dict(sorted(doubts.items()))
