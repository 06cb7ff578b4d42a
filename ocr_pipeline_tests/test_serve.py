"""The OCR service on a loopback port: /ping, images, PDFs, s3:// sources, bad input, queueing, batching."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from ocr_pipeline.ocr.deepseek_common import FREE_PROMPT, GROUNDING_PROMPT
from ocr_pipeline.ocr.grounding import split_pages
from ocr_pipeline.ocr.registry import build_engine
from ocr_pipeline.serve.app import create_app
from ocr_pipeline.serve.cli import config_from, parser
from ocr_pipeline.serve.config import FetchPolicy, ServiceConfig
from ocr_pipeline.serve.fetch import s3_allowed
from ocr_pipeline_tests.pdf_samples import giant_page_pdf
from ocr_pipeline_tests.test_serve_support import (
    LOOPBACK_ENV,
    GatedEngine,
    LiveServer,
    RecordingEngine,
    b64,
    pdf_bytes,
    png_bytes,
    text_image,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration]

LIMITS = {"max_body_bytes": 1_000_000, "max_pages": 3, "max_pixels": 4_000_000}
IMAGE = text_image(["CHEM 101 General", "Credits 4 hours"])


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in LOOPBACK_ENV.items():
            patch.setenv(key, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
        server.stop()


@pytest.fixture(scope="module")
def service(moto: str) -> Iterator[tuple[str, RecordingEngine]]:
    engine = RecordingEngine(build_engine("rapidocr"))
    config = ServiceConfig(
        **LIMITS,
        fetch=FetchPolicy(
            s3_endpoint_url=moto, s3_region="us-east-1", s3_prefixes=("pages/scan/", "pages/nothing.png")
        ),
    )
    with LiveServer(create_app(lambda: engine, config, model="rapidocr")) as server:
        wait_for(lambda: httpx.get(server.url + "/ping", trust_env=False).status_code == 200)
        yield server.url, engine


def invoke(url: str, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(url + "/invocations", json=body, trust_env=False, timeout=60, **kwargs)


def test_ping_is_503_while_the_engine_loads_then_healthy() -> None:
    loaded = threading.Event()

    def slow_factory() -> GatedEngine:
        loaded.wait(10)
        return GatedEngine()

    with LiveServer(create_app(slow_factory, model="some-model")) as server:
        ping = httpx.get(server.url + "/ping", trust_env=False)
        assert ping.status_code == 503 and ping.json()["status"] == "loading"
        early = invoke(server.url, {"image_base64": b64(png_bytes(IMAGE))})
        assert early.status_code == 503 and early.headers["Retry-After"]
        loaded.set()
        wait_for(lambda: httpx.get(server.url + "/ping", trust_env=False).status_code == 200)
        assert httpx.get(server.url + "/ping", trust_env=False).json() == {
            "status": "healthy",
            "model": "some-model",
            "backend": "gated",
        }


def test_ping_reports_an_engine_that_failed_to_load() -> None:
    def broken() -> GatedEngine:
        raise RuntimeError("no model files")

    with LiveServer(create_app(broken)) as server:
        wait_for(lambda: httpx.get(server.url + "/ping", trust_env=False).json()["status"] == "failed")
        assert "no model files" in httpx.get(server.url + "/ping", trust_env=False).json()["error"]


def test_image_by_base64(service: tuple[str, RecordingEngine]) -> None:
    url, _ = service
    body = invoke(url, {"image_base64": b64(png_bytes(IMAGE))}).json()
    assert body["text"] == "CHEM 101 General\nCredits 4 hours"
    assert "pages" not in body and body["engine"] == "rapidocr"
    [page] = body["results"]
    assert (page["page"], page["width"], page["height"]) == (1, 600, 200)
    assert [line["text"] for line in page["lines"]] == ["CHEM 101 General", "Credits 4 hours"]
    assert all(len(line["box"]) == 4 and line["confidence"] > 0.8 for line in page["lines"])
    assert page["status"] == "ok" and body["timings"]["ocr_s"] > 0


def test_two_page_pdf_goes_to_the_engine_as_one_batch(service: tuple[str, RecordingEngine]) -> None:
    url, engine = service
    engine.calls.clear()
    body = invoke(url, {"pdf_base64": b64(pdf_bytes(["BIOL 200 Cells", "MATH 310 Algebra"]))}).json()
    assert engine.calls == [2]
    assert body["pages"] == 2 and split_pages(body["text"]) == ["BIOL 200 Cells", "MATH 310 Algebra"]
    assert [(r["page"], r["width"], r["height"], r["dpi"]) for r in body["results"]] == [
        (1, 600, 200, 144),
        (2, 600, 200, 144),
    ]


def test_pdf_page_range_and_dpi(service: tuple[str, RecordingEngine]) -> None:
    url, _ = service
    pdf = pdf_bytes(["ONE", "TWO 22", "THREE"])
    body = invoke(url, {"pdf_base64": b64(pdf), "pages": "2", "dpi": 72}).json()
    assert body["pages"] == 1 and body["results"][0]["page"] == 2
    assert (body["results"][0]["width"], body["results"][0]["dpi"]) == (300, 72)


def test_image_from_s3(service: tuple[str, RecordingEngine], moto: str) -> None:
    url, _ = service
    s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
    s3.create_bucket(Bucket="pages")
    s3.put_object(Bucket="pages", Key="scan/page.png", Body=png_bytes(IMAGE))
    assert invoke(url, {"image_url": "s3://pages/scan/page.png"}).json()["text"].startswith("CHEM 101")
    missing = invoke(url, {"image_url": "s3://pages/nothing.png"})
    assert missing.status_code == 400 and missing.json()["error"] == "url-fetch-failed"


def test_s3_sources_only_from_the_allowed_buckets_and_prefixes(service: tuple[str, RecordingEngine], moto: str) -> None:
    """Issue 14 item 9: the service's credentials can read more than its callers may."""
    url, engine = service
    s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
    for bucket in ("pages", "private"):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="scan/page.png", Body=png_bytes(IMAGE))
    s3.put_object(Bucket="pages", Key="secret/page.png", Body=png_bytes(IMAGE))
    engine.calls.clear()
    for source in (
        "s3://private/scan/page.png",
        "s3://pages/secret/page.png",
        "s3://pages/scan/../secret/page.png",
        "s3://pagesx/scan/page.png",
    ):
        refused = invoke(url, {"image_url": source})
        assert (refused.status_code, refused.json()["error"]) == (403, "url-not-allowed"), source
        assert "allowed S3 bucket or prefix" in refused.json()["message"]
    assert engine.calls == []
    assert s3_allowed("b", "k", ("b",)) and not s3_allowed("b", "k", ())


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"image_base64": "not base64!!"}, 400, "invalid-base64"),
        ({"image_base64": b64(b"plain text, not an image")}, 400, "not-an-image"),
        ({"pdf_base64": b64(b"plain text, not a PDF")}, 400, "not-a-pdf"),
        ({"pdf_base64": b64(pdf_bytes(["secret"], password="pw"))}, 400, "encrypted"),
        ({"pdf_base64": b64(pdf_bytes(["a", "b", "c", "d"]))}, 413, "too-many-pages"),
        ({"pdf_base64": b64(pdf_bytes(["a", "b"])), "pages": "2-5"}, 400, "invalid-page-range"),
        ({"pdf_base64": b64(pdf_bytes(["a"])), "dpi": 5000}, 400, "invalid-dpi"),
        ({"image_base64": b64(png_bytes(text_image([], (3000, 2000))))}, 413, "too-many-pixels"),
        ({"pdf_base64": b64(giant_page_pdf())}, 413, "page-too-large"),
        ({"image_base64": b64(png_bytes(IMAGE)), "pages": "1"}, 400, "invalid-request"),
        ({"image_base64": b64(png_bytes(IMAGE)), "pdf_base64": b64(pdf_bytes(["a"]))}, 400, "one-source-required"),
        ({"prompt": GROUNDING_PROMPT}, 400, "one-source-required"),
        ({"image_base64": b64(png_bytes(IMAGE)), "colour": "red"}, 400, "invalid-request"),
        ({"image_url": "file:///etc/passwd"}, 403, "url-not-allowed"),
        ({"image_url": "ftp://example.com/page.png"}, 403, "url-not-allowed"),
    ],
)
def test_bad_input_is_a_clear_4xx(
    service: tuple[str, RecordingEngine], body: dict[str, Any], status: int, code: str
) -> None:
    url, engine = service
    engine.calls.clear()
    response = invoke(url, body)
    assert (response.status_code, response.json()["error"]) == (status, code)
    assert response.json()["message"] and engine.calls == []


