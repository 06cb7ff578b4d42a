"""Amazon A2I as the source of answers: a human loop per task, its workers' answers recorded in the store.

The review store stays the system of record; A2I only replaces the web page for collecting answers.
Request building and result parsing are pure; :class:`A2IHumanLoops` makes the boto3 calls.
A task under an A2I loop is claimed by ``a2i:<human loop name>``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ocr_pipeline.review.model import Answer, ReviewTask, TaskStatus
from ocr_pipeline.review.store import ReviewStore
from ocr_pipeline.review.workflow import TIER_2, ReviewError, claim, submit
from ocr_pipeline.storage.objects import open_store

LOOP_PREFIX = "a2i:"
"""``claimed_by`` of a task under a human loop: this prefix and the loop's name."""
MAX_NAME = 63
CONTENT_CLASSIFIERS = ["FreeOfPersonallyIdentifiableInformation"]
PENDING = ("InProgress", "Stopping")
ENDED = ("Failed", "Stopped")


class A2IResultError(ValueError):
    """A human loop's output is not in the shape the worker template and AWS document."""


def human_loop_name(task: ReviewTask) -> str:
    """``<slug of the task id>-<hash of the task id>-v<version>``: A2I's ``[a-z0-9-]``, at most 63 characters.

    Stable for a task version (a retried start finds the same loop); a new version gets a new loop.
    """
    suffix = f"-{hashlib.sha256(task.task_id.encode()).hexdigest()[:10]}-v{task.version}"
    slug = re.sub(r"[^a-z0-9]+", "-", task.task_id.lower())[: MAX_NAME - len(suffix)].strip("-")
    return (slug + suffix).lstrip("-")


def human_loop_input(task: ReviewTask) -> dict[str, Any]:
    """The loop's ``InputContent``: what the worker template renders (``task.input.*``)."""
    if not task.image_uri or not task.image_uri.startswith("s3://"):
        raise ValueError(f"task {task.task_id} needs an s3:// page image for A2I, has {task.image_uri!r}")
    return {
        "taskId": task.task_id,
        "version": task.version,
        "documentId": task.document_id,
        "page": task.page,
        "imageUri": task.image_uri,
        "entries": list(task.entries),
        "reasons": list(task.reasons),
    }


def start_request(task: ReviewTask, flow_definition_arn: str) -> dict[str, Any]:
    """Keyword arguments for ``start_human_loop``."""
    return {
        "HumanLoopName": human_loop_name(task),
        "FlowDefinitionArn": flow_definition_arn,
        "HumanLoopInput": {"InputContent": json.dumps(human_loop_input(task), ensure_ascii=False)},
        "DataAttributes": {"ContentClassifiers": CONTENT_CLASSIFIERS},
    }


