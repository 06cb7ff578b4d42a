"""Throughput of the DeepSeek-OCR 2 engine with random weights at full size, on one GPU.

Builds the model on the meta device and materialises it straight on CUDA, renders a few
catalog-like pages, forces exactly ``--tokens`` output tokens per page and prints one row per
(dtype, attention, batch) as soon as it is measured. ``--dry-run`` does the same with a tiny
model on the CPU (used by the tests).

    python -m ocr_pipeline_tests.benchmarks.gpu_deepseek --time-budget 420
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pypdfium2
import torch
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (DeepseekOcr2Config, DeepseekOcr2ForConditionalGeneration, DeepseekOcr2Processor,
                          PreTrainedTokenizerFast)

from ocr_pipeline.models import PageRef
from ocr_pipeline.ocr.base import PageImage
from ocr_pipeline.ocr.deepseek2 import DeepseekOcr2Engine, model_attn_implementation

SPECIAL_TOKENS = ["<pad>", "<bos>", "<eos>", "<unk>", "<image>", "<|grounding|>", "<|ref|>", "<|/ref|>",
                  "<|det|>", "<|/det|>", "<td>", "</td>", "<table>", "</table>", "<tr>", "</tr>"]
WORDS = ("Convert the document to markdown . Free OCR title sub_title text table [[ ]] , # ** "
         "MATH 101 Calculus I Credits 4 Prerequisite ENGL 102 Composition 0 1 2 3 5 6 7 8 9").split()
FULL_VOCAB = 129280


def full_config() -> DeepseekOcr2Config:
    """Published DeepSeek-OCR 2 sizes: SAM-B + Qwen2-0.5B-sized encoder, DeepSeek-3B-MoE decoder.

    The bare config defaults do not describe the released checkpoint (their encoder width does
    not even match the SAM output), so the sizes are spelled out here.
    """
    return DeepseekOcr2Config(
        vision_config={"sam_config": {}, "encoder_config": dict(
            hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
            num_key_value_heads=2, max_position_embeddings=131072)},
        text_config=dict(vocab_size=FULL_VOCAB, hidden_size=1280, intermediate_size=6848, num_hidden_layers=12,
                         num_attention_heads=10, num_key_value_heads=10, max_position_embeddings=8192,
                         n_routed_experts=64, n_shared_experts=2, num_experts_per_tok=6, moe_intermediate_size=896,
                         mlp_layer_types=["dense"] + ["sparse"] * 11, bos_token_id=0, eos_token_id=1),
    )


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer with DeepSeek-OCR's special tokens."""
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS + WORDS)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<bos>", eos_token="<eos>",
                                   pad_token="<pad>", unk_token="<unk>", additional_special_tokens=SPECIAL_TOKENS[4:])


def tiny_config(vocab_size: int, image_token_id: int) -> DeepseekOcr2Config:
    """A few-layer model; every 96 px view yields 144 query tokens, as the processor below expects."""
    return DeepseekOcr2Config(
        vision_config={
            "sam_config": dict(hidden_size=32, output_channels=16, num_hidden_layers=1, num_attention_heads=2,
                               image_size=16, patch_size=8, window_size=4, global_attn_indexes=[0],
                               downsample_channels=[32, 64]),
            "encoder_config": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                                   num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512)},
        text_config=dict(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=4096,
                         bos_token_id=1, eos_token_id=2, pad_token_id=0, n_routed_experts=4, n_shared_experts=1,
                         mlp_layer_types=["dense", "sparse"], moe_intermediate_size=32, num_experts_per_tok=2),
        image_token_id=image_token_id,
    )


def tiny_processor(tokenizer: PreTrainedTokenizerFast) -> DeepseekOcr2Processor:
    """The real processor with 96 px global view and tiles (12 x 12 query tokens each)."""
    from transformers.models.deepseek_ocr2.image_processing_pil_deepseek_ocr2 import DeepseekOcr2ImageProcessorPil

    images = DeepseekOcr2ImageProcessorPil(size={"height": 96, "width": 96}, tile_size=96)
    return DeepseekOcr2Processor(image_processor=images, tokenizer=tokenizer, patch_size=2, downsample_ratio=4)


def tiny_model_and_processor(seed: int = 0) -> tuple[DeepseekOcr2ForConditionalGeneration, DeepseekOcr2Processor]:
    """Randomly initialised tiny model + matching processor on the CPU."""
    tokenizer = tiny_tokenizer()
    torch.manual_seed(seed)
    model = DeepseekOcr2ForConditionalGeneration(tiny_config(len(tokenizer), tokenizer.convert_tokens_to_ids("<image>")))
    return model.eval(), tiny_processor(tokenizer)


def materialise(config: DeepseekOcr2Config, device: str, dtype: torch.dtype,
                attn: str) -> DeepseekOcr2ForConditionalGeneration:
    """Build on the meta device, allocate directly on ``device``, then initialise weights there."""
    with torch.device("meta"):
        model = DeepseekOcr2ForConditionalGeneration(config)
    model.to_empty(device=device)
    with torch.no_grad():
        model.apply(model._init_weights)
    model.set_attn_implementation(model_attn_implementation(attn))
    return model.to(dtype).eval()


