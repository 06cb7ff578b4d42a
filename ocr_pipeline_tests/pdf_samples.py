"""Small PDFs made on the fly for the bad-input tests (nothing binary is committed)."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
from reportlab.lib import pdfencrypt
from reportlab.pdfgen import canvas


def encrypted_pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, encrypt=pdfencrypt.StandardEncryption("secret", canPrint=0))
    page.drawString(100, 700, "CS 101 Secret Course (3 credits)")
    page.save()
    return buffer.getvalue()


def zero_page_pdf() -> bytes:
    buffer = io.BytesIO()
    pdfium.PdfDocument.new().save(buffer)
    return buffer.getvalue()


def huge_page_pdf() -> bytes:
    """One 200 x 200 inch page with a drawing and no text layer."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=(14400, 14400))
    page.setLineWidth(40)
    page.rect(1000, 1000, 12000, 12000)
    page.save()
    return buffer.getvalue()


def giant_page_pdf() -> bytes:
    """One page of 1.5 million points per side (a few hundred bytes): above any pixel cap even at 1 dpi."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=(1.5e6, 1.5e6))
    page.rect(10, 10, 100, 100)
    page.save()
    return buffer.getvalue()


def blank_page_pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.showPage()
    page.save()
    return buffer.getvalue()
