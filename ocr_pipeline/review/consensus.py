"""Consensus over independent answers: per-field majority with an agreement threshold (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ocr_pipeline.review.model import ENTRY_FIELDS, Answer


@dataclass(frozen=True)
class Decision:
    """``answer`` is the consensus when the answers agree; ``disagreements`` names the fields that did not."""

    answer: Answer | None
    disagreements: tuple[str, ...]


def _majority(values: Sequence[Any], total: int, agreement: float) -> tuple[Any, bool]:
    value, count = Counter(values).most_common(1)[0]
    return value, count / total >= agreement


def consensus(answers: Sequence[Answer], agreement: float = 0.6) -> Decision:
    """Agree field by field: which codes the page lists, then each field of each agreed code.

    Each field's most common value must come from at least ``agreement`` of the answers;
    the consensus answer is built from those values, credited to all who answered.
    """
    if not answers:
        raise ValueError("consensus needs at least one answer")
    total = len(answers)
    by_code = [{entry["course_code"]: entry for entry in answer.entries} for answer in answers]
    codes, codes_agree = _majority([tuple(sorted(entries)) for entries in by_code], total, agreement)
    if not codes_agree:
        return Decision(None, ("course codes",))
    disagreements = []
    merged = []
    for code in codes:
        entry = {"course_code": code}
        for name in ENTRY_FIELDS[1:]:
            entry[name], agrees = _majority([entries.get(code, {}).get(name) for entries in by_code], total, agreement)
            if not agrees:
                disagreements.append(f"{code} {name}")
        merged.append(entry)
    if disagreements:
        return Decision(None, tuple(disagreements))
    order = {entry["course_code"]: i for i, entry in enumerate(answers[0].entries)}
    merged.sort(key=lambda entry: order.get(entry["course_code"], len(order)))
    reviewers = ",".join(answer.reviewer for answer in answers)
    return Decision(Answer(reviewers, tuple(merged), not merged, answers[-1].tier, answers[-1].at), ())
