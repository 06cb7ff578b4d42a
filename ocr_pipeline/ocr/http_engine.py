"""The ``http`` engine: pages sent to an OCR service (:mod:`ocr_pipeline.serve`) at ``base_url``."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from ocr_pipeline.ocr.ocr_service_client import RETRY_STATUS, ServiceEngine, TransientError, retry_after_seconds


class HttpEngine(ServiceEngine):
    """POST ``{base_url}/invocations`` per page; retries 408/429/5xx and connection errors."""

    name = "http"

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080",
        *,
        timeout: float = 300.0,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.url = base_url.rstrip("/") + "/invocations"
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}

    def _invoke(self, body: bytes) -> bytes:
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:500].decode(errors="replace")
            if error.code in RETRY_STATUS:
                raise TransientError(
                    f"HTTP {error.code}: {detail}", retry_after_seconds(error.headers.get("Retry-After"))
                ) from error
            raise RuntimeError(f"HTTP {error.code} from {self.url}: {detail}") from error
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            raise TransientError(f"cannot reach {self.url}: {error}") from error
