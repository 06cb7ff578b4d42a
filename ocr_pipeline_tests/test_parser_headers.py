"""Entry headers: how a course's title, credits and run-in description are read from its first
paragraphs, and the text helpers that decide what reads like a title.

Small hand-built lines; private helpers are called directly where that pins a rule most clearly.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from ocr_pipeline.catalog.codes import CodeMatch, CodeMatcher
from ocr_pipeline.catalog.credits import Credits
from ocr_pipeline.catalog.parser import (
    _bold_run,
    _header,
    _is_heading,
    _is_title_like,
    _Item,
    _label_in,
    _run_in_title,
    _sentences,
    _Start,
    _title_case_prefix,
    _usual_code,
    clean_text,
    join_lines,
    looks_like_title,
    parse_pages,
    split_header,
    split_prerequisite,
    title_doubts,
)
from ocr_pipeline.models import Line, PageRef, PageResult, PageText

MATCHER = CodeMatcher()
RIGHT = 1100.0

Header = tuple[str | None, tuple[float | None, float | None] | None, str, int]


def _line(text: str, bold: int | None = None, size: float | None = 10.0) -> Line:
    """A line as a text layer (``size``, ``bold_chars``) or OCR (both ``None``) gives it."""
    return Line(text, (100.0, 0.0, 100.0 + 9 * len(text), 18.0), 1.0, size, bold)


def _items(*lines: Line) -> list[_Item]:
    return [_Item(1, line, clean_text(line.text), RIGHT) for line in lines]


def _credits(credits: Credits | None) -> tuple[float | None, float | None] | None:
    return None if credits is None else (credits.low, credits.high)


def _read_header(lines: Iterable[Line], paragraphs: list[list[int]], style: Iterable[str] = ()) -> Header:
    """``_header`` for an entry starting at the first line, with credits as (low, high)."""
    items = _items(*lines)
    code = MATCHER.at_start(items[0].text)
    assert code is not None
    start = _Start(0, code, 3, frozenset(style), (code.sep, code.subject.count("-")))
    title, credits, rest, used = _header(items, paragraphs, start, MATCHER)
    return title, _credits(credits), rest, used


def _split(text: str, bold: int | None = None) -> tuple[str | None, tuple[float | None, float | None] | None, str]:
    title, credits, rest = split_header(text, bold)
    return title, _credits(credits), rest


def _title_case(length: int) -> str:
    """A Title Case title of exactly ``length`` characters."""
    title = "Topics"
    while len(title) + 7 <= length:
        title += " Topics"
    if len(title) < length:
        title += " A" + "b" * (length - len(title) - 2)
    assert len(title) == length
    return title


# ---------------------------------------------------------------------------------------------
# a code on a line of its own, its title in the next paragraph


def test_a_code_alone_takes_its_title_from_the_next_paragraph() -> None:
    """``CS 101`` / ``Data Structures``: the second paragraph is the header (two paragraphs used)."""
    lines = [_line("CS 101", 6), _line("Data Structures", 0)]
    assert _read_header(lines, [[0], [1]], {"alone"}) == ("Data Structures", None, "", 2)


def test_a_code_alone_with_its_title_in_the_same_paragraph() -> None:
    """A code line and its title read as one paragraph: the title follows the code, one paragraph used."""
    lines = [_line("CS 101", 6), _line("Data Structures", 0)]
    assert _read_header(lines, [[0, 1]], {"alone"}) == ("Data Structures", None, "", 1)


def test_a_title_line_of_its_own_is_kept_whole_even_in_sentence_case() -> None:
    """A one-line title paragraph before the description is all title, not a Title Case guess."""
    lines = [_line("CS 101", 6), _line("Seminar in the history of science", 0), _line("Students read books.", 0)]
    assert _read_header(lines, [[0], [1], [2]], {"alone"}) == ("Seminar in the history of science", None, "", 2)


def test_a_lone_header_paragraph_still_gives_up_its_credits() -> None:
    """With nothing after it, the line under the code is a header to split: its credits are read."""
    lines = [_line("CS 101", 6), _line("Data Structures (3 credits)", 0)]
    assert _read_header(lines, [[0], [1]], {"alone"}) == ("Data Structures", (3.0, 3.0), "", 2)


def test_a_title_line_ending_in_a_full_stop_is_split_from_its_description() -> None:
    """``Data Structures. Trees and graphs.`` under a code is a title run into its description."""
    lines = [_line("CS 101", 6), _line("Data Structures. Trees and graphs.", 0), _line("More.", 0)]
    assert _read_header(lines, [[0], [1], [2]], {"alone"}) == ("Data Structures", None, "Trees and graphs.", 2)


def test_the_bold_run_under_a_lone_code_is_the_title() -> None:
    """The title's bold run under a code line decides where the title ends, Title Case or not."""
    text = "Seminar in the history of science Students read books."
    lines = [_line("CS 101", 6), _line(text, len("Seminar in the history of science"))]
    assert _read_header(lines, [[0], [1]], {"alone"}) == (
        "Seminar in the history of science",
        None,
        "Students read books.",
        2,
    )


