"""Code no test ran before issue 17: per-institution profiles, the validation rules, the ``truncated``
quarantine reason, ``ocr-pipeline review serve`` and the review-backlog check."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime

import dagster as dg
import httpx
import pytest
from reportlab.pdfgen import canvas

from ocr_pipeline.catalog.codes import CodeMatcher
from ocr_pipeline.catalog.credits import find_credits, trailing_number
from ocr_pipeline.catalog.parser import parse_pages
from ocr_pipeline.catalog.profile import CatalogProfile, load_profile, profile_for
from ocr_pipeline.catalog.validate import ValidationRules, validate_entries
from ocr_pipeline.defs.checks import review_backlog, review_checks_job
from ocr_pipeline.defs.resources import StorageResource
from ocr_pipeline.defs.schedules import daily_review_checks
from ocr_pipeline.defs.validated_courses import validated_courses
from ocr_pipeline.materialize import failure_message, materialize_document
from ocr_pipeline.models import CourseEntry, DocumentInfo, Line, PageRef, PageResult, PageStatus, PageText
from ocr_pipeline.pdf.document import DocumentError
from ocr_pipeline.review import cli as review_cli
from ocr_pipeline.review.model import ReviewTask, TaskStatus, task_id_for
from ocr_pipeline.review.sqlite_store import SqliteReviewStore
from ocr_pipeline.samples import generate_catalog
from ocr_pipeline.stages.raw_catalog_pdfs import inspect_document
from ocr_pipeline.storage.objects import ObjectInfo, S3ObjectStore
from ocr_pipeline.storage.parquet import PAGES_SCHEMA, hive_key, table_bytes
from ocr_pipeline_tests.support import free_port
from ocr_pipeline_tests.test_parser_rules import FILLER, _page
from ocr_pipeline_tests.test_pipeline import read_parquet

pytestmark = pytest.mark.slow

# --- catalog/profile.py -----------------------------------------------------------------------------

DOTTED = r"(?P<subject>[A-Z]{2})(?P<sep>\.)(?P<number>\d{4})"
DOTTED_PROFILE = f"""\
institution: Dotted College
code_pattern: '{DOTTED}'
prerequisite_labels: [Requires, Prerequisite]
"""


def test_load_profile_reads_yaml_lists_as_tuples_and_keeps_other_defaults(tmp_path):
    path = tmp_path / "dotted.yaml"
    path.write_text(DOTTED_PROFILE)
    profile = load_profile(path)
    assert profile.institution == "Dotted College" and profile.code_pattern == DOTTED
    assert profile.prerequisite_labels == ("Requires", "Prerequisite")
    assert profile.credit_labels == CatalogProfile().credit_labels  # not in the file: the default
    assert profile.prerequisite_pattern.match("requires: EC.1234").group() == "requires: "
    assert profile.inline_prerequisite_pattern.search("weekly essays. Requires: EC.1234").group() == "Requires: "
    assert profile.inline_prerequisite_pattern.search("it requires EC.1234") is None  # inline needs the colon
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    assert load_profile(empty) == CatalogProfile()


def test_unknown_profile_keys_and_bad_patterns_are_errors(tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text("institution: X\nprerequisite_lables: [Requires]\n")
    with pytest.raises(ValueError, match=r"unknown profile keys \['prerequisite_lables'\]") as error:
        load_profile(typo)
    assert str(typo) in str(error.value) and "prerequisite_labels" in str(error.value)  # the file, the right key
    bad = tmp_path / "bad.yaml"
    bad.write_text("code_pattern: '(?P<subject>[A-Z'\n")
    with pytest.raises(re.error):
        load_profile(bad)


def test_profile_for_matches_the_institution_case_insensitively(tmp_path):
    (tmp_path / "a-dotted.yaml").write_text(DOTTED_PROFILE)
    (tmp_path / "b-other.yml").write_text("institution: Other University\ncredit_labels: [Punkte]\n")
    (tmp_path / "notes.txt").write_text("institution: [not, a, profile")  # not *.yaml/*.yml: ignored
    assert profile_for("dotted college", tmp_path).code_pattern == DOTTED
    assert profile_for("OTHER UNIVERSITY", tmp_path).credit_labels == ("Punkte",)
    assert profile_for("Elsewhere", tmp_path) == CatalogProfile(institution="Elsewhere")
    assert profile_for(None, tmp_path) == CatalogProfile()
    assert profile_for("Dotted College", None) == CatalogProfile(institution="Dotted College")
    assert profile_for("Dotted College", tmp_path / "missing") == CatalogProfile(institution="Dotted College")
    storage = StorageResource(profiles_dir=str(tmp_path))
    assert storage.profile("Dotted College").prerequisite_labels == ("Requires", "Prerequisite")
    assert StorageResource().profile("Dotted College") == CatalogProfile(institution="Dotted College")


def test_a_profile_changes_what_the_parser_finds():
    rows = [
        ("EC.1234 Managerial Economics (3 credits)", 28),
        (FILLER + " essays.", 0),
        ("", None),
        ("EC.1240 Labour Economics (4 credits)", 24),
        (FILLER + " cases.", 0),
        ("Requires: EC.1234.", 0),
    ]
    assert parse_pages([_page(rows)]) == []  # the default code pattern knows no dotted codes
    profile = CatalogProfile(code_pattern=DOTTED, prerequisite_labels=("Requires",))
    entries = parse_pages([_page(rows)], profile)
    assert [(e.course_code, e.subject, e.number, e.title, e.credits_min) for e in entries] == [
        ("EC.1234", "EC", "1234", "Managerial Economics", 3.0),
        ("EC.1240", "EC", "1240", "Labour Economics", 4.0),
    ]
    assert [e.prerequisites for e in entries] == [None, "EC.1234."]


def dotted_catalog_pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    y = 720
    for code, title, credits in (("EC.1234", "Managerial Economics", 3), ("EC.1240", "Labour Economics", 4)):
        page.setFont("Helvetica-Bold", 11)
        page.drawString(72, y, f"{code} {title}")
        page.setFont("Helvetica", 11)
        page.drawString(72 + page.stringWidth(f"{code} {title} ", "Helvetica-Bold", 11), y, f"({credits} credits)")
        page.drawString(72, y - 16, "Markets, firms and the decisions of managers, with weekly case studies.")
        y -= 60
    page.save()
    return buffer.getvalue()


def test_profiles_dir_reaches_the_pipeline(cloud, instance, tmp_path):
    """``OCR_PIPELINE_PROFILES_DIR`` (``StorageResource.profiles_dir``): the institution's profile is used."""
    (tmp_path / "dotted.yaml").write_text(DOTTED_PROFILE)
    cloud.upload("Dotted College/catalog.pdf", dotted_catalog_pdf())
    without = materialize_document(instance, "Dotted College/catalog.pdf", cloud.resources())
    assert without.success, failure_message(without)
    assert read_parquet(cloud, "output/courses/").empty
    with_profile = materialize_document(
        instance, "Dotted College/catalog.pdf", cloud.resources(profiles_dir=str(tmp_path))
    )
    assert with_profile.success, failure_message(with_profile)
    courses = read_parquet(cloud, "output/courses/")
    assert list(courses["course_code"]) == ["EC.1234", "EC.1240"]
    assert list(courses["credits_min"]) == [3.0, 4.0]


