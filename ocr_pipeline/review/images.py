"""Page images for reviewers: the pipeline's PNG, or one rendered on demand into the work store."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from ocr_pipeline.models import PageRef
from ocr_pipeline.pdf.document import open_pdf
from ocr_pipeline.pdf.pages import POINTS_PER_INCH, PageGeometry, render_page
from ocr_pipeline.stages.work_keys import page_image_key
from ocr_pipeline.storage.objects import ObjectStore, open_store


def ensure_page_images(work: ObjectStore, refs: Sequence[PageRef], pdf: Callable[[], bytes]) -> dict[int, str]:
    """Page -> work-store key of its PNG; pages without one are rendered from ``pdf()`` (read once, if needed)."""
    keys = {ref.page: ref.image_uri or page_image_key(ref.document_id, ref.page) for ref in refs}
    missing = [ref for ref in refs if not work.exists(keys[ref.page])]
    if missing:
        document = open_pdf(pdf())
        try:
            for ref in missing:
                geometry = PageGeometry(ref.width * POINTS_PER_INCH / ref.dpi, ref.height * POINTS_PER_INCH / ref.dpi,
                                        ref.dpi, capped=False)
                buffer = io.BytesIO()
                render_page(document, ref.page - 1, geometry).save(buffer, format="PNG")
                work.put(keys[ref.page], buffer.getvalue())
        finally:
            document.close()
    return keys


def read_image(uri: str, *, endpoint_url: str | None = None) -> bytes:
    """The bytes at an image URI a task carries (``file://`` or ``s3://``)."""
    parent, _, name = uri.rpartition("/")
    return open_store(parent, endpoint_url=endpoint_url).get(name)