# ---------------------------------------------------------------------------------------------
# the code and title on one line


def test_a_bold_code_line_takes_its_title_from_the_bold_run() -> None:
    """``CS 101 Seminar in ...`` in bold, then plain text: the bold run after the code is the title."""
    text = "CS 101 Seminar in the history of science. Students read books."
    lines = [_line(text, len("CS 101 Seminar in the history of science"))]
    assert _read_header(lines, [[0]], {"bold"}) == (
        "Seminar in the history of science",
        None,
        "Students read books.",
        1,
    )


def test_punctuation_after_the_code_is_not_part_of_the_title() -> None:
    """``CS 101. Data Structures. Trees ...`` without fonts: the title is between the full stops."""
    lines = [_line("CS 101. Data Structures. Trees and graphs.", None, None)]
    assert _read_header(lines, [[0]]) == ("Data Structures", None, "Trees and graphs.", 1)


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("CS 101 XML Databases", ()),
        ("CS 101\tXML Databases\t3", ("cells",)),
    ],
)
def test_a_title_starting_with_x_keeps_its_first_letter(text: str, style: tuple[str, ...]) -> None:
    """Only spaces and punctuation are cut between the code and the title (``XML``, not ``ML``)."""
    title, _, _, _ = _read_header([_line(text, None, None)], [[0]], style)
    assert title == "XML Databases"


@pytest.mark.parametrize("text", ["CS 101\tData Structures\tLecture\t3", "CS 101\tData Structures\t3."])
def test_a_code_line_with_cells_reads_title_and_credits_cells(text: str) -> None:
    """``CS 101 | Data Structures | Lecture | 3``: the title cell and the credits cell (its closing full stop
    dropped), not the joined text."""
    assert _read_header([_line(text, None, None)], [[0]], {"cells"}) == ("Data Structures", (3.0, 3.0), "", 1)


def test_an_ocr_heading_set_large_is_all_title() -> None:
    """An OCR'd code line set large (no font info) is a heading: all of it is the title."""
    lines = [_line("CS 101 Seminar in the history of science", None, None)]
    assert _read_header(lines, [[0]], {"large"}) == ("Seminar in the history of science", None, "", 1)


def test_an_ocr_heading_set_large_gives_its_credits() -> None:
    """The large OCR heading's credits are split off its title; the next paragraph is not header."""
    lines = [_line("CS 101 Seminar in the history of science (3 credits)", None, None), _line("Students read.", None)]
    assert _read_header(lines, [[0], [1]], {"large"}) == ("Seminar in the history of science", (3.0, 3.0), "", 1)


def test_a_large_text_layer_line_without_bold_is_not_all_title() -> None:
    """With fonts known and no bold, a large line's title ends where its Title Case run ends."""
    lines = [_line("CS 101 Data Structures Trees and graphs are studied.", 0, 14.0)]
    assert _read_header(lines, [[0]], {"large"}) == ("Data Structures", None, "Trees and graphs are studied.", 1)


