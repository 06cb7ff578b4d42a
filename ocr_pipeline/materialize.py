"""Materialising the catalog graph for given partitions on a Dagster instance (CLI and tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from ocr_pipeline.defs.course_catalog_tables import course_catalog_tables
from ocr_pipeline.defs.ocr_pages import ocr_pages
from ocr_pipeline.defs.partitions import CATALOG_DOCUMENTS
from ocr_pipeline.defs.raw_catalog_pdfs import raw_catalog_pdfs
from ocr_pipeline.defs.rendered_pages import rendered_pages
from ocr_pipeline.defs.review_tasks import review_tasks
from ocr_pipeline.defs.validated_courses import validated_courses

CATALOG_GRAPH = [raw_catalog_pdfs, rendered_pages, ocr_pages, course_catalog_tables, validated_courses, review_tasks]


def run_config(
    *,
    dpi: int | None = None,
    ocr_policy: str | None = None,
    institution: str | None = None,
    log_level: str | None = None,
) -> dict[str, Any]:
    """Run config for the catalog assets from the few settings a user changes per run."""
    ops: dict[str, Any] = {}
    render = {k: v for k, v in {"dpi": dpi, "ocr_policy": ocr_policy}.items() if v is not None}
    if render:
        ops["rendered_pages"] = {"config": render}
    if institution:
        ops["raw_catalog_pdfs"] = {"config": {"institution": institution}}
    config: dict[str, Any] = {"ops": ops}
    if log_level:
        config["loggers"] = {"console": {"config": {"log_level": log_level}}}
    return config


def materialize_document(
    instance: dg.DagsterInstance,
    partition_key: str,
    resources: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
) -> dg.ExecuteInProcessResult:
    """Add the partition (if new) and run the whole graph for it; failures are in the result."""
    if not instance.has_dynamic_partition(CATALOG_DOCUMENTS, partition_key):
        instance.add_dynamic_partitions(CATALOG_DOCUMENTS, [partition_key])
    return dg.materialize(
        CATALOG_GRAPH,
        partition_key=partition_key,
        resources=dict(resources),
        instance=instance,
        run_config=dict(config or {}),
        raise_on_error=False,
        tags={"ocr_pipeline/source": "local"},
    )


def failure_message(result: dg.ExecuteInProcessResult) -> str | None:
    """The first failed step's error, in one line, or ``None`` when the run succeeded."""
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None and (error.cls_name or "").startswith("Dagster"):
                error = error.cause  # unwrap Dagster's wrappers, keep our errors (they name the object)
            user = event.step_failure_data.user_failure_data
            message = (user.description if user and user.description else None) or (error.message if error else "")
            return f"{event.step_key}: {message.strip().splitlines()[0] if message.strip() else 'failed'}"
    return None if result.success else "run failed"
