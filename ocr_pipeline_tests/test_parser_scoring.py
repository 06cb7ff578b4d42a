"""The catalog parser's scoring and field reading, pinned on small hand-built lines.

Covers how an entry's confidence and reasons are computed (``_score``, ``_catalogs``), how the page's
layout is measured (``_layout``, ``_measures``, ``_page_bodies``, ``paragraph_break``), which lines start
entries (``_candidate``, ``find_starts``), where an entry ends (``_entry_end``), how its fields are read
(``_read_fields``, ``_entry_fields``), form pages (``_form_entries``) and the public ``parse_pages`` /
``page_doubts``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ocr_pipeline.catalog.codes import CodeMatch, CodeMatcher
from ocr_pipeline.catalog.credits import Credits
from ocr_pipeline.catalog.parser import (
    _candidate,
    _Catalog,
    _catalogs,
    _ends_short,
    _entry_end,
    _Fields,
    _Item,
    _Layout,
    _layout,
    _measures,
    _page_bodies,
    _read_fields,
    _same_scale,
    _score,
    _Start,
    _table_columns,
    clean_text,
    find_starts,
    page_doubts,
    paragraph_break,
    parse_pages,
)
from ocr_pipeline.catalog.profile import CatalogProfile
from ocr_pipeline.models import CourseEntry, Line, PageRef, PageResult, PageText

MATCHER = CodeMatcher()
PROFILE = CatalogProfile()
LAYOUT = _Layout(pitch=24.0, body_scale=10.0)
BOLD = frozenset({"bold"})


def _line(
    text: str,
    y: float = 100.0,
    *,
    left: float = 100.0,
    right: float | None = None,
    height: float = 18.0,
    size: float | None = 10.0,
    bold: int | None = 0,
    confidence: float = 1.0,
    cells: tuple[tuple[float, float], ...] = (),
    label: str = "text",
) -> Line:
    """A line ``height`` tall at ``y``; its right edge defaults to 9 pixels a character."""
    right = left + 9 * len(text) if right is None else right
    return Line(text, (left, y, right, y + height), confidence, size, bold, label, cells)


def _item(line: Line, *, page: int = 1, measure: float | None = None) -> _Item:
    """A body line whose column edge is ``measure`` (by default its own right edge: it fills the column)."""
    return _Item(page, line, clean_text(line.text), line.box[2] if measure is None else measure)


def _code(code: str = "MATH 101") -> CodeMatch:
    found = MATCHER.at_start(code)
    assert found is not None
    return found


def _start(
    score: float = 2,
    style: frozenset[str] = BOLD,
    shape: tuple[str, int] = (" ", 0),
    code: str = "MATH 101",
    index: int = 0,
) -> _Start:
    return _Start(index, _code(code), score, style, shape)


def _catalog(
    credits: float = 1.0,
    description: float = 1.0,
    style: frozenset[str] | None = BOLD,
    shape: tuple[str, int] | None = (" ", 0),
    digits: int | None = 3,
) -> _Catalog:
    return _Catalog(credits, description, style, shape, digits)


def _fields(
    title: str | None = "Data Structures",
    credits: bool = True,
    description: bool = True,
    doubts: Sequence[str] = (),
) -> _Fields:
    return _Fields(
        title=title,
        credits=Credits(3.0, 3.0, 0, 9) if credits else None,
        description=["Lists and trees."] if description else [],
        doubts=list(doubts),
    )


def _page(lines: Sequence[Line], *, page: int = 1, ocr: bool = False, height: int = 1584) -> PageResult:
    return PageResult(
        PageRef("doc", page, 1224, height, 144),
        "ocr:rapidocr" if ocr else "text-layer",
        PageText("rapidocr" if ocr else "text-layer", tuple(lines)),
    )


# ---------------------------------------------------------------------------------------------
# _score


def test_a_clean_entry_scores_its_evidence_without_reasons() -> None:
    """0.55 + 0.05 a start point + 0.15 clean title + 0.1 credits + 0.05 description."""
    assert _score(_start(score=2), _fields(), [1.0], _catalog()) == (0.95, [])
    assert _score(_start(score=1), _fields(), [], _catalog()) == (0.9, [])


def test_start_evidence_counts_up_to_four_points_and_the_score_is_capped_at_one() -> None:
    """Start evidence counts up to four points and the score is capped at one."""
    doubt = ["the row has more than one code-like cell"]
    four = _score(_start(score=4), _fields(doubts=doubt), [1.0], _catalog())
    six = _score(_start(score=6), _fields(doubts=doubt), [1.0], _catalog())
    assert four == six == (0.95, doubt)
    assert _score(_start(score=6), _fields(), [1.0], _catalog()) == (1.0, [])


def test_each_title_doubt_costs_and_is_a_reason() -> None:
    """Each title doubt costs and is a reason."""
    assert _score(_start(), _fields(title=None), [1.0], _catalog()) == (0.65, ["no title found"])
    score, reasons = _score(_start(), _fields(title="studies of"), [1.0], _catalog())
    assert reasons == ["title starts mid-sentence", "title looks cut off"]
    assert score == pytest.approx(0.5)


def test_field_doubts_are_reasons_after_the_title_doubts() -> None:
    """Field doubts are reasons after the title doubts."""
    doubts = ["name or credits read from cells merged with the row above", "the row has more than one code-like cell"]
    score, reasons = _score(_start(), _fields(title=None, doubts=doubts), [1.0], _catalog())
    assert reasons == ["no title found", *doubts]
    assert score == pytest.approx(0.45)


def test_missing_credits_are_a_reason_only_where_half_the_catalog_has_them() -> None:
    """At exactly half the neighbours with credits the missing credits are flagged; just under, not."""
    reason = "no credits found (most entries in this catalog have them)"
    score, reasons = _score(_start(), _fields(credits=False), [1.0], _catalog(credits=0.5))
    assert (score, reasons) == (pytest.approx(0.85), [reason])
    assert _score(_start(), _fields(credits=False), [1.0], _catalog(credits=0.49)) == (0.95, [])


def test_a_missing_description_lowers_the_score_only_where_half_the_catalog_has_one() -> None:
    """A missing description lowers the score only where half the catalog has one."""
    assert _score(_start(), _fields(description=False), [1.0], _catalog(description=0.5)) == (0.9, [])
    assert _score(_start(), _fields(description=False), [1.0], _catalog(description=0.49)) == (0.95, [])


def test_a_start_style_unlike_the_catalogs_is_a_reason() -> None:
    """A start style unlike the catalog's is a reason."""
    score, reasons = _score(_start(style=frozenset()), _fields(), [1.0], _catalog())
    assert reasons == ["entry start differs from this catalog's usual style"]
    assert score == pytest.approx(0.85)
    assert _score(_start(style=frozenset()), _fields(), [1.0], _catalog(style=None)) == (0.95, [])


def test_only_the_code_shapes_part_count_is_compared() -> None:
    """Only the code shape's part count is compared."""
    score, reasons = _score(_start(shape=(" ", 1)), _fields(), [1.0], _catalog())
    assert reasons == ["course code shape differs from this catalog's usual shape"]
    assert score == pytest.approx(0.85)
    assert _score(_start(shape=("-", 0)), _fields(), [1.0], _catalog()) == (0.95, [])
    assert _score(_start(shape=(" ", 1)), _fields(), [1.0], _catalog(shape=None)) == (0.95, [])


def test_a_course_number_shorter_than_the_catalogs_is_a_reason() -> None:
    """A course number shorter than the catalog's is a reason."""
    score, reasons = _score(_start(code="CS 10"), _fields(), [1.0], _catalog(digits=3))
    assert reasons == ["course number has 2 digits where this catalog's have 3"]
    assert score == pytest.approx(0.85)
    assert _score(_start(code="CS 101A"), _fields(), [1.0], _catalog(digits=3)) == (0.95, [])
    assert _score(_start(code="CS 1010"), _fields(), [1.0], _catalog(digits=3)) == (0.95, [])
    assert _score(_start(code="CS 10"), _fields(), [1.0], _catalog(digits=None)) == (0.95, [])


def test_ocr_confidence_scales_the_score_and_is_flagged_below_the_line_minimum() -> None:
    """Mean exactly 0.9 scales without a reason; just below it is a reason."""
    assert _score(_start(), _fields(), [0.9, 0.9], _catalog()) == (0.9025, [])
    assert _score(_start(), _fields(), [0.91, 0.92, 0.94], _catalog()) == (0.9136, [])
    score, reasons = _score(_start(), _fields(), [0.89], _catalog())
    assert reasons == ["low OCR confidence (0.89)"]
    assert score == pytest.approx(0.95 * (0.5 + 0.5 * 0.89), abs=1e-4)


def test_a_line_below_the_word_minimum_costs_a_tenth_after_scaling() -> None:
    """A line below the word minimum costs a tenth after scaling."""
    score, reasons = _score(_start(), _fields(), [1.0, 0.6], _catalog())
    assert reasons == ["low OCR confidence (0.80)"]
    assert score == pytest.approx(0.95 * 0.9, abs=1e-4)
    score, reasons = _score(_start(), _fields(), [1.0, 0.58], _catalog())
    assert reasons == ["low OCR confidence (0.79)", "a line was read with confidence 0.58"]
    assert score == pytest.approx(0.95 * (0.5 + 0.5 * 0.79) - 0.1, abs=1e-4)


