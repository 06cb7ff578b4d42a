"""The OCR worker as an HTTP service under the SageMaker hosting contract (``/ping``, ``/invocations``).

:func:`ocr_pipeline.serve.app.create_app` builds the FastAPI app; :func:`ocr_pipeline.serve.cli.main`
runs it with uvicorn.
"""