def test_a_bold_title_wrapped_onto_the_next_line_is_one_title() -> None:
    """``CS 101 Data Structures and`` / ``Algorithms.`` in bold: the wrapped bold run is the whole title."""
    first = "CS 101 Data Structures and"
    lines = [_line(first, len(first)), _line("Algorithms. Students learn trees.", len("Algorithms."))]
    assert _read_header(lines, [[0, 1]], {"bold"}) == (
        "Data Structures and Algorithms",
        None,
        "Students learn trees.",
        1,
    )


@pytest.mark.parametrize("label", ["Learning Outcomes:", "Learning Outcomes: Students will write programs."])
def test_a_labelled_paragraph_after_a_found_title_is_not_a_title(label: str) -> None:
    """Once the code line gave the title, a bold ``Label:`` lead in the next paragraph is a field, not
    another title."""
    lines = [
        _line("CS 101 Data Structures (3 credits)", len("CS 101 Data Structures")),
        _line("Learning Outcomes: Students will write programs.", len(label)),
    ]
    assert _read_header(lines, [[0], [1]], {"bold"}) == ("Data Structures", (3.0, 3.0), "", 1)


@pytest.mark.parametrize(("bold", "size"), [(15, 10.0), (None, None)])
def test_a_title_run_in_below_a_code_line_with_a_column_value(bold: int | None, size: float | None) -> None:
    """``HPA 101 HPA-PUB`` (no cells), then ``Public Policy: ...``: the title is the next paragraph's lead."""
    lines = [
        _line("HPA 101 HPA-PUB", bold, size),
        _line("Public Policy: Students study policy.", 14 if bold else None, size),
    ]
    assert _read_header(lines, [[0], [1]], {"bold"} if bold else ()) == (
        "Public Policy",
        None,
        "Students study policy.",
        2,
    )


# ---------------------------------------------------------------------------------------------
# a column value on the code line, the title run in below


def test_a_bold_title_run_on_below_a_code_line_with_a_column_value() -> None:
    """``HPA 101 | HPA-PUB | 3`` then a bold ``Public Policy:`` in the same paragraph: that is the title."""
    lines = [_line("HPA 101\tHPA-PUB\t3", 18), _line("Public Policy: Students study policy.", 14)]
    assert _read_header(lines, [[0, 1]], {"bold", "cells"}) == (
        "Public Policy",
        (3.0, 3.0),
        "Students study policy.",
        1,
    )


def test_a_bold_title_in_the_next_paragraph_after_a_column_value() -> None:
    """The same title read from the next paragraph: two paragraphs used."""
    lines = [_line("HPA 101\tHPA-PUB\t3", 18), _line("Public Policy: Students study policy.", 14)]
    assert _read_header(lines, [[0], [1]], {"bold", "cells"}) == (
        "Public Policy",
        (3.0, 3.0),
        "Students study policy.",
        2,
    )


def test_an_ocr_title_lead_wrapped_into_the_next_paragraph() -> None:
    """OCR, no bold: ``Public Policy and`` / ``Administration:`` is one wrapped ``Title:`` lead."""
    lines = [
        _line("HPA 101\tHPA-PUB\t3", None, None),
        _line("Public Policy and", None, None),
        _line("Administration: Students study policy.", None, None),
    ]
    assert _read_header(lines, [[0, 1], [2]], {"cells"}) == (
        "Public Policy and Administration",
        (3.0, 3.0),
        "Students study policy.",
        2,
    )


def test_no_title_when_only_a_column_value_and_prose_follow() -> None:
    """A column value is not a title, and prose without a ``Title:`` lead gives none either."""
    lines = [_line("HPA 101\tHPA-PUB\t3", None, None), _line("Students study policy.", None, None)]
    assert _read_header(lines, [[0, 1]], {"cells"}) == (None, (3.0, 3.0), "", 1)


