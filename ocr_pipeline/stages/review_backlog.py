"""Pages flagged for review across every published ``pages.parquet``."""

from __future__ import annotations

import io
from typing import Any

import pyarrow.parquet as pq

from ocr_pipeline.storage.objects import ObjectStore


def flagged_pages(output: ObjectStore) -> list[dict[str, Any]]:
    """``{document_id, page, reasons}`` for each page marked ``needs_review``, in document/page order."""
    flagged = []
    for obj in output.list("pages/"):
        if not obj.key.endswith(".parquet"):
            continue
        table = pq.read_table(
            io.BytesIO(output.get(obj.key)), columns=["document_id", "page", "needs_review", "reasons"]
        )
        for row in table.to_pylist():
            if row["needs_review"]:
                flagged.append({"document_id": row["document_id"], "page": row["page"], "reasons": row["reasons"]})
    return sorted(flagged, key=lambda row: (row["document_id"], row["page"]))
