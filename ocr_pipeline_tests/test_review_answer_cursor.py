"""``review_answers_sensor`` never misses an accepted answer that commits late, never handles one twice,
and stays quiet (no "Skipping 1 run" every tick) once everything is handled (issue 14 item 6, issue 15)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import dagster as dg

from ocr_pipeline.defs.resources import ReviewStoreResource, StorageResource
from ocr_pipeline.defs.review_tasks import review_answers_sensor
from ocr_pipeline.review.answer_cursor import LOOKBACK, AnswerCursor, advance, read_window
from ocr_pipeline.review.model import TaskStatus, task_id_for
from ocr_pipeline_tests.test_review_rules import answer, task

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def accepted(page: int, at: datetime, version: int = 2):
    return replace(
        task(),
        task_id=task_id_for("doc", page),
        page=page,
        status=TaskStatus.ACCEPTED,
        version=version,
        result=answer("alice"),
        updated_at=at.isoformat(timespec="microseconds"),
    )


def test_an_answer_stamped_before_but_committed_after_a_handled_one_is_still_picked_up():
    early, late = accepted(1, T0), accepted(2, T0 + timedelta(seconds=5))
    fresh, cursor = advance(AnswerCursor(), [late])  # ``early`` not committed yet when this tick read
    assert fresh == [late]
    assert cursor.since() == (T0 + timedelta(seconds=5) - LOOKBACK).isoformat(timespec="microseconds")
    assert early.updated_at >= cursor.since()  # the next read still reaches it (a plain cursor would start after late)
    fresh, cursor = advance(AnswerCursor.parse(cursor.serialise()), [early, late])
    assert fresh == [early]
    fresh, cursor = advance(cursor, [early, late])
    assert fresh == []  # handled once
    newer = accepted(2, T0 + timedelta(minutes=1), version=3)  # the same task accepted again: a new version
    assert advance(cursor, [early, late, newer])[0] == [newer]


def test_handled_keys_outside_the_window_are_dropped_and_old_cursors_still_read():
    fresh, cursor = advance(AnswerCursor(), [accepted(1, T0)])
    later = accepted(2, T0 + LOOKBACK + timedelta(seconds=1))
    _, cursor = advance(cursor, [later])
    assert list(cursor.handled) == [f"{later.task_id}@v2"]
    assert AnswerCursor.parse(T0.isoformat()) == AnswerCursor(T0.isoformat(), {})  # a 0.1 cursor: its timestamp
    assert AnswerCursor.parse(None) == AnswerCursor() and AnswerCursor().since() is None


def test_the_window_is_read_page_by_page():
    tasks = [accepted(page, T0 + timedelta(seconds=page)) for page in range(1, 8)]
    calls = []

    def list_since(since):
        calls.append(since)
        return [t for t in tasks if since is None or t.updated_at >= since][:3]

    assert read_window(list_since, None, 3) == tasks
    assert len(calls) == 4  # 3 + 3 (one repeated at the page boundary) + 3 + 1


def test_the_sensor_handles_a_late_commit_and_then_stays_quiet(tmp_path):
    review_store = ReviewStoreResource(uri=f"sqlite:///{tmp_path}/review.db")
    store = review_store.open()
    resources = {"storage": StorageResource(work_uri=str(tmp_path / "work")), "review_store": review_store}
    now = datetime.now(UTC)
    early, late = accepted(1, now - timedelta(seconds=5)), accepted(2, now)
    store.add(late)
    with dg.instance_for_test() as instance:
        first = review_answers_sensor(dg.build_sensor_context(instance=instance, resources=resources))
        assert [r.run_key for r in first.run_requests] == [f"{late.task_id}@v2"]
        store.add(early)  # stamped before ``late``, visible only now
        second = review_answers_sensor(
            dg.build_sensor_context(instance=instance, resources=resources, cursor=first.cursor)
        )
        assert [r.run_key for r in second.run_requests] == [f"{early.task_id}@v2"]
        third = review_answers_sensor(
            dg.build_sensor_context(instance=instance, resources=resources, cursor=second.cursor)
        )
        assert third.run_requests == [] and third.skip_reason.skip_message == "no new accepted answers"


def test_the_review_store_follows_aws_region(monkeypatch):
    """Outside us-east-1 the review store must look in the deployment's region (the task definitions set it)."""
    from ocr_pipeline.defs.resources import default_resources

    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert default_resources()["review_store"].aws_region == dg.EnvVar("AWS_REGION")
    monkeypatch.delenv("AWS_REGION")
    assert default_resources()["review_store"].aws_region == "us-east-1"


def test_a_correction_run_refreshes_review_tasks_too():
    """Issue 15 item 8: re-publishing validated_courses alone left review_tasks "Unsynced" after every correction."""
    from ocr_pipeline.definitions import defs

    job = defs().resolve_job_def("apply_review_corrections")
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == {
        "validated_courses",
        "review_tasks",
    }
