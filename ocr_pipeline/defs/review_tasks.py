"""Human review: ``review_tasks`` (a task per flagged page), and the sensor that applies accepted answers.

``review_tasks`` runs after ``validated_courses``; ``review_answers_sensor`` writes each accepted
answer as a correction to the work store and requests an ``apply_review_corrections`` run
(``validated_courses``, then ``review_tasks``) for the document, once per task version. The review
store is the ``review_store`` resource (``ReviewStoreResource``, ``defs/resources.py``).
"""

import dagster as dg

from ocr_pipeline.defs.documents import document_info, materialize_partitions, source_bytes
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.defs.resources import ReviewStoreResource, StorageResource
from ocr_pipeline.review.answer_cursor import AnswerCursor, advance, answer_key, read_window
from ocr_pipeline.review.model import TaskStatus
from ocr_pipeline.stages.corrections import correction_from_task
from ocr_pipeline.stages.review_tasks import create_review_tasks

ANSWERS_PAGE = 500
"""Accepted tasks read per store query by the sensor (it follows pages until the window is read)."""


class ReviewConfig(dg.Config):
    required_answers: int = 1
    """Independent answers each task needs (production: 5, with 60% agreement per field)."""


@dg.asset(
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=["validated_courses"],
    partitions_def=catalog_documents,
    group_name="review",
    kinds={"python"},
    description="A review task per page validated_courses flagged (pages.parquet needs_review, with its reasons), "
    "with the page image and the extracted entries.",
)
def review_tasks(
    context: dg.AssetExecutionContext, config: ReviewConfig, storage: StorageResource, review_store: ReviewStoreResource
) -> dg.MaterializeResult:
    def one(partition_key: str) -> dg.MaterializeResult:
        info = document_info(storage, partition_key)
        summary = create_review_tasks(
            info,
            storage.work(),
            review_store.open(),
            lambda: source_bytes(storage, info),
            config.required_answers,
        )
        return dg.MaterializeResult(
            metadata={
                "flagged_pages": sorted(summary.flags),
                "reasons": dg.MetadataValue.json({str(page): reasons for page, reasons in summary.flags.items()}),
                "tasks": dg.MetadataValue.json(summary.outcomes),
            }
        )

    return materialize_partitions(context, storage, one)


apply_review_corrections = dg.define_asset_job(
    "apply_review_corrections",
    selection=dg.AssetSelection.assets("validated_courses", "review_tasks"),
    description="Re-publishes one document's validated_courses with reviewers' corrections applied, then refreshes "
    "its review_tasks (so neither shows as unsynced after a correction).",
)


@dg.sensor(
    job=apply_review_corrections,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Turns accepted review answers into corrections and re-publishes the affected documents.",
)
def review_answers_sensor(
    context: dg.SensorEvaluationContext, storage: StorageResource, review_store: ReviewStoreResource
) -> dg.SensorResult:
    store = review_store.open()
    cursor = AnswerCursor.parse(context.cursor)
    listed = read_window(
        lambda since: store.list([TaskStatus.ACCEPTED], updated_since=since, limit=ANSWERS_PAGE),
        cursor.since(),
        ANSWERS_PAGE,
    )
    accepted, cursor = advance(cursor, listed)
    work = storage.work()
    for task in accepted:
        work.put_correction(correction_from_task(task))
    if accepted:
        context.log.info(f"{len(accepted)} new accepted answers")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=answer_key(task),
                partition_key=task.partition_key,
                tags={"ocr_pipeline/review_task": task.task_id},
            )
            for task in accepted
        ],
        cursor=cursor.serialise(),
        skip_reason=None if accepted else "no new accepted answers",
    )
