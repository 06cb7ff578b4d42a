"""Parse accuracy through the real pipeline stages: synthetic catalogs, or a real-catalog dev set.

Synthetic (default): each layout is generated (seed 0 unless ``--seeds``), then run through
``render_document`` -> ``read_document`` -> ``parse_pages``: born-digital with the text layer, scanned
(``scan``) with the real RapidOCR engine (policy ``auto`` sends image-only pages to OCR). Entries are
matched to the truth by course code. Prints one table per variant, a row per layout and an overall row:

- code P / R / F1: course-code precision, recall and F1 (a repeated code counts once);
- title: share of truth entries whose title matches exactly (case and whitespace normalised);
- credits: share of truth entries whose credits_min and credits_max both match;
- descr: share of truth entries with a description whose description we read exactly (case and whitespace
  normalised);
- prereq: the same for prerequisites;
- review: share of parsed entries flagged (a doubt, or confidence below the validation's ``min_confidence``).

Real (``--real DIR``, e.g. ``--real ../shared/real_catalogs``; the synthetic layouts are skipped): every
``DIR/truth/<name>.jsonl`` with a PDF, read in place (nothing is copied): born-digital ``DIR/pdfs/<name>.pdf``
and scanned ``DIR/scanned/<name>_scan.pdf``. Each PDF goes through the stages ``ocr-pipeline extract``
runs (ingest's ``inspect_document`` -> ``render_document`` -> ``read_document`` -> ``parse_document`` ->
``publish_document``, the assets' defaults, no profile, RapidOCR for pages without a usable text layer)
in a throwaway store, and the published courses and pages Parquet rows are scored exactly as
``DIR/score.py`` scores ``courses.parquet`` / ``pages.parquet``:

- codes compared after keeping only A-Z and 0-9; struck truth entries count neither way; the first
  predicted row of a code is the one scored (a code repeated in the truth counts once);
- code P / R / F1 over distinct codes; title: share of matched codes with the right title (whitespace
  collapsed, lower-cased, trailing ``. : ; ,`` stripped); credits: share of matched codes with printed
  credits whose min and max are right; prereq: share of matched codes with a printed prerequisite whose
  text is right (or equals the truth's ``prereq_block``); a missing predicted title or prerequisite is
  what score.py's pandas reads from Parquet (pandas 3: NaN, ``"nan"``, so always wrong);
- flagged: share of scored rows with ``needs_review``; unfl_err: share of unflagged rows that are
  wrong (not a true entry, wrong title, or wrong credits where the truth has credits);
- missed: truth pages where under half of the entries were found; unfl: those whose page row in
  pages.parquet does not need review.

Per variant: a row per file and an overall row, a calibration table (parse confidence bucket -> rows,
share correct as above, share flagged) and a last line in score.py's format. ``--verbose`` lists every
mismatch, one line each (missing/extra codes, wrong titles/credits/prerequisites, predicted vs truth,
flagged or UNFLAGGED, missed pages).

    python -m ocr_pipeline_tests.benchmarks.accuracy [--layouts a b] [--no-scanned] [--seeds 0 1]
    python -m ocr_pipeline_tests.benchmarks.accuracy --real ../shared/real_catalogs [--no-scanned] [--verbose]

RapidOCR takes a few seconds per page on a small CPU, so the scanned variants take minutes.
``--ocr-cache DIR`` (outside the repository) keeps OCR output between runs while iterating.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import inspect
import io
import json
import re
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ocr_pipeline.catalog.parser import parse_pages
from ocr_pipeline.catalog.profile import CatalogProfile
from ocr_pipeline.catalog.validate import ValidationRules
from ocr_pipeline.models import CourseEntry, PageText
from ocr_pipeline.ocr.base import LazyEngine, OcrEngine, PageImage
from ocr_pipeline.ocr.registry import build_engine
from ocr_pipeline.samples import (
    LAYOUTS,
    TruthCourse,
    generate_catalog,
    scan,
)
from ocr_pipeline.stages.ocr_pages import read_document
from ocr_pipeline.stages.raw_catalog_pdfs import inspect_document, institution_for, partition_key_for
from ocr_pipeline.stages.rendered_pages import RenderSettings, render_document
from ocr_pipeline.storage.objects import LocalObjectStore
from ocr_pipeline.storage.work import WorkStore


@dataclass
class Score:
    """Counts behind one table row; rows add up into the overall row."""

    truth: int = 0
    found: int = 0
    matched: int = 0
    titles: int = 0
    credits: int = 0
    described_truth: int = 0
    described_found: int = 0
    prerequisites_truth: int = 0
    prerequisites_found: int = 0
    review: int = 0
    seconds: float = 0.0

    def __add__(self, other: Score) -> Score:
        return Score(*(a + b for a, b in zip(vars(self).values(), vars(other).values())))

    def row(self, name: str) -> str:
        precision = self.matched / self.found if self.found else 0.0
        recall = self.matched / self.truth if self.truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        descr = f"{self.described_found / self.described_truth:7.3f}" if self.described_truth else "      -"
        prereq = (
            f"{self.prerequisites_found / self.prerequisites_truth:7.3f}" if self.prerequisites_truth else "      -"
        )
        return (
            f"{name:<24}{self.truth:>6}{self.found:>6}{precision:>8.3f}{recall:>8.3f}{f1:>8.3f}"
            f"{self.titles / self.truth:>8.3f}{self.credits / self.truth:>8.3f}{descr:>8}{prereq:>8}"
            f"{(self.review / self.found if self.found else 0.0):>8.3f}{self.seconds:>8.1f}"
        )


HEADER = (
    f"{'layout':<24}{'truth':>6}{'found':>6}{'code P':>8}{'code R':>8}{'F1':>8}{'title':>8}{'credits':>8}"
    f"{'descr':>8}{'prereq':>8}{'review':>8}{'sec':>8}"
)


def normalise(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def score(entries: Sequence[CourseEntry], truth: Sequence[TruthCourse], min_confidence: float) -> Score:
    """Compare parsed entries with the truth, keyed by course code (first occurrence wins)."""
    by_code: dict[str, CourseEntry] = {}
    for entry in entries:
        by_code.setdefault(entry.course_code, entry)
    result = Score(
        truth=len(truth),
        found=len(by_code),
        review=sum(e.confidence < min_confidence or bool(e.reasons) for e in by_code.values()),
    )
    for course in truth:
        entry = by_code.get(course.course_code)
        result.described_truth += course.description is not None
        if entry is None:
            result.prerequisites_truth += course.prerequisites is not None
            continue
        result.matched += 1
        result.titles += normalise(entry.title) == normalise(course.title)
        result.credits += (entry.credits_min, entry.credits_max) == (course.credits_min, course.credits_max)
        result.described_found += course.description is not None and normalise(entry.description) == normalise(
            course.description
        )
        result.prerequisites_truth += course.prerequisites is not None
        result.prerequisites_found += course.prerequisites is not None and normalise(entry.prerequisites) == normalise(
            course.prerequisites
        )
    return result


def _source_digest(engine: OcrEngine) -> str:
    """A short hash of the source of the module defining ``engine``'s class ("nosource" if unknown)."""
    try:
        source = inspect.getsource(sys.modules[type(engine).__module__])
    except (KeyError, OSError, TypeError):
        return "nosource"
    return hashlib.sha256(source.encode()).hexdigest()[:8]


