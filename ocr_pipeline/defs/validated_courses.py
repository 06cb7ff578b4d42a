"""``validated_courses``: validated rows, reviewers' corrections applied, as Parquet (and a DynamoDB upsert)."""

import dagster as dg

from ocr_pipeline.catalog.flags import FlagRules
from ocr_pipeline.catalog.validate import ValidationRules
from ocr_pipeline.defs.documents import document_info, materialize_partitions
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.defs.resources import DynamoResource, StorageResource
from ocr_pipeline.stages.validated_courses import publish_document


class ValidationConfig(dg.Config):
    min_confidence: float = ValidationRules.min_confidence
    """Rows below this parse confidence are flagged for review."""
    min_credits: float = ValidationRules.min_credits
    max_credits: float = ValidationRules.max_credits
    min_ocr_confidence: float = FlagRules.min_ocr_confidence
    """OCR'd pages below this mean line confidence are flagged for review."""
    max_text_disagreement: float = FlagRules.max_text_disagreement
    """Pages whose sane text layer and OCR differ in more than this share of words are flagged."""


@dg.asset(
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["course_catalog_tables"],
    partitions_def=catalog_documents,
    group_name="catalog",
    kinds={"parquet", "dynamodb"},
    check_specs=[
        dg.AssetCheckSpec(
            "records_need_no_review",
            asset="validated_courses",
            partitions_def=catalog_documents,
            description="Pages flagged for human review (rows failing validation or in doubt, low OCR confidence, "
            "course-like text without entries), with the reasons per page",
        )
    ],
    description="Validated course rows: courses.parquet per document (hive-style path) and a DynamoDB upsert.",
)
def validated_courses(
    context: dg.AssetExecutionContext, config: ValidationConfig, storage: StorageResource, dynamodb: DynamoResource
) -> dg.MaterializeResult:
    def one(partition_key: str) -> dg.MaterializeResult:
        info = document_info(storage, partition_key)
        rules = ValidationRules(
            min_credits=config.min_credits, max_credits=config.max_credits, min_confidence=config.min_confidence
        )
        flag_rules = FlagRules(config.min_ocr_confidence, config.max_text_disagreement)
        summary = publish_document(info, storage.work(), storage.output(), rules, dynamodb.sink(), flag_rules)
        context.log.info(
            f"{info.source_uri}: {summary.rows} rows, {summary.needs_review} need review -> {summary.courses_uri}"
        )
        check = dg.AssetCheckResult(
            check_name="records_need_no_review",
            passed=not summary.flagged_pages,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "flagged_pages": summary.flagged_pages,
                "reasons": dg.MetadataValue.json(
                    {str(page): reasons for page, reasons in summary.page_reasons.items()}
                ),
                "rows_needing_review": summary.needs_review,
                "rows": summary.rows,
            },
        )
        return dg.MaterializeResult(
            metadata={
                **summary.as_metadata(),
                "preview": dg.MetadataValue.md(summary.preview),
                "dagster/row_count": summary.rows,
            },
            check_results=[check],
        )

    return materialize_partitions(context, storage, one)
