"""Parsing rules on small hand-made pages of lines."""

from __future__ import annotations

from ocr_pipeline.catalog.parser import join_lines, parse_pages, split_header
from ocr_pipeline.catalog.validate import ValidationRules
from ocr_pipeline.models import Line, PageRef, PageResult, PageText

WIDTH, HEIGHT, LEFT, RIGHT = 1224, 1584, 100, 1100
WRAP = " >>"


def _page(
    rows: list[tuple[str, int | None]],
    *,
    page: int = 1,
    top: float = 200,
    pitch: float = 24,
    confidence: float = 1.0,
    extra: tuple[Line, ...] = (),
    ocr: bool = False,
) -> PageResult:
    """Lines one under another; ``rows`` are (text, bold_chars) and a ``""`` text is a blank line.

    A text ending in ``WRAP`` is a wrapped line: it reaches the right edge of the column.
    """
    lines, y = [], top
    for text, bold in rows:
        if text:
            right = RIGHT if text.endswith(WRAP) else LEFT + 9 * len(text)
            text = text.removesuffix(WRAP)
            lines.append(
                Line(
                    text, (LEFT, y, min(right, RIGHT), y + 18), confidence, None if ocr else 10.0, None if ocr else bold
                )
            )
        y += pitch
    method = "ocr:rapidocr" if ocr else "text-layer"
    return PageResult(
        PageRef("doc", page, WIDTH, HEIGHT, 144),
        method,
        PageText("rapidocr" if ocr else "text-layer", (*extra, *lines)),
    )


FILLER = "Students examine the fundamental principles of the subject in lectures, readings and weekly"


def test_references_in_prerequisites_and_prose_are_not_entries() -> None:
    rows = [
        ("MATH 101 Calculus I (4 credits)", 31),
        (FILLER + " problem sets that" + WRAP, 0),
        ("build on each other.", 0),
        ("Prerequisites: MATH 090 with a grade of C or better, or MATH 095 and" + WRAP, 0),
        ("MATH 096 or permission of the instructor.", 0),
        ("", None),
        ("MATH 102 Calculus II (4 credits)", 32),
        (FILLER + " problems; students who completed" + WRAP, 0),
        ("MATH 099 should see an advisor first.", 0),
    ]
    entries = parse_pages([_page(rows)])
    assert [e.course_code for e in entries] == ["MATH 101", "MATH 102"]
    assert (
        entries[0].prerequisites
        == "MATH 090 with a grade of C or better, or MATH 095 and MATH 096 or permission of the instructor."
    )
    assert entries[0].title == "Calculus I" and entries[0].credits_min == 4.0


def test_running_headers_footers_and_page_numbers_do_not_leak() -> None:
    pages = []
    for number in (1, 2, 3):
        header = Line("Example University Catalog 2026-2027", (LEFT, 60, 500, 78), 1.0, 8.5, 0)
        footer = Line(f"Page {number}", (580, 1530, 640, 1548), 1.0, 8.5, 0)
        rows = [(f"HIST 10{number} World History {number} (3 credits)", 38), (FILLER + " essays.", 0)]
        pages.append(_page(rows, page=number, extra=(header, footer)))
    entries = parse_pages(pages)
    assert [e.course_code for e in entries] == ["HIST 101", "HIST 102", "HIST 103"]
    for entry in entries:
        assert "Catalog" not in (entry.description or "") and "Page" not in (entry.description or "")
        assert entry.description == FILLER + " essays."


def test_hyphenation_and_ligatures_are_undone() -> None:
    assert join_lines(["the physio-", "logy of ﬁsh and ﬂowers"]) == "the physiology of fish and flowers"
    assert join_lines(["pre-", "Columbian art"]) == "pre-Columbian art"  # a compound's hyphen is kept
    assert join_lines(["CIVE 451/", "851."]) == "CIVE 451/851."


def test_header_notations() -> None:
    title, credits, _ = split_header("Managerial Accounting 400(4)")
    assert title == "Managerial Accounting" and credits is not None and (credits.low, credits.high) == (4.0, 4.0)
    title, credits, rest = split_header("Seminar in Genetics. Variable credit. A survey of ecology.")
    assert (title, credits.low if credits else 0, rest) == ("Seminar in Genetics", None, "A survey of ecology.")
    title, credits, rest = split_header("Foundations of Ecology A survey of ecology.")
    assert (title, credits, rest) == ("Foundations of Ecology", None, "A survey of ecology.")
    title, credits, _ = split_header("Data Structures\t3.0")
    assert title == "Data Structures" and credits is not None and credits.low == 3.0


def test_ocr_lines_without_font_info_use_geometry() -> None:
    """Code on its own line, title run into the description, labelled fields; no bold, no sizes."""
    rows = [
        ("GS-CHE-5048", None),
        ("Seminar in Inorganic Chemistry", None),
        ("Students explore quantitative approaches to biochemistry and the methods of the" + WRAP, None),
        ("field.", None),
        ("Prerequisites: GS-CHE-6600 with a grade of C or better and" + WRAP, None),
        ("GS-CHE-6601.", None),
        ("Credits: 1.5", None),
        ("Director: Dr. Lars Nakamura", None),
        ("", None),
        ("GS-CHE-6290", None),
        ("Foundations of Chemistry", None),
        ("An in-depth study of spectroscopy.", None),
        ("Credits: 1-3", None),
    ]
    entries = parse_pages([_page(rows, ocr=True, confidence=0.97)])
    assert [e.course_code for e in entries] == ["GS-CHE-5048", "GS-CHE-6290"]
    first, second = entries
    assert first.title == "Seminar in Inorganic Chemistry"
    assert (
        first.description is not None
        and first.description.startswith("Students explore")
        and first.description.endswith("field.")
    )
    assert first.prerequisites == "GS-CHE-6600 with a grade of C or better and GS-CHE-6601."
    assert (first.credits_min, first.credits_max) == (1.5, 1.5)
    assert (second.title, second.credits_min, second.credits_max) == ("Foundations of Chemistry", 1.0, 3.0)
    assert first.extraction_method == "ocr:rapidocr"


def test_low_ocr_confidence_lowers_confidence_with_reasons() -> None:
    rows = [("BIOL 110 Cell Biology (4 credits)", None), (FILLER + " labs.", None)]
    good = parse_pages([_page(rows, ocr=True, confidence=0.99)])[0]
    bad = parse_pages([_page(rows, ocr=True, confidence=0.5)])[0]
    assert good.confidence >= ValidationRules().min_confidence > bad.confidence
    assert any("OCR confidence" in reason for reason in bad.reasons)
    assert not good.reasons


def test_an_ocr_section_heading_ends_the_description() -> None:
    rows = []
    for number in (101, 102, 103):
        rows += [
            (f"BIOL {number} Applied Genetics (3 credits)", 0),
            (FILLER + WRAP, 0),
            ("problem sets.", 0),
            ("Literature", 0),
            ("Whitfield, G. (2019). Genetics.", 0),
            ("", 0),
        ]
    entries = parse_pages([_page(rows, ocr=True)])
    assert [e.course_code for e in entries] == ["BIOL 101", "BIOL 102", "BIOL 103"]
    assert all(e.description == FILLER + " problem sets." for e in entries), [e.description for e in entries]
