"""The object stores (local directory and S3 on the moto server), the DynamoDB item shape and the Parquet
paths, pinned down (mutation testing, issue 17)."""

from __future__ import annotations

import io
import json
import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest
from botocore.stub import Stubber

from ocr_pipeline.defs.resources import pipeline_resources
from ocr_pipeline.materialize import failure_message, materialize_document
from ocr_pipeline.samples import generate_catalog
from ocr_pipeline.storage.dynamo import DynamoCourseSink, _item
from ocr_pipeline.storage.objects import LocalObjectStore, ObjectInfo, S3ObjectStore, StorageError, open_store
from ocr_pipeline.storage.parquet import COURSES_SCHEMA, PAGES_SCHEMA, hive_key, table_bytes
from ocr_pipeline_tests.support import free_port

pytestmark = pytest.mark.slow


def exercise(store, source: Path) -> None:
    """The same contract for both stores."""
    assert not store.exists("a/b.txt")
    store.put("a/b.txt", b"hello")
    store.put("a/b.txt", b"hello again")  # overwrite
    source.write_bytes(b"from a file")
    store.put_file("a/c.bin", source)
    store.put("z.txt", b"z")
    assert store.exists("a/b.txt") and store.get("a/b.txt") == b"hello again" and store.get("a/c.bin") == b"from a file"
    head = store.head("a/c.bin")
    assert (head.key, head.size) == ("a/c.bin", 11) and head.etag
    assert abs(head.last_modified - datetime.now(UTC)).total_seconds() < 120  # aware, and now
    assert [o.key for o in store.list()] == ["a/b.txt", "a/c.bin", "z.txt"]
    assert [(o.key, o.size) for o in store.list("a/")] == [("a/b.txt", 11), ("a/c.bin", 11)]
    listed = {o.key: o for o in store.list()}
    assert (listed["a/c.bin"].etag, listed["a/c.bin"].last_modified) == (head.etag, head.last_modified)
    assert [o.key for o in store.list("", start_after="a/b.txt")] == ["a/c.bin", "z.txt"]
    assert [o.key for o in store.list("a/", start_after="a/b.txt")] == ["a/c.bin"]
    store.delete("a/b.txt")
    store.delete("a/b.txt")  # deleting a missing key is fine
    assert not store.exists("a/b.txt") and [o.key for o in store.list()] == ["a/c.bin", "z.txt"]
    with pytest.raises(StorageError, match="a/missing.txt"):
        store.get("a/missing.txt")
    with pytest.raises(StorageError, match="a/missing.txt"):
        store.head("a/missing.txt")


def test_local_store_contract(tmp_path):
    store = LocalObjectStore(tmp_path / "root")
    assert list(store.list()) == []  # no directory yet
    exercise(store, tmp_path / "source.bin")
    (tmp_path / "root" / "a" / ".tmp-partial").write_bytes(b"half")  # an interrupted write is never listed
    assert [o.key for o in store.list()] == ["a/c.bin", "z.txt"]
    assert store.uri("a/c.bin") == (tmp_path / "root" / "a" / "c.bin").as_uri()
    assert store.head("z.txt").etag != store.head("a/c.bin").etag
    for escape in ("../outside.txt", "a/../../outside.txt", "/etc/passwd"):  # S3-valid keys: kept inside the root
        store.put(escape, b"x")
        assert (tmp_path / "root") in Path(store.uri(escape).removeprefix("file://")).parents
    assert not (tmp_path / "outside.txt").exists() and store.get("../outside.txt") == b"x"
    assert [path.name for path in (tmp_path / "root").rglob(".tmp-*")] == [".tmp-partial"]  # writes leave none


