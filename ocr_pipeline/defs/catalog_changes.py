"""``catalog_changes``: consecutive catalog editions of each institution compared (unpartitioned).

It reads every published ``courses.parquet``, so it runs once a day (``daily_catalog_changes``, after
the retry and review schedules) rather than after each document, and is never part of the
per-document job; materialise it from the UI to refresh it sooner.
"""

import dagster as dg

from ocr_pipeline.defs.resources import StorageResource
from ocr_pipeline.stages.catalog_changes import publish_catalog_changes


@dg.asset(
    deps=["validated_courses"],
    group_name="catalog",
    kinds={"parquet"},
    description="Courses added, removed, renamed or with changed credits between consecutive catalog editions "
    "(source objects) of each institution: catalog_changes/institution_key=<i>/catalog_changes.parquet.",
)
def catalog_changes(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
    summary = publish_catalog_changes(storage.work(), storage.output())
    context.log.info(f"{len(summary.institutions)} institutions with several editions: {summary.counts}")
    return dg.MaterializeResult(
        metadata={
            **summary.counts,
            "institutions_compared": len(summary.institutions),
            "editions": dg.MetadataValue.json(summary.institutions),
            "files": dg.MetadataValue.json(summary.files),
            "files_deleted": summary.deleted,
            "seconds": summary.seconds,
            "dagster/row_count": summary.rows,
            "preview": dg.MetadataValue.md(summary.preview),
        }
    )


compare_catalog_editions = dg.define_asset_job(
    "compare_catalog_editions",
    selection=dg.AssetSelection.assets("catalog_changes"),
    description="Re-compares every institution's catalog editions (catalog_changes).",
)

daily_catalog_changes = dg.ScheduleDefinition(
    name="daily_catalog_changes",
    job=compare_catalog_editions,
    cron_schedule="0 4 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Compares catalog editions once a day, after the retry and review schedules.",
)