class CachingEngine:
    """Wraps an engine, keeping its output per page image (by hash) in a directory.

    Entries are also keyed by the engine module's source, so editing the engine (``ocr/rapid.py``)
    does not serve its earlier output.
    """

    def __init__(self, engine: OcrEngine, directory: Path) -> None:
        self.name = engine.name
        self._engine = engine
        self._directory = directory
        self._prefix = f"{self.name}-{_source_digest(engine)}"
        directory.mkdir(parents=True, exist_ok=True)

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        results = []
        for page in pages:
            buffer = io.BytesIO()
            page.image.save(buffer, format="PNG")
            path = self._directory / f"{self._prefix}-{hashlib.sha256(buffer.getvalue()).hexdigest()[:24]}.json"
            if path.exists():
                results.append(PageText.from_dict(json.loads(path.read_text())))
                continue
            result = self._engine.recognize([page])[0]
            path.write_text(json.dumps(result.to_dict()))
            results.append(result)
        return results


def run_layout(pdf: bytes, document_id: str, engine: OcrEngine | None, profile: CatalogProfile) -> list[CourseEntry]:
    """render_document -> read_document -> parse_pages, in a throwaway work store."""
    with tempfile.TemporaryDirectory() as directory:
        work = WorkStore(LocalObjectStore(directory))
        render_document(pdf, document_id, RenderSettings(policy="auto"), work)
        read_document(document_id, work, engine)
        return parse_pages(work.page_results(document_id), profile)


