"""Exact rules of reviewers' corrections (``catalog.corrections``) and page flags (``catalog.flags``).

Small hand-built rows and pages; every corrected row is compared field by field, every flag reason
word for word, and each threshold is checked exactly at its value and just beyond it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ocr_pipeline.catalog.corrections import apply_corrections
from ocr_pipeline.catalog.flags import FlagRules, page_flags, text_disagreement
from ocr_pipeline.models import Correction, DocumentInfo, Line, PageRef, PageResult, PageStatus, PageText

INFO = DocumentInfo(
    "Uni/2026/catalog.pdf",
    "s3://bucket/Uni/2026/catalog.pdf",
    "d0c",
    "Uni",
    10,
    None,
    "0" * 64,
    3,
    True,
    {"Title": " Course Catalog 2026 "},
)
AT = "2026-03-04T05:06:07+00:00"
WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def machine_row(page: int, code: str, occurrence: int = 1, **changes: Any) -> dict[str, Any]:
    """A validated machine row in the output contract's shape (flagged, with a box)."""
    subject, _, number = code.partition(" ")
    row = {
        "document_id": INFO.document_id,
        "source_uri": INFO.source_uri,
        "source_id": INFO.source_id,
        "institution": INFO.institution,
        "page": page,
        "course_code": code,
        "subject": subject,
        "number": number,
        "title": f"machine {code}",
        "credits_min": 3.0,
        "credits_max": 3.0,
        "description": None,
        "prerequisites": None,
        "confidence": 0.4,
        "needs_review": True,
        "extraction_method": "ocr:rapidocr",
        "catalog": "Course Catalog 2026",
        "entry_id": f"{code}#{occurrence}",
        "reasons": ["missing title"],
        "box": [float(page), 2.0, 3.0, 4.0],
    }
    return {**row, **changes}


def entry(code: str, title: str, **changes: Any) -> dict[str, Any]:
    """One entry as a reviewer settled it."""
    return {
        "course_code": code,
        "title": title,
        "credits_min": 1.0,
        "credits_max": 4.0,
        "description": f"About {title}.",
        "prerequisites": "None.",
        **changes,
    }


def correction(page: int, *entries: dict[str, Any], reviewer: str = "alice", at: str = AT) -> Correction:
    """The correction of ``page`` with ``entries``."""
    return Correction(INFO.document_id, page, tuple(entries), reviewer, at, f"task-{page}", 2)


def corrected_row(
    page: int,
    settled: dict[str, Any],
    subject: str,
    number: str,
    entry_id: str,
    method: str,
    box: list[float],
    reviewer: str = "alice",
) -> dict[str, Any]:
    """The full row a corrected entry must become."""
    return {
        "course_code": settled["course_code"],
        "title": settled.get("title"),
        "credits_min": settled.get("credits_min"),
        "credits_max": settled.get("credits_max"),
        "description": settled.get("description"),
        "prerequisites": settled.get("prerequisites"),
        "document_id": "d0c",
        "source_uri": "s3://bucket/Uni/2026/catalog.pdf",
        "source_id": INFO.source_id,
        "institution": "Uni",
        "page": page,
        "subject": subject,
        "number": number,
        "confidence": 1.0,
        "needs_review": False,
        "extraction_method": method,
        "catalog": "Course Catalog 2026",
        "reasons": [],
        "box": box,
        "corrected_by": reviewer,
        "corrected_at": WHEN,
        "entry_id": entry_id,
    }


def test_a_corrected_row_carries_every_field_exactly() -> None:
    """The reviewer's fields, the document's provenance, a split code, full confidence, no flag, the
    machine's box and method for the same code, the reviewer and a UTC time, and its entry id."""
    rows = [machine_row(2, "CS 101", box=[10.0, 20.0, 30.0, 40.0])]
    settled = entry("CS 101", "Intro to Computing")
    fixed = apply_corrections(rows, [correction(2, settled)], INFO, {2: "text-layer"})
    assert fixed == [corrected_row(2, settled, "CS", "101", "CS 101#1", "ocr:rapidocr", [10.0, 20.0, 30.0, 40.0])]
    assert fixed[0]["corrected_at"].utcoffset() == timedelta(0)


def test_an_entry_the_machine_missed_gets_no_box_and_the_page_method() -> None:
    """A code the machine did not read on that page: empty box, the page's extraction method."""
    rows = [machine_row(1, "CS 101"), machine_row(2, "CS 102")]
    settled = entry("CS 101", "Intro")  # CS 101 is on page 1, not on the corrected page 2
    fixed = apply_corrections(rows, [correction(2, settled)], INFO, {2: "ocr:paddle"})
    assert fixed == [rows[0], corrected_row(2, settled, "CS", "101", "CS 101#2", "ocr:paddle", [])]


