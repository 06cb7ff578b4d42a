"""The OCR worker as an HTTP service under the SageMaker hosting contract.

``GET /ping``
    200 ``{"status": "healthy", "model": ..., "backend": <engine name>}`` once the engine is
    loaded; 503 ``{"status": "loading" | "failed", "error": ...}`` before (the engine loads on a
    background thread, so the server answers at once).

``POST /invocations`` (``application/json``)
    Exactly one source: ``image_url`` / ``pdf_url`` (``http``, ``https`` or ``s3``),
    ``image_base64`` / ``pdf_base64`` (a ``data:`` URL prefix is accepted). Options: ``prompt``
    (prompt-driven engines only; default DeepSeek grounding markdown, must contain ``<image>``),
    ``dpi`` (PDF render DPI; recorded for images), ``pages`` (PDF page range, e.g. ``"1-3,5"``).
    Answer: ``text`` (pages joined with ``\\n<--- Page Split --->\\n`` as DeepSeek-OCR does),
    ``pages`` (PDFs only), ``engine``, ``prompt``, ``results`` (per page: ``page``, ``width``,
    ``height``, ``dpi``, ``text`` and the :class:`~ocr_pipeline.models.PageText` fields: lines,
    blocks, boxes in page pixels, confidences, status, reasons) and ``timings``.
    Errors: 4xx ``{"error": <code>, "message": ...}``; 503 with ``Retry-After`` while loading or
    when the queue is full.

:func:`ocr_pipeline.serve.app.create_app` builds the app; :func:`ocr_pipeline.serve.cli.main`
runs it with uvicorn. URL fetching and its SSRF guard: :mod:`ocr_pipeline.serve.fetch`.
"""
