"""The real-catalog scoring of the accuracy benchmark (``--real``): score.py's definitions, on hand-made rows."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from ocr_pipeline.models import PageRef, PageText
from ocr_pipeline.ocr.base import PageImage
from ocr_pipeline_tests.benchmarks.accuracy import (
    CachingEngine,
    RealScore,
    confidence_bucket,
    load_truth,
    norm_code,
    norm_predicted,
    norm_text,
    real_files,
    real_mismatches,
    score_real,
)

REAL_CATALOGS = Path(__file__).resolve().parents[2] / "shared" / "real_catalogs"
MISSING_IS_NAN = norm_predicted(None) == "nan"
"""pandas 3 reads a null string from Parquet as NaN, so in score.py a missing prediction never matches."""


def entry(code: str, title: str = "Intro", credits: float | None = 3, page: int = 1, **extra) -> dict:
    return {
        "code": code,
        "page": page,
        "title": title,
        "credits_min": credits,
        "credits_max": credits,
        "prerequisites": None,
        **extra,
    }


def row(
    code: str,
    title: str = "Intro",
    credits: float | None = 3,
    page: int = 1,
    needs_review: bool = False,
    confidence: float = 1.0,
    **extra,
) -> dict:
    return {
        "course_code": code,
        "page": page,
        "title": title,
        "credits_min": credits,
        "credits_max": credits,
        "prerequisites": None,
        "needs_review": needs_review,
        "confidence": confidence,
        **extra,
    }


def test_normalisation_matches_score_py():
    assert norm_code("CS-101") == norm_code("CS 101") == norm_code("cs101") == "CS101"
    assert norm_code("CSCE 320/STAT 335") == "CSCE320STAT335"
    assert norm_text("  Intro  to\nC. ") == "intro to c"
    assert norm_text(None) == ""


def test_code_normalisation_matches_rows_to_truth():
    result = score_real([entry("CS 101")], [row("CS-101")])
    assert (result.truth, result.predicted, result.tp) == (1, 1, 1)
    assert result.f1 == pytest.approx(1.0)


def test_wrong_title_unflagged_counts_in_unflagged_err_but_flagged_does_not():
    truth = [entry("CS 101", "Intro"), entry("CS 102", "Data")]
    unflagged = score_real(truth, [row("CS 101", "Wrong"), row("CS 102", "Data")])
    assert (unflagged.title_ok, unflagged.unflagged, unflagged.unflagged_bad) == (1, 2, 1)
    assert unflagged.unflagged_err == pytest.approx(0.5)
    flagged = score_real(truth, [row("CS 101", "Wrong", needs_review=True), row("CS 102", "Data")])
    assert (flagged.title_ok, flagged.unflagged, flagged.unflagged_bad) == (1, 1, 0)
    assert flagged.flagged == pytest.approx(0.5)


def test_extra_rows_are_false_positives_and_unflagged_errors():
    result = score_real([entry("CS 101")], [row("CS 101"), row("CS 999", "Not a course")])
    assert (result.tp, result.predicted, result.unflagged_bad) == (1, 2, 1)
    assert result.precision == pytest.approx(0.5)
    assert result.recall == pytest.approx(1.0)


def test_struck_entries_count_neither_way():
    truth = [entry("CS 101"), entry("CS 999", struck=True)]
    result = score_real(truth, [row("CS 101"), row("CS-999", "Struck course")])
    assert (result.truth, result.predicted, result.tp, result.unflagged, result.unflagged_bad) == (1, 1, 1, 1, 0)
    assert not any("999" in line for line in real_mismatches(truth, [row("CS 101"), row("CS-999")]))


def test_first_predicted_row_of_a_code_is_scored():
    truth = [entry("CS 101", "Intro")]
    assert score_real(truth, [row("CS 101", "Intro"), row("CS101", "Wrong")]).title_ok == 1
    assert score_real(truth, [row("CS101", "Wrong"), row("CS 101", "Intro")]).title_ok == 0


def test_credits_only_scored_where_the_truth_has_credits():
    truth = [entry("A 1", credits=None), entry("A 2", credits=3), entry("A 3", credits=4)]
    rows = [row("A 1", credits=5), row("A 2", credits=float("nan")), row("A 3", credits=4.0)]
    result = score_real(truth, rows)
    assert (result.cred_n, result.cred_ok) == (2, 1)
    assert result.unflagged_bad == 1  # A 2 (missing credits); A 1's credits are not judged


def test_prerequisites_as_score_py_counts_them():
    truth = [
        entry("A 1", prerequisites="A 0."),
        entry("A 2", prerequisites="A 1"),
        entry("A 3", prerequisites="A 2 and A 1", prereq_block="A 2 and A 1; coreq A 4"),
        entry("A 4", prerequisites="A 3"),
        entry("A 5", prerequisites=None),
    ]
    rows = [
        row("A 1", prerequisites="a 0"),
        row("A 2", prerequisites="B 7"),
        row("A 3", prerequisites="A 2 and A 1; coreq A 4."),
        row("A 4", prerequisites=None),
        row("A 5", prerequisites="anything"),
    ]
    result = score_real(truth, rows)
    # A 5 has no printed prerequisite: not scored; A 4's missing prediction is wrong (NaN in score.py's pandas 3)
    assert (result.pre_n, result.pre_ok) == (4, 2 if MISSING_IS_NAN else 3)
    assert score_real(truth, pd.DataFrame(rows)) == result
    lines = real_mismatches(truth, rows)
    assert [line for line in lines if "prereq" in line] == [
        "p1 'A 2' prereq 'B 7' != 'A 1' [UNFLAGGED 1.00]",
        *(["p1 'A 4' prereq None != 'A 3' [UNFLAGGED 1.00]"] if MISSING_IS_NAN else []),
    ]


@pytest.mark.skipif(not MISSING_IS_NAN, reason="pandas before 3 reads a null string as None")
def test_missing_predicted_title_is_wrong():
    result = score_real([entry("A 1", title="")], [row("A 1", title=None)])
    assert (result.title_ok, result.unflagged_bad) == (0, 1)


def test_missed_page_unflagged_and_flagged():
    truth = [
        entry("A 1", page=1),
        entry("A 2", page=2),
        entry("A 3", page=2),
        entry("A 4", page=3),
        entry("A 5", page=3),
    ]
    rows = [row("A 1", page=1), row("A 4", page=3)]
    pages = [{"page": 1, "needs_review": False}, {"page": 2, "needs_review": False}, {"page": 3, "needs_review": False}]
    result = score_real(truth, rows, pages)
    # page 2: 0 of 2 found (missed); page 3: 1 of 2 found (not under half)
    assert (result.missed_pages, result.missed_pages_unflagged) == (1, 1)
    pages[1]["needs_review"] = True
    result = score_real(truth, rows, pages)
    assert (result.missed_pages, result.missed_pages_unflagged) == (1, 0)
    # no page rows at all: a missed page is unflagged
    assert score_real(truth, rows).missed_pages_unflagged == 1
    assert "p2 missed page: 0/2 truth entries found, page flagged" in real_mismatches(truth, rows, pages)


def test_dataframes_score_like_dicts():
    truth = [entry("CS 101", prerequisites="X"), entry("CS 102", credits=None), entry("CS 103", page=2)]
    rows = [
        row("CS 101", prerequisites=None),
        row("CS 102", "Other", confidence=0.6, needs_review=True),
        row("CS 104", confidence=0.8),
    ]
    pages = [{"page": 1, "needs_review": True}, {"page": 2, "needs_review": False}]
    assert score_real(truth, pd.DataFrame(rows), pd.DataFrame(pages)) == score_real(truth, rows, pages)


def test_calibration_buckets_count_rows_correct_and_flagged():
    assert [confidence_bucket(c) for c in (0.1, 0.5, 0.74, 0.75, 0.85, 0.95, 1.0, None, float("nan"))] == [
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        7,
    ]
    truth = [entry("A 1"), entry("A 2")]
    rows = [
        row("A 1", confidence=1.0),
        row("A 2", "Wrong", confidence=0.6, needs_review=True),
        row("A 3", confidence=0.6),
    ]
    result = score_real(truth, rows)
    assert (result.bucket_rows[6], result.bucket_ok[6], result.bucket_flagged[6]) == (1, 1, 0)
    assert (result.bucket_rows[1], result.bucket_ok[1], result.bucket_flagged[1]) == (2, 0, 1)


def test_scores_add_up():
    a = score_real([entry("A 1")], [row("A 1")])
    b = score_real([entry("B 1"), entry("B 2")], [row("B 1", "Wrong")])
    total = a + b
    assert (total.truth, total.predicted, total.tp, total.title_ok, total.unflagged_bad) == (3, 2, 2, 1, 1)
    assert total.bucket_rows[6] == 2
    assert total.summary("born").startswith("real-born: code_f1=0.800 title=0.500 ")
    assert RealScore().row("empty").split()[6:11] == ["-"] * 5  # title, credits, prereq, flagged, unfl_err


def test_mismatch_lines_are_one_per_problem():
    truth = [entry("A 1", "Intro"), entry("A 2", credits=3), entry("A 3")]
    rows = [row("A 1", "Wrong", needs_review=True, confidence=0.5), row("A 2", credits=4), row("Z 9", "Extra")]
    lines = real_mismatches(truth, rows)
    assert lines == [
        "p1 'A 1' title 'Wrong' != 'Intro' [flagged 0.50]",
        "p1 'A 2' credits 4 != 3 [UNFLAGGED 1.00]",
        "p1 missing 'A 3': 'Intro'",
        "p1 extra 'Z 9': 'Extra' credits 3 [UNFLAGGED 1.00]",
    ]


def test_mismatch_lines_note_repeated_truth_codes_and_other_pages():
    truth = [entry("451/851", "Finite Elements", page=1), entry("451/851", "Operating Systems", page=3)]
    rows = [row("451/851", "Finite Elements", page=1), row("451/851", "Operating Systems", page=3)]
    result = score_real(truth, rows)
    assert (result.truth, result.predicted, result.title_ok) == (1, 1, 0)  # score.py: last truth vs first row
    assert real_mismatches(truth, rows) == [
        "p3 '451/851' (pred p1, 2x in truth) title 'Finite Elements' != 'Operating Systems' [UNFLAGGED 1.00]"
    ]


class CountingEngine:
    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def recognize(self, pages):
        self.calls += len(pages)
        return [PageText(self.name, (), confidence=0.5) for _ in pages]


def test_ocr_cache_is_keyed_by_image_and_engine_source(tmp_path):
    page = PageImage(PageRef("doc", 1, 8, 8, 72), Image.new("L", (8, 8), 255))
    engine = CountingEngine()
    cached = CachingEngine(engine, tmp_path)
    assert cached.recognize([page]) == cached.recognize([page]) == [PageText("counting", (), confidence=0.5)]
    assert engine.calls == 1
    (entry_file,) = tmp_path.iterdir()
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:8]  # this module defines the engine
    assert entry_file.name.startswith(f"counting-{digest}-")


@pytest.mark.skipif(not (REAL_CATALOGS / "score.py").exists(), reason="no real-catalog dev set next to the repository")
def test_agrees_with_score_py_on_perturbed_truth(tmp_path):
    """Rows made from the dev set's truth with errors, flags and missing pages: our summary line and
    score.py's last line (scoring the same rows as courses.parquet / pages.parquet) are identical."""
    courses, pages, total = [], [], RealScore()
    for name, pdf in real_files(REAL_CATALOGS, "born"):
        truth = load_truth(REAL_CATALOGS / "truth" / f"{name}.jsonl")
        document_id = hashlib.sha256(pdf.read_bytes()).hexdigest()[:16]
        rows = []
        for i, t in enumerate(truth):
            if i % 7 == 0 or t["page"] == 2:  # page 2 lost entirely
                continue
            r = row(
                t["code"].replace(" ", "-") if i % 2 else t["code"],
                t["title"] + (" x" if i % 5 == 1 else ""),
                page=t["page"],
                needs_review=i % 4 == 3,
                confidence=(0.4, 0.72, 0.85, 1.0)[i % 4],
                prerequisites=None if i % 3 == 0 else (t["prerequisites"] or "") + (" y" if i % 8 == 5 else ""),
            )
            r["credits_min"], r["credits_max"] = t["credits_min"], t["credits_max"]
            if i % 6 == 2 and t["credits_min"] is not None:
                r["credits_max"] = t["credits_max"] + 1
            rows.append(r)
        rows.append(row("ZZZ 999", "Not a course", page=1))
        page_rows = [
            {"document_id": document_id, "page": p, "needs_review": p == 1} for p in sorted({t["page"] for t in truth})
        ]
        total = total + score_real(truth, rows, page_rows)
        courses += [{**r, "source_uri": f"file:///landing/{pdf.name}"} for r in rows]
        pages += page_rows
    pd.DataFrame(courses).to_parquet(tmp_path / "courses.parquet", index=False)
    pd.DataFrame(pages).to_parquet(tmp_path / "pages.parquet", index=False)
    result = subprocess.run(
        [sys.executable, str(REAL_CATALOGS / "score.py"), "born", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = result.stdout.strip().splitlines()[-1]
    assert theirs == total.summary("born")
    assert re.search(r"missed_pages=[1-9]", theirs) and "unflagged_err=0.000" not in theirs
