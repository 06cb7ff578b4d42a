"""DeepSeek-OCR engines end to end on the CPU with a tiny, randomly initialised DeepSeek-OCR 2.

Random weights: these tests check the mechanics (batching, padding, scoring, loop and OOM
handling), never the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers.models.deepseek_ocr2")

from PIL import Image, ImageDraw  # noqa: E402

from ocr_pipeline.models import PageRef, PageStatus  # noqa: E402
from ocr_pipeline.ocr.base import PageImage  # noqa: E402
from ocr_pipeline.ocr.deepseek import MODES, DeepseekOcrEngine, Resolution  # noqa: E402
from ocr_pipeline.ocr.deepseek2 import DeepseekOcr2Engine, NGramRepeatGuard  # noqa: E402
from ocr_pipeline.ocr.deepseek_common import NO_EOS_REASON  # noqa: E402
from ocr_pipeline.ocr.registry import ENGINES  # noqa: E402
from ocr_pipeline_tests.benchmarks import gpu_deepseek  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures" / "deepseek"


@pytest.fixture(scope="module")
def tiny() -> tuple[Any, Any]:
    return gpu_deepseek.tiny_model_and_processor()


@pytest.fixture(scope="module")
def pages() -> list[PageImage]:
    """Two rendered catalog pages and a landscape page (a different number of tiles -> padding)."""
    portrait = gpu_deepseek.catalog_pages(2, dpi=36)
    wide = Image.new("RGB", (400, 200), "white")
    ImageDraw.Draw(wide).text((10, 10), "CHEM 110 General Chemistry (4 credits)", fill="black")
    return [portrait[0], PageImage(PageRef("doc", 2, 400, 200, 36), wide), portrait[1]]


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


def test_batched_pages_padding_and_confidence(tiny: Any, pages: list[PageImage],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
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


def test_out_of_memory_on_one_page_fails_only_that_page(tiny: Any, pages: list[PageImage],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
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


class StubDeepseekOcr:
    """Stands in for the remote-code model: ``infer`` returns fixture text (a wrapper unit test)."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.calls: list[dict[str, Any]] = []

    def infer(self, tokenizer: Any, **kwargs: Any) -> str | None:
        assert Path(kwargs["output_path"]).is_dir() and Path(kwargs["image_file"]).is_file()
        self.calls.append(kwargs)
        return self.text


def test_deepseek_ocr_wrapper_parses_infer_output(pages: list[PageImage]) -> None:
    stub = StubDeepseekOcr((FIXTURES / "catalog_page.txt").read_text())
    engine = DeepseekOcrEngine(mode="gundam", model=stub, tokenizer=object())
    [result] = engine.recognize(pages[:1])
    assert result.engine == "deepseek-ocr" and result.status is PageStatus.OK
    assert result.lines[0].text == "Mathematics Courses"
    call = stub.calls[0]
    assert (call["base_size"], call["image_size"], call["crop_mode"]) == (1024, 640, True)
    assert call["eval_mode"] is True and call["save_results"] is False
    assert DeepseekOcrEngine(model=StubDeepseekOcr(None), tokenizer=None).recognize(pages[:1])[0].status \
        is PageStatus.FAILED


def test_deepseek_ocr_modes() -> None:
    assert MODES == {"tiny": Resolution(512, 512, False), "small": Resolution(640, 640, False),
                     "base": Resolution(1024, 1024, False), "large": Resolution(1280, 1280, False),
                     "gundam": Resolution(1024, 640, True)}
    with pytest.raises(ValueError):
        DeepseekOcrEngine(mode="huge", model=object())
    with pytest.raises(RuntimeError, match="transformers 4.46"):
        DeepseekOcrEngine(model_path="/nonexistent")


def test_registry_names() -> None:
    assert ENGINES["deepseek-ocr-2"].endswith(":DeepseekOcr2Engine")
    assert ENGINES["deepseek-ocr"].endswith(":DeepseekOcrEngine")
    assert ENGINES["openai-compatible"].endswith(":OpenAICompatibleEngine")


def test_benchmark_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    rows = gpu_deepseek.main(["--dry-run", "--tokens", "4"])
    out = capsys.readouterr().out
    assert [row.batch for row in rows] == [1, 2] and out.startswith(gpu_deepseek.HEADER)
    assert all(row.tokens_per_s > 0 for row in rows)
    assert list(gpu_deepseek.plan(False))[-1] == ("float16", "sdpa", 32)
    assert list(gpu_deepseek.plan(True))[-1] == ("bfloat16", "flash_attention_2", 32)
    assert gpu_deepseek.parse_args([]).time_budget == 420
