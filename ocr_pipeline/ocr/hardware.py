"""Which device, dtype and attention implementation each DeepSeek engine runs with, and what it refuses.

The decision is made once, when an engine is built, from the GPU's compute capability and whether
``flash_attn`` is installed; settings that cannot work on the machine are refused there with a
message that says what to use instead (never page by page). Supported combinations:

================  ===========================  ==========================  ===============================
engine            GPU (compute capability)     dtype                       attention
================  ===========================  ==========================  ===============================
deepseek-ocr-2    Ampere+ / Hopper (>= 8.0)    bfloat16 (default),         flash_attention_2 for the
                                               float16, float32            language model when flash-attn
                                                                           is installed (vision: sdpa),
                                                                           else sdpa; eager allowed
deepseek-ocr-2    Volta / Turing (7.x: T4,     float16 (default), float32  sdpa (default) or eager; no
                  V100; g4dn)                  (no bfloat16 in hardware)   FlashAttention 2 before Ampere
deepseek-ocr-2    CPU (tests, development)     float32 (default),          sdpa (default) or eager
                                               bfloat16
deepseek-ocr      Ampere+ / Hopper only        bfloat16 only: the remote   flash_attention_2 when
(v1, remote                                    code's ``infer`` hard-codes installed, else eager: the
code)                                          bf16 autocast and casts     remote code declares only these
                                               images to bf16              two (no sdpa)
================  ===========================  ==========================  ===============================

``deepseek-ocr`` (v1) is refused on T4/g4dn and on the CPU: serve DeepSeek-OCR 2 there with
``deepseek-ocr-2`` (float16) or with vLLM ``--dtype half`` and the ``openai-compatible`` engine
(see ``docs/vllm.md``).
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

DTYPES = ("float32", "bfloat16", "float16")
ATTENTIONS = ("sdpa", "eager", "flash_attention_2")
V1_REMOTE_ATTENTIONS = ("eager", "flash_attention_2")
"""What DeepSeek-OCR's remote code (``modeling_deepseekv2.py``, ``ATTENTION_CLASSES``) declares;
``use_mla=False`` prefixes them with ``mha_``. There is no sdpa entry, and transformers 4.46 refuses
``sdpa`` for the remote class at load time."""
V1_REMOTE_DTYPE = "bfloat16"
"""DeepSeek-OCR's ``infer()`` runs under ``torch.autocast("cuda", dtype=torch.bfloat16)`` and casts
the image tensors with ``.to(torch.bfloat16)``."""
ENGINES = ("deepseek-ocr-2", "deepseek-ocr")


class UnsupportedHardware(RuntimeError):
    """The requested engine, device, dtype and attention cannot run together on this machine."""


@dataclass(frozen=True)
class Precision:
    """Where and how to run a model: torch device, dtype name and attention implementation."""

    device: str
    dtype: str
    attn_implementation: str


def _gpu_words(capability: tuple[int, int], gpu_name: str | None) -> str:
    name = f"{gpu_name}, " if gpu_name else ""
    return f"this GPU ({name}compute capability {capability[0]}.{capability[1]})"


def choose_precision(
    cuda_available: bool,
    capability: tuple[int, int] | None,
    flash_attn_available: bool,
    *,
    engine: str = "deepseek-ocr-2",
    device: str | None = None,
    dtype: str | None = None,
    attn_implementation: str | None = None,
    gpu_name: str | None = None,
) -> Precision:
    """The precision for ``engine`` on this hardware; explicit settings are checked, not trusted.

    Raises :class:`UnsupportedHardware` for a combination in no row of the module's table.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    if dtype is not None and dtype not in DTYPES:
        raise UnsupportedHardware(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    if attn_implementation is not None and attn_implementation not in ATTENTIONS:
        raise UnsupportedHardware(f"attention {attn_implementation!r} is not one of {', '.join(ATTENTIONS)}")
    wants_cuda = device.startswith("cuda") if device else cuda_available
    if device and not (device == "cpu" or device.startswith("cuda")):
        raise UnsupportedHardware(f"device {device!r}: use 'cpu', 'cuda' or 'cuda:N'")
    if wants_cuda and (not cuda_available or capability is None):
        raise UnsupportedHardware(f"device {device!r} was asked for, but torch sees no CUDA GPU")
    cuda_device = device if device and device.startswith("cuda") else "cuda"
    if engine == "deepseek-ocr":
        return _v1(wants_cuda, capability, flash_attn_available, cuda_device, dtype, attn_implementation, gpu_name)
    return _v2(wants_cuda, capability, flash_attn_available, cuda_device, dtype, attn_implementation, gpu_name)


def _v2(
    cuda: bool,
    capability: tuple[int, int] | None,
    flash: bool,
    cuda_device: str,
    dtype: str | None,
    attn: str | None,
    gpu_name: str | None,
) -> Precision:
    if not cuda:
        if dtype == "float16":
            raise UnsupportedHardware("deepseek-ocr-2 on the CPU runs in float32 (or bfloat16), not float16")
        if attn == "flash_attention_2":
            raise UnsupportedHardware("FlashAttention 2 needs an NVIDIA GPU; on the CPU use sdpa (the default)")
        return Precision("cpu", dtype or "float32", attn or "sdpa")
    assert capability is not None
    where = _gpu_words(capability, gpu_name)
    if capability[0] < 7:
        raise UnsupportedHardware(
            f"deepseek-ocr-2 needs a Volta or newer GPU (compute capability >= 7.0); {where} "
            "is older. Use the CPU or another GPU."
        )
    if capability[0] < 8:
        if dtype == "bfloat16":
            raise UnsupportedHardware(
                f"{where} has no bfloat16 arithmetic: run deepseek-ocr-2 in float16 (the default here) or float32"
            )
        if attn == "flash_attention_2":
            raise UnsupportedHardware(
                f"FlashAttention 2 needs an Ampere or newer GPU; {where} is not: use sdpa (the default here)"
            )
        return Precision(cuda_device, dtype or "float16", attn or "sdpa")
    if attn == "flash_attention_2" and not flash:
        raise UnsupportedHardware(
            "attention flash_attention_2 was asked for, but the flash_attn package is not "
            "installed: install flash-attn or use sdpa"
        )
    return Precision(cuda_device, dtype or "bfloat16", attn or ("flash_attention_2" if flash else "sdpa"))


def _v1(
    cuda: bool,
    capability: tuple[int, int] | None,
    flash: bool,
    cuda_device: str,
    dtype: str | None,
    attn: str | None,
    gpu_name: str | None,
) -> Precision:
    instead = (
        "use the 'deepseek-ocr-2' engine, or serve DeepSeek-OCR 2 with vLLM and use 'openai-compatible' (docs/vllm.md)"
    )
    if not cuda:
        raise UnsupportedHardware(
            f"deepseek-ocr (v1) runs only on an NVIDIA GPU: its remote code calls .cuda(); {instead}"
        )
    assert capability is not None
    if capability[0] < 8:
        raise UnsupportedHardware(
            f"deepseek-ocr (v1) needs bfloat16 (its remote code hard-codes bf16 autocast and image casts), which "
            f"{_gpu_words(capability, gpu_name)} lacks (Ampere or newer needed); on a T4/g4dn {instead} "
            "in float16"
        )
    if dtype not in (None, V1_REMOTE_DTYPE):
        raise UnsupportedHardware(
            f"deepseek-ocr (v1) runs only in {V1_REMOTE_DTYPE}: its remote code hard-codes bf16 (asked for {dtype})"
        )
    if attn is not None and attn not in V1_REMOTE_ATTENTIONS:
        raise UnsupportedHardware(
            f"deepseek-ocr (v1)'s remote code supports attention "
            f"{' or '.join(V1_REMOTE_ATTENTIONS)} only (asked for {attn})"
        )
    if attn == "flash_attention_2" and not flash:
        raise UnsupportedHardware(
            "attention flash_attention_2 was asked for, but the flash_attn package is not "
            "installed: install flash-attn or use eager"
        )
    return Precision(cuda_device, V1_REMOTE_DTYPE, attn or ("flash_attention_2" if flash else "eager"))


def installed(package: str) -> bool:
    """Whether ``package`` can be imported (without importing it)."""
    return importlib.util.find_spec(package) is not None


def detect_precision(
    engine: str = "deepseek-ocr-2",
    *,
    device: str | None = None,
    dtype: str | None = None,
    attn_implementation: str | None = None,
) -> Precision:
    """:func:`choose_precision` for this machine (the GPU ``device`` names, else the current one), logged."""
    import torch

    cuda = torch.cuda.is_available()
    index = device if device and device.startswith("cuda") else None
    capability = torch.cuda.get_device_capability(index) if cuda else None
    name = torch.cuda.get_device_name(index) if cuda else None
    flash = installed("flash_attn")
    choice = choose_precision(
        cuda,
        capability,
        flash,
        engine=engine,
        device=device,
        dtype=dtype,
        attn_implementation=attn_implementation,
        gpu_name=name,
    )
    log.info(
        "%s precision: %s %s attn=%s (GPU %s, compute capability %s, flash_attn %s)",
        engine,
        choice.device,
        choice.dtype,
        choice.attn_implementation,
        name,
        capability,
        "installed" if flash else "missing",
    )
    return choice


def cuda_memory_gib(device: str) -> float | None:
    """Total memory of the CUDA ``device`` in GiB, or ``None`` off the GPU."""
    import torch

    if not device.startswith("cuda") or not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_properties(torch.device(device)).total_memory / 2**30
