"""The original DeepSeek-OCR through its own remote code (``model.infer``).

The checkpoint's code targets transformers 4.46.x (DeepSeek tested 4.46.3), so this engine needs its
own environment (``pip install 'transformers==4.46.3' accelerate``; the project's GPU image has
transformers 5 and runs ``deepseek-ocr-2``). It runs only on Ampere or newer GPUs in bfloat16,
with ``flash_attention_2`` or ``eager`` attention: the rules are in :mod:`ocr_pipeline.ocr.hardware`.
With transformers 5 or on a T4 use ``deepseek-ocr-2`` (native) or ``openai-compatible`` (vLLM).
Everything heavy is imported lazily.
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
from ocr_pipeline.ocr import hardware
from ocr_pipeline.ocr.base import PageImage, failed_page
from ocr_pipeline.ocr.deepseek_common import build_page, resolve_prompt
from ocr_pipeline.ocr.hardware import Precision, detect_precision

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


TRANSFORMERS_SERIES = (4, 46)
"""The transformers minor series DeepSeek-OCR's remote code is written for (``LlamaFlashAttention2``
and the 4.46 ``generate`` internals are gone from later versions)."""


def check_transformers(version: str) -> None:
    """Refuse any transformers but 4.46.x, naming the engines to use instead."""
    parts = version.split(".")
    try:
        series = (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        series = None
    if series != TRANSFORMERS_SERIES:
        raise RuntimeError(
            f"deepseek-ocr's remote code needs transformers 4.46.x (DeepSeek tested 4.46.3), found "
            f"{version}; install it in the v1 engine's own environment, or use the 'deepseek-ocr-2' "
            "or 'openai-compatible' engine instead"
        )


def _load(model_path: str, allow_download: bool, precision: Precision) -> tuple[Any, Any]:
    try:
        import torch
        import transformers
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise RuntimeError("deepseek-ocr needs torch and transformers==4.46.* installed") from exc
    check_transformers(transformers.__version__)
    if not hardware.installed("accelerate"):
        raise RuntimeError("deepseek-ocr loads straight onto the GPU with device_map=, which needs accelerate")
    tokenizer = AutoTokenizer.from_pretrained(model_path, trust_remote_code=True, local_files_only=not allow_download)
    # bf16 from the start, straight onto the GPU: no fp32 copy in host memory (about 12.6 GiB) first.
    model = AutoModel.from_pretrained(
        model_path,
        trust_remote_code=True,
        use_safetensors=True,
        _attn_implementation=precision.attn_implementation,
        torch_dtype=getattr(torch, precision.dtype),
        device_map=precision.device,
        low_cpu_mem_usage=True,
        local_files_only=not allow_download,
    )
    return model.eval(), tokenizer


class GenerateRecorder:
    """Wraps ``model.generate`` while ``infer`` runs, to see the tokens it produced.

    ``infer(eval_mode=True)`` strips the end-of-sentence text before returning, so the text alone
    cannot tell a finished page from a loop cut at ``max_new_tokens``; the token ids can.
    """

    def __init__(self, model: Any, eos_token_id: int | None) -> None:
        self.model = model
        self.eos_token_id = eos_token_id
        self.new_tokens: list[int] | None = None

    def __enter__(self) -> GenerateRecorder:
        original = self.model.generate

        def generate(*args: Any, **kwargs: Any) -> Any:
            output = original(*args, **kwargs)
            input_ids = kwargs.get("input_ids", args[0] if args else None)
            prompt = int(input_ids.shape[-1]) if input_ids is not None else 0
            sequences = getattr(output, "sequences", output)
            self.new_tokens = [int(t) for t in sequences[0][prompt:].tolist()]
            if kwargs.get("eos_token_id") is not None:
                self.eos_token_id = kwargs["eos_token_id"]
            return output

        self._had_attribute = "generate" in vars(self.model)
        self._original = original
        self.model.generate = generate
        return self

    def __exit__(self, *exc: object) -> None:
        if self._had_attribute:
            self.model.generate = self._original
        else:
            del self.model.generate

    @property
    def complete(self) -> bool:
        """The page ended with end-of-sentence (``False`` when generate was never seen)."""
        if self.new_tokens is None or self.eos_token_id is None:
            return False
        eos = self.eos_token_id if isinstance(self.eos_token_id, (list, tuple, set)) else [self.eos_token_id]
        return any(t in eos for t in self.new_tokens)


class DeepseekOcrEngine:
    """One page at a time through ``model.infer``. No token scores: a page that ends with
    end-of-sentence has confidence 1.0, one that loops or hits the token limit 0.0 and is flagged."""

    name = "deepseek-ocr"

    def __init__(
        self,
        model_path: str = "deepseek-ai/DeepSeek-OCR",
        *,
        mode: str = "gundam",
        prompt: str = "grounding",
        allow_download: bool = False,
        device: str | None = None,
        dtype: str | None = None,
        attn_implementation: str | None = None,
        model: Any = None,
        tokenizer: Any = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
        self.resolution = MODES[mode]
        self.prompt = resolve_prompt(prompt)
        if model is None:
            precision = detect_precision(
                "deepseek-ocr", device=device, dtype=dtype, attn_implementation=attn_implementation
            )
            model, tokenizer = _load(model_path, allow_download, precision)
        self.model, self.tokenizer = model, tokenizer

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        return [self._one(page) for page in pages]

    def _one(self, page: PageImage) -> PageText:
        started = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="deepseek-ocr-") as work:
                image_file = Path(work) / "page.png"
                page.image.convert("RGB").save(image_file)
                with GenerateRecorder(self.model, getattr(self.tokenizer, "eos_token_id", None)) as recorder:
                    raw = self.model.infer(
                        self.tokenizer,
                        prompt=self.prompt,
                        image_file=str(image_file),
                        output_path=work,
                        base_size=self.resolution.base_size,
                        image_size=self.resolution.image_size,
                        crop_mode=self.resolution.crop_mode,
                        save_results=False,
                        eval_mode=True,
                    )
            if not isinstance(raw, str):
                raise TypeError(f"model.infer returned {type(raw).__name__}, expected text")
            return build_page(self.name, raw, page.ref, time.perf_counter() - started, complete=recorder.complete)
        except Exception as exc:  # one bad page must not stop the others
            log.exception("page %s failed", page.ref)
            return failed_page(self.name, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
