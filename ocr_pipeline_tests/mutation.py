"""Mutation testing of the modules whose logic decides data safety and correctness (issue 17).

Two checks, both on a temporary copy of the project (the working tree is never modified):

``--hand``
    The hand-made mutants of issue 17 (one line each: a deleted delete, ``>=`` -> ``>``, a cap turned
    off), each applied to the copy and run against the regression test that must kill it. Takes a
    minute or two; fails (exit 1) if any mutant survives.

groups (default: all of them)
    mutmut (``pip install -e '.[dev]'``) over each group's modules, run against the fast tests that
    cover them; prints the score per module (killed / all mutants) and the surviving mutants, and
    with ``--markdown FILE`` writes the table. Slow on two cores (see ``docs/mutation.md``).

    python -m ocr_pipeline_tests.mutation --hand
    python -m ocr_pipeline_tests.mutation review landing_scan --jobs 2 --markdown /tmp/scores.md
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T = "ocr_pipeline_tests/"
QUIET = ["-p", "no:cacheprovider", "-W", "ignore", "-o", "addopts="]


@dataclass(frozen=True)
class Group:
    modules: tuple[str, ...]
    """Globs of the files to mutate, relative to the project root."""
    tests: tuple[str, ...]
    """pytest arguments selecting the fast tests that cover them."""


GROUPS: dict[str, Group] = {
    "catalog_rules": Group(
        (
            "ocr_pipeline/catalog/validate.py",
            "ocr_pipeline/catalog/profile.py",
            "ocr_pipeline/catalog/codes.py",
            "ocr_pipeline/catalog/credits.py",
        ),
        (
            T + "test_regressions_untested.py",
            T + "test_parser_rules.py",
            T + "test_credits.py",
            T + "test_parser_layouts.py",
            T + "test_parser_real_layouts.py",
            "-k",
            "not review_serve and not backlog and not truncated and not profiles_dir",
        ),
    ),
    "catalog_parser": Group(
        (
            "ocr_pipeline/catalog/parser.py",
            "ocr_pipeline/catalog/tables.py",
            "ocr_pipeline/catalog/forms.py",
            "ocr_pipeline/catalog/reading_order.py",
        ),
        (
            T + "test_parser_rules.py",
            T + "test_parser_layouts.py",
            T + "test_parser_real_layouts.py",
            T + "test_reading_order.py",
            T + "test_ocr_layout.py",
            T + "test_credits.py",
            T + "test_parser_headers.py",
            T + "test_parser_scoring.py",
            T + "test_tables_rules.py",
            T + "test_reading_order_rules.py",
            T + "test_regressions_untested.py::test_a_profile_changes_what_the_parser_finds",
        ),
    ),
    "catalog_other": Group(
        (
            "ocr_pipeline/catalog/flags.py",
            "ocr_pipeline/catalog/corrections.py",
            "ocr_pipeline/catalog/changes.py",
            "ocr_pipeline/catalog/prerequisites.py",
        ),
        (
            T + "test_review_rules.py",
            T + "test_corrections_rules.py",
            T + "test_catalog_changes.py",
            T + "test_prerequisites.py",
            T + "test_prerequisites_rules.py",
            "-k",
            "not end_to_end and not readme_query and not extract_writes and not store",
        ),
    ),
    "storage": Group(
        ("ocr_pipeline/storage/*.py",),
        (
            T + "test_regressions_storage.py",
            T + "test_documents.py",
            T + "test_regressions_mutants.py::test_dynamo_rows_no_longer_produced_are_deleted",
            T + "test_regressions_mutants.py::test_dynamo_items_of_the_earlier_content_are_deleted",
        ),
    ),
    "landing_scan": Group(
        ("ocr_pipeline/stages/landing_scan.py",),
        (
            T + "test_sensor.py",
            T + "test_regressions_mutants.py",
            "-k",
            "sensor or pass or watermark or seen or cursor or timestamps or etag",
        ),
    ),
    "validated_courses": Group(
        ("ocr_pipeline/stages/validated_courses.py",),
        (T + "test_validated_courses.py",),
    ),
    "review": Group(
        ("ocr_pipeline/review/consensus.py", "ocr_pipeline/review/workflow.py"),
        (
            T + "test_review_rules.py",
            T + "test_review_a2i.py",
            T + "test_regressions_review.py",
            T + "test_regressions_mutants.py",
            "-k",
            "not dynamodb and not rerun and not content and not rows and not retry",
        ),
    ),
    "guard": Group(("ocr_pipeline/serve/guard.py",), (T + "test_serve_fetch.py", T + "test_regressions_guard.py")),
}

HAND_MUTANTS = [
    # (what, file, original text, mutated text, the test that must fail)
    (
        "dynamo.py: rows no longer produced not deleted",
        "ocr_pipeline/storage/dynamo.py",
        'batch.delete_item(Key={"source_id": source_id, "entry_id": entry_id})',
        "pass",
        "test_regressions_mutants.py::test_dynamo_rows_no_longer_produced_are_deleted",
    ),
    (
        "dynamo.py: another object's rows written under this object",
        "ocr_pipeline/storage/dynamo.py",
        'if any(row["source_id"] != source_id for row in rows):',
        "if False:",
        "test_regressions_mutants.py::test_dynamo_items_of_the_earlier_content_are_deleted",
    ),
    (
        "validated_courses.py: old Parquet files not deleted",
        "ocr_pipeline/stages/validated_courses.py",
        "output.delete(old_key)",
        "pass",
        "test_regressions_mutants.py::test_changed_content_replaces_the_earlier_rows_in_parquet_and_dynamodb",
    ),
    (
        "landing_scan.py: pass start reset every tick",
        "ocr_pipeline/stages/landing_scan.py",
        "pass_started = datetime.fromisoformat(cursor.pass_started) if cursor.after and cursor.pass_started else now",
        "pass_started = now",
        "test_regressions_mutants.py::test_the_pass_start_is_kept_across_ticks_so_a_write_early_in_a_long_pass_is_found",
    ),
    (
        "landing_scan.py: >= -> > on the watermark",
        "ocr_pipeline/stages/landing_scan.py",
        "obj.last_modified >= watermark)",
        "obj.last_modified > watermark)",
        "test_regressions_mutants.py::test_an_object_exactly_at_the_watermark_is_found",
    ),
    (
        "landing_scan.py: >= -> > when remembering seen",
        "ocr_pipeline/stages/landing_scan.py",
        "if obj.last_modified >= next_watermark:",
        "if obj.last_modified > next_watermark:",
        "test_regressions_mutants.py::test_an_object_exactly_at_the_next_watermark_is_requested_once",
    ),
    (
        "landing_scan.py: >= -> > when pruning seen",
        "ocr_pipeline/stages/landing_scan.py",
        "if datetime.fromisoformat(v[1]) >= next_watermark}",
        "if datetime.fromisoformat(v[1]) > next_watermark}",
        "test_regressions_mutants.py::test_an_object_exactly_at_the_next_watermark_is_requested_once",
    ),
    (
        "landing_scan.py: seen never pruned",
        "ocr_pipeline/stages/landing_scan.py",
        "seen = {k: v for k, v in seen.items() if datetime.fromisoformat(v[1]) >= next_watermark}",
        "seen = dict(seen)",
        "test_regressions_mutants.py::test_seen_is_pruned_once_objects_fall_below_the_watermark",
    ),
    (
        "consensus.py: >= -> > at the agreement threshold",
        "ocr_pipeline/review/consensus.py",
        "count / total >= agreement",
        "count / total > agreement",
        "test_regressions_mutants.py::test_three_of_five_is_exactly_the_sixty_percent_threshold_and_is_accepted",
    ),
    (
        "schedules.py: quarantine retry cap off",
        "ocr_pipeline/defs/schedules.py",
        "if (record := work.quarantine(key)) is not None and",
        "if False and (record := work.quarantine(key)) is not None and",
        "test_regressions_mutants.py::test_retry_schedule_stops_retrying_a_document_quarantined_three_times",
    ),
]


def copy_project(target: Path) -> Path:
    """``ocr_pipeline``, ``ocr_pipeline_tests`` and ``pyproject.toml`` under ``target``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "mutants")
    for name in ("ocr_pipeline", "ocr_pipeline_tests"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def imported_from(copy: Path) -> Path:
    """Where ``import ocr_pipeline`` resolves when run in ``copy`` (must be the copy, not the checkout)."""
    out = subprocess.run(
        [sys.executable, "-c", "import ocr_pipeline; print(ocr_pipeline.__file__)"],
        cwd=copy,
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Path(out).resolve()


def hand(verbose: bool) -> int:
    """Apply each hand-made mutant to a copy, run its test; 0 when every one is killed."""
    survivors = 0
    with tempfile.TemporaryDirectory(prefix="ocr-mutation-hand-") as tmp:
        copy = copy_project(Path(tmp))
        assert imported_from(copy).is_relative_to(copy.resolve()), "the copy's ocr_pipeline is not the one imported"
        for what, path, old, new, test in HAND_MUTANTS:
            file = copy / path
            original = file.read_text()
            if original.count(old) != 1:
                print(f"STALE    {what}: the original text is no longer in {path} (update HAND_MUTANTS)")
                survivors += 1
                continue
            file.write_text(original.replace(old, new))
            try:
                started = time.monotonic()
                result = subprocess.run(
                    [sys.executable, "-m", "pytest", "-x", "-q", *QUIET, T + test],
                    cwd=copy,
                    env=environment(),
                    capture_output=True,
                    text=True,
                )
            finally:
                file.write_text(original)
            failure = next((line for line in result.stdout.splitlines() if line.startswith("E ")), "")
            killed = result.returncode == 1 and failure
            survivors += not killed
            print(
                f"{'KILLED' if killed else 'SURVIVED':8} {what}  ({time.monotonic() - started:.0f} s)  "
                f"<- {test.split('::')[-1]}",
                flush=True,
            )
            if verbose or not killed:
                print(f"         {failure.strip() or result.stdout.strip().splitlines()[-1]}")
    return 1 if survivors else 0


def mutmut_config(group: Group) -> str:
    def toml_list(values) -> str:
        return "[" + ", ".join(json.dumps(value) for value in values) + "]"

    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["ocr_pipeline"]\n'
        f"only_mutate = {toml_list(group.modules)}\n"
        'also_copy = ["ocr_pipeline_tests"]\n'
        f"pytest_add_cli_args_test_selection = {toml_list(group.tests)}\n"
        f"pytest_add_cli_args = {toml_list(QUIET)}\n"
        "use_git_change_detection = false\n"
    )


def run_group(
    name: str, group: Group, jobs: int, workdir: Path, mutants: tuple[str, ...] = (), show: bool = True
) -> dict[str, Counter]:
    """mutmut over one group in its own copy (``mutants``: only the mutants matching these globs, e.g.
    ``ocr_pipeline.catalog.parser.x__header__mutmut_*``); returns status counts per module and prints the
    survivors (with their diffs when ``show``)."""
    copy = copy_project(workdir / name)
    with (copy / "pyproject.toml").open("a") as handle:
        handle.write(mutmut_config(group))
    started = time.monotonic()
    log = copy / "mutmut.log"
    with log.open("w") as out:
        code = subprocess.call(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *mutants],
            cwd=copy,
            env=environment(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    print(f"[{name}] mutmut exited {code} after {time.monotonic() - started:.0f} s (log: {log})", flush=True)
    from mutmut.stats import status_by_exit_code

    scores: dict[str, Counter] = {}
    for meta in sorted((copy / "mutants").rglob("*.py.meta")):
        module = meta.relative_to(copy / "mutants").as_posix().removesuffix(".meta")
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        statuses = {
            key: status_by_exit_code[value]
            for key, value in codes.items()
            if not mutants or any(fnmatch.fnmatch(key, pattern) for pattern in mutants)
        }
        if not statuses:
            continue
        scores[module] = Counter(statuses.values())
        for key, status in sorted(statuses.items()):
            if status not in ("killed", "timeout") and not show:
                print(f"  {status:10} {key}")
            elif status not in ("killed", "timeout"):
                diff = subprocess.run(
                    [sys.executable, "-m", "mutmut", "show", key],
                    cwd=copy,
                    env=environment(),
                    capture_output=True,
                    text=True,
                ).stdout
                changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
                print(f"  {status:10} {key}\n" + "".join(f"      {line}\n" for line in changed), end="")
    return scores


def table(scores: dict[str, Counter]) -> str:
    lines = [
        "| module | mutants | killed | survived | no tests | other | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for module, counts in sorted(scores.items()):
        total = sum(counts.values())
        killed = counts["killed"] + counts["timeout"]
        other = total - killed - counts["survived"] - counts["no tests"]
        score = f"{100 * killed / total:.0f}%" if total else "-"
        lines.append(
            f"| `{module}` | {total} | {killed} | {counts['survived']} | {counts['no tests']} | {other} | {score} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("groups", nargs="*", metavar="GROUP", help=f"mutmut groups: {', '.join(GROUPS)} (default: all)")
    parser.add_argument("--hand", action="store_true", help="only the hand-made mutants of issue 17")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="mutants tested in parallel")
    parser.add_argument("--workdir", type=Path, help="keep the copies (and mutmut's results) here")
    parser.add_argument("--markdown", type=Path, help="write the score table to this file")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument(
        "--mutants", action="append", default=[], metavar="GLOB", help="only mutants matching this glob (repeatable)"
    )
    parser.add_argument("--no-diffs", action="store_true", help="list surviving mutants without their diffs (faster)")
    args = parser.parse_args(argv)
    if unknown := [name for name in args.groups if name not in GROUPS]:
        parser.error(f"unknown group(s) {unknown}; choose from {list(GROUPS)}")
    if args.hand:
        return hand(args.verbose)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ocr-mutation-"))
    workdir.mkdir(parents=True, exist_ok=True)
    scores: dict[str, Counter] = {}
    for name in args.groups or list(GROUPS):
        scores.update(run_group(name, GROUPS[name], args.jobs, workdir, tuple(args.mutants), not args.no_diffs))
    text = table(scores)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
