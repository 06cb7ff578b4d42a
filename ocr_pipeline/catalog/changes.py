"""Catalog editions compared: courses added, removed, renamed or with changed credits (pure functions).

An **edition** is one source object (one published ``courses.parquet``) of an institution; editions
without rows and rows without an institution are left out. An institution's editions are ordered
by ``edition_order``:

1. when every edition names a year, by that year: the first 4-digit year (1950-2099) in the source
   file's name (``catalog-2025-26.pdf`` -> 2025), else in its ``catalog`` (the PDF title, e.g.
   ``Example University Catalog 2026``); editions of the same year by (2);
2. otherwise by the time each source object was first published (``first_published_at`` in its
   ``published.json``), then by ``source_uri``.

Each edition is compared with the next one. Courses are matched by code, compared without case,
spaces or hyphens (``CHEM 101`` = ``CHEM-101``); a code printed more than once in an edition is
taken at its first occurrence. Changes:

- ``added`` (in the later edition only; ``new_value`` = its title), ``removed`` (in the earlier only;
  ``old_value`` = its title);
- ``renamed``: both titles present and different once normalised (case, punctuation, ``&``/``and``,
  spacing), ``old_value``/``new_value`` the titles as printed;
- ``credits``: both editions print credits and they differ, as ``3`` or ``1-4``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

CHANGE_KINDS = ("added", "removed", "renamed", "credits")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20\d\d)(?!\d)")


@dataclass(frozen=True)
class Edition:
    """One published source object of an institution, with its course rows (``course_code``, ``title``,
    ``credits_min``, ``credits_max``, ``page``)."""

    institution: str
    source_id: str
    source_uri: str
    catalog: str | None
    rows: tuple[dict[str, Any], ...]
    first_published_at: str | None = None
    """ISO time the source object was first published (ties and editions without a year)."""

    @property
    def year(self) -> int | None:
        """The first 4-digit year in the file name, else in the catalog name (``None`` without one)."""
        for text in (self.source_uri.rsplit("/", 1)[-1], self.catalog or ""):
            match = _YEAR.search(text)
            if match:
                return int(match.group(1))
        return None


def edition_order(editions: Sequence[Edition]) -> list[Edition]:
    """One institution's editions, oldest first (see the module docstring)."""

    def by_time(edition: Edition) -> tuple[str, str]:
        return edition.first_published_at or "", edition.source_uri

    if editions and all(edition.year is not None for edition in editions):
        return sorted(editions, key=lambda e: (e.year, *by_time(e)))
    return sorted(editions, key=by_time)


def code_key(code: str) -> str:
    """Course codes compared across editions: no case, spaces or hyphens."""
    return re.sub(r"[\s\-\u2010\u2013]+", "", code).upper()


def normalise_title(title: str | None) -> str:
    text = unicodedata.normalize("NFKC", title or "").casefold().replace("&", " and ")
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def credits_text(low: float | None, high: float | None) -> str | None:
    """``3``, ``1-4``, or ``None`` when the edition prints no credits."""
    values = [v for v in (low, high) if v is not None and not math.isnan(v)]  # NaN is no value
    if not values:
        return None
    low, high = min(values), max(values)
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def _courses(edition: Edition) -> dict[str, dict[str, Any]]:
    courses: dict[str, dict[str, Any]] = {}
    for row in edition.rows:
        if row.get("course_code"):
            courses.setdefault(code_key(row["course_code"]), row)
    return courses


def _page(row: dict[str, Any] | None) -> int | None:
    return None if row is None or row.get("page") is None else int(row["page"])


def compare_editions(old: Edition, new: Edition) -> list[dict[str, Any]]:
    """The changes from ``old`` to ``new`` (``catalog_changes.parquet`` rows), in code order within kind."""
    before, after = _courses(old), _courses(new)
    changes: list[dict[str, Any]] = []

    def change(kind: str, key: str, old_value: str | None, new_value: str | None) -> None:
        was, now = before.get(key), after.get(key)
        changes.append(
            {
                "institution": new.institution,
                "from_source_id": old.source_id,
                "to_source_id": new.source_id,
                "from_catalog": old.catalog,
                "to_catalog": new.catalog,
                "course_code": (now or was or {}).get("course_code"),
                "change": kind,
                "old_value": old_value,
                "new_value": new_value,
                "from_page": _page(was),
                "to_page": _page(now),
            }
        )

    for key in sorted(after.keys() - before.keys()):
        change("added", key, None, after[key].get("title"))
    for key in sorted(before.keys() - after.keys()):
        change("removed", key, before[key].get("title"), None)
    common = sorted(before.keys() & after.keys())
    for key in common:
        was, now = before[key], after[key]
        old_title, new_title = normalise_title(was.get("title")), normalise_title(now.get("title"))
        if old_title and new_title and old_title != new_title:
            change("renamed", key, was.get("title"), now.get("title"))
    for key in common:
        was_credits = credits_text(before[key].get("credits_min"), before[key].get("credits_max"))
        now_credits = credits_text(after[key].get("credits_min"), after[key].get("credits_max"))
        if was_credits is not None and now_credits is not None and was_credits != now_credits:
            change("credits", key, was_credits, now_credits)
    return changes


def catalog_changes(editions: Iterable[Edition]) -> dict[str, tuple[list[Edition], list[dict[str, Any]]]]:
    """Institution -> (its editions in order, the changes between consecutive ones), for every institution
    with more than one edition."""
    by_institution: dict[str, list[Edition]] = {}
    for edition in editions:
        if edition.institution and edition.rows:
            by_institution.setdefault(edition.institution, []).append(edition)
    result: dict[str, tuple[list[Edition], list[dict[str, Any]]]] = {}
    for institution in sorted(by_institution):
        ordered = edition_order(by_institution[institution])
        if len(ordered) < 2:
            continue
        result[institution] = (ordered, [row for old, new in pairwise(ordered) for row in compare_editions(old, new)])
    return result


def change_counts(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Rows per change kind (every kind present, zeros included)."""
    counts = dict.fromkeys(CHANGE_KINDS, 0)
    for row in rows:
        counts[row["change"]] += 1
    return counts
