"""An accepted review task becomes a :class:`Correction` of its page; the review answers sensor keeps it in the
work store (``WorkStore.put_correction``) and ``validated_courses`` applies it (``ocr_pipeline.catalog.corrections``)."""

from __future__ import annotations

from ocr_pipeline.models import Correction
from ocr_pipeline.review.model import ReviewTask


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
