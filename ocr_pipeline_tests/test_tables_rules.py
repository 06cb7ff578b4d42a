"""Rules of ``catalog/tables.py`` on small hand-built rows: which cell holds a row's code, which header words
name which columns and how far each column reaches, how wrapped lines and merged cells join a row, and which
words of a row lie under a column (thresholds pinned at, and just either side of, their values)."""

from __future__ import annotations

import pytest

from ocr_pipeline.catalog.codes import CodeMatcher
from ocr_pipeline.catalog.credits import Credits
from ocr_pipeline.catalog.parser import looks_like_title
from ocr_pipeline.catalog.tables import (
    Columns,
    _cell_at,
    _join_wrapped,
    _words,
    cell_texts,
    code_cell,
    continue_row,
    header_columns,
    is_merged_row,
    row_fields,
    title_cells,
)
from ocr_pipeline.models import Line

MATCHER = CodeMatcher()
INF = float("inf")


def _row(text: str, *cells: tuple[float, float], y: float = 100, height: float = 20) -> Line:
    """A table row at ``y`` whose box runs over its cells."""
    return Line(text, (cells[0][0], y, cells[-1][1], y + height), cells=cells)


def _credits(found: Credits | None) -> tuple[float | None, float | None] | None:
    """(low, high) of a ``Credits`` (its offsets in the cell do not matter here)."""
    return None if found is None else (found.low, found.high)


# ---------------------------------------------------------------------------------------------
# cells and codes


def test_cell_texts_split_at_tabs_with_whitespace_collapsed() -> None:
    """Each tab-separated cell, trimmed and with inner runs of spaces made one."""
    assert cell_texts(Line("  CS   101 \t Intro\tto\n x", (0, 0, 10, 10))) == ["CS 101", "Intro", "to x"]


def test_a_line_of_fewer_than_two_cells_is_no_table_row() -> None:
    """One cell (or none) is running text, even when it is wholly a code."""
    assert code_cell(Line("CS 101", (0, 0, 60, 20), cells=((0, 60),)), MATCHER) is None
    assert code_cell(Line("CS 101", (0, 0, 60, 20)), MATCHER) is None


def test_two_cells_make_a_row_when_the_first_is_wholly_a_code() -> None:
    """``CS 101 | Intro`` is a row whose code is cell 0, ending at character 6."""
    found = code_cell(_row("CS 101\tIntro to Programming", (0, 60), (100, 300)), MATCHER)
    assert found is not None
    assert (found[0], found[1].code, found[1].end) == (0, "CS 101", 6)


@pytest.mark.parametrize("mark", ["*", "#", " *", " #", " *#"])
def test_marks_after_a_code_still_leave_the_cell_wholly_a_code(mark: str) -> None:
    """Footnote marks (``*``, ``#``) after the code do not count as a title sharing the cell."""
    found = code_cell(_row(f"CS 101{mark}\tIntro to Programming", (0, 60), (100, 300)), MATCHER)
    assert found is not None and found[1].code == "CS 101"


def test_two_cells_whose_first_has_more_than_the_code_are_no_row() -> None:
    """With two cells, a first cell holding code and title (or a stray letter) is not read as a row."""
    assert code_cell(_row("CS 101 Intro to Programming\t3", (0, 260), (400, 410)), MATCHER) is None
    assert code_cell(_row("CS 101 X\tIntro to Programming", (0, 80), (100, 300)), MATCHER) is None


def test_three_cells_let_the_title_share_the_code_cell() -> None:
    """``GERL101B1 German I | B1-Track | 4``: the code shares its cell with the title."""
    found = code_cell(_row("GERL101B1 German I\tB1-Track\t4", (0, 180), (200, 280), (400, 410)), MATCHER)
    assert found is not None
    assert (found[0], found[1].code, found[1].end) == (0, "GERL101B1", 9)


def test_a_number_only_code_does_not_start_a_row() -> None:
    """``101. Intro`` has no subject: a table row needs a code with its subject."""
    assert code_cell(_row("101. Intro to Programming\tLecture\t3", (0, 250), (300, 370), (400, 410)), MATCHER) is None


