"""Regression tests for the mutants that survived the suite (issue 17), and for the README's promise
that "re-running never duplicates or loses rows" (Parquet and DynamoDB, on the moto server).

Each test names the mutant it kills; ``ocr_pipeline_tests/mutation.py`` re-checks them.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import boto3
import dagster as dg
import pyarrow.parquet as pq
import pytest

from ocr_pipeline.defs.schedules import retry_failed_documents
from ocr_pipeline.defs.validated_courses import validated_courses
from ocr_pipeline.materialize import failure_message, materialize_document
from ocr_pipeline.models import source_id_for
from ocr_pipeline.review.consensus import consensus
from ocr_pipeline.review.model import Answer, TaskStatus
from ocr_pipeline.review.workflow import submit
from ocr_pipeline.samples import generate_catalog
from ocr_pipeline.stages.landing_scan import ScanCursor, ScanLimits, scan_landing
from ocr_pipeline.storage.dynamo import DynamoCourseSink
from ocr_pipeline.storage.objects import ObjectInfo
from ocr_pipeline_tests.test_review_rules import ENTRY, task
from ocr_pipeline_tests.test_sensor import ListedStore

pytestmark = pytest.mark.slow

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


# --- storage/dynamo.py ------------------------------------------------------------------------------


def row(source_id: str, code: str, occurrence: int = 1, title: str = "Intro") -> dict:
    return {
        "source_id": source_id,
        "document_id": "content",
        "entry_id": f"{code}#{occurrence}",
        "course_code": code,
        "title": title,
        "institution": "U",
        "credits_min": 3.0,
        "needs_review": False,
        "reasons": [],
    }


def table_keys(sink: DynamoCourseSink) -> list[tuple[str, str]]:
    items = sink.table.scan()["Items"]
    return sorted((item["source_id"], item["entry_id"]) for item in items)


def sink_on(moto_endpoint: str, name: str) -> DynamoCourseSink:
    sink = DynamoCourseSink(name, endpoint_url=moto_endpoint)
    sink.ensure_table()
    return sink


def test_dynamo_rows_no_longer_produced_are_deleted(moto_endpoint, request):
    """Mutant: no delete of the items ``before - keep`` (a stale item stays; the count still says 1)."""
    sink = sink_on(moto_endpoint, f"rows-dropped-{id(request)}")
    assert sink.replace_source("doc", [row("doc", c) for c in ("A 1", "B 2", "C 3")]) == {"written": 3, "deleted": 0}
    result = sink.replace_source("doc", [row("doc", "A 1", title="New"), row("doc", "C 3")])
    assert result == {"written": 2, "deleted": 1}
    assert table_keys(sink) == [("doc", "A 1#1"), ("doc", "C 3#1")]
    assert {i["entry_id"]: i["title"] for i in sink.table.scan()["Items"]}["A 1#1"] == "New"  # overwritten, not added


def test_dynamo_items_of_the_earlier_content_are_deleted(moto_endpoint, request):
    """Mutant: no delete of the object's items no longer produced (old content's rows stay beside the new ones);
    another object's rows, even of the same content, are never touched."""
    sink = sink_on(moto_endpoint, f"earlier-content-{id(request)}")
    sink.replace_source("obj", [row("obj", c) for c in ("A 1", "B 2", "C 3")])
    sink.replace_source("copy", [row("copy", c) for c in ("A 1", "B 2", "C 3")])  # same bytes, another object
    result = sink.replace_source("obj", [{**row("obj", "A 1"), "document_id": "new content"}])
    assert result == {"written": 1, "deleted": 2}
    assert table_keys(sink) == [("copy", "A 1#1"), ("copy", "B 2#1"), ("copy", "C 3#1"), ("obj", "A 1#1")]
    with pytest.raises(ValueError, match="another source object"):
        sink.replace_source("obj", [row("copy", "A 1")])


# --- re-running never duplicates or loses rows (README), Parquet and DynamoDB ------------------------

KEY = "Rerun U/catalog.pdf"


def published(cloud) -> dict[str, list[dict]]:
    """Every Parquet file under output/, by dataset, with its rows."""
    listed = cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix="output/").get("Contents", [])
    files: dict[str, list[dict]] = {}
    for obj in listed:
        body = cloud.s3.get_object(Bucket=cloud.bucket, Key=obj["Key"])["Body"].read()
        files[obj["Key"]] = pq.read_table(io.BytesIO(body)).to_pylist()
    return files


def course_rows(cloud) -> list[dict]:
    return sorted(
        (r for key, rows in published(cloud).items() if key.startswith("output/courses/") for r in rows),
        key=lambda r: r["entry_id"],
    )


