"""The analysts' Parquet contract: ``courses.parquet`` and ``pages.parquet`` schemas and writers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

COURSES_SCHEMA = pa.schema([
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
    ("corrected_at", pa.string()),
])
CONTRACT_COLUMNS = COURSES_SCHEMA.names[:15]

PAGES_SCHEMA = pa.schema([
    ("document_id", pa.string()),
    ("source_id", pa.string()),
    ("page", pa.int32()),
    ("method", pa.string()),
    ("engine", pa.string()),
    ("confidence", pa.float64()),
    ("needs_review", pa.bool_()),
    ("status", pa.string()),
    ("reasons", pa.list_(pa.string())),
])


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
    value = institution if institution else "_unknown"  # Hive's null marker would leave pyarrow no type to infer
    safe = value.replace("/", "_").replace("=", "_")
    return f"{dataset}/institution_key={safe}/source_key={source_id}/{filename}"
