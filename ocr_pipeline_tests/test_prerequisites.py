"""Prerequisites as data: the parser (pure), and ``prerequisites.parquet`` published and queried with DuckDB."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq
import pytest

from ocr_pipeline.catalog.prerequisites import CatalogShape, parse_prerequisites, prerequisite_rows
from ocr_pipeline.defs.resources import local_resources
from ocr_pipeline.materialize import failure_message, materialize_document, run_config
from ocr_pipeline.stages.migrate_source_keys import migrate_source_keys
from ocr_pipeline.storage.objects import LocalObjectStore
from ocr_pipeline.storage.parquet import CONTRACT_COLUMNS, COURSES_SCHEMA, PREREQUISITES_SCHEMA
from ocr_pipeline.storage.work import WorkStore
from ocr_pipeline_tests.catalog_samples import Course, catalog_pdf

ROOT = Path(__file__).resolve().parent.parent


def rows(*codes: str, separator: str = " ") -> list[dict]:
    out = []
    for code in codes:
        subject, number = code.split(" ")
        out.append({"course_code": f"{subject}{separator}{number}", "subject": subject, "number": number})
    return out


SHAPE = CatalogShape.from_rows(rows("CHEM 101", "CHEM 102", "MATH 120", "BIOL 110"))


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("CHEM 101 and MATH 120 or permission", [["CHEM 101"], ["MATH 120"]]),
        ("CHEM 101 or 102", [["CHEM 101", "CHEM 102"]]),
        ("CHEM 101, 102, and 103", [["CHEM 101"], ["CHEM 102"], ["CHEM 103"]]),
        ("CHEM 101, 102, or 103", [["CHEM 101", "CHEM 102", "CHEM 103"]]),
        ("CHEM 101 and (MATH 120 or MATH 121)", [["CHEM 101"], ["MATH 120", "MATH 121"]]),
        ("(CHEM 101 or CHEM 102) and MATH 120", [["CHEM 101", "CHEM 102"], ["MATH 120"]]),
        ("[CHEM 101 or CHEM 102] and MATH 120.", [["CHEM 101", "CHEM 102"], ["MATH 120"]]),
        ("(CHEM 101 and CHEM 102) or BIOL 110", [["CHEM 101", "BIOL 110"], ["CHEM 102", "BIOL 110"]]),
        ("CHEM 101 or MATH 120 and BIOL 110", [["CHEM 101", "MATH 120"], ["BIOL 110"]]),  # "or" binds tighter
        ("MATH 120/121 and CHEM 101 and/or BIOL 110", [["MATH 120", "MATH 121"], ["CHEM 101", "BIOL 110"]]),
        ("MATH 120 (or 121)", [["MATH 120", "MATH 121"]]),
        ("CHEM 101 (or equivalent)", [["CHEM 101"]]),
        ("MATH 120 (Calculus I) and CHEM 101", [["MATH 120"], ["CHEM 101"]]),
        ("CHEM 101-102", [["CHEM 101"], ["CHEM 102"]]),  # a two-course sequence
        ("CHEM 301-399", []),  # a range names no course
        ("Chem 101 with a grade of C or better", [["CHEM 101"]]),
        ("A grade of C- or better in CHEM 101 or CHEM 102.", [["CHEM 101", "CHEM 102"]]),
        ("Junior standing or CHEM 101", [["CHEM 101"]]),
        ("CHEM101 or CHEM-102", [["CHEM 101", "CHEM 102"]]),  # the catalog's shape
        ("Prerequisite: CHEM 101. Corequisite: MATH 120.", [["CHEM 101"], ["MATH 120"]]),
        ("CHEM 101; MATH 120 recommended.", [["CHEM 101"]]),
        ("CHEM 101 (formerly CHEM 100)", [["CHEM 101"]]),
        ("Not open to students with credit in CHEM 102.", []),
        ("Credit not given for both CHEM 101 and CHEM 102.", []),
        ("PHYS 211 and MATH 120", [["PHYS 211"], ["MATH 120"]]),  # unknown subject, the catalog's code shape
        ("ENGL 1010 or PHYS 21", []),  # unknown subjects, other number lengths
        ("SAT 500 or MATH 120", [["MATH 120"]]),
        ("GPA 2.5 and CHEM 101", [["CHEM 101"]]),
        ("Fall 2024 admission", []),
        ("any CHEM 300-level course", []),
        ("MATH 120 and 150 credits", [["MATH 120"]]),
        ("Math 12 or MATH 120", [["MATH 120"]]),  # a known subject, but not the catalog's number length
        ("Two years of MATH 3 hours", []),
        ("Consent of instructor.", []),
        ("None", []),
        ("none.", []),
        ("", []),
        (None, []),
    ],
)
def test_parse_prerequisites(text, groups):
    assert parse_prerequisites(text, SHAPE) == groups


def test_codes_come_out_in_the_catalogs_shape():
    shape = CatalogShape.from_rows(rows("ACCT 212", "ACCT 301", "FINC 341", separator="-"))
    assert shape.separator == "-" and shape.subjects == {"ACCT", "FINC"} and shape.digits == {3}
    assert parse_prerequisites("ACCT 212 or Acct 213; FINC341", shape) == [["ACCT-212", "ACCT-213"], ["FINC-341"]]
    assert parse_prerequisites("MGMT 210", shape) == []  # an unknown subject must be printed like the catalog's codes
    assert parse_prerequisites("MGMT-210", shape) == [["MGMT-210"]]
    glued = CatalogShape.from_rows(
        [
            {"course_code": "GERL101B1", "subject": "GERL", "number": "101B1"},
            {"course_code": "CS116", "subject": "CS", "number": "116"},
        ]
    )
    assert parse_prerequisites("GERL101B1 or GERL101B2, CS116co", glued) == [["GERL101B1", "GERL101B2"]]


def test_prerequisite_rows_add_codes_and_edges_without_changing_the_rows():
    courses = [
        {
            **row,
            "source_id": "s1",
            "document_id": "d1",
            "institution": "U",
            "entry_id": f"{row['course_code']}#1",
            "prerequisites": text,
        }
        for row, text in zip(
            rows("CHEM 101", "CHEM 102", "CHEM 201", "MATH 120"),
            [None, "CHEM 101 or 102 or permission", "CHEM 102 and (MATH 120 or MATH 121)", "None."],
        )
    ]
    before = json.dumps(courses)
    out, edges = prerequisite_rows(courses)
    assert json.dumps(courses) == before
    assert [row["prerequisite_codes"] for row in out] == [[], ["CHEM 101"], ["CHEM 102", "MATH 120", "MATH 121"], []]
    assert [(e["course_code"], e["required_code"], e["group"], e["kind"], e["required_in_catalog"]) for e in edges] == [
        ("CHEM 102", "CHEM 101", 1, "and", True),  # CHEM 102 itself is dropped from its own group
        ("CHEM 201", "CHEM 102", 1, "and", True),
        ("CHEM 201", "MATH 120", 2, "or", True),
        ("CHEM 201", "MATH 121", 2, "or", False),
    ]
    assert all((e["source_id"], e["document_id"], e["institution"]) == ("s1", "d1", "U") for e in edges)
    assert set(edges[0]) == set(PREREQUISITES_SCHEMA.names)


def test_cross_listed_codes_are_the_catalogs_own():
    shape = CatalogShape.from_rows(
        [
            {"course_code": "CSCE 320/STAT 335", "subject": "CSCE", "number": "320"},
            {"course_code": "CIVE 451/851", "subject": "CIVE", "number": "451"},
        ]
    )
    assert {"CSCE 320", "STAT 335", "CIVE 451", "CIVE 851"} <= shape.codes


# --- published and queried ------------------------------------------------------------------------

COURSES = [
    Course("CHEM 101", "General Chemistry I", "4"),
    Course("CHEM 102", "General Chemistry II", "4", "CHEM 101 with a grade of C or better."),
    Course("CHEM 201", "Organic Chemistry I", "3", "CHEM 102 and (MATH 120 or MATH 121)."),
    Course("CHEM 301", "Biochemistry", "3", "CHEM 201 or 202; BIOL 110 recommended."),
    Course("MATH 120", "Calculus I", "4"),
    Course("MATH 121", "Calculus II", "4", "MATH 120 or consent of instructor."),
    Course("BIOL 110", "Cell Biology", "3", "None."),
]
KEY = "Example U/catalog-2026.pdf"


def readme_query(name: str) -> str:
    """The README's DuckDB query whose first line is ``-- <name>``."""
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", readme, re.DOTALL)
    return next(block for block in blocks if block.startswith(f"-- {name}"))