def test_the_score_never_goes_below_zero() -> None:
    """The score never goes below zero."""
    many = [f"doubt {n}" for n in range(8)]
    assert _score(_start(score=0), _fields(title=None, doubts=many), [1.0], _catalog())[0] == 0.0
    tiny = _score(_start(score=1), _fields(title=None, doubts=many[:5]), [0.5], _catalog())
    assert tiny[0] == 0.0  # 0.1 after the doubts, 0.075 scaled, then less a tenth for the 0.5 line


def test_the_score_is_capped_at_one_before_ocr_confidence_scales_it() -> None:
    """The score is capped at one before OCR confidence scales it."""
    assert _score(_start(score=4), _fields(), [0.9, 0.9], _catalog()) == (0.95, [])


# ---------------------------------------------------------------------------------------------
# _catalogs


def _draft(
    credits: bool = True, described: bool = True, style: frozenset[str] = BOLD, code: str = "MATH 101"
) -> tuple[_Start, _Fields, list[int]]:
    found = _code(code)
    start = _Start(0, found, 3, style, (found.sep, found.subject.count("-")))
    return start, _fields(credits=credits, description=described), [0]


def test_each_entry_is_compared_with_what_its_neighbours_usually_have() -> None:
    """Each entry is compared with what its neighbours usually have."""
    drafts = [
        _draft(code="MATH 101"),
        _draft(described=False, code="MATH 102"),
        _draft(described=False, style=frozenset({"alone"}), code="MATH-103"),
        _draft(described=False, code="MATH 104"),
        _draft(credits=False, described=False, style=frozenset({"alone"}), code="GS-MATH-10"),
    ]
    expected = (_Catalog(0.8, 0.2, BOLD, (" ", 0), 3), " ")
    assert list(_catalogs(drafts)) == [expected] * 5


def test_no_usual_digit_count_under_four_fifths_and_sections_differ_far_apart() -> None:
    """No usual digit count under four fifths and sections differ far apart."""
    drafts = [_draft(code="MATH 101"), _draft(code="MATH 10"), _draft(code="MATH-1010"), _draft(code="MATH 1")]
    catalogs = list(_catalogs(drafts))
    assert [c.digits for c, _ in catalogs] == [None] * 4
    far = [_draft() for _ in range(30)] + [_draft(style=frozenset({"alone"}), code="CS-101") for _ in range(30)]
    catalogs = list(_catalogs(far))
    assert catalogs[0] == (_Catalog(1.0, 1.0, BOLD, (" ", 0), 3), " ")
    assert catalogs[-1] == (_Catalog(1.0, 1.0, frozenset({"alone"}), ("-", 0), 3), "-")


# ---------------------------------------------------------------------------------------------
# _layout, _same_scale, _ends_short, _measures


def test_layout_is_the_median_pitch_within_a_page_and_the_median_type_size() -> None:
    """Layout is the median pitch within a page and the median type size."""
    items = [
        _item(_line("a line", 100, size=10)),
        _item(_line("b line", 124, size=12)),
        _item(_line("c line", 148, size=11)),
        _item(_line("d line", 500, size=9)),  # a gap, not a pitch
        _item(_line("e line", 90, size=10), page=2),
    ]
    assert _layout(items) == _Layout(24.0, 10.0)
    assert _layout([]) == _Layout(0.0, 0.0)


def test_a_pitch_counts_below_three_line_heights_of_the_upper_line() -> None:
    """A pitch counts below three line heights of the upper line."""
    upper = _line("a line", 100, height=18, size=None)
    at_limit = [_item(upper), _item(_line("b", 124, size=None)), _item(_line("c", 178, height=30, size=None))]
    assert _layout(at_limit).pitch == 24.0  # 54 = 3 x 18 is a gap
    under = [_item(upper), _item(_line("b", 124, size=None)), _item(_line("c", 177, height=30, size=None))]
    assert _layout(under).pitch == 38.5
    assert _layout(under).body_scale == 18.0  # OCR lines: their heights


def test_lines_at_the_same_height_or_on_another_page_give_no_pitch() -> None:
    """Lines at the same height or on another page give no pitch."""
    same = [_item(_line("a", 100)), _item(_line("b", 100, left=600)), _item(_line("c", 124))]
    assert _layout(same).pitch == 24.0
    pages = [_item(_line("a", 100)), _item(_line("b", 130), page=2)]
    assert _layout(pages).pitch == 0.0


def test_font_sizes_are_the_same_within_a_tenth_and_ocr_heights_within_three_tenths() -> None:
    """Font sizes are the same within a tenth and OCR heights within three tenths."""
    assert _same_scale(_item(_line("a", size=10)), _item(_line("b", size=11)))
    assert not _same_scale(_item(_line("a", size=10)), _item(_line("b", size=11.01)))
    assert not _same_scale(_item(_line("a", size=11.01)), _item(_line("b", size=10)))
    assert _same_scale(_item(_line("a", size=None, height=10)), _item(_line("b", size=None, height=13)))
    assert not _same_scale(_item(_line("a", size=None, height=10)), _item(_line("b", size=None, height=13.1)))
    # one line without a font size: the rougher OCR tolerance
    assert _same_scale(_item(_line("a", size=10)), _item(_line("b", size=None, height=12)))
    assert _same_scale(_item(_line("a", size=None, height=12)), _item(_line("b", size=10)))


def test_a_line_ends_short_when_the_next_first_word_would_have_fit() -> None:
    """Ten characters over 100 px: 10 px each; room needed is (word + 1.5) characters, 3 for OCR."""
    line = _line("abcdefghij", left=100, right=200)
    assert _ends_short(_item(line, measure=296), _item(_line("abcdefgh more")))  # 96 > 95
    assert not _ends_short(_item(line, measure=295), _item(_line("abcdefgh more")))
    assert not _ends_short(_item(line, measure=300), _item(_line("abcdefghi")))
    ocr = _line("abcdefghij", left=100, right=200, size=None)
    assert _ends_short(_item(ocr, measure=291), _item(_line("abcdef x")))  # 91 > 90
    assert not _ends_short(_item(ocr, measure=290), _item(_line("abcdef x")))
    one = _line("A", left=100, right=110)  # one character 10 px wide: ``ab`` needs 35 px
    assert not _ends_short(_item(one, measure=140), _item(_line("ab")))
    assert _ends_short(_item(one, measure=146), _item(_line("ab")))


def test_a_columns_edge_is_its_usual_width_leaving_out_far_wider_lines() -> None:
    """Five lines from x=100: the 80th percentile (the fourth edge, 560) is the usual one; a line
    reaching 1.5 x that width (790) is in the column, one beyond it is not."""
    rights = [500, 520, 540, 560, 1000]
    lines = [_line("text", 100 + 24 * n, left=100, right=r) for n, r in enumerate(rights)]
    assert _measures(lines) == [560] * 5
    lines[-1] = _line("text", 196, left=100, right=790)
    assert _measures(lines) == [790] * 5
    lines[-1] = _line("text", 196, left=100, right=791)
    assert _measures(lines) == [560] * 5


def test_columns_are_told_apart_by_their_left_edge_within_one_and_a_half_line_heights() -> None:
    """Columns are told apart by their left edge within one and a half line heights."""
    left_column = [_line("text", 100 + 24 * n, left=100, right=500) for n in range(3)]
    near = _line("text", 200, left=127, right=520)  # 27 = 1.5 x 18 from the column's left edge
    far = _line("text", 224, left=128, right=540)
    assert _measures([*left_column, near]) == [520, 520, 520, 520]
    measures = _measures([*left_column, far])
    assert measures[:3] == [500, 500, 500] and measures[3] == 540
    near_left = _line("text", 200, left=73, right=520)
    assert _measures([*left_column, near_left])[:3] == [520, 520, 520]
    far_left = _line("text", 200, left=72, right=520)
    assert _measures([*left_column, far_left])[:3] == [500, 500, 500]
    other = _line("text", 100, left=700, right=1100)
    assert _measures([*left_column, other]) == [500, 500, 500, 1100]


# ---------------------------------------------------------------------------------------------
# _page_bodies


def test_page_numbers_in_the_edge_zone_are_dropped_and_elsewhere_kept() -> None:
    """A 1000 px page: the top 80 px and bottom 80 px are edge zones."""
    lines = [
        _line("Page 3", 79.9, height=18),
        _line("12", 80, height=18),
        _line("Body text here", 400),
        _line("7", 902, height=18),  # bottom at 920: inside
        _line("8", 903, height=18),  # bottom at 921: in the zone
        _line("   ", 500),
    ]
    [(page, body)] = list(_page_bodies([_page(lines, height=1000)]))
    assert page == 1
    assert [line.text for line in body] == ["12", "Body text here", "7"]


