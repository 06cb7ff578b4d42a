"""The whole asset graph through Dagster, against S3 and DynamoDB on a moto server."""

from __future__ import annotations

import io
import json

import dagster as dg
import pandas as pd
import pytest

from ocr_pipeline.defs.schedules import documents_to_retry
from ocr_pipeline.materialize import CATALOG_GRAPH, failure_message, materialize_document
from ocr_pipeline.samples import generate_catalog, scan
from ocr_pipeline.storage.parquet import CONTRACT_COLUMNS
from ocr_pipeline_tests.pdf_samples import blank_page_pdf, encrypted_pdf, huge_page_pdf, zero_page_pdf
from ocr_pipeline_tests.support import free_port

pytestmark = pytest.mark.slow


def read_parquet(cloud, prefix: str) -> pd.DataFrame:
    objects = cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix=prefix).get("Contents", [])
    frames = [
        pd.read_parquet(io.BytesIO(cloud.s3.get_object(Bucket=cloud.bucket, Key=o["Key"])["Body"].read()))
        for o in objects
        if o["Key"].endswith(".parquet")
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def test_born_digital_catalog_becomes_contract_rows_in_parquet_and_dynamodb(cloud, instance):
    catalog = generate_catalog("units_parenthetical", n_courses=10)
    cloud.upload("Example University/catalog 2026.pdf", catalog.pdf)
    result = materialize_document(instance, "Example University/catalog 2026.pdf", cloud.resources())
    assert result.success, failure_message(result)

    courses = read_parquet(cloud, "output/courses/")
    assert list(courses.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert set(courses["course_code"]) == {c.course_code for c in catalog.truth}
    truth = {c.course_code: c for c in catalog.truth}
    for row in courses.itertuples():
        assert row.title == truth[row.course_code].title
        assert row.page == truth[row.course_code].page
        assert row.institution == "Example University"
        assert row.extraction_method == "text-layer"
    assert str(courses["page"].dtype) == "int32"
    assert courses["confidence"].between(0, 1).all()

    items = cloud.dynamo_items(courses["source_id"].iloc[0])
    assert sorted(i["course_code"] for i in items) == sorted(courses["course_code"])


def test_scanned_catalog_goes_through_cpu_ocr(cloud, instance):
    catalog = generate_catalog("units_parenthetical", n_courses=5)
    cloud.upload("Scan U/scanned.pdf", scan(catalog.pdf))
    result = materialize_document(instance, "Scan U/scanned.pdf", cloud.resources())
    assert result.success, failure_message(result)
    courses = read_parquet(cloud, "output/courses/")
    truth = {c.course_code: c for c in catalog.truth}
    assert sorted(courses["course_code"]) == sorted(truth)  # every code, once, and nothing else
    assert {row.course_code: row.title for row in courses.itertuples()} == {k: c.title for k, c in truth.items()}
    assert set(courses["extraction_method"]) == {"ocr:rapidocr"}
    pages = read_parquet(cloud, "output/pages/")
    assert set(pages["method"]) == {"ocr:rapidocr"}
    assert pages["confidence"].between(0.5, 1).all()


def assert_quarantine_record(cloud, key: str, reason: str) -> None:
    """The record the retry schedule reads: reason, first attempt, the source named."""
    body = cloud.s3.get_object(Bucket=cloud.bucket, Key=f"work/partitions/{key}/quarantine.json")["Body"].read()
    record = json.loads(body)
    assert (record["partition_key"], record["reason"], record["attempts"]) == (key, reason, 1)
    assert record["source_uri"] == f"s3://{cloud.bucket}/landing/{key}" and record["message"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.pdf", b"", "empty-file"),
        ("notes.pdf", b"hello, this is a text file\n", "not-a-pdf"),
        ("truncated.pdf", generate_catalog("classic_runin", n_courses=4).pdf[:700], "corrupt"),
    ],
)
def test_bad_documents_fail_their_partition_with_a_clear_reason(cloud, instance, name, data, reason):
    cloud.upload(f"Bad U/{name}", data)
    result = materialize_document(instance, f"Bad U/{name}", cloud.resources())
    assert not result.success
    message = failure_message(result)
    assert message.startswith("raw_catalog_pdfs") and f"quarantined: {reason}" in message
    assert cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix="work/partitions/Bad U/").get("KeyCount", 0) == 1
    assert_quarantine_record(cloud, f"Bad U/{name}", reason)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [("locked.pdf", encrypted_pdf(), "encrypted"), ("nothing.pdf", zero_page_pdf(), "no-pages")],
)
def test_encrypted_and_empty_pdfs_are_quarantined(cloud, instance, name, data, reason):
    cloud.upload(f"Bad U/{name}", data)
    result = materialize_document(instance, f"Bad U/{name}", cloud.resources())
    assert not result.success
    assert f"quarantined: {reason}" in failure_message(result)
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_failure_data.user_failure_data.metadata["reason"].value == reason
    assert_quarantine_record(cloud, f"Bad U/{name}", reason)


