"""One-off migration (0.1 -> 0.2): published rows move from the content hash to the source object.

Before 0.2, Parquet folders (``document_key=<content hash>``) and DynamoDB items (partition key
``document_id``) belonged to a document's *content*, so two objects with the same bytes shared, and
could delete, each other's rows. From 0.2 they belong to the source object (``source_id``).

The migration is driven by each partition's ``published.json`` in the work store, so every source
object gets its own copy even where two of them shared one folder or one set of items:

1. each partition's ``courses.parquet``/``pages.parquet`` are rewritten under
   ``source_key=<source_id>`` with the new ``source_id`` column (and that object's ``source_uri``);
2. with ``old_table``/``new_sink``, the partition's items are copied from the old table (queried by
   ``document_id``) into the new one, keyed by ``source_id``; the old table is left for you to
   delete once you have checked the new one (a DynamoDB key schema cannot be changed in place);
3. ``published.json`` records the new keys; old Parquet files no partition uses any more are deleted.

Partitions already migrated are skipped, so the command can be re-run after an interruption.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from ocr_pipeline.storage.dynamo import DynamoCourseSink, query_all
from ocr_pipeline.storage.objects import ObjectStore
from ocr_pipeline.storage.parquet import COURSES_SCHEMA, PAGES_SCHEMA, hive_key, table_bytes
from ocr_pipeline.storage.work import Published, WorkStore

_DATASETS = (
    ("courses_key", "courses", "courses.parquet", COURSES_SCHEMA),
    ("pages_key", "pages", "pages.parquet", PAGES_SCHEMA),
)


@dataclass
class MigrationReport:
    migrated: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    items_copied: int = 0
    files_deleted: int = 0


def migrate_source_keys(
    work: WorkStore, output: ObjectStore, *, old_table: Any = None, new_sink: DynamoCourseSink | None = None
) -> MigrationReport:
    """Move every published partition's rows to its source object's keys (see the module docstring)."""
    report = MigrationReport()
    old_keys: set[str] = set()
    kept_keys: set[str] = set()
    for partition_key in work.published_partitions():
        record = work.published_record(partition_key)
        if "source_id" in record:
            report.already_done.append(partition_key)
            kept_keys.update(record[name] for name, *_ in _DATASETS)
            continue
        info = work.document_info(partition_key)
        if info is None:
            raise LookupError(f"partition {partition_key!r} was published but has no document.json")
        new_keys: dict[str, str] = {}
        flags: dict[int, list[str]] = {}
        for name, dataset, filename, schema in _DATASETS:
            old_key, new_key = record[name], hive_key(dataset, info.institution, info.source_id, filename)
            rows = pq.read_table(io.BytesIO(output.get(old_key))).to_pylist() if output.exists(old_key) else []
            for row in rows:
                row["source_id"] = info.source_id
                if "source_uri" in schema.names:
                    row["source_uri"] = info.source_uri
            output.put(new_key, table_bytes(rows, schema))
            old_keys.add(old_key)
            kept_keys.add(new_key)
            new_keys[name] = new_key
            if dataset == "pages":
                flags = {row["page"]: list(row.get("reasons") or []) for row in rows if row.get("needs_review")}
        if old_table is not None and new_sink is not None:
            rows = [
                {
                    **{k: v for k, v in item.items() if k != "institution_document"},
                    "source_id": info.source_id,
                    "source_uri": info.source_uri,
                    "institution": info.institution,
                }
                for item in query_all(
                    old_table,
                    KeyConditionExpression="document_id = :d",
                    ExpressionAttributeValues={":d": record["document_id"]},
                )
            ]
            report.items_copied += new_sink.replace_source(info.source_id, rows)["written"]
        published = Published(
            record["document_id"], info.source_id, new_keys["courses_key"], new_keys["pages_key"], None, None, flags
        )
        work.put_published(partition_key, published, None)  # review_tasks needs a new publish for its pages
        report.migrated.append(partition_key)
    for key in sorted(old_keys - kept_keys):
        if output.exists(key):
            output.delete(key)
            report.files_deleted += 1
    return report
