"""Rules of reading order (gutters, columns, rows, joined segments) and of form pages, pinned at their thresholds.

Small hand-built pages: boxes are (x0, y0, x1, y1) in pixels; a line covers the pixels x0..x1 inclusive.
"""

from __future__ import annotations

import pytest

from ocr_pipeline.catalog.credits import Credits
from ocr_pipeline.catalog.forms import FormEntry, _value, fields, read_form
from ocr_pipeline.catalog.reading_order import _columns, _gutters, _join, _looks_like_text, merge_rows, reading_order
from ocr_pipeline.models import Line

WORDS = "alpha beta gamma delta"


def _stack(x0: float, x1: float, count: int, text: str = WORDS, top: float = 100, step: float = 30) -> list[Line]:
    """``count`` lines 20 px high, one below the other, spanning x0..x1."""
    return [Line(f"{text} {i}", (x0, top + step * i, x1, top + step * i + 20)) for i in range(count)]


def _texts(lines: list[Line]) -> list[str]:
    return [line.text for line in lines]


# --- gutters -------------------------------------------------------------------------------------------------


def test_gutter_is_the_uncovered_strip_between_two_columns() -> None:
    """The gutter starts at the first pixel right of the left column and stops at the right column's first pixel."""
    lines = _stack(50, 249, 3) + _stack(300, 449, 3)
    assert _gutters(lines, 50, 450) == [(250, 300)]


def test_every_gutter_of_a_three_column_page_is_found_in_order() -> None:
    """Two gutters, left to right, each with its exact edges; the page margins are not gutters."""
    lines = _stack(120, 399, 3) + _stack(460, 699, 3) + _stack(780, 1119, 3)
    assert _gutters(lines, 120, 1120) == [(400, 460), (700, 780)]


@pytest.mark.parametrize(("right_column", "expected"), [(512, [(500, 512)]), (511, [])])
def test_gutter_must_be_at_least_the_minimum_width(right_column: int, expected: list[tuple[int, int]]) -> None:
    """On a 1000 px wide page a gutter needs 12 px (1.2%): 12 px counts, 11 px does not."""
    lines = _stack(100, 499, 3) + _stack(right_column, 1099, 3)
    assert _gutters(lines, 100, 1100) == expected


@pytest.mark.parametrize(("crossing", "expected"), [(2, [(500, 600)]), (3, [])])
def test_two_lines_may_cross_a_gutter_on_a_short_page(crossing: int, expected: list[tuple[int, int]]) -> None:
    """Up to two lines (headings, running headers) may cross a gutter; a third closes it."""
    columns = _stack(100, 499, 4) + _stack(600, 999, 4)
    headings = [Line(f"Heading {i} across", (100, 10 + 30 * i, 999, 28 + 30 * i)) for i in range(crossing)]
    assert _gutters(columns + headings, 100, 1000) == expected


@pytest.mark.parametrize(("crossing", "expected"), [(3, [(500, 600)]), (4, [])])
def test_five_percent_of_the_lines_may_cross_a_gutter_on_a_long_page(
    crossing: int, expected: list[tuple[int, int]]
) -> None:
    """With 60 lines, 5% (3 lines) may cross the gutter; a fourth closes it."""
    per_column = (60 - crossing) // 2
    columns = _stack(100, 499, per_column, step=22) + _stack(600, 999, 60 - crossing - per_column, step=22)
    headings = [Line(f"Heading {i} across", (100, 10 + 22 * i, 999, 28 + 22 * i)) for i in range(crossing)]
    assert len(columns + headings) == 60
    assert _gutters(columns + headings, 100, 1000) == expected


# --- running text ------------------------------------------------------------------------------------------


def test_a_column_without_lines_is_not_running_text() -> None:
    """An empty range never counts as a text column."""
    assert _looks_like_text([], 500.0, 1000.0) is False


@pytest.mark.parametrize(("width", "expected"), [(150.0, True), (149.0, False)])
def test_a_text_column_must_be_fifteen_percent_of_the_content_width(width: float, expected: bool) -> None:
    """A column 15% of the content width counts as running text; one pixel narrower does not."""
    assert _looks_like_text(_stack(0, 140, 3), width, 1000.0) is expected


