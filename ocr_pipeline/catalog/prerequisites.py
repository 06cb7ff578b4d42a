"""Prerequisites as data: the course codes a row's ``prerequisites`` text requires, as and/or groups.

``parse_prerequisites(text, shape)`` returns the requirement in conjunctive form: a list of
``and``-groups, each a list of ``or``-alternatives. ``"CHEM 101 and (MATH 120 or MATH 121)"`` is
``[["CHEM 101"], ["MATH 120", "MATH 121"]]``: every group is required, any one code of a group
satisfies it. Precision comes before recall; the rules, in order:

- The text is cut into clauses at ``;``, ``:`` and sentence ends; the clauses are all required. A clause
  (or a bracket) that is not a requirement is dropped whole: ``recommended``, ``suggested``,
  ``optional``, ``same as``, ``cross-listed``, ``formerly``, any ``not`` (``not open to``, ``credit not
  given``) or ``no credit``.
- Codes are read as ``SUBJECT NUMBER`` (``CHEM 101``, ``CHEM-101``, ``CHEM101``, ``MATH 1A``, ``GERL101B1``)
  and kept only when the number has as many digits as the document's numbers usually do, and the
  subject is one of the document's own subjects (in capitals or title case: ``Chem 101``) or, printed
  in capitals, has the shape of the document's codes (subject length, separator; not a test or term
  name such as ``SAT``, ``ACT``, ``GPA``, ``FALL``). ``CHEM 300-level`` and ``MATH 2 years`` are not codes.
- A bare number after a code and a connective takes that code's subject when it has as many digits:
  ``CHEM 101 or 102`` -> ``CHEM 102``, ``CHEM 101, 102, and 103``; ``CHEM 101-102`` is the two-course
  sequence (both required) when the numbers are consecutive, and nothing at all otherwise (a range).
- Within a clause ``or`` (also ``/`` and ``and/or``) binds tighter than ``and``, so ``A or B and C`` is
  ``(A or B) and C``; a comma takes the kind of the next ``and``/``or`` word (``A, B, or C``: any of
  three), else ``and``; parentheses and brackets group, and ``(A and B) or C`` is distributed to
  ``(A or C) and (B or C)``.
- Words that are not codes (``permission of instructor``, ``junior standing``, ``a grade of C or
  better``, ``none``) are dropped from the groups: ``CHEM 101 and MATH 120 or permission`` is
  ``[["CHEM 101"], ["MATH 120"]]``.
- Codes come out in the document's shape (its usual subject/number separator, capitals), so they
  compare with its ``course_code`` values; a course never requires itself.

``prerequisite_rows(rows)`` applies this to a document's course rows: each gets its
``prerequisite_codes`` and the document gets its ``prerequisites.parquet`` edge list.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

NOT_SUBJECTS = frozenset(
    {
        "ACT",
        "AP",
        "IB",
        "SAT",
        "GPA",
        "GRE",
        "GMAT",
        "MCAT",
        "LSAT",
        "TOEFL",
        "IELTS",
        "PTE",
        "CLEP",
        "ALEKS",
        "GED",
        "HSC",
        "ECTS",
        "CR",
        "CH",
        "QH",
        "SCH",
        "HRS",
        "HOURS",
        "HOUR",
        "UNIT",
        "UNITS",
        "CREDIT",
        "CREDITS",
        "LEVEL",
        "GRADE",
        "YEAR",
        "YEARS",
        "TERM",
        "FALL",
        "SPRING",
        "SUMMER",
        "WINTER",
        "SEM",
        "PAGE",
        "PART",
        "SECTION",
        "CHAPTER",
        "VOL",
        "NO",
        "ROOM",
        "STEP",
        "PHASE",
        "FORM",
        "TABLE",
        "AM",
        "PM",
        "AD",
        "BC",
        "USD",
    }
)
"""Capitalised words followed by a number that are not course subjects (tests, terms, units)."""

_EXCLUDING = re.compile(
    r"\b(?:not|no\s+credit|recommended|recommend|suggested|advised|advisable|desirable|preferred|optional|same\s+as|"
    r"cross[-\s]?listed|formerly|previously\s+(?:numbered|listed))\b",
    re.IGNORECASE,
)
"""A clause with any of these states an exclusion, a recommendation or an alias, never a requirement."""

_CODE = re.compile(
    r"(?<![\w&-])(?P<subject>[A-Za-z][A-Za-z&]{1,6}(?:-[A-Z][A-Z&]{1,6})*)"
    r"(?P<sep>\s?[-\u2010\u2013]\s?|\s|)"
    r"(?P<number>\d{1,4}(?:[A-Z]{1,3}\d{1,2}(?!\d)|[A-Z]{1,2})?)"
    r"(?![A-Za-z0-9]|\.\d|\s?-?\s?(?i:level)\b)"
)
_OTHER = re.compile(
    r"(?P<or>(?i:\band\s*/\s*or\b|\bor\b)|/)"
    r"|(?P<bare>(?<![\w.])\d{1,4}(?:[A-Z]{1,3}\d{1,2}(?!\d)|[A-Z]{1,2})?(?![A-Za-z0-9]|\.\d|\s?-?\s?(?i:level)\b))"
    r"|(?P<open>[(\[])|(?P<close>[)\]])"
    r"|(?P<brk>;|:|\.(?=\s|$))"
    r"|(?P<comma>,)"
    r"|(?P<and>(?i:\band\b|\bplus\b)|&)"
    r"|(?P<dash>[-\u2010\u2013](?=\s?\d))"
    r"|(?P<word>[^\s(),;:\[\]/&.]+(?:\.[^\s(),;:\[\]/&.]+)*|\S)"
)
_UNIT_WORDS = re.compile(
    r"\s*(?:credit|credits|cr\b|hours?|hrs?\b|units?|semesters?|quarters?|years?|minutes?|points?|%)", re.IGNORECASE
)
MAX_GROUPS = 32
"""Distributing ``or`` over ``and`` never makes more groups than this; beyond it the codes become one
``or``-group (the text is too tangled to say which are all required)."""


@dataclass(frozen=True)
class CatalogShape:
    """How one document prints its course codes: its subjects, subject/number separator and number lengths."""

    subjects: frozenset[str] = frozenset()
    separator: str = " "
    digits: frozenset[int] = frozenset({3, 4})
    subject_lengths: tuple[int, int] = (2, 5)
    codes: frozenset[str] = field(default=frozenset(), compare=False)
    """The document's own course codes in this shape (for ``required_in_catalog``)."""

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]]) -> CatalogShape:
        """The shape of a document's course rows (``subject``, ``number``, ``course_code``)."""
        subjects: set[str] = set()
        separators: Counter[str] = Counter()
        digits: Counter[int] = Counter()
        printed: list[str] = []
        for row in rows:
            subject, number, code = (
                (row.get("subject") or "").strip(),
                (row.get("number") or "").strip(),
                row.get("course_code") or "",
            )
            printed.append(code)
            if not subject or not number:
                continue
            for part in subject.upper().split("/"):
                if re.fullmatch(r"[A-Z][A-Z&]{1,6}(?:-[A-Z][A-Z&]{1,6})*", part):
                    subjects.add(part)
            leading = re.match(r"\d+", number)
            if leading:
                digits[len(leading.group())] += 1
            at = code.find(number, len(subject)) if code.upper().startswith(subject.upper()) else -1
            if at >= 0:
                separators[_separator(code[len(subject) : at])] += 1
        if not subjects:
            return cls(codes=frozenset())
        lengths = [len(s.replace("-", "").replace("&", "")) for s in subjects]
        shape = cls(
            subjects=frozenset(subjects),
            separator=separators.most_common(1)[0][0] if separators else " ",
            digits=frozenset(d for d, n in digits.items() if n >= 0.1 * digits.total()) or frozenset({3, 4}),
            subject_lengths=(min(lengths), max(lengths)),
        )
        own = {code for text in printed for code in _codes_in(text, shape)}
        own |= {shape.normalise(row["subject"], row["number"]) for row in _rows_with_codes(rows)}
        return cls(shape.subjects, shape.separator, shape.digits, shape.subject_lengths, frozenset(own))

    def normalise(self, subject: str, number: str) -> str:
        return f"{subject.upper()}{self.separator}{number.upper()}"

    def accepts(self, subject: str, number: str, sep: str = " ") -> bool:
        """Whether ``subject number`` is a course code of this catalog (see the module docstring)."""
        upper = subject.upper()
        if subject.islower() or subject not in (upper, upper[:1] + upper[1:].lower()):
            return False  # "or 102", "cHem 1"
        if _digits(number) not in self.digits:
            return False  # "Math 12" in a catalog of three-digit numbers
        if upper in self.subjects:
            return True
        if subject != upper or upper in NOT_SUBJECTS or _separator(sep) != self.separator:
            return False
        letters = len(upper.replace("-", "").replace("&", ""))
        return self.subject_lengths[0] <= letters <= self.subject_lengths[1]


