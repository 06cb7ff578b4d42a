"""Any OpenAI-compatible chat-completions server (vLLM, SGLang, ...) serving DeepSeek-OCR 2.

Start vLLM as its DeepSeek-OCR 2 recipe does (``docs/vllm.md`` has the T4/g4dn and Ampere+ commands;
a T4 also needs ``--dtype half``)::

    vllm serve deepseek-ai/DeepSeek-OCR-2 \\
        --logits_processors vllm.model_executor.models.deepseek_ocr:NGramPerReqLogitsProcessor \\
        --no-enable-prefix-caching --mm-processor-cache-gb 0

Requests use temperature 0, ``skip_special_tokens: false`` (the grounding tags are special
tokens), ``vllm_xargs`` that switch on the n-gram no-repeat processor for the request (without
them vLLM never runs it), and ask for logprobs, which become block and page confidences.

``max_tokens`` is left out by default: vLLM then allows what remains of ``max_model_len`` after
the prompt (the page image is up to 1,121 tokens for DeepSeek-OCR 2), whereas a fixed
``max_tokens`` equal to ``max_model_len`` (8192) is answered 400 for every page. When set, it is
checked against the server's ``max_model_len`` (from ``/v1/models``) before the first page.
A 400 is never retried; the page fails with the server's error message.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ocr_pipeline.models import PageText
from ocr_pipeline.ocr.base import PageImage, failed_page
from ocr_pipeline.ocr.deepseek_common import build_page, resolve_prompt, token_offsets

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
DEFAULT_MODEL = "deepseek-ai/DeepSeek-OCR-2"
WHITELIST_TOKEN_IDS = (128821, 128822)
"""``<td>`` and ``</td>`` in DeepSeek-OCR's (and OCR 2's) tokenizer: table cells may repeat."""
MAX_PROMPT_TOKENS = 1121 + 32
"""DeepSeek-OCR 2's largest page (256 global + 6 x 144 tile + 1 separator image tokens) and the prompt's words."""


class ServerError(RuntimeError):
    """The server answered with an error status; the message carries its error body."""

    def __init__(self, status: int, url: str, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status} from {url}: {_error_message(body)}")


def _error_message(body: str) -> str:
    """vLLM's ``{"error": {"message": ...}}`` (older: ``{"message": ...}``), else the raw body, shortened."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:1000]
    if isinstance(data, dict):
        error = data.get("error", data)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:1000]
        if isinstance(error, str):
            return error[:1000]
    return body.strip()[:1000]