def test_local_writes_are_renamed_into_place_from_a_hidden_file_beside_the_target(tmp_path, monkeypatch):
    renames = []
    real_replace = os.replace

    def recording_replace(source, target):
        renames.append((Path(source), Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", recording_replace)
    store = LocalObjectStore(tmp_path / "root")
    store.put("a/b.txt", b"x")
    (tmp_path / "big.bin").write_bytes(b"y" * (3 << 20))
    store.put_file("a/big.bin", tmp_path / "big.bin")
    for (source, target), name in zip(renames, ("b.txt", "big.bin"), strict=True):
        assert target == tmp_path / "root" / "a" / name
        assert source.parent == target.parent and source.name.startswith(".tmp-")  # same directory: atomic rename
    assert store.get("a/big.bin") == b"y" * (3 << 20)
    assert sorted(path.name for path in (tmp_path / "root" / "a").iterdir()) == ["b.txt", "big.bin"]


def test_s3_store_contract_with_a_prefix(moto_endpoint, tmp_path):
    bucket = f"store-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="outside.txt", Body=b"not under the prefix")
    store = S3ObjectStore(bucket, "/work/", endpoint_url=moto_endpoint)
    assert store.uri("a/c.bin") == f"s3://{bucket}/work/a/c.bin"
    exercise(store, tmp_path / "source.bin")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["outside.txt", "work/a/c.bin", "work/z.txt"]
    assert store.head("z.txt").etag == s3.head_object(Bucket=bucket, Key="work/z.txt")["ETag"].strip('"')
    root = S3ObjectStore(bucket, endpoint_url=moto_endpoint)
    assert root.uri("x") == f"s3://{bucket}/x" and "outside.txt" in [o.key for o in root.list()]
    assert list(store.list("nothing/")) == []


def test_s3_prefixes_are_normalised_and_retries_default_to_eight():
    client = boto3.client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    assert S3ObjectStore("b", client=client).prefix == ""
    assert S3ObjectStore("b", "/", client=client).prefix == ""
    assert S3ObjectStore("b", "/Xtra/", client=client).prefix == "Xtra/"
    assert S3ObjectStore("b", "X", client=client).prefix == "X/"
    assert S3ObjectStore("b", endpoint_url="http://127.0.0.1:9").client.meta.config.retries["total_max_attempts"] == 8
    store = S3ObjectStore("b", "p", client=client)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with Stubber(client) as stub:
        stub.add_response("list_objects_v2", {"Contents": [{"Key": "p/k", "Size": 1, "LastModified": moment}]})
        assert list(store.list()) == [ObjectInfo("k", 1, None, moment)]  # no ETag listed: None


def test_s3_errors_name_the_object(moto_endpoint):
    missing = S3ObjectStore(f"no-such-bucket-{uuid.uuid4().hex[:8]}", "p", endpoint_url=moto_endpoint, max_attempts=1)
    for call in (lambda: missing.put("k", b"x"), lambda: list(missing.list("k")), lambda: missing.delete("k")):
        with pytest.raises(StorageError, match=f"s3://{missing.bucket}/p/k"):
            call()
    closed = S3ObjectStore("bucket", "p", endpoint_url=f"http://127.0.0.1:{free_port()}", max_attempts=1)
    with pytest.raises(StorageError, match=r"^S3 head_object failed for s3://bucket/p/k: Could not connect"):
        closed.exists("k")
    with pytest.raises(StorageError, match=r"^S3 head_object failed for s3://bucket/p/k"):
        closed.head("k")


def test_a_failed_s3_upload_is_a_storage_error_naming_the_object(moto_endpoint, tmp_path):
    missing = S3ObjectStore(f"no-such-bucket-{uuid.uuid4().hex[:8]}", "p", endpoint_url=moto_endpoint, max_attempts=1)
    source = tmp_path / "f.bin"
    source.write_bytes(b"x")
    with pytest.raises(StorageError, match=f"^S3 upload failed for s3://{missing.bucket}/p/k: "):
        missing.put_file("k", source)


def test_s3_missing_objects_by_any_error_code_and_objects_without_etag():
    client = boto3.client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    store = S3ObjectStore("bucket", "p", client=client)
    with Stubber(client) as stub:
        for code in ("404", "NoSuchKey", "NotFound"):
            stub.add_client_error(
                "head_object", code, http_status_code=404, expected_params={"Bucket": "bucket", "Key": "p/k"}
            )
            assert store.exists("k") is False
        stub.add_client_error("head_object", "403", http_status_code=403)
        with pytest.raises(StorageError, match=r"^S3 head_object failed for s3://bucket/p/k: .*403"):
            store.exists("k")
        moment = datetime(2026, 1, 1, tzinfo=UTC)
        stub.add_response("head_object", {"ContentLength": 3, "LastModified": moment})
        assert store.head("k") == ObjectInfo("k", 3, None, moment)
        stub.add_response("head_object", {"ContentLength": 3, "LastModified": moment, "ETag": '"abc"'})
        assert store.head("k").etag == "abc"


def test_open_store_by_uri(tmp_path):
    s3 = open_store("s3://bucket/some/prefix", endpoint_url="http://127.0.0.1:9", max_attempts=3)
    assert isinstance(s3, S3ObjectStore) and (s3.bucket, s3.prefix) == ("bucket", "some/prefix/")
    assert s3.client.meta.endpoint_url == "http://127.0.0.1:9" and s3.client.meta.region_name == "us-east-1"
    assert s3.client.meta.config.retries == {"total_max_attempts": 3, "mode": "adaptive"}
    assert open_store("s3://bucket", region="eu-west-1").client.meta.region_name == "eu-west-1"
    assert open_store(f"file://{tmp_path}/x").root == tmp_path / "x"
    assert isinstance(open_store("C:/catalogs/landing"), LocalObjectStore)  # a Windows drive is a path, not a scheme
    default = open_store("s3://bucket").client.meta.config
    assert (default.retries, default.connect_timeout, default.read_timeout) == (
        {"total_max_attempts": 8, "mode": "adaptive"},
        5,
        60,
    )
    assert open_store(str(tmp_path / "y")).root == tmp_path / "y"
    with pytest.raises(ValueError, match="unsupported store URI 'ftp://host/x'"):
        open_store("ftp://host/x")


def test_dynamodb_items_keep_values_and_drop_empty_ones():
    row = {
        "source_id": "src",
        "document_id": "doc",
        "entry_id": "CS 101#1",
        "institution": "U",
        "credits_min": 3.5,
        "page": 2,
        "title": "",
        "description": None,
        "reasons": [],
        "box": [1.5, 2.0],
        "needs_review": False,
        "tags": ["a", 1],
    }
    item = _item(row)
    assert all(isinstance(value, Decimal) for value in (item["credits_min"], *item["box"]))  # boto3 takes no floats
    assert item == {
        "source_id": "src",
        "document_id": "doc",
        "entry_id": "CS 101#1",
        "institution": "U",
        "credits_min": Decimal("3.5"),
        "page": 2,
        "box": [Decimal("1.5"), Decimal("2.0")],
        "needs_review": False,
        "tags": ["a", 1],
        "institution_source": "U#src",
    }
    assert _item({"source_id": "src", "entry_id": "x", "institution": None})["institution_source"] == "#src"


def test_the_dynamodb_table_is_created_once_with_its_index(moto_endpoint):
    name = f"sink-{uuid.uuid4().hex[:8]}"
    sink = DynamoCourseSink(name, endpoint_url=moto_endpoint)
    sink.ensure_table()
    sink.ensure_table()  # already there: nothing to do
    table = sink.resource.meta.client.describe_table(TableName=name)["Table"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["source_id", "entry_id"]
    [index] = table["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["Projection"]) == ("by_course", {"ProjectionType": "ALL"})
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["course_code", "institution_source"]
    rows = [{"source_id": "doc", "entry_id": f"C {n}#1", "course_code": f"C {n}", "institution": "U"} for n in range(3)]
    sink.replace_source("doc", rows)
    found = sink.table.query(
        IndexName="by_course", KeyConditionExpression="course_code = :c", ExpressionAttributeValues={":c": "C 1"}
    )["Items"]
    assert [(i["source_id"], i["institution_source"]) for i in found] == [("doc", "U#doc")]
    assert sink.existing_keys("doc") == {"C 0#1", "C 1#1", "C 2#1"} and sink.existing_keys("other") == set()


def test_dynamodb_client_settings():
    config = DynamoCourseSink("t").resource.meta.client.meta
    assert config.region_name == "us-east-1"
    assert (config.config.retries, config.config.connect_timeout, config.config.read_timeout) == (
        {"total_max_attempts": 8, "mode": "adaptive"},
        5,
        30,
    )
    assert DynamoCourseSink("t", region="eu-west-1").resource.meta.client.meta.region_name == "eu-west-1"


def test_existing_keys_follows_every_page_of_the_query():
    resource = boto3.resource("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    sent = []
    resource.meta.client.meta.events.register(
        "provide-client-params.dynamodb.Query", lambda params, **_: sent.append(dict(params))
    )
    sink = DynamoCourseSink("courses", resource=resource)
    last = {"source_id": {"S": "doc"}, "entry_id": {"S": "A#1"}}
    with Stubber(resource.meta.client) as stub:
        stub.add_response("query", {"Items": [{"entry_id": {"S": "A#1"}}], "LastEvaluatedKey": last})
        stub.add_response("query", {"Items": [{"entry_id": {"S": "B#1"}}]})
        assert sink.existing_keys("doc") == {"A#1", "B#1"}
        stub.assert_no_pending_responses()
    assert "ExclusiveStartKey" not in sent[0]
    assert sent[1]["ExclusiveStartKey"] == {"source_id": "doc", "entry_id": "A#1"}


def test_a_table_that_cannot_be_described_is_an_error_not_a_create():
    resource = boto3.resource("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    sink = DynamoCourseSink("courses", resource=resource)
    with Stubber(resource.meta.client) as stub:
        stub.add_client_error("describe_table", "AccessDeniedException", http_status_code=400)
        with pytest.raises(StorageError, match=r"^DynamoDB describe_table courses failed: .*AccessDeniedException"):
            sink.ensure_table()
        stub.assert_no_pending_responses()


def test_dynamodb_failures_name_the_table_and_source(moto_endpoint):
    closed = DynamoCourseSink("t", endpoint_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(StorageError, match="DynamoDB describe_table t failed"):
        closed.replace_source("doc", [])
    missing = DynamoCourseSink(f"missing-{uuid.uuid4().hex[:8]}", endpoint_url=moto_endpoint)
    with pytest.raises(
        StorageError,
        match=f"DynamoDB table {missing.table_name} does not exist "
        r"\(OCR_PIPELINE_DYNAMODB_TABLE",
    ):
        missing.replace_source("doc", [])
    sink = sink_on_new_table(moto_endpoint)
    sink._checked = True  # the table checked, then removed behind the sink's back: the write names the source
    sink.resource.meta.client.delete_table(TableName=sink.table_name)
    with pytest.raises(StorageError, match=f"DynamoDB write to {sink.table_name} failed for source doc"):
        sink.replace_source("doc", [])


def sink_on_new_table(moto_endpoint: str) -> DynamoCourseSink:
    sink = DynamoCourseSink(f"t-{uuid.uuid4().hex[:8]}", endpoint_url=moto_endpoint)
    sink.ensure_table()
    return sink


def test_a_table_keyed_by_content_is_refused_with_the_migration_command(moto_endpoint):
    """0.1 tables (partition key ``document_id``) cannot hold per-object rows: refused, never written."""
    name = f"old-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("document_id", "entry_id")],
        KeySchema=[
            {"AttributeName": "document_id", "KeyType": "HASH"},
            {"AttributeName": "entry_id", "KeyType": "RANGE"},
        ],
    )
    sink = DynamoCourseSink(name, endpoint_url=moto_endpoint)
    for attempt in (sink.ensure_table, lambda: sink.replace_source("s", [])):
        with pytest.raises(
            StorageError, match=r"keyed by \['document_id', 'entry_id'\].*ocr-pipeline migrate-source-keys"
        ):
            attempt()
    assert client.scan(TableName=name)["Items"] == []


def test_hive_keys_and_parquet_files():
    assert (
        hive_key("courses", "Example U", "abc", "courses.parquet")
        == "courses/institution_key=Example U/source_key=abc/courses.parquet"
    )
    assert hive_key("pages", None, "abc", "p.parquet") == "pages/institution_key=_unknown/source_key=abc/p.parquet"
    assert hive_key("pages", "", "abc", "p.parquet").startswith("pages/institution_key=_unknown/")
    assert hive_key("pages", "A/B=C", "abc", "p.parquet") == "pages/institution_key=A_B_C/source_key=abc/p.parquet"
    data = table_bytes(
        [{"document_id": "d", "page": 1, "course_code": "CS 101", "reasons": ["x"], "unknown": 1}], COURSES_SCHEMA
    )
    table = pq.read_table(io.BytesIO(data))
    assert table.schema == COURSES_SCHEMA
    assert table.to_pylist()[0]["course_code"] == "CS 101" and table.to_pylist()[0]["title"] is None
    assert pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0).column(0).compression == "ZSTD"
    assert pq.read_table(io.BytesIO(table_bytes([], PAGES_SCHEMA))).num_rows == 0


def test_local_keys_map_to_paths_one_to_one_so_dot_segments_reach_no_other_object(tmp_path):
    """Issue 14 item 18: ``U/../b.pdf`` is a valid S3 key; on a local work store it must not become ``b.pdf``."""
    store = LocalObjectStore(tmp_path / "work")
    keys = [
        "partitions/b.pdf/document.json",
        "partitions/U/../b.pdf/document.json",
        "partitions/U/./b.pdf/x",
        "partitions/U//b.pdf/x",
        "partitions/~/x",
        "partitions/~../x",
        "partitions/U/b.pdf/x",
    ]
    for number, key in enumerate(keys):
        store.put(key, str(number).encode())
    assert [store.get(key) for key in keys] == [str(n).encode() for n in range(len(keys))]
    assert [obj.key for obj in store.list("partitions/")] == sorted(keys)
    assert all((tmp_path / "work") in Path(store.uri(key).removeprefix("file://")).parents for key in keys)
    (tmp_path / "outside").mkdir()
    (tmp_path / "work" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(StorageError, match="escapes the store root"):
        store.put("link/x", b"no")


def test_a_dot_dot_landing_key_keeps_its_own_work_files(cloud, instance, tmp_path):
    catalog, other = (
        generate_catalog("units_parenthetical", n_courses=3),
        generate_catalog("units_parenthetical", seed=5, n_courses=2),
    )
    resources = cloud.resources(work_uri=str(tmp_path / "work"), output_uri=str(tmp_path / "out"))
    cloud.upload("b.pdf", catalog.pdf)
    cloud.upload("U/../b.pdf", other.pdf)
    for key in ("b.pdf", "U/../b.pdf"):
        result = materialize_document(instance, key, resources)
        assert result.success, failure_message(result)
    infos = {
        key: json.loads(LocalObjectStore(tmp_path / "work").get(f"partitions/{key}/document.json"))
        for key in ("b.pdf", "U/../b.pdf")
    }
    assert infos["b.pdf"]["source_uri"].endswith("/landing/b.pdf")
    assert infos["U/../b.pdf"]["source_uri"].endswith("/landing/U/../b.pdf")
    assert infos["b.pdf"]["document_id"] != infos["U/../b.pdf"]["document_id"]


def test_local_parquet_locations_in_the_metadata_open_in_duckdb(tmp_path, instance):
    """Issue 15 item 8: the UI showed percent-encoded file:// URIs that DuckDB cannot open."""
    import duckdb

    landing = tmp_path / "land ing" / "Space U"
    landing.mkdir(parents=True)
    (landing / "cat alog.pdf").write_bytes(generate_catalog("units_parenthetical", n_courses=3).pdf)
    resources = pipeline_resources(
        landing_uri=str(tmp_path / "land ing"),
        work_uri=str(tmp_path / "work"),
        output_uri=str(tmp_path / "out put"),
        review_store_uri=f"sqlite:///{tmp_path}/review.db",
    )
    result = materialize_document(instance, "Space U/cat alog.pdf", resources)
    assert result.success, failure_message(result)
    [materialization] = result.asset_materializations_for_node("validated_courses")
    location = materialization.metadata["courses_parquet"].value
    assert location.startswith(str(tmp_path / "out put")) and "%20" not in location
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{location}')").fetchall() == [(3,)]