@pytest.mark.parametrize(("words", "expected"), [([2, 3, 4], True), ([2, 2, 3], False)])
def test_running_text_has_a_median_of_three_words_per_line(words: list[int], expected: bool) -> None:
    """The median words per line decides: exactly three is running text, two is not."""
    lines = [Line(" ".join(["word"] * n), (0, 30 * i, 300, 30 * i + 20)) for i, n in enumerate(words)]
    assert _looks_like_text(lines, 300.0, 1000.0) is expected


def test_justified_words_of_one_row_are_counted_together() -> None:
    """A text layer that splits justified lines into single words still reads as running text."""
    lines = [Line(word, (100 * k, 30 * i, 100 * k + 60, 30 * i + 20)) for i in range(3) for k, word in enumerate("abc")]
    assert _looks_like_text(lines, 300.0, 1000.0) is True


# --- columns ----------------------------------------------------------------------------------------------------


def test_two_text_columns_have_their_exact_ranges() -> None:
    """Each column runs from its first pixel to the gutter (or one past the last pixel of the content)."""
    lines = _stack(100, 500, 4) + _stack(600, 1000, 4)
    assert _columns(lines) == [(100.0, 501.0), (600.0, 1001.0)]


def test_a_single_narrow_text_column_is_one_range() -> None:
    """A single column (120 px wide) is one range over the whole content, nothing more."""
    assert _columns(_stack(40, 159, 4, text="one two three")) == [(40.0, 160.0)]


def test_a_single_column_of_numbers_is_one_range() -> None:
    """A column that is not running text is still the page's one range."""
    lines = [Line(str(i), (200, 30 * i, 260, 30 * i + 20)) for i in range(4)]
    assert _columns(lines) == [(200.0, 261.0)]


@pytest.mark.parametrize(("start", "expected"), [(950, [(100.0, 801.0), (950.0, 1100.0)]), (951, [(100.0, 1100.0)])])
def test_a_narrow_text_column_is_kept_at_fifteen_percent(start: int, expected: list[tuple[float, float]]) -> None:
    """A right column exactly 15% of the 1000 px content stays a column; one pixel narrower joins its neighbour."""
    lines = _stack(100, 800, 4) + _stack(start, 1099, 4)
    assert _columns(lines) == expected


def test_a_line_centred_on_a_columns_first_pixel_counts_towards_that_column() -> None:
    """A line centred exactly on the right column's left edge is one of its lines when judging running text."""
    right = [
        Line("two words", (600, 100, 1000, 120)),
        Line("two more", (600, 130, 1000, 150)),
        Line("five words in this line", (600, 160, 1000, 180)),
        Line("five words also in here", (560, 190, 640, 210)),
    ]
    assert _columns(_stack(100, 500, 3) + right) == [(100.0, 501.0), (600.0, 1001.0)]


def test_a_leading_column_of_numbers_joins_the_column_to_its_right() -> None:
    """A first range that is not running text merges with the second one, not with the last."""
    numbers = [Line(str(i), (100, 100 + 30 * i, 300, 120 + 30 * i)) for i in range(4)]
    lines = numbers + _stack(400, 700, 4) + _stack(800, 1100, 4)
    assert _columns(lines) == [(100.0, 701.0), (800.0, 1101.0)]


def test_a_middle_column_of_numbers_joins_the_column_to_its_left() -> None:
    """A credits column between two text columns belongs to the text on its left."""
    numbers = [Line(str(i), (450, 100 + 30 * i, 550, 120 + 30 * i)) for i in range(4)]
    lines = _stack(100, 400, 4) + numbers + _stack(650, 1000, 4)
    assert _columns(lines) == [(100.0, 551.0), (650.0, 1001.0)]


def test_trailing_columns_of_numbers_all_join_the_text() -> None:
    """Table-like columns right of running text are merged one after the other until one range is left."""
    credits = [Line(str(i), (560, 100 + 30 * i, 700, 120 + 30 * i)) for i in range(4)]
    hours = [Line(str(i + 2), (760, 100 + 30 * i, 900, 120 + 30 * i)) for i in range(4)]
    assert _columns(_stack(100, 500, 4) + credits + hours) == [(100.0, 901.0)]


# --- rows -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("top", "joined"), [(130, True), (135, True), (136, False)])
def test_a_shorter_segment_joins_when_half_of_it_overlaps_the_row(top: int, joined: bool) -> None:
    """Overlap is measured against the shorter segment: 5 of 10 px joins, 4 px does not."""
    tall = Line("Tall", (100, 100, 200, 140))
    short = Line("short", (210, top, 300, top + 10))
    expected = ["Tall short"] if joined else ["Tall", "short"]
    assert _texts(merge_rows([short, tall])) == expected