def benchmark(
    layouts: Sequence[str],
    seeds: Sequence[int],
    scanned: bool,
    engine: OcrEngine | None,
    profile: CatalogProfile,
    verbose: bool,
) -> Score:
    """Print one variant's table and return its overall score."""
    print(f"\n{'scanned (RapidOCR)' if scanned else 'born-digital (text layer)'}")
    print(HEADER)
    total = Score()
    for layout in layouts:
        row = Score()
        for seed in seeds:
            catalog = generate_catalog(layout, seed=seed)
            pdf = scan(catalog.pdf, seed=seed) if scanned else catalog.pdf
            started = time.perf_counter()
            entries = run_layout(pdf, f"{layout}-{seed}", engine if scanned else None, profile)
            result = score(entries, catalog.truth, ValidationRules().min_confidence)
            result.seconds = time.perf_counter() - started
            row = row + result
            if verbose:
                report_mismatches(entries, catalog.truth)
        total = total + row
        print(row.row(layout), flush=True)
    print(total.row("overall"))
    return total


def report_mismatches(entries: Sequence[CourseEntry], truth: Sequence[TruthCourse]) -> None:
    """Print what differs from the truth (for ``--verbose``)."""
    by_code = {e.course_code: e for e in entries}
    codes = {c.course_code for c in truth}
    for code in sorted(set(by_code) - codes):
        print(f"    extra {code!r}: {by_code[code].title!r}")
    for course in truth:
        entry = by_code.get(course.course_code)
        if entry is None:
            print(f"    missing {course.course_code!r}")
            continue
        if normalise(entry.title) != normalise(course.title):
            print(f"    {course.course_code}: title {entry.title!r} != {course.title!r}")
        if (entry.credits_min, entry.credits_max) != (course.credits_min, course.credits_max):
            print(
                f"    {course.course_code}: credits {entry.credits_min}-{entry.credits_max} != {course.credits_min}-{course.credits_max}"
            )
        if course.description and not entry.description:
            print(f"    {course.course_code}: no description")


# --- real-catalog dev set (--real) -------------------------------------------------------------

Row = Mapping[str, Any]

CONFIDENCE_BOUNDS = (0.5, 0.7, 0.75, 0.8, 0.9, 1.0)
"""Upper bounds (exclusive) of the calibration buckets; 0.75 is the validation's ``min_confidence``."""
CONFIDENCE_BUCKETS = ("<0.5", "0.5-0.7", "0.7-0.75", "0.75-0.8", "0.8-0.9", "0.9-1.0", "=1.0", "n/a")


def norm_code(code: Any) -> str:
    """score.py's code key: everything but A-Z and 0-9 removed (``CS-101`` == ``CS 101`` == ``cs101``)."""
    return re.sub(r"[^A-Z0-9]", "", str(code).upper())


