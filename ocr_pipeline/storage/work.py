"""The work store: what each asset hands the next, with one owner of its layout.

Every key below is written by one asset and read by the ones after it (``docs/architecture.md``)::

    partitions/<partition_key>/document.json          DocumentInfo       raw_catalog_pdfs
    partitions/<partition_key>/quarantine.json        QuarantineRecord   raw_catalog_pdfs (unusable PDF)
    partitions/<partition_key>/failure.json           FailureRecord      any asset, inside a multi-document run
    partitions/<partition_key>/published.json         Published          validated_courses
    partitions/<partition_key>/flagged_pages.jsonl    FlaggedPage        validated_courses -> review_tasks
    documents/<document_id>/pages.jsonl               PageRecord         rendered_pages
    documents/<document_id>/pages/<page>.png          page image         rendered_pages (review_tasks fills gaps)
    documents/<document_id>/ocr.jsonl                 PageResult         ocr_pages
    documents/<document_id>/entries.jsonl             CourseEntry        course_catalog_tables
    documents/<document_id>/page_doubts.json          page -> reasons    course_catalog_tables
    documents/<document_id>/corrections/<page>.json   Correction         review_answers_sensor

``partitions/`` follows the source object (one Dagster partition each), ``documents/`` its content
(identical files share their pages, OCR and entries).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ocr_pipeline.models import Correction, CourseEntry, DocumentInfo, PageRecord, PageRef, PageResult
from ocr_pipeline.storage.objects import ObjectStore


@dataclass(frozen=True)
class QuarantineRecord:
    """Why a source PDF is unusable, and how often it was tried (the retry schedule caps retries)."""

    partition_key: str
    source_uri: str
    reason: str
    message: str
    attempts: int
    at: str


@dataclass(frozen=True)
class FailureRecord:
    """A document that failed inside a multi-document run: the later steps of that run skip it, the retry
    schedule picks it up."""

    run_id: str
    asset: str
    message: str
    at: str


@dataclass(frozen=True)
class Published:
    """What ``validated_courses`` last published for a source object (its files replace these next time)."""

    document_id: str
    source_id: str
    courses_key: str
    pages_key: str
    prerequisites_key: str | None
    first_published_at: str | None
    """When the source object was first published: orders catalog editions without a year."""
    flags: dict[int, list[str]] = field(default_factory=dict)
    """Page -> why it needs review (the ``reasons`` of pages.parquet's flagged pages)."""

    def output_keys(self) -> tuple[str, ...]:
        return tuple(key for key in (self.courses_key, self.pages_key, self.prerequisites_key) if key)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flags": {str(page): reasons for page, reasons in self.flags.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Published:
        return cls(
            document_id=data["document_id"],
            source_id=data["source_id"],
            courses_key=data["courses_key"],
            pages_key=data["pages_key"],
            prerequisites_key=data.get("prerequisites_key"),
            first_published_at=data.get("first_published_at"),
            flags={int(page): list(reasons) for page, reasons in data.get("flags", {}).items()},
        )


@dataclass(frozen=True)
class FlaggedPage:
    """A page ``validated_courses`` flagged, with what a reviewer needs: the reasons, the page's image
    geometry and the published rows of that page (corrections applied)."""

    ref: PageRef
    reasons: tuple[str, ...]
    entries: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"ref": asdict(self.ref), "reasons": list(self.reasons), "entries": list(self.entries)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlaggedPage:
        return cls(PageRef(**data["ref"]), tuple(data["reasons"]), tuple(data["entries"]))


class WorkStore:
    """Typed readers and writers over an :class:`ObjectStore` holding the layout above."""

    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    def uri(self, key: str) -> str:
        return self.objects.uri(key)

    # partitions/<partition_key>/…

    def document_info(self, partition_key: str) -> DocumentInfo | None:
        """What ``raw_catalog_pdfs`` recorded for this partition; ``None`` before ingest (or after quarantine)."""
        data = self._json(_partition(partition_key, "document.json"))
        return DocumentInfo.from_dict(data) if data is not None else None

    def put_document_info(self, info: DocumentInfo) -> None:
        self._put_json(_partition(info.partition_key, "document.json"), info.to_dict())

    def delete_document_info(self, partition_key: str) -> None:
        self.objects.delete(_partition(partition_key, "document.json"))

    def quarantine(self, partition_key: str) -> QuarantineRecord | None:
        data = self._json(_partition(partition_key, "quarantine.json"))
        return QuarantineRecord(**data) if data is not None else None

    def put_quarantine(self, record: QuarantineRecord) -> None:
        self._put_json(_partition(record.partition_key, "quarantine.json"), asdict(record))

    def delete_quarantine(self, partition_key: str) -> None:
        self.objects.delete(_partition(partition_key, "quarantine.json"))

    def failure(self, partition_key: str) -> FailureRecord | None:
        data = self._json(_partition(partition_key, "failure.json"))
        return FailureRecord(**data) if data is not None else None

    def put_failure(self, partition_key: str, record: FailureRecord) -> None:
        self._put_json(_partition(partition_key, "failure.json"), asdict(record))

    def delete_failure(self, partition_key: str) -> None:
        self.objects.delete(_partition(partition_key, "failure.json"))

    def failed_partitions(self) -> set[str]:
        """Partitions with a failure record (documents that failed inside a multi-document run)."""
        return {partition for partition, name in self._partition_files() if name == "failure.json"}

    def published(self, partition_key: str) -> Published | None:
        data = self._json(_partition(partition_key, "published.json"))
        return Published.from_dict(data) if data is not None else None

    def published_record(self, partition_key: str) -> dict[str, Any]:
        """``published.json`` as stored (the 0.1 -> 0.2 migration reads records from before ``source_id``)."""
        return json.loads(self.objects.get(_partition(partition_key, "published.json")))

    def put_published(self, partition_key: str, published: Published, flagged: Iterable[FlaggedPage] | None) -> None:
        """Record a publish: the flagged pages first, so ``published.json`` never names flags without them
        (``None``: none recorded, as after a migration; ``review_tasks`` then asks for a new publish)."""
        if flagged is not None:
            self._put_jsonl(_partition(partition_key, "flagged_pages.jsonl"), (page.to_dict() for page in flagged))
        self._put_json(_partition(partition_key, "published.json"), published.to_dict())

    def flagged_pages(self, partition_key: str) -> list[FlaggedPage]:
        """The pages the last publish flagged; ``LookupError`` before a publish (by this version)."""
        key = _partition(partition_key, "flagged_pages.jsonl")
        if not self.objects.exists(key):
            raise LookupError(f"nothing published for partition {partition_key!r}: materialise validated_courses first")
        return [FlaggedPage.from_dict(data) for data in self._jsonl(key)]

    def published_partitions(self) -> list[str]:
        return sorted(partition for partition, name in self._partition_files() if name == "published.json")

    def all_published(self) -> Iterator[Published]:
        for partition in self.published_partitions():
            if (published := self.published(partition)) is not None:
                yield published

    # documents/<document_id>/…

    def put_pages(self, document_id: str, records: Iterable[PageRecord]) -> int:
        return self._put_jsonl(_document(document_id, "pages.jsonl"), (record.to_dict() for record in records))

    def pages(self, document_id: str) -> Iterator[PageRecord]:
        """The page records in page order, streamed."""
        return map(PageRecord.from_dict, self._jsonl(_document(document_id, "pages.jsonl")))

    def page_image_key(self, document_id: str, page: int) -> str:
        return _document(document_id, f"pages/{page:05d}.png")

    def put_page_image(self, document_id: str, page: int, png: bytes) -> str:
        key = self.page_image_key(document_id, page)
        self.objects.put(key, png)
        return key

    def page_image(self, key: str) -> bytes:
        return self.objects.get(key)

    def exists(self, key: str) -> bool:
        return self.objects.exists(key)

    def put_page_results(self, document_id: str, results: Iterable[PageResult]) -> int:
        return self._put_jsonl(_document(document_id, "ocr.jsonl"), (result.to_dict() for result in results))

    def page_results(self, document_id: str) -> list[PageResult]:
        """The document's page results in page order (OCR'd pages are written after their batch)."""
        results = [PageResult.from_dict(data) for data in self._jsonl(_document(document_id, "ocr.jsonl"))]
        return sorted(results, key=lambda result: result.ref.page)

    def put_entries(self, document_id: str, entries: Iterable[CourseEntry]) -> int:
        return self._put_jsonl(_document(document_id, "entries.jsonl"), (entry.to_dict() for entry in entries))

    def entries(self, document_id: str) -> list[CourseEntry]:
        return [CourseEntry.from_dict(data) for data in self._jsonl(_document(document_id, "entries.jsonl"))]

    def put_page_doubts(self, document_id: str, doubts: dict[int, list[str]]) -> None:
        self._put_json(_document(document_id, "page_doubts.json"), {str(p): reasons for p, reasons in doubts.items()})

    def page_doubts(self, document_id: str) -> dict[int, list[str]]:
        """Page -> why its course-like text was not covered by entries (empty before a parse)."""
        data = self._json(_document(document_id, "page_doubts.json")) or {}
        return {int(page): reasons for page, reasons in data.items()}

    def put_correction(self, correction: Correction) -> str:
        """Write (or overwrite) the page's correction; returns its key."""
        key = _document(correction.document_id, f"corrections/{correction.page:05d}.json")
        self.objects.put(key, json.dumps(correction.to_dict(), ensure_ascii=False).encode())
        return key

    def corrections(self, document_id: str) -> list[Correction]:
        """The document's corrections, one per corrected page."""
        found = self.objects.list(_document(document_id, "corrections/"))
        return [Correction.from_dict(json.loads(self.objects.get(o.key))) for o in found if o.key.endswith(".json")]

    # encoding

    def _json(self, key: str) -> dict[str, Any] | None:
        return json.loads(self.objects.get(key)) if self.objects.exists(key) else None

    def _put_json(self, key: str, record: dict[str, Any]) -> None:
        self.objects.put(key, json.dumps(record, ensure_ascii=False, indent=1).encode())

    def _jsonl(self, key: str) -> Iterator[dict[str, Any]]:
        for raw in self.objects.get(key).splitlines():
            if raw.strip():
                yield json.loads(raw)

    def _put_jsonl(self, key: str, records: Iterable[dict[str, Any]]) -> int:
        """Stream ``records`` to a temporary file, then publish it in one piece (memory stays flat with page
        count, readers never see half a file); returns the count."""
        count = 0
        with tempfile.TemporaryDirectory(prefix="ocr-pipeline-") as tmp:
            path = Path(tmp) / "records.jsonl"
            with path.open("w", encoding="utf-8") as handle:
                for record in records:
                    handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
                    handle.write("\n")
                    count += 1
            self.objects.put_file(key, path)
        return count

    def _partition_files(self) -> Iterator[tuple[str, str]]:
        """(partition key, file name) of every file under ``partitions/``."""
        for obj in self.objects.list("partitions/"):
            partition, _, name = obj.key.removeprefix("partitions/").rpartition("/")
            yield partition, name


def _partition(partition_key: str, name: str) -> str:
    return f"partitions/{partition_key}/{name}"


def _document(document_id: str, name: str) -> str:
    return f"documents/{document_id}/{name}"
