"""The OpenAI-compatible engine against a small chat-completions server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ocr_pipeline.models import PageRef, PageStatus
from ocr_pipeline.ocr.base import PageImage
from ocr_pipeline.ocr.deepseek_common import NO_EOS_REASON
from ocr_pipeline.ocr.openai_compatible import OpenAICompatibleEngine

TEXT = (Path(__file__).parent / "fixtures" / "deepseek" / "catalog_page.txt").read_text()


class FakeServer(ThreadingHTTPServer):
    """Answers each request from a script keyed by the page number written in the image size."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict[str, Any]] = []
        self.failures_left = 1  # page 2 gets one HTTP 500 first


class Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        page = body["messages"][0]["content"][1]["text"]
        if "page 2" in page and self.server.failures_left:
            self.server.failures_left -= 1
            self.send_error(500, "busy")
            return
        tokens = [TEXT[i:i + 7] for i in range(0, len(TEXT), 7)]
        answer = {"choices": [{
            "message": {"role": "assistant", "content": TEXT},
            "finish_reason": "length" if "page 3" in page else "stop",
            "logprobs": {"content": [{"token": t, "logprob": -0.1} for t in tokens]},
        }]}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[FakeServer]:
    httpd = FakeServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def page(n: int) -> PageImage:
    return PageImage(PageRef("doc", n, 200, 300, 72), Image.new("L", (200, 300), 255))


def engine_for(server: FakeServer, page_number: int, **options: Any) -> OpenAICompatibleEngine:
    prompt = f"<image>\nConvert page {page_number} to markdown."
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    return OpenAICompatibleEngine(url, "deepseek-ocr", prompt=prompt, backoff=0.01, **options)


def test_page_with_logprobs(server: FakeServer) -> None:
    [result] = engine_for(server, 1, api_key="k").recognize([page(1)])
    assert result.status is PageStatus.OK and result.engine == "openai-compatible"
    assert result.confidence == pytest.approx(0.9048, abs=1e-3)
    assert result.lines[0].text == "Mathematics Courses"
    request = server.requests[0]
    assert request["temperature"] == 0 and request["skip_special_tokens"] is False and request["logprobs"] is True
    assert request["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")


def test_retry_after_server_error(server: FakeServer) -> None:
    results = engine_for(server, 2, concurrency=2).recognize([page(1), page(2)])
    assert [r.status for r in results] == [PageStatus.OK, PageStatus.OK]
    assert len(server.requests) == 3


def test_length_finish_is_flagged(server: FakeServer) -> None:
    [result] = engine_for(server, 3).recognize([page(1)])
    assert result.status is PageStatus.NEEDS_REVIEW and result.reasons == (NO_EOS_REASON,)


def test_unreachable_server_fails_the_page() -> None:
    engine = OpenAICompatibleEngine("http://127.0.0.1:9/v1", retries=1, backoff=0.01, timeout=2)
    [result] = engine.recognize([page(1)])
    assert result.status is PageStatus.FAILED and result.reasons