def norm_text(text: Any) -> str:
    """score.py's text key: whitespace collapsed, trailing ``. : ; ,`` stripped, lower-cased."""
    return re.sub(r"\s+", " ", str(text or "")).strip().strip(".:;,").lower()


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


@functools.cache
def _parquet_missing_text() -> Any:
    """What pandas gives for a null string read from Parquet, as score.py reads courses.parquet:
    NaN with pandas 3 (``str(nan)`` is ``"nan"``), None with pandas 2."""
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"text": ["x", None]}).to_parquet(buffer, index=False)
    return pd.read_parquet(io.BytesIO(buffer.getvalue()))["text"].tolist()[1]


def norm_predicted(text: Any) -> str:
    """:func:`norm_text` of a predicted value as score.py sees it: a missing title or prerequisite is
    whatever pandas reads for a null string (with pandas 3, NaN: ``"nan"``, which never equals the truth)."""
    return norm_text(_parquet_missing_text() if _missing(text) else text)


def confidence_bucket(confidence: Any) -> int:
    """Index into :data:`CONFIDENCE_BUCKETS`."""
    if _missing(confidence):
        return len(CONFIDENCE_BUCKETS) - 1
    for index, bound in enumerate(CONFIDENCE_BOUNDS):
        if confidence < bound:
            return index
    return len(CONFIDENCE_BOUNDS)


def _zeros() -> tuple[int, ...]:
    return (0,) * len(CONFIDENCE_BUCKETS)


@dataclass
class RealScore:
    """score.py's counts for one file; scores add up into the overall row."""

    truth: int = 0
    """Distinct truth codes (struck entries left out)."""
    predicted: int = 0
    """Distinct predicted codes (struck codes left out)."""
    tp: int = 0
    title_ok: int = 0
    cred_ok: int = 0
    cred_n: int = 0
    pre_ok: int = 0
    pre_n: int = 0
    unflagged: int = 0
    unflagged_bad: int = 0
    missed_pages: int = 0
    missed_pages_unflagged: int = 0
    seconds: float = 0.0
    bucket_rows: tuple[int, ...] = field(default_factory=_zeros)
    bucket_ok: tuple[int, ...] = field(default_factory=_zeros)
    bucket_flagged: tuple[int, ...] = field(default_factory=_zeros)

    def __add__(self, other: RealScore) -> RealScore:
        values = {}
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            values[f.name] = tuple(x + y for x, y in zip(a, b)) if isinstance(a, tuple) else a + b
        return RealScore(**values)

    @property
    def precision(self) -> float:
        return self.tp / max(1, self.predicted)

    @property
    def recall(self) -> float:
        return self.tp / max(1, self.truth)

    @property
    def f1(self) -> float:
        return 2 * self.precision * self.recall / max(1e-9, self.precision + self.recall)

    @property
    def title(self) -> float:
        return self.title_ok / max(1, self.tp)

    @property
    def credits(self) -> float:
        return self.cred_ok / max(1, self.cred_n)

    @property
    def prereq(self) -> float:
        return self.pre_ok / max(1, self.pre_n)

    @property
    def flagged(self) -> float:
        return 1 - self.unflagged / max(1, self.predicted)

    @property
    def unflagged_err(self) -> float:
        return self.unflagged_bad / max(1, self.unflagged)

    def row(self, name: str) -> str:
        """A table row; a share with nothing to count (no matched codes, no printed credits, ...) is ``-``
        (score.py's table shows 0 there; its last line, :meth:`summary`, is the same as ours)."""

        def share(value: float, denominator: int) -> str:
            return f"{value:.3f}" if denominator else "-"

        return (
            f"{name:<18}{self.truth:>6}{self.predicted:>6}{self.precision:>8.3f}{self.recall:>8.3f}{self.f1:>7.3f}"
            f"{share(self.title, self.tp):>7}{share(self.credits, self.cred_n):>8}"
            f"{share(self.prereq, self.pre_n):>7}"
            f"{share(self.flagged, self.predicted):>8}{share(self.unflagged_err, self.unflagged):>9}"
            f"{self.missed_pages:>7}{self.missed_pages_unflagged:>6}{self.seconds:>8.1f}"
        )

    def summary(self, variant: str) -> str:
        """score.py's last line."""
        return (
            f"real-{variant}: code_f1={self.f1:.3f} title={self.title:.3f} credits={self.credits:.3f} "
            f"prereq={self.prereq:.3f} unflagged_err={self.unflagged_err:.3f} flagged={self.flagged:.3f} "
            f"missed_pages={self.missed_pages} missed_pages_unflagged={self.missed_pages_unflagged} "
            f"(n_truth={self.truth}, n_pred={self.predicted})"
        )


