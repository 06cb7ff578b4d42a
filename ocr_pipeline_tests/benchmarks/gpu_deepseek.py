"""Throughput of the DeepSeek-OCR 2 engine with random weights at full size, on one GPU.

Each (dtype, attention) model is built directly in its dtype on the GPU with every weight
initialised (MoE experts and router included), after the previous one is freed. Catalog-like
pages are rendered, each page is forced to generate exactly ``--tokens`` tokens, and one row per
(dtype, attention, batch) is printed as soon as it is measured: the batch actually run (the engine
halves it on CUDA out-of-memory), pages/s, generated tokens/s, time to first token and peak GPU
memory. The float16 row runs inside a T4-sized memory budget (``--t4-budget-gib``).
``--dry-run`` does the same with a tiny model on the CPU (used by the tests).

    python -m ocr_pipeline_tests.benchmarks.gpu_deepseek --time-budget 420

The module also builds the tiny, randomly initialised DeepSeek-OCR 2 checkpoints the tests load
through the engine's real constructor (:func:`save_tiny_checkpoint`).
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib.util
import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pypdfium2
import torch
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    DeepseekOcr2Config,
    DeepseekOcr2ForConditionalGeneration,
    DeepseekOcr2Processor,
    PreTrainedTokenizerFast,
)

from ocr_pipeline.models import PageRef
from ocr_pipeline.ocr.base import PageImage
from ocr_pipeline.ocr.deepseek_ocr2 import DeepseekOcr2Engine, model_attn_implementation

BOS, EOS, PAD = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>"
"""DeepSeek's begin/end-of-sentence and padding tokens, spelled as in its tokenizer."""
SPECIAL_TOKENS = [
    BOS,
    EOS,
    PAD,
    "<image>",
    "<|grounding|>",
    "<|ref|>",
    "<|/ref|>",
    "<|det|>",
    "<|/det|>",
    "<td>",
    "</td>",
]
CORPUS = [
    "Convert the document to markdown. Free OCR.",
    "# Mathematics Courses",
    "**MATH 101 Calculus I (4 credits)**",
    "Prerequisite: MATH 100 or placement.",
    "Limits, derivatives and integrals of functions of one variable.",
    "ENGL 102 Composition II (3 credits)",
    "title sub_title text table table_caption image image_caption equation [[12, 40, 620, 78]]",
    "<table><tr><td>MATH 101</td><td>Fall</td></tr></table>",
    "0123456789 ,.;:()[]#*-",
]
FULL_VOCAB = 129280
FULL_IMAGE_TOKEN_ID = 128815
TINY_CONTEXT = 1121 + 48
"""Tiny models' context: a fully tiled page (1,121 image tokens) + prompt leaves a few dozen new tokens."""


def full_config() -> DeepseekOcr2Config:
    """The released DeepSeek-OCR 2's sizes, as transformers' conversion script writes them.

    SAM ViT-B, a Qwen2-0.5B-sized encoder (rope_theta 1e6, default max_position_embeddings) and the
    DeepSeek-3B MoE decoder (first layer dense). The bare config defaults do not describe the released
    checkpoint (their encoder width does not even match the SAM output), so the sizes are spelled out.
    """
    return DeepseekOcr2Config(
        vision_config={
            "sam_config": {"downsample_channels": [512, 896]},
            "encoder_config": dict(
                hidden_size=896,
                intermediate_size=4864,
                num_hidden_layers=24,
                num_attention_heads=14,
                num_key_value_heads=2,
                rms_norm_eps=1e-6,
                rope_theta=1000000.0,
                vocab_size=1,
            ),
        },
        text_config=dict(
            vocab_size=FULL_VOCAB,
            hidden_size=1280,
            intermediate_size=6848,
            num_hidden_layers=12,
            num_attention_heads=10,
            num_key_value_heads=10,
            max_position_embeddings=8192,
            n_routed_experts=64,
            n_shared_experts=2,
            num_experts_per_tok=6,
            moe_intermediate_size=896,
            mlp_layer_types=["dense"] + ["sparse"] * 11,
            bos_token_id=0,
            eos_token_id=1,
        ),
        image_token_id=FULL_IMAGE_TOKEN_ID,
    )


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer in DeepSeek's format: its special tokens, BOS added to every text."""
    backend = Tokenizer(models.BPE(unk_token=None))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIAL_TOKENS,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    backend.train_from_iterator(CORPUS, trainer=trainer)
    backend.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, backend.token_to_id(BOS))]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=SPECIAL_TOKENS[3:],
    )