def test_an_unknown_page_method_falls_back_to_the_text_layer() -> None:
    """No machine row and no page method: the entry counts as read from the text layer."""
    settled = entry("MATH 2410", "Calculus")
    fixed = apply_corrections([], [correction(5, settled)], INFO, {4: "ocr:rapidocr"})
    assert fixed == [corrected_row(5, settled, "MATH", "2410", "MATH 2410#1", "text-layer", [])]


def test_a_code_without_subject_and_number_is_kept_whole_and_missing_fields_are_none() -> None:
    """A code the matcher cannot split stays the subject with an empty number; absent fields are None."""
    settled = {"course_code": "Seminar"}
    fixed = apply_corrections([], [correction(1, settled)], INFO, {1: "text-layer"})
    assert fixed == [corrected_row(1, settled, "Seminar", "", "Seminar#1", "text-layer", [])]
    assert fixed[0]["title"] is None and fixed[0]["credits_min"] is None


def test_uncorrected_pages_are_kept_and_corrected_pages_lose_every_machine_row() -> None:
    """Only the corrected page's rows are replaced (also machine rows whose code the reviewer dropped)."""
    rows = [machine_row(1, "CS 100"), machine_row(2, "CS 101"), machine_row(2, "CS 199"), machine_row(3, "CS 300")]
    settled = entry("CS 101", "Intro")
    fixed = apply_corrections(rows, [correction(2, settled, reviewer="bob")], INFO, {})
    assert fixed == [
        machine_row(1, "CS 100"),
        corrected_row(2, settled, "CS", "101", "CS 101#1", "ocr:rapidocr", [2.0, 2.0, 3.0, 4.0], "bob"),
        machine_row(3, "CS 300"),
    ]


def test_a_correction_with_no_entries_removes_the_page() -> None:
    """A page settled as having no courses leaves no rows behind."""
    rows = [machine_row(1, "CS 100"), machine_row(2, "CS 101")]
    assert apply_corrections(rows, [correction(2)], INFO, {}) == [machine_row(1, "CS 100")]


def test_without_corrections_the_rows_come_back_unchanged() -> None:
    """No correction: the same rows, same order, same entry ids."""
    rows = [machine_row(1, "CS 100"), machine_row(1, "CS 101"), machine_row(2, "CS 100", 2)]
    assert apply_corrections(rows, [], INFO, {1: "text-layer"}) == [
        machine_row(1, "CS 100"),
        machine_row(1, "CS 101"),
        machine_row(2, "CS 100", 2),
    ]


def test_entry_ids_are_renumbered_in_page_order_across_corrected_and_machine_rows() -> None:
    """Occurrences of a code count up through the document's pages, whichever page was corrected."""
    rows = [machine_row(3, "CS 101"), machine_row(1, "CS 101"), machine_row(1, "BIO 5")]
    first = entry("CS 101", "Intro")
    lab = entry("CS 101", "Intro Lab", credits_min=1.0, credits_max=1.0)
    fixed = apply_corrections(rows, [correction(2, first, lab)], INFO, {2: "text-layer"})
    assert [(row["page"], row["course_code"], row["entry_id"]) for row in fixed] == [
        (1, "CS 101", "CS 101#1"),
        (1, "BIO 5", "BIO 5#1"),
        (2, "CS 101", "CS 101#2"),
        (2, "CS 101", "CS 101#3"),
        (3, "CS 101", "CS 101#4"),
    ]
    assert [row["title"] for row in fixed[2:4]] == ["Intro", "Intro Lab"]


def test_several_corrected_pages_are_applied_in_page_order() -> None:
    """Corrections given out of page order still land on their pages, sorted by page."""
    rows = [machine_row(1, "CS 100"), machine_row(2, "CS 200"), machine_row(3, "CS 300"), machine_row(4, "CS 400")]
    on_three = entry("CS 300", "Three")
    on_one = entry("CS 100", "One")
    fixed = apply_corrections(
        rows,
        [correction(3, on_three, reviewer="carol"), correction(1, on_one, reviewer="dave", at="2026-03-04T05:06:07Z")],
        INFO,
        {1: "text-layer", 3: "text-layer"},
    )
    assert fixed == [
        corrected_row(1, on_one, "CS", "100", "CS 100#1", "ocr:rapidocr", [1.0, 2.0, 3.0, 4.0], "dave"),
        machine_row(2, "CS 200"),
        corrected_row(3, on_three, "CS", "300", "CS 300#1", "ocr:rapidocr", [3.0, 2.0, 3.0, 4.0], "carol"),
        machine_row(4, "CS 400"),
    ]


