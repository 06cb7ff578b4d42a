"""DeepSeek-OCR 2 through its production constructor, offline.

A tiny randomly initialised DeepSeek-OCR 2 is built with transformers' real classes (the real
processor settings: 1024 px global view, 768 px tiles, 16 px patches; a byte-level BPE tokenizer
with DeepSeek's special tokens), written with ``save_pretrained`` to a temporary directory and
loaded the way production loads it: ``OCR_PIPELINE_MODEL_PATH`` -> resources -> the engine's
constructor (checkpoint check, dtype/attention choice, ``device_map``) -> ``ocr_pages`` in a
Dagster run. Nothing is downloaded; the weights live only in pytest's temporary directories.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import torch
from transformers import DeepseekOcr2ForConditionalGeneration

from ocr_pipeline.defs import resources as resources_module
from ocr_pipeline.defs.ocr_pages import ocr_pages
from ocr_pipeline.defs.partitions import catalog_documents
from ocr_pipeline.defs.raw_catalog_pdfs import raw_catalog_pdfs
from ocr_pipeline.defs.rendered_pages import rendered_pages
from ocr_pipeline.defs.resources import OcrEngineResource, default_resources
from ocr_pipeline.materialize import failure_message
from ocr_pipeline.models import PageStatus
from ocr_pipeline.ocr.deepseek_ocr2 import CONVERTED_CHECKPOINT, CheckpointError, DeepseekOcr2Engine
from ocr_pipeline.ocr.hardware import Precision, UnsupportedHardware
from ocr_pipeline.samples import generate_catalog, scan
from ocr_pipeline_tests.benchmarks import gpu_deepseek

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gpu_deepseek.save_tiny_checkpoint(tmp_path_factory.mktemp("deepseek-ocr-2"))


@pytest.fixture(autouse=True)
def fresh_engines() -> Iterator[None]:
    """The resource caches engines per process; each test starts and ends without one."""
    resources_module._engine.cache_clear()
    yield
    resources_module._engine.cache_clear()


def copy_of(checkpoint: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(checkpoint, tmp_path / "model"))


def test_constructor_loads_the_saved_checkpoint(checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[dict[str, Any]] = []
    real = DeepseekOcr2ForConditionalGeneration.from_pretrained.__func__

    def from_pretrained(cls: type, path: str, **kwargs: Any) -> Any:
        loads.append(kwargs)
        return real(cls, path, **kwargs)

    monkeypatch.setattr(DeepseekOcr2ForConditionalGeneration, "from_pretrained", classmethod(from_pretrained))
    engine = DeepseekOcr2Engine(str(checkpoint), batch_size=2, max_new_tokens=3)
    assert engine.precision == Precision("cpu", "float32", "sdpa")
    [kwargs] = loads
    assert kwargs["device_map"] == "cpu" and kwargs["dtype"] is torch.float32
    assert kwargs["attn_implementation"] == "sdpa" and kwargs["local_files_only"] is True
    assert engine.model.dtype == torch.float32 and engine.model.device.type == "cpu"
    tokenizer = engine.tokenizer
    assert (tokenizer.bos_token, tokenizer.eos_token) == (gpu_deepseek.BOS, gpu_deepseek.EOS)
    assert tokenizer.padding_side == "left"
    assert engine.guard[2] == set(tokenizer.convert_tokens_to_ids(["<td>", "</td>"]))
    images = engine.processor.image_processor
    assert (images.tile_size, images.max_patches, engine.processor.patch_size) == (768, 6, 16)
    results = engine.recognize(gpu_deepseek.catalog_pages(2, dpi=36))
    assert [r.status is not PageStatus.FAILED for r in results] == [True, True]
    assert engine.last_batch_size == 2 and engine.generated_tokens > 0


def test_release_layout_is_refused_naming_the_converted_checkpoint(tmp_path: Path) -> None:
    release = gpu_deepseek.save_release_layout(tmp_path / "DeepSeek-OCR-2")
    with pytest.raises(CheckpointError, match="original release layout") as refused:
        DeepseekOcr2Engine(str(release))
    assert CONVERTED_CHECKPOINT in str(refused.value) and "docs/vllm.md" in str(refused.value)
    resource = OcrEngineResource(engine="deepseek-ocr-2", model_path=str(release))
    with pytest.raises(CheckpointError, match=CONVERTED_CHECKPOINT):
        resource.get()


def test_release_layout_is_known_by_its_remote_code_too(checkpoint: Path, tmp_path: Path) -> None:
    mixed = copy_of(checkpoint, tmp_path)
    config = json.loads((mixed / "config.json").read_text())
    (mixed / "config.json").write_text(json.dumps({**config, "model_type": "deepseek_vl_v2"}))
    with pytest.raises(CheckpointError, match="original release layout"):
        DeepseekOcr2Engine(str(mixed))


@pytest.mark.parametrize(
    ("remove", "words"),
    [
        ("processor_config.json", "lacks a processor config"),
        ("tokenizer.json", None),  # tokenizer_config.json alone still names the tokenizer
        ("model.safetensors", "lacks safetensors weights"),
        ("config.json", "no config.json"),
    ],
)
def test_incomplete_directories_are_refused(checkpoint: Path, tmp_path: Path, remove: str, words: str | None) -> None:
    broken = copy_of(checkpoint, tmp_path)
    (broken / remove).unlink()
    if words is None:
        (broken / "tokenizer_config.json").unlink()
        words = "lacks a tokenizer"
    with pytest.raises(CheckpointError, match=words):
        DeepseekOcr2Engine(str(broken))


def test_other_models_and_missing_paths_are_refused(checkpoint: Path, tmp_path: Path) -> None:
    other = copy_of(checkpoint, tmp_path)
    (other / "config.json").write_text(json.dumps({"model_type": "qwen2"}))
    with pytest.raises(CheckpointError, match="'qwen2' model"):
        DeepseekOcr2Engine(str(other))
    with pytest.raises(CheckpointError, match="not a directory and downloads are off"):
        DeepseekOcr2Engine("deepseek-community/DeepSeek-OCR-2")
    with pytest.raises(CheckpointError, match="needs model_path"):
        DeepseekOcr2Engine(None)


def test_processor_and_model_from_different_checkpoints_are_refused(checkpoint: Path, tmp_path: Path) -> None:
    mixed = copy_of(checkpoint, tmp_path)
    config = json.loads((mixed / "config.json").read_text())
    (mixed / "config.json").write_text(json.dumps({**config, "image_token_id": config["image_token_id"] + 1}))
    with pytest.raises(CheckpointError, match="mixes two checkpoints"):
        DeepseekOcr2Engine(str(mixed))


def test_unsupported_settings_are_refused_before_loading(checkpoint: Path) -> None:
    with pytest.raises(UnsupportedHardware, match="needs an NVIDIA GPU"):
        DeepseekOcr2Engine(str(checkpoint), device="cpu", attn_implementation="flash_attention_2")
    with pytest.raises(UnsupportedHardware, match="not float16"):
        DeepseekOcr2Engine(str(checkpoint), dtype="float16")


def test_memory_plan_of_the_released_model_on_a_t4() -> None:
    """The release's sizes in float16 (built on the meta device: no memory): batch 4 fits a T4, 16 does not."""
    with torch.device("meta"):
        model = DeepseekOcr2ForConditionalGeneration._from_config(gpu_deepseek.full_config(), dtype=torch.float16)
    processor = gpu_deepseek.real_processor(gpu_deepseek.tiny_tokenizer())
    engine = DeepseekOcr2Engine.from_model(model, processor, batch_size=4)
    weights, kv, vision = engine.memory_plan_gib()
    assert 6.0 < weights < 7.0 and engine.page_tokens() == 8192
    assert kv == pytest.approx(4 * 8192 * 2 * 12 * 10 * 128 * 2 / 2**30)  # layers x K,V x heads x head_dim x fp16
    assert vision == pytest.approx(4 * 6 * 12 * 2304**2 * 2 / 2**30)  # 6 tiles x 12 heads x 2,304^2 bias
    t4 = 14.58  # what torch reports for a Tesla T4
    engine.check_memory(t4)
    engine.batch_size = 16
    with pytest.raises(UnsupportedHardware, match=r"use batch_size <= 9\b"):
        engine.check_memory(t4)


