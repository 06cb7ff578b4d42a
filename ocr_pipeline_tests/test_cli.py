"""``ocr-pipeline extract``: the same graph on a local instance, one bad file never sinks the batch."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from ocr_pipeline.cli import main
from ocr_pipeline.samples import generate_catalog
from ocr_pipeline.storage.parquet import CONTRACT_COLUMNS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_extract_writes_both_tables_and_reports_the_bad_file(tmp_path, capsys):
    catalogs = tmp_path / "in"
    (catalogs / "Example U").mkdir(parents=True)
    good = generate_catalog("requirement_list", n_courses=8)
    (catalogs / "Example U" / "degree reqs.pdf").write_bytes(good.pdf)
    (catalogs / "Example U" / "broken.pdf").write_bytes(b"%PDF-1.7\n garbage")
    code = main(["extract", str(catalogs), "--output", str(tmp_path / "out"), "--ocr", "text"])
    assert code == 1
    captured = capsys.readouterr()
    assert "failed: Example U/broken.pdf: raw_catalog_pdfs:" in captured.err and "corrupt" in captured.err
    courses = pd.read_parquet(tmp_path / "out" / "courses.parquet")
    assert list(courses.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert set(courses["course_code"]) == {c.course_code for c in good.truth}
    assert set(courses["institution"]) == {"Example U"}
    pages = pd.read_parquet(tmp_path / "out" / "pages.parquet")
    assert list(pages.columns) == [
        "document_id",
        "source_id",
        "page",
        "method",
        "engine",
        "confidence",
        "needs_review",
        "status",
        "reasons",
    ]
    assert len(pages) == 3 and set(pages["method"]) == {"text-layer"}


def test_extract_exit_codes_for_bad_arguments(tmp_path):
    assert main(["extract", str(tmp_path / "missing.pdf"), "--output", str(tmp_path)]) == 2
    completed = subprocess.run(
        [sys.executable, "-m", "ocr_pipeline.cli", "extract", "x.pdf", "--output", str(tmp_path), "--ocr", "sometimes"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2 and "invalid choice" in completed.stderr


def test_dg_check_defs_passes(tmp_path):
    # Without DAGSTER_HOME, dg makes its instance in a .tmp_dagster_home_* directory in the working directory.
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "check", "defs"],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "All definitions loaded successfully" in completed.stdout + completed.stderr


def test_demo_publishes_a_dataset_analysts_read_with_pandas_and_duckdb(tmp_path, capsys):
    import duckdb

    assert main(["demo", "--directory", str(tmp_path)]) == 0
    # the UI hint names the workspace file (a named code location: no warning in every dagster dev log line)
    assert f"dagster dev -w {ROOT / 'workspace.yaml'}" in capsys.readouterr().out
    courses = pd.read_parquet(tmp_path / "data" / "output" / "courses")
    assert list(courses.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert set(courses["institution"]) == {"Example University", "Sample State College"}
    assert set(courses["extraction_method"]) == {"text-layer", "ocr:rapidocr"}
    counts = dict(
        duckdb.sql(
            f"SELECT institution, count(*) FROM read_parquet('{tmp_path}/data/output/courses/**/*.parquet') "
            "GROUP BY institution"
        ).fetchall()
    )
    assert counts == courses.groupby("institution").size().to_dict()
    assert (tmp_path / ".dagster_home" / "dagster.yaml").exists()


def test_demo_without_reportlab_names_the_extra_to_install(tmp_path, monkeypatch, capsys):
    """reportlab renders the sample catalogs only: it is the ``samples`` extra, not a dependency of the pipeline."""
    for name in [m for m in sys.modules if m.partition(".")[0] == "reportlab" or m.startswith("ocr_pipeline.samples")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "reportlab", None)  # import reportlab(.anything) -> ModuleNotFoundError
    assert main(["demo", "--directory", str(tmp_path)]) == 2
    assert "pip install 'ocr_pipeline[samples]'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocr_pipeline.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_review_serve_is_wired_with_its_own_help_and_no_beta_warnings():
    shown = _cli("review", "serve", "--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: ocr-pipeline review serve") and "--tokens-file" in shown.stdout
    assert "BetaWarning" not in shown.stderr
    bare = _cli("review")
    assert bare.returncode == 2 and "Traceback" not in bare.stderr and "serve" in bare.stderr


def test_extract_keeps_the_contract_columns_when_every_document_fails(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
    assert main(["extract", str(tmp_path / "in"), "--output", str(tmp_path / "out")]) == 1
    courses = pd.read_parquet(tmp_path / "out" / "courses.parquet")
    pages = pd.read_parquet(tmp_path / "out" / "pages.parquet")
    assert len(courses) == len(pages) == 0
    assert list(courses.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert list(pages.columns) == [
        "document_id",
        "source_id",
        "page",
        "method",
        "engine",
        "confidence",
        "needs_review",
        "status",
        "reasons",
    ]


def test_extract_shows_page_progress_and_one_line_per_failure(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "good.pdf").write_bytes(generate_catalog("requirement_list", n_courses=4).pdf)
    (tmp_path / "in" / "bad.pdf").write_bytes(b"%PDF-1.4 this is not a PDF")
    run = _cli("extract", str(tmp_path / "in"), "--output", str(tmp_path / "out"))
    assert run.returncode == 1
    output = run.stdout + run.stderr
    assert "Traceback" not in output and "BetaWarning" not in output
    assert re.search(r"rendered: (\d+)/\1 pages", run.stderr) and re.search(r"read: (\d+)/\1 pages", run.stderr)
    assert sum("bad.pdf" in line and "FAILED" in line for line in output.splitlines()) == 1


def test_extract_help_explains_every_option_without_markup(capsys):
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    shown = capsys.readouterr().out
    for option, words in (
        ("--ocr", "without a usable text layer"),
        ("--engine", "rapidocr"),
        ("--dpi", "resolution"),
        ("--output", "courses.parquet"),
    ):
        assert option in shown and words in shown, option
    assert "`" not in shown
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "`" not in capsys.readouterr().out


def test_a_terminated_extract_leaves_no_temporary_folder(tmp_path):
    (tmp_path / "in").mkdir()
    for number in range(3):
        (tmp_path / "in" / f"c{number}.pdf").write_bytes(generate_catalog("header_fields", seed=number).pdf)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "ocr_pipeline.cli", "extract", str(tmp_path / "in"), "--output", str(tmp_path / "out")],
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not any(scratch.glob("ocr-pipeline-*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert any(scratch.glob("ocr-pipeline-*")), "extract never made its temporary folder"
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    assert not list(scratch.glob("ocr-pipeline-*"))