def _separator(printed: str) -> str:
    return "-" if any(dash in printed for dash in "-\u2010\u2013") else (" " if printed else "")


def _rows_with_codes(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        row
        for row in rows
        if (row.get("subject") or "").strip() and (row.get("number") or "").strip() and "/" not in row["subject"]
    ]


def _codes_in(text: str, shape: CatalogShape) -> list[str]:
    return [code for group in parse_prerequisites(text, shape) for code in group]


@dataclass
class _Token:
    kind: str  # code, bare (a number), word, and, or, comma, open, close, brk, dash
    text: str
    subject: str = ""
    number: str = ""


def _tokens(text: str, shape: CatalogShape) -> list[_Token]:
    tokens: list[_Token] = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            break
        code = _CODE.match(text, at)
        if (
            code is not None
            and shape.accepts(code.group("subject"), code.group("number"), code.group("sep"))
            and not _UNIT_WORDS.match(text, code.end())
        ):  # "MATH 2 years"
            subject, number = code.group("subject").upper(), code.group("number").upper()
            tokens.append(_Token("code", shape.normalise(subject, number), subject, number))
            at = code.end()
            continue
        match = _OTHER.match(text, at)
        assert match is not None and match.lastgroup is not None  # ``\S`` matches anything else
        kind = match.lastgroup
        if kind == "bare" and _UNIT_WORDS.match(text, match.end()):
            kind = "word"  # "150 credits", "2 years"
        tokens.append(_Token(kind, match.group(0)))
        at = match.end()
    return _follow_ons(tokens, shape)