def test_running_headers_recurring_on_half_the_pages_are_dropped() -> None:
    """Running headers recurring on half the pages are dropped."""

    def pages(count: int, with_header: int) -> list[PageResult]:
        out = []
        for number in range(1, count + 1):
            lines = [_line("Body text", 400)]
            if number <= with_header:
                lines.insert(0, _line(f"Catalog {2020 + number} Edition", 20))
            out.append(_page(lines, page=number, height=1000))
        return out

    def kept(results: list[PageResult]) -> list[list[str]]:
        return [[line.text for line in body] for _, body in _page_bodies(results)]

    assert kept(pages(4, 2)) == [["Body text"]] * 4  # 2 >= max(2, 0.5 x 4)
    assert kept(pages(5, 3)) == [["Body text"]] * 5  # 3 >= 2.5
    assert kept(pages(5, 2))[:2] == [["Catalog 2021 Edition", "Body text"], ["Catalog 2022 Edition", "Body text"]]
    assert kept(pages(1, 1)) == [["Catalog 2021 Edition", "Body text"]]  # a single page has no running header


def test_a_large_heading_in_the_edge_zone_is_content() -> None:
    """Running headers are no taller than 1.5 x the page's median line height."""
    pages = []
    for number, height in ((1, 27.0), (2, 27.5)):
        lines = [_line("Chapter Title", 20, height=height), *(_line("Body", 300 + 24 * n) for n in range(3))]
        pages.append(_page(lines, page=number, height=1000))
    bodies = dict(_page_bodies([*pages, _page([], page=3, height=1000)]))
    assert [line.text for line in bodies[1]] == ["Body"] * 3
    assert [line.text for line in bodies[2]] == ["Chapter Title", "Body", "Body", "Body"]
    assert bodies[3] == []


# ---------------------------------------------------------------------------------------------
# paragraph_break


def _pair(previous: Line, item: Line, *, page: int = 1) -> list[_Item]:
    """Two body lines; the first fills its column unless it says otherwise."""
    return [_item(previous), _item(item, page=page)]


def test_the_first_line_and_a_change_of_type_size_start_paragraphs() -> None:
    """The first line and a change of type size start paragraphs."""
    items = _pair(_line("Some running text", 100, size=10), _line("More text", 124, size=12))
    assert paragraph_break(items, 0, LAYOUT)
    assert paragraph_break(items, 1, LAYOUT)
    same = _pair(_line("Some running text", 100, size=10), _line("More text", 124, size=11))
    assert not paragraph_break(same, 1, LAYOUT)


def test_a_gap_over_one_and_a_half_pitches_starts_a_paragraph() -> None:
    """Pitch 20: a line 29 px (1.45 x 20) below the last goes on; further down starts a paragraph."""
    layout = _Layout(20.0, 10.0)
    assert not paragraph_break(_pair(_line("Running text", 100), _line("more", 129)), 1, layout)
    assert paragraph_break(_pair(_line("Running text", 100), _line("more", 129.1)), 1, layout)
    # on the next page, or up in a new column, the gap says nothing
    assert not paragraph_break(_pair(_line("Running text", 100), _line("more", 400), page=2), 1, LAYOUT)
    assert not paragraph_break(_pair(_line("Running text", 400), _line("more", 100)), 1, LAYOUT)
    # without a known pitch, no gap is a break
    assert not paragraph_break(_pair(_line("Running text", 100), _line("more", 400)), 1, _Layout(0.0, 10.0))
    assert paragraph_break(_pair(_line("Running text", 100), _line("more", 134.9)), 1, _Layout(24.0, 0.0))


def test_the_gap_grows_with_a_larger_previous_line() -> None:
    """After 12 pt lines in a 10 pt body the pitch is 24 x 1.2: the limit is 41.76 px; smaller lines keep 24."""
    big = _Layout(24.0, 10.0)
    assert not paragraph_break(_pair(_line("Large text", 100, size=12), _line("more", 141.7, size=12)), 1, big)
    assert paragraph_break(_pair(_line("Large text", 100, size=12), _line("more", 141.8, size=12)), 1, big)
    assert paragraph_break(_pair(_line("Small text", 100, size=8), _line("more", 134.9, size=8)), 1, big)


def test_a_line_stopping_short_of_its_column_starts_a_paragraph() -> None:
    """A line stopping short of its column starts a paragraph."""
    short = [_item(_line("Short line.", 100), measure=600), _item(_line("Next sentence", 124))]
    assert paragraph_break(short, 1, LAYOUT)


def test_a_field_label_starts_a_paragraph() -> None:
    """A field label starts a paragraph."""
    assert paragraph_break(_pair(_line("Running text", 100), _line("Prerequisites: MATH 101", 124)), 1, LAYOUT)
    assert paragraph_break(_pair(_line("Running text", 100), _line("Note: MATH 101", 124)), 1, LAYOUT)


def test_a_bold_run_goes_on_across_lines_even_when_they_stop_short() -> None:
    """A bold run goes on across lines even when they stop short."""
    title = _line("MATH 101 Advanced Topics in", 100, bold=27)
    wrapped = _line("Number Theory", 124, bold=13)
    assert not paragraph_break([_item(title, measure=900), _item(wrapped)], 1, LAYOUT)
    plain = _line("Number Theory", 124, bold=0)
    assert paragraph_break([_item(title, measure=900), _item(plain)], 1, LAYOUT)
    partly = _line("MATH 101 Advanced Topics in", 100, bold=8)  # only the code is bold: the run ended
    assert paragraph_break([_item(partly, measure=900), _item(wrapped)], 1, LAYOUT)
    # a bold title ending in ``Title:`` goes on; a section label does not
    lead = _line("Topics: Number Theory", 124, bold=21)
    assert not paragraph_break([_item(title, measure=900), _item(lead)], 1, LAYOUT)
    label = _line("Prerequisites MATH 100", 124, bold=22)
    assert paragraph_break([_item(title, measure=900), _item(label)], 1, LAYOUT)


def test_a_bold_label_after_a_bold_header_with_credits_or_cells_is_a_field() -> None:
    """A bold label after a bold header with credits or cells is a field."""
    header = _line("MATH 101 Topics (3 credits)", 100, bold=27)
    lead = _line("Topics: Number Theory", 124, bold=21)
    assert paragraph_break([_item(header, measure=900), _item(lead)], 1, LAYOUT)
    cells = _line("MATH 101\tTopics", 100, bold=15)
    assert paragraph_break([_item(cells, measure=900), _item(lead)], 1, LAYOUT)


def test_an_ocr_title_label_is_not_a_bold_run() -> None:
    """An OCR title label is not a bold run."""
    title = _line("MATH 101 Advanced Topics in", 100, size=None, bold=None, label="title")
    wrapped = _line("Number Theory", 124, size=None, bold=None, label="title")
    assert paragraph_break([_item(title, measure=900), _item(wrapped)], 1, LAYOUT)


# ---------------------------------------------------------------------------------------------
# _entry_end


def _entry(lines: Sequence[Line]) -> tuple[list[_Item], list[list[int]]]:
    """Items and one paragraph per line."""
    return [_item(line) for line in lines], [[n] for n in range(len(lines))]


def test_an_entry_ends_at_a_heading_as_prominent_as_its_start() -> None:
    """An entry ends at a heading as prominent as its start."""
    items, paragraphs = _entry(
        [
            _line("MATH 101 Calculus I", 100, bold=8),
            _line("Limits, derivatives and integrals.", 124),
            _line("Applied Mathematics", 160, bold=19),
            _line("A section about applications.", 184),
        ]
    )
    assert _entry_end(items, paragraphs, _start(), LAYOUT) == 2


def test_a_heading_slightly_smaller_than_the_start_still_ends_it() -> None:
    """A heading slightly smaller than the start still ends it."""

    def end(size: float) -> int:
        items, paragraphs = _entry(
            [_line("MATH 101 Calculus I", 100, bold=8), _line("Some text.", 124), _line("Applied", 160, size=size)]
        )
        return _entry_end(items, paragraphs, _start(), _Layout(24.0, 8.0))

    assert end(9.7) == 2  # 0.97 x 10, and larger than 1.08 x 8
    assert end(9.69) == 3


def test_a_heading_is_prominent_when_bold_or_set_over_eight_percent_larger() -> None:
    """A heading is prominent when bold or set over eight percent larger."""

    def end(size: float, bold: int = 0) -> int:
        items, paragraphs = _entry(
            [
                _line("MATH 101 Calculus I", 100, size=10, bold=8),
                _line("Text.", 124),
                _line("Applied", 160, size=size, bold=bold),
            ]
        )
        return _entry_end(items, paragraphs, _start(), _Layout(24.0, 10.0))

    assert end(10.9) == 2
    assert end(10.8) == 3
    assert end(10.0, bold=7) == 2


