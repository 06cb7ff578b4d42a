"""``catalog_changes``: every institution's catalog editions compared, one Parquet file per institution.

Reads every published ``courses.parquet`` of the output store (the columns it needs), orders and
compares each institution's editions (``ocr_pipeline.catalog.changes``) and writes
``catalog_changes/institution_key=<i>/catalog_changes.parquet``; files of institutions that no longer
have two editions are deleted, so the dataset always matches the published courses.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from ocr_pipeline.catalog.changes import Edition, catalog_changes, change_counts
from ocr_pipeline.stages.course_catalog_tables import preview_markdown
from ocr_pipeline.storage.objects import ObjectInfo, ObjectStore
from ocr_pipeline.storage.parquet import CATALOG_CHANGES_SCHEMA, institution_segment, table_bytes
from ocr_pipeline.storage.work import WorkStore

DATASET = "catalog_changes"
_COLUMNS = (
    "source_id",
    "source_uri",
    "institution",
    "catalog",
    "course_code",
    "title",
    "credits_min",
    "credits_max",
    "page",
)


@dataclass
class ChangesSummary:
    counts: dict[str, int]
    institutions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Institution -> its editions in order (source id, catalog, source URI)."""
    files: dict[str, str] = field(default_factory=dict)
    """Institution -> the URI of its ``catalog_changes.parquet``."""
    deleted: int = 0
    seconds: float = 0.0
    preview: str = ""

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def changes_key(institution: str | None) -> str:
    return f"{DATASET}/institution_key={institution_segment(institution)}/catalog_changes.parquet"


def _read_rows(output: ObjectStore, key: str) -> list[dict[str, Any]]:
    data = io.BytesIO(output.get(key))
    names = pq.read_schema(data).names
    return pq.read_table(data, columns=[c for c in _COLUMNS if c in names]).to_pylist()


def _first_published(work: WorkStore) -> dict[str, str]:
    """Source id -> when it was first published (absent before this was recorded)."""
    return {p.source_id: p.first_published_at for p in work.all_published() if p.source_id and p.first_published_at}


def load_editions(work: WorkStore, output: ObjectStore) -> list[Edition]:
    """Every published source object with rows, as an edition of its institution."""
    files: list[tuple[ObjectInfo, list[dict[str, Any]]]] = []
    for obj in output.list("courses/"):
        if obj.key.endswith(".parquet"):
            rows = _read_rows(output, obj.key)
            if rows and rows[0].get("institution"):
                files.append((obj, rows))
    institutions = [rows[0]["institution"] for _, rows in files]
    published = _first_published(work) if len(institutions) != len(set(institutions)) else {}
    return [
        Edition(
            institution=rows[0]["institution"],
            source_id=rows[0].get("source_id") or obj.key.split("source_key=", 1)[-1].split("/", 1)[0],
            source_uri=rows[0].get("source_uri") or obj.key,
            catalog=rows[0].get("catalog"),
            rows=tuple(rows),
            # before first_published_at was recorded: when its courses.parquet was last written
            first_published_at=published.get(rows[0].get("source_id") or "") or obj.last_modified.isoformat(),
        )
        for obj, rows in files
    ]


def publish_catalog_changes(work: WorkStore, output: ObjectStore) -> ChangesSummary:
    """Compare every institution's editions and (re)write the ``catalog_changes`` dataset."""
    started = time.perf_counter()
    compared = catalog_changes(load_editions(work, output))
    summary = ChangesSummary(counts=change_counts([]))
    everything: list[dict[str, Any]] = []
    files: dict[str, list[dict[str, Any]]] = {}  # two institutions may share a folder name ("A/B", "A_B")
    for institution, (editions, rows) in compared.items():
        key = changes_key(institution)
        files.setdefault(key, []).extend(rows)
        summary.files[institution] = output.uri(key)
        summary.institutions[institution] = [
            {"source_id": e.source_id, "catalog": e.catalog, "source_uri": e.source_uri, "year": e.year}
            for e in editions
        ]
        everything += rows
    for key, rows in files.items():
        output.put(key, table_bytes(rows, CATALOG_CHANGES_SCHEMA))
    written = set(files)
    for obj in list(output.list(f"{DATASET}/")):
        if obj.key not in written:
            output.delete(obj.key)
            summary.deleted += 1
    summary.counts = change_counts(everything)
    summary.preview = preview_markdown(
        everything, ("institution", "to_catalog", "course_code", "change", "old_value", "new_value"), limit=20
    )
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary
