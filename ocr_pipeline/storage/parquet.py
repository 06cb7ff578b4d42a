"""The analysts' Parquet contract: ``courses.parquet``, ``pages.parquet``, ``prerequisites.parquet`` and
``catalog_changes.parquet`` schemas and writers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

COURSES_SCHEMA = pa.schema(
    [
        ("document_id", pa.string()),
        ("source_uri", pa.string()),
        ("institution", pa.string()),
        ("page", pa.int32()),
        ("course_code", pa.string()),
        ("subject", pa.string()),
        ("number", pa.string()),
        ("title", pa.string()),
        ("credits_min", pa.float64()),
        ("credits_max", pa.float64()),
        ("description", pa.string()),
        ("prerequisites", pa.string()),
        ("confidence", pa.float64()),
        ("needs_review", pa.bool_()),
        ("extraction_method", pa.string()),
        # additional columns, after the contract's
        ("source_id", pa.string()),
        ("catalog", pa.string()),
        ("entry_id", pa.string()),
        ("reasons", pa.list_(pa.string())),
        ("box", pa.list_(pa.float64())),
        ("corrected_by", pa.string()),
        ("corrected_at", pa.timestamp("us", tz="UTC")),
        ("prerequisite_codes", pa.list_(pa.string())),  # codes parsed from ``prerequisites`` (catalog/prerequisites.py)
    ]
)
CONTRACT_COLUMNS = COURSES_SCHEMA.names[:15]

PAGES_SCHEMA = pa.schema(
    [
        ("document_id", pa.string()),
        ("source_id", pa.string()),
        ("page", pa.int32()),
        ("method", pa.string()),
        ("engine", pa.string()),
        ("confidence", pa.float64()),
        ("needs_review", pa.bool_()),
        ("status", pa.string()),
        ("reasons", pa.list_(pa.string())),
    ]
)

PREREQUISITES_SCHEMA = pa.schema(
    [
        ("source_id", pa.string()),
        ("document_id", pa.string()),
        ("institution", pa.string()),
        ("course_code", pa.string()),
        ("entry_id", pa.string()),
        ("required_code", pa.string()),
        ("group", pa.int32()),
        ("kind", pa.string()),
        ("required_in_catalog", pa.bool_()),
    ]
)
"""One edge per required code: ``course_code`` (row ``entry_id``) requires ``required_code``; edges with the
same ``group`` are ``or``-alternatives (``kind`` = ``or``), different groups are all required."""

CATALOG_CHANGES_SCHEMA = pa.schema(
    [
        ("institution", pa.string()),
        ("from_source_id", pa.string()),
        ("to_source_id", pa.string()),
        ("from_catalog", pa.string()),
        ("to_catalog", pa.string()),
        ("course_code", pa.string()),
        ("change", pa.string()),
        ("old_value", pa.string()),
        ("new_value", pa.string()),
        ("from_page", pa.int32()),
        ("to_page", pa.int32()),
    ]
)
"""Courses ``added``, ``removed``, ``renamed`` or with changed ``credits`` between consecutive editions."""


def table_bytes(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> bytes:
    """Rows as a Parquet file in ``schema`` (missing optional columns become null)."""
    table = pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def hive_key(dataset: str, institution: str | None, source_id: str, filename: str) -> str:
    """``<dataset>/institution_key=<i>/source_key=<source id>/<filename>`` (``_unknown`` for a null institution).

    One folder per source object (``DocumentInfo.source_id``), so two objects with the same bytes
    never share or delete each other's files. The partition names differ from the ``institution``/
    ``source_id`` columns inside the files, so pandas, pyarrow and DuckDB read the whole dataset
    with their default hive discovery.
    """
    return f"{dataset}/institution_key={institution_segment(institution)}/source_key={source_id}/{filename}"


def institution_segment(institution: str | None) -> str:
    """The ``institution_key`` partition value (``_unknown`` for a null institution)."""
    value = institution if institution else "_unknown"  # Hive's null marker would leave pyarrow no type to infer
    return value.replace("/", "_").replace("=", "_")
