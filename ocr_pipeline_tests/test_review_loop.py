"""The whole review loop through Dagster, S3 and DynamoDB on moto: flag, task, answer over HTTP,
sensor, re-publish, corrected rows, and the correction surviving a re-OCR."""

from __future__ import annotations

from functools import partial

import dagster as dg
import httpx
import pytest

from ocr_pipeline.defs.resources import ReviewStoreResource
from ocr_pipeline.defs.review_tasks import review_answers_sensor, review_tasks
from ocr_pipeline.defs.validated_courses import validated_courses
from ocr_pipeline.materialize import failure_message, materialize_document, run_config
from ocr_pipeline.review.auth import TokenAuth
from ocr_pipeline.review.images import read_image
from ocr_pipeline.review.web import create_app
from ocr_pipeline_tests.review_screenshots import TOKEN, TOKENS, hard_catalog_pdf, serving
from ocr_pipeline_tests.test_pipeline import read_parquet

pytestmark = pytest.mark.slow

KEY = "Example U/catalog.pdf"


def materialize(assets, instance, resources, config=None) -> None:
    result = dg.materialize(
        assets, partition_key=KEY, resources=resources, instance=instance, run_config=config or {}, raise_on_error=False
    )
    assert result.success, failure_message(result)


def test_an_accepted_answer_corrects_parquet_and_dynamodb_and_survives_re_ocr(cloud, instance, tmp_path):
    cloud.upload(KEY, hard_catalog_pdf())
    review_store = ReviewStoreResource(uri=f"sqlite:///{tmp_path}/review.db")
    resources = {**cloud.resources(), "review_store": review_store}
    assert materialize_document(instance, KEY, resources).success
    materialize([review_tasks], instance, resources)

    store = review_store.open()
    [task] = store.list()
    assert (task.page, task.status.value) == (2, "open")
    assert any("MATH 1A: credits 45 outside" in reason for reason in task.reasons)
    assert task.image_uri.startswith(f"s3://{cloud.bucket}/work/") and task.image_uri.endswith(".png")

    app = create_app(store, TokenAuth(TOKENS), read_image=partial(read_image, endpoint_url=cloud.endpoint))
    with serving(app) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        assert http.get(f"/api/tasks/{task.task_id}/image").content.startswith(b"\x89PNG")
        entries = [
            {
                **entry,
                "title": "Calculus I" if entry["course_code"] == "MATH 1A" else entry["title"],
                "credits_min": 4,
                "credits_max": 4,
            }
            for entry in http.get(f"/api/tasks/{task.task_id}").json()["entries"]
        ]
        answered = http.post(f"/api/tasks/{task.task_id}/answers", json={"version": task.version, "entries": entries})
        assert answered.json()["status"] == "accepted"

    sensor_resources = {"storage": resources["storage"], "review_store": review_store}
    result = review_answers_sensor(dg.build_sensor_context(instance=instance, resources=sensor_resources))
    [request] = result.run_requests
    assert (request.partition_key, request.run_key) == (KEY, f"{task.task_id}@v2")
    materialize([validated_courses], instance, resources)

    def check_corrected() -> None:
        courses = read_parquet(cloud, "output/courses/").set_index("course_code")
        fixed = courses.loc["MATH 1A"]
        assert (fixed.title, fixed.credits_max, fixed.needs_review, fixed.corrected_by) == (
            "Calculus I",
            4.0,
            False,
            "alice",
        )
        assert fixed.corrected_at and not courses["needs_review"].any()
        assert not read_parquet(cloud, "output/pages/")["needs_review"].any()
        item = {i["course_code"]: i for i in cloud.dynamo_items(fixed.source_id)}["MATH 1A"]
        assert (item["title"], item["credits_max"], item["needs_review"]) == ("Calculus I", 4, False)
        assert item["corrected_by"] == "alice" and item["corrected_at"] == fixed.corrected_at.isoformat()
        assert str(courses["corrected_at"].dtype) == "datetime64[us, UTC]"  # a timestamp analysts can compare

    check_corrected()
    rerun = materialize_document(instance, KEY, resources, run_config(ocr_policy="ocr"))
    assert rerun.success, failure_message(rerun)
    assert set(read_parquet(cloud, "output/pages/")["method"]) == {"ocr:rapidocr"}
    check_corrected()
    materialize([review_tasks], instance, resources)
    assert store.list() == [] and store.get(task.task_id).status.value == "accepted"