def test_invalid_json_and_media_type(service: tuple[str, RecordingEngine]) -> None:
    url, _ = service
    bad_json = httpx.post(
        url + "/invocations", content=b"{nope", trust_env=False, headers={"Content-Type": "application/json"}
    )
    assert (bad_json.status_code, bad_json.json()["error"]) == (400, "invalid-request")
    text = httpx.post(url + "/invocations", content=b"hello", trust_env=False, headers={"Content-Type": "text/plain"})
    assert (text.status_code, text.json()["error"]) == (415, "unsupported-media-type")


def _raw_post(url: str, head: bytes, body: bytes = b"") -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n" + head + body)
        return sock.recv(65536)


def test_body_over_the_limit_by_content_length(service: tuple[str, RecordingEngine]) -> None:
    reply = _raw_post(service[0], b"Content-Length: 50000000\r\n\r\n")  # the body is never sent
    assert reply.startswith(b"HTTP/1.1 413") and b"body-too-large" in reply


def test_body_over_the_limit_while_streaming(service: tuple[str, RecordingEngine]) -> None:
    chunk = b'{"image_base64": "' + b"A" * 400_000
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3)) + b"0\r\n\r\n"
    reply = _raw_post(service[0], b"Transfer-Encoding: chunked\r\n\r\n", chunked)
    assert reply.startswith(b"HTTP/1.1 413") and b"body-too-large" in reply