def test_the_code_is_looked_for_in_the_first_three_cells_only() -> None:
    """Serial numbers may come first: a code in cell 2 is found, one in cell 3 is not."""
    third = code_cell(_row("1\t2\tCS 101\tIntro to Programming", (0, 10), (20, 30), (40, 100), (120, 320)), MATCHER)
    assert third is not None and third[0] == 2
    fourth = _row("1\t2\t3\tCS 101\tIntro to Programming", (0, 10), (20, 30), (35, 40), (40, 100), (120, 320))
    assert code_cell(fourth, MATCHER) is None


def test_of_two_code_like_cells_the_one_beside_the_title_is_the_code() -> None:
    """``DC-13 | IT 601 Unix Systems``: the serial-like ``DC-13`` gives way to the code by the title."""
    found = code_cell(_row("DC-13\tIT 601 Unix Systems\t3", (0, 50), (100, 290), (400, 410)), MATCHER)
    assert found is not None
    assert (found[0], found[1].code) == (1, "IT 601")


def test_a_code_after_the_title_is_a_prerequisite_not_the_row_code() -> None:
    """The search stops at the title: ``MA 101`` in a later cell does not replace ``CS 101``."""
    found = code_cell(_row("CS 101\tIntro to Programming\tMA 101", (0, 60), (100, 300), (400, 460)), MATCHER)
    assert found is not None
    assert (found[0], found[1].code) == (0, "CS 101")


def test_mixed_case_codes_of_a_profile_do_not_read_as_the_title() -> None:
    """A profile's ``Chem 101`` has lowercase letters, yet only the text after a code can be the title."""
    matcher = CodeMatcher(r"(?P<subject>[A-Z][a-z]{2,4})(?P<sep>\s)(?P<number>\d{3})")
    found = code_cell(_row("Chem 101\tBiol 102 General Biology\t3", (0, 80), (100, 330), (400, 410)), matcher)
    assert found is not None
    assert (found[0], found[1].code) == (1, "Biol 102")


def test_title_cells_are_the_rest_of_the_code_cell_then_the_later_cells() -> None:
    """What follows the code (its separator stripped), then every later cell."""
    line = _row("CS 101: Intro\tto Programming\t3", (0, 130), (140, 280), (400, 410))
    code = MATCHER.at_start("CS 101: Intro")
    assert code is not None
    assert title_cells(line, 0, code) == ["Intro", "to Programming", "3"]
    xray = _row("PHYS 210 X-Ray Imaging\t3", (0, 220), (400, 410))
    code = MATCHER.at_start("PHYS 210 X-Ray Imaging")
    assert code is not None
    assert title_cells(xray, 0, code) == ["X-Ray Imaging", "3"]


# ---------------------------------------------------------------------------------------------
# header columns


def test_words_get_boxes_from_their_character_offsets() -> None:
    """A cell's width is shared evenly by its characters; spaces separate words."""
    assert _words("ab  cd", (0, 60)) == [("ab", (0, 20)), ("cd", (40, 60))]
    assert _words("a", (5, 15)) == [("a", (5, 15))]
    assert _words("", (0, 10)) == []


HEADER = _row("No.\tCourse Title\tCredits\tPrerequisites", (0, 30), (100, 220), (400, 470), (600, 730), y=200)
"""Four header cells, ten pixels a character: ``Course`` 100-160, ``Title`` 170-220."""


def test_a_column_runs_between_the_header_words_either_side_of_it() -> None:
    """Each named column reaches from its left neighbour's right edge to its right neighbour's left edge."""
    columns = header_columns([HEADER])
    assert columns == Columns({"title": (30, 400), "credits": (220, 600), "prerequisites": (470, INF)})


def test_lines_naming_no_column_give_no_columns() -> None:
    """Data rows or nothing at all: no header, no columns."""
    assert header_columns([]) is None
    assert header_columns([_row("CS 101\tIntro to Programming\t3", (0, 60), (100, 300), (400, 410))]) is None