@pytest.mark.parametrize(("top", "joined"), [(105, True), (106, False)])
def test_a_taller_segment_joins_when_half_of_the_short_one_is_overlapped(top: int, joined: bool) -> None:
    """A taller later segment joins a short one when it covers half of the short one's height."""
    short = Line("short", (100, 100, 200, 110))
    tall = Line("Tall", (210, top, 300, top + 40))
    expected = ["short Tall"] if joined else ["short", "Tall"]
    assert _texts(merge_rows([tall, short])) == expected


def test_rows_come_top_to_bottom_with_segments_left_to_right() -> None:
    """Shuffled segments of three rows come back as three rows; a slightly lower left segment still leads."""
    segments = [
        Line("row 3 right", (290, 160, 500, 180)),
        Line("row 1 right", (290, 100, 500, 120)),
        Line("row 2 left", (100, 133, 280, 153)),
        Line("row 1 left", (100, 102, 280, 122)),
        Line("row 2 right", (290, 130, 500, 150)),
        Line("row 3 left", (100, 160, 280, 180)),
    ]
    assert _texts(merge_rows(segments)) == [
        "row 1 left row 1 right",
        "row 2 left row 2 right",
        "row 3 left row 3 right",
    ]


def test_a_segment_overlapping_the_rows_tall_segment_joins_the_row() -> None:
    """Segments starting at the same height form a row; a lower segment covered by its tall part joins it too."""
    short = Line("Course", (100, 100, 200, 110))
    tall = Line("Title", (210, 100, 300, 140))
    lower = Line("(3)", (310, 125, 400, 135))
    assert _texts(merge_rows([tall, short, lower])) == ["Course Title (3)"]


def test_a_lone_segment_is_kept_as_it_is() -> None:
    """A row of one segment is returned untouched (its spacing and bold count included)."""
    line = Line("  Algebra  ", (10, 10, 200, 30), bold_chars=11, size=9.0)
    assert merge_rows([line]) == [line]
    assert _join([line]) is line


# --- joining segments -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left_top", "left_bottom", "right_top", "right_bottom"),
    [(100, 120, 105, 115), (105, 115, 100, 120)],
    ids=["taller-left", "taller-right"],
)
@pytest.mark.parametrize(("gap", "tab"), [(16, False), (17, True)])
def test_a_gap_wider_than_four_fifths_of_the_taller_segment_is_a_cell_break(
    left_top: int, left_bottom: int, right_top: int, right_bottom: int, gap: int, tab: bool
) -> None:
    """With a 20 px tall segment, a 16 px gap is a space and 17 px a tab, whichever side is taller."""
    left = Line("ECO-101", (300, left_top, 380, left_bottom))
    right = Line("Economics", (380 + gap, right_top, 500, right_bottom))
    joined = _join([left, right])
    if tab:
        assert joined.text == "ECO-101\tEconomics"
        assert joined.cells == ((300, 380), (380 + gap, 500))
    else:
        assert joined.text == "ECO-101 Economics"
        assert joined.cells == ()
    assert joined.box == (300, 100, 500, 120)


def test_cells_extend_over_words_joined_by_spaces() -> None:
    """A cell of two words spans both; a new cell begins after a wide gap."""
    row = [
        Line(" Intro ", (100, 100, 160, 120)),
        Line("Logic", (170, 100, 230, 120)),
        Line("3", (400, 100, 410, 120)),
    ]
    joined = _join(row)
    assert joined.text == "Intro Logic\t3"
    assert joined.cells == ((100, 160 + 70), (400, 410))


def test_a_cell_break_then_a_space_widens_the_last_cell() -> None:
    """Words after a cell break belong to the new cell, not the first one."""
    row = [
        Line("ECO-101", (100, 100, 180, 120)),
        Line("Topics", (300, 100, 360, 120)),
        Line("Economics", (370, 100, 480, 120)),
    ]
    joined = _join(row)
    assert joined.text == "ECO-101\tTopics Economics"
    assert joined.cells == ((100, 180), (300, 480))