def test_resources_pass_batch_size_and_prompt(checkpoint: Path) -> None:
    resource = OcrEngineResource(engine="deepseek-ocr-2", model_path=str(checkpoint), batch_size=2, prompt="free")
    assert resource.options() == {"model_path": str(checkpoint), "prompt": "free", "batch_size": 2}
    engine = resource.get()
    assert isinstance(engine, DeepseekOcr2Engine) and engine.batch_size == 2
    assert engine.prompt == "<image>\nFree OCR."  # the model card's prompt, spelled out: not the product's constant


def test_ocr_pages_reads_a_scanned_document_in_a_dagster_run(
    checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Production wiring: environment -> default_resources() -> ocr_pages -> the engine's constructor."""
    key = "Scan U/scanned.pdf"
    landing = tmp_path / "landing"
    (landing / "Scan U").mkdir(parents=True)
    (landing / key).write_bytes(scan(generate_catalog("units_parenthetical", n_courses=14).pdf))
    for name, value in {
        "OCR_PIPELINE_OCR_ENGINE": "deepseek-ocr-2",
        "OCR_PIPELINE_MODEL_PATH": str(checkpoint),
        "OCR_PIPELINE_LANDING_URI": str(landing),
        "OCR_PIPELINE_WORK_URI": str(tmp_path / "work"),
        "OCR_PIPELINE_OUTPUT_URI": str(tmp_path / "output"),
    }.items():
        monkeypatch.setenv(name, value)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(catalog_documents.name, [key])
        result = dg.materialize(
            [raw_catalog_pdfs, rendered_pages, ocr_pages],
            partition_key=key,
            resources=default_resources(),
            instance=instance,
            raise_on_error=False,
        )
    assert result.success, failure_message(result)
    [materialization] = result.asset_materializations_for_node("ocr_pages")
    metadata = {name: value.value for name, value in materialization.metadata.items()}
    assert metadata["engine"] == "deepseek-ocr-2"
    assert metadata["pages_by_method"] == {"ocr:deepseek-ocr-2": 2}, metadata
    [check] = result.get_asset_check_evaluations()
    # Random weights never finish a page inside the tiny context: every page is flagged, none is dropped.
    assert not check.passed and sorted(check.metadata["flagged_pages"].value) == [1, 2]
    engine = OcrEngineResource(engine="deepseek-ocr-2", model_path=str(checkpoint)).get()  # the run's cached engine
    assert engine.batch_size == 4 and engine.generated_tokens > 0
    assert engine.prompt == "<image>\n<|grounding|>Convert the document to markdown."  # the model card's default
