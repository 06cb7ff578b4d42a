"""One worker thread feeds the engine from a bounded queue, merging concurrent requests into batches."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field

from ocr_pipeline.models import PageText
from ocr_pipeline.ocr.base import OcrEngine, PageImage
from ocr_pipeline.serve.errors import ServiceError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchResult:
    """One request's pages as read, with how long it waited and how long its engine call took."""

    pages: list[PageText]
    queue_s: float
    ocr_s: float
    batch_pages: int


@dataclass
class Job:
    pages: list[PageImage]
    prompt: str | None
    future: Future[BatchResult] = field(default_factory=Future)
    queued_at: float = field(default_factory=time.perf_counter)


class Batcher:
    """Run ``engine.recognize`` on one thread; a job's pages always go in one call.

    After taking a job the worker waits up to ``wait_s`` for more jobs with the same prompt
    while the batch stays within ``max_batch_pages``. Prompt-driven engines get the batch's
    prompt set as their ``prompt`` attribute before the call.
    """

    def __init__(
        self, engine: OcrEngine, *, max_queue: int, max_batch_pages: int, wait_s: float, retry_after_s: int = 5
    ) -> None:
        self.engine = engine
        self.max_batch_pages = max(1, max_batch_pages)
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self._queue: queue.Queue[Job | None] = queue.Queue(max(1, max_queue))
        self._held: deque[Job | None] = deque()
        self._thread = threading.Thread(target=self._run, name="ocr-batcher", daemon=True)
        self._thread.start()

    def queued(self) -> int:
        """Jobs waiting (not counting the batch being read)."""
        return self._queue.qsize()

    def submit(self, pages: list[PageImage], prompt: str | None) -> Future[BatchResult]:
        job = Job(pages, prompt)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            raise self._full() from None
        return job.future

    def close(self, timeout: float = 5.0) -> None:
        """Let queued jobs finish, then stop the worker (left to die with the process if it is stuck)."""
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _full(self) -> ServiceError:
        return ServiceError(
            503, "queue-full", "the OCR queue is full; retry later", {"Retry-After": str(self.retry_after_s)}
        )

    def _next(self, timeout: float | None = None) -> Job | None:
        return self._held.popleft() if self._held else self._queue.get(timeout=timeout)

    def _run(self) -> None:
        while (first := self._next()) is not None:
            batch, size = [first], len(first.pages)
            deadline = time.monotonic() + self.wait_s
            while size < self.max_batch_pages:
                try:
                    job = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if job is None or job.prompt != first.prompt or size + len(job.pages) > self.max_batch_pages:
                    self._held.append(job)
                    break
                batch.append(job)
                size += len(job.pages)
            self._process(batch)

    def _process(self, batch: list[Job]) -> None:
        jobs = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not jobs:
            return
        pages = [page for job in jobs for page in job.pages]
        started = time.perf_counter()
        try:
            if jobs[0].prompt is not None:
                self.engine.prompt = jobs[0].prompt  # type: ignore[attr-defined]
            results = self.engine.recognize(pages)
            if len(results) != len(pages):
                raise RuntimeError(f"engine returned {len(results)} results for {len(pages)} pages")
        except Exception as error:  # answer every waiting request, keep the worker alive
            log.exception("engine failed on a batch of %d pages", len(pages))
            for job in jobs:
                job.future.set_exception(error)
            return
        ocr_s, start = time.perf_counter() - started, 0
        for job in jobs:
            end = start + len(job.pages)
            job.future.set_result(BatchResult(results[start:end], started - job.queued_at, ocr_s, len(pages)))
            start = end
