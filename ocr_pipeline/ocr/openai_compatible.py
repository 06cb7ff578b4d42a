"""Any OpenAI-compatible chat-completions server (vLLM, SGLang, ...) serving DeepSeek-OCR.

Start vLLM with DeepSeek's n-gram repetition guard and without caches that hurt OCR::

    vllm serve deepseek-ai/DeepSeek-OCR \\
        --logits_processors vllm.model_executor.models.deepseek_ocr:NGramPerReqLogitsProcessor \\
        --no-enable-prefix-caching --mm-processor-cache-gb 0

Requests use temperature 0 and ``skip_special_tokens: false`` (the grounding tags are special
tokens) and ask for logprobs, which become block and page confidences when returned.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ocr_pipeline.models import PageText
from ocr_pipeline.ocr.base import PageImage, failed_page
from ocr_pipeline.ocr.deepseek_common import build_page, resolve_prompt

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class OpenAICompatibleEngine:
    """Pages sent concurrently as chat completions with the image as a base64 data URL."""

    name = "openai-compatible"

    def __init__(self, base_url: str = "http://127.0.0.1:8000/v1", model: str = "deepseek-ai/DeepSeek-OCR", *,
                 api_key: str | None = None, prompt: str = "grounding", max_tokens: int = 8192,
                 concurrency: int = 8, timeout: float = 300.0, retries: int = 3, backoff: float = 1.0) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.prompt = resolve_prompt(prompt).replace("<image>", "").strip()
        self.max_tokens = max_tokens
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._one, pages))

    def _one(self, page: PageImage) -> PageText:
        started = time.perf_counter()
        try:
            choice = self._post(self._payload(page))["choices"][0]
            raw = choice["message"].get("content") or ""
            offsets, probs = _logprob_spans(choice.get("logprobs"))
            return build_page(self.name, raw, page.ref, time.perf_counter() - started, offsets=offsets,
                              probs=probs, complete=choice.get("finish_reason") != "length")
        except Exception as exc:  # noqa: BLE001 - one bad page must not stop the others
            log.warning("page %s failed: %s", page.ref, exc)
            return failed_page(self.name, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)

    def _payload(self, page: PageImage) -> dict[str, Any]:
        buffer = io.BytesIO()
        page.image.convert("RGB").save(buffer, format="PNG")
        data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
        return {
            "model": self.model,
            "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": data_url}},
                {"type": "text", "text": self.prompt}]}],
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "skip_special_tokens": False,
            "logprobs": True,
        }

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRY_STATUS or attempt == self.retries:
                    raise
                log.info("HTTP %s from %s; retry %d", exc.code, self.url, attempt + 1)
            except urllib.error.URLError:
                if attempt == self.retries:
                    raise
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")


def _logprob_spans(logprobs: dict[str, Any] | None) -> tuple[list[tuple[int, int]], list[float]]:
    """Character span and probability of each returned token (``logprobs.content``)."""
    offsets, probs, position = [], [], 0
    for item in (logprobs or {}).get("content") or []:
        token = item.get("token", "")
        offsets.append((position, position + len(token)))
        probs.append(math.exp(item.get("logprob", 0.0)))
        position += len(token)
    return offsets, probs