def test_the_longest_header_phrase_names_the_column() -> None:
    """``Course Code and Title`` (four words) and ``Total Credit Hours`` (three) are named whole."""
    line = _row(
        "No.\tCourse Code and Title\tTotal Credit Hours\tPrerequisites", (0, 30), (100, 310), (400, 580), (600, 730)
    )
    columns = header_columns([line])
    assert columns == Columns({"title": (30, 400), "credits": (310, 600), "prerequisites": (580, INF)})


def test_a_header_line_without_cells_is_read_from_its_box() -> None:
    """``Title Credits`` as one box: its words are placed by character offset along the box."""
    columns = header_columns([Line("Title Credits", (100, 0, 230, 20))])
    assert columns == Columns({"title": (-INF, 160), "credits": (150, INF)})


def test_a_line_without_cells_of_four_words_is_a_header_of_five_is_running_text() -> None:
    """At most ``HEADER_MAX_WORDS`` (4) words make a cell-less line a header."""
    four = header_columns([Line("Course Title Credits Prerequisites", (0, 0, 340, 20))])
    assert four is not None and set(four.spans) == {"title", "credits", "prerequisites"}
    assert header_columns([Line("No. Course Title Credits Prerequisites", (0, 0, 380, 20))]) is None


def test_running_text_above_a_header_is_skipped_not_the_end_of_the_search() -> None:
    """A sentence before the header is passed over; the header below it still names the columns."""
    sentence = Line("The table lists the required courses of the programme", (0, 150, 540, 170))
    assert header_columns([sentence, HEADER]) == header_columns([HEADER])


def test_a_wrapped_header_bounds_columns_with_the_words_of_every_header_line() -> None:
    """``Prerequisites`` on a second header line still closes the ``Credits`` column on the right."""
    first = _row("Course Title\tCredits", (100, 220), (400, 470), y=200)
    second = Line("Prerequisites", (600, 222, 730, 240))
    columns = header_columns([first, second])
    assert columns == Columns({"title": (-INF, 400), "credits": (220, 600), "prerequisites": (470, INF)})


def test_words_of_data_lines_do_not_bound_columns() -> None:
    """A row between header lines names nothing, so its words are no column edges."""
    data = _row("1\tCS 101 Intro\t3", (0, 10), (250, 370), (420, 430), y=230)
    assert header_columns([HEADER, data]) == header_columns([HEADER])


def test_a_neighbour_overlapping_by_one_pixel_still_bounds_a_column() -> None:
    """OCR boxes may overlap by a pixel: a neighbour's edge up to 1 px inside the column still counts."""
    line = _row("No.\tTitle\tCredits", (0, 101), (100, 150), (149, 219))
    assert header_columns([line]) == Columns({"title": (101, 149), "credits": (150, INF)})


def test_a_neighbour_overlapping_by_two_pixels_does_not_bound_a_column() -> None:
    """Overlaps of 2 px are not a neighbour's edge: the column stays open on that side."""
    line = _row("No.\tTitle\tCredits", (0, 102), (100, 150), (148, 218))
    assert header_columns([line]) == Columns({"title": (-INF, INF), "credits": (102, INF)})


# ---------------------------------------------------------------------------------------------
# wrapped text and merged cells


@pytest.mark.parametrize(
    ("parts", "joined"),
    [
        (["Intro to", "Programming"], "Intro to Programming"),
        (["Micro-", "biology"], "Micro-biology"),
        (["CS 101/", "MA 101"], "CS 101/MA 101"),
        (["CS 101", ", MA 101"], "CS 101, MA 101"),
        (["CS 101", "; MA 101"], "CS 101; MA 101"),
        (["(with lab", ")"], "(with lab)"),
        (["CS 101 , MA 102 ; STAT 110"], "CS 101, MA 102; STAT 110"),
        (["CS 101", ",", "MA 102"], "CS 101, MA 102"),
        ([" Intro", "to "], "Intro to"),
        ([], ""),
    ],
)
def test_wrapped_parts_join_with_a_space_except_at_hyphens_slashes_and_punctuation(
    parts: list[str], joined: str
) -> None:
    """A hyphen or slash ending a part, or a ``,``/``;``/``)`` starting one, joins without a space."""
    assert _join_wrapped(parts) == joined