def test_what_is_not_a_heading_does_not_end_an_entry() -> None:
    """What is not a heading does not end an entry."""
    for text in (
        "Applied Mathematics (3 credits)",
        "One two three four five six seven eight nine",
        "Applied Mathematics.",
        "Applied Mathematics,",
        "Applied Mathematics;",
        "Applied Mathematics:",
        "Note: see the department",
    ):
        items, paragraphs = _entry(
            [_line("MATH 101 Calculus I", 100, bold=8), _line("Text.", 124), _line(text, 160, bold=len(text))]
        )
        assert _entry_end(items, paragraphs, _start(), LAYOUT) == 3, text
    eight = "One two three four five six seven eight"
    items, paragraphs = _entry([_line("MATH 101 Calculus I", 100, bold=8), _line(eight, 160, bold=len(eight))])
    assert _entry_end(items, paragraphs, _start(), LAYOUT) == 1


def test_a_heading_of_two_lines_is_a_paragraph_not_a_heading() -> None:
    """A heading of two lines is a paragraph not a heading."""
    items = [
        _item(_line("MATH 101 Calculus I", 100, bold=8)),
        _item(_line("Applied", 124, bold=7)),
        _item(_line("Maths", 148, bold=5)),
    ]
    assert _entry_end(items, [[0], [1, 2]], _start(), LAYOUT) == 2


def test_the_title_line_after_a_code_alone_does_not_end_its_entry() -> None:
    """The title line after a code alone does not end its entry."""
    items, paragraphs = _entry(
        [
            _line("MATH 101", 100, bold=8),
            _line("Calculus", 124, bold=8),
            _line("Limits and integrals.", 148),
            _line("Geometry", 172, bold=8),
        ]
    )
    assert _entry_end(items, paragraphs, _start(style=frozenset({"bold", "alone"})), LAYOUT) == 3
    assert _entry_end(items, paragraphs, _start(style=BOLD), LAYOUT) == 1


# ---------------------------------------------------------------------------------------------
# _candidate


def _run(lines: Sequence[Line]) -> list[_Item]:
    """Lines filling their column (no short ends): only gaps and type say where paragraphs are."""
    return [_item(line) for line in lines]


FILL = "Students study the topic in lectures and weekly problem sets."


def test_a_bold_code_with_credits_at_a_paragraph_start_is_a_strong_start() -> None:
    """A bold code with credits at a paragraph start is a strong start."""
    items = _run([_line("MATH 101 Calculus I (4 credits)", 100, bold=8), _line(FILL, 124)])
    assert _candidate(items, 0, MATCHER, LAYOUT) == _Start(0, _code(), 4, BOLD, (" ", 0))
    not_bold = _run([_line("MATH 101 Calculus I (4 credits)", 100, bold=7), _line(FILL, 124)])
    assert _candidate(not_bold, 0, MATCHER, LAYOUT) == _Start(0, _code(), 2, frozenset(), (" ", 0))


def test_a_code_inside_a_paragraph_needs_some_evidence() -> None:
    """A code inside a paragraph needs some evidence."""
    plain = _run([_line(FILL, 100), _line("MATH 101 Calculus I", 124)])
    assert _candidate(plain, 1, MATCHER, LAYOUT) is None
    credited = _run([_line(FILL, 100), _line("MATH 101 Calculus I 4", 124)])
    assert _candidate(credited, 1, MATCHER, LAYOUT) == _Start(1, _code(), 1, frozenset(), (" ", 0))
    assert _candidate(_run([_line(FILL, 100)]), 0, MATCHER, LAYOUT) is None  # no code at all


def test_references_in_running_text_are_not_starts() -> None:
    """References in running text are not starts."""
    for text in ("MATH 101 students must register", "MATH 101 or MATH 102", "MATH 101, MATH 102", "MATH 101 and"):
        assert _candidate(_run([_line(text, 100, bold=8)]), 0, MATCHER, LAYOUT) is None, text
    for previous in ("Prerequisites: MATH 100 and", "Students who completed", "see"):
        items = _run([_line(previous, 100), _line("MATH 101 Calculus I (4 credits)", 148, bold=8)])
        assert _candidate(items, 1, MATCHER, LAYOUT) is None, previous


def test_a_code_alone_on_its_line_before_a_capitalised_title_is_a_start() -> None:
    """A code alone on its line before a capitalised title is a start."""
    items = _run([_line("MATH 101", 100, bold=8), _line("Calculus I", 124, bold=10), _line(FILL, 148)])
    assert _candidate(items, 0, MATCHER, LAYOUT) == _Start(0, _code(), 5, frozenset({"bold", "alone"}), (" ", 0))
    ocr = _run([_line("MATH 101", 100, bold=None, size=None), _line("Calculus I", 124, bold=None, size=None)])
    assert _candidate(ocr, 0, MATCHER, _Layout(24.0, 18.0)) == _Start(0, _code(), 3, frozenset({"alone"}), (" ", 0))


def test_a_bare_code_not_followed_by_a_title_is_a_list_item() -> None:
    """A bare code not followed by a title is a list item."""
    cases = [
        [_line("MATH 101", 100, bold=8), _line("calculus for engineers", 124)],
        [_line("MATH 101", 100, bold=8), _line("MATH 102", 124, bold=8)],
        [_line("MATH 101.", 100, bold=9), _line("Calculus I", 124)],
        [_line("MATH 101", 100, bold=8)],
    ]
    for lines in cases:
        assert _candidate(_run(lines), 0, MATCHER, LAYOUT) is None, lines[0].text


def test_a_title_run_in_after_punctuation_is_evidence() -> None:
    """A title run in after punctuation is evidence."""
    for text in ("MATH 101. Calculus I", "MATH 101 - Calculus I", "MATH 101 – Calculus I", "MATH 101: Calculus I"):
        items = _run([_line(FILL, 100), _line(text, 124)])
        assert _candidate(items, 1, MATCHER, LAYOUT) == _Start(1, _code(), 1, frozenset({"run-in"}), (" ", 0)), text
    assert _candidate(_run([_line(FILL, 100), _line("MATH 101 (Calculus I)", 124)]), 1, MATCHER, LAYOUT) is None


def test_a_one_word_run_in_title_and_a_credits_cell_are_evidence() -> None:
    """A one word run in title and a credits cell are evidence."""
    one_word = _run([_line(FILL, 100), _line("MATH 101. Calculus", 124)])
    assert _candidate(one_word, 1, MATCHER, LAYOUT) == _Start(1, _code(), 1, frozenset({"run-in"}), (" ", 0))
    credits_cell = _run([_line(FILL, 100), _line("MATH 101\t3\tCalculus", 124)])
    assert _candidate(credits_cell, 1, MATCHER, LAYOUT) == _Start(1, _code(), 2, frozenset({"cells"}), (" ", 0))
    trailing_tab = _run([_line(FILL, 100), _line("MATH 101 Calculus\t", 124)])
    assert _candidate(trailing_tab, 1, MATCHER, LAYOUT) is None


def test_cells_and_large_type_are_evidence() -> None:
    """Cells and large type are evidence."""
    cells = _run([_line(FILL, 100), _line("MATH 101\tCalculus I", 124)])
    assert _candidate(cells, 1, MATCHER, LAYOUT) == _Start(1, _code(), 1, frozenset({"cells"}), (" ", 0))
    large = _run([_line(FILL, 100, size=11.6), _line("MATH 101 Calculus I", 124, size=11.6)])
    assert _candidate(large, 1, MATCHER, LAYOUT) == _Start(1, _code(), 1, frozenset({"large"}), (" ", 0))
    usual = _run([_line(FILL, 100, size=11.5), _line("MATH 101 Calculus I", 124, size=11.5)])
    assert _candidate(usual, 1, MATCHER, LAYOUT) is None
    ocr_layout = _Layout(30.0, 20.0)  # OCR heights: larger than 1.3 x 20 = 26
    ocr = _run([_line(FILL, 100, size=None, height=26.5), _line("MATH 101 Calculus I", 124, size=None, height=26.5)])
    assert _candidate(ocr, 1, MATCHER, ocr_layout) == _Start(1, _code(), 1, frozenset({"large"}), (" ", 0))
    ocr = _run([_line(FILL, 100, size=None, height=26), _line("MATH 101 Calculus I", 124, size=None, height=26)])
    assert _candidate(ocr, 1, MATCHER, ocr_layout) is None


def test_a_table_row_with_a_title_cell_is_a_row_start() -> None:
    """A table row with a title cell is a row start."""
    row = _line("MATH 101\tCalculus I\t4", 124, cells=((100, 180), (200, 400), (500, 520)))
    items = _run([_line(FILL, 100), row])
    assert _candidate(items, 1, MATCHER, LAYOUT) == _Start(1, _code(), 3, frozenset({"row"}), (" ", 0))
    dashed = _line("GS-CHE-5048\tSeminar in Chemistry\t3", 124, cells=((100, 180), (200, 400), (500, 520)))
    found = _candidate(_run([_line(FILL, 100), dashed]), 1, MATCHER, LAYOUT)
    assert found is not None and (found.style, found.shape, found.score) == (frozenset({"row"}), ("-", 1), 3)
    untitled = _line("MATH 101\t4\t3", 124, cells=((100, 180), (200, 400), (500, 520)))
    found = _candidate(_run([_line(FILL, 100), untitled]), 1, MATCHER, LAYOUT)
    assert found is not None and found.style == frozenset({"cells"})


