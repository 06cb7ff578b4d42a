"""The work store (``storage/work.py``): its layout is a contract with data already written, each asset hands the
next what it needs once, and the storage resource opens its stores once."""

from __future__ import annotations

import shutil

import dagster as dg
import pandas as pd
import pytest

from ocr_pipeline.defs.resources import StorageResource, local_resources
from ocr_pipeline.materialize import failure_message, materialize_document, run_config
from ocr_pipeline.models import (
    Correction,
    CourseEntry,
    DocumentInfo,
    Line,
    PageRecord,
    PageRef,
    PageResult,
    PageText,
)
from ocr_pipeline.review.sqlite_store import SqliteReviewStore
from ocr_pipeline.stages.review_tasks import create_review_tasks
from ocr_pipeline.storage.objects import LocalObjectStore
from ocr_pipeline.storage.work import FailureRecord, FlaggedPage, Published, QuarantineRecord, WorkStore
from ocr_pipeline_tests.catalog_samples import Course, catalog_pdf

KEY = "Example U/catalog.pdf"
INFO = DocumentInfo(KEY, "file:///landing/Example U/catalog.pdf", "doc1", "Example U", 10, "etag", "sha", 1, True)


def test_every_record_lands_at_its_documented_key_and_reads_back_equal(tmp_path):
    """The layout of ``docs/architecture.md``: work written by an earlier version stays readable."""
    objects = LocalObjectStore(tmp_path)
    work = WorkStore(objects)
    record = PageRecord(1, 100, 200, 144, (Line("CHEM 101", (0, 0, 10, 10)),), None, False, False, None, (), None)
    result = PageResult(PageRef("doc1", 1, 100, 200, 144), "text-layer", PageText("text-layer", (), confidence=1.0))
    entry = CourseEntry("CHEM 101", "CHEM", "101", "Chemistry", 3.0, 3.0, None, None, 1, (0, 0, 1, 1), 0.9)
    correction = Correction("doc1", 1, ({"course_code": "CHEM 101"},), "alice", "2026-01-01T00:00:00+00:00", "t", 2)
    published = Published("doc1", INFO.source_id, "courses/a.parquet", "pages/a.parquet", None, "2026", {1: ["why"]})
    flagged = FlaggedPage(result.ref, ("why",), ({"course_code": "CHEM 101", "box": [0, 0, 1, 1]},))
    quarantine = QuarantineRecord(KEY, INFO.source_uri, "corrupt", "bad", 1, "2026")

    work.put_document_info(INFO)
    work.put_quarantine(quarantine)
    work.put_failure(KEY, FailureRecord("run", "ocr_pages", "boom", "2026"))
    work.put_published(KEY, published, [flagged])
    assert work.put_pages("doc1", [record]) == 1
    image_key = work.put_page_image("doc1", 1, b"png")
    assert work.put_page_results("doc1", [result]) == 1
    assert work.put_entries("doc1", [entry]) == 1
    work.put_page_doubts("doc1", {1: ["few entries"]})
    work.put_correction(correction)

    assert sorted(obj.key for obj in objects.list("")) == [
        "documents/doc1/corrections/00001.json",
        "documents/doc1/entries.jsonl",
        "documents/doc1/ocr.jsonl",
        "documents/doc1/page_doubts.json",
        "documents/doc1/pages.jsonl",
        "documents/doc1/pages/00001.png",
        f"partitions/{KEY}/document.json",
        f"partitions/{KEY}/failure.json",
        f"partitions/{KEY}/flagged_pages.jsonl",
        f"partitions/{KEY}/published.json",
        f"partitions/{KEY}/quarantine.json",
    ]
    assert work.document_info(KEY) == INFO
    assert work.quarantine(KEY) == quarantine
    assert work.failure(KEY) == FailureRecord("run", "ocr_pages", "boom", "2026")
    assert work.failed_partitions() == {KEY}
    assert work.published(KEY) == published and list(work.all_published()) == [published]
    assert work.flagged_pages(KEY) == [flagged]
    assert list(work.pages("doc1")) == [record]
    assert work.page_image(image_key) == b"png"
    assert work.page_results("doc1") == [result]
    assert work.entries("doc1") == [entry]
    assert work.page_doubts("doc1") == {1: ["few entries"]}
    assert work.corrections("doc1") == [correction]

    work.delete_failure(KEY)
    work.delete_quarantine(KEY)
    work.delete_document_info(KEY)
    assert work.failure(KEY) is None and work.quarantine(KEY) is None and work.document_info(KEY) is None
    assert work.failed_partitions() == set()


def test_a_published_record_from_before_flags_were_stored_still_reads():
    old = {"document_id": "d", "source_id": "s", "courses_key": "c", "pages_key": "p"}
    assert Published.from_dict(old) == Published("d", "s", "c", "p", None, None, {})


def test_review_tasks_come_from_the_work_store_alone(tmp_path):
    """validated_courses stores its flags with the pages they describe; review_tasks needs nothing else (before,
    it re-read courses.parquet and pages.parquet from the output store and failed without them)."""
    (tmp_path / "landing" / "Example U").mkdir(parents=True)
    courses = [Course("CHEM 101", "General Chemistry I", "4"), Course("CHEM 999", "Endless Laboratory", "40")]
    (tmp_path / "landing" / KEY).write_bytes(catalog_pdf("Example U", "Example U Catalog 2026", courses))
    with dg.instance_for_test() as instance:
        result = materialize_document(
            instance, KEY, local_resources(tmp_path / "landing", tmp_path), run_config(ocr_policy="text")
        )
        assert result.success, failure_message(result)

    work = WorkStore(LocalObjectStore(tmp_path / "work"))
    published = work.published(KEY)
    assert published is not None
    pages = pd.read_parquet(tmp_path / "output" / published.pages_key)
    flagged_rows = pages[pages.needs_review]
    assert published.flags == {int(row.page): list(row.reasons) for row in flagged_rows.itertuples()}
    assert published.flags, "the 40-credit course flags its page"
    (flagged,) = work.flagged_pages(KEY)
    assert {entry["course_code"] for entry in flagged.entries} == {"CHEM 101", "CHEM 999"}

    shutil.rmtree(tmp_path / "output")
    info = work.document_info(KEY)
    assert info is not None
    store = SqliteReviewStore(tmp_path / "again.db")
    summary = create_review_tasks(info, work, store, lambda: pytest.fail("the page image exists"))
    assert summary.flags == published.flags and summary.outcomes == {"created": 1}
    (task,) = store.list()
    assert task.reasons == tuple(published.flags[task.page])
    assert [entry["course_code"] for entry in task.entries] == ["CHEM 101", "CHEM 999"]


def test_review_tasks_before_a_publish_ask_for_validated_courses(tmp_path):
    work = WorkStore(LocalObjectStore(tmp_path))
    work.put_document_info(INFO)
    with pytest.raises(LookupError, match="materialise validated_courses first"):
        create_review_tasks(INFO, work, SqliteReviewStore(tmp_path / "r.db"), lambda: b"")


def test_the_storage_resource_opens_each_store_once(tmp_path):
    storage = StorageResource(landing_uri=str(tmp_path / "l"), work_uri=str(tmp_path / "w"), output_uri=str(tmp_path))
    assert storage.work().objects is storage.work().objects
    assert storage.output() is storage.output() and storage.landing() is storage.landing()
    assert storage.output() is not storage.landing()
