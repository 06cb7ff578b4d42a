"""Credit notations found in catalogs, parsed to (min, max).

Handles ``3 Credits``, ``1-3 credits``, ``1 to 4 credit hours``, ``Credits 1 to 4.``, ``4 cr.``,
``3CR``, ``3 hrs``, ``(4 units)``, ``(2.5 QH)``, ``7.5 ECTS``, ``Credits: 1.5``, lecture-lab-credit
digits with credits in parentheses (``400(4)``), credits with (lecture, lab) hours after them
(``3(3,1)``, ``3-12(0,3-12)``, ``VAR(0,VAR)``), a bare ``(3)`` ending a heading, and ``Variable``
credit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = r"\d{1,2}(?:\.\d{1,2})?"
RANGE = rf"(?P<low>{NUMBER})(?:\s*(?:-|–|—|to|or)\s*(?P<high>{NUMBER}))?"
UNIT = (
    r"(?:semester\s+|quarter\s+)?(?:credit\s+hours?|credit\s+hrs?\.?|credits?|cr\.?|crs\.?|hrs?\.?|hours?"
    r"|units?|ects(?:\s+credits?)?|s\.h\.|sh|q\.?h\.?|points?|pts?\.?)"
)
HOURS = r"(?:\d{1,2}(?:\.\d)?(?:\s*-\s*\d{1,2})?|VAR)"
"""One value of a (lecture, lab) hours group."""

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # ``Credits 3.3 Lecture Hours``: OCR lost the space of ``Credits 3. 3 Lecture Hours`` (first: it wins a tie)
    re.compile(
        r"\bcredits?\s+(?P<low>\d{1,2})(?P<high>)(?=\.\d\s+(?:lecture|lab|laboratory|other|seminar|contact|studio)\b)",
        re.IGNORECASE,
    ),
    re.compile(rf"\b(?:credits?|credit\s+hours?|units?|ects(?:\s+credits?)?)\s*[:|]?\s*{RANGE}\b", re.IGNORECASE),
    re.compile(rf"(?<![\w.]){RANGE}\s*{UNIT}(?![a-z])", re.IGNORECASE),
    re.compile(rf"\b\d{{2,3}}\s*\(\s*{RANGE}\s*\)"),
    re.compile(rf"(?<![\w.(]){RANGE}\s*\(\s*{HOURS}\s*,\s*{HOURS}\s*\)"),
)
_VARIABLE = re.compile(
    rf"\bvariable\s+(?:credits?|units?|hours?)|\b(?:credits?|units?)\s*[:]?\s*variable\b|\bVAR\s*\(\s*{HOURS}\s*,\s*{HOURS}\s*\)"
    r"|\bVAR\b(?=\s*$)",
    re.IGNORECASE,
)
BARE_PARENTHESISED = re.compile(rf"\(\s*{RANGE}\s*\)\s*\.?\s*$")
"""A bare ``(3)`` ending a heading: its credits."""


@dataclass(frozen=True)
class Credits:
    """Parsed credits and where they were found in the text."""

    low: float | None
    high: float | None
    start: int
    end: int
    variable: bool = False


def _credits(match: re.Match[str]) -> Credits:
    low = float(match.group("low"))
    high = float(match.group("high")) if match.group("high") else low
    return Credits(min(low, high), max(low, high), match.start(), match.end())


def find_credits(text: str) -> Credits | None:
    """The first credit notation in ``text``, or ``None``."""
    found = [_credits(match) for pattern in _PATTERNS if (match := pattern.search(text))]
    variable = _VARIABLE.search(text)
    if variable:
        found.append(Credits(None, None, variable.start(), variable.end(), variable=True))
    return min(found, key=lambda credits: credits.start) if found else None


def trailing_number(text: str) -> Credits | None:
    """A bare credit value ending a line or cell (``Foundations of Computing 3.0``, ``| 10``, ``Ethics (3)``)."""
    match = re.search(rf"(?<![\w.\-/]){RANGE}\s*$", text) or BARE_PARENTHESISED.search(text)
    if not match:
        return None
    credits = _credits(match)
    if credits.low is None or not 0 <= credits.low <= 30:
        return None
    return credits