# --- catalog/codes.py and credits.py: what a match carries --------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACCT-212 Cost Accounting", ("ACCT-212", "ACCT", "212", 8, "-")),
        ("CS 101 Intro", ("CS 101", "CS", "101", 6, " ")),
        ("SCI2039 Lab", ("SCI2039", "SCI", "2039", 7, "")),
        ("434L/834L. Advanced Topics", ("434L/834L", "", "434L/834L", 9, "")),  # number only, under a subject heading
    ],
)
def test_a_code_match_carries_its_parts_and_separator(text, expected):
    match = CodeMatcher().at_start(text)
    assert (match.code, match.subject, match.number, match.end, match.sep) == expected
    assert match.number_only is (expected[1] == "")


def test_a_profile_pattern_without_a_separator_group_and_codes_in_running_text():
    match = CodeMatcher(r"(?P<subject>[A-Z]{2})\.(?P<number>\d{4})").at_start("EC.1234 Econ")
    assert (match.code, match.sep) == ("EC.1234", " ")
    assert CodeMatcher().count_in("see CS 101 and MATH 2B, not cs101, x-CS 102 or aCS 103") == 2


def test_variable_credits_and_bare_credit_values_within_bounds():
    variable = find_credits("Variable credit.")
    assert (variable.low, variable.high, variable.start, variable.end, variable.variable) == (None, None, 0, 15, True)
    units = find_credits("Calculus (4 units) next")
    assert (units.low, units.start, units.end, units.variable) == (4.0, 10, 17, False)
    assert [(c.low, c.end) for c in map(trailing_number, ["Intro 0", "Intro 30", "Intro 0.5"])] == [
        (0.0, 7),
        (30.0, 8),
        (0.5, 9),
    ]
    assert trailing_number("Intro 31") is None and trailing_number("Intro 30.5") is None