@pytest.mark.parametrize(
    ("text", "merged"),
    [
        ("CS 101\tIntro\t3", False),
        ("CS 101\tIntro\t1.5", False),
        ("CS 101\tIntro", True),
        ("CS 101\tIntro\t3.", True),
        ("CS 101\tIntro\t3a", True),
        ("CS 101\tIntro\ta3", True),
        ("CS 101\tIntro\t.5", True),
    ],
)
def test_a_row_without_a_whole_number_cell_is_merged(text: str, merged: bool) -> None:
    """Only a cell that is wholly a number (``3``, ``1.5``) is a row's own number cell."""
    assert is_merged_row(Line(text, (0, 0, 10, 10))) is merged


ROW = Line(
    "CS 101\tIntro to\t3",
    (0, 100, 420, 120),
    confidence=0.9,
    size=9.0,
    bold_chars=0,
    label="table",
    cells=((0, 60), (100, 300), (400, 420)),
)
"""A row 20 px high: code 0-60, title 100-300, credits 400-420."""


def _as_row(text: str, cells: tuple[tuple[float, float], ...] = ROW.cells) -> Line:
    """``ROW`` with other text and cells, everything else kept."""
    return Line(text, ROW.box, 0.9, 9.0, 0, "table", cells)


def test_a_row_without_lines_below_is_unchanged() -> None:
    """Nothing to join: the same text, box, cells, confidence, size, bold and label."""
    assert continue_row(ROW, []) == ROW


def test_a_wrapped_title_line_joins_its_cell_and_keeps_the_row_fields() -> None:
    """``Programming`` under the title cell continues it; the row's box, fonts and label stay."""
    below = [Line("Programming", (100, 122, 250, 140))]
    assert continue_row(ROW, below) == _as_row("CS 101\tIntro to Programming\t3")


def test_a_line_up_to_2_2_row_heights_below_continues_the_row() -> None:
    """Its top 44 px (2.2 x 20) below the row's top still continues; 44.5 px is another row."""
    at = continue_row(ROW, [Line("Programming", (100, 144, 250, 160))])
    assert at.text == "CS 101\tIntro to Programming\t3"
    beyond = continue_row(ROW, [Line("Programming", (100, 144.5, 250, 160))])
    assert beyond == ROW


def test_each_wrapped_line_is_measured_from_the_top_of_the_line_above_it() -> None:
    """A second wrapped line 44 px below the first's top (84 px below the row) continues; 44.5 px does not."""
    first = Line("Programming", (100, 140, 250, 156))
    at = continue_row(ROW, [first, Line("Fundamentals", (100, 184, 250, 200))])
    assert at.text == "CS 101\tIntro to Programming Fundamentals\t3"
    beyond = continue_row(ROW, [first, Line("Fundamentals", (100, 184.5, 250, 200))])
    assert beyond.text == "CS 101\tIntro to Programming\t3"


def test_a_bold_line_ends_the_row() -> None:
    """A bold line (a heading) is not wrapped text, and neither is anything after it."""
    below = [Line("Electives", (100, 122, 250, 140), bold_chars=9), Line("Programming", (100, 130, 250, 140))]
    assert continue_row(ROW, below) == ROW


def test_a_line_under_a_number_cell_is_a_row_of_its_own() -> None:
    """``University Elective | 3`` below a row: a number cannot wrap, so the row ends there."""
    elective = _row("University Elective\t3", (100, 290), (400, 420), y=125)
    below = [elective, Line("Programming", (100, 140, 250, 156))]
    assert continue_row(ROW, below) == ROW


def test_a_wrapped_line_with_cells_joins_each_piece_to_its_cell() -> None:
    """Pieces go under the cell they overlap; a piece under no cell becomes a cell of its own."""
    below = [_row("Programming\tLab", (100, 250), (500, 560), y=122)]
    assert continue_row(ROW, below) == _as_row(
        "CS 101\tIntro to Programming\t3\tLab", ((0, 60), (100, 300), (400, 420), (500, 560))
    )


