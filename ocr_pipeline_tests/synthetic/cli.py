"""Command line: write synthetic catalogs, their scans and truth files."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ocr_pipeline.samples import LAYOUTS, generate_catalog, scan, truth_json_text
from ocr_pipeline_tests.synthetic import TRUTH_DIR


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m ocr_pipeline_tests.synthetic``."""
    parser = argparse.ArgumentParser(
        prog="python -m ocr_pipeline_tests.synthetic",
        description="Write <layout>.pdf, <layout>-scanned.pdf and <layout>.truth.json for synthetic catalogs.",
    )
    parser.add_argument("--out", type=Path, help="output directory (created if missing)")
    parser.add_argument(
        "--layouts",
        nargs="+",
        choices=LAYOUTS,
        default=list(LAYOUTS),
        metavar="LAYOUT",
        help=f"layouts to render (default: all of {', '.join(LAYOUTS)})",
    )
    parser.add_argument("--scanned", action="store_true", help="also write an image-only scanned PDF")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-courses", type=int, default=24)
    parser.add_argument(
        "--update-truth",
        action="store_true",
        help=f"rewrite the committed truth files in {TRUTH_DIR} (seed 0, default arguments)",
    )
    args = parser.parse_args(argv)
    if args.out is None and not args.update_truth:
        parser.error("give --out DIR and/or --update-truth")
    for layout in args.layouts:
        if args.update_truth:
            TRUTH_DIR.mkdir(exist_ok=True)
            (TRUTH_DIR / f"{layout}.json").write_text(truth_json_text(generate_catalog(layout)), encoding="utf-8")
        if args.out is None:
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        catalog = generate_catalog(layout, seed=args.seed, n_courses=args.n_courses)
        (args.out / f"{layout}.pdf").write_bytes(catalog.pdf)
        (args.out / f"{layout}.truth.json").write_text(truth_json_text(catalog), encoding="utf-8")
        if args.scanned:
            (args.out / f"{layout}-scanned.pdf").write_bytes(scan(catalog.pdf, seed=args.seed))
    return 0
