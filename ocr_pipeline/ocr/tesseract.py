"""Tesseract 5 through its command-line tool (Debian's ``tesseract-ocr``), TSV output."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import time
from collections.abc import Sequence

from ocr_pipeline.models import Line, PageText
from ocr_pipeline.ocr.base import PageImage, failed_page


class TesseractEngine:
    """One ``tesseract`` process per page; words grouped into its own line ids."""

    name = "tesseract"

    def __init__(self, *, binary: str = "tesseract", language: str = "eng", timeout: float = 120.0) -> None:
        resolved = shutil.which(binary)
        if resolved is None:
            raise RuntimeError(f"tesseract binary {binary!r} not found; install tesseract-ocr")
        self._binary = resolved
        self._language = language
        self._timeout = timeout

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        return [self._recognize_one(page) for page in pages]

    def _recognize_one(self, page: PageImage) -> PageText:
        started = time.perf_counter()
        png = io.BytesIO()
        page.image.save(png, format="PNG")
        try:
            completed = subprocess.run(
                [self._binary, "stdin", "stdout", "-l", self._language, "--psm", "3", "tsv"],
                input=png.getvalue(),
                capture_output=True,
                timeout=self._timeout,
                check=True,
            )
        except (subprocess.SubprocessError, OSError) as error:
            return failed_page(self.name, f"tesseract failed: {error}", time.perf_counter() - started)
        lines = _tsv_lines(completed.stdout.decode("utf-8", "replace"))
        confidence = sum(line.confidence for line in lines) / len(lines) if lines else 0.0
        return PageText(self.name, tuple(lines), confidence=confidence, seconds=time.perf_counter() - started)


def _tsv_lines(tsv: str) -> list[Line]:
    """Group Tesseract's word rows by (block, paragraph, line) into lines."""
    grouped: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") == "5" and row["text"].strip():
            grouped.setdefault((row["block_num"], row["par_num"], row["line_num"]), []).append(row)
    lines = []
    for words in grouped.values():
        x0 = min(int(w["left"]) for w in words)
        y0 = min(int(w["top"]) for w in words)
        x1 = max(int(w["left"]) + int(w["width"]) for w in words)
        y1 = max(int(w["top"]) + int(w["height"]) for w in words)
        confidence = sum(max(float(w["conf"]), 0.0) for w in words) / (100.0 * len(words))
        lines.append(Line(" ".join(w["text"] for w in words), (x0, y0, x1, y1), confidence=confidence))
    return lines
