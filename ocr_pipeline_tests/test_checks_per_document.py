"""Asset checks track documents (issue 15 item 3): each evaluation is recorded on its partition with the
reasons per page, in single-document runs and in single-run backfills, and a document that failed before
a check ran gets no red evaluation for it."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from ocr_pipeline.materialize import CATALOG_GRAPH, failure_message, materialize_document
from ocr_pipeline.samples import generate_catalog
from ocr_pipeline_tests.review_screenshots import hard_catalog_pdf

pytestmark = pytest.mark.slow

RECORDS = dg.AssetCheckKey(dg.AssetKey("validated_courses"), "records_need_no_review")
ENTRIES = dg.AssetCheckKey(dg.AssetKey("course_catalog_tables"), "course_pages_have_entries")
OCR = dg.AssetCheckKey(dg.AssetKey("ocr_pages"), "pages_read_confidently")


def evaluations(instance: dg.DagsterInstance, check: dg.AssetCheckKey) -> dict[str | None, list]:
    """Partition -> the check's evaluations (newest first), read back from the instance's event log; checks only
    planned (a document that failed earlier in the run) have none."""
    found: dict[str | None, list] = {}
    for record in instance.event_log_storage.get_asset_check_execution_history(check, limit=100):
        if record.status is AssetCheckExecutionRecordStatus.PLANNED:
            found.setdefault(record.partition, [])
            continue
        found.setdefault(record.partition, []).append(record.event.dagster_event.event_specific_data)
    return found


def test_single_document_runs_record_each_check_on_its_partition_with_reasons(cloud, instance):
    clean, flagged = "Checks U/clean.pdf", "Checks U/flagged.pdf"
    cloud.upload(clean, generate_catalog("units_parenthetical", n_courses=4).pdf)
    cloud.upload(flagged, hard_catalog_pdf())
    for key in (clean, flagged):
        result = materialize_document(instance, key, cloud.resources())
        assert result.success, failure_message(result)
    records = evaluations(instance, RECORDS)
    assert set(records) == {clean, flagged}
    [passed], [failed] = records[clean], records[flagged]
    assert passed.passed and not failed.passed
    reasons = failed.metadata["reasons"].value
    assert failed.metadata["flagged_pages"].value == [int(page) for page in reasons]
    assert any("MATH 1A: credits 45 outside" in reason for reason in reasons["2"])
    assert set(evaluations(instance, ENTRIES)) == set(evaluations(instance, OCR)) == {clean, flagged}


def test_a_backfill_records_each_documents_checks_and_none_for_the_document_that_failed(cloud, instance):
    keys = ["Batch U/a.pdf", "Batch U/b.pdf", "Batch U/c.pdf"]
    for key, data in zip(
        keys, [generate_catalog("units_parenthetical", n_courses=4).pdf, b"%PDF-1.7 broken", hard_catalog_pdf()]
    ):
        cloud.upload(key, data)
    instance.add_dynamic_partitions("catalog_documents", keys)
    result = dg.materialize(
        CATALOG_GRAPH,
        instance=instance,
        resources=cloud.resources(),
        raise_on_error=False,
        tags={"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]},
    )
    assert result.success, failure_message(result)
    records = evaluations(instance, RECORDS)
    assert records["Batch U/b.pdf"] == []  # b failed at ingest: planned, never evaluated (not red)
    assert {key for key, found in records.items() if found} == {"Batch U/a.pdf", "Batch U/c.pdf", None}
    assert records["Batch U/a.pdf"][0].passed and not records["Batch U/c.pdf"][0].passed
    assert "2" in records["Batch U/c.pdf"][0].metadata["reasons"].value
    [batch] = records[None]
    assert not batch.passed and batch.metadata["documents_failing"].value == ["Batch U/c.pdf"]
    assert batch.metadata["documents_not_checked"].value == {
        "Batch U/b.pdf": "skipped: raw_catalog_pdfs failed in this run"
    }
