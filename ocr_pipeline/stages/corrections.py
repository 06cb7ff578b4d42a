"""Corrections in the work store: an accepted review task becomes a :class:`Correction`, kept per
document and page (``documents/<document_id>/corrections/<page>.json``); ``validated_courses``
loads them and applies them (``ocr_pipeline.catalog.corrections``)."""

from __future__ import annotations

import json
from dataclasses import asdict

from ocr_pipeline.catalog.corrections import Correction
from ocr_pipeline.review.model import ReviewTask
from ocr_pipeline.stages.work_keys import correction_key, corrections_prefix
from ocr_pipeline.storage.objects import ObjectStore


def correction_from_task(task: ReviewTask) -> Correction:
    """The accepted answer of ``task`` as a correction of its page."""
    if task.result is None:
        raise ValueError(f"task {task.task_id} has no accepted answer")
    return Correction(
        task.document_id,
        task.page,
        task.result.entries,
        task.result.reviewer,
        task.result.at,
        task.task_id,
        task.version,
    )


def save_correction(work: ObjectStore, correction: Correction) -> str:
    """Write (or overwrite) the page's correction; returns its key."""
    key = correction_key(correction.document_id, correction.page)
    work.put(key, json.dumps({**asdict(correction), "entries": list(correction.entries)}, ensure_ascii=False).encode())
    return key


def load_corrections(work: ObjectStore, document_id: str) -> list[Correction]:
    """The document's corrections, one per corrected page."""
    found = [
        json.loads(work.get(obj.key)) for obj in work.list(corrections_prefix(document_id)) if obj.key.endswith(".json")
    ]
    return [Correction(**{**data, "entries": tuple(data["entries"])}) for data in found]