# --- catalog/validate.py: the rules, through validate_entries ---------------------------------------

INFO = DocumentInfo("U/c.pdf", "s3://b/landing/U/c.pdf", "doc", "U", 1, None, "0" * 64, 2, True, {"Title": "Catalog"})
GOOD = CourseEntry("CS 101", "CS", "101", "Intro", 3.0, 3.0, "About.", None, 1, (1.0, 2.0, 3.0, 4.0), 0.95)


def reasons_for(*entries: CourseEntry, rules: ValidationRules = ValidationRules(), pages=()) -> list[list[str]]:
    rows = validate_entries(list(entries), INFO, list(pages), rules)
    for row in rows:
        assert row["needs_review"] is bool(row["reasons"])
    return [row["reasons"] for row in rows]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"title": None}, "missing title"),
        ({"title": ""}, "missing title"),
        ({"title": "T" * 201}, "title longer than 200 characters"),
        ({"course_code": "INTRO"}, "course code 'INTRO' has an unexpected shape"),
        ({"course_code": "CS " + "1" * 38}, f"course code 'CS {'1' * 38}' has an unexpected shape"),
        ({"credits_min": 45.0, "credits_max": 45.0}, "credits 45 outside [0, 30]"),
        ({"credits_min": -1.0}, "credits -1 outside [0, 30]"),
        ({"credits_max": 31.0}, "credits 31 outside [0, 30]"),
        ({"credits_min": 4.0, "credits_max": 3.0}, "credits_min above credits_max"),
        ({"confidence": 0.5}, "parse confidence 0.50 below 0.75"),
    ],
)
def test_each_validation_rule_flags_the_row_with_its_reason(changes, reason):
    """The reasons are what reviewers read (docs/review.md): each rule gives exactly one, worded so."""
    assert reasons_for(replace(GOOD, **changes)) == [[reason]]


def test_values_at_the_bounds_pass_validation():
    at_bounds = [
        replace(GOOD, title="T" * 200),
        replace(GOOD, course_code="CS " + "1" * 37),  # 40 characters
        replace(GOOD, course_code="CS 102", credits_min=0.0, credits_max=30.0),
        replace(GOOD, course_code="CS 103", confidence=0.75),
        replace(GOOD, course_code="CS 104", credits_min=None, credits_max=None),
        replace(GOOD, course_code="CS 105", credits_min=3.0, credits_max=3.0),
    ]
    assert reasons_for(*at_bounds[:1]) == [[]]
    assert reasons_for(*at_bounds[1:]) == [[]] * 5


def test_rules_are_configurable():
    strict = ValidationRules(
        min_credits=1.0, max_credits=6.0, min_confidence=0.99, max_title_length=5, max_code_length=6
    )
    [reasons] = reasons_for(replace(GOOD, title="Introduction", credits_max=8.0), rules=strict)
    assert [r.split(" ")[0] for r in reasons] == ["title", "credits", "parse"]
    assert reasons_for(replace(GOOD, course_code="CS 1010"), rules=strict)[0][0].startswith("course code")


