"""The ``ocr-pipeline`` command: demo | extract | serve | review serve."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa

# Before the definitions are imported: their single-run backfill policy is beta in Dagster 1.13.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

from ocr_pipeline.defs.progress import PROGRESS
from ocr_pipeline.defs.resources import DynamoResource, OcrEngineResource, StorageResource
from ocr_pipeline.defs.review import ReviewStoreResource
from ocr_pipeline.local_runs import failure_message, materialize_document, run_config
from ocr_pipeline.ocr.registry import DEFAULT_CPU_ENGINE, ENGINES
from ocr_pipeline.stages.ingest import partition_key_for
from ocr_pipeline.storage.objects import LocalObjectStore
from ocr_pipeline.storage.parquet import COURSES_SCHEMA, PAGES_SCHEMA

REPO_DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"


def _instance(home: Path) -> dg.DagsterInstance:
    """The embedded instance under ``home`` (SQLite), set up with the project's dagster.yaml."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and REPO_DAGSTER_YAML.exists():
        (home / "dagster.yaml").write_text(REPO_DAGSTER_YAML.read_text())
    return dg.DagsterInstance.from_config(str(home))


def _collect_parquet(store: LocalObjectStore, dataset: str, schema: pa.Schema) -> pd.DataFrame:
    """Every document's table of ``dataset``; with none (every document failed) still the contract's columns."""
    frames = [
        pd.read_parquet(store.root / obj.key) for obj in store.list(f"{dataset}/") if obj.key.endswith(".parquet")
    ]
    return pd.concat(frames, ignore_index=True) if frames else schema.empty_table().to_pandas()


def _show_progress() -> None:
    """Print the stages' page progress (``read: 40/300 pages``) as plain lines on stderr."""
    if not PROGRESS.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("    %(message)s"))
        PROGRESS.addHandler(handler)
        PROGRESS.setLevel(logging.INFO)
        PROGRESS.propagate = False


def _run_documents(
    instance: dg.DagsterInstance, keys: Sequence[str], resources: dict, config: dict
) -> dict[str, str | None]:
    """Materialise each partition; returns partition key -> failure message (None when it succeeded)."""
    _show_progress()
    outcomes: dict[str, str | None] = {}
    for number, key in enumerate(keys, 1):
        print(f"[{number}/{len(keys)}] {key} ...", flush=True)
        started = time.perf_counter()
        result = materialize_document(instance, key, resources, config)
        outcomes[key] = failure_message(result)
        status = "ok" if outcomes[key] is None else f"FAILED: {outcomes[key]}"
        print(f"[{number}/{len(keys)}] {key}: {status} ({time.perf_counter() - started:.1f} s)", flush=True)
    return outcomes


