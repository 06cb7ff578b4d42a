"""The FastAPI app: ``GET /ping`` and ``POST /invocations`` (SageMaker hosting contract)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ocr_pipeline.ocr.base import OcrEngine
from ocr_pipeline.serve.batcher import Batcher, BatchResult
from ocr_pipeline.serve.config import ServiceConfig
from ocr_pipeline.serve.errors import ServiceError
from ocr_pipeline.serve.fetch import Fetcher
from ocr_pipeline.serve.inputs import Document, Invocation, engine_prompt, load_document

log = logging.getLogger(__name__)
PAGE_SEPARATOR = "\n<--- Page Split --->\n"
"""How DeepSeek-OCR joins the text of a PDF's pages (see :func:`ocr_pipeline.ocr.grounding.split_pages`)."""


class EngineHolder:
    """Loads the engine on a background thread so the server answers ``/ping`` at once."""

    def __init__(self, factory: Callable[[], OcrEngine], config: ServiceConfig) -> None:
        self.factory = factory
        self.config = config
        self.batcher: Batcher | None = None
        self.error: str | None = None

    def load(self) -> None:
        try:
            engine = self.factory()
            batch = self.config.max_batch_pages or int(getattr(engine, "batch_size", 1))
            self.batcher = Batcher(
                engine,
                max_queue=self.config.max_queue,
                max_batch_pages=batch,
                wait_s=self.config.batch_wait_ms / 1000,
                retry_after_s=self.config.retry_after_s,
            )
            log.info("engine %s ready (batches of up to %d pages)", engine.name, batch)
        except Exception as error:  # reported by /ping instead of killing the server
            log.exception("engine failed to load")
            self.error = f"{type(error).__name__}: {error}"

    def ready(self) -> Batcher:
        if self.batcher is None:
            status = "failed" if self.error else "loading"
            raise ServiceError(
                503,
                f"engine-{status}",
                self.error or "the engine is loading",
                {"Retry-After": str(self.config.retry_after_s)},
            )
        return self.batcher


class Admission:
    """Requests admitted at once (reading, decoding, queued or on the engine), decided before any work.

    Used only from the event loop, so a plain counter is race-free.
    """

    def __init__(self, limit: int, retry_after_s: int) -> None:
        self.limit, self.retry_after_s, self.admitted = limit, retry_after_s, 0

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.admitted >= self.limit:
            raise ServiceError(
                503,
                "queue-full",
                f"{self.admitted} requests in progress; retry later",
                {"Retry-After": str(self.retry_after_s)},
            )
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as its declared or streamed size passes ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise ServiceError(413, "body-too-large", f"the body is over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ServiceError(413, "body-too-large", f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def response_body(
    document: Document, result: BatchResult, engine: str, prompt: str | None, timings: dict[str, float]
) -> dict[str, Any]:
    """``text`` (pages joined the DeepSeek way), ``pages`` for PDFs, and per-page detail in ``results``."""
    results = [
        {
            "page": image.ref.page,
            "width": image.ref.width,
            "height": image.ref.height,
            "dpi": image.ref.dpi,
            "text": text.text,
            **text.to_dict(),
        }
        for image, text in zip(document.pages, result.pages)
    ]
    body: dict[str, Any] = {"text": PAGE_SEPARATOR.join(r["text"] for r in results)}
    if document.is_pdf:
        body["pages"] = len(results)
    return {
        **body,
        "engine": engine,
        "prompt": prompt,
        "results": results,
        "timings": {**timings, "queue_s": result.queue_s, "ocr_s": result.ocr_s, "batch_pages": result.batch_pages},
    }


def create_app(
    engine_factory: Callable[[], OcrEngine],
    config: ServiceConfig | None = None,
    *,
    model: str | None = None,
    fetcher: Fetcher | None = None,
) -> FastAPI:
    """The service around the engine ``engine_factory`` builds (on a background thread at startup)."""
    config = config or ServiceConfig()
    fetcher = fetcher or Fetcher(config.fetch)
    holder = EngineHolder(engine_factory, config)
    admission = Admission(config.max_queue + 1, config.retry_after_s)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=holder.load, name="engine-loader", daemon=True).start()
        yield
        if holder.batcher is not None:
            await run_in_threadpool(holder.batcher.close)

    app = FastAPI(title="ocr_pipeline OCR service", lifespan=lifespan)
    app.state.holder = holder
    app.state.admission = admission

    @app.exception_handler(ServiceError)
    async def service_error(_: Request, error: ServiceError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    @app.get("/ping")
    async def ping() -> JSONResponse:
        try:
            engine = holder.ready().engine
        except ServiceError as error:
            return JSONResponse(
                {"status": error.code.removeprefix("engine-"), "error": holder.error},
                status_code=503,
                headers=error.headers,
            )
        return JSONResponse({"status": "healthy", "model": model or engine.name, "backend": engine.name})

    @app.post("/invocations")
    async def invocations(request: Request) -> JSONResponse:
        started = time.perf_counter()
        batcher = holder.ready()
        content_type = request.headers.get("content-type", "application/json")
        if "json" not in content_type.lower():
            raise ServiceError(415, "unsupported-media-type", f"expected application/json, got {content_type}")
        async with admission.slot():  # before the body is read or a page rendered
            body = await read_body(request, config.max_body_bytes)
            # Parsing, decoding and rendering run on worker threads: /ping never waits behind them.
            invocation = await run_in_threadpool(Invocation.parse, body)
            del body
            prompt = engine_prompt(batcher.engine, invocation.prompt)
            document = await run_in_threadpool(load_document, invocation, config, fetcher)
            decode_s = time.perf_counter() - started
            try:
                result = await asyncio.wrap_future(batcher.submit(document.pages, prompt))
            except ServiceError:
                raise
            except Exception as error:  # an engine fault is the server's, reported as JSON
                raise ServiceError(500, "engine-error", f"{type(error).__name__}: {error}") from error
            timings = {"decode_s": decode_s, "total_s": time.perf_counter() - started}
            return JSONResponse(response_body(document, result, batcher.engine.name, prompt, timings))

    return app
