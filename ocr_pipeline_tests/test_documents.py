"""Opening and validating source PDFs, and partition keys for awkward object keys."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.definitions.partitions.utils.base import raise_error_on_invalid_partition_key_substring

from ocr_pipeline.pdf.document import DocumentError, open_pdf, summarise_pdf
from ocr_pipeline.pdf.pages import PageLimits, page_geometry
from ocr_pipeline.samples import generate_catalog
from ocr_pipeline.stages.raw_catalog_pdfs import institution_for, object_key_for, partition_key_for
from ocr_pipeline_tests.pdf_samples import encrypted_pdf, zero_page_pdf


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty-file"),
        (b"PK\x03\x04 a zip file", "not-a-pdf"),
        (generate_catalog("classic_runin", n_courses=3).pdf[:600], "corrupt"),
        (encrypted_pdf(), "encrypted"),
        (zero_page_pdf(), "no-pages"),
    ],
)
def test_unusable_pdfs_raise_with_a_reason(data, reason):
    with pytest.raises(DocumentError) as raised:
        open_pdf(data)
    assert raised.value.reason == reason
    assert raised.value.message


def test_page_limit_is_enforced():
    with pytest.raises(DocumentError, match="above the limit of 2") as raised:
        open_pdf(generate_catalog("one_per_page").pdf, max_pages=2)
    assert raised.value.reason == "too-many-pages"


def test_summary_of_a_born_digital_catalog():
    summary = summarise_pdf(generate_catalog("header_fields").pdf)
    assert summary.page_count == 3
    assert summary.has_text_layer
    assert len(summary.sha256) == 64


def test_huge_pages_are_rendered_under_the_pixel_cap():
    geometry = page_geometry(14400, 14400, PageLimits(dpi=144, max_pixels=40_000_000))
    assert geometry.capped and geometry.width * geometry.height <= 40_000_000
    assert not page_geometry(612, 792, PageLimits()).capped


@pytest.mark.parametrize(
    "key",
    [
        "Example University/catalog 2026.pdf",
        "a,b/[draft] catalog.pdf",
        "Universität Zürich/Kurse…2026.pdf",
        "x/wait...what.pdf",
        "100%/cat%20log.pdf",
        "tab\tname.pdf",
    ],
)
def test_partition_keys_survive_awkward_object_keys(key):
    partition_key = partition_key_for(key)
    raise_error_on_invalid_partition_key_substring([partition_key])
    assert not {",", "[", "]"} & set(partition_key)
    assert object_key_for(partition_key) == key
    dg.DynamicPartitionsDefinition(name="probe").build_add_request([partition_key])


def test_institution_comes_from_the_landing_path_unless_overridden():
    assert institution_for("Example University/catalog.pdf") == "Example University"
    assert institution_for("catalog.pdf") is None
    assert institution_for("Example University/catalog.pdf", "Override U") == "Override U"


def test_dataset_of_documents_without_institution_reads_back(tmp_path):
    import pandas as pd

    from ocr_pipeline.storage.parquet import COURSES_SCHEMA, hive_key, table_bytes

    row = {"document_id": "abc", "page": 1, "course_code": "CS 101", "confidence": 1.0, "needs_review": False}
    key = hive_key("courses", None, "abc", "courses.parquet")
    assert key == "courses/institution_key=_unknown/source_key=abc/courses.parquet"
    (tmp_path / key).parent.mkdir(parents=True)
    (tmp_path / key).write_bytes(table_bytes([row], COURSES_SCHEMA))
    courses = pd.read_parquet(tmp_path / "courses")
    assert courses["course_code"].tolist() == ["CS 101"] and courses["institution"].isna().all()


def test_a_page_too_large_for_the_pixel_cap_is_refused_not_rendered(tmp_path):
    """1.5 million points per side would render at 20834 x 20834 px even at 1 dpi: recorded as failed."""
    from ocr_pipeline.models import PageStatus
    from ocr_pipeline.pdf.pages import PageLimits, page_geometry
    from ocr_pipeline.stages.ocr_pages import read_document
    from ocr_pipeline.stages.rendered_pages import RenderSettings, render_document
    from ocr_pipeline.storage.objects import LocalObjectStore
    from ocr_pipeline.storage.work import WorkStore
    from ocr_pipeline_tests.pdf_samples import giant_page_pdf

    assert page_geometry(1.5e6, 1.5e6, PageLimits()).too_large
    assert not page_geometry(14400, 14400, PageLimits()).too_large
    work = WorkStore(LocalObjectStore(tmp_path))
    render_document(giant_page_pdf(), "giant", RenderSettings(), work)
    (record,) = work.pages("giant")
    assert record.image_key is None and "page too large" in str(record.render_error) and not record.needs_ocr
    read_document("giant", work, None)
    (page,) = work.page_results("giant")
    assert page.status is PageStatus.FAILED and any("even at 1 dpi" in reason for reason in page.text.reasons)


def test_a_large_document_read_by_the_process_pool_gives_the_same_page_records(tmp_path):
    """The worker pool (documents of PARALLEL_MIN_PAGES pages or more) hands back the same typed page records, in
    page order, as reading in this process: records and PNGs cross a process boundary."""
    import io

    from reportlab.pdfgen.canvas import Canvas

    from ocr_pipeline.stages.rendered_pages import PARALLEL_MIN_PAGES, RenderSettings, render_document
    from ocr_pipeline.storage.objects import LocalObjectStore
    from ocr_pipeline.storage.work import WorkStore

    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    for number in range(PARALLEL_MIN_PAGES + 3):
        if number % 10:  # every tenth page has no text layer: it is rendered for OCR
            canvas.drawString(72, 720, f"CHEM {100 + number} Chemistry {number} (3)")
        canvas.showPage()
    canvas.save()
    records = {}
    for workers in (1, 2):
        store = LocalObjectStore(tmp_path / f"w{workers}")
        summary = render_document(buffer.getvalue(), "doc", RenderSettings(workers=workers), WorkStore(store))
        records[workers] = list(WorkStore(store).pages("doc"))
        assert summary.pages == PARALLEL_MIN_PAGES + 3
        assert sorted(o.key for o in store.list("documents/doc/pages/")) == [
            f"documents/doc/pages/{page:05d}.png" for page in range(1, PARALLEL_MIN_PAGES + 4, 10)
        ]
    assert records[2] == records[1]
    assert [r.page for r in records[2]] == list(range(1, PARALLEL_MIN_PAGES + 4))