def test_code_shapes_count_subject_parts_and_mark_number_only_codes() -> None:
    """Code shapes count subject parts and mark number only codes."""
    dashed = _candidate(_run([_line("GS-CHE-5048 Seminar in Chemistry (3 credits)", 100, bold=11)]), 0, MATCHER, LAYOUT)
    assert dashed is not None and dashed.shape == ("-", 1)
    numbered = _candidate(_run([_line("434L/834L. Structures Laboratory (3 cr)", 100, bold=9)]), 0, MATCHER, LAYOUT)
    assert numbered is not None and numbered.shape == ("", -1)
    assert numbered.style == frozenset({"bold", "run-in"}) and numbered.score == 5


# ---------------------------------------------------------------------------------------------
# find_starts


def _catalog_items(starts: Sequence[tuple[str, int]]) -> list[_Item]:
    """Each start line (text, bold characters) with a description line, entries a gap apart."""
    lines, y = [], 100.0
    for text, bold in starts:
        lines += [_line(text, y, bold=bold), _line(FILL, y + 24)]
        y += 72
    return _run(lines)


def test_no_code_lines_no_starts() -> None:
    """No code lines no starts."""
    assert find_starts(_run([_line(FILL, 100)]), MATCHER, LAYOUT) == []


def test_starts_unlike_their_section_need_two_points_of_evidence_beyond_the_difference() -> None:
    """Starts unlike their section need two points of evidence beyond the difference."""
    usual = [(f"MATH 10{n} Calculus (4 credits)", 8) for n in range(4)]
    kept_at_two = _catalog_items([*usual, ("MATH 201. Topology (3 credits)", 0)])  # run-in 1 + credits + paragraph
    assert [s.code.code for s in find_starts(kept_at_two, MATCHER, LAYOUT)][-1] == "MATH 201"
    dropped_at_one = _catalog_items([*usual, ("MATH 201. Topology", 0)])  # run-in + paragraph, less 1
    assert [s.code.code for s in find_starts(dropped_at_one, MATCHER, LAYOUT)] == [f"MATH 10{n}" for n in range(4)]
    shaped = _catalog_items([*usual, ("GS-MATH-201 Topology (3 credits)", 11)])  # 4, less 1 for its shape
    assert find_starts(shaped, MATCHER, LAYOUT)[-1].code.code == "GS-MATH-201"
    both = _catalog_items([*usual, ("GS-MATH-201 Topology 3", 0), ("GS-MATH-202 Topology 3", 11)])
    assert [s.code.code for s in find_starts(both, MATCHER, LAYOUT)] == [
        *(f"MATH 10{n}" for n in range(4)),
        "GS-MATH-202",
    ]


def test_number_only_codes_count_only_where_they_are_usual() -> None:
    """Number only codes count only where they are usual."""
    mixed = _catalog_items(
        [("MATH 101 Calculus (4 credits)", 8), ("MATH 102 Calculus (4 credits)", 8), ("434. Structures (3 cr)", 4)]
    )
    assert [s.code.code for s in find_starts(mixed, MATCHER, LAYOUT)] == ["MATH 101", "MATH 102"]
    numbered = _catalog_items(
        [("434. Structures (3 cr)", 4), ("435. Statics (3 cr)", 4), ("MATH 102 Calculus (4 credits)", 8)]
    )
    assert [s.code.code for s in find_starts(numbered, MATCHER, LAYOUT)] == ["434", "435", "MATH 102"]


# ---------------------------------------------------------------------------------------------
# _read_fields


def _read(paragraphs: Sequence[str | Line | Sequence[Line]], fields: _Fields | None = None) -> _Fields:
    """Read paragraphs after a header: a text is a plain one-line paragraph, a list of lines one paragraph."""
    items: list[_Item] = []
    groups: list[list[int]] = []
    for paragraph in paragraphs:
        lines = [paragraph] if isinstance(paragraph, (str, Line)) else list(paragraph)
        groups.append([])
        for line in lines:
            groups[-1].append(len(items))
            items.append(_item(_line(line, 100 + 24 * len(items)) if isinstance(line, str) else line))
    fields = fields if fields is not None else _Fields()
    _read_fields(items, groups, fields, PROFILE, LAYOUT)
    return fields


def test_credits_description_and_a_labelled_prerequisite_are_read() -> None:
    """Credits description and a labelled prerequisite are read."""
    fields = _read(
        ["3 credits", "Limits and derivatives.", "Prerequisites: MATH 100. Placement exam recommended. Meets weekly."]
    )
    assert fields.credits is not None and (fields.credits.low, fields.credits.high) == (3.0, 3.0)
    assert fields.description == ["Limits and derivatives.", "Meets weekly."]
    assert fields.prerequisites == ["MATH 100. Placement exam recommended."]


def test_a_short_credits_paragraph_has_its_credits_near_its_first_word() -> None:
    """Within eight characters after the first word: ``Offered yearly 3 credits`` (15 = 7 + 8) is credits."""
    near = _read(["Offered yearly 3 credits"])
    assert near.credits is not None and near.credits.low == 3.0 and near.description == []
    far = _read(["Offered yearly, 3 credits"])
    assert far.credits is None and far.description == ["Offered yearly, 3 credits"]


def test_a_paragraph_of_forty_characters_led_by_credits_keeps_its_text() -> None:
    """A paragraph of forty characters led by credits keeps its text."""
    short = _read(["3 credits; lecture and laboratory weekl"])  # 39 characters: a credits line
    assert short.credits is not None and short.credits.low == 3.0 and short.description == []
    long = _read(["3 credits; lecture and laboratory weekly"])  # 40: credits, then the description
    assert long.credits is not None and long.credits.low == 3.0
    assert long.description == ["lecture and laboratory weekly"]
    led = _read(["Credits 3. 3 Lecture Hours. Students meet weekly in the lab."])
    assert led.credits is not None and led.credits.low == 3.0
    assert led.description == ["3 Lecture Hours. Students meet weekly in the lab."]


def test_text_after_leading_credits_is_read_like_any_paragraph() -> None:
    """``Credits: 3. Prerequisites: ...`` gives both; the text keeps its first letter (``X-ray``)."""
    fields = _read(["Credits: 3. Prerequisites: MATH 100 or consent."])
    assert fields.credits is not None and fields.credits.low == 3.0
    assert fields.prerequisites == ["MATH 100 or consent."] and fields.description == []
    fields = _read(["3 credits. X-ray imaging of the chest and the hand."])
    assert fields.description == ["X-ray imaging of the chest and the hand."]


def test_credit_labels_give_credits_and_other_labels_do_not() -> None:
    """Credit labels give credits and other labels do not."""
    hours = _read(["Hours: 3"])
    assert hours.credits is not None and (hours.credits.low, hours.credits.high) == (3.0, 3.0)
    units = _read(["Credit Hours: 2-4 by arrangement"])
    assert units.credits is not None and (units.credits.low, units.credits.high) == (2.0, 4.0)
    assert units.description == []
    lecture = _read(["Lecture: 3 hours"])
    assert lecture.credits is None and lecture.description == [] and lecture.prerequisites == []


def test_credits_found_first_are_kept() -> None:
    """Credits found first are kept."""
    first = Credits(4.0, 4.0, 0, 9)
    fields = _read(["Credits: 3", "3 credits; lecture and laboratory weekly", "Hours: 2"], _Fields(credits=first))
    assert fields.credits is first
    assert fields.description == ["3 credits; lecture and laboratory weekly"]
    labelled = _read(["Credits: 3"])
    assert labelled.credits is not None and labelled.credits.low == 3.0 and labelled.description == []
    both = _read(["Hours: 3", "Units: 2-4"])
    assert both.credits is not None and both.credits.low == 3.0


def test_a_one_line_table_row_is_skipped_but_a_wrapped_one_is_text() -> None:
    """A one line table row is skipped but a wrapped one is text."""
    row = _line("MATH 102\tCalculus II", 100)
    assert _read([row]).description == []
    wrapped = [_line("MATH 102\tCalculus II", 100), _line("continued", 124)]
    assert _read([wrapped]).description == ["MATH 102 Calculus II continued"]


def test_description_and_inline_prerequisite_labels() -> None:
    """Description and inline prerequisite labels."""
    fields = _read(["Coreq: CSCE 230L. Prereq: CSCE 150.", "Description: Limits.", "Corequisite: MATH 102."])
    assert fields.prerequisites == ["CSCE 150."]
    assert fields.description == ["Limits."]


def test_headed_sections_route_their_paragraphs() -> None:
    """Headed sections route their paragraphs."""
    fields = _read(
        [
            _line("Prerequisites", 100, bold=13),
            "MATH 100 or consent.",
            "Description",
            "Limits.",
            "Credits",
            "Three hours, 4",
        ]
    )
    assert fields.prerequisites == ["MATH 100 or consent."]
    assert fields.description == ["Limits."]
    assert fields.credits is not None and fields.credits.low == 4.0


