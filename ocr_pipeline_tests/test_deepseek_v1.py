"""The v1 ``deepseek-ocr`` engine (DeepSeek's remote code): precision rules, start-up refusals, page completion.

The remote code needs transformers 4.46 and a CUDA GPU, so the model is replayed: ``StubRemoteModel``
does what the remote ``infer(eval_mode=True)`` does around ``generate`` (decode, strip the
end-of-sentence text, return the string), and the rules are checked against what the remote code
declares (``fixtures/deepseek/v1_remote_code.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from ocr_pipeline.models import PageRef, PageStatus
from ocr_pipeline.ocr import deepseek_ocr
from ocr_pipeline.ocr.base import PageImage
from ocr_pipeline.ocr.deepseek_common import NO_EOS_REASON
from ocr_pipeline.ocr.deepseek_ocr import MODES, DeepseekOcrEngine, Resolution, check_transformers
from ocr_pipeline.ocr.hardware import (
    V1_REMOTE_ATTENTIONS,
    V1_REMOTE_DTYPE,
    Precision,
    UnsupportedHardware,
    choose_precision,
)

FIXTURES = Path(__file__).parent / "fixtures" / "deepseek"
REMOTE = json.loads((FIXTURES / "v1_remote_code.json").read_text())
PAGE_TEXT = (FIXTURES / "catalog_page.txt").read_text()
EOS = 1


# (cuda, capability, flash_attn installed, asked dtype, asked attention) -> Precision, or the refusal's words
V1_TABLE = [
    ((True, (9, 0), True, None, None), Precision("cuda", "bfloat16", "flash_attention_2")),  # H100/H200
    ((True, (8, 0), False, None, None), Precision("cuda", "bfloat16", "eager")),  # A100 without flash-attn
    ((True, (8, 6), True, None, "eager"), Precision("cuda", "bfloat16", "eager")),  # A10G, asked for eager
    ((True, (8, 9), False, "bfloat16", None), Precision("cuda", "bfloat16", "eager")),  # L4
    ((True, (8, 0), False, None, "sdpa"), "supports attention eager or flash_attention_2 only"),
    ((True, (8, 0), False, None, "flash_attention_2"), "flash_attn package is not installed"),
    ((True, (8, 0), True, "float16", None), "runs only in bfloat16"),
    ((True, (7, 5), True, None, None), "needs bfloat16"),  # T4 / g4dn
    ((True, (7, 0), False, None, None), "needs bfloat16"),  # V100
    ((False, None, False, None, None), "only on an NVIDIA GPU"),  # CPU
]


@pytest.mark.parametrize(("machine", "expected"), V1_TABLE)
def test_v1_precision_table(machine: tuple[Any, ...], expected: Precision | str) -> None:
    cuda, capability, flash, dtype, attn = machine
    if isinstance(expected, str):
        with pytest.raises(UnsupportedHardware, match=expected):
            choose_precision(cuda, capability, flash, engine="deepseek-ocr", dtype=dtype, attn_implementation=attn)
        return
    chosen = choose_precision(cuda, capability, flash, engine="deepseek-ocr", dtype=dtype, attn_implementation=attn)
    assert chosen == expected
    # Every choice is one the remote code declares: its decoder looks up "mha_" + the implementation.
    assert REMOTE["attention_prefix_without_mla"] + chosen.attn_implementation in REMOTE["attention_classes"]
    assert chosen.dtype == REMOTE["infer_autocast_dtype"] == REMOTE["infer_image_cast_dtype"]


def test_declared_support_matches_the_remote_code_record() -> None:
    declared = set(REMOTE["attention_classes"])
    for name in V1_REMOTE_ATTENTIONS:
        assert name in declared and REMOTE["attention_prefix_without_mla"] + name in declared
    assert not any("sdpa" in name for name in declared) and not REMOTE["supports_sdpa"]
    assert V1_REMOTE_DTYPE == REMOTE["infer_autocast_dtype"]


@pytest.mark.parametrize(
    ("version", "ok"),
    [("4.46.3", True), ("4.46.0", True), ("4.47.1", False), ("4.9.0", False), ("5.24.0", False), ("dev", False)],
)
def test_transformers_gate_is_4_46(version: str, ok: bool) -> None:
    if ok:
        check_transformers(version)
    else:
        with pytest.raises(RuntimeError, match="needs transformers 4.46.x"):
            check_transformers(version)


def fake_gpu(monkeypatch: pytest.MonkeyPatch, capability: tuple[int, int], name: str) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: name)


def test_constructor_refuses_a_t4_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_gpu(monkeypatch, (7, 5), "Tesla T4")
    monkeypatch.setattr(deepseek_ocr, "_load", lambda *a: pytest.fail("nothing may load on a T4"))
    with pytest.raises(UnsupportedHardware, match="Tesla T4.*deepseek-ocr-2"):
        DeepseekOcrEngine(model_path="/models/DeepSeek-OCR")


def test_constructor_refuses_the_cpu() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(UnsupportedHardware, match="only on an NVIDIA GPU"):
        DeepseekOcrEngine(model_path="/nonexistent")


def test_load_goes_straight_to_the_gpu_in_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    """No fp32 copy in host memory first: bf16 dtype, device_map and the chosen attention at load time."""
    import transformers

    calls: dict[str, dict[str, Any]] = {}

    class Loaded:
        def eval(self) -> Loaded:
            return self

    def model_from_pretrained(path: str, **kwargs: Any) -> Loaded:
        calls["model"] = kwargs
        return Loaded()

    def tokenizer_from_pretrained(path: str, **kwargs: Any) -> str:
        calls["tokenizer"] = kwargs
        return "tokenizer"

    fake_gpu(monkeypatch, (8, 6), "NVIDIA A10G")
    monkeypatch.setattr(transformers, "__version__", "4.46.3")
    monkeypatch.setattr(transformers.AutoModel, "from_pretrained", model_from_pretrained)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", tokenizer_from_pretrained)
    monkeypatch.setattr("ocr_pipeline.ocr.hardware.installed", lambda name: name != "flash_attn")
    engine = DeepseekOcrEngine(model_path="/models/DeepSeek-OCR")
    assert isinstance(engine.model, Loaded) and engine.tokenizer == "tokenizer"
    kwargs = calls["model"]
    assert kwargs["torch_dtype"] is torch.bfloat16 and kwargs["device_map"] == "cuda"
    assert kwargs["_attn_implementation"] == "eager" and kwargs["trust_remote_code"] is True
    assert kwargs["local_files_only"] is True and calls["tokenizer"]["local_files_only"] is True


class StubTokenizer:
    eos_token_id = EOS

    def __init__(self, pieces: dict[int, str]) -> None:
        self.pieces = pieces

    def decode(self, ids: Any) -> str:
        return "".join(self.pieces[int(i)] for i in ids)


class StubRemoteModel:
    """Replays the remote ``infer(eval_mode=True)``: generate, decode the new tokens, strip the EOS text."""

    def __init__(self, new_tokens: list[int] | None) -> None:
        self.new_tokens = new_tokens
        self.calls: list[dict[str, Any]] = []

    def generate(self, input_ids: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return torch.cat([input_ids, torch.tensor([self.new_tokens])], dim=1)

    def infer(self, tokenizer: StubTokenizer, **kwargs: Any) -> str | None:
        assert Path(kwargs["output_path"]).is_dir() and Path(kwargs["image_file"]).is_file()
        self.calls.append(kwargs)
        if self.new_tokens is None:
            return None  # what infer returns when eval_mode is off
        input_ids = torch.tensor([5, 6, 7])
        output_ids = self.generate(
            input_ids.unsqueeze(0),
            images=[],
            temperature=0.0,
            eos_token_id=tokenizer.eos_token_id,
            max_new_tokens=REMOTE["infer_max_new_tokens"],
            no_repeat_ngram_size=35,
            use_cache=True,
        )
        outputs = tokenizer.decode(output_ids[0, input_ids.unsqueeze(0).shape[1] :])
        stop = REMOTE["infer_eval_mode_strips"]
        if outputs.endswith(stop):
            outputs = outputs[: -len(stop)]
        return outputs.strip()


TOKENS = StubTokenizer({EOS: REMOTE["infer_eval_mode_strips"], 10: PAGE_TEXT, 11: "\nMATH 101 Calculus I"})


def page() -> PageImage:
    return PageImage(PageRef("doc", 1, 200, 300, 72), Image.new("L", (200, 300), 255))


def test_a_page_that_ends_is_complete() -> None:
    model = StubRemoteModel([10, EOS])
    [result] = DeepseekOcrEngine(mode="gundam", model=model, tokenizer=TOKENS).recognize([page()])
    assert result.engine == "deepseek-ocr" and result.status is PageStatus.OK and result.confidence == 1.0
    assert result.lines[0].text == "Mathematics Courses"
    call = model.calls[0]
    assert (call["base_size"], call["image_size"], call["crop_mode"]) == (1024, 640, True)
    assert call["eval_mode"] is True and call["save_results"] is False
    assert "generate" not in vars(model)  # the recorder is gone after the page


def test_a_loop_cut_at_the_token_limit_is_incomplete_and_not_confident() -> None:
    """eval_mode strips EOS from the text, so completion comes from the generated ids: none here."""
    model = StubRemoteModel([10] + [11] * 40)
    [result] = DeepseekOcrEngine(model=model, tokenizer=TOKENS).recognize([page()])
    assert result.status is PageStatus.NEEDS_REVIEW and NO_EOS_REASON in result.reasons
    assert result.confidence == 0.0 and all(block.confidence == 0.0 for block in result.blocks)


def test_infer_without_text_fails_the_page() -> None:
    [result] = DeepseekOcrEngine(model=StubRemoteModel(None), tokenizer=TOKENS).recognize([page()])
    assert result.status is PageStatus.FAILED and "expected text" in result.reasons[0]


def test_modes() -> None:
    assert MODES == {
        "tiny": Resolution(512, 512, False),
        "small": Resolution(640, 640, False),
        "base": Resolution(1024, 1024, False),
        "large": Resolution(1280, 1280, False),
        "gundam": Resolution(1024, 640, True),
    }
    with pytest.raises(ValueError):
        DeepseekOcrEngine(mode="huge", model=object())