# ---------------------------------------------------------------------------------------------
# run-in titles


def _run_in(*lines: Line) -> tuple[str, str] | None:
    return _run_in_title(_items(*lines), list(range(len(lines))))


def test_a_bold_run_is_a_run_in_title() -> None:
    """The bold run (its full stop dropped) is the title, the rest the description."""
    text = "Data Structures. Students learn trees."
    assert _run_in(_line(text, len("Data Structures."))) == ("Data Structures", "Students learn trees.")


def test_a_bold_run_over_wrapped_lines_is_one_title() -> None:
    """A bold title wrapped over two lines, the second partly bold."""
    first, second = "Data Structures and", "Algorithms Students learn trees."
    assert _run_in(_line(first, len(first)), _line(second, len("Algorithms"))) == (
        "Data Structures and Algorithms",
        "Students learn trees.",
    )


def test_an_all_bold_paragraph_is_all_title() -> None:
    """A paragraph bold to its end is all title, with no description."""
    assert _run_in(_line("Data Structures", 15)) == ("Data Structures", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Data Structures: Students learn trees.", ("Data Structures", "Students learn trees.")),
        ("Data Structures:", ("Data Structures", "")),
        (
            "Topics in Art: Modern Painting: Students paint.",
            ("Topics in Art: Modern Painting", "Students paint."),
        ),
        ("Data Structures: Prerequisites: MATH 101.", ("Data Structures", "Prerequisites: MATH 101.")),
        (
            "Topics in Art: Modern Painting: Prerequisites: ART 101.",
            ("Topics in Art: Modern Painting", "Prerequisites: ART 101."),
        ),
        ("Data Structures: Credit Hours: 3", ("Data Structures", "Credit Hours: 3")),
        ("Art: Students paint.", ("Art", "Students paint.")),
        ("Ar: Students paint.", None),
        ("Dr. Smith: Students paint.", None),
        ("Students learn: trees.", None),
        ("Data Structures:Trees", None),
        ("Prerequisites: MATH 101.", None),
    ],
)
def test_a_title_lead_ends_at_its_colon(text: str, expected: tuple[str, str] | None) -> None:
    """Without bold, a Title Case ``Title:`` lead of three letters or more is the title (the longest one,
    stopping at a field label); a sentence, a label or a colon inside a word is not."""
    assert _run_in(_line(text, 0)) == expected


def test_a_title_lead_is_looked_for_only_within_a_title_length() -> None:
    """A colon 149 characters in can end a title; one past the title length cannot."""
    near, far = _title_case(149), _title_case(151)
    found = _run_in(_line(f"{near}: Students paint.", None, None))
    assert found is not None and (found[0], found[1].strip()) == (near, "Students paint.")
    assert _run_in(_line(f"{far}: Students paint.", None, None)) is None


# ---------------------------------------------------------------------------------------------
# split_header


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Data Structures\t3", ("Data Structures", (3.0, 3.0), "")),
        ("3 credits\tData Structures", ("Data Structures", (3.0, 3.0), "")),
        ("Data Structures\t3\tLecture", ("Data Structures", (3.0, 3.0), "")),
        ("HPA-PUB\t3", (None, (3.0, 3.0), "")),
        ("Data Structures\tLecture", ("Data Structures", None, "")),
    ],
)
def test_header_cells(text: str, expected: tuple) -> None:
    """A header in cells: the first title-like cell and the first cell with credits."""
    assert _split(text) == expected