def test_a_line_without_cells_under_no_cell_becomes_a_new_cell() -> None:
    """A cell-less line is one piece spanning its box, here right of every cell."""
    below = [Line("Lab", (500, 130, 530, 145))]
    assert continue_row(ROW, below) == _as_row(
        "CS 101\tIntro to\t3\tLab", ((0, 60), (100, 300), (400, 420), (500, 530))
    )


def test_a_piece_starting_less_than_a_row_height_right_of_a_cell_belongs_to_it() -> None:
    """A lone ``,`` starting 19 px right of the title cell (height 20) is its; at 20 px it is not."""
    near = continue_row(ROW, [Line(",", (319, 122, 325, 140))])
    assert near == _as_row("CS 101\tIntro to,\t3")
    far = continue_row(ROW, [Line(",", (320, 122, 326, 140))])
    assert far == _as_row("CS 101\tIntro to\t,\t3", ((0, 60), (100, 300), (320, 326), (400, 420)))


def test_a_piece_must_end_inside_a_cell_to_belong_to_it() -> None:
    """A piece ending exactly at the title cell's left edge is a new cell; one pixel further it joins."""
    touching = continue_row(ROW, [Line("Lab", (80, 122, 100, 140))])
    assert touching == _as_row("CS 101\tLab\tIntro to\t3", ((0, 60), (80, 100), (100, 300), (400, 420)))
    inside = continue_row(ROW, [Line("Programming", (80, 122, 101, 140))])
    assert inside == _as_row("CS 101\tIntro to Programming\t3")


def test_merged_cells_printed_above_a_row_join_it_in_page_order() -> None:
    """The name and credits printed above a ``GERL101B1 | B1-Track`` row slot in by their x."""
    row = _row("GERL101B1\tB1-Track", (0, 100), (300, 400))
    above = _row("German I\t4", (120, 250), (500, 520), y=80, height=15)
    joined = continue_row(row, [], [above])
    assert joined == Line(
        "GERL101B1\tGerman I\tB1-Track\t4", row.box, cells=((0, 100), (120, 250), (300, 400), (500, 520))
    )


def test_a_merged_cell_above_without_cells_spans_its_box() -> None:
    """A cell-less line above is one cell as wide as its box, sorted by its left edge."""
    row = _row("CS 101\t3", (0, 40), (300, 340))
    joined = continue_row(row, [], [Line("Intro to Programming", (60, 80, 400, 95))])
    assert joined == Line("CS 101\tIntro to Programming\t3", row.box, cells=((0, 40), (60, 400), (300, 340)))


# ---------------------------------------------------------------------------------------------
# the text under a column


def test_the_words_whose_middle_lies_in_a_column_are_its_text() -> None:
    """Words are taken by their middle, left to right, from any cell."""
    line = _row("CS 101\tIntro to\t3", (0, 60), (100, 180), (400, 410))  # Intro 100-150, to 160-180
    assert _cell_at(line, (90, 300), 0, 6) == "Intro to"
    assert _cell_at(line, (150, 300), 0, 6) == "to"


def test_a_word_in_the_middle_of_a_column_edge_counts_left_not_right() -> None:
    """A word whose middle is exactly the column's left edge is in it; exactly its right edge, not."""
    line = _row("CS 101\tIntro to\t3", (0, 60), (100, 180), (400, 410))  # middles 125, 170, 405
    assert _cell_at(line, (125, 200), 0, 6) == "Intro to"
    assert _cell_at(line, (120, 405), 0, 6) == "Intro to"


def test_the_code_is_left_out_of_its_cell() -> None:
    """A title sharing the code's cell is read without the code; other cells keep all their words."""
    line = _row("CS 101 Intro\t3", (0, 120), (400, 410))
    assert _cell_at(line, (0, 200), 0, 6) == "Intro"
    serial = _row("1\tCS 101 Intro\t3", (0, 10), (100, 220), (400, 410))
    assert _cell_at(serial, (0, 300), 1, 6) == "1 Intro"


