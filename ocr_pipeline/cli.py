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
from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa

# Before the definitions are imported: their single-run backfill policy is beta and partitioned asset checks are
# a preview in Dagster 1.13; users of the CLI cannot act on either warning.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from ocr_pipeline.defs.progress import PROGRESS
from ocr_pipeline.defs.resources import local_resources
from ocr_pipeline.materialize import failure_message, materialize_document, run_config
from ocr_pipeline.ocr.registry import DEFAULT_CPU_ENGINE, ENGINES
from ocr_pipeline.stages.raw_catalog_pdfs import institution_for, partition_key_for
from ocr_pipeline.storage.objects import LocalObjectStore
from ocr_pipeline.storage.parquet import COURSES_SCHEMA, PAGES_SCHEMA, PREREQUISITES_SCHEMA

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


def _run_documents(instance: dg.DagsterInstance, configs: Mapping[str, dict], resources: dict) -> dict[str, str | None]:
    """Materialise each partition with its run config; returns partition key -> failure message (None when it
    succeeded)."""
    _show_progress()
    outcomes: dict[str, str | None] = {}
    for number, (key, config) in enumerate(configs.items(), 1):
        print(f"[{number}/{len(configs)}] {key} ...", flush=True)
        started = time.perf_counter()
        result = materialize_document(instance, key, resources, config)
        outcomes[key] = failure_message(result)
        status = "ok" if outcomes[key] is None else f"FAILED: {outcomes[key]}"
        print(f"[{number}/{len(configs)}] {key}: {status} ({time.perf_counter() - started:.1f} s)", flush=True)
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
    try:
        from ocr_pipeline.samples import generate_catalog, scan

        born_digital = generate_catalog("header_fields", n_courses=12, institution="Example University")
        scanned = generate_catalog("units_parenthetical", n_courses=6, institution="Sample State College")
        samples = {
            "Example University/catalog-2026.pdf": born_digital.pdf,
            "Sample State College/scanned-catalog.pdf": scan(scanned.pdf),
        }
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != "reportlab":
            raise
        print(
            "ocr-pipeline demo renders its sample catalogs with reportlab, which is not installed: "
            "pip install 'ocr_pipeline[samples]' (or, from a checkout, pip install -e '.[samples]')",
            file=sys.stderr,
        )
        return 2
    except FileNotFoundError as error:  # the DejaVu fonts (ocr_pipeline/samples/render.py)
        print(f"ocr-pipeline demo: {error}", file=sys.stderr)
        return 2

    root = Path(args.directory).resolve()
    landing = LocalObjectStore(root / "data" / "landing")
    for key, data in samples.items():
        if not landing.exists(key):
            landing.put(key, data)
    home = root / ".dagster_home"
    resources = local_resources(root / "data" / "landing", root / "data")
    storage = resources["storage"]
    started = time.perf_counter()
    with _instance(home) as instance:
        outcomes = _run_documents(
            instance, {partition_key_for(k): run_config(log_level="CRITICAL") for k in samples}, resources
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
        f"See the same runs in the UI: cd {root} && DAGSTER_HOME={home} dagster dev {_code_location()}"
        "   (then open http://127.0.0.1:3000)"
    )
    return 0 if all(v is None for v in outcomes.values()) else 1


def _code_location() -> str:
    """``-w <checkout>/workspace.yaml`` (it names the code location, so ``dagster dev`` logs no warning about an
    unnamed one), else ``-m`` for an installed package without a checkout."""
    workspace = REPO_DAGSTER_YAML.with_name("workspace.yaml")
    return f"-w {workspace}" if workspace.exists() else "-m ocr_pipeline.definitions"


def _pdf_files(paths: Sequence[str]) -> tuple[dict[Path, str | None], Path]:
    """The PDFs named (directories searched recursively), each with its institution, and the root their
    keys are relative to.

    The institution is the file's own folder: ``<dir>/<institution>/<file>.pdf`` below a directory
    given, the parent folder of a file given by name; never a folder the inputs merely share.
    """
    files: dict[Path, str | None] = {}
    roots = []
    for raw in paths:
        path = Path(raw).resolve()
        if path.is_dir():
            for pdf in sorted(p for p in path.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file()):
                files.setdefault(pdf, institution_for(pdf.relative_to(path).as_posix()))
            roots.append(path)
        elif path.is_file():
            files.setdefault(path, path.parent.name or None)
            roots.append(path.parent)
        else:
            raise FileNotFoundError(raw)
    return files, Path(os.path.commonpath(roots)) if roots else Path.cwd()