REAL_HEADER = (
    f"{'file':<18}{'truth':>6}{'pred':>6}{'code P':>8}{'code R':>8}{'F1':>7}{'title':>7}{'credits':>8}"
    f"{'prereq':>7}{'flagged':>8}{'unfl_err':>9}{'missed':>7}{'unfl':>6}{'sec':>8}"
)


def _records(rows: Any) -> list[Row]:
    """Rows as a list of mappings (a DataFrame becomes its records)."""
    if rows is None:
        return []
    if hasattr(rows, "to_dict"):
        return rows.to_dict("records")
    return list(rows)


def _needs_review(row: Row) -> bool:
    return bool(row.get("needs_review", False))


def _credits_right(truth: Row, row: Row) -> bool:
    try:
        return float(row["credits_min"]) == float(truth["credits_min"]) and float(row["credits_max"]) == float(
            truth["credits_max"]
        )
    except (TypeError, ValueError):
        return False


def _prereq_right(truth: Row, row: Row) -> bool:
    accepted = {norm_text(truth["prerequisites"]), norm_text(truth.get("prereq_block"))}
    return norm_predicted(row.get("prerequisites")) in accepted


def _row_bad(truth: Row | None, row: Row) -> bool:
    """score.py's wrong row: not a true entry, a wrong title, or wrong credits where the truth has credits."""
    if truth is None or norm_text(truth["title"]) != norm_predicted(row["title"]):
        return True
    return truth["credits_min"] is not None and not _credits_right(truth, row)


@dataclass
class _Matched:
    kept: list[Row]
    """Truth entries that are not struck, in truth order."""
    tcodes: dict[str, Row]
    """Code key -> truth entry (a repeated code: the last, as score.py's dict)."""
    pcodes: dict[str, Row]
    """Code key -> the first predicted row with that code (struck codes left out)."""
    found: set[str]
    """Every predicted code key (struck ones too), for missed pages."""
    pages: list[Row]


def _match(truth: Iterable[Row], courses: Any, pages: Any) -> _Matched:
    truth = list(truth)
    rows = _records(courses)
    struck = {norm_code(t["code"]) for t in truth if t.get("struck")}
    kept = [t for t in truth if not t.get("struck")]
    pcodes: dict[str, Row] = {}
    for row in rows:
        if norm_code(row["course_code"]) not in struck:  # struck-through entries count neither way
            pcodes.setdefault(norm_code(row["course_code"]), row)
    return _Matched(
        kept,
        {norm_code(t["code"]): t for t in kept},
        pcodes,
        {norm_code(row["course_code"]) for row in rows},
        _records(pages),
    )


def _missed_pages(matched: _Matched) -> list[tuple[int, int, int, bool]]:
    """(page, truth entries found, truth entries, page flagged) for each truth page where under half were found."""
    by_page: dict[int, list[bool]] = {}
    for t in matched.kept:
        by_page.setdefault(t["page"], []).append(norm_code(t["code"]) in matched.found)
    missed = []
    for page, hits in by_page.items():
        if sum(hits) < 0.5 * len(hits):
            flagged = any(_needs_review(row) for row in matched.pages if row.get("page") == page)
            missed.append((page, sum(hits), len(hits), flagged))
    return missed


