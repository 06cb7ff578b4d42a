"""Turn DeepSeek-OCR text (+ optional token probabilities) into a :class:`PageText`."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ocr_pipeline.models import Block, PageRef, PageStatus, PageText
from ocr_pipeline.ocr.grounding import lines_from_blocks, parse_grounding

NO_EOS_REASON = "no end-of-sentence token (repetition loop or token limit)"
NON_FINITE_REASON = "non-finite token probabilities (numerical overflow; try float32 or bfloat16)"
GROUNDING_PROMPT = "<image>\n<|grounding|>Convert the document to markdown."
FREE_PROMPT = "<image>\nFree OCR."


def resolve_prompt(prompt: str) -> str:
    """``grounding``/``free`` presets, or a verbatim prompt that must contain ``<image>``."""
    text = {"grounding": GROUNDING_PROMPT, "free": FREE_PROMPT}.get(prompt, prompt)
    if "<image>" not in text:
        raise ValueError("a DeepSeek-OCR prompt must contain '<image>'")
    return text


def token_offsets(pieces: Sequence[str], text_length: int) -> list[tuple[int, int]]:
    """Approximate character span of each token in the decoded text.

    Pieces are tokens decoded one by one; their cumulative lengths are scaled to the length of
    the properly decoded text, which can differ slightly (merged bytes, cleanup of spaces).
    """
    total = sum(len(p) for p in pieces)
    scale = text_length / total if total else 0.0
    spans, position = [], 0
    for piece in pieces:
        spans.append((round(position * scale), round((position + len(piece)) * scale)))
        position += len(piece)
    return spans


def build_page(
    engine: str,
    raw: str,
    ref: PageRef,
    seconds: float,
    *,
    offsets: Sequence[tuple[int, int]] | None = None,
    probs: Sequence[float] | None = None,
    complete: bool = True,
) -> PageText:
    """Parse grounding output; score blocks from the tokens that fall in them; flag problems.

    Without token scores a page is 1.0 when it ended with end-of-sentence and 0.0 when it did not
    (a loop or the token limit): an unfinished page is never reported as confidently read. NaN or
    infinite probabilities (fp16 overflow) count as 0.0 and flag the page.
    """
    regions = parse_grounding(raw, ref.width, ref.height)
    finite = [p if math.isfinite(p) else 0.0 for p in probs or ()]
    non_finite = len(finite) - sum(math.isfinite(p) for p in probs or ())
    scored = list(zip(offsets or (), finite))
    if scored:
        page_conf = sum(p for _, p in scored) / len(scored)
    else:
        page_conf = 1.0 if complete else 0.0
    blocks: list[Block] = []
    for region in regions:
        inside = [p for (start, end), p in scored if region.span[0] <= (start + end) / 2 < region.span[1]]
        if inside:
            blocks.append(region.block(sum(inside) / len(inside), min(inside)))
        else:
            blocks.append(region.block(page_conf, None))
    reasons = []
    if not complete:
        reasons.append(NO_EOS_REASON)
    if non_finite:
        reasons.append(NON_FINITE_REASON)
    bad = sum(not r.box_ok for r in regions)
    if bad:
        reasons.append(f"{bad} grounding region(s) without a valid box")
    if not raw.strip():
        reasons.append("empty output")
    status = PageStatus.NEEDS_REVIEW if reasons else PageStatus.OK
    return PageText(
        engine=engine,
        lines=tuple(lines_from_blocks(blocks)),
        blocks=tuple(blocks),
        confidence=page_conf,
        seconds=seconds,
        status=status,
        reasons=tuple(reasons),
    )
