"""The code location loads (what ``dagster dev`` and the code server import), in about a second, no services."""

from __future__ import annotations

import dagster as dg

from ocr_pipeline.definitions import defs


def test_the_code_location_loads_with_every_asset_job_sensor_and_schedule() -> None:
    definitions = defs()
    assert isinstance(definitions, dg.Definitions)
    dg.Definitions.validate_loadable(definitions)
    graph = definitions.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == {
        "raw_catalog_pdfs",
        "rendered_pages",
        "ocr_pages",
        "validated_courses",
        "course_catalog_tables",
        "review_tasks",
        "catalog_changes",
    }
    assert {check.name for check in graph.asset_check_keys} == {
        "course_pages_have_entries",
        "pages_read_confidently",
        "records_need_no_review",
        "review_backlog",
    }
    jobs = {job.name for job in definitions.resolve_all_job_defs()}
    assert {"process_catalog_document", "apply_review_corrections", "review_checks", "compare_catalog_editions"} <= jobs
    assert definitions.resolve_job_def("process_catalog_document").partitions_def == dg.DynamicPartitionsDefinition(
        name="catalog_documents"
    )
    assert {sensor.name for sensor in definitions.sensors} == {"s3_catalog_upload_sensor", "review_answers_sensor"}
    assert {schedule.name for schedule in definitions.schedules} == {
        "daily_review_checks",
        "retry_failed_documents",
        "daily_catalog_changes",
    }
    assert set(definitions.resources) == {"storage", "dynamodb", "ocr_engine", "review_store"}
