"""Credit notations found in catalogs, parsed to (min, max).

Handles ``3 Credits``, ``1-3 credits``, ``1 to 4 credit hours``, ``4 cr.``, ``3 hrs``,
``(4 units)``, ``7.5 ECTS``, ``Credits: 1.5``, lecture-lab-credit digits with credits in
parentheses (``400(4)``), and ``Variable`` credit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = r"\d{1,2}(?:\.\d{1,2})?"
RANGE = rf"(?P<low>{NUMBER})(?:\s*(?:-|–|—|to|or)\s*(?P<high>{NUMBER}))?"
UNIT = (
    r"(?:semester\s+|quarter\s+)?(?:credit\s+hours?|credit\s+hrs?\.?|credits?|cr\.?|crs\.?|hrs?\.?|hours?"
    r"|units?|ects(?:\s+credits?)?|s\.h\.|sh|points?|pts?\.?)"
)

_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"\b(?:credits?|credit\s+hours?|units?|ects(?:\s+credits?)?)\s*[:|]?\s*{RANGE}\b", re.IGNORECASE),
    re.compile(rf"(?<![\w.]){RANGE}\s*{UNIT}(?![a-z])", re.IGNORECASE),
    re.compile(rf"\b\d{{2,3}}\s*\(\s*{RANGE}\s*\)"),
)
_VARIABLE = re.compile(r"\bvariable\s+(?:credits?|units?|hours?)|\b(?:credits?|units?)\s*[:]?\s*variable\b", re.IGNORECASE)


@dataclass(frozen=True)
class Credits:
    """Parsed credits and where they were found in the text."""

    low: float | None
    high: float | None
    start: int
    end: int
    variable: bool = False


def find_credits(text: str) -> Credits | None:
    """The first credit notation in ``text``, or ``None``."""
    found: list[Credits] = []
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            low = float(match.group("low"))
            high = float(match.group("high")) if match.group("high") else low
            if high < low:
                low, high = high, low
            found.append(Credits(low, high, match.start(), match.end()))
    variable = _VARIABLE.search(text)
    if variable:
        found.append(Credits(None, None, variable.start(), variable.end(), variable=True))
    return min(found, key=lambda credits: credits.start) if found else None


def trailing_number(text: str) -> Credits | None:
    """A bare credit value ending a line or cell (``Foundations of Computing 3.0``, ``| 10``)."""
    match = re.search(rf"(?<![\w.\-/]){RANGE}\s*$", text)
    if not match:
        return None
    low = float(match.group("low"))
    high = float(match.group("high")) if match.group("high") else low
    if not 0 < low <= 30 or high < low:
        return None
    return Credits(low, high, match.start(), match.end())