@pytest.mark.parametrize(
    ("text", "bold", "expected"),
    [
        (
            "Data Structures (3 credits) Students learn trees.",
            27,
            ("Data Structures", (3.0, 3.0), "Students learn trees."),
        ),
        ("Data Structures 3 Students learn.", 17, ("Data Structures", (3.0, 3.0), "Students learn.")),
        ("Data Structures. 3 credits. Students learn.", 16, ("Data Structures", (3.0, 3.0), "Students learn.")),
        ("Data Structures, 3 credits. Students learn.", 15, ("Data Structures", (3.0, 3.0), "Students learn.")),
        ("Data Structures (1-3 credits) Students learn.", 15, ("Data Structures", (1.0, 3.0), "Students learn.")),
        ("Data Structures. Students earn 3 credits.", 16, ("Data Structures", None, "Students earn 3 credits.")),
        ("Seminar in the history of science", 33, ("Seminar in the history of science", None, "")),
        (
            "Data Structures (4 credits) 3 hrs lecture, 2 hrs lab.",
            27,
            ("Data Structures", (4.0, 4.0), "3 hrs lecture, 2 hrs lab."),
        ),
        (
            "Data Structures (3 credits) XML files are covered.",
            27,
            ("Data Structures", (3.0, 3.0), "XML files are covered."),
        ),
        (
            "Seminar in the history of science Students read.",
            33,
            ("Seminar in the history of science", None, "Students read."),
        ),
    ],
)
def test_a_bold_run_header(text: str, bold: int, expected: tuple) -> None:
    """The bold run is the title with its credits; credits just after the run (a separator away) are its
    credits too, credits later in the description are not."""
    assert _split(text, bold) == expected


@pytest.mark.parametrize("bold", [None, 0, 200])
def test_without_a_usable_bold_run_the_text_decides(bold: int | None) -> None:
    """No bold run, an empty one or one longer than the text: the ``Title. Description`` shape decides."""
    assert _split("Seminar in Genetics. A survey of genes.", bold) == (
        "Seminar in Genetics",
        None,
        "A survey of genes.",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Data Structures (3 credits). Students learn trees.",
            ("Data Structures", (3.0, 3.0), "Students learn trees."),
        ),
        ("Data Structures 3 credits | Students learn.", ("Data Structures", (3.0, 3.0), "Students learn.")),
        ("Foundations of Computing 3.0", ("Foundations of Computing", (3.0, 3.0), "")),
        ("Ethics in Engineering (3)", ("Ethics in Engineering", (3.0, 3.0), "")),
        ("Data Structures. Trees and graphs.", ("Data Structures", None, "Trees and graphs.")),
        ("Data Structures. Trees and graphs. Lab work.", ("Data Structures", None, "Trees and graphs. Lab work.")),
        (
            "Data Structures (3 credits). XML files are covered.",
            ("Data Structures", (3.0, 3.0), "XML files are covered."),
        ),
        ("Biology Students examine cells.", ("Biology", None, "Students examine cells.")),
        ("XML Databases", ("XML Databases", None, "")),
        ("Foundations of Ecology A survey of ecology.", ("Foundations of Ecology", None, "A survey of ecology.")),
        ("Introduction to Data Structures.", ("Introduction to Data Structures", None, "")),
        ("students learn trees.", ("students learn trees", None, "")),
        ("", (None, None, "")),
        (" . ", (None, None, "")),
    ],
)
def test_an_unformatted_header(text: str, expected: tuple) -> None:
    """``Title (credits). Description``, ``Title 3.0``, ``Title. Description`` and a Title Case run."""
    assert _split(text) == expected


def test_credits_are_the_headers_only_within_its_reach() -> None:
    """Credits 160 characters into an unformatted header are its credits; 161 characters in they are not."""
    near, far = _title_case(159), _title_case(160)
    assert _split(f"{near} 3 credits") == (near, (3.0, 3.0), "")
    title, credits, _ = _split(f"{far} 3 credits")
    assert (title, credits) == (far, None)


