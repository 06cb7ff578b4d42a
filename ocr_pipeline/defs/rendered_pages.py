"""``rendered_pages``: every page's text layer, and a PNG for pages bound for OCR or review."""

from typing import Literal

import dagster as dg

from ocr_pipeline.defs.documents import document_info, materialize_partitions, source_bytes
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.defs.progress import log_progress
from ocr_pipeline.defs.resources import StorageResource
from ocr_pipeline.pdf.document import DocumentError
from ocr_pipeline.stages.rendered_pages import RenderSettings, render_document


class RenderConfig(dg.Config):
    dpi: int = 144
    max_pixels: int = 40_000_000
    """Pages larger than this at ``dpi`` are rendered at a lower DPI (and say so)."""
    ocr_policy: Literal["auto", "ocr", "text"] = "auto"
    """``auto``: OCR only pages without a sane text layer; ``ocr``: every page; ``text``: never."""
    images: Literal["needed", "all"] = "needed"
    """``needed``: PNGs only for pages that go to OCR; ``all``: every page (e.g. for reviewers)."""

    workers: int = 0
    """Processes reading the pages of a large document in parallel (0: one per core)."""

    def settings(self) -> RenderSettings:
        return RenderSettings(
            dpi=self.dpi, max_pixels=self.max_pixels, policy=self.ocr_policy, images=self.images, workers=self.workers
        )


@dg.asset(
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["raw_catalog_pdfs"],
    partitions_def=catalog_documents,
    group_name="catalog",
    kinds={"pdf"},
    description="Each page's size, text layer (boxes, fonts) and, where needed, a PNG rendered with pypdfium2.",
)
def rendered_pages(
    context: dg.AssetExecutionContext, config: RenderConfig, storage: StorageResource
) -> dg.MaterializeResult:
    def one(partition_key: str) -> dg.MaterializeResult:
        info = document_info(storage, partition_key)
        try:
            summary = render_document(
                source_bytes(storage, info),
                info.document_id,
                config.settings(),
                storage.work(),
                progress=log_progress(context, "rendered"),
            )
        except DocumentError as error:
            raise dg.Failure(f"{info.source_uri}: {error.message}", metadata={"reason": error.reason}) from error
        return dg.MaterializeResult(
            metadata={
                **summary.as_metadata(),
                "document_id": info.document_id,
                "dpi": config.dpi,
                "pages_per_second": round(summary.pages / summary.seconds, 1) if summary.seconds else None,
            }
        )

    return materialize_partitions(context, storage, one)
