"""Parse accuracy on the synthetic catalogs, through the real pipeline stages.

Each layout is generated (seed 0 unless ``--seeds``), then run through ``render_document`` ->
``read_document`` -> ``parse_pages``: born-digital with the text layer, scanned (``scan``) with
the real RapidOCR engine (policy ``auto`` sends image-only pages to OCR). Entries are matched
to the truth by course code. Prints one table per variant, a row per layout and an overall row:

- code P / R / F1: course-code precision, recall and F1 (a repeated code counts once);
- title: share of truth entries whose title matches exactly (case and whitespace normalised);
- credits: share of truth entries whose credits_min and credits_max both match;
- descr: share of truth entries with a description for which we found one;
- review: share of parsed entries with confidence below the profile's ``min_confidence``.

    python -m ocr_pipeline_tests.benchmarks.accuracy [--layouts a b] [--no-scanned] [--seeds 0 1]

RapidOCR takes a few seconds per page on a small CPU, so the scanned variant takes minutes.
``--ocr-cache DIR`` (outside the repository) keeps OCR output between runs while iterating.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ocr_pipeline.catalog.parser import parse_pages
from ocr_pipeline.catalog.profile import CatalogProfile
from ocr_pipeline.models import CourseEntry, PageText
from ocr_pipeline.ocr.base import OcrEngine, PageImage
from ocr_pipeline.ocr.registry import build_engine
from ocr_pipeline.stages.read import load_page_results, read_document
from ocr_pipeline.stages.render import RenderSettings, render_document
from ocr_pipeline.storage.objects import LocalObjectStore
from ocr_pipeline_tests.synthetic.generator import (
    LAYOUTS,
    TruthCourse,
    generate_catalog,
    scan,
)


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
    review: int = 0
    seconds: float = 0.0

    def __add__(self, other: Score) -> Score:
        return Score(*(a + b for a, b in zip(vars(self).values(), vars(other).values())))

    def row(self, name: str) -> str:
        precision = self.matched / self.found if self.found else 0.0
        recall = self.matched / self.truth if self.truth else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        descr = f"{self.described_found / self.described_truth:7.3f}" if self.described_truth else "      -"
        return (f"{name:<24}{self.truth:>6}{self.found:>6}{precision:>8.3f}{recall:>8.3f}{f1:>8.3f}"
                f"{self.titles / self.truth:>8.3f}{self.credits / self.truth:>8.3f}{descr:>8}"
                f"{(self.review / self.found if self.found else 0.0):>8.3f}{self.seconds:>8.1f}")


HEADER = f"{'layout':<24}{'truth':>6}{'found':>6}{'code P':>8}{'code R':>8}{'F1':>8}{'title':>8}{'credits':>8}{'descr':>8}{'review':>8}{'sec':>8}"


def normalise(text: str | None) -> str:
    return " ".join((text or "").casefold().split())


def score(entries: Sequence[CourseEntry], truth: Sequence[TruthCourse], min_confidence: float) -> Score:
    """Compare parsed entries with the truth, keyed by course code (first occurrence wins)."""
    by_code: dict[str, CourseEntry] = {}
    for entry in entries:
        by_code.setdefault(entry.course_code, entry)
    result = Score(truth=len(truth), found=len(by_code), review=sum(e.confidence < min_confidence for e in by_code.values()))
    for course in truth:
        entry = by_code.get(course.course_code)
        result.described_truth += course.description is not None
        if entry is None:
            continue
        result.matched += 1
        result.titles += normalise(entry.title) == normalise(course.title)
        result.credits += (entry.credits_min, entry.credits_max) == (course.credits_min, course.credits_max)
        result.described_found += course.description is not None and bool(entry.description)
    return result


class CachingEngine:
    """Wraps an engine, keeping its output per page image (by hash) in a directory."""

    def __init__(self, engine: OcrEngine, directory: Path) -> None:
        self.name = engine.name
        self._engine = engine
        self._directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        results = []
        for page in pages:
            buffer = io.BytesIO()
            page.image.save(buffer, format="PNG")
            path = self._directory / f"{self.name}-{hashlib.sha256(buffer.getvalue()).hexdigest()[:24]}.json"
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
        store = LocalObjectStore(directory)
        render_document(pdf, document_id, RenderSettings(policy="auto"), store)
        read_document(document_id, store, engine)
        return parse_pages(load_page_results(document_id, store), profile)


def benchmark(layouts: Sequence[str], seeds: Sequence[int], scanned: bool, engine: OcrEngine | None,
              profile: CatalogProfile, verbose: bool) -> Score:
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
            result = score(entries, catalog.truth, profile.min_confidence)
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
            print(f"    {course.course_code}: credits {entry.credits_min}-{entry.credits_max} != {course.credits_min}-{course.credits_max}")
        if course.description and not entry.description:
            print(f"    {course.course_code}: no description")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--scanned", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the scanned variant through RapidOCR (default: yes)")
    parser.add_argument("--born-digital", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--ocr-cache", type=Path, help="keep OCR output here between runs (not in the repo)")
    parser.add_argument("--verbose", action="store_true", help="list every mismatch")
    args = parser.parse_args(argv)
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
