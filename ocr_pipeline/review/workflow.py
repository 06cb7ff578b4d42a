"""How a task moves: claim, answer, accept or escalate (pure; the store checks versions)."""

from __future__ import annotations

from ocr_pipeline.review.consensus import consensus
from ocr_pipeline.review.model import Answer, ReviewTask, TaskStatus

FINAL = (TaskStatus.ACCEPTED,)
TIER_2 = 2


class ReviewError(ValueError):
    """An action the task's state does not allow (the web API answers 400/403)."""

    def __init__(self, message: str, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden


def claim(task: ReviewTask, reviewer: str) -> ReviewTask:
    """Mark the task as being worked on by ``reviewer`` (a hint for others, not a lock)."""
    if task.status in FINAL:
        raise ReviewError(f"task {task.task_id} is already {task.status.value}")
    status = task.status if task.status is TaskStatus.ESCALATED else TaskStatus.CLAIMED
    return task.next_version(status=status, claimed_by=reviewer)


def submit(task: ReviewTask, answer: Answer, agreement: float = 0.6) -> ReviewTask:
    """Record ``answer``: accepted on consensus of the required answers, escalated on disagreement.

    An escalated task takes only a tier-2 answer, and that answer is final. An accepted task is
    reopened only by a tier-2 reviewer, whose answer replaces the accepted one (a mistake made in
    review is not permanent); the corrections sensor then re-publishes the document.
    """
    if task.status in FINAL:
        if answer.tier < TIER_2:
            raise ReviewError(f"task {task.task_id} is already {task.status.value}")
        return task.next_version(answers=(*task.answers, answer), result=answer, claimed_by=None)
    if task.status is TaskStatus.ESCALATED:
        if answer.tier < TIER_2:
            raise ReviewError("this task was escalated: only a tier-2 reviewer can answer it", forbidden=True)
        return task.next_version(
            status=TaskStatus.ACCEPTED, answers=(*task.answers, answer), result=answer, claimed_by=None
        )
    if any(previous.reviewer == answer.reviewer for previous in task.answers):
        raise ReviewError(f"{answer.reviewer} has already answered this task", forbidden=True)
    answers = (*task.answers, answer)
    if len(answers) < task.required_answers:
        return task.next_version(status=TaskStatus.ANSWERED, answers=answers, claimed_by=None)
    decision = consensus(answers, agreement)
    if decision.answer is None:
        return task.next_version(
            status=TaskStatus.ESCALATED,
            answers=answers,
            claimed_by=None,
            reasons=(*task.reasons, "reviewers disagree on " + ", ".join(decision.disagreements)),
        )
    return task.next_version(status=TaskStatus.ACCEPTED, answers=answers, result=decision.answer, claimed_by=None)
