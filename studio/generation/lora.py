"""LoRA files on a loaded pipeline: loaded once per set of files, re-weighted without reloading.

Only ``.safetensors`` LoRAs are read (pickle files can run code). Diffusers reads both its own
and kohya/A1111 key layouts through ``load_lora_weights``.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from studio.errors import InputError, ModelError, NotFound
from studio.generation.request import LoraSpec

log = logging.getLogger(__name__)


def check_lora(spec: LoraSpec) -> None:
    """Raise a people-readable error when ``spec`` cannot be loaded."""
    path = Path(spec.path)
    if not path.is_file():
        raise NotFound(f"The LoRA file {path} does not exist.", hint="Check the path, or remove the LoRA.")
    if path.suffix.lower() != ".safetensors":
        raise InputError(f"{path.name} is not a .safetensors LoRA.",
                         hint="Only .safetensors LoRA files are loaded; pickle files (.ckpt, .pt, .bin) "
                              "can run code when opened.")
    if not -4.0 <= spec.weight <= 4.0:
        raise InputError(f"The LoRA weight {spec.weight} for {path.name} is out of range.",
                         hint="Use a weight between -4 and 4 (usually 0.5 to 1).")


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


class LoraState:
    """The LoRAs currently applied to one pipeline's shared unet and text encoders."""

    def __init__(self) -> None:
        self._files: tuple[tuple[str, int, int], ...] = ()
        self._weights: tuple[float, ...] = ()

    def apply(self, pipe: Any, loras: tuple[LoraSpec, ...]) -> None:
        """Make ``pipe`` carry exactly ``loras``: reload when the files change, else only re-weight."""
        files = tuple(_file_key(Path(spec.path)) for spec in loras)
        weights = tuple(float(spec.weight) for spec in loras)
        if files != self._files:
            if self._files:
                pipe.unload_lora_weights()
            self._files, self._weights = (), ()
            for index, spec in enumerate(loras):
                try:
                    pipe.load_lora_weights(str(spec.path), adapter_name=f"lora{index}")
                except (ValueError, KeyError, OSError, RuntimeError) as exc:
                    pipe.unload_lora_weights()
                    raise ModelError(f"Could not load the LoRA {Path(spec.path).name}: {exc}",
                                     hint="It may be for another model family (SD 1.x vs SDXL) or damaged.") from exc
            self._files = files
            log.info("Loaded LoRAs: %s", ", ".join(Path(s.path).name for s in loras) or "none")
        if loras and weights != self._weights:
            pipe.set_adapters([f"lora{i}" for i in range(len(loras))], adapter_weights=list(weights))
        self._weights = weights

    def reset(self) -> None:
        self._files, self._weights = (), ()
