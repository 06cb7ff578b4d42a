"""Daily schedules: retry failed documents, and re-run the review backlog check."""

import dagster as dg

from ocr_pipeline.defs.checks import review_checks_job
from ocr_pipeline.defs.jobs import CATALOG_ASSETS, process_catalog_document
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.defs.resources import StorageResource

MAX_QUARANTINE_ATTEMPTS = 3
"""A quarantined (unusable) document is retried this many times, then left alone until it changes."""
MAX_RETRIES_PER_DAY = 500


def documents_to_retry(instance: dg.DagsterInstance, storage: StorageResource) -> list[str]:
    """Partitions whose latest attempt failed at any stage (per Dagster, or in the failure ledger of
    single-run backfills), minus documents quarantined too often."""
    keys = catalog_documents.get_partition_keys(dynamic_partitions_store=instance)
    failed: set[str] = set()
    for asset in CATALOG_ASSETS:
        statuses = instance.get_status_by_partition(dg.AssetKey(asset), keys, catalog_documents) or {}
        failed |= {key for key, status in statuses.items() if status == dg.AssetPartitionStatus.FAILED}
    work = storage.work()
    failed |= work.failed_partitions()  # documents that failed inside a single-run backfill
    retry = []
    for key in sorted(failed):
        if (record := work.quarantine(key)) is not None and record.attempts >= MAX_QUARANTINE_ATTEMPTS:
            continue
        retry.append(key)
    return retry[:MAX_RETRIES_PER_DAY]


@dg.schedule(
    job=process_catalog_document,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Re-runs documents whose last attempt failed (quarantined ones a bounded number of times).",
)
def retry_failed_documents(context: dg.ScheduleEvaluationContext, storage: StorageResource):
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    keys = documents_to_retry(context.instance, storage)
    if not keys:
        return dg.SkipReason("no failed documents")
    return [
        dg.RunRequest(run_key=f"retry:{key}:{day}", partition_key=key, tags={"ocr_pipeline/retry": "daily"})
        for key in keys
    ]


daily_review_checks = dg.ScheduleDefinition(
    name="daily_review_checks",
    job=review_checks_job,
    cron_schedule="30 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Re-evaluates the review backlog across every published document.",
)
