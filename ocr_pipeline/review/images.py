"""Page images for reviewers: the bytes behind a task's image URI (the PNG that ``review_tasks`` put
in the work store, ``ocr_pipeline.stages.review_tasks``)."""

from __future__ import annotations

from ocr_pipeline.storage.objects import open_store


def read_image(uri: str, *, endpoint_url: str | None = None) -> bytes:
    """The bytes at an image URI a task carries (``file://`` or ``s3://``)."""
    parent, _, name = uri.rpartition("/")
    return open_store(parent, endpoint_url=endpoint_url).get(name)