def item_keys(cloud, source_id: str) -> list[str]:
    return sorted(item["entry_id"] for item in cloud.dynamo_items(source_id))


def all_items(cloud) -> list[dict]:
    table = boto3.resource("dynamodb", endpoint_url=cloud.endpoint, region_name="us-east-1").Table(cloud.table)
    return table.scan()["Items"]


def run(cloud, instance) -> dg.ExecuteInProcessResult:
    result = materialize_document(instance, KEY, cloud.resources())
    assert result.success, failure_message(result)
    return result


def dynamodb_metadata(result: dg.ExecuteInProcessResult) -> dict:
    [materialization] = result.asset_materializations_for_node("validated_courses")
    return materialization.metadata["dynamodb"].value


def test_rerunning_the_same_document_neither_duplicates_nor_loses_rows(cloud, instance):
    catalog = generate_catalog("units_parenthetical", n_courses=6)
    cloud.upload(KEY, catalog.pdf)
    run(cloud, instance)
    first_files, first_items = published(cloud), sorted(all_items(cloud), key=lambda i: i["entry_id"])
    second = run(cloud, instance)
    assert published(cloud) == first_files  # same keys, same rows
    assert sorted(all_items(cloud), key=lambda i: i["entry_id"]) == first_items
    rows = course_rows(cloud)
    assert sorted(r["course_code"] for r in rows) == sorted(c.course_code for c in catalog.truth)
    assert len({r["entry_id"] for r in rows}) == len(rows) == 6
    assert item_keys(cloud, rows[0]["source_id"]) == [r["entry_id"] for r in rows]
    assert dynamodb_metadata(second) == {"written": 6, "deleted": 0}
    [materialization] = second.asset_materializations_for_node("validated_courses")
    metadata = {name: value.value for name, value in materialization.metadata.items()}
    source_id = rows[0]["source_id"]
    assert source_id == source_id_for(f"s3://{cloud.bucket}/landing/{KEY}")
    assert metadata["courses_parquet"] == (
        f"s3://{cloud.bucket}/output/courses/institution_key=Rerun U/source_key={source_id}/courses.parquet"
    )
    assert metadata["pages_parquet"] == metadata["courses_parquet"].replace("courses", "pages")
    assert (metadata["rows"], metadata["dagster/row_count"]) == (6, 6)
    assert metadata["rows_needing_review"] == sum(r["needs_review"] for r in rows)
    assert metadata["flagged_pages"] == sorted({r["page"] for r in rows if r["needs_review"]})
    assert metadata["seconds"] >= 0 and "| course_code |" in metadata["preview"]


def test_changed_content_replaces_the_earlier_rows_in_parquet_and_dynamodb(cloud, instance):
    """Kills the validated_courses.py mutant (old Parquet files kept: 10 + 4 rows) and the dynamo.py earlier-content
    one."""
    before = generate_catalog("units_parenthetical", n_courses=10)
    after = generate_catalog("units_parenthetical", n_courses=4)
    cloud.upload(KEY, before.pdf)
    run(cloud, instance)
    old_id, source_id = course_rows(cloud)[0]["document_id"], course_rows(cloud)[0]["source_id"]
    assert len(item_keys(cloud, source_id)) == 10
    cloud.upload(KEY, after.pdf)
    result = run(cloud, instance)
    files = published(cloud)
    assert len(files) == 3 and sum(1 for k in files if k.startswith("output/courses/")) == 1  # courses, pages, edges
    rows = course_rows(cloud)
    new_id = rows[0]["document_id"]
    assert new_id != old_id and {r["document_id"] for r in rows} == {new_id}
    assert sorted(r["course_code"] for r in rows) == sorted(c.course_code for c in after.truth)
    assert {r["source_id"] for r in rows} == {source_id}
    assert item_keys(cloud, source_id) == [r["entry_id"] for r in rows]
    assert {i["document_id"] for i in all_items(cloud)} == {new_id}
    assert len(all_items(cloud)) == 4
    assert dynamodb_metadata(result) == {"written": 4, "deleted": 10}  # none of the old codes is produced again


