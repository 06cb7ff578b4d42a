"""The review state machine and consensus rules, pinned down field by field (mutation testing, issue 17)."""

from __future__ import annotations

import pytest

from ocr_pipeline.review.consensus import consensus
from ocr_pipeline.review.model import Answer, TaskStatus
from ocr_pipeline.review.workflow import ReviewError, claim, submit
from ocr_pipeline_tests.test_review_rules import ENTRY, task

CS102 = {**ENTRY, "course_code": "CS 102", "title": "Data"}


def answer(reviewer: str, *entries: dict, tier: int = 1, at: str = "2026-01-01T00:00:00+00:00") -> Answer:
    return Answer(reviewer, tuple(entries), not entries, tier, at)


# --- consensus --------------------------------------------------------------------------------------


def test_consensus_needs_answers():
    with pytest.raises(ValueError, match="^consensus needs at least one answer$"):
        consensus([])


def test_consensus_keeps_the_first_answers_order_and_credits_everyone():
    answers = [answer("a", CS102, ENTRY, at="t1"), answer("b", ENTRY, CS102, tier=2, at="t2")]
    decision = consensus(answers)
    assert decision.disagreements == ()
    result = decision.answer
    assert [e["course_code"] for e in result.entries] == ["CS 102", "CS 101"]  # as the first answer lists them
    assert (result.reviewer, result.no_courses, result.tier, result.at) == ("a,b", False, 2, "t2")
    assert result.entries[0] == {
        "course_code": "CS 102",
        "title": "Data",
        "credits_min": 3.0,
        "credits_max": 3.0,
        "description": None,
        "prerequisites": None,
    }


def test_codes_the_first_answer_lacks_go_last_and_its_missing_fields_count_as_empty():
    answers = [answer("a", ENTRY), answer("b", CS102, ENTRY), answer("c", ENTRY, CS102)]
    decision = consensus(answers, 0.6)  # 2 of 3 list both codes
    assert [e["course_code"] for e in decision.answer.entries] == ["CS 101", "CS 102"]
    assert decision.answer.entries[1]["title"] == "Data"
    answers = [answer("a", CS102), answer("b", CS102, ENTRY), answer("c", ENTRY, CS102)]
    assert [e["course_code"] for e in consensus(answers, 0.6).answer.entries] == ["CS 102", "CS 101"]


def test_every_field_that_disagrees_is_named():
    answers = [answer("a", ENTRY, CS102), answer("b", {**ENTRY, "title": "X", "credits_max": 4.0}, CS102)]
    assert consensus(answers, 0.6).disagreements == ("CS 101 title", "CS 101 credits_max")
    assert consensus(answers, 0.5).answer is not None  # 1 of 2 is enough at 50%


def test_all_agreeing_that_a_page_has_no_courses_is_an_accepted_empty_answer():
    decision = consensus([answer("a"), answer("b")])
    assert decision.answer.entries == () and decision.answer.no_courses is True


# --- workflow ---------------------------------------------------------------------------------------


def test_claim_marks_the_task_and_keeps_an_escalation():
    claimed = claim(task(), "alice")
    assert (claimed.status, claimed.claimed_by, claimed.version) == (TaskStatus.CLAIMED, "alice", 2)
    escalated = claim(task().next_version(status=TaskStatus.ESCALATED), "boss")
    assert (escalated.status, escalated.claimed_by) == (TaskStatus.ESCALATED, "boss")
    done = submit(task(), answer("a", ENTRY))
    with pytest.raises(ReviewError, match=r"^task doc-p00002 is already accepted$") as refused:
        claim(done, "bob")
    assert refused.value.forbidden is False  # a state conflict (400), not a permission (403)


def test_answers_short_of_the_required_count_wait_unclaimed():
    waiting = submit(claim(task(required=2), "alice"), answer("alice", ENTRY))
    assert (waiting.status, waiting.claimed_by, len(waiting.answers), waiting.result) == (
        TaskStatus.ANSWERED,
        None,
        1,
        None,
    )
    with pytest.raises(ReviewError, match=r"^alice has already answered this task$") as twice:
        submit(waiting, answer("alice", ENTRY))
    assert twice.value.forbidden is True
    done = submit(claim(waiting, "bob"), answer("bob", ENTRY))
    assert (done.status, done.claimed_by, done.result.reviewer) == (TaskStatus.ACCEPTED, None, "alice,bob")
    with pytest.raises(ReviewError, match=r"^task doc-p00002 is already accepted$") as final:
        submit(done, answer("carol", ENTRY))
    assert final.value.forbidden is False
    corrected = submit(done, Answer.build("boss", [{**ENTRY, "title": "Fixed"}], False, tier=2))
    assert (corrected.status, corrected.result.reviewer, corrected.result.entries[0]["title"], corrected.version) == (
        TaskStatus.ACCEPTED,
        "boss",
        "Fixed",
        done.version + 1,
    )


def test_submit_passes_its_agreement_on_and_escalation_names_every_disagreement():
    first = submit(task(required=2), answer("a", ENTRY, CS102))
    second = answer("b", {**ENTRY, "title": "X"}, {**CS102, "title": "Y"})
    assert submit(first, second, agreement=0.5).status is TaskStatus.ACCEPTED
    escalated = submit(claim(first, "b"), second)
    assert (escalated.status, escalated.claimed_by) == (TaskStatus.ESCALATED, None)
    assert escalated.reasons == ("CS 101: missing title", "reviewers disagree on CS 101 title, CS 102 title")
    with pytest.raises(ReviewError, match=r"^this task was escalated: only a tier-2 reviewer can answer it$") as tier1:
        submit(escalated, answer("c", ENTRY))
    assert tier1.value.forbidden is True
    final = submit(claim(escalated, "boss"), answer("boss", ENTRY, tier=2))
    assert (final.status, final.claimed_by, final.result.reviewer, len(final.answers)) == (
        TaskStatus.ACCEPTED,
        None,
        "boss",
        3,
    )
