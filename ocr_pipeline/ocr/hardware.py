"""Pick dtype and attention implementation for the GPU (or CPU) at hand."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Precision:
    """Where and how to run a model: torch device, dtype name and attention implementation."""

    device: str
    dtype: str
    attn_implementation: str


def choose_precision(cuda_available: bool, capability: tuple[int, int] | None,
                     flash_attn_available: bool) -> Precision:
    """Ampere+ -> bf16 (+ FlashAttention 2 if installed); Turing/Volta (T4) -> fp16 + SDPA; CPU -> fp32."""
    if not cuda_available or capability is None:
        return Precision("cpu", "float32", "sdpa")
    if capability[0] >= 8:
        return Precision("cuda", "bfloat16", "flash_attention_2" if flash_attn_available else "sdpa")
    return Precision("cuda", "float16", "sdpa")


def detect_precision() -> Precision:
    """:func:`choose_precision` for this machine, logged."""
    import torch

    cuda = torch.cuda.is_available()
    capability = torch.cuda.get_device_capability() if cuda else None
    flash = importlib.util.find_spec("flash_attn") is not None
    choice = choose_precision(cuda, capability, flash)
    log.info("precision: %s %s attn=%s (compute capability %s, flash_attn %s)", choice.device, choice.dtype,
             choice.attn_implementation, capability, "installed" if flash else "missing")
    return choice
