"""DeepSeek-OCR 2 (the default GPU engine) through transformers' native implementation.

Pages are batched (left padding), decoded greedily with DeepSeek's windowed no-repeat-n-gram
guard, and parsed with :mod:`ocr_pipeline.ocr.grounding`. Each token's probability is recorded
during generation (see :class:`ChosenTokenProbs`) and averaged per block and per page.

The engine reads the checkpoint converted to transformers' format
(:data:`CONVERTED_CHECKPOINT`); the original release directory (:data:`RELEASE_CHECKPOINT`,
remote code) is detected and refused by :func:`check_checkpoint`. Which GPU, dtype and attention
it runs with is decided and checked by :mod:`ocr_pipeline.ocr.hardware`.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import LogitsProcessor, LogitsProcessorList

from ocr_pipeline.models import PageText
from ocr_pipeline.ocr import hardware
from ocr_pipeline.ocr.base import PageImage, failed_page
from ocr_pipeline.ocr.deepseek_common import build_page, resolve_prompt, token_offsets
from ocr_pipeline.ocr.hardware import UnsupportedHardware, cuda_memory_gib, detect_precision

log = logging.getLogger(__name__)

WHITELIST_TOKENS = ("<td>", "</td>")
CONVERTED_CHECKPOINT = "deepseek-community/DeepSeek-OCR-2"
"""DeepSeek-OCR 2 in transformers' format (``model_type: deepseek_ocr2``): what this engine loads."""
RELEASE_CHECKPOINT = "deepseek-ai/DeepSeek-OCR-2"
"""DeepSeek's release (``model_type: deepseek_vl_v2``, remote code for transformers 4.46): what vLLM serves."""
RELEASE_FILES = frozenset(
    {
        "modeling_deepseekocr2.py",
        "deepencoderv2.py",
        "configuration_deepseek_v2.py",
        "modeling_deepseekv2.py",
        "conversation.py",
    }
)
PROCESSOR_FILES = ("processor_config.json", "preprocessor_config.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
PROMPT_TEXT_TOKENS = 32
"""Room for the prompt's words and BOS next to the image tokens when sizing the context."""
MEMORY_HEADROOM = 0.92
"""Share of a GPU's memory that weights + KV cache may plan for (CUDA context, activations, fragmentation)."""
MAX_BATCH_SIZE = 256


class CheckpointError(ValueError):
    """The model directory is not DeepSeek-OCR 2 in transformers' format."""


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
        for row, seq in enumerate(input_ids[:, -self.window_size :].tolist()):
            prefix = seq[len(seq) - n + 1 :]
            banned = {seq[i + n - 1] for i in range(len(seq) - n + 1) if seq[i : i + n - 1] == prefix}
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


def _release_message(model_path: str) -> str:
    return (
        f"{model_path} holds DeepSeek-OCR 2 in its original release layout ({RELEASE_CHECKPOINT}: model_type "
        "'deepseek_vl_v2' with remote code for transformers 4.46). transformers' native DeepseekOcr2 cannot read "
        "it (it would silently build a default-sized model with a bare tokenizer). Point OCR_PIPELINE_MODEL_PATH "
        f"at the converted checkpoint {CONVERTED_CHECKPOINT} (transformers format), or convert this directory "
        "with convert_deepseek_ocr2_weights_to_hf.py from transformers' source tree (src/transformers/models/"
        "deepseek_ocr2/); to serve the release checkpoint as it is, use vLLM and the 'openai-compatible' engine "
        "(docs/vllm.md)."
    )


def check_checkpoint(model_path: str, allow_download: bool = False) -> dict[str, Any]:
    """The checkpoint's ``config.json`` after checking it is DeepSeek-OCR 2 in transformers' format.

    Refuses, with a message naming :data:`CONVERTED_CHECKPOINT`, the original release layout and
    directories without the processor, tokenizer or weights the engine needs.
    """
    path = Path(model_path)
    files: set[str] | None = None
    if path.is_dir():
        files = {p.name for p in path.iterdir()}
        if "config.json" not in files:
            raise CheckpointError(
                f"{model_path} has no config.json: it is not a model directory; download {CONVERTED_CHECKPOINT} into it"
            )
        config = json.loads((path / "config.json").read_text())
    elif allow_download:
        from transformers import PretrainedConfig

        config = PretrainedConfig.get_config_dict(model_path)[0]
    else:
        raise CheckpointError(
            f"model path {model_path!r} is not a directory and downloads are off: set "
            f"OCR_PIPELINE_MODEL_PATH to a local copy of {CONVERTED_CHECKPOINT}"
        )
    model_type = config.get("model_type")
    if model_type != "deepseek_ocr2":
        release = (
            model_type == "deepseek_vl_v2"
            or "auto_map" in config
            or "DeepseekOCR2ForCausalLM" in (config.get("architectures") or ())
            or bool(files and files & RELEASE_FILES)
        )
        if release:
            raise CheckpointError(_release_message(model_path))
        raise CheckpointError(
            f"{model_path} holds a {model_type!r} model, not DeepSeek-OCR 2 in transformers' format "
            f"('deepseek_ocr2'): use {CONVERTED_CHECKPOINT}"
        )
    if files is not None:
        missing = [
            what
            for what, names in (("a processor config", PROCESSOR_FILES), ("a tokenizer", TOKENIZER_FILES))
            if not files & set(names)
        ]
        if not any(name.endswith(".safetensors") or name.endswith(".safetensors.index.json") for name in files):
            missing.append("safetensors weights")
        if missing:
            raise CheckpointError(
                f"{model_path} lacks {', '.join(missing)}: copy the whole {CONVERTED_CHECKPOINT} "
                "repository, not only its weights"
            )
    return config


def max_image_tokens(processor: Any) -> int:
    """Image tokens of the largest page the processor makes (global view + the most tiles + separator)."""
    images = processor.image_processor
    size = images.size["height"] if isinstance(images.size, dict) else images.size.height
    per_global = math.ceil(size / processor.patch_size / processor.downsample_ratio) ** 2
    per_tile = math.ceil(images.tile_size / processor.patch_size / processor.downsample_ratio) ** 2
    return per_global + per_tile * images.max_patches + 1


class DeepseekOcr2Engine:
    """Batched DeepSeek-OCR 2 with per-block confidence and loop detection.

    ``max_new_tokens=None`` (the default) lets each page generate until the model's context
    (``max_position_embeddings``, 8192) is full, as vLLM and DeepSeek's scripts do.
    """

    name = "deepseek-ocr-2"

    def __init__(
        self,
        model_path: str | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        attn_implementation: str | None = None,
        allow_download: bool = False,
        prompt: str = "grounding",
        batch_size: int = 8,
        max_new_tokens: int | None = None,
        min_new_tokens: int = 0,
        ngram_size: int = 30,
        ngram_window: int = 90,
    ) -> None:
        if not model_path:
            raise CheckpointError(
                f"deepseek-ocr-2 needs model_path (OCR_PIPELINE_MODEL_PATH): a directory holding {CONVERTED_CHECKPOINT}"
            )
        check_checkpoint(model_path, allow_download)
        precision = detect_precision(
            "deepseek-ocr-2", device=device, dtype=dtype, attn_implementation=attn_implementation
        )
        if not hardware.installed("accelerate"):
            raise RuntimeError(
                "deepseek-ocr-2 loads with device_map=, which needs the accelerate package: "
                "pip install 'ocr_pipeline[gpu]'"
            )
        from transformers import AutoProcessor, DeepseekOcr2ForConditionalGeneration

        log.info(
            "loading DeepSeek-OCR 2 from %s on %s (%s, attn=%s)",
            model_path,
            precision.device,
            precision.dtype,
            precision.attn_implementation,
        )
        processor = AutoProcessor.from_pretrained(model_path, local_files_only=not allow_download)
        model = DeepseekOcr2ForConditionalGeneration.from_pretrained(
            model_path,
            dtype=getattr(torch, precision.dtype),
            attn_implementation=model_attn_implementation(precision.attn_implementation),
            local_files_only=not allow_download,
            device_map=precision.device,
        )
        if processor.image_token_id != model.config.image_token_id:
            raise CheckpointError(
                f"{model_path}: the processor's image token id {processor.image_token_id} is not the "
                f"model's {model.config.image_token_id}; the directory mixes two checkpoints"
            )
        self.precision = precision
        self._bind(
            model,
            processor,
            prompt=prompt,
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
            min_new_tokens=min_new_tokens,
            ngram_size=ngram_size,
            ngram_window=ngram_window,
        )
        self.check_memory(cuda_memory_gib(precision.device))

    @classmethod
    def from_model(cls, model: Any, processor: Any, **options: Any) -> DeepseekOcr2Engine:
        """An engine around an already built model and processor (benchmarks, unit tests)."""
        engine = cls.__new__(cls)
        engine._bind(model, processor, **options)
        return engine

    def _bind(
        self,
        model: Any,
        processor: Any,
        *,
        prompt: str = "grounding",
        batch_size: int = 8,
        max_new_tokens: int | None = None,
        min_new_tokens: int = 0,
        ngram_size: int = 30,
        ngram_window: int = 90,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH_SIZE}")
        if max_new_tokens is not None and max_new_tokens < 1:
            raise ValueError("max_new_tokens must be >= 1 (or None: up to the model's context)")
        self.model = model.eval()
        self.processor = processor
        self.tokenizer = processor.tokenizer
        self.tokenizer.padding_side = "left"
        self.prompt = resolve_prompt(prompt)
        self.batch_size = batch_size
        self.last_batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.min_new_tokens = min_new_tokens
        self.context = int(model.config.text_config.max_position_embeddings)
        self.generated_tokens = 0
        self.eos_id = self.tokenizer.eos_token_id
        if self.eos_id is None:
            raise CheckpointError("the tokenizer has no end-of-sentence token: pages could never be read as complete")
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.eos_id
        self.drop_ids = {self.pad_id, self.tokenizer.bos_token_id} - {None}
        unknown = self.tokenizer.unk_token_id
        whitelist = {self.tokenizer.convert_tokens_to_ids(t) for t in WHITELIST_TOKENS} - {None, unknown}
        self.guard = (ngram_size, ngram_window, whitelist)

    def page_tokens(self) -> int:
        """The most tokens one page can occupy in the KV cache (prompt + generated, within the context)."""
        prompt = max_image_tokens(self.processor) + PROMPT_TEXT_TOKENS
        return min(self.context, prompt + (self.max_new_tokens or self.context))

    def memory_plan_gib(self, batch_size: int | None = None) -> tuple[float, float, float]:
        """(weights, KV cache of a full batch, vision encoder's peak for a full batch) in GiB, in this model's dtype.

        The vision peak is the SAM encoder's relative-position bias, which its global-attention layers
        materialise as heads x tokens x tokens per view (1024 px: 4,096 tokens; a page's 6 tiles of
        768 px: 2,304 each, encoded together). It is freed before the prefill allocates the KV cache,
        so a batch needs the larger of the two, not their sum.
        """
        batch = batch_size or self.batch_size
        itemsize = self.model.dtype.itemsize
        weights = sum(p.numel() * p.element_size() for p in self.model.parameters())
        text = self.model.config.text_config
        head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
        per_token = 2 * text.num_hidden_layers * text.num_key_value_heads * head_dim * itemsize
        kv = per_token * self.page_tokens() * batch
        sam = self.model.config.vision_config.sam_config
        images = self.processor.image_processor
        size = images.size["height"] if isinstance(images.size, dict) else images.size.height

        def bias(pixels: int) -> int:
            tokens = (pixels // sam.patch_size) ** 2
            return sam.num_attention_heads * tokens * tokens * itemsize

        vision = 0
        if sam.use_rel_pos and sam.global_attn_indexes:
            vision = max(bias(size), images.max_patches * bias(images.tile_size)) * batch
        return weights / 2**30, kv / 2**30, vision / 2**30

    def check_memory(self, total_gib: float | None) -> None:
        """Refuse a batch size whose weights + KV cache (or vision peak) cannot fit the GPU (``None``: no GPU)."""
        if total_gib is None:
            return
        weights, kv, vision = self.memory_plan_gib()
        need = weights + max(kv, vision)
        usable = total_gib * MEMORY_HEADROOM
        if need > usable:
            per_page = max(kv, vision) / self.batch_size
            fits = max(0, int((usable - weights) // per_page)) if per_page else 0
            raise UnsupportedHardware(
                f"batch_size {self.batch_size} needs about {need:.1f} GiB (weights {weights:.1f} GiB + the larger of "
                f"the KV cache for {self.batch_size} pages of up to {self.page_tokens()} tokens, {kv:.1f} GiB, and the "
                f"vision encoder's peak, {vision:.1f} GiB) but the GPU has {total_gib:.1f} GiB ({usable:.1f} GiB "
                f"usable): use batch_size <= {fits}"
            )
        log.info(
            "memory plan: weights %.1f GiB + max(KV cache %.1f, vision %.1f) GiB of %.1f GiB",
            weights,
            kv,
            vision,
            total_gib,
        )

    def recognize(self, pages: Sequence[PageImage]) -> list[PageText]:
        results: list[PageText | None] = [None] * len(pages)
        start = 0
        while start < len(pages):
            size = self.batch_size
            chunk = list(range(start, min(start + size, len(pages))))
            try:
                for i, page in zip(chunk, self._run([pages[i] for i in chunk])):
                    results[i] = page
                self.last_batch_size = len(chunk)
            except Exception as exc:  # one bad batch or page must not stop the others
                if _is_oom(exc) and size > 1:
                    self.batch_size = max(1, size // 2)  # kept: the next documents start at the size that fits
                    log.warning(
                        "CUDA out of memory on %d pages; batches of %d from now on", len(chunk), self.batch_size
                    )
                    self._free_memory()
                    continue
                if len(chunk) > 1:
                    log.warning("batch failed (%s); retrying its pages one by one", exc)
                    for i in chunk:
                        results[i] = self._single(pages[i])
                else:
                    log.exception("page %s failed", pages[chunk[0]].ref)
                    results[chunk[0]] = failed_page(self.name, f"{type(exc).__name__}: {exc}")
            start = chunk[-1] + 1
        return [r for r in results if r is not None]

    def _single(self, page: PageImage) -> PageText:
        try:
            return self._run([page])[0]
        except Exception as exc:
            log.exception("page %s failed", page.ref)
            if _is_oom(exc):
                self._free_memory()
            return failed_page(self.name, f"{type(exc).__name__}: {exc}")

    def _free_memory(self) -> None:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def _budget(self, prompt_length: int) -> int:
        room = self.context - prompt_length
        if room < 1:
            raise ValueError(f"the page's prompt has {prompt_length} tokens, the model's context {self.context}")
        return min(room, self.max_new_tokens) if self.max_new_tokens else room

    def _run(self, batch: list[PageImage]) -> list[PageText]:
        started = time.perf_counter()
        inputs = self.processor(
            images=[p.image.convert("RGB") for p in batch],
            text=[self.prompt] * len(batch),
            return_tensors="pt",
            padding=True,
        ).to(self.model.device, dtype=self.model.dtype)
        budget = self._budget(inputs["input_ids"].shape[1])
        recorder = ChosenTokenProbs()
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                do_sample=False,
                max_new_tokens=budget,
                min_new_tokens=min(self.min_new_tokens, budget),
                logits_processor=LogitsProcessorList([NGramRepeatGuard(*self.guard), recorder]),
                eos_token_id=self.eos_id,
                pad_token_id=self.pad_id,
                return_dict_in_generate=True,
            )
        generated = out.sequences[:, inputs["input_ids"].shape[1] :].cpu()
        probs = recorder.probs()
        seconds = (time.perf_counter() - started) / len(batch)
        pages = []
        for row, page in enumerate(batch):
            try:
                pages.append(self._page(generated[row].tolist(), probs[row].tolist(), page, seconds))
            except Exception as exc:
                log.exception("could not parse output for %s", page.ref)
                pages.append(failed_page(self.name, f"unparseable output: {exc}", seconds))
        return pages

    def _page(self, ids: list[int], probs: list[float], page: PageImage, seconds: float) -> PageText:
        complete = self.eos_id in ids
        end = ids.index(self.eos_id) if complete else len(ids)
        self.generated_tokens += end + complete
        kept = [(t, p) for t, p in zip(ids[:end], probs[:end]) if t not in self.drop_ids]
        tokens = [t for t, _ in kept]
        raw = self.tokenizer.decode(tokens, skip_special_tokens=False)
        pieces = self.tokenizer.batch_decode([[t] for t in tokens], skip_special_tokens=False)
        return build_page(
            self.name,
            raw,
            page.ref,
            seconds,
            offsets=token_offsets(pieces, len(raw)),
            probs=[p for _, p in kept],
            complete=complete,
        )
