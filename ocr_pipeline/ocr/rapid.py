"""The embedded CPU OCR engine: RapidOCR with the PP-OCR ONNX models shipped in its wheel."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ocr_pipeline.models import Box, Line, PageStatus, PageText
from ocr_pipeline.ocr.base import PageImage, failed_page


class RapidOcrEngine:
    """PP-OCR detection + recognition on the CPU through onnxruntime; runs fully offline."""

    name = "rapidocr"

    def __init__(self, *, threads: int = 0, use_angle_classifier: bool = False, min_score: float = 0.5) -> None:
        from rapidocr import RapidOCR

        self._ocr = RapidOCR(
            params={
                "Global.log_level": "warning",
                "Global.use_cls": use_angle_classifier,
                "Global.text_score": min_score,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads or -1,
            }
        )

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        return [self._recognize_one(page) for page in pages]

    def _recognize_one(self, page: PageImage) -> PageText:
        started = time.perf_counter()
        try:
            # A full-pipeline call returns RapidOCROutput (the library types it as the union of every stage's output).
            output: Any = self._ocr(np.asarray(page.image.convert("RGB")), return_word_box=True)
        except Exception as error:  # noqa: BLE001 - one bad page must not fail the batch
            return failed_page(self.name, f"rapidocr failed: {error}", time.perf_counter() - started)
        seconds = time.perf_counter() - started
        if output.boxes is None or not len(output.boxes):
            return PageText(self.name, (), confidence=0.0, seconds=seconds, reasons=("no text found",))
        words = output.word_results or [()] * len(output.txts)
        upright = Deskew(np.asarray(output.boxes, dtype=float), page.image.width / 2, page.image.height / 2)
        lines = tuple(
            segment
            for box, text, score, line_words in zip(np.asarray(output.boxes), output.txts, output.scores, words)
            for segment in split_at_gaps(
                str(text), _bounds(upright(box)), float(score), [(w[0], w[1], upright(w[2])) for w in line_words]
            )
        )
        confidence = float(np.mean([line.confidence for line in lines]))
        return PageText(self.name, lines, confidence=confidence, seconds=seconds, status=PageStatus.OK)


WORD_GAP = 0.6
GAP_OVER_USUAL = 2.5
"""A gap between two words wider than ``WORD_GAP`` line heights and ``GAP_OVER_USUAL`` times the line's
usual word gap is a column gutter or a table cell border, not a (justified) word space: the detector
boxes across narrow gutters, so lines are split there."""


class Deskew:
    """Rotates detected boxes by the page's median baseline angle, so that a slightly rotated scan's
    columns and gutters stand upright for reading order (a gutter is a vertical strip)."""

    def __init__(self, boxes: np.ndarray, cx: float, cy: float) -> None:
        angles = [
            math.atan2(b[1][1] - b[0][1], b[1][0] - b[0][0])
            for b in boxes
            if b.shape == (4, 2) and b[1][0] - b[0][0] > 4 * abs(b[3][1] - b[0][1])
        ]
        self.angle = float(np.median(angles)) if angles else 0.0
        self.cx, self.cy = cx, cy

    def __call__(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        if abs(self.angle) < 1e-4:
            return points
        cos, sin = math.cos(-self.angle), math.sin(-self.angle)
        x, y = points[:, 0] - self.cx, points[:, 1] - self.cy
        return np.stack([x * cos - y * sin + self.cx, x * sin + y * cos + self.cy], axis=1)


def _bounds(points: np.ndarray) -> Box:
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    return float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max())


def split_at_gaps(text: str, box: Box, confidence: float, words: Sequence[tuple]) -> list[Line]:
    """The line as one segment per run of words without a wide gap (``words``: (text, score, box)).

    Without word boxes, or when the words do not spell the line, the line stays whole."""
    if not words or "".join(w[0] for w in words).replace(" ", "") != text.replace(" ", ""):
        return [Line(text, box, confidence)]
    height = box[3] - box[1]
    bounds = [_bounds(points) for _, _, points in words]
    gaps = [b[0] - a[2] for a, b in zip(bounds, bounds[1:])]
    usual = float(np.median(gaps)) if gaps else 0.0
    runs: list[list[tuple[str, Box]]] = [[(str(words[0][0]), bounds[0])]]
    for (word, _score, _points), box_, gap in zip(words[1:], bounds[1:], gaps):
        if gap > WORD_GAP * height and gap > GAP_OVER_USUAL * usual:
            runs.append([])
        runs[-1].append((str(word), box_))
    if len(runs) == 1:
        return [Line(text, box, confidence)]
    return [
        Line(" ".join(word for word, _ in run), (run[0][1][0], box[1], run[-1][1][2], box[3]), confidence)
        for run in runs
    ]
