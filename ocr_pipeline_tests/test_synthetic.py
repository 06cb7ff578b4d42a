"""Tests for the synthetic course-catalog generator and its committed ground truth."""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest

from ocr_pipeline.samples import (
    LAYOUTS,
    SyntheticCatalog,
    generate_catalog,
    scan,
    truth_from_json,
    truth_to_json,
)
from ocr_pipeline_tests.synthetic import TRUTH_DIR
from ocr_pipeline_tests.synthetic.cli import main

pytestmark = pytest.mark.slow

EXPECTED_LAYOUTS = {
    "header_fields",
    "bold_runin_3col",
    "one_per_page",
    "requirement_list",
    "classic_runin",
    "units_parenthetical",
    "two_column_hyphenated",
    "ects_table",
}
NO_DESCRIPTION = {"requirement_list", "ects_table"}


@cache
def catalog(layout: str) -> SyntheticCatalog:
    return generate_catalog(layout)


@cache
def scanned(layout: str) -> bytes:
    return scan(catalog(layout).pdf)


def normalise(text: str) -> str:
    """NFKC (expands ligatures), undo line-end hyphenation, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).replace("\ufffe", "")  # pdfium marks soft line-end hyphens
    text = re.sub(r"(?<=[a-z])-\r?\n(?=[a-z])", "", text)
    return " ".join(text.split())


def body_texts(cat: SyntheticCatalog) -> list[str]:
    """Normalised text of each page with the running header and page-number footer removed."""
    header = f"{cat.institution} Catalog 2026-2027"
    doc = pdfium.PdfDocument(cat.pdf)
    pages = []
    for number, page in enumerate(doc, start=1):
        raw = page.get_textpage().get_text_range()
        assert header in raw, f"page {number} lacks the running header"
        raw = raw.replace(header, "", 1)
        raw, found = re.subn(rf"(?m)^[ \t]*(?:Page )?{number}[ \t]*\r?$", "", raw, count=1)
        assert found, f"page {number} lacks its page-number footer"
        pages.append(normalise(raw))
    return pages


def code_pattern(code: str) -> re.Pattern[str]:
    """Match ``code`` as a whole token (not inside a longer or cross-listed code)."""
    return re.compile(rf"(?<![\w/-]){re.escape(code)}(?![\w/-])")


def test_layout_names() -> None:
    assert EXPECTED_LAYOUTS <= set(LAYOUTS)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_truth_is_well_formed(layout: str) -> None:
    cat = catalog(layout)
    truth = cat.truth
    assert cat.layout == layout
    assert len(truth) == (8 if layout == "one_per_page" else 24)
    assert len({c.course_code for c in truth}) == len(truth)
    assert [c.page for c in truth] == sorted(c.page for c in truth)
    for course in truth:
        assert course.course_code == " ".join(course.course_code.split())
        assert 2 <= len(course.title.split()) <= 6 and course.title[0].isupper()
        assert (course.credits_min is None) == (course.credits_max is None)
        if course.credits_min is not None:
            assert 0 < course.credits_min <= course.credits_max
        if layout in NO_DESCRIPTION:
            assert course.description is None and course.prerequisites is None
        else:
            assert course.description is not None and 20 <= len(course.description.split()) <= 70
            assert "Prerequisite" not in course.description
            assert "\ufb01" not in course.description and "\ufb02" not in course.description


@pytest.mark.parametrize("layout", LAYOUTS)
def test_born_digital_text_matches_truth(layout: str) -> None:
    cat = catalog(layout)
    pages = body_texts(cat)
    assert len(pages) >= 1
    document = " ".join(pages)
    for course in cat.truth:
        pattern = code_pattern(course.course_code)
        found_on = [number for number, text in enumerate(pages, start=1) if pattern.search(text)]
        assert found_on == [course.page], f"{course.course_code} printed on pages {found_on}, truth says {course.page}"
        assert course.title in document, course.title
        for field in (course.description, course.prerequisites):
            if field is not None:
                assert field in document, field


@pytest.mark.parametrize("layout", LAYOUTS)
def test_page_count_in_expected_range(layout: str) -> None:
    pages = len(pdfium.PdfDocument(catalog(layout).pdf))
    assert 2 <= pages <= 8


def test_layout_specific_features() -> None:
    codes = {layout: [c.course_code for c in catalog(layout).truth] for layout in LAYOUTS}
    assert all(re.fullmatch(r"[A-Z]{2,4}-\d{3}", c) for c in codes["header_fields"])
    assert all(re.fullmatch(r"GS-[A-Z]{2,3}-\d{4}", c) for c in codes["bold_runin_3col"])
    assert any(c.startswith("GS-GS-") for c in codes["bold_runin_3col"])
    assert all(re.fullmatch(r"[A-Z]{2,3}\d{4}", c) for c in codes["one_per_page"])
    assert any("/" in c for c in codes["units_parenthetical"])
    assert any(re.search(r"\d[A-Z]$", c) for c in codes["units_parenthetical"])
    classic = catalog("classic_runin").truth
    assert any(c.credits_min is None for c in classic)
    assert any(c.credits_min is not None and c.credits_min < c.credits_max for c in classic)
    hyphenated = pdfium.PdfDocument(catalog("two_column_hyphenated").pdf)
    raw = "".join(page.get_textpage().get_text_range() for page in hyphenated)
    assert raw.count("\ufffe") + raw.count("-\r\n") >= 3, "expected hyphenated line ends"
    assert any(
        "fi" in (c.description or "") or "fl" in (c.description or "") for c in catalog("two_column_hyphenated").truth
    )

    for layout in ("bold_runin_3col", "two_column_hyphenated"):
        entry_codes = tuple(c.course_code for c in catalog(layout).truth)
        later_pages = body_texts(catalog(layout))[1:]
        assert any(not text.startswith(entry_codes) for text in later_pages), f"{layout}: no entry crosses a page"


def test_prerequisite_codes_are_not_entries() -> None:
    for layout in LAYOUTS:
        entries = {c.course_code for c in catalog(layout).truth}
        for course in catalog(layout).truth:
            for other in entries:
                assert not code_pattern(other).search(course.prerequisites or ""), (layout, other)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_generation_is_deterministic_and_matches_committed_truth(layout: str) -> None:
    again = generate_catalog(layout)
    assert again.pdf == catalog(layout).pdf
    committed = json.loads((TRUTH_DIR / f"{layout}.json").read_text(encoding="utf-8"))
    assert truth_to_json(again) == committed
    assert truth_from_json(committed) == again.truth


@pytest.mark.parametrize("layout", LAYOUTS)
def test_small_catalogs(layout: str) -> None:
    small = generate_catalog(layout, seed=7, n_courses=2, institution="Tiny College")
    assert len(small.truth) == 2
    assert all(code_pattern(c.course_code).search(body_texts(small)[c.page - 1]) for c in small.truth)
    with pytest.raises(ValueError):
        generate_catalog(layout, n_courses=0)


def test_seed_changes_content() -> None:
    assert generate_catalog("classic_runin", seed=1).truth != catalog("classic_runin").truth


@pytest.mark.parametrize("layout", LAYOUTS)
def test_scan_is_image_only_with_same_geometry(layout: str) -> None:
    original = pdfium.PdfDocument(catalog(layout).pdf)
    image_only = pdfium.PdfDocument(scanned(layout))
    assert len(image_only) == len(original)
    for before, after in zip(original, image_only):
        assert after.get_size() == pytest.approx(before.get_size(), abs=0.01)
        assert after.get_textpage().get_text_range().strip() == ""
    pixels = np.asarray(image_only[0].render(scale=0.5, grayscale=True).to_pil().convert("L"), dtype=np.float32)
    assert pixels.min() < 100 and pixels.mean() > 200, "page should be mostly paper with dark text"


def test_scan_is_deterministic_and_seeded() -> None:
    pdf = generate_catalog("requirement_list", n_courses=3).pdf
    assert scan(pdf, dpi=72, seed=3) == scan(pdf, dpi=72, seed=3)
    assert scan(pdf, dpi=72, seed=3) != scan(pdf, dpi=72, seed=4)


def test_cli_writes_files(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path), "--layouts", "requirement_list", "--scanned", "--n-courses", "5"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "requirement_list-scanned.pdf",
        "requirement_list.pdf",
        "requirement_list.truth.json",
    ]
    expected = generate_catalog("requirement_list", n_courses=5)
    assert (tmp_path / "requirement_list.pdf").read_bytes() == expected.pdf
    assert json.loads((tmp_path / "requirement_list.truth.json").read_text()) == truth_to_json(expected)
