"""The embedded CPU OCR engine: RapidOCR with the PP-OCR ONNX models shipped in its wheel."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from ocr_pipeline.models import Line, PageStatus, PageText
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
            output = self._ocr(np.asarray(page.image.convert("RGB")))
        except Exception as error:  # one bad page must not fail the batch
            return failed_page(self.name, f"rapidocr failed: {error}", time.perf_counter() - started)
        seconds = time.perf_counter() - started
        if output.boxes is None or not len(output.boxes):
            return PageText(self.name, (), confidence=0.0, seconds=seconds, reasons=("no text found",))
        lines = tuple(
            Line(
                text=str(text),
                box=(float(box[:, 0].min()), float(box[:, 1].min()), float(box[:, 0].max()), float(box[:, 1].max())),
                confidence=float(score),
            )
            for box, text, score in zip(np.asarray(output.boxes), output.txts, output.scores)
        )
        confidence = float(np.mean([line.confidence for line in lines]))
        return PageText(self.name, lines, confidence=confidence, seconds=seconds, status=PageStatus.OK)