def extract(args: argparse.Namespace) -> int:
    """Given PDFs (or directories) through the same graph; writes courses.parquet, pages.parquet and
    prerequisites.parquet."""
    try:
        files, landing_root = _pdf_files(args.paths)
    except FileNotFoundError as missing:
        print(f"ocr-pipeline extract: no such file or directory: {missing}", file=sys.stderr)
        return 2
    if not files:
        print("ocr-pipeline extract: no PDF files given", file=sys.stderr)
        return 2
    institutions = {
        partition_key_for(f.relative_to(landing_root).as_posix()): institution for f, institution in files.items()
    }
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ocr-pipeline-") as tmp:
        resources = local_resources(landing_root, Path(tmp), engine=args.engine)
        storage = resources["storage"]
        configs = {
            key: run_config(
                dpi=args.dpi,
                ocr_policy=args.ocr,
                institution=args.institution or institution,
                log_level="INFO" if args.verbose else "CRITICAL",  # failures: one line each, tracebacks with --verbose
            )
            for key, institution in institutions.items()
        }
        with _instance(Path(tmp) / "dagster_home") as instance:
            outcomes = _run_documents(instance, configs, resources)
        courses, pages = _summary(outcomes, LocalObjectStore(storage.output_uri), time.perf_counter() - started)
        courses.to_parquet(out / "courses.parquet", index=False)
        pages[PAGES_SCHEMA.names].to_parquet(out / "pages.parquet", index=False)
        edges = _collect_parquet(LocalObjectStore(storage.output_uri), "prerequisites", PREREQUISITES_SCHEMA)
        edges[PREREQUISITES_SCHEMA.names].to_parquet(
            out / "prerequisites.parquet", index=False, schema=PREREQUISITES_SCHEMA
        )
    print(f"wrote {out / 'courses.parquet'}, {out / 'pages.parquet'} and {out / 'prerequisites.parquet'}")
    failed = {k: v for k, v in outcomes.items() if v is not None}
    for key, message in failed.items():
        print(f"failed: {key}: {message}", file=sys.stderr)
    return 1 if failed else 0


