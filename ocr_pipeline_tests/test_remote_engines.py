"""The ``http`` and ``sagemaker`` engines against the real service on 127.0.0.1.

The SageMaker runtime is played by a shim on 127.0.0.1 that takes ``POST /endpoints/<name>/invocations``
(ignoring SigV4), forwards it to the service and wraps failures as SageMaker ``ModelError``s.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import httpx
import pytest

from ocr_pipeline.models import PageRef, PageStatus
from ocr_pipeline.ocr.base import PageImage
from ocr_pipeline.ocr.registry import build_engine
from ocr_pipeline.serve.app import create_app
from ocr_pipeline_tests.test_serve_support import LOOPBACK_ENV, LiveServer, text_image, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration]

PAGES = [
    PageImage(PageRef("doc", n, 600, 200, 144), text_image(lines))
    for n, lines in enumerate([["CHEM 101 General", "Credits 4 hours"], ["HIST 210 Europe"]], start=1)
]


class Shim(ThreadingHTTPServer):
    """Forwards POSTs to the service; answers the statuses queued in ``fail`` first."""

    daemon_threads = True

    def __init__(self, service_url: str, sagemaker: bool) -> None:
        super().__init__(("127.0.0.1", 0), ShimHandler)
        self.service_url = service_url
        self.sagemaker = sagemaker
        self.fail: list[int] = []
        self.paths: list[str] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class ShimHandler(BaseHTTPRequestHandler):
    server: Shim

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.paths.append(self.path)
        if self.server.fail:
            status, answer = self.server.fail.pop(0), b'{"error": "injected", "message": "injected failure"}'
        else:
            request = urllib.request.Request(
                self.server.service_url + "/invocations",
                data=body,
                method="POST",
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    status, answer = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, answer = error.code, error.read()
        headers = {"Content-Type": "application/json", "Retry-After": "0"}
        if self.server.sagemaker and status != 200:
            headers["x-amzn-ErrorType"] = "ModelError"
            answer = json.dumps(
                {
                    "Message": "Received server error from model",
                    "OriginalStatusCode": status,
                    "OriginalMessage": answer.decode(),
                }
            ).encode()
            status = 424
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(answer))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(autouse=True)
def loopback_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in LOOPBACK_ENV.items():
        monkeypatch.setenv(key, value)


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    with LiveServer(create_app(lambda: build_engine("rapidocr"))) as server:
        wait_for(lambda: httpx.get(server.url + "/ping", trust_env=False).status_code == 200)
        yield server.url


def shim(service_url: str, sagemaker: bool) -> Iterator[Shim]:
    server = Shim(service_url, sagemaker)
    Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def http_shim(service: str) -> Iterator[Shim]:
    yield from shim(service, sagemaker=False)


@pytest.fixture
def sagemaker_shim(service: str) -> Iterator[Shim]:
    yield from shim(service, sagemaker=True)


def test_http_engine_reads_what_the_local_engine_reads(service: str) -> None:
    local = build_engine("rapidocr").recognize(PAGES)
    remote = build_engine("http", base_url=service, concurrency=2).recognize(PAGES)
    assert [page.lines for page in remote] == [page.lines for page in local]
    assert [page.engine for page in remote] == ["rapidocr", "rapidocr"]
    assert [page.confidence for page in remote] == [page.confidence for page in local]


def test_http_engine_retries_then_reports_a_failed_page(http_shim: Shim) -> None:
    engine = build_engine("http", base_url=http_shim.url, backoff=0.01)
    http_shim.fail = [503, 429]
    [page] = engine.recognize(PAGES[1:])
    assert [line.text for line in page.lines] == ["HIST 210 Europe"] and len(http_shim.paths) == 3
    http_shim.fail = [400]
    [failed] = engine.recognize(PAGES[1:])
    assert failed.status is PageStatus.FAILED and "injected failure" in failed.reasons[0]
    assert len(http_shim.paths) == 4  # a 4xx is not retried


def test_http_engine_unreachable_service_fails_the_page() -> None:
    with socket.socket() as sock:  # a loopback port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    engine = build_engine("http", base_url=f"http://127.0.0.1:{port}", retries=1, backoff=0.01)
    [page] = engine.recognize(PAGES[1:])
    assert page.status is PageStatus.FAILED and page.engine == "http"


def test_sagemaker_engine_through_boto3(sagemaker_shim: Shim) -> None:
    engine = build_engine(
        "sagemaker", endpoint_name="ocr-endpoint", region="us-east-1", endpoint_url=sagemaker_shim.url, backoff=0.01
    )
    sagemaker_shim.fail = [503]
    [page] = engine.recognize(PAGES[1:])
    assert [line.text for line in page.lines] == ["HIST 210 Europe"]
    assert sagemaker_shim.paths == ["/endpoints/ocr-endpoint/invocations"] * 2
    sagemaker_shim.fail = [400]
    [failed] = engine.recognize(PAGES[1:])
    assert failed.status is PageStatus.FAILED and "ModelError" in failed.reasons[0]
    assert len(sagemaker_shim.paths) == 3


def test_pipeline_with_the_http_engine_gives_the_same_rows_as_the_local_engine(service, cloud, instance):
    import io

    import pandas as pd

    from ocr_pipeline.materialize import failure_message, materialize_document
    from ocr_pipeline.samples import generate_catalog, scan
    from ocr_pipeline.storage.parquet import CONTRACT_COLUMNS

    cloud.upload("Remote U/scanned.pdf", scan(generate_catalog("units_parenthetical", n_courses=5).pdf))
    tables = {}
    for engine in ("rapidocr", "http"):
        resources = cloud.resources(
            engine,
            work_uri=f"s3://{cloud.bucket}/{engine}/work",
            output_uri=f"s3://{cloud.bucket}/{engine}/output",
            ocr_base_url=service if engine == "http" else None,
        )
        result = materialize_document(instance, "Remote U/scanned.pdf", resources)
        assert result.success, failure_message(result)
        listing = cloud.s3.list_objects_v2(Bucket=cloud.bucket, Prefix=f"{engine}/output/courses/")["Contents"]
        body = cloud.s3.get_object(Bucket=cloud.bucket, Key=listing[0]["Key"])["Body"].read()
        tables[engine] = pd.read_parquet(io.BytesIO(body))[CONTRACT_COLUMNS]
    assert len(tables["rapidocr"]) >= 4
    pd.testing.assert_frame_equal(tables["rapidocr"], tables["http"])
