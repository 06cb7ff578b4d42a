"""ocr_pipeline: course catalog PDFs -> validated course records, as Dagster assets."""
