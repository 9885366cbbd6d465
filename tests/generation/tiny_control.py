"""Tiny ControlNet and T2I-Adapter models shaped for the demo model's UNet, with random weights
(their zero-initialised output layers too, so that they visibly steer the image)."""
from __future__ import annotations

from pathlib import Path


def _randomise(model, seed: int) -> None:
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)


def tiny_controlnet(demo_model_dir: Path, folder: Path, *, seed: int = 0, as_file: bool = False) -> Path:
    """A ControlNet of the demo UNet's shape: a diffusers folder, or one .safetensors file."""
    from diffusers import ControlNetModel, UNet2DConditionModel
    from safetensors.torch import save_file

    unet = UNet2DConditionModel.from_pretrained(demo_model_dir / "unet")
    model = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8, 8, 16),
                                      load_weights_from_unet=False)
    _randomise(model, seed)
    folder.mkdir(parents=True, exist_ok=True)
    if as_file:
        path = folder / f"control-tiny-{seed}.safetensors"
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
        return path
    path = folder / f"controlnet-tiny-{seed}"
    model.save_pretrained(path, safe_serialization=True)
    return path


def tiny_t2i_adapter(folder: Path, *, seed: int = 0) -> Path:
    from diffusers import T2IAdapter

    # the demo UNet has two levels (real ones four): this layout's features fit its residual slots
    adapter = T2IAdapter(in_channels=3, channels=[32, 64], num_res_blocks=1, downscale_factor=16,
                         adapter_type="full_adapter_xl")
    _randomise(adapter, seed)
    path = folder / f"t2i-tiny-{seed}"
    adapter.save_pretrained(path, safe_serialization=True)
    return path
