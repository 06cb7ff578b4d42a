"""``ocr_pages``: the text parsing uses, per page, from the text layer or the OCR engine.

Tagged for production: the ECS executor sends this step to a GPU task (``ecs/*`` tags), and
the ``gpu`` concurrency pool bounds how many run at once across all runs.
"""

import dagster as dg

from ocr_pipeline.defs.documents import document_info, materialize_partitions
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.defs.progress import log_progress
from ocr_pipeline.defs.resources import OcrEngineResource, StorageResource
from ocr_pipeline.deploy.ecs import gpu_step_tags
from ocr_pipeline.models import PageStatus
from ocr_pipeline.ocr.base import LazyEngine
from ocr_pipeline.stages.ocr_pages import read_document

GPU_POOL = "gpu"
GPU_STEP_TAGS = gpu_step_tags()
"""Read by dagster-aws's ``ecs_executor`` (GPU task definition, capacity provider, GPU request)."""


class OcrConfig(dg.Config):
    min_page_confidence: float = 0.8
    """OCR'd pages below this mean line confidence are flagged for review."""


@dg.asset(
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["rendered_pages"],
    partitions_def=catalog_documents,
    group_name="catalog",
    kinds={"python"},
    op_tags=GPU_STEP_TAGS,
    pool=GPU_POOL,
    check_specs=[
        dg.AssetCheckSpec(
            "pages_read_confidently",
            asset="ocr_pages",
            partitions_def=catalog_documents,
            description="Pages that failed OCR or were read with low confidence",
        )
    ],
    description="Per page: lines in reading order, blocks, confidence and timing, from the text layer or OCR.",
)
def ocr_pages(
    context: dg.AssetExecutionContext, config: OcrConfig, storage: StorageResource, ocr_engine: OcrEngineResource
) -> dg.MaterializeResult:
    def one(partition_key: str) -> dg.MaterializeResult:
        info = document_info(storage, partition_key)
        work = storage.work()
        engine = LazyEngine(ocr_engine.get)
        summary = read_document(
            info.document_id,
            work,
            engine,
            ocr_engine.batch_size,
            progress=log_progress(context, "read"),
            total_pages=info.page_count,
        )
        flagged = {
            page: "; ".join(text.reasons) or f"confidence {text.confidence:.2f}"
            for page, text in summary.doubtful.items()
            if text.status is not PageStatus.OK or (text.lines and text.confidence < config.min_page_confidence)
        }
        check = dg.AssetCheckResult(
            check_name="pages_read_confidently",
            passed=not flagged,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "flagged_pages": sorted(flagged),
                "reasons": dg.MetadataValue.json({str(k): v for k, v in flagged.items()}),
                "threshold": config.min_page_confidence,
            },
        )
        return dg.MaterializeResult(
            metadata={**summary.as_metadata(), "engine": engine.name if engine.built else "none"}, check_results=[check]
        )

    return materialize_partitions(context, storage, one)
