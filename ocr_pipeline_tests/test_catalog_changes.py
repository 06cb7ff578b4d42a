"""``catalog_changes``: editions ordered and compared (pure), and the asset over two published editions."""

from __future__ import annotations

import dagster as dg
import pyarrow.parquet as pq

from ocr_pipeline.catalog.changes import Edition, catalog_changes, change_counts, compare_editions, edition_order
from ocr_pipeline.definitions import defs
from ocr_pipeline.defs.catalog_changes import catalog_changes as catalog_changes_asset
from ocr_pipeline.defs.catalog_changes import daily_catalog_changes
from ocr_pipeline.defs.resources import local_resources
from ocr_pipeline.materialize import failure_message, materialize_document, run_config
from ocr_pipeline.storage.parquet import CATALOG_CHANGES_SCHEMA
from ocr_pipeline_tests.catalog_samples import Course, catalog_pdf


def edition(
    uri: str,
    catalog: str | None = None,
    published: str | None = None,
    institution: str = "U",
    rows: tuple = ({"course_code": "X 100", "title": "T", "page": 1},),
) -> Edition:
    return Edition(institution, uri.rsplit("/", 1)[-1], uri, catalog, tuple(rows), published)


def test_editions_are_ordered_by_year_else_by_first_publish_time():
    late_upload = edition("s3://b/l/U/catalog-2024.pdf", published="2026-03-01")
    early_upload = edition("s3://b/l/U/catalog-2025-26.pdf", published="2026-01-01")
    titled = edition("s3://b/l/U/catalog.pdf", catalog="U Catalog 2026-2027", published="2025-01-01")
    assert [e.year for e in (late_upload, early_upload, titled)] == [2024, 2025, 2026]
    assert edition_order([titled, early_upload, late_upload]) == [late_upload, early_upload, titled]
    same_year = edition("s3://b/l/U/catalog-2024-addendum.pdf", published="2026-02-01")
    assert edition_order([late_upload, same_year]) == [same_year, late_upload]
    undated = edition("s3://b/l/U/current.pdf", catalog="Course Catalog", published="2026-02-01")
    assert undated.year is None
    assert edition_order([late_upload, undated, early_upload]) == [early_upload, undated, late_upload]


def row(code: str, title: str, low: float | None = 3.0, high: float | None = None, page: int = 1) -> dict:
    return {
        "course_code": code,
        "title": title,
        "credits_min": low,
        "credits_max": low if high is None else high,
        "page": page,
    }


def test_compare_editions_lists_added_removed_renamed_and_credits():
    old = Edition(
        "U",
        "s1",
        "u/2025.pdf",
        "U 2025",
        (
            row("CHEM 101", "General Chemistry I", page=2),
            row("CHEM 102", "General Chemistry II"),
            row("CHEM 110", "Chemistry & Society"),
            row("CHEM 201", "Organic Chemistry", 3.0),
            row("CHEM 290", "Research", 1.0, 3.0),
            row("CHEM 299", "Old Seminar", page=9),
            row("CHEM 300", "Lab Safety", None),
            row("CHEM 301", "Biochemistry", 3.0, page=4),
            row("CHEM 301", "Biochemistry Again", 4.0, page=5),  # printed twice: the first counts
        ),
    )
    new = Edition(
        "U",
        "s2",
        "u/2026.pdf",
        "U 2026",
        (
            row("CHEM-101", "GENERAL CHEMISTRY I.", page=3),  # same course: code and title normalised
            row("CHEM 102", "General Chemistry 2"),
            row("CHEM 110", "Chemistry and Society"),
            row("CHEM 201", "Organic Chemistry", 4.0),
            row("CHEM 290", "Research", 1.0, 4.0),
            row("CHEM 300", "Lab Safety", 1.0),  # credits printed only now: not a change
            row("CHEM 301", "Biochemistry", 3.0),
            row("CHEM 305", "Green Chemistry", page=7),
        ),
    )
    changes = compare_editions(old, new)
    assert [
        (c["change"], c["course_code"], c["old_value"], c["new_value"], c["from_page"], c["to_page"]) for c in changes
    ] == [
        ("added", "CHEM 305", None, "Green Chemistry", None, 7),
        ("removed", "CHEM 299", "Old Seminar", None, 9, None),
        ("renamed", "CHEM 102", "General Chemistry II", "General Chemistry 2", 1, 1),
        ("credits", "CHEM 201", "3", "4", 1, 1),
        ("credits", "CHEM 290", "1-3", "1-4", 1, 1),
    ]
    assert all(
        (c["institution"], c["from_source_id"], c["to_source_id"], c["from_catalog"], c["to_catalog"])
        == ("U", "s1", "s2", "U 2025", "U 2026")
        for c in changes
    )
    assert set(changes[0]) == set(CATALOG_CHANGES_SCHEMA.names)
    assert change_counts(changes) == {"added": 1, "removed": 1, "renamed": 1, "credits": 2}


