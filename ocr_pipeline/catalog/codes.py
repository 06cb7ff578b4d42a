"""Course codes as printed: ``CS 101``, ``ACCT-212``, ``GS-GS-5112``, ``SCI2039``, ``MATH 1A``, ``CS/MATH 210``.

OCR sometimes drops the space after a code (``STAT 52Introduction``): a number followed by a
capitalised word still ends the code, while ``52IN`` or ``52in`` is not a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_CODE_PATTERN = (
    r"(?P<subject>[A-Z][A-Z&]{1,6}(?:[/-][A-Z][A-Z&]{1,6})*)"
    r"(?P<sep>\s?-\s?|\s|)"
    r"(?P<number>\d{1,4}[A-Z]{0,2})"
    r"(?![a-z0-9_/-]|[A-Z](?![a-z])|\.\d)"
)


@dataclass(frozen=True)
class CodeMatch:
    code: str
    subject: str
    number: str
    end: int
    sep: str = " "
    """What separates subject and number as printed: ``" "``, ``"-"`` or ``""``."""


class CodeMatcher:
    """Finds a course code at the start of a line; the pattern can come from a profile."""

    def __init__(self, pattern: str = DEFAULT_CODE_PATTERN) -> None:
        self._start = re.compile(r"^\s*[•·*]?\s*(?P<code>" + pattern + ")")
        self._anywhere = re.compile(r"(?<![\w/-])(?P<code>" + pattern + ")")

    def at_start(self, text: str) -> CodeMatch | None:
        match = self._start.match(text)
        if match is None:
            return None
        return CodeMatch(normalise_code(match.group("code")), match.group("subject"), match.group("number"), match.end(),
                         _separator(match))

    def count_in(self, text: str) -> int:
        """How many codes appear anywhere in ``text`` (course-like text without entries)."""
        return sum(1 for _ in self._anywhere.finditer(text))


def normalise_code(code: str) -> str:
    """Whitespace-normalised code, as printed otherwise."""
    return " ".join(code.split())


def _separator(match: re.Match[str]) -> str:
    try:
        sep = match.group("sep")
    except IndexError:  # a profile's pattern without a ``sep`` group
        return " "
    return sep.strip() or (" " if sep else "")
