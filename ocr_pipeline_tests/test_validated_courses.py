"""``publish_document`` (``stages/validated_courses.py``) on a hand-built work store: every output it writes, checked
exactly, in well under a second per test (the whole-graph runs in ``test_pipeline.py`` cover the same through
Dagster; these are the ones mutation testing runs against)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest

from ocr_pipeline.catalog.flags import FlagRules
from ocr_pipeline.catalog.validate import ValidationRules
from ocr_pipeline.models import (
    Correction,
    CourseEntry,
    DocumentInfo,
    Line,
    PageRecord,
    PageRef,
    PageResult,
    PageStatus,
    PageText,
)
from ocr_pipeline.stages.validated_courses import openable, page_rows, publish_document
from ocr_pipeline.storage.dynamo import DynamoCourseSink
from ocr_pipeline.storage.objects import LocalObjectStore
from ocr_pipeline.storage.parquet import COURSES_SCHEMA, PAGES_SCHEMA, PREREQUISITES_SCHEMA
from ocr_pipeline.storage.work import WorkStore

KEY = "State U/catalog.pdf"
INFO = DocumentInfo(KEY, "s3://b/landing/State U/catalog.pdf", "doc", "State U", 10, "e", "s", 3, True)
OCR_TEXT = "CHEM 201 Organic Chemistry 3 credits"


def line(text: str, confidence: float = 1.0) -> Line:
    return Line(text, (0, 0, 100, 10), confidence)


def entry(code: str, page: int, title: str = "A Title", prerequisites: str | None = None, **kw) -> CourseEntry:
    subject, number = code.split()
    fields = dict(credits_min=3.0, credits_max=3.0, description="About it.", confidence=0.95)
    return CourseEntry(code, subject, number, title, page=page, box=(1, 2, 3, 4), prerequisites=prerequisites,
                       **{**fields, **kw})  # fmt: skip


def build_work(tmp_path, *, ocr_confidence: float = 0.5, text_layer: str = "something else entirely") -> WorkStore:
    """Three pages: 1 born-digital and clean, 2 born-digital with a doubtful entry (a reviewer corrected it),
    3 OCR'd with low confidence, a text layer that disagrees, and a parser doubt."""
    work = WorkStore(LocalObjectStore(tmp_path / "work"))
    ref = {page: PageRef("doc", page, 1275, 1650, 150, None) for page in (1, 2, 3)}
    work.put_page_results(
        "doc",
        [
            PageResult(ref[1], "text-layer", PageText("text-layer", (line("CHEM 101 General Chemistry"),), (), 1.0)),
            PageResult(ref[2], "text-layer", PageText("text-layer", (line("CHEM 102 ?"),), (), 1.0)),
            PageResult(ref[3], "ocr:rapidocr", PageText("rapidocr", (line(OCR_TEXT, ocr_confidence),), (), ocr_confidence)),
        ],
    )  # fmt: skip
    work.put_pages(
        "doc",
        [
            PageRecord(3, 1275, 1650, 150, (line(text_layer),), None, True, False, "documents/doc/pages/00003.png",
                       (), None)
        ],
    )  # fmt: skip
    work.put_entries(
        "doc",
        [
            entry("CHEM 101", 1, "General Chemistry"),
            entry("CHEM 102", 2, "?", reasons=("title looks wrong",)),
            entry("CHEM 201", 3, "Organic Chemistry", "CHEM 101 and CHEM 102.", extraction_method="ocr:rapidocr"),
        ],
    )
    work.put_page_doubts("doc", {2: ["few entries"], 3: ["course-like lines without entries"]})
    work.put_correction(
        Correction(
            "doc",
            2,
            ({"course_code": "CHEM 102", "title": "General Chemistry II", "credits_min": 4, "credits_max": 4,
              "description": "More.", "prerequisites": "CHEM 101."},),
            "alice",
            "2026-05-01T10:00:00+00:00",
            "task-2",
            1,
        )
    )  # fmt: skip
    return work


def parquet(output: LocalObjectStore, key: str) -> pq.Table:
    return pq.read_table(io.BytesIO(output.get(key)))