def score_real(truth: Iterable[Row], courses: Any, pages: Any = None) -> RealScore:
    """One file's counts, computed exactly as the dev set's score.py computes them.

    ``truth``: the file's truth records (``code``, ``page``, ``title``, ``credits_min``, ``credits_max``,
    ``prerequisites``, optional ``struck``, ``prereq_block``); ``courses``: the file's published course
    rows (mappings or a DataFrame: ``course_code``, ``title``, ``credits_min``, ``credits_max``,
    ``prerequisites``, ``needs_review``, ``confidence``); ``pages``: the file's page rows (``page``,
    ``needs_review``).
    """
    m = _match(truth, courses, pages)
    result = RealScore(truth=len(m.tcodes), predicted=len(m.pcodes))
    for key in set(m.pcodes) & set(m.tcodes):
        t, p = m.tcodes[key], m.pcodes[key]
        result.tp += 1
        result.title_ok += norm_text(t["title"]) == norm_predicted(p["title"])
        if t.get("prerequisites") is not None:
            result.pre_n += 1
            result.pre_ok += _prereq_right(t, p)
        if t["credits_min"] is not None:
            result.cred_n += 1
            result.cred_ok += _credits_right(t, p)
    rows, ok, flagged = list(result.bucket_rows), list(result.bucket_ok), list(result.bucket_flagged)
    for key, p in m.pcodes.items():
        bad = _row_bad(m.tcodes.get(key), p)
        bucket = confidence_bucket(p.get("confidence"))
        rows[bucket] += 1
        ok[bucket] += not bad
        if _needs_review(p):
            flagged[bucket] += 1
            continue
        result.unflagged += 1
        result.unflagged_bad += bad
    result.bucket_rows, result.bucket_ok, result.bucket_flagged = tuple(rows), tuple(ok), tuple(flagged)
    missed = _missed_pages(m)
    result.missed_pages = len(missed)
    result.missed_pages_unflagged = sum(not page_flagged for *_, page_flagged in missed)
    return result


def _credits_text(low: Any, high: Any) -> str:
    def one(value: Any) -> str:
        if value is None or value != value:
            return "null"
        return f"{value:g}" if isinstance(value, (int, float)) else str(value)

    return one(low) if one(low) == one(high) else f"{one(low)}-{one(high)}"


def _shown(value: Any) -> Any:
    return None if _missing(value) else value


def _flag_text(row: Row) -> str:
    confidence = row.get("confidence")
    shown = f"{confidence:.2f}" if isinstance(confidence, (int, float)) and confidence == confidence else "?"
    return f"[{'flagged' if _needs_review(row) else 'UNFLAGGED'} {shown}]"


