"""The second pass of A1111's hires fix: upscale the first pass, then repaint it at the larger size.

The first pass runs at the request's size (the model's own, where it composes well) and hands over
its latents. They are upscaled in latent space (bilinear, "Latent"), or decoded and upscaled as a
picture (Lanczos, or an upscaler model followed by Lanczos to the exact size), then an
image-to-image pass with the hires steps and denoise adds the detail.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from studio.generation.request import GenerationRequest


def decode_latents(pipe: Any, latents: Any) -> list[Any]:
    """PIL images from latents, through the pipeline's VAE (as the pipeline's own decode does)."""
    import torch

    vae = pipe.vae
    with torch.no_grad():
        scaled = latents.to(vae.dtype) / vae.config.scaling_factor
        decoded = vae.decode(scaled, return_dict=False)[0]
    return list(pipe.image_processor.postprocess(decoded, output_type="pil"))


def hires_pass(pipe: Any, latents: Any, request: GenerationRequest, generators: list[Any],
               prompt_kwargs: dict[str, Any], callback: Callable[..., dict],
               load_upscaler: Callable[[Path], Any]) -> list[Any]:
    """The final images of a hires-fixed batch from its first-pass ``latents`` (``pipe`` is img2img)."""
    from torch.nn import functional as F

    from studio.generation.upscalers import upscale_image
    from studio.generation.validation import hires_size

    hires = request.hires
    assert hires is not None
    width, height = hires_size(request)
    factor = pipe.vae_scale_factor
    if hires.upscaler == "latent":
        image: Any = F.interpolate(latents, size=(height // factor, width // factor), mode="bilinear",
                                   align_corners=False)
    else:
        model = load_upscaler(Path(hires.upscaler)) if hires.upscaler != "lanczos" else None
        pictures = decode_latents(pipe, latents)
        image = [upscale_image(picture, hires.upscaler, width / picture.size[0], model).resize((width, height))
                 if picture.size != (width, height) else picture for picture in pictures]
    return list(pipe(image=image, strength=hires.denoise, num_inference_steps=hires.steps or request.steps,
                     guidance_scale=request.guidance, generator=generators[0] if len(generators) == 1 else generators,
                     callback_on_step_end=callback, **prompt_kwargs).images)
