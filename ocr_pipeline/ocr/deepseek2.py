"""DeepSeek-OCR 2 (the default GPU engine) through transformers' native implementation.

Pages are batched (left padding), decoded greedily with DeepSeek's windowed no-repeat-n-gram
guard, and parsed with :mod:`ocr_pipeline.ocr.grounding`. Each token's probability is recorded
during generation (see :class:`ChosenTokenProbs`) and averaged per block and per page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import torch
from transformers import LogitsProcessor, LogitsProcessorList

from ocr_pipeline.models import PageText
from ocr_pipeline.ocr.base import PageImage, failed_page
from ocr_pipeline.ocr.deepseek_common import build_page, resolve_prompt, token_offsets
from ocr_pipeline.ocr.hardware import detect_precision

log = logging.getLogger(__name__)

WHITELIST_TOKENS = ("<td>", "</td>")


class NGramRepeatGuard(LogitsProcessor):
    """Forbid repeating any n-gram seen in the last ``window_size`` tokens, except whitelisted tokens.

    Greedy OCR decoding can fall into loops; table cell tags legitimately repeat, so they stay allowed.
    """

    def __init__(self, ngram_size: int, window_size: int, whitelist_token_ids: set[int]) -> None:
        if ngram_size < 2 or window_size < ngram_size:
            raise ValueError("need 2 <= ngram_size <= window_size")
        self.ngram_size = ngram_size
        self.window_size = window_size
        self.whitelist = set(whitelist_token_ids)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        n = self.ngram_size
        if input_ids.shape[1] < n:
            return scores
        for row, seq in enumerate(input_ids[:, -self.window_size:].tolist()):
            prefix = seq[len(seq) - n + 1:]
            banned = {seq[i + n - 1] for i in range(len(seq) - n + 1) if seq[i:i + n - 1] == prefix}
            banned -= self.whitelist
            if banned:
                scores[row, sorted(banned)] = float("-inf")
        return scores


class ChosenTokenProbs(LogitsProcessor):
    """Record, at each step, the probability of the token greedy decoding picks (the max).

    Must run last. Equivalent to ``output_scores`` + ``compute_transition_scores`` for greedy
    search, without keeping a steps x batch x vocabulary tensor alive.
    """

    def __init__(self) -> None:
        self.steps: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        logits = scores.float()
        self.steps.append(-torch.logsumexp(logits - logits.max(dim=-1, keepdim=True).values, dim=-1))
        return scores

    def probs(self) -> torch.Tensor:
        """(batch, steps) probabilities on the CPU."""
        return torch.stack(self.steps, dim=1).exp().cpu()


def model_attn_implementation(attn: str) -> str | dict[str, str]:
    """FlashAttention 2 only for the language model: the SAM vision encoder's rel-pos bias needs SDPA."""
    if attn == "flash_attention_2":
        return {"": "sdpa", "vision_config": "sdpa", "text_config": "flash_attention_2"}
    return attn


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, torch.cuda.OutOfMemoryError)


