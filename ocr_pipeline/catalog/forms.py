"""Course descriptions printed as forms, one unit per page: a large number box (``1.1``) and
``Label : value`` fields (``Modulname : Mathematik``, ``Leistungspunkte : 8 ECTS``). Pure functions;
the labels come from the catalog profile."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ocr_pipeline.catalog.credits import Credits, find_credits
from ocr_pipeline.models import Line

FIELD_LABEL = re.compile(r"^(?P<label>[^\W\d][\w ().'/-]{0,40}?)\s*:\s*(?P<value>.*)$")
"""A form cell ``Label : value`` (the value may be the next cell)."""
FORM_CODE = re.compile(r"^(?P<code>\d{1,2}(?:\s?\.\s?\d{1,2})*[A-Z]?)$")
"""A unit number in a form's number box: ``1``, ``1.1``, ``12.3J`` (a text layer may split ``1 . 1``)."""
CODE_BOX_SCALE = 1.6
"""The number box is set this many times larger than the page's body text, or more."""
MIN_FORM_FIELDS = 3
"""A page with fewer ``Label : value`` fields is not a form."""


@dataclass(frozen=True)
class FormEntry:
    code: str
    title: str | None
    credits: Credits | None
    prerequisites: str | None
    lines: tuple[Line, ...]


def fields(lines: Sequence[Line]) -> list[tuple[str, str]]:
    """The (label, value) pairs of a page, in reading order."""
    found = []
    for line in lines:
        cells = [" ".join(c.split()) for c in line.text.split("\t")]
        for index, cell in enumerate(cells):
            match = FIELD_LABEL.match(cell)
            if match is None:
                continue
            value = match.group("value") or (cells[index + 1] if index + 1 < len(cells) else "")
            if FIELD_LABEL.match(value) is None:
                found.append((match.group("label").strip(), value.strip()))
    return found


def _value(pairs: Sequence[tuple[str, str]], labels: Sequence[str]) -> str | None:
    wanted = {label.casefold() for label in labels}
    return next((value for label, value in pairs if label.casefold() in wanted and value), None)


def read_form(
    lines: Sequence[Line],
    body_scale: float,
    title_labels: Sequence[str],
    credit_labels: Sequence[str],
    prerequisite_labels: Sequence[str],
) -> FormEntry | None:
    """The unit a form page describes, or ``None`` when the page is not a form with a number box."""
    pairs = fields(lines)
    if len(pairs) < MIN_FORM_FIELDS:
        return None
    boxes = [line for line in lines if (line.size or line.box[3] - line.box[1]) >= CODE_BOX_SCALE * body_scale]
    code = next((m.group("code") for line in boxes if (m := FORM_CODE.match(line.text.split("\t")[0].strip()))), None)
    if code is None:
        return None
    credit_text = _value(pairs, credit_labels)
    credits = find_credits(credit_text or "") or next((c for _, v in pairs if (c := find_credits(v))), None)
    return FormEntry(
        re.sub(r"\s", "", code), _value(pairs, title_labels), credits, _value(pairs, prerequisite_labels), tuple(lines)
    )