def test_a_joined_row_takes_the_union_box_lowest_confidence_and_largest_size() -> None:
    """Box, confidence, size and label of a joined row come from all its segments (label from the first)."""
    row = [
        Line("Intro", (10, 105, 50, 120), confidence=0.9, size=None, label="title"),
        Line("to", (60, 100, 90, 118), confidence=0.5, size=12.0, label="text"),
        Line("Logic", (100, 102, 140, 125), confidence=0.8, size=10.0, label="text"),
    ]
    joined = _join(row)
    assert joined == Line("Intro to Logic", (10, 100, 140, 125), confidence=0.5, size=12.0, label="title")


def test_a_joined_row_without_font_sizes_has_no_size() -> None:
    """OCR segments without sizes give a row without a size and without a bold count."""
    joined = _join([Line("a", (0, 0, 10, 10)), Line("b", (12, 0, 20, 10))])
    assert joined.size is None
    assert joined.bold_chars is None


def test_a_row_of_bold_segments_is_bold_throughout() -> None:
    """Bold segments joined by spaces make a row whose every character is bold."""
    row = [
        Line("Intro", (10, 100, 50, 120), bold_chars=5),
        Line("to", (60, 100, 80, 120), bold_chars=2),
        Line("Logic", (90, 100, 130, 120), bold_chars=5),
    ]
    joined = _join(row)
    assert joined.text == "Intro to Logic"
    assert joined.bold_chars == 14
    assert joined.bold


def test_the_bold_run_stops_inside_the_first_partly_bold_segment() -> None:
    """The bold prefix runs through the bold first segment into the bold start of the next and stops there."""
    row = [
        Line("Algebra", (10, 100, 80, 120), bold_chars=7),
        Line("I: Basics", (90, 100, 170, 120), bold_chars=2),
        Line("(3)", (180, 100, 210, 120), bold_chars=3),
    ]
    joined = _join(row)
    assert joined.text == "Algebra I: Basics (3)"
    assert joined.bold_chars == 10
    assert joined.text[: joined.bold_chars] == "Algebra I:"


def test_a_partly_bold_first_segment_keeps_its_own_bold_count() -> None:
    """When the first segment is only partly bold, later bold segments do not extend the prefix."""
    row = [Line("Note", (10, 100, 50, 120), bold_chars=2), Line("Logic", (60, 100, 110, 120), bold_chars=5)]
    assert _join(row).bold_chars == 2


def test_a_bold_first_segment_counts_its_stripped_text() -> None:
    """Leading spaces of a bold segment are not counted; a following segment without fonts adds nothing bold."""
    row = [Line("  Intro", (10, 100, 60, 120), bold_chars=7), Line("to", (70, 100, 90, 120))]
    joined = _join(row)
    assert joined.text == "Intro to"
    assert joined.text[: joined.bold_chars].rstrip() == "Intro"


def test_an_ocr_title_row_has_no_bold_count() -> None:
    """Segments without font information give no bold count, even when labelled a title."""
    row = [Line("Intro", (10, 100, 50, 120), label="title"), Line("Logic", (60, 100, 110, 120), label="title")]
    joined = _join(row)
    assert joined.bold_chars is None
    assert joined.bold


# --- reading order ------------------------------------------------------------------------------------------------


def _two_columns() -> list[Line]:
    """Two text columns (x 100..500 and 600..1000), four rows above y 250 and four below y 290."""
    rows = [100, 130, 160, 190, 300, 330, 360, 390]
    left = [Line(f"L{i} {WORDS}", (100, y, 500, y + 20)) for i, y in enumerate(rows)]
    right = [Line(f"R{i} {WORDS}", (600, y, 1000, y + 20)) for i, y in enumerate(rows)]
    return right + left


def _labels(lines: list[Line]) -> list[str]:
    return [line.text.split()[0] for line in lines]


def test_no_lines_have_no_reading_order() -> None:
    """An empty page gives an empty reading order."""
    assert reading_order([]) == []


def test_a_single_column_is_read_row_by_row() -> None:
    """One column: rows top to bottom, each row's segments joined left to right."""
    lines = [
        Line("second row", (100, 140, 300, 160)),
        Line("3", (500, 100, 510, 120)),
        Line("first row", (100, 100, 300, 120)),
    ]
    assert _texts(reading_order(lines)) == ["first row\t3", "second row"]


