"""The OpenAI-compatible engine against a fake vLLM on 127.0.0.1 that enforces vLLM's request rules.

``FakeVllm`` serves DeepSeek-OCR 2 the way ``vllm serve deepseek-ai/DeepSeek-OCR-2`` with the recipe's
flags does, as far as a client can tell:

* ``GET /v1/models`` lists the served name with its ``max_model_len`` (8192);
* an unknown model is a 404, a malformed ``vllm_xargs`` or n-gram argument a 400;
* the prompt is the page's image tokens (DeepSeek-OCR 2: 256 global + 144 per 768 px tile + 1)
  plus the text; ``max_tokens`` larger than ``max_model_len`` minus that is a 400 with vLLM's error
  body, and a missing ``max_tokens`` means "the rest of the context";
* without ``vllm_xargs`` the n-gram no-repeat processor stays off and the model loops to the limit;
* ``skip_special_tokens`` defaults to true, which strips the grounding tags;
* logprobs come back as ``choices[0].logprobs.content[{token, logprob, bytes, top_logprobs}]``.

The engine's defaults before these rules (``max_tokens=8192``, no ``vllm_xargs``) fail it.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from ocr_pipeline.defs.resources import OcrEngineResource
from ocr_pipeline.models import PageRef, PageStatus
from ocr_pipeline.ocr.base import PageImage
from ocr_pipeline.ocr.deepseek_common import NO_EOS_REASON
from ocr_pipeline.ocr.openai_compatible import DEFAULT_MODEL, WHITELIST_TOKEN_IDS, OpenAICompatibleEngine

TEXT = (Path(__file__).parent / "fixtures" / "deepseek" / "catalog_page.txt").read_text()
SERVED = DEFAULT_MODEL
MAX_MODEL_LEN = 8192
MAX_LOGPROBS = 20
SPECIAL = re.compile(r"<\|/?(ref|det|grounding)\|>")


def image_tokens(width: int, height: int) -> int:
    """DeepSeek-OCR 2's image tokens in vLLM: 16 x 16 for the 1024 px view, 12 x 12 per 768 px tile, + 1."""
    if width <= 768 and height <= 768:
        return 256 + 1
    grids = sorted(((i, j) for i in range(1, 7) for j in range(1, 7) if 2 <= i * j <= 6), key=lambda g: g[0] * g[1])
    aspect = width / height
    best = min(grids, key=lambda g: abs(aspect - g[0] / g[1]))
    return 256 + 144 * best[0] * best[1] + 1


def vllm_error(status: int, kind: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": status}}


def is_xarg_value(value: Any) -> bool:
    scalar = (str, int, float)
    return isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(v, scalar) for v in value))


