"""The original DeepSeek-OCR through its own remote code (``model.infer``).

The checkpoint's code targets transformers 4.46; with transformers 5 prefer ``deepseek-ocr-2``
(native) or ``openai-compatible`` (vLLM). Everything heavy is imported lazily.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocr_pipeline.models import PageText
from ocr_pipeline.ocr.base import PageImage, failed_page
from ocr_pipeline.ocr.deepseek_common import build_page, resolve_prompt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resolution:
    base_size: int
    image_size: int
    crop_mode: bool


MODES: dict[str, Resolution] = {
    "tiny": Resolution(512, 512, False),
    "small": Resolution(640, 640, False),
    "base": Resolution(1024, 1024, False),
    "large": Resolution(1280, 1280, False),
    "gundam": Resolution(1024, 640, True),
}


def _load(model_path: str, allow_download: bool, dtype: str, attn: str) -> tuple[Any, Any]:
    try:
        import torch
        import transformers
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise RuntimeError("deepseek-ocr needs torch and transformers==4.46.* installed") from exc
    if not transformers.__version__.startswith("4."):
        raise RuntimeError(f"deepseek-ocr's remote code needs transformers 4.46, found {transformers.__version__}; "
                           "use the 'deepseek-ocr-2' or 'openai-compatible' engine instead")
    tokenizer = AutoTokenizer.from_pretrained(model_path, trust_remote_code=True, local_files_only=not allow_download)
    model = AutoModel.from_pretrained(model_path, trust_remote_code=True, use_safetensors=True,
                                      _attn_implementation=attn, local_files_only=not allow_download)
    return model.eval().cuda().to(getattr(torch, dtype)), tokenizer


class DeepseekOcrEngine:
    """One page at a time through ``model.infer``; no token scores, so confidence is 1.0 unless flagged."""

    name = "deepseek-ocr"

    def __init__(self, model_path: str = "deepseek-ai/DeepSeek-OCR", *, mode: str = "gundam",
                 prompt: str = "grounding", allow_download: bool = False, dtype: str | None = None,
                 attn_implementation: str | None = None, model: Any = None, tokenizer: Any = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
        self.resolution = MODES[mode]
        self.prompt = resolve_prompt(prompt)
        if model is None:
            from ocr_pipeline.ocr.hardware import detect_precision

            auto = detect_precision()
            model, tokenizer = _load(model_path, allow_download, dtype or auto.dtype,
                                     attn_implementation or auto.attn_implementation)
        self.model, self.tokenizer = model, tokenizer

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        return [self._one(page) for page in pages]

    def _one(self, page: PageImage) -> PageText:
        started = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="deepseek-ocr-") as work:
                image_file = Path(work) / "page.png"
                page.image.convert("RGB").save(image_file)
                raw = self.model.infer(self.tokenizer, prompt=self.prompt, image_file=str(image_file),
                                       output_path=work, base_size=self.resolution.base_size,
                                       image_size=self.resolution.image_size, crop_mode=self.resolution.crop_mode,
                                       save_results=False, eval_mode=True)
            if not isinstance(raw, str):
                raise TypeError(f"model.infer returned {type(raw).__name__}, expected text")
            return build_page(self.name, raw, page.ref, time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - one bad page must not stop the others
            log.exception("page %s failed", page.ref)
            return failed_page(self.name, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
