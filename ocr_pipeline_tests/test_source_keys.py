"""Rows belong to the source object, not to its content (issue 14, item 1 and 8), and the one-off
migration of 0.1 outputs (content-keyed Parquet folders and DynamoDB items) works.

Before 0.2 two objects with the same bytes shared a Parquet folder and DynamoDB partition, and a
new version of one deleted the other's rows while every run reported success.
"""

from __future__ import annotations

import io

import boto3
import pandas as pd
import pyarrow.parquet as pq
import pytest

from ocr_pipeline.cli import main
from ocr_pipeline.materialize import failure_message, materialize_document
from ocr_pipeline.models import source_id_for
from ocr_pipeline.samples import generate_catalog
from ocr_pipeline.storage.dynamo import DynamoCourseSink
from ocr_pipeline.storage.parquet import COURSES_SCHEMA, PAGES_SCHEMA, table_bytes

pytestmark = pytest.mark.slow

A, B = "Same U/catalog.pdf", "Same U/copy of catalog.pdf"


def parquet_rows(cloud, dataset: str) -> dict[str, list[dict]]:
    """``source_id`` -> that object's rows, read from every file of the dataset."""
    listed = cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix=f"output/{dataset}/").get("Contents", [])
    found: dict[str, list[dict]] = {}
    for obj in listed:
        body = cloud.s3.get_object(Bucket=cloud.bucket, Key=obj["Key"])["Body"].read()
        for row in pq.read_table(io.BytesIO(body)).to_pylist():
            found.setdefault(row["source_id"], []).append(row)
    return found


def run(cloud, instance, key: str) -> None:
    result = materialize_document(instance, key, cloud.resources())
    assert result.success, failure_message(result)


def test_identical_objects_keep_their_own_rows_when_one_changes(cloud, instance):
    catalog, changed = (
        generate_catalog("units_parenthetical", n_courses=5),
        generate_catalog("units_parenthetical", seed=7, n_courses=3),
    )
    source_a, source_b = (source_id_for(f"s3://{cloud.bucket}/landing/{key}") for key in (A, B))
    for key in (A, B):
        cloud.upload(key, catalog.pdf)
        run(cloud, instance, key)
    courses = parquet_rows(cloud, "courses")
    assert set(courses) == {source_a, source_b}
    assert [len(courses[s]) for s in (source_a, source_b)] == [5, 5]
    assert {r["source_uri"] for r in courses[source_b]} == {f"s3://{cloud.bucket}/landing/{B}"}
    assert len({r["document_id"] for rows in courses.values() for r in rows}) == 1  # same content, same work
    assert [len(cloud.dynamo_items(s)) for s in (source_a, source_b)] == [5, 5]

    cloud.upload(A, changed.pdf)  # A gets new content: B's rows must survive
    run(cloud, instance, A)
    courses, pages = parquet_rows(cloud, "courses"), parquet_rows(cloud, "pages")
    assert sorted(r["course_code"] for r in courses[source_a]) == sorted(c.course_code for c in changed.truth)
    assert sorted(r["course_code"] for r in courses[source_b]) == sorted(c.course_code for c in catalog.truth)
    assert set(pages) == {source_a, source_b}
    assert sorted(i["course_code"] for i in cloud.dynamo_items(source_b)) == sorted(
        c.course_code for c in catalog.truth
    )
    assert sorted(i["course_code"] for i in cloud.dynamo_items(source_a)) == sorted(
        c.course_code for c in changed.truth
    )


def test_extract_keeps_identical_files_apart_and_takes_each_files_own_folder(tmp_path):
    catalog = generate_catalog("units_parenthetical", n_courses=4)
    first, second = tmp_path / "inputs" / "North U" / "a.pdf", tmp_path / "cli" / "South U" / "b.pdf"
    for path in (first, second):
        path.parent.mkdir(parents=True)
        path.write_bytes(catalog.pdf)
    assert main(["extract", str(first), str(second), "--output", str(tmp_path / "out"), "--ocr", "text"]) == 0
    courses = pd.read_parquet(tmp_path / "out" / "courses.parquet")
    assert courses.groupby("institution").size().to_dict() == {"North U": 4, "South U": 4}
    assert courses["source_id"].nunique() == 2 and courses["document_id"].nunique() == 1


