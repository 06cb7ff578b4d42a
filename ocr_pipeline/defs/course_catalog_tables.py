"""``course_catalog_tables``: course entries parsed from each document's pages (work store, ``entries.jsonl``)."""

import dagster as dg

from ocr_pipeline.defs.documents import document_info, materialize_partitions
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.defs.resources import StorageResource
from ocr_pipeline.stages.course_catalog_tables import parse_document


@dg.asset(
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["ocr_pages"],
    partitions_def=catalog_documents,
    group_name="catalog",
    kinds={"python"},
    check_specs=[
        dg.AssetCheckSpec(
            "course_pages_have_entries",
            asset="course_catalog_tables",
            partitions_def=catalog_documents,
            description="Pages whose lines led by course codes mostly produced no entries",
        )
    ],
    description="Course entries parsed from the pages: code, title, credits, description, prerequisites, page, box.",
)
def course_catalog_tables(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult:
    def one(partition_key: str) -> dg.MaterializeResult:
        info = document_info(storage, partition_key)
        work = storage.work()
        profile = storage.profile(info.institution)
        summary = parse_document(info.document_id, work, profile)
        uncovered = summary.uncovered_pages
        check = dg.AssetCheckResult(
            check_name="course_pages_have_entries",
            passed=not uncovered,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "flagged_pages": uncovered,
                "reasons": dg.MetadataValue.json({str(page): r for page, r in summary.page_doubts.items()}),
            },
        )
        return dg.MaterializeResult(
            metadata={**summary.as_metadata(), "preview": dg.MetadataValue.md(summary.preview)},
            check_results=[check],
        )

    return materialize_partitions(context, storage, one)
