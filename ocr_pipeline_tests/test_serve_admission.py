"""The OCR service bounds its memory by admission and a per-request pixel budget, decided before any
page is rendered, and ``/ping`` answers during a burst (issue 14 items 4 and 13).

The service runs as a real subprocess (``ocr-pipeline serve``); its peak RSS is sampled with psutil.
"""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import psutil
import pytest
from reportlab.pdfgen import canvas

from ocr_pipeline_tests.support import PeakRss

pytestmark = [pytest.mark.slow, pytest.mark.integration]

MB = 1024 * 1024


def large_pages_pdf(pages: int = 50, side_pt: float = 2000) -> bytes:
    """A few KB of PDF whose pages render to ~16 million pixels each at 144 dpi (under the per-page cap)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(side_pt, side_pt))
    for number in range(pages):
        pdf.drawString(20, 20, f"page {number + 1}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def padded(pdf: bytes, size: int) -> bytes:
    """``pdf`` followed by ``size`` bytes of trailing junk (readers ignore it): a large body, cheap to render."""
    return pdf + b"%" + b"x" * size


def small_pdf() -> bytes:
    return large_pages_pdf(pages=1, side_pt=200)


def listening_port(process: psutil.Process) -> int | None:
    ports = [c.laddr.port for c in process.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN]
    return ports[0] if ports else None


@contextmanager
def serving(*options: str) -> Iterator[tuple[str, int]]:
    """The service on a port the OS picks (``--port 0``) and that this very process holds: a free port chosen
    beforehand could be taken by another test's server in between, and the pings would reach that one. Its own
    session (no signal meant for the test run reaches it); its output is printed if it exits early."""
    with tempfile.TemporaryFile() as log:
        command = [
            sys.executable,
            "-m",
            "ocr_pipeline.cli",
            "serve",
            "--port",
            "0",
            "--engine",
            "rapidocr",
            "--log-level",
            "warning",
            *options,
        ]
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline, url = time.monotonic() + 120, None
            while time.monotonic() < deadline and process.poll() is None:
                if url is None and (port := listening_port(psutil.Process(process.pid))):
                    url = f"http://127.0.0.1:{port}"
                try:
                    if url and httpx.get(url + "/ping", trust_env=False).json().get("backend") == "rapidocr":
                        break
                except (httpx.TransportError, ValueError):
                    pass
                time.sleep(0.3)
            else:
                pytest.fail(f"the service did not become healthy in 120 s (exit code {process.poll()})")
            yield url, process.pid
        finally:
            exited = process.poll()
            process.terminate()
            process.wait(30)
            if exited is not None:
                log.seek(0)
                print(
                    f"the service exited early ({exited}); its last output:\n{log.read()[-4000:].decode(errors='replace')}"
                )


@pytest.fixture(scope="module")
def service() -> Iterator[tuple[str, int]]:
    with serving("--max-queue", "1") as running:
        yield running


def invoke(url: str, pdf: bytes) -> httpx.Response:
    return httpx.post(
        url + "/invocations", json={"pdf_base64": base64.b64encode(pdf).decode()}, timeout=120, trust_env=False
    )


def test_a_small_pdf_of_huge_pages_is_refused_before_rendering_and_memory_stays_bounded(service):
    url, pid = service
    pdf = large_pages_pdf()
    assert len(pdf) < 30_000
    baseline = psutil.Process(pid).memory_info().rss
    started = time.monotonic()
    with PeakRss(pid) as rss, ThreadPoolExecutor(3) as pool:
        responses = list(pool.map(lambda _: invoke(url, pdf), range(3)))
    elapsed = time.monotonic() - started
    assert {r.status_code for r in responses} <= {413, 503}
    assert "too-many-pixels" in {r.json()["error"] for r in responses}
    assert elapsed < 10, f"refusals took {elapsed:.1f} s"
    # Before admission and the pixel budget: 1.9 GB for one such request, 5.6 GB for three.
    assert rss.peak - baseline < 300 * MB, f"peak RSS grew by {(rss.peak - baseline) / MB:.0f} MB"


def test_requests_beyond_the_admission_limit_get_503_at_once_and_ping_stays_fast(service):
    url, _ = service
    # Accepted requests: 6 pages of ~7.8 million pixels, real OCR work; 5 MB bodies that a server without
    # admission would read and parse for all 40 requests before refusing any.
    pdf = padded(large_pages_pdf(pages=6, side_pt=1400), 5 * MB)
    with ThreadPoolExecutor(40) as pool:
        burst = [pool.submit(invoke, url, pdf) for _ in range(40)]
        time.sleep(0.3)
        pings = []
        for _ in range(5):
            started = time.monotonic()
            assert httpx.get(url + "/ping", trust_env=False, timeout=30).status_code == 200
            pings.append(time.monotonic() - started)
            time.sleep(0.1)
        responses = [future.result() for future in burst]
    codes = [r.status_code for r in responses]
    assert set(codes) <= {200, 503} and codes.count(200) >= 1 and codes.count(503) >= 30
    assert all(r.headers["Retry-After"] == "5" for r in responses if r.status_code == 503)
    assert max(pings) < 1.0, f"/ping took {max(pings):.2f} s during the burst"
    assert invoke(url, small_pdf()).status_code == 200  # the slots are given back


def test_concurrent_pdf_requests_never_crash_the_service():
    """PDFium is not thread-safe: two PDFs decoded at once on worker threads aborted the service ("double free or
    corruption", found by the full CI run). Many concurrent PDF requests now all succeed and the process lives."""
    pdf = large_pages_pdf(pages=3, side_pt=300)
    with serving("--max-queue", "32") as (url, pid), ThreadPoolExecutor(16) as pool:
        codes = [response.status_code for response in pool.map(lambda _: invoke(url, pdf), range(32))]
        assert psutil.Process(pid).is_running() and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    assert codes == [200] * 32