def tiny_config(vocab_size: int, image_token_id: int, bos: int, eos: int, pad: int) -> DeepseekOcr2Config:
    """A few small layers shaped like the release: SAM with 16 px patches (1024 px -> 256 queries,
    768 px tiles -> 144), a hybrid-attention encoder, a dense + MoE decoder."""
    return DeepseekOcr2Config(
        vision_config={
            "sam_config": dict(
                hidden_size=16,
                output_channels=16,
                num_hidden_layers=1,
                num_attention_heads=2,
                image_size=1024,
                patch_size=16,
                window_size=14,
                global_attn_indexes=[],
                downsample_channels=[16, 32],
            ),
            "encoder_config": dict(
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=1,
                num_attention_heads=4,
                num_key_value_heads=2,
                rope_theta=1000000.0,
            ),
        },
        text_config=dict(
            vocab_size=vocab_size,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
            max_position_embeddings=TINY_CONTEXT,
            bos_token_id=bos,
            eos_token_id=eos,
            pad_token_id=pad,
            n_routed_experts=4,
            n_shared_experts=1,
            mlp_layer_types=["dense", "sparse"],
            moe_intermediate_size=32,
            num_experts_per_tok=2,
        ),
        image_token_id=image_token_id,
    )


def real_processor(tokenizer: PreTrainedTokenizerFast) -> DeepseekOcr2Processor:
    """The processor with DeepSeek-OCR 2's settings: 1024 px global view, 768 px tiles (2-6), 16 px patches."""
    from transformers.models.deepseek_ocr2.image_processing_pil_deepseek_ocr2 import DeepseekOcr2ImageProcessorPil

    images = DeepseekOcr2ImageProcessorPil(
        size={"height": 1024, "width": 1024}, tile_size=768, min_patches=2, max_patches=6
    )
    return DeepseekOcr2Processor(image_processor=images, tokenizer=tokenizer, patch_size=16, downsample_ratio=4)


def tiny_model_and_processor(seed: int = 0) -> tuple[DeepseekOcr2ForConditionalGeneration, DeepseekOcr2Processor]:
    """Randomly initialised tiny model + the real processor settings, on the CPU."""
    tokenizer = tiny_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in (BOS, EOS, PAD, "<image>")}
    torch.manual_seed(seed)
    config = tiny_config(len(tokenizer), ids["<image>"], ids[BOS], ids[EOS], ids[PAD])
    model = DeepseekOcr2ForConditionalGeneration(config)
    return model.eval(), real_processor(tokenizer)


def save_tiny_checkpoint(directory: Path, seed: int = 0) -> Path:
    """A tiny random DeepSeek-OCR 2 in transformers' format (``save_pretrained``), as the engine loads it."""
    model, processor = tiny_model_and_processor(seed)
    model.save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory


def save_release_layout(directory: Path) -> Path:
    """A directory laid out like DeepSeek's release (``deepseek-ai/DeepSeek-OCR-2``): no weights, just
    the files that tell it apart (``deepseek_vl_v2`` config with ``auto_map``, remote code, tokenizer)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "_name_or_path": "deepseek-ai/DeepSeek-OCR-2",
        "architectures": ["DeepseekOCR2ForCausalLM"],
        "auto_map": {
            "AutoConfig": "modeling_deepseekocr2.DeepseekOCR2Config",
            "AutoModel": "modeling_deepseekocr2.DeepseekOCR2ForCausalLM",
        },
        "model_type": "deepseek_vl_v2",
        "torch_dtype": "bfloat16",
        "transformers_version": "4.46.3",
        "language_config": {"hidden_size": 1280, "num_hidden_layers": 12, "vocab_size": FULL_VOCAB},
        "vision_config": {
            "width": {
                "sam_vit_b": {"width": 768, "layers": 12, "heads": 12, "global_attn_indexes": [2, 5, 8, 11]},
                "qwen2-0-5b": {"dim": 896},
            }
        },
    }
    (directory / "config.json").write_text(json.dumps(config, indent=2))
    for name in ("modeling_deepseekocr2.py", "deepencoderv2.py", "conversation.py"):
        (directory / name).write_text("# DeepSeek's remote code would be here\n")
    tiny_tokenizer().save_pretrained(directory)
    return directory


def materialise(
    config: DeepseekOcr2Config, device: str, dtype: torch.dtype, attn: str
) -> DeepseekOcr2ForConditionalGeneration:
    """Build straight on ``device`` in ``dtype``: no fp32 or host copy, every weight initialised by its
    own sub-model's ``_init_weights`` (MoE experts and router included)."""
    config = copy.deepcopy(config)
    with torch.device(device):
        model = DeepseekOcr2ForConditionalGeneration._from_config(
            config, dtype=dtype, attn_implementation=model_attn_implementation(attn)
        )
    return model.eval()


def uninitialised(model: torch.nn.Module) -> list[str]:
    """Parameters that still look unset (NaN/inf, or all one value where random values are expected)."""
    bad = []
    for name, param in model.named_parameters():
        values = param.detach().float()
        if not torch.isfinite(values).all():
            bad.append(name)
        elif (
            values.numel() > 1
            and param.dim() >= 2
            and "pos_embed" not in name
            and "rel_pos" not in name
            and values.std() == 0
        ):
            bad.append(name)
    return bad


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
    asked: int
    batch: int
    pages_per_s: float
    tokens_per_s: float
    first_token_s: float
    peak_gib: float


