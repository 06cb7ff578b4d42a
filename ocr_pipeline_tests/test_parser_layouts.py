"""Every synthetic layout, born-digital, through render -> read (text layer) -> parse."""

from __future__ import annotations

import tempfile

import pytest

from ocr_pipeline.catalog.parser import parse_pages
from ocr_pipeline.catalog.profile import CatalogProfile
from ocr_pipeline.catalog.validate import ValidationRules
from ocr_pipeline.samples import LAYOUTS, generate_catalog
from ocr_pipeline.stages.ocr_pages import read_document
from ocr_pipeline.stages.rendered_pages import RenderSettings, render_document
from ocr_pipeline.storage.objects import LocalObjectStore
from ocr_pipeline.storage.work import WorkStore


def _norm(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_is_parsed_exactly(layout: str) -> None:
    catalog = generate_catalog(layout, seed=0)
    with tempfile.TemporaryDirectory() as directory:
        work = WorkStore(LocalObjectStore(directory))
        render_document(catalog.pdf, layout, RenderSettings(policy="auto"), work)
        read_document(layout, work, None)
        entries = parse_pages(work.page_results(layout), CatalogProfile())
    by_code = {entry.course_code: entry for entry in entries}
    assert len(entries) == len(by_code) == len(catalog.truth)
    assert set(by_code) == {course.course_code for course in catalog.truth}
    for course in catalog.truth:
        entry = by_code[course.course_code]
        assert _norm(entry.title) == _norm(course.title), course.course_code
        assert (entry.credits_min, entry.credits_max) == (course.credits_min, course.credits_max), course.course_code
        assert _norm(entry.description) == _norm(course.description), course.course_code
        assert _norm(entry.prerequisites) == _norm(course.prerequisites), course.course_code
        assert entry.page == course.page
        assert entry.confidence >= ValidationRules().min_confidence and not entry.reasons, (
            course.course_code,
            entry.reasons,
        )