# ---------------------------------------------------------------------------------------------
# title helpers


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Introduction to Data Structures", 4),
        ("Foundations of Ecology A survey of ecology.", 3),
        ("Biology Students examine cells.", 1),
        ("Data Structures Trees and graphs are studied.", 2),
        ("(Honors) Calculus: Limits", 3),
        ("3D Modelling", 2),
        ("Data and", 1),
        ("Data Structures and", 2),
        ("Research in the", 1),
        ("students learn", 0),
        ("() Data", 0),
        ("Data Structures in depth", 1),
        ("Internship credit arranged with an advisor.", 1),
        ("Data Structures Students of the program learn.", 2),
        ("Data Structures Students in programs learn.", 2),
        ("X-Ray Imaging", 2),
    ],
)
def test_title_case_prefix(text: str, count: int) -> None:
    """Leading Title Case words (brackets, colons and digits allowed), without trailing minor words and
    without the capitalised word that starts a run-in description."""
    assert _title_case_prefix(text.split()) == count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Introduction to Data Structures", True),
        ("Topics in Art: Modern Painting", True),
        ("", False),
        ("and Data Structures", False),
        ("Data Structures. Advanced Topics", False),
        ("Data Structures in depth", False),
        ("students learn", False),
    ],
)
def test_is_title_like(text: str, expected: bool) -> None:
    """All Title Case from a capital, no sentence break."""
    assert _is_title_like(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Art", True),
        ("Ar", False),
        ("Data Structures", True),
        (" - Data Structures.", True),
        ("Data Structures 3.", False),
        ("Ethics (3)", False),
        ("Calculus (4 credits)", False),
        ("3 cr.", False),
        ("CALCULUS I", True),
        ("MUSIC ART", True),
        ("MUSIC ART ART", False),
        ("PUBLIC AFFAIRS", True),
        ("PUB-AFFAIRS", False),
        ("HPA-PUB AFF", False),
        ("ARTS", False),
        ("BASIC", True),
    ],
)
def test_looks_like_title(text: str, expected: bool) -> None:
    """Three letters or more, no credits or bare number; in capitals, mostly long words without hyphens
    (``CALCULUS I``), not department or code tokens (``HPA-PUB AFF``)."""
    assert looks_like_title(text) is expected


@pytest.mark.parametrize(
    ("title", "doubts"),
    [
        (None, ["no title found"]),
        ("", ["no title found"]),
        ("AB", ["title is one or two characters"]),
        ("  AB  ", ["title is one or two characters"]),
        ("Art", []),
        ("Introduction to Data Structures", []),
        ("ABC", ["title looks like a code or a column value"]),
        (
            "Term: 3",
            [
                "title looks like a code or a column value",
                "title looks like a label and its value",
                "title ends with a number (a column value may have run into it)",
            ],
        ),
        ("Calculus (4 credits)", ["title contains a credit notation"]),
        ("Ethics (3)", ["title looks like a code or a column value", "title contains a credit notation"]),
        ("data structures", ["title starts mid-sentence"]),
        ("Computer Architecture and", ["title looks cut off"]),
        ("Topics in Art,", ["title looks cut off"]),
        ("Topics in CHEM 1010 Today", ["title contains a course code"]),
        (
            "Special Topics 2.5",
            [
                "title looks like a code or a column value",
                "title ends with a number (a column value may have run into it)",
            ],
        ),
        ("Calculus 2025a", []),
    ],
)
def test_title_doubts(title: str | None, doubts: list[str]) -> None:
    """Each shape a wrongly chosen title takes is named, in order; a good title has none."""
    assert title_doubts(title) == doubts


def test_a_title_is_doubted_only_beyond_the_title_length() -> None:
    """A 150-character title is fine; a 151-character one is doubted."""
    assert title_doubts(_title_case(150)) == []
    assert title_doubts(_title_case(151)) == ["title longer than 150 characters"]


# ---------------------------------------------------------------------------------------------
# text helpers