def _no_courses(value: Any) -> bool:
    """A boolean, or ``crowd-checkbox``'s ``{"on": bool}``; absent means unchecked."""
    if isinstance(value, dict):
        value = value.get("on", False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise A2IResultError(f"no_courses must be a boolean or {{'on': boolean}}, got {value!r}")
    return value


def parse_answer(human_answer: dict[str, Any], tier: int = 1) -> Answer:
    """One ``humanAnswers[i]`` as an :class:`Answer` by ``a2i:<workerId>`` at its ``submissionTime``.

    ``answerContent`` is ``{"entries": <JSON text or list of entries>, "no_courses": <bool or {"on": bool}>}``.
    """
    try:
        content = human_answer["answerContent"]
        worker, submitted = human_answer["workerId"], human_answer["submissionTime"]
        entries = content.get("entries", "[]")
        entries = json.loads(entries) if isinstance(entries, str) else entries
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            raise A2IResultError(f"entries must be a list of objects, got {entries!r}")
        return replace(
            Answer.build(f"{LOOP_PREFIX}{worker}", entries, _no_courses(content.get("no_courses")), tier), at=submitted
        )
    except A2IResultError as error:
        raise A2IResultError(f"answer by {human_answer.get('workerId')!r}: {error}") from error
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise A2IResultError(f"answer by {human_answer.get('workerId')!r} is malformed: {error!r}") from error


def parse_output(output: dict[str, Any], expected_loop: str, tier: int = 1) -> list[Answer]:
    """The answers of a completed loop's output JSON (in submission order); checks it is ``expected_loop``'s."""
    if output.get("humanLoopName") != expected_loop:
        raise A2IResultError(f"output is for loop {output.get('humanLoopName')!r}, expected {expected_loop!r}")
    answers = output.get("humanAnswers")
    if not isinstance(answers, list) or not answers:
        raise A2IResultError(f"loop {expected_loop} output has no humanAnswers")
    return sorted((parse_answer(answer, tier) for answer in answers), key=lambda answer: answer.at)


def record_answers(task: ReviewTask, answers: Sequence[Answer], agreement: float = 0.6) -> ReviewTask:
    """``answers`` submitted one by one, exactly as the web page would: accepted, escalated or still answered.

    Answers after the decision are dropped, as the web page would refuse them.
    """
    for answer in answers:
        if task.status is TaskStatus.ACCEPTED or (task.status is TaskStatus.ESCALATED and answer.tier < TIER_2):
            break
        task = submit(task, answer, agreement)
    return task


def released(task: ReviewTask) -> ReviewTask:
    """The task back in the queue after its loop failed or was stopped (a new version, so a new loop name)."""
    status = (
        task.status
        if task.status is TaskStatus.ESCALATED
        else (TaskStatus.ANSWERED if task.answers else TaskStatus.OPEN)
    )
    return task.next_version(status=status, claimed_by=None)


def loop_of(task: ReviewTask) -> str | None:
    """The human loop a task is under, if any."""
    claimed = task.claimed_by or ""
    return claimed[len(LOOP_PREFIX) :] if claimed.startswith(LOOP_PREFIX) else None


class A2IHumanLoops:
    """Starts loops for tasks and records completed loops' answers, saving each step to ``store``.

    ``tier`` is the tier of the flow definition's workers (2 for one that settles escalated tasks).
    """

    def __init__(
        self,
        store: ReviewStore,
        flow_definition_arn: str,
        *,
        tier: int = 1,
        agreement: float = 0.6,
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.store = store
        self.flow_definition_arn = flow_definition_arn
        self.tier = tier
        self.agreement = agreement
        self.client = client or boto3.client("sagemaker-a2i-runtime", region_name=region)
        self.endpoint_url = endpoint_url
        self.region = region

    def start(self, task: ReviewTask) -> ReviewTask:
        """Start (or find already started) the task version's loop and claim the task for it.

        Raises :class:`ReviewError` for accepted tasks and for escalated ones when ``tier`` < 2, and
        :class:`~ocr_pipeline.review.store.ConflictError` when the task changed meanwhile.
        """
        if task.status is TaskStatus.ESCALATED and self.tier < TIER_2:
            raise ReviewError(f"task {task.task_id} was escalated: it needs a tier-2 flow definition")
        request = start_request(task, self.flow_definition_arn)
        try:
            self.client.start_human_loop(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConflictException":
                raise
        return self.store.save(claim(task, LOOP_PREFIX + request["HumanLoopName"]), task.version)

    def poll(self, task: ReviewTask) -> ReviewTask:
        """Record a completed loop's answers, release a failed or stopped one; other tasks come back as they are."""
        name = loop_of(task)
        if name is None:
            return task
        loop = self.client.describe_human_loop(HumanLoopName=name)
        status = loop["HumanLoopStatus"]
        if status in PENDING:
            return task
        if status in ENDED:
            return self.store.save(released(task), task.version)
        if status != "Completed":
            raise A2IResultError(f"loop {name} has unknown status {status!r}")
        answers = parse_output(json.loads(self.read(loop["HumanLoopOutput"]["OutputS3Uri"])), name, self.tier)
        return self.store.save(record_answers(task, answers, self.agreement), task.version)

    def read(self, uri: str) -> bytes:
        """The bytes of the loop's output object."""
        parent, _, name = uri.rpartition("/")
        return open_store(parent, endpoint_url=self.endpoint_url, region=self.region).get(name)
