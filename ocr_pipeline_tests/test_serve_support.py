"""Helpers for the service tests: a uvicorn server on a loopback port, small images and PDFs, test engines.

No tests here; the module name keeps it among the files of the service tests.
"""

from __future__ import annotations

import base64
import io
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Self

import uvicorn
from fastapi import FastAPI
from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfgen import canvas

from ocr_pipeline.models import Line, PageText
from ocr_pipeline.ocr.base import OcrEngine, PageImage

SMALL_PAGE_PT = (300, 100)  # 600 x 200 px at 144 dpi
LOOPBACK_ENV = {
    "NO_PROXY": "127.0.0.1",
    "no_proxy": "127.0.0.1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
"""Keeps clients off proxies and the instance metadata service, with dummy AWS credentials."""


class LiveServer:
    """Run ``app`` with uvicorn on 127.0.0.1 (free port) in a thread, as a context manager."""

    def __init__(self, app: FastAPI) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def __enter__(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def text_image(lines: Sequence[str], size: tuple[int, int] = (600, 200)) -> Image.Image:
    """A white greyscale image with ``lines`` written in a large font."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    for row, line in enumerate(lines):
        draw.text((20, 30 + 80 * row), line, fill=0, font=font)
    return image


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes(pages: Sequence[str], *, password: str | None = None) -> bytes:
    """A PDF with one small page per text, optionally encrypted."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=SMALL_PAGE_PT, encrypt=password)
    for text in pages:
        pdf.setFont("Helvetica", 18)
        pdf.drawString(15, 40, text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class RecordingEngine:
    """Wraps an engine and records the size of each ``recognize`` call."""

    def __init__(self, inner: OcrEngine) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[int] = []

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        self.calls.append(len(pages))
        return self.inner.recognize(pages)


class GatedEngine:
    """A fake engine whose ``recognize`` waits for ``gate``; answers each page with its page number."""

    name = "gated"

    def __init__(self, *, batch_size: int = 1, prompt: str | None = None) -> None:
        self.batch_size = batch_size
        if prompt is not None:
            self.prompt = prompt
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.calls: list[int] = []
        self.prompts: list[Any] = []

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        self.calls.append(len(pages))
        self.prompts.append(getattr(self, "prompt", None))
        self.entered.set()
        self.gate.wait(10)
        return [PageText(self.name, (Line(f"page {p.ref.page}", (0, 0, 1, 1), 0.9),), confidence=0.9) for p in pages]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