def test_a_heading_across_both_columns_splits_the_page_into_bands() -> None:
    """Running header, then each column above the heading, the heading, then each column below it."""
    header = Line("Catalog 2025 page 12", (100, 40, 1000, 60))
    heading = Line("Mathematics courses", (300, 250, 800, 270))
    ordered = reading_order([heading, *_two_columns(), header])
    assert _labels(ordered) == [
        "Catalog",
        *["L0", "L1", "L2", "L3"],
        *["R0", "R1", "R2", "R3"],
        "Mathematics",
        *["L4", "L5", "L6", "L7"],
        *["R4", "R5", "R6", "R7"],
    ]


@pytest.mark.parametrize(("right", "spans"), [(600, False), (601, True)])
def test_a_line_must_pass_the_next_columns_left_edge_to_span_it(right: int, spans: bool) -> None:
    """A line ending exactly at the right column's first pixel stays in the left column; one pixel more spans."""
    line = Line("X a line near the gutter", (100, 250, right, 268))
    ordered = _labels(reading_order([*_two_columns(), line]))
    if spans:
        assert ordered == ["L0", "L1", "L2", "L3", "R0", "R1", "R2", "R3", "X", "L4", "L5", "L6", "L7"] + [
            "R4",
            "R5",
            "R6",
            "R7",
        ]
    else:
        assert ordered == ["L0", "L1", "L2", "L3", "X", "L4", "L5", "L6", "L7"] + [f"R{i}" for i in range(8)]


@pytest.mark.parametrize(("left", "spans"), [(501, False), (500, True)])
def test_a_line_must_start_inside_the_left_column_to_span_it(left: int, spans: bool) -> None:
    """A line starting at the gutter's first pixel belongs to the right column; one pixel further left spans."""
    line = Line("X a line near the gutter", (left, 250, 1000, 268))
    ordered = _labels(reading_order([*_two_columns(), line]))
    if spans:
        assert ordered == ["L0", "L1", "L2", "L3", "R0", "R1", "R2", "R3", "X", "L4", "L5", "L6", "L7"] + [
            "R4",
            "R5",
            "R6",
            "R7",
        ]
    else:
        assert ordered == [f"L{i}" for i in range(8)] + ["R0", "R1", "R2", "R3", "X", "R4", "R5", "R6", "R7"]


def test_a_line_centred_on_a_columns_left_edge_belongs_to_that_column() -> None:
    """A page number centred exactly on the right column's first pixel is read with the right column."""
    number = Line("12", (590, 250, 610, 268))
    ordered = _labels(reading_order([*_two_columns(), number]))
    assert ordered == [f"L{i}" for i in range(8)] + ["R0", "R1", "R2", "R3", "12", "R4", "R5", "R6", "R7"]


# --- forms --------------------------------------------------------------------------------------------------------


def _line(text: str, row: int, size: float | None = 10.0, height: float = 14.0) -> Line:
    return Line(text, (80, 120 + 30 * row, 600, 120 + 30 * row + height), size=size)


def test_fields_read_inline_values_and_values_in_the_next_cell() -> None:
    """``Label : value`` in one cell, or the value in the cell after the label; spaces are normalised."""
    lines = [
        Line("Kurs\tModulname  :\tMathematik   I", (0, 0, 10, 10)),
        Line("Leistungspunkte : 8  ECTS", (0, 20, 10, 30)),
    ]
    assert fields(lines) == [("Modulname", "Mathematik I"), ("Leistungspunkte", "8 ECTS")]


def test_a_label_without_value_gives_an_empty_value() -> None:
    """A label in the last cell with nothing after it is a field with an empty value."""
    assert fields([Line("Voraussetzungen :", (0, 0, 10, 10))]) == [("Voraussetzungen", "")]


def test_a_label_followed_by_another_label_is_not_given_that_label_as_value() -> None:
    """When the next cell is itself a field, the empty label is skipped and the next field read on its own."""
    line = Line("Semester :\tTurnus : jedes Semester", (0, 0, 10, 10))
    assert fields([line]) == [("Turnus", "jedes Semester")]


def test_cells_without_a_label_are_skipped_and_later_cells_still_read() -> None:
    """A cell that is not a field does not stop the rest of the row being read."""
    line = Line("1.1\tSprache : Deutsch\tDauer : 1 Semester", (0, 0, 10, 10))
    assert fields([line]) == [("Sprache", "Deutsch"), ("Dauer", "1 Semester")]