def test_a_clean_entry_on_a_clean_page_becomes_exactly_this_row():
    ok_page = PageResult(
        PageRef("doc", 1, 100, 100, 144),
        "text-layer",
        PageText("text-layer", (Line("x", (0, 0, 1, 1)),), confidence=1.0),
    )
    [row] = validate_entries([GOOD], INFO, [ok_page], ValidationRules())
    assert row == {
        "document_id": "doc",
        "source_uri": "s3://b/landing/U/c.pdf",
        "source_id": hashlib.sha256(b"s3://b/landing/U/c.pdf").hexdigest()[:16],
        "institution": "U",
        "page": 1,
        "course_code": "CS 101",
        "subject": "CS",
        "number": "101",
        "title": "Intro",
        "credits_min": 3.0,
        "credits_max": 3.0,
        "description": "About.",
        "prerequisites": None,
        "confidence": 0.95,
        "needs_review": False,
        "extraction_method": "text-layer",
        "catalog": "Catalog",
        "entry_id": "CS 101#1",
        "reasons": [],
        "box": [1.0, 2.0, 3.0, 4.0],
    }
    blurry = PageResult(
        ok_page.ref,
        "ocr:rapidocr",
        PageText("rapidocr", (), confidence=0.9, status=PageStatus.FAILED, reasons=("blurry", "skewed")),
    )
    [row] = validate_entries([GOOD], INFO, [blurry], ValidationRules())
    assert row["needs_review"] is True and row["reasons"] == ["page 1 failed: blurry; skewed"]


def test_duplicate_codes_are_flagged_on_every_occurrence_with_distinct_entry_ids():
    rows = validate_entries(
        [GOOD, replace(GOOD, course_code="CS 102"), replace(GOOD, page=3)], INFO, [], ValidationRules()
    )
    assert [row["entry_id"] for row in rows] == ["CS 101#1", "CS 102#1", "CS 101#2"]
    assert [row["needs_review"] for row in rows] == [True, False, True]
    assert rows[0]["reasons"] == ["course code printed 2 times in this document"]
    assert rows[2]["reasons"] == ["duplicate course code (first on page 1)"]


def test_parser_doubts_and_page_status_are_reasons_and_rows_carry_the_contract():
    page = PageResult(
        PageRef("doc", 1, 100, 100, 144),
        "ocr:rapidocr",
        PageText(
            "rapidocr", (Line("x", (0, 0, 1, 1)),), confidence=0.9, status=PageStatus.NEEDS_REVIEW, reasons=("blurry",)
        ),
    )
    rows = validate_entries(
        [replace(GOOD, reasons=("title unsure", "title unsure"), confidence=1.7)], INFO, [page], ValidationRules()
    )
    [row] = rows
    assert row["reasons"] == ["title unsure", "page 1 needs_review: blurry"]
    assert row["needs_review"] is True and row["confidence"] == 1.0  # clamped into [0, 1]
    assert (row["catalog"], row["document_id"], row["institution"], row["box"]) == (
        "Catalog",
        "doc",
        "U",
        [1.0, 2.0, 3.0, 4.0],
    )
    untitled = replace(INFO, metadata={}, source_uri="s3://b/landing/U/Fall 2026.catalog.pdf")
    assert validate_entries([GOOD], untitled, [], ValidationRules())[0]["catalog"] == "Fall 2026.catalog"


# --- the ``truncated`` quarantine reason ------------------------------------------------------------


