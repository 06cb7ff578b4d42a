"""Source documents: partition keys for object keys, institution from the landing path, inspection."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import unquote

from ocr_pipeline.models import DocumentInfo
from ocr_pipeline.pdf.document import DocumentError, content_id, summarise_pdf
from ocr_pipeline.storage.objects import ObjectInfo
from ocr_pipeline.storage.work import WorkStore

_UNSAFE = re.compile(r"[%,\[\]\x00-\x1f\x7f]|\.(?=\.\.)")


def partition_key_for(relative_key: str) -> str:
    """A Dagster-safe partition key for an object key below the landing prefix (reversible).

    Dagster forbids ``...`` and control characters in partition keys, and uses ``,`` and
    brackets in partition selections; those (and ``%``) are percent-encoded, everything
    else (spaces, non-ASCII) stays readable.
    """
    return _UNSAFE.sub(lambda match: "".join(f"%{byte:02X}" for byte in match.group().encode()), relative_key)


def object_key_for(partition_key: str) -> str:
    """The object key (below the landing prefix) a partition key stands for."""
    return unquote(partition_key)


def ingested_etag(work: WorkStore, partition_key: str) -> str | None:
    """The ETag of the object version ``raw_catalog_pdfs`` last ingested for this partition, if any."""
    info = work.document_info(partition_key)
    return info.etag if info is not None else None


def is_catalog_pdf(key: str) -> bool:
    return key.lower().endswith(".pdf") and not PurePosixPath(key).name.startswith(".")


def institution_for(relative_key: str, override: str | None = None) -> str | None:
    """``<institution>/<file>.pdf`` -> the institution folder, unless overridden."""
    if override:
        return override
    parts = PurePosixPath(relative_key).parts
    return parts[0] if len(parts) > 1 else None


def inspect_document(
    data: bytes, *, partition_key: str, source_uri: str, head: ObjectInfo, institution: str | None, max_pages: int
) -> DocumentInfo:
    """Validate a source PDF and describe it; raises :class:`DocumentError` when unusable."""
    if head.size != len(data):
        raise DocumentError("truncated", f"read {len(data)} bytes but the object has {head.size}")
    summary = summarise_pdf(data, max_pages=max_pages)
    return DocumentInfo(
        partition_key=partition_key,
        source_uri=source_uri,
        document_id=content_id(data),
        institution=institution,
        size=len(data),
        etag=head.etag,
        sha256=summary.sha256,
        page_count=summary.page_count,
        has_text_layer=summary.has_text_layer,
        metadata=summary.metadata,
    )
