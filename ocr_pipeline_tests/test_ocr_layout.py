"""Geometry fixes for OCR output: lines split at column gutters, rotated scans deskewed, merged
header cells still naming their columns."""

from __future__ import annotations

import math

import numpy as np

from ocr_pipeline.catalog.tables import header_columns
from ocr_pipeline.models import Line
from ocr_pipeline.ocr.rapid import Deskew, split_at_gaps


def _word(text: str, x0: float, x1: float, y0: float = 100, y1: float = 120) -> tuple:
    return text, 0.99, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def test_a_line_boxed_across_a_gutter_is_split_there() -> None:
    words = [_word("Cost", 0, 40), _word("Analysis", 48, 120), _word("ACCT", 150, 200), _word("430", 208, 240)]
    lines = split_at_gaps("Cost Analysis ACCT 430", (0, 100, 240, 120), 0.9, words)
    assert [line.text for line in lines] == ["Cost Analysis", "ACCT 430"]
    assert lines[1].box == (150, 100, 240, 120)


def test_justified_word_spaces_do_not_split_a_line() -> None:
    words = [_word("The", 0, 30), _word("African", 44, 100), _word("Diaspora:", 114, 180), _word("Theories", 194, 250)]
    assert [line.text for line in split_at_gaps("The African Diaspora: Theories", (0, 100, 250, 120), 0.9, words)] == [
        "The African Diaspora: Theories"
    ]


def test_words_that_do_not_spell_the_line_keep_it_whole() -> None:
    assert len(split_at_gaps("abc def", (0, 0, 100, 10), 0.9, [_word("xyz", 0, 10), _word("q", 90, 100)])) == 1


def test_a_rotated_scan_is_deskewed_so_its_lines_stand_level() -> None:
    angle = math.radians(0.7)

    def rotated(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float) - 500
        rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        return corners @ rotation.T + 500

    boxes = np.array([rotated(100, y, 900, y + 20) for y in range(100, 900, 40)])
    upright = Deskew(boxes, 500, 500)
    assert math.isclose(upright.angle, angle, rel_tol=1e-6)
    level = upright(boxes[0])
    assert abs(level[0][1] - level[1][1]) < 1e-6  # the top edge is horizontal again


def test_a_merged_header_cell_still_names_its_columns() -> None:
    header = Line(
        "sl.no\tCourse Code Course Title\tCourse Type Ver\tT\tP\tJ Credits",
        (60, 200, 1100, 220),
        cells=((60, 110), (160, 440), (680, 860), (900, 915), (945, 960), (985, 1100)),
    )
    columns = header_columns([header])
    assert columns is not None
    credits, title = columns.spans["credits"], columns.spans["title"]
    assert 985 < credits[0] < 1040 and credits[1] == float("inf")  # right of ``J``, to the page edge
    assert title[0] < 300 < title[1] <= 680  # ``Course Title`` runs up to ``Course Type``