def test_publish_writes_validated_corrected_rows_pages_and_prerequisites(tmp_path):
    work, output = build_work(tmp_path), LocalObjectStore(tmp_path / "output")
    summary = publish_document(INFO, work, output, ValidationRules(), None, FlagRules())

    published = work.published(KEY)
    assert published is not None
    prefix = f"institution_key=State U/source_key={INFO.source_id}"
    assert (published.courses_key, published.pages_key, published.prerequisites_key) == (
        f"courses/{prefix}/courses.parquet",
        f"pages/{prefix}/pages.parquet",
        f"prerequisites/{prefix}/prerequisites.parquet",
    )
    assert (published.document_id, published.source_id) == ("doc", INFO.source_id)

    courses = parquet(output, published.courses_key)
    assert courses.schema == COURSES_SCHEMA
    rows = {row["course_code"]: row for row in courses.to_pylist()}
    assert list(rows) == ["CHEM 101", "CHEM 102", "CHEM 201"]
    assert rows["CHEM 101"]["needs_review"] is False and rows["CHEM 101"]["title"] == "General Chemistry"
    corrected = rows["CHEM 102"]
    assert (corrected["title"], corrected["credits_min"], corrected["corrected_by"]) == (
        "General Chemistry II",
        4,
        "alice",
    )
    assert corrected["corrected_at"] == datetime(2026, 5, 1, 10, tzinfo=UTC) and corrected["needs_review"] is False
    assert corrected["prerequisite_codes"] == ["CHEM 101"]  # a reviewer's prerequisites are parsed too
    assert rows["CHEM 201"]["prerequisite_codes"] == ["CHEM 101", "CHEM 102"]
    assert rows["CHEM 201"]["extraction_method"] == "ocr:rapidocr"

    edges = parquet(output, str(published.prerequisites_key))
    assert edges.schema == PREREQUISITES_SCHEMA
    assert sorted((e["course_code"], e["required_code"]) for e in edges.to_pylist()) == [
        ("CHEM 102", "CHEM 101"),
        ("CHEM 201", "CHEM 101"),
        ("CHEM 201", "CHEM 102"),
    ]

    pages = parquet(output, published.pages_key)
    assert pages.schema == PAGES_SCHEMA
    by_page = {row["page"]: row for row in pages.to_pylist()}
    assert [row["needs_review"] for row in by_page.values()] == [False, False, True]  # page 2 was corrected
    reasons = by_page[3]["reasons"]
    assert reasons[:3] == [
        "OCR confidence 0.50 below 0.80",
        "course-like lines without entries",
        "text layer and OCR disagree (100% of words differ)",
    ]
    assert (by_page[3]["method"], by_page[3]["engine"], by_page[3]["confidence"]) == ("ocr:rapidocr", "rapidocr", 0.5)
    assert by_page[1]["status"] == "ok" and by_page[1]["source_id"] == INFO.source_id
    assert {row["document_id"] for row in by_page.values()} == {"doc"}

    assert published.flags == {3: reasons}
    (flagged,) = work.flagged_pages(KEY)
    assert flagged.ref.page == 3 and list(flagged.reasons) == reasons
    assert flagged.entries == (
        {"course_code": "CHEM 201", "title": "Organic Chemistry", "credits_min": 3.0, "credits_max": 3.0,
         "description": "About it.", "prerequisites": "CHEM 101 and CHEM 102.", "box": [1, 2, 3, 4]},
    )  # fmt: skip

    assert summary.rows == 3 and summary.needs_review == 0  # no row fails validation; page 3 is flagged
    assert summary.flagged_pages == [3] and summary.page_reasons == {3: reasons}
    assert summary.courses_uri == str(tmp_path / "output" / published.courses_key)
    assert summary.pages_uri.endswith("pages.parquet") and summary.prerequisites_uri.endswith("prerequisites.parquet")
    assert summary.prerequisite_edges == 3 and summary.dynamodb is None
    assert (
        summary.preview.splitlines()[0] == "| page | course_code | title | credits_min | credits_max | needs_review |"
    )
    assert "| 3 | CHEM 201 | Organic Chemistry | 3.0 | 3.0 | False |" in summary.preview
    assert datetime.fromisoformat(str(published.first_published_at)).utcoffset() is not None
    metadata = summary.as_metadata()
    assert metadata["rows"] == 3 and metadata["rows_needing_review"] == 0 and metadata["flagged_pages"] == [3]
    assert metadata["dynamodb"] == "disabled" and metadata["prerequisite_edges"] == 3
    assert metadata["courses_parquet"] == summary.courses_uri and metadata["pages_parquet"] == summary.pages_uri
    assert metadata["prerequisites_parquet"] == summary.prerequisites_uri and metadata["seconds"] >= 0


