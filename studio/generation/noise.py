"""The starting noise of an image: from its seed, or blended with a variation seed's noise.

A1111's "variation seed" (``subseed``) spherically interpolates between the noise of the seed and
the noise of a second seed: strength 0 is the seed's image, 1 the variation seed's, values between
walk smoothly from one to the other. Noise is drawn on the CPU from ``torch.Generator``, as
diffusers' ``randn_tensor`` does, so that a seed gives the same image on every device.
"""
from __future__ import annotations

from typing import Any, Sequence


def slerp(strength: float, low: Any, high: Any) -> Any:
    """Spherical interpolation of two noise tensors per batch element (A1111's ``slerp``)."""
    import torch

    low_norm = low / torch.norm(low, dim=1, keepdim=True)
    high_norm = high / torch.norm(high, dim=1, keepdim=True)
    dot = (low_norm * high_norm).sum(1)
    if dot.mean() > 0.9995:
        return low * (1 - strength) + high * strength
    omega = torch.acos(dot)
    so = torch.sin(omega)
    return ((torch.sin((1.0 - strength) * omega) / so).unsqueeze(1) * low
            + (torch.sin(strength * omega) / so).unsqueeze(1) * high)


def generators(seeds: Sequence[int]) -> list[Any]:
    """One CPU generator per image, seeded."""
    import torch

    return [torch.Generator("cpu").manual_seed(int(seed)) for seed in seeds]


def initial_noise(shape: tuple[int, ...], gens: Sequence[Any], dtype: Any, *,
                  variation_seeds: Sequence[int] | None = None, strength: float = 0.0) -> Any:
    """Noise of ``shape`` (batch first), one slice per generator, drawn as diffusers draws it
    (so the generators are left as a pipeline would leave them); with ``variation_seeds``, each
    slice is blended with that seed's noise at ``strength``."""
    import torch

    one = (1, *shape[1:])
    noise = torch.cat([torch.randn(one, generator=g, dtype=dtype) for g in gens])
    if not variation_seeds or not strength:
        return noise
    other = torch.cat([torch.randn(one, generator=g, dtype=dtype) for g in generators(variation_seeds)])
    return slerp(float(strength), noise.float(), other.float()).to(dtype)