def test_a_word_starting_at_the_code_end_is_kept_one_starting_before_it_is_part_of_the_code() -> None:
    """With 1.5 px a character from x=10, ``CD`` starts at 14.5: kept after a code of 3 characters, not of 4."""
    line = _row("AB CD\tx", (10, 17.5), (60, 61))
    assert _cell_at(line, (10, 20), 0, 3) == "CD"
    assert _cell_at(line, (10, 20), 0, 4) is None


def test_a_row_with_nothing_but_its_code_has_nothing_under_any_column() -> None:
    """No words besides the code: no text for any column."""
    assert _cell_at(_row("CS 101\t", (0, 60), (100, 300)), (400, 600), 0, 6) is None
    assert _cell_at(_row("CS 101\t", (0, 60), (100, 300)), (0, 600), 0, 6) is None


NEAR = _row("CS 101\tIntro\t3", (100, 160), (200, 250), (1080, 1100))
"""A row 1000 px wide: a word up to 30 px (3 %) from a column can still be under it."""


def test_a_word_up_to_3_percent_of_the_row_width_right_of_a_column_is_its_text() -> None:
    """``3`` starting 30 px right of the column's edge is taken; 31 px away, nothing is."""
    assert _cell_at(NEAR, (800, 1050), 0, 6) == "3"
    assert _cell_at(NEAR, (800, 1049), 0, 6) is None


def test_a_word_up_to_3_percent_of_the_row_width_left_of_a_column_is_its_text() -> None:
    """``3`` ending 30 px left of the column's edge is taken; 31 px away, nothing is."""
    assert _cell_at(NEAR, (1130, 1200), 0, 6) == "3"
    assert _cell_at(NEAR, (1131, 1200), 0, 6) is None


def test_of_words_near_a_column_the_nearest_is_taken() -> None:
    """Between ``Intro`` (ending at 250) and ``3`` (starting at 1080), the closer one wins."""
    wide = _row("CS 101\tIntro\t3", (100, 160), (200, 250), (300, 310))  # 210 px: reach 6.3 px
    assert _cell_at(wide, (255, 296), 0, 6) == "3"
    assert _cell_at(wide, (254, 295), 0, 6) == "Intro"


# ---------------------------------------------------------------------------------------------
# row fields


def test_without_columns_the_title_is_the_first_title_cell_and_credits_follow_it() -> None:
    """No header: the first cell that reads as a title, then the first number after it."""
    line = _row(
        "CS 101\tLEC\tIntro to Programming\tLecture\t4\t2",
        (0, 60),
        (70, 100),
        (110, 310),
        (320, 390),
        (400, 410),
        (420, 430),
    )
    title, credits, prerequisites = row_fields(line, 0, 6, None, looks_like_title)
    assert (title, _credits(credits), prerequisites) == ("Intro to Programming", (4.0, 4.0), None)


def test_a_number_before_the_title_is_not_its_credits() -> None:
    """``CS 101 | 2 | Intro | 3``: credits are looked for after the title cell."""
    line = _row("CS 101\t2\tIntro to Programming\t3", (0, 60), (70, 80), (100, 300), (400, 410))
    title, credits, _ = row_fields(line, 0, 6, None, looks_like_title)
    assert (title, _credits(credits)) == ("Intro to Programming", (3.0, 3.0))


def test_a_title_sharing_the_code_cell_is_read_after_the_code() -> None:
    """``CS 101 Intro to Programming | 3``: title from the code's cell, credits from the next cell."""
    line = _row("CS 101 Intro to Programming\t3", (0, 270), (400, 410))
    title, credits, _ = row_fields(line, 0, 6, None, looks_like_title)
    assert (title, _credits(credits)) == ("Intro to Programming", (3.0, 3.0))