def catalog_pages(count: int, dpi: int) -> list[PageImage]:
    """Render ``count`` text pages that look like a course catalog."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=letter)
    for page in range(count):
        y = 720
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(72, y, f"Mathematics Courses (page {page + 1})")
        for n in range(12):
            y -= 52
            pdf.setFont("Helvetica-Bold", 11)
            pdf.drawString(72, y, f"MATH {101 + n + 20 * page}  Calculus Topics {n}  (4 credits)")
            pdf.setFont("Helvetica", 10)
            pdf.drawString(72, y - 14, "Limits, derivatives and integrals of functions of one variable.")
            pdf.drawString(72, y - 28, f"Prerequisite: MATH {100 + n} or placement.")
        pdf.showPage()
    pdf.save()
    document = pypdfium2.PdfDocument(buffer.getvalue())
    pages = []
    for index in range(count):
        image: Image.Image = document[index].render(scale=dpi / 72).to_pil().convert("RGB")
        pages.append(PageImage(PageRef("bench", index + 1, image.width, image.height, dpi), image))
    return pages


@dataclass(frozen=True)
class Row:
    dtype: str
    attn: str
    batch: int
    pages_per_s: float
    tokens_per_s: float
    first_token_s: float
    peak_gib: float


HEADER = f"{'dtype':<9} {'attn':<18} {'batch':>5} {'pages/s':>8} {'tok/s':>9} {'TTFT s':>7} {'peak GiB':>8}"


def format_row(row: Row) -> str:
    return (f"{row.dtype:<9} {row.attn:<18} {row.batch:>5} {row.pages_per_s:>8.2f} {row.tokens_per_s:>9.1f} "
            f"{row.first_token_s:>7.2f} {row.peak_gib:>8.2f}")


def plan(flash_available: bool) -> Iterator[tuple[str, str, int]]:
    """bf16 at 1/8/32/64, fp16 at 32, FlashAttention 2 at 32 when installed."""
    for batch in (1, 8, 32, 64):
        yield "bfloat16", "sdpa", batch
    yield "float16", "sdpa", 32
    if flash_available:
        yield "bfloat16", "flash_attention_2", 32


def measure(engine: DeepseekOcr2Engine, pages: list[PageImage], dtype: str, attn: str, tokens: int) -> Row:
    """Run one batch through the production engine; time the first token with a hook on the LM head."""
    cuda = engine.model.device.type == "cuda"
    first: list[float] = []

    def on_logits(*_: object) -> None:
        if not first:
            if cuda:
                torch.cuda.synchronize()
            first.append(time.perf_counter())

    hook = engine.model.lm_head.register_forward_hook(on_logits)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    try:
        results = engine.recognize(pages)
    finally:
        hook.remove()
    elapsed = time.perf_counter() - started
    failed = [r.reasons for r in results if r.status.value == "failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} page(s) failed: {failed[0]}")
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0
    return Row(dtype, attn, len(pages), len(pages) / elapsed, len(pages) * tokens / elapsed,
               (first[0] - started) if first else float("nan"), peak)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-budget", type=float, default=420.0, help="stop starting new rows after this many s")
    parser.add_argument("--tokens", type=int, default=512, help="output tokens forced per page")
    parser.add_argument("--dpi", type=int, default=144)
    parser.add_argument("--dry-run", action="store_true", help="tiny model on the CPU, to check the script")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[Row]:
    args = parse_args(argv)
    started = time.perf_counter()
    options = dict(max_new_tokens=args.tokens, min_new_tokens=args.tokens)
    if args.dry_run:
        model, processor = tiny_model_and_processor()
        config, device = model.config, "cpu"
        steps = [("float32", "sdpa", 1), ("float32", "sdpa", 2)]
    else:
        config, device = full_config(), "cuda"
        processor = tiny_processor(tiny_tokenizer())
        processor.image_processor.size = {"height": 1024, "width": 1024}
        processor.image_processor.tile_size = 768
        processor.patch_size, processor.downsample_ratio = 16, 4
        config.image_token_id = processor.image_token_id
        steps = list(plan(importlib.util.find_spec("flash_attn") is not None))
    pages = catalog_pages(max(batch for _, _, batch in steps), dpi=args.dpi if not args.dry_run else 36)
    print(HEADER, flush=True)
    rows, built = [], None
    for dtype, attn, batch in steps:
        if time.perf_counter() - started > args.time_budget:
            print(f"stopped: time budget of {args.time_budget:.0f} s spent", flush=True)
            break
        try:
            if device == "cuda" and built != (dtype, attn):
                model = None
                torch.cuda.empty_cache()
                model = materialise(config, device, getattr(torch, dtype), attn)
                built = (dtype, attn)
            engine = DeepseekOcr2Engine.from_model(model, processor, batch_size=batch, **options)
            if not rows:
                engine.recognize(pages[:1])  # warm-up: CUDA context, kernels
            row = measure(engine, pages[:batch], dtype, attn, args.tokens)
        except Exception as exc:  # noqa: BLE001 - report the row and go on with the next
            print(f"{dtype:<9} {attn:<18} {batch:>5} error: {type(exc).__name__}: {exc}", flush=True)
            continue
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