def test_rows_no_longer_produced_are_removed_from_parquet_and_dynamodb(cloud, instance):
    """The parser now finds one course fewer (entries.jsonl loses a line): the re-published document loses that
    row in both outputs, and the other rows keep their entry ids."""
    catalog = generate_catalog("units_parenthetical", n_courses=5)
    cloud.upload(KEY, catalog.pdf)
    run(cloud, instance)
    rows = course_rows(cloud)
    document_id = rows[0]["document_id"]
    entries_key = f"work/documents/{document_id}/entries.jsonl"
    lines = cloud.s3.get_object(Bucket=cloud.bucket, Key=entries_key)["Body"].read().decode().splitlines()
    dropped = json.loads(lines[1])["course_code"]
    cloud.s3.put_object(Bucket=cloud.bucket, Key=entries_key, Body=("\n".join(lines[:1] + lines[2:]) + "\n").encode())

    result = dg.materialize(
        [validated_courses], partition_key=KEY, resources=cloud.resources(), instance=instance, raise_on_error=False
    )
    assert result.success, failure_message(result)
    after = course_rows(cloud)
    assert [r["entry_id"] for r in after] == [r["entry_id"] for r in rows if r["course_code"] != dropped]
    assert item_keys(cloud, rows[0]["source_id"]) == [r["entry_id"] for r in after]
    assert len(all_items(cloud)) == 4
    assert dynamodb_metadata(result) == {"written": 4, "deleted": 1}


# --- stages/landing_scan.py -------------------------------------------------------------------------


def whole_pass(store, cursor: ScanCursor, now: datetime, limits: ScanLimits, step: timedelta = timedelta(minutes=1)):
    """Ticks until the pass completes; returns (keys found, cursor, time after the last tick)."""
    found = []
    while True:
        result = scan_landing(store, cursor, now, limits)
        found += [o.key for o in result.new_objects]
        cursor, now = result.cursor, now + step
        if result.pass_complete:
            return found, cursor, now


def test_the_pass_start_is_kept_across_ticks_so_a_write_early_in_a_long_pass_is_found():
    """Mutant: ``pass_started`` reset to ``now`` every tick (the watermark then jumps past the write)."""
    old = T0 - timedelta(days=1)
    store = ListedStore([ObjectInfo(f"{c}.pdf", 1, c, old) for c in "mnopqrstuvwxyz"])
    limits = ScanLimits(max_keys_per_tick=1)
    first = scan_landing(store, ScanCursor(), T0, limits)
    assert not first.pass_complete and first.cursor.pass_started == T0.isoformat()
    # one minute into the pass, behind the scan position; the pass then takes 14 more ticks, 2 minutes apart
    store.objects.append(ObjectInfo("a.pdf", 1, "late", T0 + timedelta(minutes=1)))
    found, cursor, now = whole_pass(store, first.cursor, T0 + timedelta(minutes=2), limits, timedelta(minutes=2))
    assert "a.pdf" not in found and now >= T0 + timedelta(minutes=30)
    assert cursor.watermark == (T0 - timedelta(minutes=15)).isoformat()  # the pass's start, less the skew
    found, _, _ = whole_pass(store, cursor, now, limits)
    assert found == ["a.pdf"]


def test_an_object_exactly_at_the_watermark_is_found():
    """Mutant: ``obj.last_modified >= watermark`` -> ``>`` (a multipart upload's LastModified is its start)."""
    store = ListedStore([ObjectInfo("m.pdf", 1, "m", T0 - timedelta(days=1))])
    first = scan_landing(store, ScanCursor(), T0)
    assert first.pass_complete and first.cursor.watermark == (T0 - timedelta(minutes=15)).isoformat()
    store.objects.append(ObjectInfo("a.pdf", 1, "a", T0 - timedelta(minutes=15)))  # listed only after the pass
    second = scan_landing(store, first.cursor, T0 + timedelta(minutes=1))
    assert [o.key for o in second.new_objects] == ["a.pdf"]
    assert scan_landing(store, second.cursor, T0 + timedelta(minutes=2)).new_objects == []


def test_an_object_exactly_at_the_next_watermark_is_requested_once():
    """Mutants: the ``>= next_watermark`` when remembering or pruning ``seen`` -> ``>`` (it is requested twice)."""
    store = ListedStore([ObjectInfo("a.pdf", 1, "a", T0 - timedelta(minutes=15))])
    first = scan_landing(store, ScanCursor(), T0)
    assert [o.key for o in first.new_objects] == ["a.pdf"] and "a.pdf" in first.cursor.seen
    assert scan_landing(store, first.cursor, T0).new_objects == []


def test_an_object_rewritten_within_the_same_second_is_found_by_its_new_etag():
    """S3's LastModified has one-second resolution: the ETag, not the time, tells a rewrite (mutant:
    ``identity = obj.etag and ...``); without an ETag the time is the identity."""
    store = ListedStore([ObjectInfo("a.pdf", 1, "e1", T0), ObjectInfo("b.pdf", 1, None, T0)])
    first = scan_landing(store, ScanCursor(), T0)
    assert [o.key for o in first.new_objects] == ["a.pdf", "b.pdf"]
    assert first.cursor.seen == {"a.pdf": ["e1", T0.isoformat()], "b.pdf": [T0.isoformat(), T0.isoformat()]}
    store.objects[0] = ObjectInfo("a.pdf", 2, "e2", T0)
    second = scan_landing(store, first.cursor, T0 + timedelta(seconds=1))
    assert [(o.key, o.etag) for o in second.new_objects] == [("a.pdf", "e2")]