def test_value_matches_labels_ignoring_case_and_skips_empty_values() -> None:
    """The first non-empty value of any wanted label, whatever its case; ``None`` when there is none."""
    pairs = [("Dozent", "Meyer"), ("MODULNAME", ""), ("Modulname", "Analysis"), ("Titel", "Algebra")]
    assert _value(pairs, ["modulname", "Titel"]) == "Analysis"
    assert _value(pairs, ["Sprache"]) is None
    assert _value([("Modulname", "")], ["Modulname"]) is None


def _form(code_box: Line, *extra: Line) -> list[Line]:
    return [
        code_box,
        _line("Modulname :\tMathematik I", 0),
        _line("Kontaktzeit : 4 hours", 1),
        _line("Leistungspunkte : 8 ECTS", 2),
        _line("Voraussetzungen : keine", 3),
        *extra,
    ]


def _read(lines: list[Line]) -> FormEntry | None:
    return read_form(lines, 10.0, ["Modulname"], ["Leistungspunkte"], ["Voraussetzungen"])


def test_a_form_page_gives_its_unit() -> None:
    """Code from the number box (spaces of a split text layer removed), title, labelled credits, prerequisites."""
    lines = _form(Line("1 . 1", (80, 40, 160, 100), size=24.0))
    assert _read(lines) == FormEntry("1.1", "Mathematik I", Credits(8.0, 8.0, 0, 6), "keine", tuple(lines))


def test_the_code_is_the_first_cell_of_the_number_box() -> None:
    """A number box row with more cells gives the code in its first cell."""
    entry = _read(_form(Line("12.3J\tModul", (80, 40, 160, 100), size=24.0)))
    assert entry is not None
    assert entry.code == "12.3J"


@pytest.mark.parametrize(("size", "is_form"), [(16.0, True), (15.9, False)])
def test_the_number_box_must_be_one_point_six_times_the_body_text(size: float, is_form: bool) -> None:
    """With 10 pt body text a 16 pt number is the number box; 15.9 pt is not, and the page is no form."""
    entry = _read(_form(Line("2", (80, 40, 160, 100), size=size)))
    assert (entry is not None) is is_form


@pytest.mark.parametrize(("height", "is_form"), [(16.0, True), (15.0, False)])
def test_without_font_sizes_the_box_height_decides(height: float, is_form: bool) -> None:
    """OCR lines have no size: the number box's height is compared instead (16 px for 10 px body text)."""
    entry = _read(_form(Line("2", (80, 44, 160, 44 + height))))
    assert (entry is not None) is is_form


def test_a_small_font_size_wins_over_a_tall_box() -> None:
    """A line with a known body-text size is no number box, however tall its box."""
    assert _read(_form(Line("2", (80, 40, 160, 100), size=10.0))) is None


def test_a_page_without_a_number_box_is_no_form() -> None:
    """Fields alone do not make a form: without a number box there is no unit."""
    assert _read(_form(Line("Modulbeschreibung", (80, 40, 400, 100), size=24.0))) is None


@pytest.mark.parametrize(("count", "is_form"), [(3, True), (2, False)])
def test_a_form_needs_three_fields(count: int, is_form: bool) -> None:
    """Three ``Label : value`` fields make a form page; two do not."""
    field_lines = [_line("Modulname : Algebra", 0), _line("Sprache : Deutsch", 1), _line("Turnus : jährlich", 2)]
    lines = [Line("4", (80, 40, 160, 100), size=24.0), *field_lines[:count]]
    entry = _read(lines)
    assert (entry is not None) is is_form


def test_credits_fall_back_to_any_field_when_the_credit_label_has_none() -> None:
    """Without credits under the credit label, the first field value holding credits gives them."""
    lines = [
        Line("3", (80, 40, 160, 100), size=24.0),
        _line("Modulname : Algebra", 0),
        _line("Leistungspunkte : siehe Anhang", 1),
        _line("Umfang : 5 ECTS", 2),
        _line("Workload : 150 hours", 3),
    ]
    entry = _read(lines)
    assert entry is not None
    assert entry.credits == Credits(5.0, 5.0, 0, 6)
    assert entry.prerequisites is None


def test_a_form_without_credits_has_none() -> None:
    """No credit notation anywhere: the unit has no credits."""
    lines = [Line("3", (80, 40, 160, 100), size=24.0), *[_line(f"Feld{i} : Text", i) for i in range(3)]]
    entry = _read(lines)
    assert entry is not None
    assert entry.credits is None
    assert entry.title is None