class OpenAICompatibleEngine:
    """Pages sent concurrently as chat completions with the image as a base64 data URL."""

    name = "openai-compatible"

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000/v1",
        model: str | None = None,
        *,
        model_path: str | None = None,
        api_key: str | None = None,
        prompt: str = "grounding",
        max_tokens: int | None = None,
        concurrency: int = 8,
        batch_size: int | None = None,
        timeout: float = 300.0,
        retries: int = 3,
        backoff: float = 1.0,
        ngram_size: int = 30,
        ngram_window: int = 90,
        whitelist_token_ids: Sequence[int] = WHITELIST_TOKEN_IDS,
        vllm_xargs: bool = True,
        check_server: bool = True,
    ) -> None:
        """``model`` (or ``model_path``, as ``OCR_PIPELINE_MODEL_PATH`` gives it) is the name the server
        serves: ``vllm serve X`` serves ``X`` unless ``--served-model-name`` says otherwise.
        ``batch_size`` (the resource's pages per call), when given, is how many pages are in flight at once
        (``concurrency`` otherwise): vLLM batches concurrent requests itself.
        ``vllm_xargs=False`` leaves out vLLM's per-request processor arguments (for servers that reject them)."""
        if max_tokens is not None and max_tokens < 1:
            raise ValueError("max_tokens must be >= 1, or None to let the server use the rest of its context")
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + "/chat/completions"
        self.model = model or model_path or DEFAULT_MODEL
        self.api_key = api_key
        self.prompt = resolve_prompt(prompt).replace("<image>", "").strip()
        self.max_tokens = max_tokens
        self.concurrency = max(1, batch_size or concurrency)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.xargs = (
            {
                "ngram_size": ngram_size,
                "window_size": ngram_window,
                "whitelist_token_ids": [int(t) for t in whitelist_token_ids],
            }
            if vllm_xargs
            else None
        )
        self.check_server = check_server
        self._checked = False
        self._lock = threading.Lock()

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        self._check_server()
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._one, pages))

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _check_server(self) -> None:
        """Once, before the first page: the model is served and ``max_tokens`` fits its ``max_model_len``.

        A server that cannot be asked (unreachable, no ``/models``) is left to the pages' own retries.
        """
        with self._lock:
            if self._checked or not self.check_server:
                return
            self._checked = True
            try:
                request = urllib.request.Request(self.base_url + "/models", headers=self._headers())
                with urllib.request.urlopen(request, timeout=min(self.timeout, 30.0)) as response:
                    listing = json.loads(response.read())
            except (urllib.error.URLError, OSError, ValueError) as exc:
                log.warning("could not list the models at %s (%s); going on without the check", self.base_url, exc)
                return
            entries = listing.get("data") if isinstance(listing, dict) else None
            served = {m.get("id"): m for m in entries or [] if isinstance(m, dict)}
            if served and self.model not in served:
                raise ValueError(
                    f"{self.base_url} serves {', '.join(map(str, served))}, not {self.model!r}: set "
                    "OCR_PIPELINE_MODEL_PATH (or the engine's model) to the served name"
                )
            limit = (served.get(self.model) or {}).get("max_model_len")
            if isinstance(limit, int) and self.max_tokens is not None and self.max_tokens + MAX_PROMPT_TOKENS > limit:
                raise ValueError(
                    f"max_tokens={self.max_tokens} does not fit the server's max_model_len={limit} next to a page's "
                    f"prompt (up to {MAX_PROMPT_TOKENS} tokens): use max_tokens <= {limit - MAX_PROMPT_TOKENS}, or "
                    "leave it unset so the server allows the rest of the context"
                )

    def _one(self, page: PageImage) -> PageText:
        started = time.perf_counter()
        try:
            choice = self._post(self._payload(page))["choices"][0]
            raw = choice["message"].get("content") or ""
            offsets, probs = _logprob_spans(choice.get("logprobs"), len(raw))
            return build_page(
                self.name,
                raw,
                page.ref,
                time.perf_counter() - started,
                offsets=offsets,
                probs=probs,
                complete=choice.get("finish_reason") == "stop",
            )
        except Exception as exc:  # noqa: BLE001 - one bad page must not stop the others
            log.warning("page %s failed: %s", page.ref, exc)
            return failed_page(self.name, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)

    def _payload(self, page: PageImage) -> dict[str, Any]:
        buffer = io.BytesIO()
        page.image.convert("RGB").save(buffer, format="PNG")
        data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": data_url}},
                        {"type": "text", "text": self.prompt},
                    ],
                }
            ],
            "temperature": 0,
            "skip_special_tokens": False,
            "logprobs": True,
        }
        if self.max_tokens is not None:
            payload["max_tokens"] = self.max_tokens
        if self.xargs is not None:
            payload["vllm_xargs"] = self.xargs
        return payload

    def _post(self, payload: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(payload).encode()
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=body, headers=self._headers(), method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                error = ServerError(exc.code, self.url, exc.read().decode(errors="replace"))
                if exc.code not in RETRY_STATUS or attempt == self.retries:
                    raise error from None
                log.info("%s; retry %d", error, attempt + 1)
            except urllib.error.URLError:
                if attempt == self.retries:
                    raise
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")


def _logprob_spans(logprobs: dict[str, Any] | None, text_length: int) -> tuple[list[tuple[int, int]], list[float]]:
    """Character span and probability of each returned token (``logprobs.content``).

    Token strings do not always add up to the text (byte pieces, ``token_id:N`` forms), so their
    spans are scaled to the content's length. A missing or ``null`` logprob counts as NaN (flagged).
    """
    pieces, probs = [], []
    for item in (logprobs or {}).get("content") or []:
        pieces.append(str(item.get("token", "")))
        value = item.get("logprob")
        probs.append(math.exp(value) if isinstance(value, (int, float)) and not math.isnan(value) else math.nan)
    return token_offsets(pieces, text_length), probs