class FakeVllm(ThreadingHTTPServer):
    """Answers from a script keyed by the page number written in the prompt text."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[dict[str, Any]] = []
        self.model_listings = 0
        self.failures_left = 1  # page 2 gets one HTTP 500 first

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def complete(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """vLLM's checks, in its order, then a scripted answer."""
        if body.get("model") != SERVED:
            return 404, vllm_error(404, "NotFoundError", f"The model `{body.get('model')}` does not exist.", "model")
        xargs = body.get("vllm_xargs")
        if xargs is not None and (not isinstance(xargs, dict) or not all(is_xarg_value(v) for v in xargs.values())):
            return 400, vllm_error(
                400, "BadRequestError", "vllm_xargs: values must be str, int, float or lists of them"
            )
        xargs = xargs or {}
        ngram = xargs.get("ngram_size")
        if ngram is not None:
            window = xargs.get("window_size", 100)
            if not isinstance(ngram, int) or ngram <= 0 or not isinstance(window, int) or window <= 0:
                return 400, vllm_error(
                    400, "BadRequestError", f"`ngram_size` has to be a strictly positive integer, got {ngram}."
                )
        top = body.get("top_logprobs")
        if top is not None and (not body.get("logprobs") or top > MAX_LOGPROBS):
            return 400, vllm_error(
                400,
                "BadRequestError",
                f"when using `top_logprobs`, `logprobs` must be set to true and top_logprobs <= {MAX_LOGPROBS}",
            )
        content = body["messages"][0]["content"]
        url = next(part["image_url"]["url"] for part in content if part["type"] == "image_url")
        image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
        text = " ".join(part["text"] for part in content if part["type"] == "text")
        prompt_tokens = image_tokens(*image.size) + len(text.split()) + 4  # BOS and the chat template's markers
        if prompt_tokens >= MAX_MODEL_LEN:
            return 400, vllm_error(
                400,
                "BadRequestError",
                f"This model's maximum context length is {MAX_MODEL_LEN} "
                f"tokens. However, your request has {prompt_tokens} input "
                "tokens. Please reduce the length of the input messages.",
            )
        max_tokens = body.get("max_tokens")
        if max_tokens is not None and max_tokens > MAX_MODEL_LEN - prompt_tokens:
            message = (
                f"'max_tokens' or 'max_completion_tokens' is too large: {max_tokens}. This model's maximum "
                f"context length is {MAX_MODEL_LEN} tokens and your request has {prompt_tokens} input tokens "
                f"({max_tokens} > {MAX_MODEL_LEN} - {prompt_tokens}). None"
            )
            return 400, vllm_error(400, "BadRequestError", message)
        limit = max_tokens if max_tokens is not None else MAX_MODEL_LEN - prompt_tokens
        if "page 2" in text and self.failures_left:
            self.failures_left -= 1
            return 500, vllm_error(500, "InternalServerError", "busy")
        pieces = [TEXT[i : i + 7] for i in range(0, len(TEXT), 7)]
        if ngram is None:  # no n-gram guard for this request: the model repeats its last line to the limit
            pieces = (pieces + ["\nMATH 101"] * limit)[:limit]
        finish = "length" if len(pieces) >= limit or "page 3" in text else "stop"
        pieces = pieces[:limit]
        answer = "".join(pieces)
        if body.get("skip_special_tokens", True):
            answer = SPECIAL.sub("", answer)
        logprobs = None
        if body.get("logprobs"):
            logprobs = {
                "content": [
                    {
                        "token": p,
                        "logprob": -0.1,
                        "bytes": list(p.encode()),
                        "top_logprobs": [{"token": p, "logprob": -0.1, "bytes": list(p.encode())}] * (top or 0),
                    }
                    for p in pieces
                ]
            }
        return 200, {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": SERVED,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer, "tool_calls": []},
                    "logprobs": logprobs,
                    "finish_reason": finish,
                    "stop_reason": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(pieces),
                "total_tokens": prompt_tokens + len(pieces),
            },
        }


class Handler(BaseHTTPRequestHandler):
    server: FakeVllm

    def reply(self, status: int, data: dict[str, Any]) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        if self.path != "/v1/models":
            self.reply(404, vllm_error(404, "NotFoundError", "Not Found"))
            return
        self.server.model_listings += 1
        self.reply(
            200,
            {
                "object": "list",
                "data": [
                    {
                        "id": SERVED,
                        "object": "model",
                        "owned_by": "vllm",
                        "root": SERVED,
                        "parent": None,
                        "max_model_len": MAX_MODEL_LEN,
                    }
                ],
            },
        )

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/chat/completions":
            self.reply(404, vllm_error(404, "NotFoundError", "Not Found"))
            return
        self.server.requests.append(body)
        self.reply(*self.server.complete(body))

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[FakeVllm]:
    httpd = FakeVllm()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def page(n: int, width: int = 1224, height: int = 1584) -> PageImage:
    """A letter page at 144 dpi by default: 6 tiles, 1,121 image tokens."""
    return PageImage(PageRef("doc", n, width, height, 144), Image.new("L", (width, height), 255))


def engine_for(server: FakeVllm, page_number: int, **options: Any) -> OpenAICompatibleEngine:
    prompt = f"<image>\nConvert page {page_number} to markdown."
    return OpenAICompatibleEngine(server.url, prompt=prompt, backoff=0.01, **options)


