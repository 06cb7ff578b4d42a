"""A2I backend: request building, parsing hand-written outputs (see fixtures/a2i/README.md), the loop cycle
against a stubbed A2I runtime client and the moto S3 server."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from botocore.stub import ANY, Stubber

from ocr_pipeline.review.a2i import (
    A2IHumanLoops,
    A2IResultError,
    human_loop_input,
    human_loop_name,
    parse_output,
    record_answers,
    start_request,
)
from ocr_pipeline.review.model import ReviewTask, TaskStatus, task_id_for
from ocr_pipeline.review.sqlite_store import SqliteReviewStore
from ocr_pipeline.review.workflow import ReviewError

FIXTURES = Path(__file__).parent / "fixtures" / "a2i"
FLOW = "arn:aws:sagemaker:us-east-1:111122223333:flow-definition/course-review"
LOOP = "doc-p00002-36a1b6616c-v1"
MACHINE = {
    "course_code": "CS 101",
    "title": None,
    "credits_min": 3.0,
    "credits_max": 3.0,
    "description": None,
    "prerequisites": None,
    "box": [10.0, 20.0, 300.0, 40.0],
}
NAME_PATTERN = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")  # botocore's HumanLoopName pattern


def task(required: int = 1, task_id: str | None = None, **changes) -> ReviewTask:
    return ReviewTask(
        task_id or task_id_for("doc", 2),
        "doc",
        "U/c.pdf",
        2,
        "s3://review-bucket/work/documents/doc/pages/00002.png",
        (MACHINE,),
        ("CS 101: missing title",),
        required,
        **changes,
    )


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_loop_names_follow_a2i_rules_and_are_stable_per_task_version():
    assert human_loop_name(task()) == LOOP == human_loop_name(task())
    assert human_loop_name(task().next_version()) == "doc-p00002-36a1b6616c-v2"
    long = task(task_id="Big_University/2025 Catalog (FINAL).PDF-" + "x" * 80 + "-p00007", version=123)
    name = human_loop_name(long)
    assert len(name) <= 63 and NAME_PATTERN.match(name) and name.startswith("big-university-2025-catalog-final-pdf-")
    assert name.endswith("-v123") and human_loop_name(task(task_id=long.task_id[:-1] + "8")) != name
    assert NAME_PATTERN.match(human_loop_name(task(task_id="---")))


def test_start_request_carries_the_task_as_input_content():
    request = start_request(task(), FLOW)
    assert request["HumanLoopName"] == LOOP and request["FlowDefinitionArn"] == FLOW
    assert request["DataAttributes"] == {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]}
    content = json.loads(request["HumanLoopInput"]["InputContent"])
    assert content == fixture("one_answer.json")["inputContent"] == human_loop_input(task())
    with pytest.raises(ValueError, match="s3:// page image"):
        start_request(replace(task(), image_uri=None), FLOW)


def test_one_answer_is_accepted():
    answers = parse_output(fixture("one_answer.json"), LOOP)
    assert [(a.reviewer, a.at, a.tier) for a in answers] == [("a2i:w-alice", "2026-01-05T10:01:30.000Z", 1)]
    done = record_answers(task(), answers)
    assert done.status is TaskStatus.ACCEPTED and done.result.entries[0]["title"] == "Introduction"


def test_three_agreeing_answers_are_accepted_in_submission_order():
    answers = parse_output(fixture("three_agree.json"), LOOP)
    assert [a.reviewer for a in answers] == ["a2i:w-alice", "a2i:w-bob", "a2i:w-carol"]
    assert answers[1].entries[0]["credits_min"] == 3.0 and not answers[1].no_courses
    done = record_answers(task(required=3), answers)
    assert done.status is TaskStatus.ACCEPTED and done.result.entries[0]["title"] == "Intro"
    assert done.result.reviewer == "a2i:w-alice,a2i:w-bob,a2i:w-carol"
    assert "box" not in done.result.entries[0]


def test_three_disagreeing_answers_escalate():
    done = record_answers(task(required=3), parse_output(fixture("three_disagree.json"), LOOP))
    assert done.status is TaskStatus.ESCALATED and len(done.answers) == 3 and done.result is None
    assert "reviewers disagree on CS 101 title" in done.reasons


def test_malformed_output_is_a_clear_error():
    with pytest.raises(A2IResultError, match="answer by 'w-bob' is malformed"):
        parse_output(fixture("malformed_answer.json"), LOOP)
    good = fixture("one_answer.json")
    with pytest.raises(A2IResultError, match="expected 'doc-p00002-36a1b6616c-v2'"):
        parse_output(good, "doc-p00002-36a1b6616c-v2")
    with pytest.raises(A2IResultError, match="no humanAnswers"):
        parse_output({**good, "humanAnswers": []}, LOOP)
    no_code = {**good["humanAnswers"][0], "answerContent": {"entries": [{"title": "Intro"}]}}
    with pytest.raises(A2IResultError, match="needs a course code"):
        parse_output({**good, "humanAnswers": [no_code]}, LOOP)
    checkbox = {**good["humanAnswers"][0], "answerContent": {"entries": "[]", "no_courses": "yes"}}
    with pytest.raises(A2IResultError, match="no_courses must be a boolean"):
        parse_output({**good, "humanAnswers": [checkbox]}, LOOP)


def described(name: str, status: str, output_uri: str | None = None) -> dict:
    response = {
        "CreationTime": datetime(2026, 1, 5, tzinfo=UTC),
        "HumanLoopStatus": status,
        "HumanLoopName": name,
        "HumanLoopArn": f"arn:aws:sagemaker:us-east-1:111122223333:human-loop/{name}",
        "FlowDefinitionArn": FLOW,
    }
    return {**response, "HumanLoopOutput": {"OutputS3Uri": output_uri}} if output_uri else response


def expected_start(name: str) -> dict:
    """``start_human_loop``'s parameters written out (not built with the product's own functions); the input
    content is JSON, compared parsed (see ``started``)."""
    return {
        "HumanLoopName": name,
        "FlowDefinitionArn": FLOW,
        "HumanLoopInput": {"InputContent": ANY},
        "DataAttributes": {"ContentClassifiers": ["FreeOfPersonallyIdentifiableInformation"]},
    }


def test_loop_cycle_against_a_stubbed_runtime_and_moto_s3(cloud, tmp_path):
    store = SqliteReviewStore(tmp_path / "review.db")
    client = boto3.client("sagemaker-a2i-runtime", region_name="us-east-1")
    loops = A2IHumanLoops(store, FLOW, client=client, endpoint_url=cloud.endpoint, region="us-east-1")
    key = f"a2i-output/course-review/2026/01/05/10/03/31/{LOOP}/output.json"
    cloud.s3.put_object(Bucket=cloud.bucket, Key=key, Body=(FIXTURES / "three_agree.json").read_bytes())
    first, retried = task(required=3), task(task_id=task_id_for("doc", 3))
    store.add(first), store.add(retried)
    started: list[dict] = []
    client.meta.events.register(
        "provide-client-params.sagemaker-a2i-runtime.StartHumanLoop",
        lambda params, **_: started.append(json.loads(params["HumanLoopInput"]["InputContent"])),
    )
    with Stubber(client) as stub:
        stub.add_response("start_human_loop", {"HumanLoopArn": "arn:loop"}, expected_start(LOOP))
        stub.add_client_error(
            "start_human_loop",
            "ConflictException",
            http_status_code=409,
            expected_params=expected_start("doc-p00003-5b494f4721-v1"),
        )
        stub.add_response("describe_human_loop", described(LOOP, "InProgress"), {"HumanLoopName": LOOP})
        stub.add_response(
            "describe_human_loop", described(LOOP, "Completed", f"s3://{cloud.bucket}/{key}"), {"HumanLoopName": LOOP}
        )
        stub.add_response(
            "describe_human_loop",
            described(human_loop_name(retried), "Failed"),
            {"HumanLoopName": human_loop_name(retried)},
        )
        claimed = loops.start(first)
        assert (claimed.status, claimed.claimed_by, claimed.version) == (TaskStatus.CLAIMED, f"a2i:{LOOP}", 2)
        assert loops.start(retried).claimed_by == "a2i:doc-p00003-5b494f4721-v1"  # already started: same loop
        content = fixture("three_agree.json")["inputContent"]
        assert started == [content, {**content, "taskId": "doc-p00003"}]
        assert loops.poll(claimed) == claimed
        done = loops.poll(claimed)
        assert store.get(first.task_id) == done and done.status is TaskStatus.ACCEPTED and done.version == 5
        assert done.result.reviewer == "a2i:w-alice,a2i:w-bob,a2i:w-carol" and done.claimed_by is None
        back = loops.poll(store.get(retried.task_id))
        assert (back.status, back.claimed_by, back.version) == (TaskStatus.OPEN, None, 3)
        assert human_loop_name(back) != human_loop_name(retried)
        stub.assert_no_pending_responses()
        with pytest.raises(ReviewError, match="tier-2 flow definition"):
            loops.start(task(status=TaskStatus.ESCALATED))
        assert loops.poll(back) == back  # not under a loop: no call