def test_a_label_after_a_headed_section_ends_it_but_not_the_description() -> None:
    """A label after a headed section ends it but not the description."""
    headed = _read(["Description", "Limits.", "Note: offered in fall.", "Trailing text."])
    assert headed.description == ["Limits."]
    plain = _read(["Limits.", "Note: offered in fall.", "Trailing text."])
    assert plain.description == ["Limits.", "Trailing text."]


def test_other_headings_end_the_description() -> None:
    """Other headings end the description."""
    bold = _read(["Limits.", _line("Learning Outcomes", 124, bold=17), "Students can differentiate."])
    assert bold.description == ["Limits."]
    ocr = _read(["Limits.", _line("Literature", 124, size=None, bold=None), "Smith, J. Calculus."])
    assert ocr.description == ["Limits."]
    plain = _read(["Limits.", _line("Learning Outcomes", 124), "Students can differentiate."])
    assert plain.description == ["Limits.", "Learning Outcomes", "Students can differentiate."]


def test_a_credits_section_keeps_credits_found_earlier() -> None:
    """A credits section keeps credits found earlier."""
    first = Credits(4.0, 4.0, 0, 9)
    fields = _read(["Credits", "Three hours, 3"], _Fields(credits=first))
    assert fields.credits is first and fields.description == []


# ---------------------------------------------------------------------------------------------
# parse_pages, _entry_fields, _form_entries


WRAP = " >>"
RIGHT = 1100.0


def _text_page(
    rows: Sequence[tuple[str, int | None]],
    *,
    page: int = 1,
    top: float = 200,
    confidence: float = 1.0,
    ocr: bool = False,
) -> PageResult:
    """Lines 24 px apart; ``rows`` are (text, bold characters), ``""`` a blank line, ``WRAP`` a line reaching
    the column's edge. OCR lines have neither font sizes nor bold."""
    lines, y = [], top
    for text, bold in rows:
        if text:
            right = RIGHT if text.endswith(WRAP) else 100 + 9 * len(text)
            text = text.removesuffix(WRAP)
            size, bold_chars = (None, None) if ocr else (10.0, bold)
            lines.append(Line(text, (100, y, min(right, RIGHT), y + 18), confidence, size, bold_chars))
        y += 24
    return _page(lines, page=page, ocr=ocr)


def test_entries_carry_their_fields_box_confidence_and_method() -> None:
    """Entries carry their fields box confidence and method."""
    rows = [
        ("MATH 101 Calculus I (4 credits)", 8),
        (FILL + " Limits, derivatives and" + WRAP, 0),
        ("integrals.", 0),
        ("Prerequisites: MATH 090 or placement.", 0),
        ("", None),
        ("MATH 102 Calculus II (1-3 credits)", 8),
        ("Series.", 0),
    ]
    first, second = parse_pages([_text_page(rows)])
    assert (first.course_code, first.subject, first.number) == ("MATH 101", "MATH", "101")
    assert (first.title, first.credits_min, first.credits_max) == ("Calculus I", 4.0, 4.0)
    assert first.description == FILL + " Limits, derivatives and integrals."
    assert first.prerequisites == "MATH 090 or placement."
    assert first.page == 1 and first.box == (100, 200, RIGHT, 290)
    assert (first.confidence, first.reasons, first.extraction_method) == (1.0, (), "text-layer")
    assert (second.title, second.description, second.prerequisites) == ("Calculus II", "Series.", None)
    assert (second.credits_min, second.credits_max) == (1.0, 3.0)
    assert second.box == (100, 320, 100 + 9 * len("MATH 102 Calculus II (1-3 credits)"), 362)


def test_an_entrys_box_spans_all_its_lines() -> None:
    """An entry's box spans all its lines."""
    lines = [
        _line("MATH 101 Calculus I (4 credits)", 200, left=100, bold=8),
        _line(FILL, 224, left=90, right=700),
        _line("and integrals.", 248, left=120, right=300),
    ]
    [entry] = parse_pages([_page(lines)])
    assert entry.box == (90, 200, 700, 266)


def test_an_entry_running_onto_the_next_page_keeps_the_box_on_its_first_page() -> None:
    """An entry running onto the next page keeps the box on its first page."""
    one = _text_page([("MATH 101 Calculus I (4 credits)", 8), (FILL + WRAP, 0)], top=1400)
    two = _text_page([("more about limits.", 0)], page=2, top=150)
    [entry] = parse_pages([one, two])
    assert entry.description == FILL + " more about limits."
    assert entry.box == (100, 1400, RIGHT, 1442) and entry.page == 1


def test_ocr_codes_take_the_catalogs_usual_separator_and_say_so() -> None:
    """OCR codes take the catalog's usual separator and say so."""
    rows = []
    for code in ("MATH 101", "MATH 102", "MATH103", "MATH 104"):
        rows += [(f"{code} Calculus (4 credits)", 0), (FILL, 0), ("", None)]
    entries = parse_pages([_text_page(rows, ocr=True, confidence=0.99)])
    assert [e.course_code for e in entries] == ["MATH 101", "MATH 102", "MATH 103", "MATH 104"]
    assert entries[2].reasons == ("code separator normalised from 'MATH103'",) and entries[2].number == "103"
    assert [e.reasons for e in entries[:2] + entries[3:]] == [(), (), ()]
    text_layer = parse_pages([_text_page(rows)])
    assert [e.course_code for e in text_layer] == ["MATH 101", "MATH 102", "MATH103", "MATH 104"]
    assert text_layer[2].reasons == ()


def test_ocr_titles_get_their_roman_numerals_back_and_lose_cross_listings() -> None:
    """OCR titles get their roman numerals back and lose cross listings."""
    rows = [("MATH 101 Calculus Il (4 credits)", 0), (FILL, 0), ("", None)]
    rows += [("ELEC 270 Digital Logic Design (ELEC 370) (3 credits)", 0), (FILL, 0)]
    ocr = parse_pages([_text_page(rows, ocr=True)])
    assert [e.title for e in ocr] == ["Calculus II", "Digital Logic Design"]
    text_layer = parse_pages([_text_page([(t, 8 if t else None) for t, _ in rows])])
    assert [e.title for e in text_layer] == ["Calculus Il", "Digital Logic Design"]


def test_a_bold_code_alone_with_a_plain_title_is_doubted() -> None:
    """A bold code alone with a plain title is doubted."""
    rows = [("MATH 101", 8), ("Calculus I", 0), (FILL, 0), ("", None), ("MATH 102", 8), ("Calculus II", 0), (FILL, 0)]
    doubt = "title not set in bold like its code (it may be the description's first words)"
    entries = parse_pages([_text_page(rows)])
    assert [e.title for e in entries] == ["Calculus I", "Calculus II"]
    assert [e.reasons for e in entries] == [(doubt,), (doubt,)]
    assert entries[0].confidence == pytest.approx(0.95)  # 0.75 + 0.15 + 0.1 + 0.05, less 0.1 for the doubt
    ocr = parse_pages([_text_page(rows, ocr=True)])  # no bold to compare: no doubt
    assert [e.title for e in ocr] == ["Calculus I", "Calculus II"] and [e.reasons for e in ocr] == [(), ()]


def test_a_code_alone_and_its_title_without_a_description() -> None:
    """A bold title after a bold code is not doubted; a plain one is, even as the entry's last line."""
    [entry] = parse_pages([_text_page([("MATH 101", 8), ("Calculus I", 10)])])
    assert (entry.title, entry.description, entry.reasons) == ("Calculus I", None, ())
    rows = [("MATH 100", 8), ("Algebra", 0), *[(FILL + WRAP, 0)] * 6, ("Groups.", 0), ("", None)]
    *_, entry = parse_pages([_text_page([*rows, ("MATH 101", 8), ("Calculus I", 0)])])
    assert entry.title == "Calculus I"
    assert entry.reasons == ("title not set in bold like its code (it may be the description's first words)",)


def test_a_labelled_description_with_a_prerequisite_run_in_keeps_both() -> None:
    rows = [("MATH 101 Calculus I (4 credits)", 8), ("Description: Limits. Prerequisite: MATH 100.", 0)]
    [entry] = parse_pages([_text_page(rows)])
    assert (entry.description, entry.prerequisites) == ("Limits.", "MATH 100.")


def test_a_prerequisite_run_into_the_description_is_moved_out() -> None:
    """A prerequisite run into the description is moved out."""
    rows = [("MATH 101 Calculus I (4 credits)", 8), ("Limits. Prerequisite: MATH 090. Taught weekly.", 0)]
    [entry] = parse_pages([_text_page(rows)])
    assert entry.prerequisites == "MATH 090."
    assert entry.description is not None and " ".join(entry.description.split()) == "Limits. Taught weekly."
    labelled = [*rows, ("Prerequisites: MATH 080.", 0)]
    [entry] = parse_pages([_text_page(labelled)])
    assert entry.prerequisites == "MATH 090. MATH 080."  # in reading order
    assert entry.description is not None and " ".join(entry.description.split()) == "Limits. Taught weekly."


