"""Credit notations."""

from __future__ import annotations

import pytest

from ocr_pipeline.catalog.credits import find_credits, trailing_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 Credits.", (3.0, 3.0)),
        ("1-3 Credits.", (1.0, 3.0)),
        ("1 to 4 credits.", (1.0, 4.0)),
        ("Variable credit.", (None, None)),
        ("4 cr.", (4.0, 4.0)),
        ("3 hrs.", (3.0, 3.0)),
        ("Calculus (4 units)", (4.0, 4.0)),
        ("(2 credit hours)", (2.0, 2.0)),
        ("7.5 ECTS", (7.5, 7.5)),
        ("ECTS credits 2.5", (2.5, 2.5)),
        ("Credits: 1.5", (1.5, 1.5)),
        ("Managerial Accounting 400(4)", (4.0, 4.0)),
        ("Field Work 000(1-3)", (1.0, 3.0)),
        ("3(3,1)", (3.0, 3.0)),
        ("3-12(0,3-12)", (3.0, 12.0)),
        ("VAR(0,VAR)", (None, None)),
        ("(2.5 QH)", (2.5, 2.5)),
        ("ACC 101 Principles of Accounting 3CR", (3.0, 3.0)),
        ("Credits 1 to 4. 1 to 4 Lecture Hours.", (1.0, 4.0)),
        ("(1-3 cr, max 6)", (1.0, 3.0)),
        ("4 Credit Hours", (4.0, 4.0)),
        ("Credit 1.1 Lecture Hour.", (1.0, 1.0)),  # OCR lost the space of ``Credit 1. 1 Lecture Hour.``
        ("Credits 1.5", (1.5, 1.5)),
    ],
)
def test_notations(text: str, expected: tuple[float | None, float | None]) -> None:
    credits = find_credits(text)
    assert credits is not None
    assert (credits.low, credits.high) == expected


def test_no_credits_in_plain_prose() -> None:
    assert find_credits("Students complete weekly problem sets in 2024.") is None


def test_bare_number_in_parentheses_ends_a_heading() -> None:
    credits = trailing_number("Ethics in Engineering (3)")
    assert credits is not None and (credits.low, credits.high) == (3.0, 3.0)


def test_table_cell_number() -> None:
    credits = trailing_number("7.5")
    assert credits is not None and credits.low == credits.high == 7.5
    assert trailing_number("Period 2026") is None