@pytest.mark.parametrize(
    ("parts", "joined"),
    [
        (["the physio-", "logy of ﬁsh"], "the physiology of fish"),
        (["Pre-", "Columbian art"], "Pre-Columbian art"),
        (["3-", "fold"], "3-fold"),
        (["in physio-", "logy"], "in physiology"),
        (["the un-", "known"], "the unknown"),
        (["Early childhood Pre-", "K education"], "Early childhood Pre-K education"),
        (["CIVE 451/", "851"], "CIVE 451/851"),
        (["and/", "or"], "and/or"),
        (["either /", "or"], "either / or"),
        (["a -", "b"], "a - b"),
        (["-", "logy"], "- logy"),
        (["/", "851"], "/ 851"),
        (["wait --", "then"], "wait -- then"),
        (["Pre-", "(Accounting)"], "Pre- (Accounting)"),
        (["", "  Data\tStructures  ", " ", "and  Algorithms"], "Data Structures and Algorithms"),
        ([], ""),
    ],
)
def test_join_lines(parts: list[str], joined: str) -> None:
    """Wrapped lines joined with a space; a word hyphenated at a line end is rejoined, a compound's
    hyphen or a slash between numbers is kept without a space; blank parts are skipped."""
    assert join_lines(parts) == joined


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("First one. Second one.", ["First one.", "Second one."]),
        ("First one.  Second one!  Third?", ["First one.", "Second one!", "Third?"]),
        ("Consent of the C. I. Open to all.", ["Consent of the C. I.", "Open to all."]),
        ("Approx. three hours. Then (more).", ["Approx. three hours.", "Then (more)."]),
        ("One sentence", ["One sentence"]),
    ],
)
def test_sentences(text: str, sentences: list[str]) -> None:
    """Sentences end at ``.!?`` before a capital; initials (``C. I.``) and a lowercase word do not end one."""
    assert _sentences(text) == sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CIVE 334. STAT 380 recommended. Students study x.", ("CIVE 334. STAT 380 recommended.", "Students study x.")),
        ("MATH 120. Consent of the instructor is required.", ("MATH 120. Consent of the instructor is required.", "")),
        (
            "MATH 120. Consent of the course instructor is required.",
            ("MATH 120.", "Consent of the course instructor is required."),
        ),
        ("MATH 120. Lab fee applies.", ("MATH 120.", "Lab fee applies.")),
        ("MATH 120. Lab fee applies. Coreq: MATH 121.", ("MATH 120.", "Lab fee applies. Coreq: MATH 121.")),
        ("MATH 120. Coreq: MATH 121.", ("MATH 120.", "Coreq: MATH 121.")),
        ("MATH 120; Coreq: MATH 121.", ("MATH 120;", "Coreq: MATH 121.")),
        ("MATH 120. Junior standing. Coreq: MATH 121.", ("MATH 120. Junior standing.", "Coreq: MATH 121.")),
        ("MATH 120 or MATH 121", ("MATH 120 or MATH 121", "")),
    ],
)
def test_split_prerequisite(text: str, expected: tuple[str, str]) -> None:
    """A prerequisite ends at the next label or with its sentence, keeping short requirement sentences
    (six words or fewer)."""
    assert split_prerequisite(text) == expected


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("Prerequisites", ("Prerequisites",), True),
        ("Prerequisite s:", ("Prerequisites",), True),
        ("PREREQUISITES :", ("Prerequisites",), True),
        ("prerequisites", ("Prereq", "Prerequisites"), True),
        ("Credit Hours", ("Credit Hours",), True),
        ("CreditHours:", ("Credit Hours",), True),
        (": Prerequisites", ("Prerequisites",), False),
        ("Prerequisite", ("Prerequisites",), False),
        ("Notes", ("Prerequisites", "Credits"), False),
    ],
)
def test_label_in(text: str, labels: tuple[str, ...], expected: bool) -> None:
    """A label matches ignoring case, spaces and a trailing colon, but nothing else."""
    assert _label_in(text, labels) is expected