def test_migrate_source_keys_moves_content_keyed_outputs_to_each_object(cloud, instance, capsys):
    """A 0.1 deployment: two identical objects shared one Parquet folder and one set of DynamoDB items."""
    catalog = generate_catalog("units_parenthetical", n_courses=3)
    for key in (A, B):
        cloud.upload(key, catalog.pdf)
        run(cloud, instance, key)
    new_rows = parquet_rows(cloud, "courses")
    document_id = next(iter(new_rows.values()))[0]["document_id"]
    s3 = cloud.s3
    # Rewind to the 0.1 layout: one content-keyed folder, published.json without source_id, old table.
    for obj in s3.list_objects_v2(Bucket=cloud.bucket, Prefix="output/").get("Contents", []):
        s3.delete_object(Bucket=cloud.bucket, Key=obj["Key"])
    old = {
        dataset: f"output/{dataset}/institution_key=Same U/document_key={document_id}/{dataset}.parquet"
        for dataset in ("courses", "pages")
    }
    shared = [
        {k: v for k, v in row.items() if k != "source_id"}
        for row in new_rows[source_id_for(f"s3://{cloud.bucket}/landing/{B}")]
    ]  # the last writer's rows: B's source_uri
    s3.put_object(Bucket=cloud.bucket, Key=old["courses"], Body=table_bytes(shared, COURSES_SCHEMA))
    s3.put_object(
        Bucket=cloud.bucket, Key=old["pages"], Body=table_bytes([{"document_id": document_id, "page": 1}], PAGES_SCHEMA)
    )
    for key in (A, B):
        s3.put_object(
            Bucket=cloud.bucket,
            Key=f"work/partitions/{key}/published.json",
            Body=f'{{"document_id": "{document_id}", "courses_key": "{old["courses"][7:]}", '
            f'"pages_key": "{old["pages"][7:]}"}}'.encode(),
        )
    dynamodb = boto3.client("dynamodb", endpoint_url=cloud.endpoint, region_name="us-east-1")
    old_table = f"{cloud.table}-v1"
    dynamodb.create_table(
        TableName=old_table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("document_id", "entry_id")],
        KeySchema=[
            {"AttributeName": "document_id", "KeyType": "HASH"},
            {"AttributeName": "entry_id", "KeyType": "RANGE"},
        ],
    )
    table = boto3.resource("dynamodb", endpoint_url=cloud.endpoint, region_name="us-east-1").Table(old_table)
    for row in shared:
        table.put_item(
            Item={
                "document_id": document_id,
                "entry_id": row["entry_id"],
                "course_code": row["course_code"],
                "institution_document": f"Same U#{document_id}",
            }
        )
    new_table = f"{cloud.table}-v2"

    args = [
        "migrate-source-keys",
        "--work-uri",
        f"s3://{cloud.bucket}/work",
        "--output-uri",
        f"s3://{cloud.bucket}/output",
        "--s3-endpoint-url",
        cloud.endpoint,
        "--dynamodb-endpoint-url",
        cloud.endpoint,
        "--old-table",
        old_table,
        "--new-table",
        new_table,
        "--create-table",
    ]
    assert main(args) == 0
    assert (
        "migrated 2 partitions (0 already done), copied 6 DynamoDB items, deleted 2 old Parquet files"
        in capsys.readouterr().out
    )
    migrated = parquet_rows(cloud, "courses")
    for key in (A, B):
        source = source_id_for(f"s3://{cloud.bucket}/landing/{key}")
        assert sorted(r["course_code"] for r in migrated[source]) == sorted(c.course_code for c in catalog.truth)
        assert {r["source_uri"] for r in migrated[source]} == {f"s3://{cloud.bucket}/landing/{key}"}
        items = DynamoCourseSink(new_table, endpoint_url=cloud.endpoint).table.query(
            KeyConditionExpression="source_id = :s", ExpressionAttributeValues={":s": source}
        )["Items"]
        assert {i["institution_source"] for i in items} == {f"Same U#{source}"} and len(items) == 3
    assert set(parquet_rows(cloud, "pages")) == set(migrated)
    assert not any("document_key=" in o["Key"] for o in s3.list_objects_v2(Bucket=cloud.bucket)["Contents"])
    assert main(args) == 0  # re-run after success (or an interruption): nothing left to do
    assert "migrated 0 partitions (2 already done)" in capsys.readouterr().out
    # the pipeline publishes onto the migrated layout without leaving anything behind
    run(cloud, instance, A)
    assert set(parquet_rows(cloud, "courses")) == set(migrated)
