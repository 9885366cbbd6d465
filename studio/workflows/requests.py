"""One way to turn the settings into a generation: the model named (or the default one), a request
whose unset fields take that model's good defaults, and the engine the settings describe.

:func:`studio.api.generate`, ``studio generate`` and its ``--prompts`` batches build their requests
here, and the API, the command line, ``studio avatars``, the demo and the main window their engine,
so that the same arguments give the same recipe everywhere.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from studio.errors import InputError

if TYPE_CHECKING:
    from studio.config import Config
    from studio.generation.engine import Engine
    from studio.generation.models import ModelCatalog
    from studio.generation.request import GenerationRequest


def model_name(config: "Config", name: str | None = None) -> str:
    """The model asked for, else the settings' default model, else the demo model."""
    return name or config["default_model"] or "demo"


def parse_size(text: str) -> tuple[int, int]:
    """A --size or a prompts file's size cell: '512x768' -> (512, 768); '512' -> (512, 512)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        if len(parts) == 1:
            return int(parts[0]), int(parts[0])
        if len(parts) == 2:
            return int(parts[0]), int(parts[1])
    except ValueError:
        pass
    raise InputError(f"“{text}” is not a size.", hint="Write it as WIDTHxHEIGHT, e.g. 512x512.")


def studio_engine(config: "Config", catalog: "ModelCatalog | None" = None) -> "Engine":
    """The engine with the settings' device, precision and memory saving (it loads nothing yet)."""
    from studio.generation.engine import Engine
    from studio.generation.models import ModelCatalog

    return Engine(catalog if catalog is not None else ModelCatalog(config), device=config["device"],
                  precision=config["precision"], memory_saving=config["memory_saving"],
                  hash_cache=config.paths.hash_cache_file)


def studio_request(config: "Config", catalog: "ModelCatalog", prompt: str, *, model: str | None = None,
                   steps: int | None = None, guidance: float | None = None, scheduler: str | None = None,
                   width: int | None = None, height: int | None = None, **fields: Any) -> "GenerationRequest":
    """A request for ``prompt``: what is not given takes the model's defaults (steps, guidance and
    sampler for its variant, its native square size); ``fields`` are the request's other fields."""
    name = model_name(config, model)
    return request_for_model(catalog.resolve(name), name, prompt, steps=steps, guidance=guidance,
                             scheduler=scheduler, width=width, height=height, **fields)


def request_for_model(info: Any, name: str, prompt: str, *, steps: int | None = None,
                      guidance: float | None = None, scheduler: str | None = None, width: int | None = None,
                      height: int | None = None, **fields: Any) -> "GenerationRequest":
    """A request for ``prompt`` on the model ``name`` already resolved to ``info`` (a ModelInfo):
    the model's defaults fill what is None (steps, guidance, sampler, and its native square size)."""
    from studio.generation.request import GenerationRequest
    from studio.generation.schedulers import default_settings

    default_steps, default_guidance, default_scheduler = default_settings(info)
    size = info.family.native_size
    return GenerationRequest(prompt=prompt, model=name, steps=default_steps if steps is None else steps,
                             guidance=default_guidance if guidance is None else guidance,
                             scheduler=scheduler or default_scheduler, width=size if width is None else width,
                             height=size if height is None else height,
                             **fields)