def _summary(
    outcomes: dict[str, str | None], output: LocalObjectStore, seconds: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    courses = _collect_parquet(output, "courses", COURSES_SCHEMA)
    pages = _collect_parquet(output, "pages", PAGES_SCHEMA)
    flagged = int(pages["needs_review"].sum()) if len(pages) else 0
    print(
        f"documents: {len(outcomes)} ({sum(v is None for v in outcomes.values())} ok), pages: {len(pages)}, "
        f"courses: {len(courses)}, flagged pages: {flagged}, time: {seconds:.1f} s"
    )
    return courses, pages


def demo(args: argparse.Namespace) -> int:
    """Sample catalogs (one born-digital, one scanned) through the whole graph on the embedded default."""
    from ocr_pipeline_tests.synthetic.generator import generate_catalog, scan

    root = Path(args.directory).resolve()
    landing = LocalObjectStore(root / "data" / "landing")
    born_digital = generate_catalog("header_fields", n_courses=12, institution="Example University")
    scanned = generate_catalog("units_parenthetical", n_courses=6, institution="Sample State College")
    samples = {
        "Example University/catalog-2026.pdf": born_digital.pdf,
        "Sample State College/scanned-catalog.pdf": scan(scanned.pdf),
    }
    for key, data in samples.items():
        if not landing.exists(key):
            landing.put(key, data)
    home = root / ".dagster_home"
    storage = StorageResource(
        landing_uri=str(root / "data/landing"), work_uri=str(root / "data/work"), output_uri=str(root / "data/output")
    )
    resources = {
        "storage": storage,
        "dynamodb": DynamoResource(),
        "ocr_engine": OcrEngineResource(),
        "review_store": ReviewStoreResource(uri=f"sqlite:///{root / 'data' / 'review.db'}"),
    }
    started = time.perf_counter()
    with _instance(home) as instance:
        outcomes = _run_documents(
            instance, [partition_key_for(k) for k in samples], resources, run_config(log_level="CRITICAL")
        )
    output = LocalObjectStore(storage.output_uri)
    courses, _ = _summary(outcomes, output, time.perf_counter() - started)
    print(f"Parquet: {output.root / 'courses'} (one file per document; pages in {output.root / 'pages'})")
    if len(courses):
        print(
            courses[["course_code", "title", "credits_min", "credits_max", "page", "needs_review"]]
            .head(8)
            .to_string(index=False)
        )
    print(
        f"See the same runs in the UI: cd {root} && DAGSTER_HOME={home} dagster dev -m ocr_pipeline.definitions"
        "   (then open http://127.0.0.1:3000)"
    )
    return 0 if all(v is None for v in outcomes.values()) else 1


def _pdf_files(paths: Sequence[str]) -> tuple[list[Path], Path]:
    """The PDFs named (directories searched recursively) and the root their keys are relative to.

    A directory is its own root, so ``extract catalogs/`` keeps ``<institution>/<file>.pdf``.
    """
    files, roots = [], []
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
            roots.append(path)
        elif path.is_file():
            files.append(path)
            roots.append(path.parent)
        else:
            raise FileNotFoundError(raw)
    return files, Path(os.path.commonpath(roots)) if roots else Path.cwd()


def extract(args: argparse.Namespace) -> int:
    """Given PDFs (or directories) through the same graph; writes courses.parquet and pages.parquet."""
    try:
        files, landing_root = _pdf_files(args.paths)
    except FileNotFoundError as missing:
        print(f"ocr-pipeline extract: no such file or directory: {missing}", file=sys.stderr)
        return 2
    if not files:
        print("ocr-pipeline extract: no PDF files given", file=sys.stderr)
        return 2
    keys = [partition_key_for(f.relative_to(landing_root).as_posix()) for f in files]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ocr-pipeline-") as tmp:
        storage = StorageResource(landing_uri=str(landing_root), work_uri=f"{tmp}/work", output_uri=f"{tmp}/output")
        resources = {
            "storage": storage,
            "dynamodb": DynamoResource(),
            "ocr_engine": OcrEngineResource(engine=args.engine),
            "review_store": ReviewStoreResource(uri=f"sqlite:///{tmp}/review.db"),
        }
        config = run_config(
            dpi=args.dpi,
            ocr_policy=args.ocr,
            institution=args.institution,
            log_level="INFO" if args.verbose else "CRITICAL",  # failures: one line each, tracebacks with --verbose
        )
        with _instance(Path(tmp) / "dagster_home") as instance:
            outcomes = _run_documents(instance, keys, resources, config)
        courses, pages = _summary(outcomes, LocalObjectStore(storage.output_uri), time.perf_counter() - started)
        courses.to_parquet(out / "courses.parquet", index=False)
        pages[PAGES_SCHEMA.names].to_parquet(out / "pages.parquet", index=False)
    print(f"wrote {out / 'courses.parquet'} and {out / 'pages.parquet'}")
    failed = {k: v for k, v in outcomes.items() if v is not None}
    for key, message in failed.items():
        print(f"failed: {key}: {message}", file=sys.stderr)
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocr-pipeline",
        description="Turn PDF course catalogs into validated course records (Dagster assets, run locally).",
        epilog="ocr-pipeline serve --help and ocr-pipeline review serve --help describe the two services.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{demo,extract,serve,review}")
    demo_parser = commands.add_parser(
        "demo", help="run two sample catalogs (one scanned) through the whole graph",
        description="Run two sample catalogs, one born-digital and one scanned, through the whole asset graph on "
                    "an embedded Dagster instance; the Parquet and the runs stay for the Dagster UI.")
    demo_parser.add_argument("--directory", default=".", help="where data/ and .dagster_home/ go (default: here)")
    demo_parser.set_defaults(handler=demo)
    extract_parser = commands.add_parser(
        "extract", help="extract course records from PDFs into two Parquet files",
        description="Run PDFs through the same asset graph on a throwaway Dagster instance and write "
                    "DIR/courses.parquet (one row per course, flagged rows with their reasons) and "
                    "DIR/pages.parquet (one row per page: method, confidence, needs_review, status, reasons). "
                    "Exit code 0 when every document succeeded, 1 when some failed (each named on stderr), "
                    "2 for bad arguments.")
    extract_parser.add_argument("paths", nargs="+", metavar="PDF_OR_DIR",
                                help="PDF files, or directories searched for PDFs (a folder name is the institution)")
    extract_parser.add_argument("--output", required=True, metavar="DIR",
                                help="directory for courses.parquet and pages.parquet (created if missing)")
    extract_parser.add_argument("--ocr", choices=("auto", "ocr", "text"), default="auto",
                                help="auto: OCR only pages without a usable text layer (default); ocr: OCR every page; "
                                     "text: never OCR (pages without text are flagged)")
    extract_parser.add_argument("--engine", choices=sorted(ENGINES), default=DEFAULT_CPU_ENGINE, metavar="ENGINE",
                                help=f"OCR engine, one of {', '.join(sorted(ENGINES))} (default: {DEFAULT_CPU_ENGINE}, "
                                     "on the CPU, no download)")
    extract_parser.add_argument("--dpi", type=int, default=144,
                                help="resolution pages are rendered at for OCR (default: 144; lowered for huge pages)")
    extract_parser.add_argument("--institution", default=None, help="institution for every file (default: from folder)")
    extract_parser.add_argument("--verbose", action="store_true", help="show Dagster's step logs and failures' tracebacks")
    extract_parser.set_defaults(handler=extract)
    serve_parser = commands.add_parser(
        "serve", help="serve an OCR engine under the SageMaker hosting contract", add_help=False
    )
    serve_parser.set_defaults(handler=None)
    review_parser = commands.add_parser("review", help="review serve: the reviewers' web app", add_help=False)
    review_parser.set_defaults(handler=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        from ocr_pipeline.serve.cli import main as serve_main

        return serve_main(argv[1:])
    if argv[:1] == ["review"]:  # ``review serve ...``: the review app's own parser, help and errors
        from ocr_pipeline.review.cli import main as review_main

        return review_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.command == "extract" and args.dpi <= 0:
        print("ocr-pipeline extract: --dpi must be positive", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminated)  # a killed run still removes its temporary instance and work files
    return args.handler(args)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
