"""Helpers the asset modules share: a partition's document record and source bytes."""

import hashlib

import dagster as dg

from ocr_pipeline.defs.resources import StorageResource
from ocr_pipeline.models import DocumentInfo
from ocr_pipeline.stages.ingest import object_key_for
from ocr_pipeline.stages.work_keys import document_info_key, read_json
from ocr_pipeline.storage.objects import StorageError

def document_info(storage: StorageResource, partition_key: str) -> DocumentInfo:
    """What ``raw_catalog_pdfs`` recorded for this partition; a clear failure when it has not run."""
    work = storage.work()
    key = document_info_key(partition_key)
    if not work.exists(key):
        raise dg.Failure(f"no ingested document for partition {partition_key!r}: materialise raw_catalog_pdfs first "
                         "(it may have been quarantined)")
    return DocumentInfo.from_dict(read_json(work, key))

def source_bytes(storage: StorageResource, info: DocumentInfo) -> bytes:
    """The source PDF, checked against the content that was ingested."""
    try:
        data = storage.landing().get(object_key_for(info.partition_key))
    except StorageError as error:
        raise dg.Failure(str(error), metadata={"source_uri": info.source_uri}) from error
    if hashlib.sha256(data).hexdigest() != info.sha256:
        raise dg.Failure(f"{info.source_uri} changed since it was ingested; re-materialise raw_catalog_pdfs",
                         metadata={"source_uri": info.source_uri})
    return data
