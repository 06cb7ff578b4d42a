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


def _by_occurrence(entries: Sequence[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Entries keyed by (code, occurrence): a page may list one code twice (a lecture and its lab)."""
    seen: Counter[str] = Counter()
    keyed = {}
    for entry in entries:
        seen[entry["course_code"]] += 1
        keyed[(entry["course_code"], seen[entry["course_code"]])] = entry
    return keyed


def consensus(answers: Sequence[Answer], agreement: float = 0.6) -> Decision:
    """Agree field by field: which codes the page lists (a code listed twice counts twice), then each field of
    each agreed entry.

    Each field's most common value must come from at least ``agreement`` of the answers;
    the consensus answer is built from those values, credited to all who answered.
    """
    if not answers:
        raise ValueError("consensus needs at least one answer")
    total = len(answers)
    by_code = [_by_occurrence(answer.entries) for answer in answers]
    codes, codes_agree = _majority([tuple(sorted(entries)) for entries in by_code], total, agreement)
    if not codes_agree:
        return Decision(None, ("course codes",))
    disagreements = []
    agreed: list[tuple[tuple[str, int], dict[str, Any]]] = []
    for key in codes:
        entry = {"course_code": key[0]}
        for name in ENTRY_FIELDS[1:]:
            entry[name], agrees = _majority([entries.get(key, {}).get(name) for entries in by_code], total, agreement)
            if not agrees:
                disagreements.append(f"{key[0]} {name}" if key[1] == 1 else f"{key[0]} ({key[1]}) {name}")
        agreed.append((key, entry))
    if disagreements:
        return Decision(None, tuple(disagreements))
    order = {key: i for i, key in enumerate(by_code[0])}
    merged = tuple(entry for key, entry in sorted(agreed, key=lambda pair: order.get(pair[0], len(order))))
    reviewers = ",".join(answer.reviewer for answer in answers)
    return Decision(Answer(reviewers, merged, not merged, answers[-1].tier, answers[-1].at), ())
