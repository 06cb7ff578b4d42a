"""Jobs: the per-document job that sensors, schedules and backfills launch."""

import dagster as dg

CATALOG_ASSETS = [
    "raw_catalog_pdfs",
    "rendered_pages",
    "ocr_pages",
    "course_catalog_tables",
    "validated_courses",
    "review_tasks",
]

process_catalog_document = dg.define_asset_job(
    "process_catalog_document",
    selection=dg.AssetSelection.assets(*CATALOG_ASSETS),
    description="The whole graph for one catalog document (one partition).",
)
