"""``s3_catalog_upload_sensor``: new or changed PDFs under the landing prefix become partitions and runs."""

from datetime import UTC, datetime

import dagster as dg

from ocr_pipeline.defs.jobs import process_catalog_document
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.defs.resources import StorageResource
from ocr_pipeline.stages.landing_scan import ScanCursor, ScanLimits, scan_landing
from ocr_pipeline.stages.raw_catalog_pdfs import ingested_etag, partition_key_for


@dg.sensor(
    job=process_catalog_document,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition and requests a run for each new or changed PDF in the landing store.",
)
def s3_catalog_upload_sensor(context: dg.SensorEvaluationContext, storage: StorageResource) -> dg.SensorResult:
    limits = ScanLimits(
        max_keys_per_tick=storage.scan_max_keys_per_tick, max_new_per_tick=storage.scan_max_runs_per_tick
    )
    result = scan_landing(storage.landing(), ScanCursor.from_json(context.cursor), datetime.now(UTC), limits)
    work = storage.work()
    fresh = [
        (partition_key_for(obj.key), obj)
        for obj in result.new_objects
        if ingested_etag(work, partition_key_for(obj.key)) != obj.etag  # not already run (demo, extract, backfills)
    ]
    keys = [key for key, _ in fresh]
    context.log.info(
        f"listed {result.listed} objects, {len(result.new_objects)} new or changed, {len(keys)} not yet ingested, "
        f"pass complete: {result.pass_complete}"
    )
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"{key}@{obj.etag}", partition_key=key) for key, obj in fresh],
        dynamic_partitions_requests=[catalog_documents.build_add_request(sorted(set(keys)))] if keys else [],
        cursor=result.cursor.to_json(),
    )