class DeepseekOcr2Engine:
    """Batched DeepSeek-OCR 2 with per-block confidence and loop detection."""

    name = "deepseek-ocr-2"

    def __init__(self, model_path: str, *, device: str | None = None, dtype: str | None = None,
                 attn_implementation: str | None = None, allow_download: bool = False,
                 **options: Any) -> None:
        from transformers import AutoProcessor, DeepseekOcr2ForConditionalGeneration

        auto = detect_precision()
        device = device or auto.device
        dtype = dtype or (auto.dtype if device.startswith(auto.device) else "float32")
        attn = attn_implementation or auto.attn_implementation
        log.info("loading DeepSeek-OCR 2 from %s on %s (%s, attn=%s)", model_path, device, dtype, attn)
        processor = AutoProcessor.from_pretrained(model_path, local_files_only=not allow_download)
        model = DeepseekOcr2ForConditionalGeneration.from_pretrained(
            model_path, dtype=getattr(torch, dtype), attn_implementation=model_attn_implementation(attn),
            local_files_only=not allow_download, device_map=device)
        self._bind(model, processor, **options)

    @classmethod
    def from_model(cls, model: Any, processor: Any, **options: Any) -> DeepseekOcr2Engine:
        """An engine around an already built model and processor (tests, benchmarks)."""
        engine = cls.__new__(cls)
        engine._bind(model, processor, **options)
        return engine

    def _bind(self, model: Any, processor: Any, *, prompt: str = "grounding", batch_size: int = 8,
              max_new_tokens: int = 4096, min_new_tokens: int = 0, ngram_size: int = 30,
              ngram_window: int = 90) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.model = model.eval()
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.tokenizer.padding_side = "left"
        self.prompt = resolve_prompt(prompt)
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.min_new_tokens = min_new_tokens
        self.eos_id = self.tokenizer.eos_token_id
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.eos_id
        self.drop_ids = {self.pad_id, self.tokenizer.bos_token_id} - {None}
        unknown = self.tokenizer.unk_token_id
        whitelist = {self.tokenizer.convert_tokens_to_ids(t) for t in WHITELIST_TOKENS} - {None, unknown}
        self.guard = (ngram_size, ngram_window, whitelist)

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        results: list[PageText | None] = [None] * len(pages)
        size, start = self.batch_size, 0
        while start < len(pages):
            chunk = list(range(start, min(start + size, len(pages))))
            try:
                for i, page in zip(chunk, self._run([pages[i] for i in chunk])):
                    results[i] = page
            except Exception as exc:  # noqa: BLE001 - one bad batch or page must not stop the others
                if _is_oom(exc) and size > 1:
                    size = max(1, size // 2)
                    log.warning("CUDA out of memory on %d pages; retrying with batches of %d", len(chunk), size)
                    self._free_memory()
                    continue
                if len(chunk) > 1:
                    log.warning("batch failed (%s); retrying its pages one by one", exc)
                    for i in chunk:
                        results[i] = self.recognize([pages[i]])[0]
                else:
                    log.exception("page %s failed", pages[chunk[0]].ref)
                    results[chunk[0]] = failed_page(self.name, f"{type(exc).__name__}: {exc}")
            start = chunk[-1] + 1
        return [r for r in results if r is not None]

    def _free_memory(self) -> None:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _run(self, batch: list[PageImage]) -> list[PageText]:
        started = time.perf_counter()
        inputs = self.processor(images=[p.image.convert("RGB") for p in batch], text=[self.prompt] * len(batch),
                                return_tensors="pt", padding=True).to(self.model.device, dtype=self.model.dtype)
        recorder = ChosenTokenProbs()
        with torch.inference_mode():
            out = self.model.generate(
                **inputs, do_sample=False, max_new_tokens=self.max_new_tokens, min_new_tokens=self.min_new_tokens,
                logits_processor=LogitsProcessorList([NGramRepeatGuard(*self.guard), recorder]),
                eos_token_id=self.eos_id, pad_token_id=self.pad_id, return_dict_in_generate=True)
        generated = out.sequences[:, inputs["input_ids"].shape[1]:].cpu()
        probs = recorder.probs()
        seconds = (time.perf_counter() - started) / len(batch)
        pages = []
        for row, page in enumerate(batch):
            try:
                pages.append(self._page(generated[row].tolist(), probs[row].tolist(), page, seconds))
            except Exception as exc:  # noqa: BLE001
                log.exception("could not parse output for %s", page.ref)
                pages.append(failed_page(self.name, f"unparseable output: {exc}", seconds))
        return pages

    def _page(self, ids: list[int], probs: list[float], page: PageImage, seconds: float) -> PageText:
        complete = self.eos_id in ids
        end = ids.index(self.eos_id) if complete else len(ids)
        kept = [(t, p) for t, p in zip(ids[:end], probs[:end]) if t not in self.drop_ids]
        tokens = [t for t, _ in kept]
        raw = self.tokenizer.decode(tokens, skip_special_tokens=False)
        pieces = self.tokenizer.batch_decode([[t] for t in tokens], skip_special_tokens=False)
        return build_page(self.name, raw, page.ref, seconds, offsets=token_offsets(pieces, len(raw)),
                          probs=[p for _, p in kept], complete=complete)