@pytest.mark.parametrize(
    ("code", "separator", "expected"),
    [
        (CodeMatch("CS101", "CS", "101", 5, ""), " ", ("CS 101", "code separator normalised from 'CS101'")),
        (CodeMatch("CS-101", "CS", "101", 6, "-"), " ", ("CS 101", "code separator normalised from 'CS-101'")),
        (CodeMatch("CS 101", "CS", "101", 6, " "), "-", ("CS-101", "code separator normalised from 'CS 101'")),
        (CodeMatch("CS 101", "CS", "101", 6, " "), " ", ("CS 101", None)),
        (CodeMatch("CS 101", "CS", "101", 6, " "), "", ("CS 101", None)),
        (CodeMatch("CS/101", "CS", "101", 6, "/"), " ", ("CS/101", None)),
    ],
)
def test_usual_code(code: CodeMatch, separator: str, expected: tuple[str, str | None]) -> None:
    """An OCR'd code gets the catalog's usual separator, with the reason; a catalog without one (``""``)
    or a separator OCR cannot have changed leaves it as read."""
    assert _usual_code(code, separator) == expected


# ---------------------------------------------------------------------------------------------
# layout helpers


@pytest.mark.parametrize(
    ("lines", "length"),
    [
        ([_line("Data Structures Students learn.", 15)], 15),
        ([_line("Data Structures   ", 40)], 15),
        ([_line("Data Structures and", 19), _line("Algorithms Students learn.", 10)], 30),
        ([_line("Data Structures and", 19), _line("Algorithms", 10), _line("More", 4)], 35),
        ([_line("Data Structures", 4), _line("Algorithms", 10)], 4),
        ([_line("Data Structures and", 19), _line("Algorithms", None)], 19),
        ([_line("Data Structures and", 19), _line("Algorithms", 0)], 19),
        ([_line("Data Structures", 0), _line("Algorithms", 10)], None),
        ([_line("Data Structures", None, None)], None),
    ],
)
def test_bold_run(lines: list[Line], length: int | None) -> None:
    """The leading bold run goes on over wholly bold lines and stops inside the first line not wholly
    bold; without bold (or font info) on the first line there is none."""
    items = _items(*lines)
    assert _bold_run(items, list(range(len(items)))) == length


@pytest.mark.parametrize(
    ("text", "lines", "expected"),
    [
        ("Graduate Courses", 1, True),
        ("One Two Three Four Five Six Seven Eight", 1, True),
        ("One Two Three Four Five Six Seven Eight Nine", 1, False),
        ("Graduate Courses", 2, False),
        ("Graduate Courses.", 1, False),
        ("Graduate Courses,", 1, False),
        ("Graduate Courses;", 1, False),
        ("Graduate Courses:", 1, False),
        ("Courses for the Biology Major:", 1, False),
        ("Note: Graduate Courses", 1, False),
    ],
)
def test_is_heading(text: str, lines: int, expected: bool) -> None:
    """A heading is one short line (eight words at most) without closing punctuation and not a field."""
    item = _items(_line(text, 0))[0]
    assert _is_heading(item, list(range(lines))) is expected


def test_a_credits_cell_beside_the_code_is_credits_not_the_title_start() -> None:
    """``CS 101<tab>3`` then a bold title: the title was read as ``3 Data Structures`` with no credits and no
    doubt (a wrong row nobody was asked to check)."""
    lines, y = [], 100.0
    for code, title, value in (("CS 101", "Data Structures", "3"), ("CS 102", "Algorithms Design", "1-3")):
        lines.append(Line(f"{code}\t{value}", (100, y, 520, y + 12), 1.0, size=10.0, bold_chars=len(code),
                          cells=((100, 150), (500, 520))))  # fmt: skip
        lines.append(Line(title, (100, y + 14, 300, y + 26), 1.0, size=10.0, bold_chars=len(title)))
        lines.append(Line("Students build and analyse programs in depth.", (100, y + 28, 500, y + 40), size=10.0,
                          bold_chars=0))  # fmt: skip
        y += 60
    page = PageResult(PageRef("d", 1, 1275, 1650, 150), "text-layer", PageText("text-layer", tuple(lines)))
    found = [(e.course_code, e.title, e.credits_min, e.credits_max) for e in parse_pages([page])]
    assert found == [("CS 101", "Data Structures", 3.0, 3.0), ("CS 102", "Algorithms Design", 1.0, 3.0)]
