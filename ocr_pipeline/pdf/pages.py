"""Per-page access to an open PDF: size guard, text layer, rendering on demand."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import pypdfium2 as pdfium
from PIL import Image, ImageStat

from ocr_pipeline.models import Line
from ocr_pipeline.pdf.textlayer import read_text_lines

POINTS_PER_INCH = 72.0


@dataclass(frozen=True)
class PageLimits:
    """Guards against absurd pages: a pixel cap lowers the DPI of oversized pages."""

    dpi: int = 144
    max_pixels: int = 40_000_000


@dataclass(frozen=True)
class PageGeometry:
    """A page's size in points and the DPI it is read and rendered at."""

    width_pt: float
    height_pt: float
    dpi: int
    capped: bool
    too_large: bool = False
    """Even at 1 dpi the page would exceed the pixel cap: it must not be rendered at all."""

    @property
    def scale(self) -> float:
        return self.dpi / POINTS_PER_INCH

    @property
    def width(self) -> int:
        return max(1, round(self.width_pt * self.scale))

    @property
    def height(self) -> int:
        return max(1, round(self.height_pt * self.scale))


def page_geometry(width_pt: float, height_pt: float, limits: PageLimits) -> PageGeometry:
    """The DPI to use for a page: the configured one, lowered to keep under the pixel cap."""
    if width_pt <= 0 or height_pt <= 0:
        raise ValueError(f"page has no area ({width_pt} x {height_pt} pt)")
    pixels = width_pt * height_pt * (limits.dpi / POINTS_PER_INCH) ** 2
    if pixels <= limits.max_pixels:
        return PageGeometry(width_pt, height_pt, limits.dpi, capped=False)
    dpi = math.floor(POINTS_PER_INCH * math.sqrt(limits.max_pixels / (width_pt * height_pt)))
    return PageGeometry(width_pt, height_pt, max(dpi, 1), capped=True, too_large=dpi < 1)


def too_large_reason(geometry: PageGeometry, limits: PageLimits) -> str:
    return (
        f"page too large: {geometry.width_pt:.0f} x {geometry.height_pt:.0f} pt cannot be rendered under "
        f"{limits.max_pixels} pixels even at 1 dpi"
    )


@dataclass(frozen=True)
class TextLayerPage:
    """A page's geometry and its text-layer segments (in pixels at the page's DPI)."""

    number: int
    geometry: PageGeometry
    segments: tuple[Line, ...]


def read_page(document: pdfium.PdfDocument, index: int, limits: PageLimits) -> TextLayerPage:
    """Read page ``index`` (0-based): its size, guarded DPI and text layer."""
    page = document[index]
    try:
        geometry = page_geometry(page.get_width(), page.get_height(), limits)
        textpage = page.get_textpage()
        try:
            segments = tuple(read_text_lines(page, textpage, geometry.scale))
        finally:
            textpage.close()
        return TextLayerPage(index + 1, geometry, segments)
    finally:
        page.close()


def render_page(document: pdfium.PdfDocument, index: int, geometry: PageGeometry) -> Image.Image:
    """Render page ``index`` (0-based) to a greyscale image at the page's guarded DPI (never a page
    too large for the pixel cap: that is refused)."""
    if geometry.too_large:
        raise ValueError(f"page {index + 1} is too large to render under the pixel cap")
    page = document[index]
    try:
        return page.render(scale=geometry.scale, grayscale=True).to_pil()
    finally:
        page.close()


def is_blank(image: Image.Image, threshold: float = 2.0) -> bool:
    """True when a rendered page has (almost) no ink."""
    low = image.convert("L").resize((max(1, image.width // 8), max(1, image.height // 8)))
    darkest, lightest = cast(tuple[int, int], low.getextrema())  # one band ("L"): a (min, max) pair
    return lightest - darkest < 10 or ImageStat.Stat(low).stddev[0] < threshold