def test_inspect_document_refuses_fewer_bytes_than_the_object_has():
    pdf = generate_catalog("units_parenthetical", n_courses=2).pdf
    head = ObjectInfo("U/c.pdf", len(pdf) + 10, "etag", datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(DocumentError) as error:
        inspect_document(
            pdf, partition_key="U/c.pdf", source_uri="s3://b/U/c.pdf", head=head, institution="U", max_pages=10
        )
    assert error.value.reason == "truncated"
    assert error.value.message == f"read {len(pdf)} bytes but the object has {len(pdf) + 10}"


def test_an_object_cut_short_between_head_and_get_is_quarantined_as_truncated(cloud, instance, monkeypatch):
    key = "Cut U/catalog.pdf"
    pdf = generate_catalog("units_parenthetical", n_courses=3).pdf
    cloud.upload(key, pdf)
    real_head = S3ObjectStore.head

    def head_then_cut(store, object_key):  # a writer replaces the object with a partial copy right after HEAD
        info = real_head(store, object_key)
        if object_key == key and store.prefix == "landing/":
            cloud.upload(key, pdf[:1000])
        return info

    monkeypatch.setattr(S3ObjectStore, "head", head_then_cut)
    result = materialize_document(instance, key, cloud.resources())
    assert not result.success
    assert f"read 1000 bytes but the object has {len(pdf)} (quarantined: truncated)" in failure_message(result)
    failure = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_failure_data.user_failure_data.metadata["reason"].value == "truncated"
    body = cloud.s3.get_object(Bucket=cloud.bucket, Key=f"work/partitions/{key}/quarantine.json")["Body"].read()
    record = json.loads(body)
    assert (record["reason"], record["attempts"], record["partition_key"]) == ("truncated", 1, key)
    assert record["source_uri"] == f"s3://{cloud.bucket}/landing/{key}"
    assert cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix="work/partitions/").get("KeyCount") == 1
    assert cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix="output/").get("KeyCount") == 0


# --- review/cli.py: ``ocr-pipeline review serve`` -------------------------------------------------

ENTRY = {
    "course_code": "CS 101",
    "title": "Intro",
    "credits_min": 3.0,
    "credits_max": 3.0,
    "description": None,
    "prerequisites": None,
}


def test_review_serve_without_a_token_exits_2(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("OCR_PIPELINE_REVIEW_TOKEN", raising=False)
    assert review_cli.main(["serve", "--store", f"sqlite:///{tmp_path}/review.db"]) == 2
    assert "configure at least one review token" in capsys.readouterr().err
    short = tmp_path / "tokens.json"
    short.write_text(json.dumps({"short": {"name": "x"}}))
    assert review_cli.main(["serve", "--tokens-file", str(short)]) == 2


def test_review_serve_serves_the_store_with_the_configured_tokens_and_agreement(tmp_path):
    db = tmp_path / "review.db"
    store = SqliteReviewStore(db)
    pair = ReviewTask(task_id_for("doc", 1), "doc", "U/c.pdf", 1, None, (ENTRY,), ("CS 101: missing title",), 2)
    hard = ReviewTask(
        task_id_for("doc", 2), "doc", "U/c.pdf", 2, None, (ENTRY,), ("disagreement",), status=TaskStatus.ESCALATED
    )
    store.add(pair), store.add(hard)
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"token-alice-1": {"name": "alice"}, "token-bob-22": {"name": "bob", "tier": 1}}))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCR_PIPELINE_REVIEW")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ocr_pipeline.cli",
            "review",
            "serve",
            "--port",
            str(port),
            "--store",
            f"sqlite:///{db}",
            "--tokens-file",
            str(tokens),
            "--token",
            "token-boss-333",
            "--reviewer",
            "boss",
            "--agreement",
            "0.5",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = server.stdout.readline()
        assert banner.strip() == f"review queue on http://127.0.0.1:{port}/ (store sqlite:///{db})"
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                anonymous = httpx.get(f"{url}/api/tasks")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and server.poll() is None, "review serve did not start"
                time.sleep(0.1)
        assert anonymous.status_code == 401

        def post(token: str, task: ReviewTask, title: str, version: int) -> httpx.Response:
            return httpx.post(
                f"{url}/api/tasks/{task.task_id}/answers",
                headers={"Authorization": f"Bearer {token}"},
                json={"version": version, "entries": [{**ENTRY, "title": title}]},
            )

        listed = httpx.get(f"{url}/api/tasks", headers={"Authorization": "Bearer token-boss-333"}).json()
        assert sorted(t["task_id"] for t in listed) == sorted([pair.task_id, hard.task_id])
        assert post("token-alice-1", pair, "Introduction", 1).json()["status"] == "answered"
        # 1 of 2 (50%) agree: accepted under --agreement 0.5 (the default 0.6 would escalate)
        accepted = post("token-bob-22", pair, "Intro to CS", 2).json()
        assert (accepted["status"], accepted["result"]["entries"][0]["title"]) == ("accepted", "Introduction")
        assert post("token-alice-1", hard, "Basics", 1).status_code == 403  # tier 1 cannot settle an escalation
        settled = post("token-boss-333", hard, "Basics", 1).json()  # --token reviews as tier 2, named --reviewer
        assert (settled["status"], settled["result"]["reviewer"]) == ("accepted", "boss")
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()
    reopened = SqliteReviewStore(db)
    assert reopened.get(pair.task_id).status is TaskStatus.ACCEPTED and reopened.get(hard.task_id).version == 2