def test_url_to_loopback_is_refused_without_connecting(service: tuple[str, RecordingEngine]) -> None:
    with socket.socket() as listener:  # a loopback target that would see any connection
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        response = invoke(service[0], {"image_url": f"http://127.0.0.1:{port}/page.png"})
        assert (response.status_code, response.json()["error"]) == (403, "url-not-allowed")
        with pytest.raises(TimeoutError):
            listener.accept()


def test_full_queue_is_503_with_retry_after() -> None:
    engine = GatedEngine()
    image = {"image_base64": b64(png_bytes(text_image(["x"], (60, 20))))}
    app = create_app(lambda: engine, ServiceConfig(max_queue=1))
    with LiveServer(app) as server, ThreadPoolExecutor(2) as pool:
        wait_for(lambda: httpx.get(server.url + "/ping", trust_env=False).status_code == 200)
        first = pool.submit(invoke, server.url, image)
        assert engine.entered.wait(10)
        second = pool.submit(invoke, server.url, image)
        wait_for(lambda: app.state.holder.batcher.queued() == 1)
        refused = invoke(server.url, image)
        assert (refused.status_code, refused.json()["error"]) == (503, "queue-full")
        assert refused.headers["Retry-After"] == "5"
        engine.gate.set()
        assert first.result().status_code == second.result().status_code == 200


def test_concurrent_requests_are_batched_and_prompts_applied() -> None:
    engine = GatedEngine(batch_size=4, prompt=GROUNDING_PROMPT)
    image = {"image_base64": b64(png_bytes(text_image(["x"], (60, 20))))}
    app = create_app(lambda: engine, ServiceConfig(batch_wait_ms=300))
    with LiveServer(app) as server, ThreadPoolExecutor(3) as pool:
        wait_for(lambda: httpx.get(server.url + "/ping", trust_env=False).status_code == 200)
        bad = invoke(server.url, {**image, "prompt": "Convert the document."})
        assert (bad.status_code, bad.json()["error"]) == (400, "invalid-prompt")
        first = pool.submit(invoke, server.url, image)
        assert engine.entered.wait(10)  # the first request is in the engine; the next two wait together
        later = [pool.submit(invoke, server.url, {**image, "prompt": FREE_PROMPT}) for _ in range(2)]
        wait_for(lambda: app.state.holder.batcher.queued() == 2)
        engine.gate.set()
        bodies = [f.result().json() for f in [first, *later]]
    assert engine.calls == [1, 2] and engine.prompts == [GROUNDING_PROMPT, FREE_PROMPT]
    assert [b["timings"]["batch_pages"] for b in bodies] == [1, 2, 2]
    assert bodies[1]["text"] == "page 1" and bodies[1]["prompt"] == FREE_PROMPT


def test_cli_options_become_the_service_config() -> None:
    args = parser().parse_args(
        [
            "--engine",
            "tesseract",
            "--max-pages",
            "7",
            "--allowed-host",
            "Files.Example",
            "--s3-endpoint-url",
            "http://127.0.0.1:9000",
            "--option",
            "threads=2",
            "--allow-s3",
            "data/landing/",
            "--allow-s3",
            "pages",
            "--max-request-pixels",
            "5000",
        ]
    )
    config = config_from(args)
    assert (args.host, args.port, args.engine, args.option) == ("127.0.0.1", 8080, "tesseract", [("threads", 2)])
    assert config.max_pages == 7 and config.fetch.allowed_hosts == {"files.example"}
    assert config.fetch.s3_endpoint_url == "http://127.0.0.1:9000" and not config.fetch.allow_loopback
    assert config.fetch.s3_prefixes == ("data/landing/", "pages") and config.max_request_pixels == 5000
    assert config_from(parser().parse_args([])).fetch.s3_prefixes == ()


def test_an_engine_fault_is_a_json_500_and_the_worker_survives() -> None:
    class Broken:
        name = "broken"

        def recognize(self, pages: Any) -> list[Any]:
            raise RuntimeError("CUDA exploded")

    image = {"image_base64": b64(png_bytes(text_image(["x"], (60, 20))))}
    with LiveServer(create_app(Broken)) as server:
        wait_for(lambda: httpx.get(server.url + "/ping", trust_env=False).status_code == 200)
        for _ in range(2):
            response = invoke(server.url, image)
            assert (response.status_code, response.json()["error"]) == (500, "engine-error")
            assert "CUDA exploded" in response.json()["message"]