def test_the_correction_time_keeps_its_offset() -> None:
    """``corrected_at`` is the correction's ISO time as an aware datetime, the same instant."""
    at = "2026-03-04T07:06:07+02:00"
    fixed = apply_corrections([], [correction(1, entry("CS 1", "A"), at=at)], INFO, {})
    assert fixed[0]["corrected_at"] == WHEN
    assert fixed[0]["corrected_at"].utcoffset() == timedelta(hours=2)


# flags


def page(
    number: int,
    text: str,
    method: str = "ocr:rapidocr",
    confidence: float = 0.95,
    status: PageStatus = PageStatus.OK,
    reasons: tuple[str, ...] = (),
) -> PageResult:
    """A page read by ``method`` with one line per line of ``text``."""
    lines = tuple(Line(t, (0, 0, 1, 1)) for t in text.splitlines())
    return PageResult(
        PageRef("d0c", number, 100, 100, 144),
        method,
        PageText(method.removeprefix("ocr:"), lines, confidence=confidence, status=status, reasons=reasons),
    )


def flagged_row(page_number: int, code: str, reasons: list[str] | None, needs_review: bool = True) -> dict[str, Any]:
    """The fields of a validated row that flags read."""
    return {"page": page_number, "course_code": code, "needs_review": needs_review, "reasons": reasons}


def test_default_rules() -> None:
    """OCR below 0.8 confidence, and more than 30% of words differing, are the defaults."""
    assert FlagRules() == FlagRules(min_ocr_confidence=0.8, max_text_disagreement=0.3)


def test_text_disagreement_is_the_share_of_differing_words() -> None:
    """0 for the same words (however spaced), 1 for no shared word, a quarter for one word in four."""
    assert text_disagreement("a  b\nc", "a b c") == 0.0
    assert text_disagreement("", "") == 0.0
    assert text_disagreement("a b", "c d") == 1.0
    assert text_disagreement("a b c d", "a b c x") == 0.25
    assert text_disagreement("a b c d e f g h", "a b c d e f x y") == 0.25


def test_long_repetitive_pages_are_not_treated_as_junk() -> None:
    """A 300-word page of a few common words still matches word for word when the OCR read two extra words
    in front: 2 of 602 words differ (difflib's popular-word heuristic would call it 100% different)."""
    text = " ".join(["course", "credits", "the"] * 100)
    assert text_disagreement(text, text) == 0.0
    assert text_disagreement("page 7 " + text, text) == 1.0 - 600 / 602
    pages = [page(1, "page 7 " + text)]
    assert page_flags(pages, [], {1: text}, {}, FlagRules(max_text_disagreement=0.0)) == {
        1: ["text layer and OCR disagree (0% of words differ)"]
    }
    assert page_flags(pages, [], {1: text}, {}, FlagRules()) == {}


def test_row_reasons_are_prefixed_by_the_code_and_a_bare_flag_gets_a_generic_reason() -> None:
    """Each reason of a flagged row, as ``code: reason``; a flagged row without reasons still flags its page."""
    rows = [
        flagged_row(1, "CS 101", ["missing title", "credits 45 outside (0, 30]"]),
        flagged_row(1, "CS 102", []),
        flagged_row(2, "CS 201", None),
        flagged_row(3, "CS 301", ["ignored: not flagged"], needs_review=False),
    ]
    assert page_flags([], rows, {}, {}, FlagRules()) == {
        1: ["CS 101: missing title", "CS 101: credits 45 outside (0, 30]", "CS 102: flagged by validation"],
        2: ["CS 201: flagged by validation"],
    }


def test_a_page_not_ok_is_flagged_with_its_reasons_or_a_placeholder() -> None:
    """``page <status>: reason; reason`` or ``no reason given``; OK pages with nothing wrong are absent."""
    pages = [
        page(1, "x", method="text-layer", status=PageStatus.NEEDS_REVIEW, reasons=("blurry", "skewed")),
        page(2, "x", method="text-layer", status=PageStatus.FAILED),
        page(3, "fine", method="text-layer"),
    ]
    assert page_flags(pages, [], {}, {}, FlagRules()) == {
        1: ["page needs_review: blurry; skewed"],
        2: ["page failed: no reason given"],
    }


def test_ocr_confidence_exactly_at_the_minimum_is_not_flagged_just_below_is() -> None:
    """``confidence < min``: 0.8 passes, 0.79 is flagged with both values to two decimals."""
    pages = [page(1, "a line", confidence=0.8), page(2, "a line", confidence=0.79)]
    assert page_flags(pages, [], {}, {}, FlagRules()) == {2: ["OCR confidence 0.79 below 0.80"]}
    strict = FlagRules(min_ocr_confidence=0.95)
    assert page_flags(pages, [], {}, {}, strict) == {
        1: ["OCR confidence 0.80 below 0.95"],
        2: ["OCR confidence 0.79 below 0.95"],
    }