# --- the review backlog check (``review_checks`` job, ``daily_review_checks`` schedule) ------------


def publish_pages(cloud, document_id: str, institution: str | None, flags: dict[int, list[str]], pages: int) -> None:
    rows = [
        {
            "document_id": document_id,
            "page": page,
            "method": "text-layer",
            "engine": "text-layer",
            "confidence": 1.0,
            "needs_review": page in flags,
            "status": "ok",
            "reasons": flags.get(page, []),
        }
        for page in range(1, pages + 1)
    ]
    key = hive_key("pages", institution, document_id, "pages.parquet")
    cloud.s3.put_object(Bucket=cloud.bucket, Key=f"output/{key}", Body=table_bytes(rows, PAGES_SCHEMA))


def run_backlog_check(cloud, instance) -> dg.AssetCheckEvaluation:
    defs = dg.Definitions(
        assets=[validated_courses],
        asset_checks=[review_backlog],
        jobs=[review_checks_job],
        schedules=[daily_review_checks],
        resources=cloud.resources(),
    )
    assert defs.resolve_schedule_def("daily_review_checks").job_name == "review_checks"
    result = defs.resolve_job_def("review_checks").execute_in_process(instance=instance)
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "review_backlog" and evaluation.severity is dg.AssetCheckSeverity.WARN
    return evaluation


def test_review_backlog_check_lists_every_flagged_page_across_documents(cloud, instance):
    publish_pages(cloud, "bbbb", "U2", {3: ["OCR confidence 0.50 below 0.80"]}, 4)
    publish_pages(cloud, "aaaa", None, {2: ["CS 101: missing title"], 1: ["page needs_review: blurry"]}, 2)
    publish_pages(cloud, "cccc", "U1", {}, 3)
    cloud.s3.put_object(Bucket=cloud.bucket, Key="output/pages/_SUCCESS", Body=b"")
    evaluation = run_backlog_check(cloud, instance)
    assert evaluation.passed is False
    metadata = {name: value.value for name, value in evaluation.metadata.items()}
    assert (metadata["flagged_pages"], metadata["documents_with_flags"]) == (3, 2)
    assert metadata["pages"] == [
        {"document_id": "aaaa", "page": 1, "reasons": ["page needs_review: blurry"]},
        {"document_id": "aaaa", "page": 2, "reasons": ["CS 101: missing title"]},
        {"document_id": "bbbb", "page": 3, "reasons": ["OCR confidence 0.50 below 0.80"]},
    ]


def test_review_backlog_check_passes_when_nothing_is_flagged(cloud, instance):
    publish_pages(cloud, "cccc", "U1", {}, 3)
    evaluation = run_backlog_check(cloud, instance)
    assert evaluation.passed is True
    assert evaluation.metadata["flagged_pages"].value == 0 and evaluation.metadata["pages"].value == []
