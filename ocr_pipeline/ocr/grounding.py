"""Parse DeepSeek-OCR grounding output into blocks and reading-order lines.

The model writes ``<|ref|>LABEL<|/ref|><|det|>[[x1, y1, x2, y2], ...]<|/det|>`` and then the
region's content, up to the next ``<|ref|>``. Coordinates are on a 0-999 grid over the image.
Multi-page output is joined with ``<--- Page Split --->``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ocr_pipeline.models import Block, Box, Line
from ocr_pipeline.ocr.html_table import table_lines

GRID = 999
PAGE_SPLIT = re.compile(r"\n?<--- Page Split --->\n?")
_REF = re.compile(r"<\|ref\|>(.*?)<\|/ref\|>", re.S)
_DET_OPEN, _DET_CLOSE = "<|det|>", "<|/det|>"
_HEADING = re.compile(r"^\s*#+\s*")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
BOLD_LABELS = frozenset({"title", "sub_title"})


@dataclass(frozen=True)
class Region:
    """One grounded region of the raw output; ``span`` is its character range in that output."""

    label: str
    box: Box
    text: str
    span: tuple[int, int]
    box_ok: bool = True

    def block(self, confidence: float, min_confidence: float | None = None) -> Block:
        return Block(self.label, self.box, self.text, confidence, min_confidence)


def split_pages(raw: str) -> list[str]:
    """Split output that covers several pages."""
    return PAGE_SPLIT.split(raw)


def parse_boxes(det: str, width: float, height: float) -> list[Box]:
    """Boxes from a det payload, in page pixels; malformed entries are dropped."""
    try:
        value = ast.literal_eval(det.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return []
    if isinstance(value, (list, tuple)) and len(value) == 4 and all(_is_number(v) for v in value):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    boxes = []
    for item in value:
        if isinstance(item, (list, tuple)) and len(item) == 4 and all(_is_number(v) for v in item):
            x0, y0, x1, y1 = (min(max(float(v), 0.0), GRID) for v in item)
            if x1 > x0 and y1 > y0:
                boxes.append((x0 / GRID * width, y0 / GRID * height, x1 / GRID * width, y1 / GRID * height))
    return boxes


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def parse_grounding(raw: str, width: float, height: float) -> list[Region]:
    """Regions of one page. Text outside any ref (e.g. free OCR) becomes a whole-page ``text`` region.

    A region whose det is missing, truncated or malformed keeps its text, gets the whole-page box
    and ``box_ok=False``.
    """
    page: Box = (0.0, 0.0, float(width), float(height))
    refs = list(_REF.finditer(raw))
    regions: list[Region] = []
    head_end = refs[0].start() if refs else len(raw)
    if raw[:head_end].strip():
        regions.append(Region("text", page, raw[:head_end].strip(), (0, head_end)))
    for i, ref in enumerate(refs):
        end = refs[i + 1].start() if i + 1 < len(refs) else len(raw)
        rest = raw[ref.end() : end]
        boxes: list[Box] = []
        if rest.lstrip().startswith(_DET_OPEN):
            det_start = rest.index(_DET_OPEN) + len(_DET_OPEN)
            det_end = rest.find(_DET_CLOSE, det_start)
            if det_end >= 0:
                boxes = parse_boxes(rest[det_start:det_end], width, height)
                rest = rest[det_end + len(_DET_CLOSE) :]
            else:
                rest = ""
        label = ref.group(1).strip() or "text"
        ok = bool(boxes)
        regions.append(Region(label, _union(boxes) if ok else page, rest.strip(), (ref.start(), end), ok))
    return regions


def clean_line(text: str) -> tuple[str, int | None]:
    """Strip markdown heading/bold markers; return the text and how many leading characters were bold."""
    text = _HEADING.sub("", text).strip()
    lead = _BOLD.match(text)
    bold_chars = len(lead.group(1).strip()) if lead else None
    return _BOLD.sub(r"\1", text).strip(), bold_chars


def lines_from_blocks(blocks: list[Block] | tuple[Block, ...]) -> list[Line]:
    """Reading-order lines: one per text line of each block, boxed by the block."""
    lines = []
    for block in blocks:
        if block.label == "image":
            continue
        if block.label == "table" and "<table" in block.text.lower():
            raw_lines = table_lines(block.text)
        else:
            raw_lines = block.text.splitlines()
        for raw_line in raw_lines:
            text, bold_chars = clean_line(raw_line)
            if text:
                if block.label in BOLD_LABELS:
                    bold_chars = len(text)
                lines.append(
                    Line(
                        text=text, box=block.box, confidence=block.confidence, bold_chars=bold_chars, label=block.label
                    )
                )
    return lines
