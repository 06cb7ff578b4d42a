"""``raw_catalog_pdfs``: one partition per PDF under the landing prefix, validated and described."""

from datetime import UTC, datetime

import dagster as dg

from ocr_pipeline.defs.documents import materialize_partitions
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.defs.resources import StorageResource
from ocr_pipeline.pdf.document import DocumentError
from ocr_pipeline.stages.raw_catalog_pdfs import inspect_document, institution_for, object_key_for
from ocr_pipeline.storage.objects import StorageError
from ocr_pipeline.storage.work import QuarantineRecord, WorkStore


class IngestConfig(dg.Config):
    institution: str | None = None
    """Overrides the institution taken from ``<prefix>/<institution>/<file>.pdf``."""
    max_pages: int = 5000
    max_bytes: int = 500_000_000


@dg.asset(
    backfill_policy=dg.BackfillPolicy.single_run(),
    partitions_def=catalog_documents,
    group_name="catalog",
    kinds={"s3", "pdf"},
    description="Source catalog PDFs in the landing store: validated, hashed and described.",
)
def raw_catalog_pdfs(
    context: dg.AssetExecutionContext, config: IngestConfig, storage: StorageResource
) -> dg.MaterializeResult:
    def one(partition_key: str) -> dg.MaterializeResult:
        key = object_key_for(partition_key)
        landing, work = storage.landing(), storage.work()
        uri = landing.uri(key)
        try:
            head = landing.head(key)
            if head.size > config.max_bytes:
                raise DocumentError("too-large", f"{head.size} bytes, above the limit of {config.max_bytes}")
            data = landing.get(key) if head.size else b""
            info = inspect_document(
                data,
                partition_key=partition_key,
                source_uri=uri,
                head=head,
                institution=institution_for(key, config.institution),
                max_pages=config.max_pages,
            )
        except StorageError as error:
            raise dg.Failure(f"cannot read {uri}: {error}", metadata={"source_uri": uri, "retryable": True}) from error
        except DocumentError as error:
            record = _quarantine(work, partition_key, uri, error)
            raise dg.Failure(
                description=f"{uri}: {error.message} (quarantined: {error.reason})",
                metadata={
                    "source_uri": uri,
                    "reason": error.reason,
                    "quarantined": True,
                    "attempts": record.attempts,
                },
                allow_retries=False,
            ) from error
        work.delete_quarantine(partition_key)
        work.put_document_info(info)
        context.log.info(f"{uri}: {info.page_count} pages, text layer: {info.has_text_layer}")
        return dg.MaterializeResult(
            metadata={
                "source_uri": dg.MetadataValue.url(uri) if uri.startswith("s3://") else uri,
                "document_id": info.document_id,
                "institution": info.institution or "",
                "size_bytes": info.size,
                "etag": info.etag or "",
                "sha256": info.sha256,
                "page_count": info.page_count,
                "has_text_layer": info.has_text_layer,
                "pdf_metadata": dg.MetadataValue.json(info.metadata),
            },
            data_version=dg.DataVersion(info.sha256),
        )

    return materialize_partitions(context, storage, one)


def _quarantine(work: WorkStore, partition_key: str, uri: str, error: DocumentError) -> QuarantineRecord:
    """Record why a document is unusable; the retry schedule reads these records."""
    earlier = work.quarantine(partition_key)
    record = QuarantineRecord(
        partition_key,
        uri,
        error.reason,
        error.message,
        (earlier.attempts if earlier else 0) + 1,
        datetime.now(UTC).isoformat(),
    )
    work.put_quarantine(record)
    work.delete_document_info(partition_key)  # later steps must not process an earlier version
    return record
