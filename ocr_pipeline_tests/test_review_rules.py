"""Review rules without a web server: consensus, escalation, flags, corrections, store concurrency."""

from __future__ import annotations

import re
import threading

import pytest

from ocr_pipeline.catalog.corrections import apply_corrections
from ocr_pipeline.catalog.flags import FlagRules, page_flags
from ocr_pipeline.models import Correction, DocumentInfo, Line, PageRef, PageResult, PageStatus, PageText
from ocr_pipeline.review.consensus import consensus
from ocr_pipeline.review.dynamo_store import DynamoReviewStore
from ocr_pipeline.review.model import Answer, ReviewTask, TaskStatus, task_id_for
from ocr_pipeline.review.sqlite_store import SqliteReviewStore
from ocr_pipeline.review.store import ConflictError, refresh
from ocr_pipeline.review.workflow import ReviewError, submit

ENTRY = {
    "course_code": "CS 101",
    "title": "Intro",
    "credits_min": 3.0,
    "credits_max": 3.0,
    "description": None,
    "prerequisites": None,
}


def answer(reviewer: str, title: str = "Intro", tier: int = 1, **changes) -> Answer:
    return Answer.build(reviewer, [{**ENTRY, "title": title, **changes}], False, tier)


def task(required: int = 1) -> ReviewTask:
    return ReviewTask(task_id_for("doc", 2), "doc", "U/c.pdf", 2, None, (ENTRY,), ("CS 101: missing title",), required)


def test_one_answer_is_accepted_by_default():
    done = submit(task(), answer("alice", "Introduction"))
    assert done.status is TaskStatus.ACCEPTED and done.version == 2
    assert done.result.entries[0]["title"] == "Introduction" and done.result.reviewer == "alice"


def test_five_answers_with_sixty_percent_agreement_per_field_are_accepted():
    current = task(required=5)
    for name, title in [("a", "Intro"), ("b", "Intro"), ("c", "Intro"), ("d", "Intr0"), ("e", "Intro")]:
        current = submit(current, answer(name, title))
    assert current.status is TaskStatus.ACCEPTED
    assert current.result.entries[0]["title"] == "Intro" and current.result.reviewer == "a,b,c,d,e"


def test_disagreement_escalates_and_only_a_tier_two_answer_settles_it():
    current = task(required=5)
    for name, title in [("a", "Intro"), ("b", "Intro"), ("c", "Basics"), ("d", "Basics"), ("e", "Other")]:
        current = submit(current, answer(name, title))
    assert current.status is TaskStatus.ESCALATED
    assert "reviewers disagree on CS 101 title" in current.reasons
    with pytest.raises(ReviewError) as refused:
        submit(current, answer("f", "Intro"))
    assert refused.value.forbidden
    final = submit(current, answer("boss", "Introduction", tier=2))
    assert final.status is TaskStatus.ACCEPTED and final.result.reviewer == "boss"
    with pytest.raises(ReviewError):
        submit(final, answer("g"))


def test_consensus_needs_agreement_on_which_courses_the_page_lists():
    two = Answer.build("b", [ENTRY, {**ENTRY, "course_code": "CS 102"}], False)
    assert consensus([answer("a"), two], 0.6).disagreements == ("course codes",)
    assert consensus([answer("a"), answer("b", credits_min="3")]).answer.entries[0]["credits_min"] == 3.0


def test_a_reviewer_answers_a_task_once():
    with pytest.raises(ReviewError):
        submit(submit(task(required=2), answer("a")), answer("a"))


def page(
    number: int, text: str, method: str = "ocr:rapidocr", confidence: float = 0.95, status: PageStatus = PageStatus.OK
) -> PageResult:
    lines = tuple(Line(t, (0, 0, 1, 1)) for t in text.splitlines())
    return PageResult(
        PageRef("doc", number, 100, 100, 144),
        method,
        PageText(
            method.removeprefix("ocr:"),
            lines,
            confidence=confidence,
            status=status,
            reasons=("blurry",) if status is not PageStatus.OK else (),
        ),
    )


def test_flags_carry_reasons_for_every_rule():
    pages = [
        page(1, "CS 101 Intro"),
        page(2, "CS 201 Algebra\nCS 202 Geometry"),
        page(3, "low", confidence=0.5),
        page(4, "the quick brown fox jumps"),
        page(5, "fine text", status=PageStatus.NEEDS_REVIEW),
        page(6, "all good here"),
    ]
    rows = [{"page": 1, "course_code": "CS 101", "needs_review": True, "reasons": ["credits 45 outside (0, 30]"]}]
    doubts = {2: ["course-like text: 2 lines start with a course code but 0 entries were parsed"]}
    flags = page_flags(pages, rows, {4: "a slow red cat sleeps", 6: "all good here"}, doubts, FlagRules())
    assert flags[1] == ["CS 101: credits 45 outside (0, 30]"]
    assert flags[2] == doubts[2]
    assert flags[3] == ["OCR confidence 0.50 below 0.80"]
    assert flags[4][0].startswith("text layer and OCR disagree")
    assert flags[5] == ["page needs_review: blurry"]
    assert 6 not in flags
    assert 1 not in page_flags(pages, rows, {}, {}, FlagRules(), corrected=[1])


