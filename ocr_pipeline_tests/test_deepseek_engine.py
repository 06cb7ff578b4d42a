"""DeepSeek-OCR 2 engine mechanics on the CPU with a tiny, randomly initialised model built in memory.

Random weights: these tests check the mechanics (batching, padding, scoring, loop and OOM
handling), never the text. Loading through the real constructor, resources and a Dagster run is in
``test_deepseek_checkpoint.py``; the v1 engine is in ``test_deepseek_v1.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch  # the dev extra installs torch and transformers>=5.10.1: without them these tests fail, never skip
from PIL import Image, ImageDraw

from ocr_pipeline.models import PageRef, PageStatus
from ocr_pipeline.ocr.base import PageImage
from ocr_pipeline.ocr.deepseek_common import NO_EOS_REASON, NON_FINITE_REASON
from ocr_pipeline.ocr.deepseek_ocr2 import DeepseekOcr2Engine, NGramRepeatGuard
from ocr_pipeline.ocr.registry import ENGINES
from ocr_pipeline_tests.benchmarks import gpu_deepseek


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, Any]:
    return gpu_deepseek.tiny_model_and_processor()


@pytest.fixture(scope="module")
def pages() -> list[PageImage]:
    """Two small catalog pages (global view only) and a wide page that is tiled (more image tokens -> padding)."""
    portrait = gpu_deepseek.catalog_pages(2, dpi=36)
    wide = Image.new("RGB", (1600, 800), "white")
    ImageDraw.Draw(wide).text((10, 10), "CHEM 110 General Chemistry (4 credits)", fill="black")
    return [portrait[0], PageImage(PageRef("doc", 2, 1600, 800, 144), wide), portrait[1]]


def spy_generate(model: Any, monkeypatch: pytest.MonkeyPatch, fail_when: Any = None) -> list[Any]:
    calls: list[Any] = []
    real = model.generate

    def generate(**kwargs: Any) -> Any:
        calls.append(kwargs["attention_mask"].clone())
        if fail_when is not None and fail_when(kwargs):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(**kwargs)

    monkeypatch.setattr(model, "generate", generate)
    return calls


def test_batched_pages_padding_and_confidence(
    tiny: Any, pages: list[PageImage], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, processor = tiny
    calls = spy_generate(model, monkeypatch)
    engine = DeepseekOcr2Engine.from_model(model, processor, batch_size=2, max_new_tokens=6)
    results = engine.recognize(pages)
    assert [mask.shape[0] for mask in calls] == [2, 1]
    assert (calls[0][:, 0] == 0).any() and processor.tokenizer.padding_side == "left"
    assert len(results) == 3
    for result in results:
        assert result.engine == "deepseek-ocr-2"
        assert result.status is not PageStatus.FAILED
        assert 0.0 <= result.confidence <= 1.0 and result.seconds > 0
        assert all(0.0 <= b.confidence <= 1.0 for b in result.blocks)


def test_no_end_of_sentence_is_flagged(tiny: Any, pages: list[PageImage]) -> None:
    model, processor = tiny
    engine = DeepseekOcr2Engine.from_model(model, processor, batch_size=3, max_new_tokens=4, min_new_tokens=4)
    for result in engine.recognize(pages):
        assert result.status is PageStatus.NEEDS_REVIEW and NO_EOS_REASON in result.reasons


def test_out_of_memory_halves_the_batch(tiny: Any, pages: list[PageImage], monkeypatch: pytest.MonkeyPatch) -> None:
    model, processor = tiny
    calls = spy_generate(model, monkeypatch, fail_when=lambda kw: kw["input_ids"].shape[0] > 1)
    engine = DeepseekOcr2Engine.from_model(model, processor, batch_size=2, max_new_tokens=3)
    results = engine.recognize(pages)
    assert [mask.shape[0] for mask in calls] == [2, 1, 1, 1]
    assert all(r.status is not PageStatus.FAILED for r in results)


def test_out_of_memory_on_one_page_fails_only_that_page(
    tiny: Any, pages: list[PageImage], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, processor = tiny
    spy_generate(model, monkeypatch, fail_when=lambda kw: True)
    results = DeepseekOcr2Engine.from_model(model, processor, batch_size=1, max_new_tokens=3).recognize(pages[:2])
    assert [r.status for r in results] == [PageStatus.FAILED] * 2
    assert "out of memory" in results[0].reasons[0]


class BrokenImage:
    def convert(self, mode: str) -> Image.Image:
        raise OSError("image file is truncated")


def test_a_bad_page_fails_alone(tiny: Any, pages: list[PageImage]) -> None:
    model, processor = tiny
    bad = PageImage(PageRef("doc", 9, 100, 100, 36), BrokenImage())  # type: ignore[arg-type]
    engine = DeepseekOcr2Engine.from_model(model, processor, batch_size=3, max_new_tokens=3)
    results = engine.recognize([pages[0], bad, pages[2]])
    assert [r.status is PageStatus.FAILED for r in results] == [False, True, False]
    assert results[1].reasons == ("OSError: image file is truncated",)


def test_ngram_guard_bans_repeats_but_not_whitelisted_tokens() -> None:
    guard = NGramRepeatGuard(ngram_size=3, window_size=10, whitelist_token_ids={7})
    ids = torch.tensor([[1, 2, 3, 1, 2], [5, 7, 6, 5, 7]])
    scores = guard(ids, torch.zeros(2, 10))
    assert scores[0, 3] == float("-inf") and torch.isfinite(scores[0, [0, 1, 2, 4]]).all()
    assert scores[1, 6] == float("-inf")
    scores = guard(torch.tensor([[5, 6, 7, 5, 6]]), torch.zeros(1, 10))
    assert torch.isfinite(scores).all()  # 7 is whitelisted (a table cell tag)
    with pytest.raises(ValueError):
        NGramRepeatGuard(ngram_size=1, window_size=10, whitelist_token_ids=set())


def test_registry_names() -> None:
    assert ENGINES["deepseek-ocr-2"].endswith(":DeepseekOcr2Engine")
    assert ENGINES["deepseek-ocr"].endswith(":DeepseekOcrEngine")
    assert ENGINES["openai-compatible"].endswith(":OpenAICompatibleEngine")


def test_out_of_memory_keeps_the_smaller_batch(
    tiny: Any, pages: list[PageImage], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, processor = tiny
    calls = spy_generate(model, monkeypatch, fail_when=lambda kw: kw["input_ids"].shape[0] > 2)
    engine = DeepseekOcr2Engine.from_model(model, processor, batch_size=3, max_new_tokens=2)
    engine.recognize(pages)
    assert engine.batch_size == 1 and engine.last_batch_size == 1
    engine.recognize(pages[:2])  # the next document starts at the size that fit
    assert [mask.shape[0] for mask in calls] == [3, 1, 1, 1, 1, 1]


def test_default_budget_fills_the_context(tiny: Any, pages: list[PageImage], monkeypatch: pytest.MonkeyPatch) -> None:
    """No max_new_tokens: a page may generate until prompt + output reach max_position_embeddings (as vLLM)."""
    model, processor = tiny
    seen: list[int] = []
    real = model.generate

    def generate(**kwargs: Any) -> Any:
        seen.append(kwargs["input_ids"].shape[1] + kwargs["max_new_tokens"])
        return real(**{**kwargs, "max_new_tokens": 1})

    monkeypatch.setattr(model, "generate", generate)
    engine = DeepseekOcr2Engine.from_model(model, processor, batch_size=3)
    engine.recognize(pages)
    assert seen == [model.config.text_config.max_position_embeddings]
    capped = DeepseekOcr2Engine.from_model(model, processor, batch_size=3, max_new_tokens=5)
    capped.recognize(pages)
    assert seen[-1] < model.config.text_config.max_position_embeddings


def test_nan_probabilities_flag_the_page(tiny: Any, pages: list[PageImage], monkeypatch: pytest.MonkeyPatch) -> None:
    """fp16 overflow gives NaN logits; a NaN confidence would pass every ``<`` threshold, so it is 0 and flagged."""
    model, processor = tiny
    monkeypatch.setattr(
        "ocr_pipeline.ocr.deepseek_ocr2.ChosenTokenProbs.probs",
        lambda self: torch.full((len(self.steps[0]), len(self.steps)), float("nan")),
    )
    engine = DeepseekOcr2Engine.from_model(model, processor, batch_size=1, max_new_tokens=3)
    [result] = engine.recognize(pages[:1])
    assert result.confidence == 0.0 and result.status is PageStatus.NEEDS_REVIEW
    assert NON_FINITE_REASON in result.reasons
    assert all(block.confidence == 0.0 for block in result.blocks)


def test_benchmark_builds_every_weight_in_its_dtype() -> None:
    model, _ = gpu_deepseek.tiny_model_and_processor()
    built = gpu_deepseek.materialise(model.config, "cpu", torch.bfloat16, "sdpa")
    assert gpu_deepseek.uninitialised(built) == []
    moe = built.model.language_model.layers[1].mlp
    assert moe.experts.gate_up_proj.dtype == torch.bfloat16 and moe.experts.gate_up_proj.float().std() > 0
    assert moe.gate.weight.float().std() > 0  # the router (fp32 where transformers keeps it so, from 5.2x)


def test_full_config_matches_the_release() -> None:
    config = gpu_deepseek.full_config()
    encoder = config.vision_config.encoder_config
    assert encoder.rope_parameters["rope_theta"] == 1000000.0 and encoder.max_position_embeddings == 32768
    assert (encoder.hidden_size, encoder.num_hidden_layers, encoder.num_key_value_heads) == (896, 24, 2)
    text = config.text_config
    assert (text.hidden_size, text.num_hidden_layers, text.max_position_embeddings) == (1280, 12, 8192)
    assert text.mlp_layer_types == ["dense"] + ["sparse"] * 11 and text.n_routed_experts == 64
    assert config.vision_config.sam_config.downsample_channels == [512, 896]


def test_benchmark_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    rows = gpu_deepseek.main(["--dry-run", "--tokens", "4"])
    out = capsys.readouterr().out
    assert [(row.asked, row.batch) for row in rows] == [(1, 1), (2, 2)] and out.startswith(gpu_deepseek.HEADER)
    assert all(row.tokens_per_s > 0 and row.pages_per_s > 0 for row in rows)
    assert list(gpu_deepseek.plan(False)) == [
        ("bfloat16", "sdpa", 1),
        ("bfloat16", "sdpa", 8),
        ("bfloat16", "sdpa", 32),
        ("bfloat16", "sdpa", 64),
        ("float16", "sdpa", gpu_deepseek.T4_BATCH),
    ]
    assert list(gpu_deepseek.plan(True))[-1] == ("bfloat16", "flash_attention_2", 32)
    assert gpu_deepseek.parse_args([]).time_budget == 420


def test_benchmark_reports_the_batch_that_ran(monkeypatch: pytest.MonkeyPatch) -> None:
    """After an out-of-memory halving the row shows the batch actually run, not the one asked for."""
    real = DeepseekOcr2Engine._run

    def run(self: DeepseekOcr2Engine, batch: list[PageImage]) -> Any:
        if len(batch) > 1:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(self, batch)

    monkeypatch.setattr(DeepseekOcr2Engine, "_run", run)
    rows = gpu_deepseek.main(["--dry-run", "--tokens", "2"])
    assert [(row.asked, row.batch) for row in rows] == [(1, 1), (2, 1)]