def migrate_source_keys(args: argparse.Namespace) -> int:
    """Move published rows from content-hash keys (0.1) to source-object keys (0.2); see docs/migrations.md."""
    from ocr_pipeline.stages.migrate_source_keys import migrate_source_keys as migrate
    from ocr_pipeline.storage.dynamo import DynamoCourseSink, dynamodb_client
    from ocr_pipeline.storage.objects import open_store
    from ocr_pipeline.storage.work import WorkStore

    if bool(args.old_table) != bool(args.new_table):
        print("ocr-pipeline migrate-source-keys: give both --old-table and --new-table, or neither", file=sys.stderr)
        return 2
    stores = {
        name: open_store(uri, endpoint_url=args.s3_endpoint_url, region=args.region)
        for name, uri in (("work", args.work_uri), ("output", args.output_uri))
    }
    old_table = new_sink = None
    if args.old_table:
        old_table = dynamodb_client(endpoint_url=args.dynamodb_endpoint_url, region=args.region).Table(args.old_table)
        new_sink = DynamoCourseSink(args.new_table, endpoint_url=args.dynamodb_endpoint_url, region=args.region)
        new_sink.ensure_table() if args.create_table else new_sink.check_table()
    report = migrate(WorkStore(stores["work"]), stores["output"], old_table=old_table, new_sink=new_sink)
    print(
        f"migrated {len(report.migrated)} partitions ({len(report.already_done)} already done), "
        f"copied {report.items_copied} DynamoDB items, deleted {report.files_deleted} old Parquet files"
    )
    if args.old_table:
        print(f"check the new table, set OCR_PIPELINE_DYNAMODB_TABLE={args.new_table}, then delete {args.old_table}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocr-pipeline",
        description="Turn PDF course catalogs into validated course records (Dagster assets, run locally).",
        epilog="ocr-pipeline serve --help and ocr-pipeline review serve --help describe the two services.",
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{demo,extract,migrate-source-keys,serve,review}"
    )
    demo_parser = commands.add_parser(
        "demo",
        help="run two sample catalogs (one scanned) through the whole graph",
        description="Run two sample catalogs, one born-digital and one scanned, through the whole asset graph on "
        "an embedded Dagster instance; the Parquet and the runs stay for the Dagster UI.",
    )
    demo_parser.add_argument("--directory", default=".", help="where data/ and .dagster_home/ go (default: here)")
    demo_parser.set_defaults(handler=demo)
    extract_parser = commands.add_parser(
        "extract",
        help="extract course records from PDFs into Parquet files",
        description="Run PDFs through the same asset graph on a throwaway Dagster instance and write "
        "DIR/courses.parquet (one row per course, flagged rows with their reasons) and "
        "DIR/pages.parquet (one row per page: method, confidence, needs_review, status, reasons) and "
        "DIR/prerequisites.parquet (one row per course and prerequisite code it requires). "
        "Exit code 0 when every document succeeded, 1 when some failed (each named on stderr), "
        "2 for bad arguments.",
    )
    extract_parser.add_argument(
        "paths",
        nargs="+",
        metavar="PDF_OR_DIR",
        help="PDF files, or directories searched for PDFs (a folder name is the institution)",
    )
    extract_parser.add_argument(
        "--output",
        required=True,
        metavar="DIR",
        help="directory for courses.parquet, pages.parquet and prerequisites.parquet (created if missing)",
    )
    extract_parser.add_argument(
        "--ocr",
        choices=("auto", "ocr", "text"),
        default="auto",
        help="auto: OCR only pages without a usable text layer (default); ocr: OCR every page; "
        "text: never OCR (pages without text are flagged)",
    )
    extract_parser.add_argument(
        "--engine",
        choices=sorted(ENGINES),
        default=DEFAULT_CPU_ENGINE,
        metavar="ENGINE",
        help=f"OCR engine, one of {', '.join(sorted(ENGINES))} (default: {DEFAULT_CPU_ENGINE}, "
        "on the CPU, no download)",
    )
    extract_parser.add_argument(
        "--dpi",
        type=int,
        default=144,
        help="resolution pages are rendered at for OCR (default: 144; lowered for huge pages)",
    )
    extract_parser.add_argument("--institution", default=None, help="institution for every file (default: from folder)")
    extract_parser.add_argument(
        "--verbose", action="store_true", help="show Dagster's step logs and failures' tracebacks"
    )
    extract_parser.set_defaults(handler=extract)
    migrate_parser = commands.add_parser(
        "migrate-source-keys",
        help="one-off 0.1 -> 0.2 migration: rows keyed by source object, not content",
        description="Rewrite published Parquet under source_key=<source id> and copy DynamoDB items into a table "
        "keyed by source_id (DynamoDB cannot change a key schema in place). Safe to re-run. "
        "See docs/migrations.md.",
    )
    migrate_parser.add_argument(
        "--work-uri",
        default=os.environ.get("OCR_PIPELINE_WORK_URI", "data/work"),
        help="the work store (default: $OCR_PIPELINE_WORK_URI or data/work)",
    )
    migrate_parser.add_argument(
        "--output-uri",
        default=os.environ.get("OCR_PIPELINE_OUTPUT_URI", "data/output"),
        help="the Parquet output (default: $OCR_PIPELINE_OUTPUT_URI or data/output)",
    )
    migrate_parser.add_argument("--s3-endpoint-url", default=os.environ.get("OCR_PIPELINE_S3_ENDPOINT_URL"))
    migrate_parser.add_argument("--old-table", help="the 0.1 DynamoDB table (keyed by document_id)")
    migrate_parser.add_argument("--new-table", help="the 0.2 table to copy into (keyed by source_id)")
    migrate_parser.add_argument("--create-table", action="store_true", help="create --new-table when missing")
    migrate_parser.add_argument("--dynamodb-endpoint-url", default=os.environ.get("OCR_PIPELINE_DYNAMODB_ENDPOINT_URL"))
    migrate_parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    migrate_parser.set_defaults(handler=migrate_source_keys)
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
