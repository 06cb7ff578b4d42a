"""OCR engines behind one interface (:mod:`ocr_pipeline.ocr.base`)."""
