"""Loading a model into a diffusers pipeline, offline, with errors people can act on."""
from __future__ import annotations

import logging
from typing import Any

from studio.errors import ModelError
from studio.generation.request import ModelFamily, ModelFormat, ModelInfo

log = logging.getLogger(__name__)


def pipeline_class(family: ModelFamily):
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    return StableDiffusionXLPipeline if family is ModelFamily.SDXL else StableDiffusionPipeline


def load_pipeline(info: ModelInfo, *, dtype: Any = None) -> Any:
    """Load ``info`` as a text-to-image pipeline on the CPU (the engine moves it to its device).

    Never touches the network: diffusers folders load with ``local_files_only``.
    """
    cls = pipeline_class(info.family)
    kwargs: dict[str, Any] = {"local_files_only": True}
    if dtype is not None:
        kwargs["torch_dtype"] = dtype
    if info.format in (ModelFormat.DIFFUSERS, ModelFormat.DEMO):
        if not (info.path / "model_index.json").exists():
            raise ModelError(f"{info.path} is not a diffusers model folder (no model_index.json).",
                             hint="Choose the folder that contains model_index.json.")
        try:
            return cls.from_pretrained(info.path, safety_checker=None, requires_safety_checker=False, **kwargs) \
                if info.family is not ModelFamily.SDXL else cls.from_pretrained(info.path, **kwargs)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise ModelError(f"Could not load the model “{info.name}”: {exc}",
                             hint="Its files may be incomplete or corrupt; download it again.") from exc
    raise ModelError(f"Loading {info.format.value} models is not supported yet.")