def real_mismatches(truth: Iterable[Row], courses: Any, pages: Any = None) -> list[str]:
    """One line per mismatch that :func:`score_real` counts, by truth page (for ``--verbose``).

    ``missing`` / ``extra`` codes, wrong ``title`` / ``credits`` / ``prereq`` (predicted, then truth),
    each predicted row's review flag and parse confidence, and ``page`` lines for missed pages. A line
    notes ``pred pN`` when the scored row is on another page and ``Nx in truth`` when the code is repeated
    in the truth (score.py then compares the last truth entry with the first row of the code).
    """
    m = _match(truth, courses, pages)
    repeats = Counter(norm_code(t["code"]) for t in m.kept)
    lines: list[tuple[int, int, str]] = []
    for order, (key, t) in enumerate(m.tcodes.items()):
        page, code = t["page"], t["code"]
        p = m.pcodes.get(key)
        if p is None:
            lines.append((page, order, f"p{page} missing {code!r}: {t['title']!r}"))
            continue
        notes = [] if _missing(p.get("page")) or p["page"] == page else [f"pred p{p['page']}"]
        if repeats[key] > 1:  # score.py pairs the last truth entry of the code with the first row
            notes.append(f"{repeats[key]}x in truth")
        where = f"p{page} {code!r}" + (f" ({', '.join(notes)})" if notes else "")
        flag = _flag_text(p)
        if norm_text(t["title"]) != norm_predicted(p["title"]):
            lines.append((page, order, f"{where} title {_shown(p['title'])!r} != {t['title']!r} {flag}"))
        if t["credits_min"] is not None and not _credits_right(t, p):
            lines.append(
                (
                    page,
                    order,
                    f"{where} credits {_credits_text(p.get('credits_min'), p.get('credits_max'))}"
                    f" != {_credits_text(t['credits_min'], t['credits_max'])} {flag}",
                )
            )
        if t.get("prerequisites") is not None and not _prereq_right(t, p):
            predicted = _shown(p.get("prerequisites"))
            lines.append((page, order, f"{where} prereq {predicted!r} != {t['prerequisites']!r} {flag}"))
    for order, (key, p) in enumerate(m.pcodes.items(), len(m.tcodes)):
        if key not in m.tcodes:
            page = 0 if _missing(p.get("page")) else int(p["page"])
            credits = _credits_text(p.get("credits_min"), p.get("credits_max"))
            lines.append(
                (
                    page,
                    order,
                    f"p{page} extra {p['course_code']!r}: {_shown(p['title'])!r} credits {credits} {_flag_text(p)}",
                )
            )
    for page, hits, total, flagged in _missed_pages(m):
        lines.append(
            (
                page,
                -1,
                f"p{page} missed page: {hits}/{total} truth entries found,"
                f" page {'flagged' if flagged else 'UNFLAGGED'}",
            )
        )
    return [line for *_, line in sorted(lines, key=lambda item: (item[0], item[1]))]


def real_files(directory: Path, variant: str) -> list[tuple[str, Path]]:
    """score.py's ``files``: every truth file whose PDF exists in this variant (born: ``catalogs/`` or
    ``pdfs/<name>.pdf``, scanned: ``scanned/<name>_scan.pdf``)."""
    names = sorted(path.stem for path in (directory / "truth").glob("*.jsonl"))
    born_dir = "catalogs" if (directory / "catalogs").is_dir() else "pdfs"
    sub, suffix = (born_dir, ".pdf") if variant == "born" else ("scanned", "_scan.pdf")
    return [(name, directory / sub / (name + suffix)) for name in names if (directory / sub / (name + suffix)).exists()]


