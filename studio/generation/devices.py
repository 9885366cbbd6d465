"""Choosing where and in which number format a model runs, and how much memory to save.

``auto`` picks CUDA, then Apple MPS, then the CPU; fp16 on a GPU, fp32 on the CPU (the CPU
runs fp16 slowly or not at all). An explicit device that is not there is an error the user
can act on, never a silent fallback.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from studio.errors import InputError, ModelError
from studio.generation.request import ModelFamily

log = logging.getLogger(__name__)

DEVICES = ("auto", "cuda", "mps", "cpu")
PRECISIONS = ("auto", "fp16", "bf16", "fp32")
MEMORY_SAVING = ("auto", "on", "off")
_PRECISION_ALIASES = {"float16": "fp16", "half": "fp16", "bfloat16": "bf16", "float32": "fp32", "full": "fp32"}
_DTYPE_NAMES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}
_SHORT = {"float16": "fp16", "bfloat16": "bf16", "float32": "fp32"}


@dataclass(frozen=True)
class DeviceChoice:
    """Where models run: ``device`` ("cuda", "mps", "cpu"), the weights' dtype, and a label for people."""

    device: str
    dtype_name: str
    label: str
    note: str = ""  # why the choice differs from what was asked, e.g. fp16 refused on the CPU

    @property
    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype_name)


@dataclass(frozen=True)
class MemoryPlan:
    """Memory savers the engine switches on for one loaded model."""

    attention_slicing: bool = False
    vae_tiling: bool = False
    cpu_offload: bool = False


def _mps_available(torch: Any) -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def choose_device(preference: str = "auto", precision: str = "auto") -> DeviceChoice:
    """Resolve the settings ``device`` and ``precision`` to a device this machine has."""
    import torch

    preference = (preference or "auto").lower()
    precision = _PRECISION_ALIASES.get((precision or "auto").lower(), (precision or "auto").lower())
    if preference not in DEVICES:
        raise InputError(f"Unknown device “{preference}”.", hint=f"Choose one of: {', '.join(DEVICES)}.")
    if precision not in PRECISIONS:
        raise InputError(f"Unknown precision “{precision}”.", hint=f"Choose one of: {', '.join(PRECISIONS)}.")

    if preference == "cuda" and not torch.cuda.is_available():
        raise ModelError("CUDA was chosen as the device, but no CUDA GPU is available to PyTorch.",
                         hint="Install a CUDA build of PyTorch and the NVIDIA driver, or set Device to "
                              "“auto” or “cpu” in Settings.")
    if preference == "mps" and not _mps_available(torch):
        raise ModelError("Apple MPS was chosen as the device, but it is not available on this machine.",
                         hint="Set Device to “auto” or “cpu” in Settings.")
    if preference == "auto":
        device = "cuda" if torch.cuda.is_available() else "mps" if _mps_available(torch) else "cpu"
    else:
        device = preference

    note = ""
    if device == "cpu":
        if precision in ("fp16", "bf16"):
            note = (f"{precision} on the CPU is slow or unsupported for these models; "
                    "using fp32 instead.")
            log.warning(note)
        short = "fp32"
    elif precision == "auto":
        short = "fp16"
    elif precision == "bf16" and device == "cuda" and not torch.cuda.is_bf16_supported():
        note = "This GPU does not support bf16; using fp16 instead."
        log.warning(note)
        short = "fp16"
    elif precision == "bf16" and device == "mps":
        note = "bf16 is not reliable on Apple MPS; using fp16 instead."
        log.warning(note)
        short = "fp16"
    else:
        short = precision
    dtype_name = _DTYPE_NAMES[short]

    if device == "cuda":
        label = f"CUDA: {torch.cuda.get_device_name(torch.cuda.current_device())} ({short})"
    elif device == "mps":
        label = f"Apple MPS ({short})"
    else:
        label = f"CPU ({short})"
    return DeviceChoice(device=device, dtype_name=dtype_name, label=label, note=note)


#: Free memory (GiB) below which attention slicing and VAE tiling are switched on, per family,
#: and below half of which the model is offloaded to the CPU between stages.
_COMFORTABLE_GIB = {ModelFamily.SD1: 6.0, ModelFamily.SD2: 7.0, ModelFamily.SDXL: 12.0}


def free_memory_gib(device: str) -> float | None:
    """Free memory of ``device`` in GiB, or None when it cannot be measured."""
    try:
        if device == "cuda":
            import torch

            free, _total = torch.cuda.mem_get_info()
            return free / 2**30
        if device == "mps":
            import torch

            recommended = torch.mps.recommended_max_memory()
            return (recommended - torch.mps.driver_allocated_memory()) / 2**30
        pages = os.sysconf("SC_AVPHYS_PAGES")
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (AttributeError, ValueError, OSError, RuntimeError):
        return None


def memory_plan(device: str, family: ModelFamily, mode: str = "auto") -> MemoryPlan:
    """Which memory savers to use: all on/off when forced, else chosen by free memory.

    CPU offload only makes sense with a GPU; on the CPU only VAE tiling helps (large images).
    """
    mode = (mode or "auto").lower()
    if mode not in MEMORY_SAVING:
        raise InputError(f"Unknown memory saving mode “{mode}”.", hint="Choose auto, on or off.")
    gpu = device in ("cuda", "mps")
    if mode == "off":
        return MemoryPlan()
    if mode == "on":
        return MemoryPlan(attention_slicing=True, vae_tiling=True, cpu_offload=device == "cuda")
    free = free_memory_gib(device)
    need = _COMFORTABLE_GIB.get(family, 6.0)
    if free is None:
        # Apple silicon shares memory with the system; diffusers recommends slicing there.
        return MemoryPlan(attention_slicing=device == "mps")
    if not gpu:
        return MemoryPlan(vae_tiling=free < need / 2)
    tight = free < need
    return MemoryPlan(attention_slicing=tight or device == "mps", vae_tiling=tight,
                      cpu_offload=device == "cuda" and free < need / 2)