def test_huge_and_blank_pages_are_capped_and_recorded(cloud, instance):
    cloud.upload("Odd U/huge.pdf", huge_page_pdf())
    cloud.upload("Odd U/blank.pdf", blank_page_pdf())
    for key in ("Odd U/huge.pdf", "Odd U/blank.pdf"):
        result = materialize_document(instance, key, cloud.resources())
        assert result.success, failure_message(result)
    pages = read_parquet(cloud, "output/pages/")
    reasons = {row.method: list(row.reasons) for row in pages.itertuples()}
    assert any("page too large" in r for r in reasons["ocr:rapidocr"])
    assert "blank page" in reasons["none"]
    assert read_parquet(cloud, "output/courses/").empty


def test_unreachable_bucket_fails_with_the_object_named(cloud, instance):
    closed = f"http://127.0.0.1:{free_port()}"
    resources = cloud.resources(s3_endpoint_url=closed, max_attempts=2)
    result = materialize_document(instance, "U/catalog.pdf", resources)
    assert not result.success
    message = failure_message(result)
    assert f"s3://{cloud.bucket}/landing/U/catalog.pdf" in message and "Could not connect" in message


def test_single_run_backfill_processes_many_documents_and_isolates_a_bad_one(cloud, instance):
    first, second = (
        generate_catalog("requirement_list", n_courses=6),
        generate_catalog("units_parenthetical", n_courses=6),
    )
    keys = ["Batch U/a.pdf", "Batch U/b.pdf", "Batch U/c.pdf"]
    for key, data in zip(keys, [first.pdf, b"%PDF-1.7 broken", second.pdf]):
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
    assert len(instance.get_runs()) == 1
    courses = read_parquet(cloud, "output/courses/")
    assert set(courses["course_code"]) == {c.course_code for c in (*first.truth, *second.truth)}

    def failed(asset: str) -> dict:
        materializations = result.asset_materializations_for_node(asset)  # one per partition of the range
        assert {m.partition for m in materializations} == set(keys)
        return materializations[0].metadata["failed_documents"].value

    assert "quarantined: corrupt" in failed("raw_catalog_pdfs")["Batch U/b.pdf"]
    assert failed("validated_courses") == {"Batch U/b.pdf": "skipped: raw_catalog_pdfs failed in this run"}
    assert documents_to_retry(instance, cloud.storage()) == ["Batch U/b.pdf"]

    # The retry schedule's run (one partition) succeeds once the file is fixed: the document leaves the retry
    # list instead of being re-run every day (its failure-ledger entry used to stay).
    cloud.upload("Batch U/b.pdf", generate_catalog("units_parenthetical", seed=4, n_courses=3).pdf)
    retried = materialize_document(instance, "Batch U/b.pdf", cloud.resources())
    assert retried.success, failure_message(retried)
    assert documents_to_retry(instance, cloud.storage()) == []