def load_truth(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_real_document(pdf: Path, engine: OcrEngine) -> tuple[Any, Any]:
    """``pdf`` (read in place) through the stages ``ocr-pipeline extract`` runs, with the assets'
    defaults, in a throwaway store; returns the published (courses, pages) Parquet as DataFrames."""
    import pandas as pd

    with warnings.catch_warnings():  # the asset modules' beta warnings; only their config defaults are used
        warnings.simplefilter("ignore")
        from ocr_pipeline.defs.raw_catalog_pdfs import IngestConfig
        from ocr_pipeline.defs.rendered_pages import RenderConfig
        from ocr_pipeline.defs.resources import OcrEngineResource
        from ocr_pipeline.defs.validated_courses import ValidationConfig
    from ocr_pipeline.catalog.flags import FlagRules
    from ocr_pipeline.catalog.validate import ValidationRules
    from ocr_pipeline.stages.course_catalog_tables import parse_document
    from ocr_pipeline.stages.validated_courses import publish_document
    from ocr_pipeline.storage.parquet import hive_key

    landing = LocalObjectStore(pdf.parent)  # read only: the key is the file name, as `extract FILE...` makes it
    key = pdf.name
    ingest = IngestConfig()
    data = landing.get(key)
    info = inspect_document(
        data,
        partition_key=partition_key_for(key),
        source_uri=landing.uri(key),
        head=landing.head(key),
        institution=institution_for(key, ingest.institution),
        max_pages=ingest.max_pages,
    )
    validation = ValidationConfig()
    rules = ValidationRules(
        min_credits=validation.min_credits, max_credits=validation.max_credits, min_confidence=validation.min_confidence
    )
    flag_rules = FlagRules(validation.min_ocr_confidence, validation.max_text_disagreement)
    with tempfile.TemporaryDirectory(prefix="accuracy-real-") as directory:
        work, output = (
            WorkStore(LocalObjectStore(Path(directory) / "work")),
            LocalObjectStore(Path(directory) / "output"),
        )
        render_document(data, info.document_id, RenderConfig().settings(), work)
        read_document(info.document_id, work, engine, OcrEngineResource().batch_size, total_pages=info.page_count)
        parse_document(info.document_id, work, CatalogProfile())
        publish_document(info, work, output, rules, None, flag_rules)
        courses, pages = (
            pd.read_parquet(output.root / hive_key(dataset, info.institution, info.source_id, f"{dataset}.parquet"))
            for dataset in ("courses", "pages")
        )
    return courses, pages


def benchmark_real(directory: Path, variant: str, engine: OcrEngine, verbose: bool) -> RealScore:
    """Print one variant's table, calibration and summary line; return its overall score."""
    files = real_files(directory, variant)
    title = "born-digital (text layer, policy auto)" if variant == "born" else "scanned (RapidOCR)"
    print(f"\nreal {title}: {len(files)} files from {directory}")
    print(REAL_HEADER)
    total = RealScore()
    for name, pdf in files:
        truth = load_truth(directory / "truth" / f"{name}.jsonl")
        started = time.perf_counter()
        courses, pages = run_real_document(pdf, engine)
        result = score_real(truth, courses, pages)
        result.seconds = time.perf_counter() - started
        total = total + result
        print(result.row(name), flush=True)
        if verbose:
            for line in real_mismatches(truth, courses, pages):
                print(f"    {name} {line}")
    print(total.row("overall"))
    print(f"{'confidence':<12}{'rows':>6}{'correct':>9}{'flagged':>9}")
    for bucket, rows, ok, flagged in zip(CONFIDENCE_BUCKETS, total.bucket_rows, total.bucket_ok, total.bucket_flagged):
        if rows:
            print(f"{bucket:<12}{rows:>6}{ok / rows:>9.3f}{flagged / rows:>9.3f}")
    print(total.summary(variant))
    return total


def lazy_ocr_engine(cache: Path | None) -> OcrEngine:
    """RapidOCR (behind the OCR cache when given), built when a page first needs it."""

    def build() -> OcrEngine:
        engine: OcrEngine = build_engine("rapidocr")
        return CachingEngine(engine, cache) if cache else engine

    return LazyEngine(build)  # builds once, on first use


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument(
        "--scanned",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the scanned variant through RapidOCR (default: yes)",
    )
    parser.add_argument("--born-digital", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--ocr-cache", type=Path, help="keep OCR output here between runs (not in the repo)")
    parser.add_argument("--verbose", action="store_true", help="list every mismatch")
    parser.add_argument(
        "--real",
        type=Path,
        metavar="DIR",
        help="score the real-catalog dev set in DIR (truth/, pdfs/, scanned/), read in place, "
        "instead of the synthetic layouts",
    )
    args = parser.parse_args(argv)
    if args.real:
        ocr = lazy_ocr_engine(args.ocr_cache)  # offered to every page, as extract does; built only if one needs it
        if args.born_digital:
            benchmark_real(args.real, "born", ocr, args.verbose)
        if args.scanned:
            benchmark_real(args.real, "scanned", ocr, args.verbose)
        return
    profile = CatalogProfile()
    if args.born_digital:
        benchmark(args.layouts, args.seeds, False, None, profile, args.verbose)
    if args.scanned:
        engine: OcrEngine = build_engine("rapidocr")
        if args.ocr_cache:
            engine = CachingEngine(engine, args.ocr_cache)
        benchmark(args.layouts, args.seeds, True, engine, profile, args.verbose)


if __name__ == "__main__":
    main()