def test_page_with_logprobs_and_the_recipes_request(server: FakeVllm) -> None:
    [result] = engine_for(server, 1, api_key="k").recognize([page(1)])
    assert result.status is PageStatus.OK and result.engine == "openai-compatible", result.reasons
    assert result.confidence == pytest.approx(math.exp(-0.1))
    assert result.lines[0].text == "Mathematics Courses" and result.blocks[0].label == "title"
    [request] = server.requests
    assert request["model"] == SERVED and request["temperature"] == 0
    assert request["skip_special_tokens"] is False and request["logprobs"] is True
    assert "max_tokens" not in request  # vLLM allows the rest of max_model_len
    assert request["vllm_xargs"] == {"ngram_size": 30, "window_size": 90, "whitelist_token_ids": [128821, 128822]}
    assert list(WHITELIST_TOKEN_IDS) == [128821, 128822]  # <td>, </td>
    assert request["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert server.model_listings == 1


def test_the_old_max_tokens_default_is_a_400_reported_with_the_servers_message(server: FakeVllm) -> None:
    engine = engine_for(server, 1, max_tokens=8192, check_server=False)
    [result] = engine.recognize([page(1)])
    assert result.status is PageStatus.FAILED
    assert "HTTP 400" in result.reasons[0] and "maximum context length is 8192 tokens" in result.reasons[0]
    assert len(server.requests) == 1  # a 400 is not retried


def test_max_tokens_that_cannot_fit_is_refused_before_the_first_page(server: FakeVllm) -> None:
    with pytest.raises(ValueError, match=r"max_tokens=8192 does not fit the server's max_model_len=8192.*<= 7039"):
        engine_for(server, 1, max_tokens=8192).recognize([page(1)])
    assert server.requests == []
    [result] = engine_for(server, 1, max_tokens=7039).recognize([page(1)])
    assert result.status is PageStatus.OK and server.requests[-1]["max_tokens"] == 7039


def test_a_model_name_the_server_does_not_serve_is_refused(server: FakeVllm) -> None:
    with pytest.raises(ValueError, match="serves deepseek-ai/DeepSeek-OCR-2, not 'deepseek-ai/DeepSeek-OCR'"):
        engine_for(server, 1, model="deepseek-ai/DeepSeek-OCR").recognize([page(1)])
    [result] = engine_for(server, 1, model="other", check_server=False).recognize([page(1)])
    assert result.status is PageStatus.FAILED and "does not exist" in result.reasons[0]


def test_without_vllm_xargs_the_page_loops_and_is_flagged(server: FakeVllm) -> None:
    [result] = engine_for(server, 1, vllm_xargs=False).recognize([page(1)])
    assert "vllm_xargs" not in server.requests[0]
    assert result.status is PageStatus.NEEDS_REVIEW and NO_EOS_REASON in result.reasons


def test_the_fake_enforces_vllms_rules(server: FakeVllm) -> None:
    engine = engine_for(server, 1)
    payload = engine._payload(page(1))
    for bad, words in [
        ({"vllm_xargs": {"ngram_size": "30"}}, "strictly positive"),
        ({"vllm_xargs": {"whitelist_token_ids": {"a": 1}}}, "vllm_xargs"),
        ({"top_logprobs": 5, "logprobs": False}, "top_logprobs"),
        ({"max_tokens": 8000}, "too large: 8000"),
    ]:
        status, answer = server.complete({**payload, **bad})
        assert status == 400 and words in answer["error"]["message"]
    status, answer = server.complete({**payload, "skip_special_tokens": True})
    assert status == 200 and "<|ref|>" not in answer["choices"][0]["message"]["content"]
    assert image_tokens(1224, 1584) == 1121 and image_tokens(700, 700) == 257 and image_tokens(1600, 800) == 545


def test_retry_after_server_error(server: FakeVllm) -> None:
    results = engine_for(server, 2, concurrency=2).recognize([page(1), page(2)])
    assert [r.status for r in results] == [PageStatus.OK, PageStatus.OK]
    assert len(server.requests) == 3


def test_length_finish_is_flagged(server: FakeVllm) -> None:
    [result] = engine_for(server, 3).recognize([page(1)])
    assert result.status is PageStatus.NEEDS_REVIEW and result.reasons == (NO_EOS_REASON,)


def test_unreachable_server_fails_the_page() -> None:
    engine = OpenAICompatibleEngine("http://127.0.0.1:9/v1", retries=1, backoff=0.01, timeout=2)
    [result] = engine.recognize([page(1)])
    assert result.status is PageStatus.FAILED and result.reasons


def test_the_model_path_setting_is_the_served_name(server: FakeVllm) -> None:
    resource = OcrEngineResource(
        engine="openai-compatible", base_url=server.url, model_path=SERVED, prompt="free", batch_size=16
    )
    assert resource.options() == {"model_path": SERVED, "base_url": server.url, "prompt": "free", "batch_size": 16}
    engine = resource.get()
    assert isinstance(engine, OpenAICompatibleEngine) and engine.model == SERVED and engine.concurrency == 16
    assert OpenAICompatibleEngine().model == SERVED  # DeepSeek-OCR 2 by default, not v1
