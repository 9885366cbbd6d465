"""Shared helpers for the tests of generation options: small requests on the demo model, files of
weights built with random values in the demo's shapes, and the generate → reproduce round trip."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from studio.generation.request import GenerationRequest, GenerationResult


def small(**fields: Any) -> GenerationRequest:
    values: dict[str, Any] = dict(prompt="a red fox in the snow", width=64, height=64, steps=3, seed=7)
    values.update(fields)
    return GenerationRequest(**values)


def pixels(result: GenerationResult) -> np.ndarray:
    return np.asarray(result.image)


def tiny_vae_file(demo_model_dir: Path, folder: Path, *, seed: int = 3, as_folder: bool = False) -> Path:
    """A VAE shaped like the demo's with other random weights: one .safetensors file, or a folder."""
    import torch
    from diffusers import AutoencoderKL
    from safetensors.torch import save_file

    reference = AutoencoderKL.from_pretrained(demo_model_dir / "vae")
    torch.manual_seed(seed)
    vae = AutoencoderKL.from_config(reference.config)
    folder.mkdir(parents=True, exist_ok=True)
    if as_folder:
        vae.save_pretrained(folder / "other-vae", safe_serialization=True)
        return folder / "other-vae"
    path = folder / "other-vae.safetensors"
    save_file({k: v.contiguous() for k, v in vae.state_dict().items()}, str(path))
    return path


def round_trip(request: GenerationRequest, engine: Any, works: Path, *, weights: list[Path] | None = None,
               inputs: Mapping[str, Path] | None = None) -> Any:
    """Generate ``request`` as a saved work, then reproduce it from its manifest: the Reproduction."""
    from studio.workflows.generate import generate_works
    from studio.workflows.verify import reproduce_work

    saved = generate_works(request, engine, works, library=None, c2pa=None)
    return [reproduce_work(work.path, engine, inputs=inputs, weights=weights or []) for work in saved]
