"""Where each stage keeps its output in the work store, and JSON Lines helpers."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ocr_pipeline.storage.objects import ObjectStore


def document_info_key(partition_key: str) -> str:
    return f"partitions/{partition_key}/document.json"


def quarantine_key(partition_key: str) -> str:
    return f"partitions/{partition_key}/quarantine.json"


def failure_key(partition_key: str) -> str:
    """The failure ledger entry of a document that failed inside a multi-document run."""
    return f"partitions/{partition_key}/failure.json"


def published_key(partition_key: str) -> str:
    return f"partitions/{partition_key}/published.json"


def pages_key(document_id: str) -> str:
    return f"documents/{document_id}/pages.jsonl"


def page_image_key(document_id: str, page: int) -> str:
    return f"documents/{document_id}/pages/{page:05d}.png"


def ocr_key(document_id: str) -> str:
    return f"documents/{document_id}/ocr.jsonl"


def entries_key(document_id: str) -> str:
    return f"documents/{document_id}/entries.jsonl"


def page_doubts_key(document_id: str) -> str:
    """Pages whose course-like text the parsed entries do not cover, with reasons."""
    return f"documents/{document_id}/page_doubts.json"


def corrections_prefix(document_id: str) -> str:
    """Reviewers' corrections of a document, one JSON file per page (``ocr_pipeline.stages.corrections``)."""
    return f"documents/{document_id}/corrections/"


def correction_key(document_id: str, page: int) -> str:
    return f"{corrections_prefix(document_id)}{page:05d}.json"


def write_json(store: ObjectStore, key: str, record: dict[str, Any]) -> None:
    store.put(key, json.dumps(record, ensure_ascii=False, indent=1).encode())


def read_json(store: ObjectStore, key: str) -> dict[str, Any]:
    return json.loads(store.get(key))


def write_jsonl(store: ObjectStore, key: str, records: Iterable[dict[str, Any]]) -> int:
    """Stream ``records`` to a temporary file, then publish it in one piece; returns the count."""
    count = 0
    with tempfile.TemporaryDirectory(prefix="ocr-pipeline-") as tmp:
        path = Path(tmp) / "records.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
                handle.write("\n")
                count += 1
        store.put_file(key, path)
    return count


def read_jsonl(store: ObjectStore, key: str) -> Iterator[dict[str, Any]]:
    for raw in store.get(key).splitlines():
        if raw.strip():
            yield json.loads(raw)
