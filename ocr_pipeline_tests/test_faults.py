"""Fault tolerance against real local servers: S3 outages, transient S3/DynamoDB errors, a killed
worker, crashing pages, and oversized inputs. Every faulted run is compared with a clean run.

Runs write to their own ``<run>/work`` and ``<run>/output`` prefixes and DynamoDB table in one
bucket, so all of them share the landing objects (and so the ``source_uri`` column).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import boto3
import dagster as dg
import pyarrow.parquet as pq
import pypdfium2 as pdfium
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

import ocr_pipeline.defs.course_catalog_tables as tables_defs
import ocr_pipeline.stages.rendered_pages as render_stage
from ocr_pipeline.defs.resources import pipeline_resources
from ocr_pipeline.materialize import failure_message, materialize_document, run_config
from ocr_pipeline.models import PageText
from ocr_pipeline.ocr import registry
from ocr_pipeline.ocr.base import PageImage
from ocr_pipeline.ocr.rapid import RapidOcrEngine
from ocr_pipeline.pdf.document import content_id
from ocr_pipeline.samples import generate_catalog, scan
from ocr_pipeline_tests.fault_proxy import Fault, FaultProxy
from ocr_pipeline_tests.support import free_port

pytestmark = [pytest.mark.slow, pytest.mark.integration]

DIGITAL_KEY = "Fault U/catalog.pdf"
SCANNED_KEY = "Fault U/scanned.pdf"
DIGITAL_PDF = generate_catalog("one_per_page", n_courses=4).pdf
CRASH_PAGE = 2
SCAN_CONFIG = run_config(dpi=96)
"""Scanned pages are read at 96 dpi: RapidOCR reads these pages as well as at 144, in half the time."""


@dataclass(frozen=True)
class Outputs:
    """What a run published for one document: Parquet rows and DynamoDB items, in key order."""

    courses: list[dict[str, Any]]
    pages: list[dict[str, Any]]
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class Site:
    """One bucket holding the landing PDFs, on the session moto server."""

    endpoint: str
    bucket: str

    def s3(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1")

    def resources(
        self, run: str, *, endpoint: str | None = None, engine: str = "rapidocr", max_attempts: int = 8
    ) -> dict[str, Any]:
        """Resources writing to ``<run>/`` and tables ``<bucket>-<run>[-review]``, through ``endpoint``."""
        endpoint = endpoint or self.endpoint
        return pipeline_resources(
            landing_uri=f"s3://{self.bucket}/landing",
            work_uri=f"s3://{self.bucket}/{run}/work",
            output_uri=f"s3://{self.bucket}/{run}/output",
            s3_endpoint_url=endpoint,
            max_attempts=max_attempts,
            dynamodb_enabled=True,
            dynamodb_table=f"{self.bucket}-{run}",
            dynamodb_endpoint_url=endpoint,
            dynamodb_create_table=True,
            engine=engine,
            review_store_uri=f"dynamodb://{self.bucket}-{run}-review?create=1",
            review_endpoint_url=endpoint,
        )

    def keys(self, prefix: str) -> list[str]:
        pages = self.s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def rows(self, prefix: str) -> list[dict[str, Any]]:
        rows = [
            row
            for key in self.keys(prefix)
            if key.endswith(".parquet")
            for row in pq.read_table(io.BytesIO(self.get(key))).to_pylist()
        ]
        return sorted(rows, key=lambda row: (row["page"], row.get("entry_id") or ""))

    def get(self, key: str) -> bytes:
        return self.s3().get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def items(self, run: str, document_id: str) -> list[dict[str, Any]]:
        client = boto3.client("dynamodb", endpoint_url=self.endpoint, region_name="us-east-1")
        if f"{self.bucket}-{run}" not in client.list_tables()["TableNames"]:
            return []
        table = boto3.resource("dynamodb", endpoint_url=self.endpoint, region_name="us-east-1").Table(
            f"{self.bucket}-{run}"
        )
        items = [item for item in table.scan()["Items"] if item["document_id"] == document_id]  # one table per run
        return sorted(items, key=lambda item: item["entry_id"])

    def outputs(self, run: str, document_id: str) -> Outputs:
        return Outputs(
            self.rows(f"{run}/output/courses/"), self.rows(f"{run}/output/pages/"), self.items(run, document_id)
        )


@pytest.fixture(scope="module")
def site(moto_endpoint: str) -> Site:
    site = Site(moto_endpoint, f"faults-{uuid.uuid4().hex[:8]}")
    s3 = site.s3()
    s3.create_bucket(Bucket=site.bucket)
    s3.put_object(Bucket=site.bucket, Key=f"landing/{DIGITAL_KEY}", Body=DIGITAL_PDF)
    return site


@pytest.fixture(scope="module")
def scanned_pdf(site: Site) -> bytes:
    pdf = scan(generate_catalog("one_per_page", n_courses=3).pdf)
    site.s3().put_object(Bucket=site.bucket, Key=f"landing/{SCANNED_KEY}", Body=pdf)
    return pdf


@pytest.fixture(scope="module")
def module_instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


def run_clean(
    site: Site, instance: dg.DagsterInstance, key: str, pdf: bytes, config: dict[str, Any] | None = None
) -> Outputs:
    run = f"clean-{content_id(pdf)}"
    result = materialize_document(instance, key, site.resources(run), config)
    assert result.success, failure_message(result)
    return site.outputs(run, content_id(pdf))


@pytest.fixture(scope="module")
def clean_digital(site: Site, module_instance: dg.DagsterInstance) -> Outputs:
    outputs = run_clean(site, module_instance, DIGITAL_KEY, DIGITAL_PDF)
    assert len(outputs.courses) == len(outputs.items) == 4
    return outputs


@pytest.fixture(scope="module")
def clean_scanned(site: Site, module_instance: dg.DagsterInstance, scanned_pdf: bytes) -> Outputs:
    outputs = run_clean(site, module_instance, SCANNED_KEY, scanned_pdf, SCAN_CONFIG)
    assert [row["status"] for row in outputs.pages] == ["ok"] * 3
    assert {row["page"] for row in outputs.courses} == {1, 2, 3}
    return outputs


def step_outcomes(result: dg.ExecuteInProcessResult) -> tuple[set[str], set[str]]:
    """(succeeded, failed) step keys of a run."""
    return ({event.step_key for event in result.get_step_success_events()}, set(result.get_failed_step_keys()))


def error_chain(result: dg.ExecuteInProcessResult) -> str:
    """Every message in the first failed step's error and its causes."""
    error = result.get_step_failure_events()[0].step_failure_data.error
    messages = []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    return "\n".join(messages)