def test_seen_is_pruned_once_objects_fall_below_the_watermark():
    """Mutant: ``seen`` never pruned (the cursor grows with every object ever written)."""
    store = ListedStore([ObjectInfo(f"{n:03d}.pdf", 1, str(n), T0 - timedelta(minutes=1)) for n in range(50)])
    first = scan_landing(store, ScanCursor(), T0, ScanLimits(max_new_per_tick=1000))
    assert len(first.new_objects) == 50 and len(first.cursor.seen) == 50  # within the skew margin: remembered
    second = scan_landing(store, first.cursor, T0 + timedelta(minutes=5))
    assert second.new_objects == [] and len(second.cursor.seen) == 50
    later = scan_landing(store, second.cursor, T0 + timedelta(hours=1))
    assert later.new_objects == [] and later.pass_complete and later.listed == 50
    assert later.cursor.seen == {} and len(later.cursor.to_json()) < 200


# --- review/consensus.py ----------------------------------------------------------------------------


def test_three_of_five_is_exactly_the_sixty_percent_threshold_and_is_accepted():
    """Mutant: ``count / total >= agreement`` -> ``>`` (3 of 5 escalated)."""
    titles = ["Intro", "Intro", "Basics", "Intro", "Other"]
    answers = [Answer.build(name, [{**ENTRY, "title": t}], False) for name, t in zip("abcde", titles)]
    decision = consensus(answers, 0.6)
    assert decision.disagreements == () and decision.answer.entries[0]["title"] == "Intro"
    assert consensus(answers, 0.61).disagreements == ("CS 101 title",)
    current = task(required=5)
    for answer in answers:
        current = submit(current, answer)
    assert current.status is TaskStatus.ACCEPTED and current.result.entries[0]["title"] == "Intro"
    two_of_five = [
        Answer.build(n, [{**ENTRY, "title": t}], False)
        for n, t in zip("abcde", ["Intro", "Intro", "Basics", "Basics", "Other"])
    ]
    assert consensus(two_of_five, 0.6).answer is None


# --- defs/schedules.py: the schedule body against a real Dagster instance -------------------------


def evaluate_retry_schedule(cloud, instance):
    context = dg.build_schedule_context(
        instance=instance,
        resources={"storage": cloud.storage()},
        scheduled_execution_time=datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
    )
    return retry_failed_documents(context)


def quarantine_record(cloud, key: str) -> dict:
    body = cloud.s3.get_object(Bucket=cloud.bucket, Key=f"work/partitions/{key}/quarantine.json")["Body"].read()
    return json.loads(body)


def test_retry_schedule_stops_retrying_a_document_quarantined_three_times(cloud, instance):
    """Mutant: quarantine retry cap off (quarantined documents retried every day, forever)."""
    stubborn, once = "Bad U/stubborn.pdf", "Bad U/once.pdf"
    cloud.upload(stubborn, b"not a pdf at all")
    cloud.upload(once, b"")
    assert isinstance(evaluate_retry_schedule(cloud, instance), dg.SkipReason)  # nothing failed yet
    for _ in range(2):
        assert not materialize_document(instance, stubborn, cloud.resources()).success
    assert not materialize_document(instance, once, cloud.resources()).success
    record = quarantine_record(cloud, stubborn)
    assert (record["attempts"], record["reason"]) == (2, "not-a-pdf")
    requests = evaluate_retry_schedule(cloud, instance)
    assert sorted(r.partition_key for r in requests) == [once, stubborn]  # two attempts: still retried
    assert {r.run_key for r in requests} == {f"retry:{once}:2026-12-01", f"retry:{stubborn}:2026-12-01"}
    assert all(r.tags == {"ocr_pipeline/retry": "daily"} for r in requests)

    assert not materialize_document(instance, stubborn, cloud.resources()).success  # third attempt
    assert quarantine_record(cloud, stubborn)["attempts"] == 3
    assert [r.partition_key for r in evaluate_retry_schedule(cloud, instance)] == [once]

    cloud.upload(stubborn, generate_catalog("units_parenthetical", n_courses=2).pdf)  # the source is fixed
    assert materialize_document(instance, stubborn, cloud.resources()).success
    assert not cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix=f"work/partitions/{stubborn}/quarantine").get(
        "KeyCount"
    )
    assert [r.partition_key for r in evaluate_retry_schedule(cloud, instance)] == [once]
