"""What the ``http`` and ``sagemaker`` engines share: the ``/invocations`` request and response
of :mod:`ocr_pipeline.serve`, retries with backoff, and pages sent concurrently.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ocr_pipeline.models import PageText
from ocr_pipeline.ocr.base import PageImage, failed_page

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA"})


class TransientError(Exception):
    """A failure worth retrying (throttling, 5xx, connection); ``retry_after`` in seconds if the server said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header given in seconds (dates are ignored)."""
    try:
        return min(float(value), MAX_RETRY_AFTER) if value else None
    except ValueError:
        return None


def request_body(page: PageImage, prompt: str | None) -> bytes:
    """The page as a PNG in base64, at its render DPI."""
    buffer = io.BytesIO()
    image = page.image if page.image.mode in PNG_MODES else page.image.convert("RGB")
    image.save(buffer, format="PNG")
    payload: dict[str, Any] = {"image_base64": base64.b64encode(buffer.getvalue()).decode(), "dpi": page.ref.dpi}
    if prompt is not None:
        payload["prompt"] = prompt
    return json.dumps(payload).encode()


def page_from_response(body: bytes) -> PageText:
    """The one page of a response, as the engine behind the service read it."""
    return PageText.from_dict(json.loads(body)["results"][0])


class ServiceEngine:
    """Base of engines that send each page to an OCR service; subclasses implement :meth:`_invoke`."""

    name = "service"

    def __init__(
        self, *, prompt: str | None = None, concurrency: int = 4, retries: int = 3, backoff: float = 0.5
    ) -> None:
        self.prompt = prompt
        self.concurrency = max(1, concurrency)
        self.retries = retries
        self.backoff = backoff

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        with ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(pages)))) as pool:
            return list(pool.map(self._one, pages))

    def _invoke(self, body: bytes) -> bytes:
        """Send one request; raise :class:`TransientError` for failures worth retrying."""
        raise NotImplementedError

    def _one(self, page: PageImage) -> PageText:
        started = time.perf_counter()
        try:
            return page_from_response(self._with_retries(request_body(page, self.prompt)))
        except Exception as error:  # noqa: BLE001 - one bad page must not stop the others
            log.warning("page %s failed: %s", page.ref, error)
            return failed_page(self.name, f"{type(error).__name__}: {error}", time.perf_counter() - started)

    def _with_retries(self, body: bytes) -> bytes:
        for attempt in range(self.retries + 1):
            try:
                return self._invoke(body)
            except TransientError as error:
                if attempt == self.retries:
                    raise
                delay = max(self.backoff * 2**attempt, error.retry_after or 0.0)
                log.info("%s: %s; retry %d in %.1fs", self.name, error, attempt + 1, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")
