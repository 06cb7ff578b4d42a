"""The S3 upload sensor over an evolving bucket on the moto server, and its cursor rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg

from ocr_pipeline.defs.sensors import s3_catalog_upload_sensor
from ocr_pipeline.stages.landing_scan import ScanCursor, ScanLimits, scan_landing
from ocr_pipeline.storage.objects import ObjectInfo

PDF = b"%PDF-1.4 placeholder"


def tick(cloud, instance, cursor, **storage_overrides) -> dg.SensorResult:
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"storage": cloud.storage(**storage_overrides)}
    )
    return s3_catalog_upload_sensor(context)


def partition_keys(result: dg.SensorResult) -> list[str]:
    return sorted(request.partition_key for request in result.run_requests)


def test_sensor_sees_new_and_changed_objects_once(cloud, instance):
    cloud.upload("U1/a.pdf", PDF)
    cloud.upload("U1/b, [draft].pdf", PDF)
    cloud.upload("U2/readme.txt", b"not a catalog")
    first = tick(cloud, instance, None)
    assert partition_keys(first) == ["U1/a.pdf", "U1/b%2C %5Bdraft%5D.pdf"]
    assert first.dynamic_partitions_requests[0].partition_keys == ["U1/a.pdf", "U1/b%2C %5Bdraft%5D.pdf"]

    second = tick(cloud, instance, first.cursor)
    assert second.run_requests == []

    cloud.upload("U1/a.pdf", PDF + b" changed")
    cloud.upload("U3/c.pdf", PDF)
    third = tick(cloud, instance, second.cursor)
    assert partition_keys(third) == ["U1/a.pdf", "U3/c.pdf"]
    run_keys = {r.run_key for r in first.run_requests} | {r.run_key for r in third.run_requests}
    assert len(run_keys) == 4  # the changed object gets a new run key (its new ETag)
    assert tick(cloud, instance, third.cursor).run_requests == []


def test_sensor_bounds_each_tick_and_resumes(cloud, instance):
    for number in range(25):
        cloud.upload(f"U/{number:02d}.pdf", PDF)
    seen: list[str] = []
    cursor = None
    sizes = []
    for _ in range(5):
        result = tick(cloud, instance, cursor, scan_max_runs_per_tick=10, scan_max_keys_per_tick=12)
        sizes.append(len(result.run_requests))
        seen += partition_keys(result)
        cursor = result.cursor
    assert sizes[:3] == [10, 10, 5] and sizes[3:] == [0, 0]
    assert sorted(seen) == [f"U/{n:02d}.pdf" for n in range(25)]


class ListedStore:
    """A landing listing with chosen timestamps (for the cursor rules in isolation)."""

    def __init__(self, objects: list[ObjectInfo]) -> None:
        self.objects = objects

    def list(self, prefix: str = "", start_after: str | None = None):
        return iter(
            sorted((o for o in self.objects if start_after is None or o.key > start_after), key=lambda o: o.key)
        )


def test_equal_timestamps_are_neither_missed_nor_repeated():
    moment = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    store = ListedStore([ObjectInfo("a.pdf", 1, "e1", moment)])
    result = scan_landing(store, ScanCursor(), moment + timedelta(seconds=1))
    assert [o.key for o in result.new_objects] == ["a.pdf"]
    store.objects.append(ObjectInfo("b.pdf", 1, "e2", moment))  # same LastModified as a.pdf, listed later
    result = scan_landing(store, result.cursor, moment + timedelta(seconds=2))
    assert [o.key for o in result.new_objects] == ["b.pdf"]
    assert scan_landing(store, result.cursor, moment + timedelta(seconds=3)).new_objects == []


def test_object_written_behind_the_scan_position_is_found_next_pass():
    moment = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    store = ListedStore([ObjectInfo(f"{c}.pdf", 1, c, moment) for c in "mnz"])
    limits = ScanLimits(max_keys_per_tick=2)
    first = scan_landing(store, ScanCursor(), moment, limits)
    assert not first.pass_complete
    store.objects.append(ObjectInfo("a.pdf", 1, "late", moment + timedelta(seconds=5)))  # before the position
    second = scan_landing(store, first.cursor, moment + timedelta(seconds=10), limits)
    assert second.pass_complete and [o.key for o in second.new_objects] == ["z.pdf"]
    third = scan_landing(store, second.cursor, moment + timedelta(seconds=20), limits)
    assert "a.pdf" in [o.key for o in third.new_objects]


def test_cursor_stays_small_as_old_objects_age_out():
    old = datetime(2026, 1, 1, tzinfo=UTC)
    store = ListedStore([ObjectInfo(f"{n:05d}.pdf", 1, str(n), old) for n in range(2000)])
    now = datetime(2026, 11, 30, tzinfo=UTC)
    result = scan_landing(store, ScanCursor(), now, ScanLimits(max_new_per_tick=5000))
    assert len(result.new_objects) == 2000
    assert result.cursor.seen == {}
    assert len(result.cursor.to_json()) < 200
    assert json.loads(result.cursor.to_json())["watermark"].startswith("2026-11-29T23:45")


def test_documents_already_run_are_not_requested_again_by_a_fresh_sensor(cloud, instance):
    """Issue 15: `dagster dev` after `ocr-pipeline demo` (or extract, or a backfill) re-ran every document, because
    the sensor starts with no cursor. An object whose version was already ingested is skipped; a new version is not."""
    from ocr_pipeline.materialize import failure_message, materialize_document
    from ocr_pipeline.samples import generate_catalog

    catalog = generate_catalog("units_parenthetical", n_courses=3)
    cloud.upload("U1/done.pdf", catalog.pdf)
    cloud.upload("U1/new.pdf", catalog.pdf)
    result = materialize_document(instance, "U1/done.pdf", cloud.resources())
    assert result.success, failure_message(result)
    first = tick(cloud, instance, None)
    assert partition_keys(first) == ["U1/new.pdf"]
    cloud.upload("U1/done.pdf", generate_catalog("units_parenthetical", seed=3, n_courses=2).pdf)
    assert partition_keys(tick(cloud, instance, first.cursor)) == ["U1/done.pdf"]