def test_rows_failing_validation_are_flagged_with_their_reasons(tmp_path):
    work, output = build_work(tmp_path, ocr_confidence=0.95, text_layer=OCR_TEXT), LocalObjectStore(tmp_path / "o")
    work.put_entries("doc", [entry("CHEM 101", 1, credits_min=3.0, credits_max=40.0)])
    summary = publish_document(INFO, work, output, ValidationRules(max_credits=20), None, FlagRules())
    (row,) = [r for r in parquet(output, summary_key(work)).to_pylist() if r["page"] == 1]
    assert row["needs_review"] is True and row["reasons"] == ["credits 40 outside [0, 20]"]
    assert summary.needs_review == 1 and summary.flagged_pages == [1, 3]
    assert summary.page_reasons[1] == ["CHEM 101: credits 40 outside [0, 20]"]
    assert summary.page_reasons[3] == ["course-like lines without entries"]  # confident OCR that agrees


def summary_key(work: WorkStore) -> str:
    published = work.published(KEY)
    assert published is not None
    return published.courses_key


def test_thresholds_come_from_the_rules(tmp_path):
    work = build_work(tmp_path, ocr_confidence=0.7, text_layer="CHEM 201 Organic Chem 3 credits")
    output = LocalObjectStore(tmp_path / "output")
    work.put_page_doubts("doc", {})
    lenient = publish_document(INFO, work, output, ValidationRules(), None, FlagRules(0.6, 0.5))
    assert lenient.flagged_pages == []
    strict = publish_document(INFO, work, output, ValidationRules(), None, FlagRules(0.71, 0.1))
    assert strict.page_reasons == {
        3: ["OCR confidence 0.70 below 0.71", "text layer and OCR disagree (17% of words differ)"]
    }


def test_a_republish_replaces_the_files_and_keeps_the_first_publish_time(tmp_path):
    work, output = build_work(tmp_path), LocalObjectStore(tmp_path / "output")
    publish_document(INFO, work, output, ValidationRules(), None)
    first = work.published(KEY)
    assert first is not None and first.first_published_at
    publish_document(INFO, work, output, ValidationRules(), None)  # same keys: nothing deleted
    assert all(output.exists(key) for key in first.output_keys())

    moved = DocumentInfo(**{**INFO.to_dict(), "institution": "Renamed U"})
    publish_document(moved, work, output, ValidationRules(), None)
    second = work.published(KEY)
    assert second is not None and second.first_published_at == first.first_published_at
    assert not any(output.exists(key) for key in first.output_keys())
    assert all(output.exists(key) for key in second.output_keys())
    assert sorted(o.key for o in output.list("")) == sorted(second.output_keys())
    assert {row["institution"] for row in parquet(output, second.courses_key).to_pylist()} == {"Renamed U"}


def test_rows_go_to_dynamodb_and_replace_the_objects_earlier_items(tmp_path, cloud):
    work, output = build_work(tmp_path), LocalObjectStore(tmp_path / "output")
    sink = DynamoCourseSink(cloud.table, endpoint_url=cloud.endpoint, region="us-east-1")
    sink.ensure_table()
    summary = publish_document(INFO, work, output, ValidationRules(), sink)
    assert summary.dynamodb is not None and summary.dynamodb["written"] == 3
    assert summary.as_metadata()["dynamodb"] == summary.dynamodb
    assert sorted(item["entry_id"] for item in cloud.dynamo_items(INFO.source_id)) == [
        "CHEM 101#1",
        "CHEM 102#1",
        "CHEM 201#1",
    ]
    work.put_entries("doc", [entry("CHEM 101", 1)])
    publish_document(INFO, work, output, ValidationRules(), sink)
    assert sorted(item["entry_id"] for item in cloud.dynamo_items(INFO.source_id)) == ["CHEM 101#1", "CHEM 102#1"]


def test_page_rows_keep_the_page_notes_after_the_flags():
    text = PageText("none", (), (), 0.0, status=PageStatus.FAILED, reasons=("render failed", "capped dpi"))
    result = PageResult(PageRef("doc", 1, 10, 10, 72), "none", text)
    (row,) = page_rows(INFO, [result], {1: ["page failed: render failed", "render failed"]})
    assert row["reasons"] == ["page failed: render failed", "render failed", "capped dpi"]
    assert row["needs_review"] is True and row["status"] == "failed"
    (clean,) = page_rows(INFO, [result], {})
    assert clean["needs_review"] is False and clean["reasons"] == ["render failed", "capped dpi"]


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket/courses/x.parquet", "s3://bucket/courses/x.parquet"),
        ("file:///data/out%20put/courses.parquet", "/data/out put/courses.parquet"),
    ],
)
def test_openable_gives_what_duckdb_opens(uri, expected):
    assert openable(uri) == expected