def test_a_description_run_into_the_header_line_goes_on_in_the_next_paragraph() -> None:
    """The text after a bold ``Code Title.`` run is the description's start."""
    rows = [("MATH 101 Calculus I. Limits and derivatives.", 20), ("Taught weekly.", 0)]
    [entry] = parse_pages([_text_page(rows)])
    assert (entry.title, entry.description) == ("Calculus I", "Limits and derivatives. Taught weekly.")


def test_a_description_of_punctuation_only_is_none() -> None:
    """A description of punctuation only is none."""
    [entry] = parse_pages([_text_page([("MATH 101 Calculus I (4 credits).", 8), (". .", 0)])])
    assert entry.description is None and entry.title == "Calculus I"
    rows = [("MATH 101 Calculus I (4 credits)", 8), ("", None), (".", 0), ("", None)]
    rows += [("MATH 102 Calculus II (4 credits)", 8), ("Series.", 0), ("Sums.", 0), ("Tests.", 0)]
    first, second = parse_pages([_text_page(rows)])  # a paragraph of its own: a stray full stop
    assert first.description is None and second.description == "Series. Sums. Tests."


def test_an_entry_ends_at_a_heading_like_its_own_start() -> None:
    """An entry ends at a heading like its own start."""
    rows = [
        ("MATH 101 Calculus I (4 credits)", 31),
        ("Limits.", 0),
        ("", None),
        ("Graduate Courses", 16),
        ("Students choose with their advisor.", 0),
    ]
    [entry] = parse_pages([_text_page(rows)])
    assert entry.description == "Limits." and entry.box == (100, 200, 100 + 9 * 31, 242)


def test_an_empty_prerequisite_label_is_no_prerequisite() -> None:
    """An empty prerequisite label is no prerequisite."""
    [entry] = parse_pages([_text_page([("MATH 101 Calculus I (4 credits)", 8), ("Limits.", 0), ("Prerequisites:", 0)])])
    assert entry.prerequisites is None and entry.description == "Limits."


def test_no_pages_no_entries() -> None:
    """No pages no entries."""
    assert parse_pages([]) == []
    assert parse_pages([_text_page([(FILL, 0)])]) == []


# ---------------------------------------------------------------------------------------------
# table rows: _entry_fields, _table_columns

COLUMNS = ((100.0, 180.0), (200.0, 500.0), (600.0, 640.0), (700.0, 900.0))


def _row(
    cells: Sequence[str],
    y: float,
    *,
    spans: Sequence[tuple[float, float]] = COLUMNS,
    bold: int | None = 0,
    ocr: bool = False,
) -> Line:
    """A table row: one cell per text, under ``spans``."""
    spans = tuple(spans[: len(cells)])
    box = (spans[0][0], y, spans[-1][1], y + 18)
    return Line("\t".join(cells), box, 1.0, None if ocr else 10.0, None if ocr else bold, "text", spans)


def test_table_rows_read_their_cells_under_the_header() -> None:
    """Table rows read their cells under the header."""
    lines = [
        _row(["Code", "Title", "Credits", "Prerequisites"], 200),
        _row(["MATH 101", "Introduction to", "4", "MATH 090"], 224),
        _line("Calculus", 242, left=200, right=280),
        _row(["MATH 102", "Series.", "4", "-"], 272),
    ]
    first, second = parse_pages([_page(lines)])
    assert (first.course_code, first.title, first.credits_min, first.prerequisites) == (
        "MATH 101",
        "Introduction to Calculus",
        4.0,
        "MATH 090",
    )
    assert first.box == (100, 224, 900, 242) and first.description is None
    assert (second.title, second.prerequisites, second.reasons) == ("Series", None, ())


def test_a_row_does_not_take_the_next_rows_or_pages_cells() -> None:
    """A row does not take the next rows or pages cells."""
    lines = [
        _row(["Code", "Title", "Credits"], 200),
        _row(["MATH 101", "Calculus", "4"], 224),
        _row(["MATH 102", "Series"], 242),
    ]
    first, second = parse_pages([_page(lines)])
    assert (first.title, second.title) == ("Calculus", "Series")
    assert (first.credits_min, second.credits_min) == (4.0, None)
    one = _page([_row(["Code", "Title", "Credits"], 1400), _row(["MATH 101", "Calculus", "4"], 1424)])
    two = _page([_line("Supplementary Topics", 150, left=200, right=380)], page=2)
    [entry] = parse_pages([one, two])
    assert entry.title == "Calculus"


def test_ocr_rows_get_their_roman_numerals_back() -> None:
    """OCR rows get their roman numerals back."""
    lines = [_row(["Code", "Title", "Credits"], 200, ocr=True), _row(["MATH 102", "Calculus Il", "4"], 224, ocr=True)]
    [entry] = parse_pages([_page(lines, ocr=True)])
    assert entry.title == "Calculus II"
    lines = [_row(["Code", "Title", "Credits"], 200), _row(["MATH 102", "Calculus Il", "4"], 224)]
    [entry] = parse_pages([_page(lines)])
    assert entry.title == "Calculus Il"


def test_a_row_sharing_merged_cells_with_the_line_above_is_doubted() -> None:
    """A row sharing merged cells with the line above is doubted."""
    lines = [
        _row(["Code", "Title", "Credits"], 200),
        _row(["MATH 101", "Calculus", "4"], 224),
        _row(["Calculus Sequence", "4"], 248, spans=COLUMNS[1:]),
        _row(["MATH 102", "Laboratory Part"], 272),
    ]
    first, second = parse_pages([_page(lines)])
    assert first.reasons == () and first.confidence == 1.0
    assert second.credits_min == 4.0
    assert second.reasons == ("name or credits read from cells merged with the row above",)
    assert second.confidence == pytest.approx(0.9)


def test_a_merged_row_looks_past_other_merged_lines_above_it() -> None:
    """A merged row looks past other merged lines above it."""
    lines = [
        _row(["Code", "Title", "Credits"], 200),
        _row(["Calculus Sequence", "4"], 224, spans=COLUMNS[1:]),
        _row(["(two terms)"], 248, spans=COLUMNS[1:]),
        _row(["MATH 102", "Laboratory Part"], 272),
    ]
    [entry] = parse_pages([_page(lines)])
    assert entry.credits_min == 4.0
    assert entry.reasons == ("name or credits read from cells merged with the row above",)


def test_a_merged_row_borrows_from_the_pages_first_line_and_keeps_its_wrapped_cells() -> None:
    lines = [_row(["Calculus Sequence", "4"], 200, spans=COLUMNS[1:]), _row(["MATH 102", "Laboratory Part"], 224)]
    [entry] = parse_pages([_page(lines)])
    assert entry.credits_min == 4.0
    lines = [
        _row(["Code", "Title", "Credits", "Prerequisites"], 176),
        _row(["Calculus Sequence", "4"], 200, spans=COLUMNS[1:3]),
        _row(["MATH 102", "Laboratory Part", "", "MATH 090 or"], 224),
        _line("MATH 091", 242, left=700, right=780),
    ]
    [entry] = parse_pages([_page(lines)])
    assert (entry.credits_min, entry.prerequisites) == (4.0, "MATH 090 or MATH 091")
    assert entry.reasons == ("name or credits read from cells merged with the row above",)


def test_a_merged_row_does_not_borrow_from_a_bold_line_or_another_row() -> None:
    """A merged row does not borrow from a bold line or another row."""
    lines = [
        _row(["Code", "Title", "Credits"], 200),
        _row(["Calculus Sequence", "4"], 248, spans=COLUMNS[1:], bold=len("Calculus Sequence\t4")),
        _row(["MATH 102", "Laboratory Part"], 272),
    ]
    [entry] = parse_pages([_page(lines)])
    assert (
        entry.credits_min is None and "name or credits read from cells merged with the row above" not in entry.reasons
    )
    lines = [
        _row(["Code", "Title", "Credits"], 200),
        _row(["MATH 101", "Calculus", "4"], 224),
        _row(["MATH 102", "Laboratory Part"], 248),
    ]
    assert parse_pages([_page(lines)])[1].credits_min is None


def test_a_merged_row_does_not_borrow_from_the_previous_page() -> None:
    """A merged row does not borrow from the previous page."""
    one = _page([_row(["Code", "Title", "Credits"], 1400), _row(["Calculus Sequence", "4"], 1424, spans=COLUMNS[1:])])
    two = _page([_row(["MATH 102", "Laboratory Part"], 150)], page=2)
    [entry] = parse_pages([one, two])
    assert entry.credits_min is None and entry.reasons == ()


def test_a_row_with_two_code_like_cells_is_doubted() -> None:
    """A row with two code like cells is doubted."""
    spans = ((100.0, 150.0), (160.0, 240.0), (300.0, 500.0), (600.0, 640.0))
    lines = [
        _row(["DC-13", "IT 601", "Unix Programming", "3"], 224, spans=spans),
        _row(["DC-14", "IT 602", "Shell Scripting", "3"], 248, spans=spans),
    ]
    entries = parse_pages([_page(lines)])
    assert [(e.course_code, e.title, e.credits_min) for e in entries] == [
        ("IT 601", "Unix Programming", 3.0),
        ("IT 602", "Shell Scripting", 3.0),
    ]
    assert [e.reasons for e in entries] == [("the row has more than one code-like cell",)] * 2