_CONNECTIVES = ("comma", "and", "or", "dash")


def _follow_ons(tokens: list[_Token], shape: CatalogShape) -> list[_Token]:
    """Bare numbers after a code and connectives become codes of that subject; ranges are resolved."""
    for index, token in enumerate(tokens):
        if token.kind != "bare":
            continue
        back = index - 1
        while back >= 0 and (tokens[back].kind in _CONNECTIVES or tokens[back].kind == "open"):
            back -= 1
        previous = tokens[back] if back >= 0 else None
        number = token.text.upper()
        between = [t.kind for t in tokens[back + 1 : index]]
        if (
            previous is None
            or previous.kind != "code"
            or not set(between) & set(_CONNECTIVES)
            or _digits(number) != _digits(previous.number)
        ):
            token.kind = "word"
            continue
        if tokens[index - 1].kind == "dash":
            if back != index - 2:
                token.kind = "word"
                continue
            first, last = _numeric(previous.number), _numeric(number)
            if first is None or last is None or last != first + 1:
                previous.kind = token.kind = "word"  # a range (``CHEM 301-399``), not two courses
                continue
            tokens[index - 1].kind = "and"  # a two-course sequence
        token.kind, token.subject, token.number = "code", previous.subject, number
        token.text = shape.normalise(previous.subject, number)
    for token in tokens:
        if token.kind in ("bare", "dash"):
            token.kind = "word"
    return tokens


def _digits(number: str) -> int:
    leading = re.match(r"\d+", number)
    return len(leading.group()) if leading else 0


def _numeric(number: str) -> int | None:
    return int(number) if number.isdigit() else None


Cnf = list[list[str]]
"""``and``-groups of ``or``-alternatives; ``None`` where a part names no code."""


def _and(parts: Sequence[Cnf | None]) -> Cnf | None:
    groups = [group for part in parts if part for group in part]
    return groups or None


def _or(parts: Sequence[Cnf | None]) -> Cnf | None:
    result: Cnf | None = None
    for part in parts:
        if not part:
            continue  # "or permission of instructor": words are not alternatives
        if result is None:
            result = [list(group) for group in part]
            continue
        if len(result) * len(part) > MAX_GROUPS:
            return [[code for group in (*result, *part) for code in group]]
        result = [[*left, *right] for left in result for right in part]
    return result


