"""Test-only side of the synthetic catalogs: the committed ground truth (``truth/<layout>.json``, seed 0,
default arguments) and ``python -m ocr_pipeline_tests.synthetic``, which writes catalogs and rewrites that
truth. The generator itself is product code, ``ocr_pipeline.samples`` (``ocr-pipeline demo`` uses it)."""

from pathlib import Path

TRUTH_DIR = Path(__file__).with_name("truth")
