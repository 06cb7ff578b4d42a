"""Ground-truth records for synthetic catalogs and their JSON form."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TruthCourse:
    """One catalog entry exactly as printed (whitespace normalised, hyphenation and ligatures undone)."""

    course_code: str
    title: str
    credits_min: float | None
    credits_max: float | None
    description: str | None
    prerequisites: str | None
    page: int


@dataclass(frozen=True)
class SyntheticCatalog:
    """A generated born-digital catalog PDF together with its ground truth."""

    layout: str
    institution: str
    pdf: bytes
    truth: tuple[TruthCourse, ...]


def truth_to_json(catalog: SyntheticCatalog) -> list[dict[str, Any]]:
    """The catalog's truth as JSON-ready dicts, in catalog order."""
    return [asdict(course) for course in catalog.truth]


def truth_from_json(rows: list[dict[str, Any]]) -> tuple[TruthCourse, ...]:
    """Inverse of ``truth_to_json``."""
    return tuple(
        TruthCourse(
            **{
                **row,
                "credits_min": None if row["credits_min"] is None else float(row["credits_min"]),
                "credits_max": None if row["credits_max"] is None else float(row["credits_max"]),
            }
        )
        for row in rows
    )


def truth_json_text(catalog: SyntheticCatalog) -> str:
    """The truth serialised the way the committed ``truth/<layout>.json`` files are written."""
    return json.dumps(truth_to_json(catalog), indent=2, ensure_ascii=False) + "\n"
