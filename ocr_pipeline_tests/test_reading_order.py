"""Reading order across columns and table rows."""

from __future__ import annotations

from ocr_pipeline.catalog.reading_order import reading_order
from ocr_pipeline.models import Line


def _column(x0: float, x1: float, top: float, texts: list[str]) -> list[Line]:
    return [Line(text, (x0, top + 24 * i, x1, top + 24 * i + 18)) for i, text in enumerate(texts)]


def test_three_columns_read_top_to_bottom_then_left_to_right() -> None:
    words = "one two three four five six"
    left = _column(80, 400, 100, [f"left {i} {words}" for i in range(10)])
    # a line that reaches a little into the gutter must not split the page into bands
    left.append(Line(f"left long {words}", (80, 340, 408, 358)))
    middle = _column(444, 760, 100, [f"middle {i} {words}" for i in range(11)])
    right = _column(808, 1130, 100, [f"right {i} {words}" for i in range(11)])
    ordered = [line.text.split()[0] for line in reading_order(right + middle + left)]
    assert ordered == ["left"] * 11 + ["middle"] * 11 + ["right"] * 11


def test_table_row_cells_stay_on_their_row_joined_by_tabs() -> None:
    rows = []
    for i in range(6):
        y = 100 + 30 * i
        rows += [
            Line(f"ECO-10{i}0", (100, y, 180, y + 18)),
            Line(f"Topics in Economics {i}", (260, y, 500, y + 18)),
            Line("7.5", (620, y, 650, y + 18)),
            Line("Autumn", (700, y, 780, y + 18)),
        ]
    ordered = reading_order(rows)
    assert [line.text for line in ordered][:2] == [
        "ECO-1000\tTopics in Economics 0\t7.5\tAutumn",
        "ECO-1010\tTopics in Economics 1\t7.5\tAutumn",
    ]
    assert len(ordered) == 6


def test_a_line_centred_in_a_gutter_is_kept_in_the_nearest_column() -> None:
    """A credit hanging past its column and a lone mark in the gutter were dropped (their centre lies in no
    column): every line of the page must come out, each with the column nearest to it."""
    words = "one two three four five six"
    left = _column(100, 500, 100, [f"left {i} {words}" for i in range(10)])
    right = _column(600, 1000, 100, [f"right {i} {words}" for i in range(10)])
    credit = Line("(3)", (495, 124, 515, 142))  # on the second left row, centre 505 in the gutter
    mark = Line("*", (570, 220, 580, 238))  # on the sixth right row, nearer the right column
    ordered = [line.text for line in reading_order(left + right + [credit, mark])]
    assert len(ordered) == 20  # each joined the row it sits on
    assert ordered[1] == f"left 1 {words} (3)"
    assert ordered[15] == f"*\tright 5 {words}"