HEADER = (
    f"{'dtype':<9} {'attn':<18} {'asked':>5} {'batch':>5} {'pages/s':>8} {'tok/s':>9} {'TTFT s':>7} {'peak GiB':>8}"
)


def format_row(row: Row) -> str:
    return (
        f"{row.dtype:<9} {row.attn:<18} {row.asked:>5} {row.batch:>5} {row.pages_per_s:>8.2f} "
        f"{row.tokens_per_s:>9.1f} {row.first_token_s:>7.2f} {row.peak_gib:>8.2f}"
    )


T4_BATCH = 4
"""The batch a T4 (15 GiB) runs in float16: weights ~6.3 GiB + 4 pages x 8,192 tokens of KV cache (~1.9 GiB)."""


def plan(flash_available: bool) -> Iterator[tuple[str, str, int]]:
    """bf16 + SDPA at 1/8/32/64, fp16 + SDPA at the T4 batch, bf16 + FlashAttention 2 at 32 when installed."""
    for batch in (1, 8, 32, 64):
        yield "bfloat16", "sdpa", batch
    yield "float16", "sdpa", T4_BATCH
    if flash_available:
        yield "bfloat16", "flash_attention_2", 32


def measure(engine: DeepseekOcr2Engine, pages: list[PageImage], dtype: str, attn: str) -> Row:
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
    asked, tokens_before = engine.batch_size, engine.generated_tokens
    started = time.perf_counter()
    try:
        results = engine.recognize(pages)
    finally:
        hook.remove()
    if cuda:
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - started
    failed = [r.reasons for r in results if r.status.value == "failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} page(s) failed: {failed[0]}")
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0
    return Row(
        dtype,
        attn,
        asked,
        engine.last_batch_size,
        len(pages) / elapsed,
        (engine.generated_tokens - tokens_before) / elapsed,
        (first[0] - started) if first else float("nan"),
        peak,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-budget", type=float, default=420.0, help="stop starting new rows after this many s")
    parser.add_argument("--tokens", type=int, default=512, help="output tokens forced per page")
    parser.add_argument("--dpi", type=int, default=144)
    parser.add_argument(
        "--t4-budget-gib", type=float, default=15.0, help="GPU memory the float16 row may use (a T4 has 15 GiB)"
    )
    parser.add_argument("--dry-run", action="store_true", help="tiny model on the CPU, to check the script")
    return parser.parse_args(argv)


def _free() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def main(argv: list[str] | None = None) -> list[Row]:
    args = parse_args(argv)
    started = time.perf_counter()
    options = dict(max_new_tokens=args.tokens, min_new_tokens=args.tokens)
    if args.dry_run:
        model, processor = tiny_model_and_processor()
        config, device = model.config, "cpu"
        steps = [("float32", "sdpa", 1), ("float32", "sdpa", 2)]
    else:
        model, config, device = None, full_config(), "cuda"
        processor = real_processor(tiny_tokenizer())
        config.image_token_id = processor.image_token_id
        steps = list(plan(importlib.util.find_spec("flash_attn") is not None))
        print(
            f"GPU: {torch.cuda.get_device_name()} ({torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} "
            f"GiB), torch {torch.__version__}, {time.strftime('%Y-%m-%d')}",
            flush=True,
        )
    pages = catalog_pages(max(batch for _, _, batch in steps), dpi=args.dpi if not args.dry_run else 36)
    print(HEADER, flush=True)
    rows, built, engine = [], None, None
    for dtype, attn, batch in steps:
        if time.perf_counter() - started > args.time_budget:
            print(f"stopped: time budget of {args.time_budget:.0f} s spent", flush=True)
            break
        try:
            if device == "cuda" and built != (dtype, attn):
                engine = model = None
                _free()  # the previous model is gone before the next one is allocated
                model = materialise(config, device, getattr(torch, dtype), attn)
                built = (dtype, attn)
                if uninitialised(model):
                    raise RuntimeError(f"uninitialised weights: {uninitialised(model)[:3]}")
            budget = args.t4_budget_gib if dtype == "float16" and device == "cuda" else None
            if budget:
                total = torch.cuda.get_device_properties(0).total_memory / 2**30
                torch.cuda.set_per_process_memory_fraction(min(1.0, budget / total))
            engine = DeepseekOcr2Engine.from_model(model, processor, batch_size=batch, **options)
            if budget:
                engine.check_memory(budget)
            if not rows:
                engine.recognize(pages[:1])  # warm-up: CUDA context, kernels
            row = measure(engine, pages[:batch], dtype, attn)
        except Exception as exc:  # noqa: BLE001 - report the row and go on with the next
            print(f"{dtype:<9} {attn:<18} {batch:>5} error: {type(exc).__name__}: {exc}", flush=True)
            continue
        finally:
            if device == "cuda":
                torch.cuda.set_per_process_memory_fraction(1.0)
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