def test_a_title_after_the_code_in_a_later_cell() -> None:
    """A code in cell 1 (after a serial number): title shares its cell, credits follow."""
    line = _row("1\tCS 101 Intro to Programming\t3", (0, 10), (20, 290), (400, 410))
    title, credits, _ = row_fields(line, 1, 6, None, looks_like_title)
    assert (title, _credits(credits)) == ("Intro to Programming", (3.0, 3.0))


@pytest.mark.parametrize("separator", [":", ".", " -", " –", "*", " #", " * "])
def test_separators_between_a_shared_code_and_title_are_stripped(separator: str) -> None:
    """``CS 101: Intro``, ``CS 101 – Intro``, ``CS 101* Intro``: the title starts at its first word."""
    line = _row(f"CS 101{separator} Intro to Programming.\t3", (0, 290), (400, 410))
    assert row_fields(line, 0, 6, None, looks_like_title)[0] == "Intro to Programming"


def test_a_title_starting_with_a_capital_x_keeps_it() -> None:
    """Only separators are stripped: ``X-Ray Imaging`` keeps its ``X-``."""
    line = _row("PHYS 210 X-Ray Imaging\t3", (0, 220), (400, 410))
    assert row_fields(line, 0, 8, None, looks_like_title)[0] == "X-Ray Imaging"


def test_a_row_without_a_number_has_no_credits() -> None:
    """No header and no number after the title: no credits (nothing is guessed)."""
    line = _row("CS 101\tIntro to Programming\tLecture", (0, 60), (100, 300), (400, 470))
    assert row_fields(line, 0, 6, None, looks_like_title) == ("Intro to Programming", None, None)


def test_a_row_without_a_title_still_gets_its_credits() -> None:
    """No title cell: credits are the first number after the code cell."""
    title, credits, prerequisites = row_fields(_row("CS 101\t3", (0, 60), (400, 410)), 0, 6, None, looks_like_title)
    assert (title, _credits(credits), prerequisites) == (None, (3.0, 3.0), None)


COLUMNS = Columns({"title": (60, 400), "credits": (400, 600), "prerequisites": (600, INF)})


def test_header_columns_say_which_cell_is_title_credits_and_prerequisites() -> None:
    """Each field is read from the words under its column."""
    line = _row("CS 101\tIntro to Programming\t3\tMA 100", (0, 60), (100, 300), (420, 430), (620, 680))
    title, credits, prerequisites = row_fields(line, 0, 6, COLUMNS, looks_like_title)
    assert (title, _credits(credits), prerequisites) == ("Intro to Programming", (3.0, 3.0), "MA 100")


def test_a_header_read_from_the_page_gives_the_fields_of_a_wrapped_row() -> None:
    """Header, wrapped title and row fields together, as the parser reads a table."""
    columns = header_columns([HEADER])
    row = _row("1\tCS 101\tIntro to\t3\tMA 100", (0, 10), (30, 70), (100, 200), (420, 430), (620, 680), y=230)
    line = continue_row(row, [Line("Programming", (100, 252, 210, 270))])
    found = code_cell(line, MATCHER)
    assert found is not None and found[0] == 1
    title, credits, prerequisites = row_fields(line, found[0], found[1].end, columns, looks_like_title)
    assert (title, _credits(credits), prerequisites) == ("Intro to Programming", (3.0, 3.0), "MA 100")


def test_the_title_column_picks_the_title_among_wordy_cells() -> None:
    """``Lecture`` (a course type) reads like a title too, but only the cell under ``Title`` is the title."""
    columns = Columns({"title": (250, 500), "credits": (500, 600)})
    line = _row("CS 101\tLecture\tIntro to Programming\t3", (0, 60), (100, 170), (280, 480), (540, 550))
    title, credits, _ = row_fields(line, 0, 6, columns, looks_like_title)
    assert (title, _credits(credits)) == ("Intro to Programming", (3.0, 3.0))


@pytest.mark.parametrize("cell", ["MA 100", "POI", "consent of instructor"])
def test_prerequisites_are_the_words_under_their_column(cell: str) -> None:
    """Codes, capitals-only notes (``POI``) and lowercase phrases are all prerequisites."""
    line = _row(f"CS 101\tIntro to Programming\t3\t{cell}", (0, 60), (100, 300), (420, 430), (620, 850))
    assert row_fields(line, 0, 6, COLUMNS, looks_like_title)[2] == cell