def _table_items(lines: Sequence[Line | tuple[int, Line]]) -> list[_Item]:
    return [_item(line[1], page=line[0]) if isinstance(line, tuple) else _item(line) for line in lines]


def test_a_tables_header_applies_to_its_rows_and_carries_to_the_next_page() -> None:
    """A table's header applies to its rows and carries to the next page."""
    header = _row(["Code", "Title", "Credits"], 200)
    items = _table_items(
        [
            header,
            _row(["MATH 101", "Calculus", "4"], 224),
            _row(["MATH 102", "Series", "4"], 248),
            (2, _line("Mathematics (continued)", 100)),
            (2, _row(["MATH 103", "Topology", "3"], 124)),
        ]
    )
    columns = _table_columns(items, {1, 2, 4})
    assert columns[1] is not None and set(columns[1].spans) == {"title", "credits"}
    assert columns == {1: columns[1], 2: columns[1], 4: columns[1]}


def test_a_header_is_looked_for_eight_lines_above_a_tables_first_row_on_its_page() -> None:
    """A header is looked for eight lines above a table's first row on its page."""
    header = _row(["Code", "Title", "Credits"], 100)
    fillers = [_line(f"Note {n}", 124 + 24 * n) for n in range(8)]
    row = _row(["MATH 101", "Calculus", "4"], 400)
    near = _table_items([header, *fillers[:7], row])
    assert _table_columns(near, {8})[8] is not None
    far = _table_items([header, *fillers, row])
    assert _table_columns(far, {9}) == {9: None}
    other_page = _table_items([header, (2, row)])
    assert _table_columns(other_page, {1}) == {1: None}
    swapped = ((100.0, 180.0), (200.0, 260.0), (300.0, 600.0))
    newer = _row(["Code", "Credits", "Title"], 500, spans=swapped)
    second = _row(["MATH 201", "3", "Topology"], 524, spans=swapped)
    items = _table_items([header, row, _line("Electives", 450), newer, second])
    columns = _table_columns(items, {1, 4})
    assert columns[1] is not None and columns[4] is not None and columns[1] != columns[4]


# ---------------------------------------------------------------------------------------------
# form pages


def _form(
    *, page: int = 1, credits: str = "8 ECTS", confidence: float = 1.0, title: str = "Mathematik", ocr: bool = False
) -> PageResult:
    """A form page: a large unit number box and ``Label : value`` fields."""
    size = None if ocr else 10.0
    lines = [
        Line("1.1", (100, 150, 160, 190), confidence, None if ocr else 20.0, None if ocr else 3),
        Line(f"Modulname : {title}", (100, 220, 400, 238), confidence, size, None if ocr else 0),
        Line(f"Leistungspunkte : {credits}", (100, 250, 420, 268), confidence, size, None if ocr else 0),
        Line("Voraussetzungen : keine", (120, 280, 380, 298), confidence, size, None if ocr else 0),
    ]
    return _page(lines, page=page, ocr=ocr)


def test_a_form_page_is_one_entry() -> None:
    """A form page is one entry."""
    [entry] = parse_pages([_form()])
    assert (entry.course_code, entry.subject, entry.number, entry.title) == ("1.1", "", "1.1", "Mathematik")
    assert (entry.credits_min, entry.credits_max, entry.prerequisites, entry.description) == (8.0, 8.0, "keine", None)
    assert (entry.page, entry.box, entry.confidence, entry.reasons) == (1, (100, 150, 420, 298), 0.9, ())
    assert entry.extraction_method == "text-layer"


def test_a_form_without_credits_or_read_poorly_is_doubted() -> None:
    """A form without credits or read poorly is doubted."""
    [entry] = parse_pages([_form(credits="nach Vereinbarung")])
    assert entry.credits_min is None and entry.credits_max is None
    assert entry.reasons == ("no credits found on a form page",) and entry.confidence == 0.6
    [entry] = parse_pages([_form(confidence=0.9, ocr=True)])
    assert entry.reasons == () and entry.confidence == pytest.approx(0.81)
    assert entry.extraction_method == "ocr:rapidocr"
    [entry] = parse_pages([_form(confidence=0.85, ocr=True)])
    assert entry.reasons == ("low OCR confidence (0.85)",) and entry.confidence == pytest.approx(0.51)
    [entry] = parse_pages([_form(title="x")])
    assert entry.reasons == ("title is one or two characters",)


def test_a_forms_confidence_is_rounded_to_four_places() -> None:
    [entry] = parse_pages([_form(confidence=0.9801, ocr=True)])
    assert entry.confidence == 0.8821 and entry.reasons == ()


def test_every_form_page_is_read_after_a_page_that_is_not_one() -> None:
    prose = _text_page([(FILL, 0)], page=1)
    assert [(e.page, e.course_code) for e in parse_pages([prose, _form(page=2)])] == [(2, "1.1")]


def test_forms_are_read_only_on_pages_no_entry_starts_on_and_sorted_with_them() -> None:
    """Forms are read only on pages no entry starts on and sorted with them."""
    catalog = _text_page([("MATH 101 Calculus I (4 credits)", 8), (FILL, 0)], page=3)
    entries = parse_pages([_form(page=2), catalog, _form(page=4)])
    assert [(e.page, e.course_code) for e in entries] == [(2, "1.1"), (3, "MATH 101"), (4, "1.1")]
    mixed = _page([*_form().text.lines, Line("MATH 101 Calculus I (4 credits)", (100, 400, 400, 418), 1.0, 10.0, 8)])
    assert [e.course_code for e in parse_pages([mixed])] == ["MATH 101"]
    not_a_form = _page(list(_form().text.lines[1:]))
    assert parse_pages([not_a_form]) == []


# ---------------------------------------------------------------------------------------------
# page_doubts


def _entry_on(page: int) -> list[CourseEntry]:
    return parse_pages([_text_page([("MATH 101 Calculus I (4 credits)", 8), (FILL, 0)], page=page)])


def test_a_page_whose_entries_cover_under_half_its_code_lines_is_flagged() -> None:
    """A page whose entries cover under half its code lines is flagged."""
    codes = [(f"MATH 10{n} and more", 0) for n in range(4)]
    page = _text_page(codes)
    assert page_doubts([page], []) == {
        1: ["course-like text: 4 lines start with a course code but 0 entries were parsed"]
    }
    one = _entry_on(1)
    assert page_doubts([page], one) == {
        1: ["course-like text: 4 lines start with a course code but 1 entries were parsed"]
    }
    assert page_doubts([page], one * 2) == {}


def test_a_single_code_line_is_not_course_like_unless_asked() -> None:
    """A single code line is not course like unless asked."""
    page = _text_page([("MATH 101 and more", 0), (FILL, 0)])
    assert page_doubts([page], []) == {}
    assert page_doubts([page], [], min_code_lines=1) == {
        1: ["course-like text: 1 lines start with a course code but 0 entries were parsed"]
    }
    spans = ((100.0, 120.0), (300.0, 380.0), (400.0, 600.0), (700.0, 740.0))
    row = _page([_row(["1", "MATH 101", "Calculus", "4"], 200, spans=spans)])  # the code in a cell of its own
    assert page_doubts([row], [], min_code_lines=1) == {
        1: ["course-like text: 1 lines start with a course code but 0 entries were parsed"]
    }


def test_a_form_like_page_without_an_entry_is_flagged() -> None:
    """A form like page without an entry is flagged."""
    assert page_doubts([_form()], []) == {
        1: ["course-like text: a credit notation and 3 form fields but no entry parsed"]
    }
    assert page_doubts([_form()], parse_pages([_form()])) == {}
    two_fields = _page(list(_form().text.lines[:3]))
    assert page_doubts([two_fields], []) == {}
    no_credits = _form(credits="nach Vereinbarung")
    assert page_doubts([no_credits], []) == {}


def test_many_codes_anywhere_on_a_page_without_entries_are_flagged() -> None:
    """Many codes anywhere on a page without entries are flagged."""
    five = _text_page([("See MATH 101, MATH 102, MATH 103, MATH 104 and MATH 105.", 0)], page=2)
    four = _text_page([("See MATH 101, MATH 102, MATH 103 and MATH 104.", 0)], page=1)
    assert page_doubts([four, five], []) == {2: ["course-like text: 5 course codes but no entry parsed"]}
    assert page_doubts([five], _entry_on(2)) == {}
    codes = _text_page([(f"MATH 10{n} and MATH 20{n}", 0) for n in range(3)], page=1)
    five_first = _text_page([("See MATH 101, MATH 102, MATH 103, MATH 104 and MATH 105.", 0)], page=1)
    codes_later = _text_page([(f"MATH 10{n} and MATH 20{n}", 0) for n in range(3)], page=2)
    assert list(page_doubts([five_first, codes_later], [])) == [1, 2]
    assert page_doubts([codes, five], []) == {
        1: ["course-like text: 3 lines start with a course code but 0 entries were parsed"],
        2: ["course-like text: 5 course codes but no entry parsed"],
    }