def _expression(tokens: list[_Token], at: int) -> tuple[Cnf | None, int]:
    """Parse operands and connectives from ``at`` up to a closing bracket (or the end); a level whose own
    words exclude (``formerly``, ``recommended``, ``not open to``) names nothing."""
    operands: list[Cnf | None] = []
    connectives: list[str] = []
    words: list[str] = []
    pending = False  # an operand was read and no connective since
    while at < len(tokens):
        token = tokens[at]
        if token.kind == "close":
            at += 1
            break
        if token.kind == "open":
            lead = tokens[at + 1].kind if at + 1 < len(tokens) else "close"
            inner, at = _expression(tokens, at + 1)
            if pending and lead in ("and", "or"):  # "MATH 120 (or 121)", "CHEM 101 (or equivalent)"
                connectives.append(lead)
            elif pending and inner is None:  # "MATH 120 (Calculus I)": a note on the last operand
                continue
            elif pending:
                connectives.append("comma")
            operands.append(inner)
            pending = True
            continue
        if token.kind in ("comma", "and", "or"):
            if pending:
                connectives.append(token.kind)
                pending = False
            elif connectives and token.kind != "comma":
                connectives[-1] = token.kind  # ", and" / ", or": the word decides
        elif token.kind == "code":
            if pending:  # a code after words that qualified the last operand ("C or better in CHEM 101")
                connectives.append("comma")
            operands.append([[token.text]])
            pending = True
        else:
            words.append(token.text)
            if not pending:  # words: an operand of their own (``junior standing``), else they qualify the last one
                operands.append(None)
                pending = True
        at += 1
    if _EXCLUDING.search(" ".join(words)):
        return None, at
    return _combine(operands, connectives), at


def _combine(operands: list[Cnf | None], connectives: list[str]) -> Cnf | None:
    if not operands:
        return None
    kinds = list(connectives[: len(operands) - 1])
    for index, kind in enumerate(kinds):
        if kind == "comma":
            kinds[index] = next((k for k in kinds[index + 1 :] if k != "comma"), "and")
    groups: list[list[Cnf | None]] = [[operands[0]]]
    for kind, operand in zip(kinds, operands[1:]):
        if kind == "or":
            groups[-1].append(operand)
        else:
            groups.append([operand])
    return _and([_or(alternatives) for alternatives in groups])


def _clauses(tokens: list[_Token]) -> list[list[_Token]]:
    clauses: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        depth += {"open": 1, "close": -1}.get(token.kind, 0)
        depth = max(depth, 0)
        if token.kind == "brk" and depth == 0:
            clauses.append([])
        elif token.kind != "brk":
            clauses[-1].append(token)
    return [clause for clause in clauses if clause]


def parse_prerequisites(text: str | None, shape: CatalogShape | None = None) -> list[list[str]]:
    """The codes ``text`` requires: ``and``-groups of ``or``-alternatives, in the order printed (see the
    module docstring). ``None``, ``"None"`` or text without codes give ``[]``."""
    if not text or not text.strip():
        return []
    shape = shape or CatalogShape()
    groups: list[list[str]] = []
    for clause in _clauses(_tokens(text, shape)):
        at = 0
        while at < len(clause):  # an unmatched ")" ends a level early: read on
            cnf, at = _expression(clause, at)
            groups += cnf or []
    seen: set[tuple[str, ...]] = set()
    unique: list[list[str]] = []
    for group in groups:
        codes = list(dict.fromkeys(group))
        if tuple(sorted(codes)) not in seen:
            seen.add(tuple(sorted(codes)))
            unique.append(codes)
    return unique


def required_codes(groups: Sequence[Sequence[str]]) -> list[str]:
    """Every code the groups name, once, in order."""
    return list(dict.fromkeys(code for group in groups for code in group))


def prerequisite_rows(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A document's rows with ``prerequisite_codes``, and its edges (``prerequisites.parquet`` rows).

    Pure: the rows given are not changed. Each edge is one required code of one row: ``group``
    (1-based) numbers the row's ``and``-groups, ``kind`` is ``and`` for a group of one code and ``or``
    for alternatives, ``required_in_catalog`` says whether the code is a course of the same document.
    """
    shape = CatalogShape.from_rows(rows)
    out_rows: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for row in rows:
        own = {shape.normalise(row["subject"], row["number"])} if _rows_with_codes([row]) else set()
        own.add(row.get("course_code") or "")
        groups = [
            [code for code in group if code not in own]
            for group in parse_prerequisites(row.get("prerequisites"), shape)
        ]
        groups = [group for group in groups if group]
        out_rows.append({**row, "prerequisite_codes": required_codes(groups)})
        for number, group in enumerate(groups, 1):
            for code in group:
                edges.append(
                    {
                        "source_id": row.get("source_id"),
                        "document_id": row.get("document_id"),
                        "institution": row.get("institution"),
                        "course_code": row.get("course_code"),
                        "entry_id": row.get("entry_id"),
                        "required_code": code,
                        "group": number,
                        "kind": "or" if len(group) > 1 else "and",
                        "required_in_catalog": code in shape.codes,
                    }
                )
    return out_rows, edges
