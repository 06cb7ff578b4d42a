"""Engines by name, imported lazily so optional heavy dependencies load only when used."""

from __future__ import annotations

import importlib
from typing import Any

from ocr_pipeline.ocr.base import OcrEngine

ENGINES: dict[str, str] = {
    "rapidocr": "ocr_pipeline.ocr.rapid:RapidOcrEngine",
    "tesseract": "ocr_pipeline.ocr.tesseract:TesseractEngine",
    "deepseek-ocr-2": "ocr_pipeline.ocr.deepseek_ocr2:DeepseekOcr2Engine",
    "deepseek-ocr": "ocr_pipeline.ocr.deepseek_ocr:DeepseekOcrEngine",
    "openai-compatible": "ocr_pipeline.ocr.openai_compatible:OpenAICompatibleEngine",
    "http": "ocr_pipeline.ocr.http_engine:HttpEngine",
    "sagemaker": "ocr_pipeline.ocr.sagemaker:SageMakerEngine",
}
"""Engine name -> ``module:Class``. Each class takes keyword options only."""

DEFAULT_CPU_ENGINE = "rapidocr"


def engine_class(name: str) -> type:
    """The class registered under ``name`` (imports its module)."""
    try:
        target = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown OCR engine {name!r}; known: {', '.join(sorted(ENGINES))}") from None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def build_engine(name: str, **options: Any) -> OcrEngine:
    """Instantiate the engine registered under ``name`` with its options."""
    return engine_class(name)(**options)
