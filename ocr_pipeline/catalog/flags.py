"""Which pages need a person, and why: the one definition of a flagged page, used for
``pages.parquet`` and the review tasks alike (pure; thresholds in :class:`FlagRules`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from ocr_pipeline.models import PageResult, PageStatus


@dataclass(frozen=True)
class FlagRules:
    min_ocr_confidence: float = 0.8
    """OCR'd pages below this mean line confidence are flagged."""
    max_text_disagreement: float = 0.3
    """Pages with both a sane text layer and OCR are flagged when more than this share of words differ."""


def text_disagreement(text_layer: str, ocr: str) -> float:
    """Share of words (0..1) that differ between the two readings, in order."""
    return 1.0 - SequenceMatcher(None, text_layer.split(), ocr.split(), autojunk=False).ratio()


def page_flags(
    pages: Sequence[PageResult],
    rows: Iterable[Mapping[str, Any]],
    text_layers: Mapping[int, str],
    page_doubts: Mapping[int, Sequence[str]],
    rules: FlagRules,
    corrected: Iterable[int] = (),
) -> dict[int, list[str]]:
    """Page -> reasons for every page a person should look at (pages already corrected excluded).

    ``rows`` are validated rows (``page``, ``course_code``, ``needs_review``, ``reasons``);
    ``text_layers`` holds the text layer of pages whose text layer was sane; ``page_doubts`` are
    the parser's pages whose course-like text produced too few entries.
    """
    reasons: dict[int, list[str]] = {}
    for row in rows:
        if row["needs_review"]:
            reasons.setdefault(row["page"], []).extend(
                f"{row['course_code']}: {reason}" for reason in (row["reasons"] or ["flagged by validation"])
            )
    for result in pages:
        page, text = result.ref.page, result.text
        found = reasons.setdefault(page, [])
        if result.status is not PageStatus.OK:
            found.append(f"page {result.status.value}: {'; '.join(text.reasons) or 'no reason given'}")
        ocr = result.method.startswith("ocr:")
        if ocr and text.lines and text.confidence < rules.min_ocr_confidence:
            found.append(f"OCR confidence {text.confidence:.2f} below {rules.min_ocr_confidence:.2f}")
        found.extend(page_doubts.get(page, ()))
        if ocr and text.lines and page in text_layers:
            difference = text_disagreement(text_layers[page], text.text)
            if round(difference, 9) > rules.max_text_disagreement:  # 3 of 10 words: 0.30000000000000004
                found.append(f"text layer and OCR disagree ({difference:.0%} of words differ)")
    skip = set(corrected)
    return {page: list(dict.fromkeys(found)) for page, found in sorted(reasons.items()) if found and page not in skip}
