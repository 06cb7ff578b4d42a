"""Course codes as printed: ``CS 101``, ``ACCT-212``, ``GS-GS-5112``, ``SCI2039``, ``MATH 1A``, ``CS/MATH 210``,
cross-listings ``CSCE 320/STAT 335`` and ``CIVE 451/851``, track suffixes ``GERL101B1``, ``BP701TN22``.

OCR sometimes drops the space after a code (``STAT 52Introduction``): a number followed by a
capitalised word still ends the code, while ``52IN`` or ``52in`` is not a code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_CODE_PATTERN = (
    r"(?P<subject>[A-Z][A-Z&]{1,6}(?:[/-][A-Z][A-Z&]{1,6})*)"
    r"(?P<sep>\s?-\s?|\s|)"
    r"(?P<number>\d{1,4}(?:[A-Z]{1,3}\d{1,2}(?!\d)|[A-Z]{0,2}))"
    r"(?P<cross>(?:/(?:[A-Z][A-Z&]{1,6}\s?)?\d{1,4}[A-Z]{0,2})*)"
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

    @property
    def number_only(self) -> bool:
        """A code printed without its subject (the subject is a heading of the section)."""
        return not self.subject


NUMBER_ONLY_CODE = r"(?P<number>\d{3}[A-Z]?(?:/\d{3}[A-Z]?)*(?: \(\d{3}[A-Z]?\))?)(?=\.\s+[A-Z])"
"""A code printed as a number under a subject heading, run into its title: ``434L/834L. Title``.
Whether a catalog numbers its entries this way is learnt by the parser, never assumed."""


class CodeMatcher:
    """Finds a course code at the start of a line; the pattern can come from a profile."""

    def __init__(self, pattern: str = DEFAULT_CODE_PATTERN) -> None:
        self._start = re.compile(r"^\s*[•·*]?\s*(?P<code>" + pattern + ")")
        self._anywhere = re.compile(r"(?<![\w/-])(?P<code>" + pattern + ")")
        self._number_only = re.compile(r"^\s*(?:\[[A-Z]{2}\])*\s*(?P<code>" + NUMBER_ONLY_CODE + ")")

    def at_start(self, text: str) -> CodeMatch | None:
        match = self._start.match(text)
        if match is None:
            number = self._number_only.match(text)
            if number is None:
                return None
            return CodeMatch(normalise_code(number.group("code")), "", number.group("number"), number.end(), "")
        return CodeMatch(
            normalise_code(match.group("code")),
            match.group("subject"),
            match.group("number"),
            match.end(),
            _separator(match),
        )

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