def test_published_prerequisites_answer_the_readme_query(tmp_path):
    import duckdb

    (tmp_path / "landing" / "Example U").mkdir(parents=True)
    (tmp_path / "landing" / KEY).write_bytes(catalog_pdf("Example U", "Example U Catalog 2026", COURSES))
    resources = local_resources(tmp_path / "landing", tmp_path)
    with dg.instance_for_test() as instance:
        result = materialize_document(instance, KEY, resources, run_config(ocr_policy="text"))
        assert result.success, failure_message(result)

        courses = pd.read_parquet(tmp_path / "output" / "courses")
        assert list(courses.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
        assert list(courses.columns[: len(COURSES_SCHEMA)]) == COURSES_SCHEMA.names
        codes = {row.course_code: list(row.prerequisite_codes) for row in courses.itertuples()}
        assert codes == {
            "CHEM 101": [],
            "CHEM 102": ["CHEM 101"],
            "CHEM 201": ["CHEM 102", "MATH 120", "MATH 121"],
            "CHEM 301": ["CHEM 201", "CHEM 202"],
            "MATH 120": [],
            "MATH 121": ["MATH 120"],
            "BIOL 110": [],
        }
        source_id = courses["source_id"].iloc[0]
        edges_file = (
            tmp_path
            / "output"
            / "prerequisites"
            / "institution_key=Example U"
            / f"source_key={source_id}"
            / "prerequisites.parquet"
        )
        edges = pq.read_table(edges_file)
        assert edges.schema == PREREQUISITES_SCHEMA
        assert len(edges) == 7 and not edges.to_pandas()[["required_code"]].isna().any().any()

        sql = readme_query("courses that require CHEM 101").replace("data/output", str(tmp_path / "output"))
        found = duckdb.sql(sql).fetchall()
        assert [(row[0], row[1], row[2]) for row in found] == [
            ("Example U", "CHEM 102", 1),
            ("Example U", "CHEM 201", 2),
            ("Example U", "CHEM 301", 3),
        ]

        work, output = LocalObjectStore(tmp_path / "work"), LocalObjectStore(tmp_path / "output")
        published = json.loads(work.get(f"partitions/{KEY}/published.json"))
        first = published["first_published_at"]
        assert published["prerequisites_key"] == edges_file.relative_to(tmp_path / "output").as_posix()

        # the 0.1 -> 0.2 migration leaves a current partition alone
        report = migrate_source_keys(WorkStore(work), output)
        assert report.already_done == [KEY] and report.files_deleted == 0 and edges_file.exists()

        # a re-publish under another institution moves all three files; the old ones go
        result = materialize_document(instance, KEY, resources, run_config(ocr_policy="text", institution="Renamed U"))
        assert result.success, failure_message(result)
    assert not edges_file.exists()
    assert sorted(p.relative_to(tmp_path / "output").as_posix() for p in (tmp_path / "output").rglob("*.parquet")) == [
        f"{dataset}/institution_key=Renamed U/source_key={source_id}/{dataset}.parquet"
        for dataset in ("courses", "pages", "prerequisites")
    ]
    published = json.loads(work.get(f"partitions/{KEY}/published.json"))
    assert published["first_published_at"] == first


def test_extract_writes_the_prerequisites_table(tmp_path):
    from ocr_pipeline.cli import main

    (tmp_path / "in" / "Example U").mkdir(parents=True)
    (tmp_path / "in" / "Example U" / "catalog.pdf").write_bytes(catalog_pdf("Example U", "Catalog", COURSES[:3]))
    assert main(["extract", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--ocr", "text"]) == 0
    edges = pq.read_table(tmp_path / "out" / "prerequisites.parquet")
    assert edges.schema.names == PREREQUISITES_SCHEMA.names
    assert sorted(zip(edges["course_code"].to_pylist(), edges["required_code"].to_pylist())) == [
        ("CHEM 102", "CHEM 101"),
        ("CHEM 201", "CHEM 102"),
        ("CHEM 201", "MATH 120"),
        ("CHEM 201", "MATH 121"),
    ]
    assert list(pd.read_parquet(tmp_path / "out" / "courses.parquet")["prerequisite_codes"].map(list)) == [
        [],
        ["CHEM 101"],
        ["CHEM 102", "MATH 120", "MATH 121"],
    ]