# 1. The S3 server dies mid-run, then comes back.


def test_s3_outage_mid_run_fails_naming_the_object_and_a_rerun_matches_a_clean_run(
    site: Site, module_instance: dg.DagsterInstance, clean_digital: Outputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    parse_document = tables_defs.parse_document

    def parse_after_outage(*args: Any, **kwargs: Any) -> Any:
        server.stop()
        return parse_document(*args, **kwargs)

    monkeypatch.setattr(tables_defs, "parse_document", parse_after_outage)
    result = materialize_document(
        module_instance, DIGITAL_KEY, site.resources("outage", endpoint=endpoint, max_attempts=2)
    )
    assert not result.success
    assert step_outcomes(result) == ({"raw_catalog_pdfs", "rendered_pages", "ocr_pages"}, {"course_catalog_tables"})
    ocr_uri = f"s3://{site.bucket}/outage/work/documents/{content_id(DIGITAL_PDF)}/ocr.jsonl"
    assert f"S3 get_object failed for {ocr_uri}: Could not connect to the endpoint URL" in error_chain(result)
    message = failure_message(result)
    assert message.startswith("course_catalog_tables: ") and f"/{site.bucket}/outage/work/documents/" in message
    assert site.keys("outage/output/") == []

    monkeypatch.setattr(tables_defs, "parse_document", parse_document)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        result = materialize_document(module_instance, DIGITAL_KEY, site.resources("outage", endpoint=endpoint))
    finally:
        server.stop()
    assert result.success, failure_message(result)
    assert site.outputs("outage", content_id(DIGITAL_PDF)) == clean_digital


# 2. Throttling, 5xx and connection resets from S3 and DynamoDB are retried.


def test_transient_s3_and_dynamodb_errors_are_retried_to_identical_outputs(
    site: Site, module_instance: dg.DagsterInstance, clean_digital: Outputs
) -> None:
    faults = [
        Fault(times=1, status=503, code="SlowDown", method="HEAD", path="/landing/"),
        Fault(times=1, status=500, code="InternalError", method="GET", path="/landing/"),
        Fault(times=2, status=503, code="SlowDown", method="PUT", path=r"/pages\.jsonl"),
        Fault(times=1, reset=True, method="GET", path=r"/ocr\.jsonl"),
        Fault(times=1, reset=True, method="PUT", path=r"/courses\.parquet"),
        Fault(times=1, status=400, code="ProvisionedThroughputExceededException", target="BatchWriteItem"),
        Fault(times=1, status=500, code="InternalServerError", target="Query"),
        Fault(times=1, reset=True, target="DescribeTable"),
    ]
    with FaultProxy(site.endpoint, faults) as proxy:
        result = materialize_document(
            module_instance, DIGITAL_KEY, site.resources("transient", endpoint=proxy.endpoint)
        )
    assert result.success, failure_message(result)
    assert [fault.hits for fault in faults] == [fault.times for fault in faults]
    for fault in faults:  # each faulted request was retried until it went through
        seen = [r for r in proxy.requests if fault.matches(r.method, r.path, r.target)]
        assert any(r.fault is None for r in seen[fault.times :]), fault
    assert site.outputs("transient", content_id(DIGITAL_PDF)) == clean_digital


def test_throttling_beyond_max_attempts_fails_naming_the_object(
    site: Site, module_instance: dg.DagsterInstance
) -> None:
    fault = Fault(times=1000, status=503, code="SlowDown", method="GET", path="/landing/")
    with FaultProxy(site.endpoint, [fault]) as proxy:
        result = materialize_document(
            module_instance, DIGITAL_KEY, site.resources("throttled", endpoint=proxy.endpoint, max_attempts=2)
        )
    assert not result.success
    assert fault.hits == 2
    message = failure_message(result)
    assert message.startswith("raw_catalog_pdfs: ")
    assert f"s3://{site.bucket}/landing/{DIGITAL_KEY}" in message and "SlowDown" in message


# 3. The run worker is SIGKILLed mid-document.


def worker_main() -> None:
    """A run worker (``python -c``): runs the graph and stalls at ``FAULT_KILL_AT`` after touching
    ``FAULT_MARKER``, for the test to SIGKILL it there."""
    from ocr_pipeline.storage.work import WorkStore

    marker = Path(os.environ["FAULT_MARKER"])

    def stall() -> None:
        marker.touch()
        time.sleep(600)

    read_page, put_published = render_stage.read_page, WorkStore.put_published

    def read_page_stalling(document: pdfium.PdfDocument, index: int, limits: Any) -> Any:
        if index == 2:  # page 3: pages 1-2 are being streamed to pages.jsonl
            stall()
        return read_page(document, index, limits)

    def put_published_stalling(work: WorkStore, *args: Any) -> None:
        stall()  # after the Parquet files and the DynamoDB upsert, before published.json
        put_published(work, *args)

    if os.environ["FAULT_KILL_AT"] == "render":
        render_stage.read_page = read_page_stalling
    else:
        WorkStore.put_published = put_published_stalling  # type: ignore[method-assign]
    site = Site(os.environ["FAULT_ENDPOINT"], os.environ["FAULT_BUCKET"])
    with dg.DagsterInstance.get() as instance:
        materialize_document(instance, DIGITAL_KEY, site.resources(os.environ["FAULT_RUN"]))


def kill_worker_at(site: Site, run: str, kill_at: str, home: Path, marker: Path) -> None:
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "FAULT_ENDPOINT": site.endpoint,
        "FAULT_BUCKET": site.bucket,
        "FAULT_RUN": run,
        "FAULT_KILL_AT": kill_at,
        "FAULT_MARKER": str(marker),
    }
    # From the checkout's root: the tests are not installed, so that is where ocr_pipeline_tests imports from.
    worker = subprocess.Popen(
        [sys.executable, "-c", "from ocr_pipeline_tests.test_faults import worker_main; worker_main()"],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert worker.poll() is None, f"worker exited before {kill_at}: {worker.stderr.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, f"worker never reached {kill_at}"
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        assert worker.wait(10) == -signal.SIGKILL
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.stderr.close()
    marker.unlink()


def assert_objects_whole(site: Site, prefix: str) -> None:
    """Every object under ``prefix`` parses completely (no half-written objects are visible)."""
    for key in site.keys(prefix):
        data = site.get(key)
        if key.endswith(".parquet"):
            pq.read_table(io.BytesIO(data))
        elif key.endswith(".jsonl"):
            assert data == b"" or data.endswith(b"\n"), key  # no records (no flagged pages) is a whole file
            assert all(isinstance(json.loads(line), dict) for line in data.splitlines()), key
        elif key.endswith(".json"):
            json.loads(data)
        elif key.endswith(".png"):
            Image.open(io.BytesIO(data)).verify()
        else:
            raise AssertionError(f"unexpected object {key}")


def test_sigkilled_worker_leaves_no_partial_outputs_and_a_rerun_matches_a_clean_run(
    site: Site, clean_digital: Outputs, tmp_path: Path
) -> None:
    home, marker, run = tmp_path / "dagster_home", tmp_path / "stalled", "killed"
    home.mkdir()
    document_id = content_id(DIGITAL_PDF)
    courses_prefix = f"{run}/output/courses/"

    kill_worker_at(site, run, "render", home, marker)
    assert_objects_whole(site, f"{run}/")
    assert site.keys(f"{run}/work/documents/") == [] and site.keys(f"{run}/output/") == []

    kill_worker_at(site, run, "publish", home, marker)
    assert_objects_whole(site, f"{run}/")
    assert site.rows(courses_prefix) == clean_digital.courses
    assert site.items(run, document_id) == clean_digital.items
    assert not any(key.endswith("published.json") for key in site.keys(f"{run}/work/"))

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert [r.status for r in instance.get_runs()] == [dg.DagsterRunStatus.STARTED] * 2
        result = materialize_document(instance, DIGITAL_KEY, site.resources(run))
    assert result.success, failure_message(result)
    assert_objects_whole(site, f"{run}/")
    outputs = site.outputs(run, document_id)
    assert outputs == clean_digital
    assert len({row["entry_id"] for row in outputs.courses}) == len(outputs.courses) == len(outputs.items)


# 4. A page that crashes the OCR engine or the renderer is isolated.


class CrashOnPageEngine:
    """RapidOCR, except that any batch holding page ``CRASH_PAGE`` raises (breaking the engine contract)."""

    name = "rapidocr"
    batches: ClassVar[list[list[int]]] = []

    def __init__(self) -> None:
        self._engine = RapidOcrEngine()

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        numbers = [page.ref.page for page in pages]
        type(self).batches.append(numbers)
        if CRASH_PAGE in numbers:
            raise RuntimeError("simulated engine crash")
        return self._engine.recognize(pages)


def assert_only_page_failed(outputs: Outputs, clean: Outputs, reason: str) -> None:
    failed = [row for row in outputs.pages if row["page"] == CRASH_PAGE]
    assert [(row["status"], row["needs_review"]) for row in failed] == [("failed", True)]
    assert any(reason in r for r in failed[0]["reasons"]), failed[0]["reasons"]
    assert [row for row in outputs.pages if row["page"] != CRASH_PAGE] == [
        row for row in clean.pages if row["page"] != CRASH_PAGE
    ]
    assert outputs.courses == [row for row in clean.courses if row["page"] != CRASH_PAGE]
    assert [item["entry_id"] for item in outputs.items] == sorted(row["entry_id"] for row in outputs.courses)


def test_a_page_that_crashes_the_ocr_engine_fails_alone(
    site: Site,
    module_instance: dg.DagsterInstance,
    scanned_pdf: bytes,
    clean_scanned: Outputs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(registry.ENGINES, "crash-on-page", f"{__name__}:CrashOnPageEngine")
    monkeypatch.setattr(CrashOnPageEngine, "batches", [])
    result = materialize_document(
        module_instance, SCANNED_KEY, site.resources("engine-crash", engine="crash-on-page"), SCAN_CONFIG
    )
    assert result.success, failure_message(result)
    assert CrashOnPageEngine.batches == [[1, 2, 3], [1], [2], [3]]
    assert_only_page_failed(
        site.outputs("engine-crash", content_id(scanned_pdf)),
        clean_scanned,
        "OCR engine rapidocr crashed: RuntimeError: simulated engine crash",
    )


def test_a_page_that_crashes_the_renderer_fails_alone(
    site: Site,
    module_instance: dg.DagsterInstance,
    scanned_pdf: bytes,
    clean_scanned: Outputs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    render_page = render_stage.render_page

    def crash_on_page(document: pdfium.PdfDocument, index: int, geometry: Any) -> Image.Image:
        if index + 1 == CRASH_PAGE:
            raise pdfium.PdfiumError("simulated renderer crash")
        return render_page(document, index, geometry)

    monkeypatch.setattr(render_stage, "render_page", crash_on_page)
    result = materialize_document(module_instance, SCANNED_KEY, site.resources("render-crash"), SCAN_CONFIG)
    assert result.success, failure_message(result)
    rendered = next(
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("rendered_pages")
    )
    assert rendered.materialization.metadata["render_failed_pages"].value == 1
    assert_only_page_failed(
        site.outputs("render-crash", content_id(scanned_pdf)),
        clean_scanned,
        "page could not be rendered: PdfiumError: simulated renderer crash",
    )


# 5. Oversized inputs are refused per the configured limits.


def test_a_pdf_with_thousands_of_pages_is_refused_above_max_pages(
    site: Site, module_instance: dg.DagsterInstance
) -> None:
    source = pdfium.PdfDocument(DIGITAL_PDF)
    document = pdfium.PdfDocument.new()
    document.import_pages(source, [0] * 6000)
    buffer = io.BytesIO()
    document.save(buffer)
    site.s3().put_object(Bucket=site.bucket, Key="landing/Fault U/6000 pages.pdf", Body=buffer.getvalue())
    result = materialize_document(module_instance, "Fault U/6000 pages.pdf", site.resources("many-pages"))
    assert not result.success
    assert step_outcomes(result) == (set(), {"raw_catalog_pdfs"})
    assert "the PDF has 6000 pages, above the limit of 5000 (quarantined: too-many-pages)" in failure_message(result)


def test_an_object_above_max_bytes_is_refused_without_being_downloaded(
    site: Site, module_instance: dg.DagsterInstance
) -> None:
    config = {"ops": {"raw_catalog_pdfs": {"config": {"max_bytes": 1000}}}}
    with FaultProxy(site.endpoint) as proxy:
        result = materialize_document(
            module_instance, DIGITAL_KEY, site.resources("too-big", endpoint=proxy.endpoint), config
        )
    assert not result.success
    assert f"{len(DIGITAL_PDF)} bytes, above the limit of 1000 (quarantined: too-large)" in failure_message(result)
    landing = [(r.method, r.path) for r in proxy.requests if "/landing/" in r.path]
    assert [method for method, _ in landing] == ["HEAD"]