@pytest.mark.parametrize("cell", ["-", "–", ". -"])
def test_a_dash_under_prerequisites_means_none(cell: str) -> None:
    """A prerequisites cell without letters or digits is empty."""
    line = _row(f"CS 101\tIntro to Programming\t3\t{cell}", (0, 60), (100, 300), (420, 430), (620, 650))
    assert row_fields(line, 0, 6, COLUMNS, looks_like_title)[2] is None


def test_a_prerequisites_column_with_nothing_under_it_gives_none() -> None:
    """No word under or near the prerequisites column: no prerequisites."""
    line = _row("CS 101\tIntro to Programming\t3", (0, 60), (100, 300), (420, 430))
    assert row_fields(line, 0, 6, COLUMNS, looks_like_title)[2] is None


def test_a_title_column_not_holding_a_title_falls_back_to_the_cells() -> None:
    """``LEC`` under the title column is no title: the first title-like cell is."""
    columns = Columns({"title": (60, 400), "credits": (650, 800)})
    line = _row("CS 101\tLEC\tIntro to Programming\t3", (0, 60), (100, 130), (420, 620), (700, 710))
    title, credits, _ = row_fields(line, 0, 6, columns, looks_like_title)
    assert (title, _credits(credits)) == ("Intro to Programming", (3.0, 3.0))


@pytest.mark.parametrize(("cell", "value"), [("3 cr.", (3.0, 3.0)), ("2-4", (2.0, 4.0)), ("VAR", None)])
def test_a_credits_cell_holds_a_notation_or_a_bare_number(cell: str, value: tuple[float, float] | None) -> None:
    """``3 cr.`` and ``2-4`` are credits; ``VAR`` is variable credit (no numbers)."""
    line = _row(f"CS 101\tIntro to Programming\t{cell}", (0, 60), (100, 300), (420, 420 + 10 * len(cell)))
    credits = row_fields(line, 0, 6, COLUMNS, looks_like_title)[1]
    assert credits is not None
    assert (None if credits.variable else (credits.low, credits.high)) == value


def test_the_credits_column_wins_over_the_ects_column() -> None:
    """Both filled: credits are the ``Credits`` column's; ECTS is only read when Credits has none."""
    columns = Columns({"title": (60, 400), "credits": (400, 500), "ects": (500, 600)})
    both = _row("CS 101\tIntro to Programming\t4\t6", (0, 60), (100, 300), (420, 430), (520, 530))
    assert _credits(row_fields(both, 0, 6, columns, looks_like_title)[1]) == (4.0, 4.0)
    ects_only = _row("CS 101\tIntro to Programming\t-\t6", (0, 60), (100, 300), (420, 430), (520, 530))
    assert _credits(row_fields(ects_only, 0, 6, columns, looks_like_title)[1]) == (6.0, 6.0)


@pytest.mark.parametrize("name", ["credits", "ects"])
def test_an_empty_credits_column_is_not_filled_from_other_cells(name: str) -> None:
    """With a credits (or ECTS) column, a number in an unnamed column far from it is not the credits."""
    columns = Columns({"title": (60, 400), name: (400, 500)})
    line = _row("CS 101\tIntro to Programming\t3", (0, 60), (100, 300), (700, 710))
    assert row_fields(line, 0, 6, columns, looks_like_title)[1] is None


@pytest.mark.parametrize("name", ["credits", "prerequisites"])
def test_the_code_is_never_read_as_another_column(name: str) -> None:
    """A code cell reaching under the next column: ``MATH 10``'s ``10`` is neither credits nor a prerequisite."""
    columns = Columns({"title": (150, 400), name: (90, 150)})
    line = _row("MATH 10\tCalculus Basics", (0, 140), (200, 350))  # ``10`` at 100-140, under the column
    assert row_fields(line, 0, 7, columns, looks_like_title) == ("Calculus Basics", None, None)
