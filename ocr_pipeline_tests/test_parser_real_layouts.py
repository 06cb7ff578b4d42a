"""Layouts and notations met in real catalogs, each on a small PDF built here, through the real
render -> read -> parse stages (text layer)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable

import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from ocr_pipeline.catalog.parser import page_doubts, parse_pages
from ocr_pipeline.catalog.validate import ValidationRules, validate_entries
from ocr_pipeline.models import CourseEntry, DocumentInfo, PageResult
from ocr_pipeline.stages.ocr_pages import read_document
from ocr_pipeline.stages.rendered_pages import RenderSettings, render_document
from ocr_pipeline.storage.objects import LocalObjectStore
from ocr_pipeline.storage.work import WorkStore

Draw = Callable[[Canvas], None]
PROSE = "Students study the topic through lectures, readings and weekly problem sets in small groups."


def _pdf(*pages: Draw) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter)
    for draw in pages:
        draw(canvas)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _text(canvas: Canvas, x: float, y: float, text: str, bold: bool = False, size: float = 9) -> None:
    canvas.setFont("Helvetica-Bold" if bold else "Helvetica", size)
    canvas.drawString(x, y, text)


def _parse(pdf: bytes) -> tuple[list[CourseEntry], list[PageResult]]:
    with tempfile.TemporaryDirectory() as directory:
        work = WorkStore(LocalObjectStore(directory))
        render_document(pdf, "doc", RenderSettings(policy="auto"), work)
        read_document("doc", work, None)
        pages = work.page_results("doc")
    return parse_pages(pages), pages


def _rows(entries: list[CourseEntry], pages: list[PageResult]) -> dict[str, dict]:
    info = DocumentInfo("doc", "file:///doc.pdf", "doc", None, 0, None, "", len(pages), True)
    return {row["course_code"]: row for row in validate_entries(entries, info, pages, ValidationRules())}


def test_number_only_codes_under_a_subject_heading() -> None:
    def page(canvas: Canvas) -> None:
        _text(canvas, 72, 730, "Computer Science and Engineering", bold=True, size=12)
        y = 700
        for number, title, credits in (
            ("434L/834L", "Structures Laboratory", "(1-3 cr, max 6)"),
            ("440", "Reinforced Concrete", "(3 cr)"),
            ("465/865 (865T)", "Mathematical Logic", "(3 cr II)"),
        ):
            lead = f"{number}. {title}"
            _text(canvas, 72, y, lead, bold=True)
            _text(canvas, 72 + canvas.stringWidth(lead, "Helvetica-Bold", 9) + 3, y, credits)
            _text(canvas, 72, y - 12, "Prereq: CIVE 334. STAT 380 recommended.")
            _text(canvas, 72, y - 24, PROSE)
            y -= 60

    entries, pages = _parse(_pdf(page))
    rows = _rows(entries, pages)
    assert list(rows) == ["434L/834L", "440", "465/865 (865T)"]
    assert rows["434L/834L"]["title"] == "Structures Laboratory"
    assert (rows["434L/834L"]["credits_min"], rows["434L/834L"]["credits_max"]) == (1.0, 3.0)
    assert rows["440"]["prerequisites"] == "CIVE 334. STAT 380 recommended."
    assert not any(row["needs_review"] for row in rows.values()), [row["reasons"] for row in rows.values()]


def test_bold_code_line_with_department_column_and_run_in_title() -> None:
    def page(canvas: Canvas) -> None:
        y = 720
        for code, credits, title, prereq in (
            ("ACG 2021", "3(3,1)", "Principles of Accounting", "MAC 1105C or C.I."),
            ("ACG 2071", "3-12(0,3-12)", "Managerial Accounting", "ACG 2021."),
            ("ACG 3082", "VAR(0,VAR)", "Accounting Internship", "Junior standing."),
        ):
            _text(canvas, 72, y, code, bold=True)
            _text(canvas, 160, y, "BA-ACCT", bold=True)
            _text(canvas, 250, y, credits, bold=True)
            _text(canvas, 72, y - 12, f"{title}:", bold=True)
            _text(canvas, 72 + canvas.stringWidth(f"{title}:", "Helvetica-Bold", 9) + 3, y - 12, f"PR: {prereq} The")
            _text(canvas, 72, y - 24, PROSE)
            y -= 60

    rows = _rows(*_parse(_pdf(page)))
    assert [rows[c]["title"] for c in rows] == [
        "Principles of Accounting",
        "Managerial Accounting",
        "Accounting Internship",
    ]
    assert (rows["ACG 2021"]["credits_min"], rows["ACG 2021"]["credits_max"]) == (3.0, 3.0)
    assert (rows["ACG 2071"]["credits_min"], rows["ACG 2071"]["credits_max"]) == (3.0, 12.0)
    assert rows["ACG 3082"]["credits_min"] is None
    assert rows["ACG 2021"]["prerequisites"] == "MAC 1105C or C.I."


def test_cross_listed_heading_and_credits_leading_the_next_paragraph() -> None:
    def page(canvas: Canvas) -> None:
        y = 720
        for code, title, credits in (
            ("CSCE 320/STAT 335", "Principles of Data Science", "Credits 1 to 4."),
            ("CSCE 313", "Computer Systems", "Credits 3."),
            ("CSCE 314", "Programming Languages", "Credit 1."),
        ):
            _text(canvas, 72, y, f"{code}\u00a0{title}", bold=True, size=14)
            _text(canvas, 72, y - 18, credits, bold=True)
            _text(
                canvas,
                72 + canvas.stringWidth(credits, "Helvetica-Bold", 9) + 3,
                y - 18,
                "Study of the topic. Prerequisite: CSCE 221. Cross Listing: STAT 335.",
            )
            _text(canvas, 72, y - 30, PROSE)
            y -= 70

    rows = _rows(*_parse(_pdf(page)))
    assert list(rows) == ["CSCE 320/STAT 335", "CSCE 313", "CSCE 314"]
    assert (rows["CSCE 320/STAT 335"]["credits_min"], rows["CSCE 320/STAT 335"]["credits_max"]) == (1.0, 4.0)
    assert rows["CSCE 314"]["credits_max"] == 1.0
    assert rows["CSCE 313"]["prerequisites"] == "CSCE 221."


def test_table_read_by_header_columns() -> None:
    columns = (40, 80, 160, 360, 430, 470, 500, 530)

    def page(canvas: Canvas) -> None:
        _text(canvas, 200, 740, "Discipline Core", bold=True, size=11)
        for x, head in zip(columns, ("No", "Course Code", "Course Title", "Ver", "L", "T", "P", "Credits")):
            _text(canvas, x, 715, head, bold=True)
        for row, cells in enumerate(
            (
                ("1", "BCSE306L", "Artificial Intelligence", "1.0", "3", "0", "0", "3.0"),
                ("2", "BCSE307P", "Compiler Design Lab", "1.0", "0", "0", "2", "1.0"),
                ("3", "BCSE399J", "Summer Industrial Internship", "11.0", "0", "0", "0", "1.5"),
            )
        ):
            for x, cell in zip(columns, cells):
                _text(canvas, x, 695 - 20 * row, cell)

    rows = _rows(*_parse(_pdf(page)))
    assert list(rows) == ["BCSE306L", "BCSE307P", "BCSE399J"]
    assert rows["BCSE306L"]["title"] == "Artificial Intelligence"
    assert [rows[c]["credits_min"] for c in rows] == [3.0, 1.0, 1.5]


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("Intermediate Financial Accounting Il", "Intermediate Financial Accounting II"),
        ("CalculusI", "Calculus I"),
        ("Physics Ill", "Physics III"),
        ("Internship", "Internship"),
    ],
)
def test_ocr_roman_numeral_confusions_are_undone(raw: str, fixed: str) -> None:
    from ocr_pipeline.catalog.parser import ocr_title_fixes

    assert ocr_title_fixes(raw) == fixed


@pytest.mark.parametrize(
    ("title", "reason"),
    [
        ("BA-ACCT", "title looks like a code or a column value"),
        ("X", "title is one or two characters"),
        ("Term: 3", "title looks like a label and its value"),
        ("Foundations of Physics (2.5 QH)", "title contains a credit notation"),
        ("GERL102B1 German II", "title contains a course code"),
        ("Human Anatomy 70 30 100", "title ends with a number (a column value may have run into it)"),
        ("Computer Architecture and", "title looks cut off"),
    ],
)
def test_doubtful_titles_are_flagged(title: str, reason: str) -> None:
    from ocr_pipeline.catalog.parser import title_doubts

    assert reason in title_doubts(title)
    assert title_doubts("Introduction to Data Structures") == []


def _form(number: str | None) -> Draw:
    def page(canvas: Canvas) -> None:
        if number is not None:
            _text(canvas, 72, 680, number, size=24)
        _text(canvas, 72, 650, "Veranstaltung :")
        _text(canvas, 200, 650, "Mathematik I")
        for row, (label, value) in enumerate(
            (("Leistungspunkte :", "8 ECTS"), ("Umfang :", "240"), ("Zugangsvoraussetzungen :", "keine"))
        ):
            _text(canvas, 72, 630 - 14 * row, label)
            _text(canvas, 250, 630 - 14 * row, value)
        _text(canvas, 72, 560, PROSE)

    return page


def test_one_unit_per_page_forms_are_read_from_their_fields() -> None:
    entries, pages = _parse(_pdf(_form("1.1"), _form("1.2")))
    assert [(e.course_code, e.title, e.credits_min, e.prerequisites, e.page) for e in entries] == [
        ("1.1", "Mathematik I", 8.0, "keine", 1),
        ("1.2", "Mathematik I", 8.0, "keine", 2),
    ]
    assert page_doubts(pages, entries) == {}


def test_a_form_page_without_a_number_box_is_flagged() -> None:
    entries, pages = _parse(_pdf(_form(None)))
    assert entries == []
    assert list(page_doubts(pages, entries)) == [1]


def test_of_two_code_like_cells_the_one_beside_the_title_is_the_code() -> None:
    def page(canvas: Canvas) -> None:
        for x, head in zip((40, 80, 160, 420), ("No", "Category", "Course code and name", "Credits")):
            _text(canvas, x, 715, head, bold=True)
        for row, (category, code, title) in enumerate(
            (("DC-13", "IT 601", "Unix and Shell Programming"), ("DC-14", "IT 602", "Computer Graphics"))
        ):
            for x, cell in zip((40, 80, 160, 420), (str(row + 1), category, f"{code} {title}", "4")):
                _text(canvas, x, 695 - 20 * row, cell)

    rows = _rows(*_parse(_pdf(page)))
    assert list(rows) == ["IT 601", "IT 602"]
    assert rows["IT 601"]["title"] == "Unix and Shell Programming" and rows["IT 601"]["credits_min"] == 4.0
    assert "the row has more than one code-like cell" in rows["IT 601"]["reasons"]


def test_a_large_number_box_near_the_top_edge_is_not_a_running_header() -> None:
    def near_top(number: str) -> Draw:
        def page(canvas: Canvas) -> None:
            _text(canvas, 72, 740, number, size=28)  # inside the running-header zone, on every page
            _form(None)(canvas)

        return page

    entries, _ = _parse(_pdf(near_top("1.1"), near_top("1.2")))
    assert [entry.course_code for entry in entries] == ["1.1", "1.2"]


def test_a_page_with_course_codes_but_no_entries_is_flagged() -> None:
    def page(canvas: Canvas) -> None:
        for row, text in enumerate(
            (
                "Students take MATH 101, MATH 102 and PHYS 201 in the first year, then",
                "choose two of CHEM 110, BIOL 120 or GEOL 130 with their advisor's approval.",
            )
        ):
            _text(canvas, 72, 650 - 14 * row, text)

    entries, pages = _parse(_pdf(page))
    assert entries == []
    assert page_doubts(pages, entries) == {1: ["course-like text: 6 course codes but no entry parsed"]}


def test_a_title_not_bold_under_a_bold_code_line_is_doubted() -> None:
    def page(canvas: Canvas) -> None:
        y = 700
        for code in ("ACCT 329", "ACCT 403", "ACCT 405"):
            _text(canvas, 72, y, code, bold=True)
            _text(canvas, 72, y - 12, "Theory and methods of cost accounting for managers in planning.")
            _text(canvas, 72, y - 24, PROSE)
            y -= 60

    rows = _rows(*_parse(_pdf(page)))
    assert list(rows) == ["ACCT 329", "ACCT 403", "ACCT 405"]
    assert all(row["needs_review"] and any("not set in bold" in r for r in row["reasons"]) for row in rows.values())


@pytest.mark.parametrize("label", ["Prerequisite s:", "Requires:"])
def test_prerequisite_label_variants_are_read(label: str) -> None:
    def page(canvas: Canvas) -> None:
        y = 700
        for code in ("AOT 163", "AOT 167"):
            _text(canvas, 72, y, f"{code} Information Processing", bold=True)
            _text(canvas, 400, y, "3 CR", bold=True)
            _text(canvas, 72, y - 12, PROSE)
            _text(canvas, 72, y - 26, f"{label} AOT 105 and AOT 160")
            y -= 60

    rows = _rows(*_parse(_pdf(page)))
    assert rows["AOT 167"]["prerequisites"] == "AOT 105 and AOT 160"


def test_sections_in_different_styles_are_each_judged_by_their_own_conventions() -> None:
    def section(subject: str, bold: bool, separator: str, first: int) -> list[Draw]:
        def page(start: int) -> Draw:
            def draw(canvas: Canvas) -> None:
                for row in range(15):
                    y = 720 - 44 * row
                    lead = f"{subject}{separator}{start + row} Topics in the Field"
                    _text(canvas, 72, y, lead, bold=bold)
                    _text(
                        canvas,
                        72 + canvas.stringWidth(lead, "Helvetica-Bold" if bold else "Helvetica", 9) + 4,
                        y,
                        "(3 credits)",
                    )
                    _text(canvas, 72, y - 12, PROSE)

            return draw

        return [page(first), page(first + 15)]

    entries, pages = _parse(_pdf(*section("BIOL", True, " ", 100), *section("CHEM", False, "-", 200)))
    rows = _rows(entries, pages)
    assert len(rows) == 60 and "CHEM-215" in rows  # a text layer's separator is kept as printed
    assert not any(row["needs_review"] for row in rows.values()), {
        c: r["reasons"] for c, r in rows.items() if r["reasons"]
    }
