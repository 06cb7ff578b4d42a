"""The review backlog check across all published documents (the per-document checks live on the assets)."""

import dagster as dg

from ocr_pipeline.defs.resources import StorageResource
from ocr_pipeline.stages.review_backlog import flagged_pages


@dg.asset_check(asset="validated_courses", description="Every page flagged for human review, across all catalogs")
def review_backlog(storage: StorageResource) -> dg.AssetCheckResult:
    pages = flagged_pages(storage.output())
    return dg.AssetCheckResult(
        passed=not pages,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "flagged_pages": len(pages),
            "documents_with_flags": len({p["document_id"] for p in pages}),
            "pages": dg.MetadataValue.json(pages[:500]),
        },
    )


review_checks_job = dg.define_asset_job("review_checks", selection=dg.AssetSelection.checks(review_backlog))
