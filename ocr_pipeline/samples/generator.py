"""Deterministic synthetic course catalogs (born-digital and "scanned") with ground truth.

``generate_catalog(layout, seed=...)`` renders one of ``LAYOUTS`` to a PDF with a real text
layer and returns the entries it printed as ``TruthCourse`` records; ``scan`` turns any PDF into
an image-only imitation of a scan. ``ocr-pipeline demo`` and the tests and benchmarks
(``ocr_pipeline_tests``, whose ``synthetic/truth/`` holds the committed truth for seed 0 with
default arguments) use them. Needs reportlab (the ``samples`` extra) and the DejaVu fonts.
"""

from __future__ import annotations

import io
import random

import numpy as np
import pypdfium2 as pdfium
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from .layouts import LAYOUT_FUNCTIONS
from .truth import SyntheticCatalog, TruthCourse, truth_from_json, truth_to_json

__all__ = [
    "LAYOUTS",
    "SyntheticCatalog",
    "TruthCourse",
    "generate_catalog",
    "scan",
    "truth_from_json",
    "truth_to_json",
]

LAYOUTS: tuple[str, ...] = tuple(LAYOUT_FUNCTIONS)


def generate_catalog(
    layout: str, *, seed: int = 0, n_courses: int = 24, institution: str = "Example University"
) -> SyntheticCatalog:
    """Render ``n_courses`` seeded courses in ``layout`` (``one_per_page`` caps them at 8)."""
    if layout not in LAYOUT_FUNCTIONS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if n_courses < 1:
        raise ValueError("n_courses must be at least 1")
    rng = random.Random(f"{layout}:{seed}")
    pdf, truth = LAYOUT_FUNCTIONS[layout](rng, n_courses, institution)
    return SyntheticCatalog(layout=layout, institution=institution, pdf=pdf, truth=tuple(truth))


def scan(pdf: bytes, *, dpi: int = 150, seed: int = 0, max_angle: float = 0.6, noise: float = 6.0) -> bytes:
    """An image-only PDF imitating a scan of ``pdf``: slightly rotated, noisy, greyscale pages.

    Pages keep their size in points; there is no text layer. Deterministic for a given seed.
    """
    angles = random.Random(seed)
    grain = np.random.default_rng(seed)
    out = io.BytesIO()
    canvas = Canvas(out, invariant=1)
    source = pdfium.PdfDocument(pdf)
    try:
        for page in source:
            width, height = page.get_size()
            image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
            page.close()
            image = image.rotate(
                angles.uniform(-max_angle, max_angle), resample=Image.Resampling.BICUBIC, fillcolor=255
            )
            pixels = np.asarray(image, dtype=np.float32) + grain.normal(0.0, noise, (image.height, image.width))
            jpeg = io.BytesIO()
            Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8)).save(jpeg, "JPEG", quality=80)
            canvas.setPageSize((width, height))
            canvas.drawImage(ImageReader(jpeg), 0, 0, width, height)
            canvas.showPage()
    finally:
        source.close()
    canvas.save()
    return out.getvalue()
