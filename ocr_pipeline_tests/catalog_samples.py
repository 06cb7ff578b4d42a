"""Small born-digital catalogs with chosen courses (the synthetic generator's prerequisites only name
codes that are not entries, and its editions cannot differ in a few chosen courses)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from reportlab.lib.pagesizes import LETTER

from ocr_pipeline.samples.render import Catalog, Flow, words


class Course(NamedTuple):
    code: str
    title: str
    credits: str  # as printed before "units": "3", "1-3"
    prerequisites: str | None = None


DESCRIPTION = (
    "Covers the fundamental principles of the field with weekly problem sets, laboratory sessions and a final project."
)


def catalog_pdf(institution: str, title: str, courses: Sequence[Course]) -> bytes:
    """Bold ``CODE Title (N units)`` headings, a description, an italic ``Prerequisite:`` line."""
    doc = Catalog(institution, LETTER, footer="Page {n}")
    doc.canvas.setTitle(title)
    doc._header = title  # the running header, drawn when the first page starts
    flow = Flow(doc)
    flow.paragraph(words("Course Descriptions", "Helvetica-Bold"), 15)
    for course in courses:
        flow.space(10)
        flow.paragraph(words(f"{course.code} {course.title} ({course.credits} units)", "Helvetica-Bold"), 10.5)
        flow.space(2)
        flow.paragraph(words(DESCRIPTION, "Helvetica"), 10)
        if course.prerequisites:
            flow.paragraph(words(f"Prerequisite: {course.prerequisites}", "Helvetica-Oblique"), 9.5)
    return doc.finish()