def test_low_confidence_counts_only_for_ocr_pages_with_lines() -> None:
    """A text-layer page's confidence, and an OCR page that read nothing, raise no confidence flag."""
    pages = [page(1, "a line", method="text-layer", confidence=0.1), page(2, "", confidence=0.0)]
    assert page_flags(pages, [], {1: "other words", 2: "some words"}, {}, FlagRules()) == {}


def test_disagreement_exactly_at_the_maximum_is_not_flagged_just_beyond_is() -> None:
    """``difference > max``: exactly 25% differing passes a 0.25 limit; 29% is flagged, rounded to a percent."""
    rules = FlagRules(max_text_disagreement=0.25)
    pages = [page(1, "a b c x"), page(2, "a b c d e f x y"), page(3, "a b c d e f x y z")]
    layers = {1: "a b c d", 2: "a b c d e f g h", 3: "a b c d e f g h"}
    assert [text_disagreement(layers[n], pages[n - 1].text.text) for n in (1, 2)] == [0.25, 0.25]
    assert page_flags(pages, [], layers, {}, rules) == {3: ["text layer and OCR disagree (29% of words differ)"]}


def test_default_disagreement_limit_flags_half_the_words_but_not_a_fifth() -> None:
    """With the default 30%: one word in five differing passes, half the words differing is flagged."""
    pages = [page(1, "a b c d x"), page(2, "a b x y")]
    layers = {1: "a b c d e", 2: "a b c d"}
    assert page_flags(pages, [], layers, {}, FlagRules()) == {2: ["text layer and OCR disagree (50% of words differ)"]}


def test_disagreement_needs_an_ocr_page_with_lines_and_a_sane_text_layer() -> None:
    """A text-layer page, an empty OCR page, or an OCR page without a sane text layer is never compared."""
    pages = [page(1, "x y z", method="text-layer"), page(2, ""), page(3, "x y z")]
    assert page_flags(pages, [], {1: "a b c", 2: "a b c"}, {}, FlagRules()) == {}


def test_page_doubts_are_reasons_of_their_page() -> None:
    """The parser's doubts about a page are its reasons, as given."""
    doubts = {1: ["course-like text: 3 lines start with a course code but 0 entries were parsed", "second"]}
    pages = [page(1, "CS 101 Intro", method="text-layer"), page(2, "CS 201", method="text-layer")]
    assert page_flags(pages, [], {}, doubts, FlagRules()) == {1: doubts[1]}


def test_every_rule_adds_its_reason_in_order_and_repeats_are_dropped() -> None:
    """Rows, status, confidence, doubts, disagreement, in that order; an identical reason appears once."""
    pages = [page(4, "p q r s", confidence=0.5, status=PageStatus.NEEDS_REVIEW, reasons=("blurry",))]
    rows = [flagged_row(4, "CS 1", ["dup"]), flagged_row(4, "CS 1", ["dup", "other"])]
    doubts = {4: ["doubt", "doubt"]}
    assert page_flags(pages, rows, {4: "a b c d"}, doubts, FlagRules()) == {
        4: [
            "CS 1: dup",
            "CS 1: other",
            "page needs_review: blurry",
            "OCR confidence 0.50 below 0.80",
            "doubt",
            "text layer and OCR disagree (100% of words differ)",
        ]
    }


def test_flags_are_sorted_by_page_and_corrected_pages_are_left_out() -> None:
    """Pages come back in page order; pages already corrected (any iterable) are never flagged."""
    pages = [page(5, "x", confidence=0.1), page(2, "x", confidence=0.2)]
    rows = [flagged_row(9, "CS 9", ["late"]), flagged_row(3, "CS 3", ["early"])]
    flags = page_flags(pages, rows, {}, {}, FlagRules())
    assert list(flags) == [2, 3, 5, 9]
    assert flags[9] == ["CS 9: late"]
    assert page_flags(pages, rows, {}, {}, FlagRules(), corrected=iter([3, 5])) == {
        2: ["OCR confidence 0.20 below 0.80"],
        9: ["CS 9: late"],
    }


def test_exactly_thirty_percent_of_words_differing_passes_the_default_limit() -> None:
    """Three words in ten differing is "not more than 30%": ``1.0 - 0.7`` is 0.30000000000000004 in floating point,
    which flagged the page with the message "(30% of words differ)"."""
    pages = [page(1, "a b c d e f g x y z")]
    layers = {1: "a b c d e f g h i j"}
    assert page_flags(pages, [], layers, {}, FlagRules()) == {}