def test_corrections_replace_the_page_rows_and_keep_provenance():
    info = DocumentInfo("U/c.pdf", "s3://b/U/c.pdf", "doc", "U", 1, None, "0" * 64, 2, True)
    rows = [
        {
            "page": 1,
            "course_code": "CS 101",
            "title": None,
            "needs_review": True,
            "box": [1.0, 2.0, 3.0, 4.0],
            "extraction_method": "text-layer",
            "reasons": ["missing title"],
        },
        {
            "page": 2,
            "course_code": "CS 101",
            "title": "Dup",
            "needs_review": True,
            "box": [],
            "reasons": ["dup"],
            "extraction_method": "text-layer",
        },
    ]
    fix = Correction("doc", 1, ({**ENTRY, "title": "Intro"},), "alice", "2026-01-01T00:00:00+00:00", "t", 2)
    fixed = apply_corrections(rows, [fix], info, {1: "text-layer"})
    first = fixed[0]
    assert (first["title"], first["needs_review"], first["corrected_by"]) == ("Intro", False, "alice")
    assert first["box"] == [1.0, 2.0, 3.0, 4.0]
    assert (first["subject"], first["number"], first["entry_id"]) == ("CS", "101", "CS 101#1")
    assert fixed[1]["entry_id"] == "CS 101#2"
    no_courses = Correction("doc", 1, (), "bob", "2026-01-01T00:00:00+00:00", "t", 3)
    assert [row["page"] for row in apply_corrections(rows, [no_courses], info, {})] == [2]


def race(store, first: ReviewTask) -> list[str]:
    """Two threads answer the same version at once; returns their outcomes."""
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def answer_as(name: str) -> None:
        barrier.wait()
        try:
            store.save(submit(first, answer(name)), first.version)
            outcomes.append("saved")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=answer_as, args=(name,)) for name in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def check_store(store) -> None:
    first = task()
    assert store.add(first) and not store.add(first)
    assert race(store, first) == ["conflict", "saved"]
    stored = store.get(first.task_id)
    assert stored.version == 2 and stored.status is TaskStatus.ACCEPTED and len(stored.answers) == 1
    assert [t.task_id for t in store.list([TaskStatus.ACCEPTED], updated_since=first.updated_at)] == [first.task_id]
    assert store.list() == []
    assert refresh(store, first) == "kept"


def test_sqlite_store_survives_reopening_and_lets_one_of_two_racing_answers_win(tmp_path):
    check_store(SqliteReviewStore(tmp_path / "review.db"))
    assert SqliteReviewStore(tmp_path / "review.db").get(task().task_id).status is TaskStatus.ACCEPTED


def test_dynamodb_store_uses_conditional_writes(moto_endpoint):
    store = DynamoReviewStore("review-tasks-rules", endpoint_url=moto_endpoint)
    store.ensure_table()
    check_store(store)


def test_document_text_in_preview_markdown_never_becomes_markup():
    from ocr_pipeline.stages.course_catalog_tables import preview_markdown

    table = preview_markdown(
        [{"page": 1, "title": "![x](http://evil.invalid/a.png) <img src=x> a|b"}], ("page", "title")
    )
    row = table.splitlines()[2]
    for markup in (r"!\[", r"\]\(", r"<img", r"\|b"):  # none of them left unescaped
        assert re.search(r"(?<!\\)" + markup, row) is None, markup
    assert row.count("|") - row.count("\\|") == 3  # the cell's own | is escaped, not a column


def test_a_page_listing_one_code_twice_keeps_both_entries():
    """A lecture and its lab under one code (issue 14 item 14): one answer or a consensus keeps both, in order."""
    entries = [
        {**ENTRY, "title": "Chemistry"},
        {**ENTRY, "title": "Chemistry Lab", "credits_min": 1.0, "credits_max": 1.0},
    ]
    single = submit(task(), Answer.build("alice", entries, False, 1))
    assert [e["title"] for e in single.result.entries] == ["Chemistry", "Chemistry Lab"]
    current = task(required=3)
    for name, lab in [("a", "Chemistry Lab"), ("b", "Chemistry Lab"), ("c", "Chem Lab")]:
        current = submit(current, Answer.build(name, [entries[0], {**entries[1], "title": lab}], False, 1))
    assert current.status is TaskStatus.ACCEPTED
    assert [(e["title"], e["credits_max"]) for e in current.result.entries] == [
        ("Chemistry", 3.0),
        ("Chemistry Lab", 1.0),
    ]
    split = task(required=2)
    for name, lab in [("a", "Chemistry Lab"), ("b", "Chem Lab")]:
        split = submit(split, Answer.build(name, [entries[0], {**entries[1], "title": lab}], False, 1))
    assert split.status is not TaskStatus.ACCEPTED
    assert consensus(split.answers).disagreements == ("CS 101 (2) title",)
