"""Helpers the asset modules share: a partition's document record and source bytes, and running
an asset's per-document work over every partition of a run (single-run backfills)."""

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from ocr_pipeline.defs.resources import StorageResource
from ocr_pipeline.models import DocumentInfo
from ocr_pipeline.stages.raw_catalog_pdfs import object_key_for
from ocr_pipeline.storage.objects import StorageError
from ocr_pipeline.storage.work import FailureRecord, WorkStore


def document_info(storage: StorageResource, partition_key: str) -> DocumentInfo:
    """What ``raw_catalog_pdfs`` recorded for this partition; a clear failure when it has not run."""
    info = storage.work().document_info(partition_key)
    if info is None:
        raise dg.Failure(
            f"no ingested document for partition {partition_key!r}: materialise raw_catalog_pdfs first "
            "(it may have been quarantined)"
        )
    return info


def source_bytes(storage: StorageResource, info: DocumentInfo) -> bytes:
    """The source PDF, checked against the content that was ingested."""
    try:
        data = storage.landing().get(object_key_for(info.partition_key))
    except StorageError as error:
        raise dg.Failure(str(error), metadata={"source_uri": info.source_uri}) from error
    if hashlib.sha256(data).hexdigest() != info.sha256:
        raise dg.Failure(
            f"{info.source_uri} changed since it was ingested; re-materialise raw_catalog_pdfs",
            metadata={"source_uri": info.source_uri},
        )
    return data


DocumentStep = Callable[[str], dg.MaterializeResult]
"""An asset's work for one partition (document)."""


def materialize_partitions(
    context: dg.AssetExecutionContext, storage: StorageResource, step: DocumentStep
) -> dg.MaterializeResult:
    """Run ``step`` for each partition of this run.

    One partition (sensor runs, a single materialisation): its failure fails the step, as usual.
    Several (a single-run backfill): a failing document is logged, recorded in the work store's
    failure ledger (the daily retry schedule reads it) and skipped by the later steps of this
    run; the other documents go through, and the result lists every document's outcome.
    """
    keys = context.partition_keys
    work = storage.work()
    asset = context.asset_key.to_user_string()
    if len(keys) == 1:
        result = step(keys[0])
        _clear_failure(work, keys[0], asset)  # a retry that succeeds takes the document off the retry list
        return result
    results: dict[str, dg.MaterializeResult] = {}
    failures: dict[str, str] = {}
    for number, key in enumerate(keys, 1):
        earlier = work.failure(key)
        if earlier and earlier.run_id == context.run.run_id:
            failures[key] = f"skipped: {earlier.asset} failed in this run"
            continue
        try:
            results[key] = step(key)
        except Exception as error:  # noqa: BLE001 - one bad document never fails the batch
            failures[key] = (
                error.description
                if isinstance(error, dg.Failure) and error.description
                else f"{type(error).__name__}: {error}"
            )
            work.put_failure(
                key, FailureRecord(context.run.run_id, asset, failures[key], datetime.now(UTC).isoformat())
            )
            context.log.error(f"{key}: {failures[key]}")
        else:
            _clear_failure(work, key, asset)
        context.log.info(f"{asset}: {number}/{len(keys)} documents, {len(failures)} failed")
    return dg.MaterializeResult(
        metadata={
            "documents": len(keys),
            "succeeded": len(results),
            "failed": len(failures),
            "failed_documents": dg.MetadataValue.json(failures),
            "per_document": dg.MetadataValue.json({key: _plain(r.metadata or {}) for key, r in results.items()}),
        },
        check_results=_merged_checks(context, results, failures),
    )


def _clear_failure(work: WorkStore, key: str, asset: str) -> None:
    """Remove the document's failure-ledger entry when it was this asset that failed."""
    if (failure := work.failure(key)) is not None and failure.asset == asset:
        work.delete_failure(key)


def _plain(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata values as JSON-friendly Python values (previews dropped)."""
    plain = {}
    for name, value in metadata.items():
        if isinstance(value, dg.MarkdownMetadataValue):
            continue
        value = value.value if isinstance(value, dg.MetadataValue) else value
        plain[name] = value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
    return plain


def _merged_checks(
    context: dg.AssetExecutionContext, results: Mapping[str, dg.MaterializeResult], failures: Mapping[str, str]
) -> list[dg.AssetCheckResult]:
    """Each document's check results recorded on its own partition, then one summary per check for the batch.

    A document that failed before the check ran gets no evaluation: its partition's checks stay
    "not run" instead of turning red for a reason the check never looked at.
    """
    merged = []
    for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
        per_document = {
            key: check
            for key, result in results.items()
            for check in result.check_results
            if check.check_name == check_key.name
        }
        for key, check in per_document.items():
            context.log_event(
                dg.AssetCheckEvaluation(
                    asset_key=check_key.asset_key,
                    check_name=check_key.name,
                    passed=check.passed,
                    metadata=dict(check.metadata or {}),  # already MetadataValues (AssetCheckResult normalises)
                    severity=check.severity,
                    partition=key,
                )
            )
        failing = sorted(key for key, check in per_document.items() if not check.passed)
        merged.append(
            dg.AssetCheckResult(
                check_name=check_key.name,
                passed=not failing,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"batch of {len(context.partition_keys)} documents: each one's result is on its partition",
                metadata={
                    "documents_checked": len(per_document),
                    "documents_failing": dg.MetadataValue.json(failing),
                    "documents_not_checked": dg.MetadataValue.json(dict(failures)),
                },
            )
        )
    return merged