def test_only_institutions_with_several_editions_are_compared():
    a1, a2, a3 = (
        edition(f"l/A/cat-{year}.pdf", institution="A", rows=(row("X 1", f"T{year}"),)) for year in (2023, 2024, 2025)
    )
    alone = edition("l/B/cat-2024.pdf", institution="B")
    empty = edition("l/B/cat-2025.pdf", institution="B", rows=())
    result = catalog_changes([a3, alone, a1, empty, a2, edition("l/cat-2020.pdf", institution="")])
    assert list(result) == ["A"]
    editions, rows = result["A"]
    assert editions == [a1, a2, a3]
    assert [(r["from_source_id"], r["to_source_id"], r["old_value"], r["new_value"]) for r in rows] == [
        ("cat-2023.pdf", "cat-2024.pdf", "T2023", "T2024"),
        ("cat-2024.pdf", "cat-2025.pdf", "T2024", "T2025"),
    ]


def test_the_asset_is_scheduled_daily_and_stays_out_of_the_document_job():
    definitions = defs()
    assert "catalog_changes" not in {
        key.to_user_string()
        for key in definitions.resolve_job_def("process_catalog_document").asset_layer.executable_asset_keys
    }
    assert definitions.resolve_schedule_def("daily_catalog_changes").job_name == "compare_catalog_editions"
    assert daily_catalog_changes.cron_schedule == "0 4 * * *"


EDITION_2025 = [
    Course("CHEM 101", "General Chemistry I", "4"),
    Course("CHEM 102", "General Chemistry II", "4", "CHEM 101."),
    Course("CHEM 201", "Organic Chemistry I", "3", "CHEM 102."),
    Course("CHEM 250", "Chemistry Seminar", "1"),
    Course("MATH 120", "Calculus I", "4"),
]
EDITION_2026 = [
    Course("CHEM 101", "General Chemistry I", "4"),
    Course("CHEM 102", "Principles of Chemistry II", "4", "CHEM 101."),  # renamed
    Course("CHEM 201", "Organic Chemistry I", "4", "CHEM 102."),  # credits
    Course("CHEM 260", "Green Chemistry", "3"),  # added (CHEM 250 removed)
    Course("MATH 120", "Calculus I", "4"),
]


def test_two_editions_of_one_institution_are_compared_end_to_end(tmp_path):
    landing = tmp_path / "landing"
    documents = {
        # the later edition is uploaded and published first: the years in the file names decide the order
        "Example U/catalog-2026.pdf": catalog_pdf("Example U", "Example U Catalog", EDITION_2026),
        "Example U/catalog-2025.pdf": catalog_pdf("Example U", "Example U Catalog", EDITION_2025),
        "Other College/catalog-2026.pdf": catalog_pdf("Other College", "Other Catalog 2026", EDITION_2025[:2]),
    }
    for key, data in documents.items():
        (landing / key).parent.mkdir(parents=True, exist_ok=True)
        (landing / key).write_bytes(data)
    stale = tmp_path / "output" / "catalog_changes" / "institution_key=Gone U" / "catalog_changes.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"from an earlier run")
    resources = local_resources(tmp_path / "landing", tmp_path)
    with dg.instance_for_test() as instance:
        for key in documents:
            result = materialize_document(instance, key, resources, run_config(ocr_policy="text"))
            assert result.success, failure_message(result)
        result = dg.materialize([catalog_changes_asset], resources={"storage": resources["storage"]}, instance=instance)
        assert result.success
        metadata = result.asset_materializations_for_node("catalog_changes")[0].metadata

    assert {kind: metadata[kind].value for kind in ("added", "removed", "renamed", "credits")} == {
        "added": 1,
        "removed": 1,
        "renamed": 1,
        "credits": 1,
    }
    assert metadata["institutions_compared"].value == 1 and metadata["dagster/row_count"].value == 4
    assert metadata["files_deleted"].value == 1 and not stale.exists()
    assert "| CHEM 102 | renamed | General Chemistry II | Principles of Chemistry II |" in metadata["preview"].value
    editions = metadata["editions"].value["Example U"]
    assert [e["source_uri"].rsplit("/", 1)[-1] for e in editions] == ["catalog-2025.pdf", "catalog-2026.pdf"]

    files = sorted((tmp_path / "output" / "catalog_changes").rglob("*.parquet"))
    assert [f.parent.name for f in files] == ["institution_key=Example U"]
    table = pq.read_table(files[0])
    assert table.schema == CATALOG_CHANGES_SCHEMA
    changes = {(r["change"], r["course_code"]): r for r in table.to_pylist()}
    assert set(changes) == {
        ("added", "CHEM 260"),
        ("removed", "CHEM 250"),
        ("renamed", "CHEM 102"),
        ("credits", "CHEM 201"),
    }
    assert (changes["credits", "CHEM 201"]["old_value"], changes["credits", "CHEM 201"]["new_value"]) == ("3", "4")
    added = changes["added", "CHEM 260"]
    assert added["new_value"] == "Green Chemistry" and added["from_page"] is None and added["to_page"] == 1
    assert {(r["from_source_id"], r["to_source_id"]) for r in changes.values()} == {
        (editions[0]["source_id"], editions[1]["source_id"])
    }
