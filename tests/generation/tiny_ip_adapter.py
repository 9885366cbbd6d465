"""A tiny, real IP-Adapter for the demo model, built from configs with seeded random weights.

The layout is h94/IP-Adapter's: ``<root>/models/<weight file>`` and the image encoder (a
CLIPVisionModelWithProjection saved with ``save_pretrained``) in ``<root>/models/image_encoder``.
The weight file holds ``image_proj.*`` (diffusers' ImageProjection of a plain IP-Adapter:
``proj`` maps the encoder's projection to 4 tokens of the UNet's cross-attention width, ``norm``)
and ``ip_adapter.<n>.to_k_ip/to_v_ip.weight`` for each cross-attention processor of the UNet,
numbered 1, 3, 5 ... in the order of ``unet.attn_processors``, as diffusers'
``_convert_ip_adapter_attn_to_diffusers`` reads them.
"""
from __future__ import annotations

import json
from pathlib import Path

PROJECTION_DIM = 16
NUM_TOKENS = 4


def save_image_encoder(folder: Path, *, seed: int = 7) -> Path:
    """A tiny CLIP vision encoder (hidden 32, 2 layers, 32x32 images) saved into ``folder``."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                              image_size=32, patch_size=8, projection_dim=PROJECTION_DIM, num_channels=3)
    CLIPVisionModelWithProjection(config).save_pretrained(folder, safe_serialization=True)
    return folder


def ip_adapter_state(unet_config: dict, *, seed: int = 11, projection_dim: int = PROJECTION_DIM) -> dict:
    """The flat state dict of a plain IP-Adapter for a UNet with ``unet_config``."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    cross = unet_config["cross_attention_dim"]
    channels = list(unet_config["block_out_channels"])

    def rand(*shape: int) -> "torch.Tensor":
        return torch.randn(*shape, generator=generator) * 0.2

    state = {"image_proj.proj.weight": rand(cross * NUM_TOKENS, projection_dim),
             "image_proj.proj.bias": rand(cross * NUM_TOKENS),
             "image_proj.norm.weight": 1 + rand(cross), "image_proj.norm.bias": rand(cross)}
    key_id = 1
    for hidden in _cross_attention_widths(unet_config, channels):
        state[f"ip_adapter.{key_id}.to_k_ip.weight"] = rand(hidden, cross)
        state[f"ip_adapter.{key_id}.to_v_ip.weight"] = rand(hidden, cross)
        key_id += 2
    return state


def _cross_attention_widths(unet_config: dict, channels: list[int]) -> list[int]:
    """The hidden width of each cross-attention (attn2) processor, in ``attn_processors`` order."""
    from diffusers import UNet2DConditionModel

    config = {k: v for k, v in unet_config.items() if not k.startswith("_")}
    unet = UNet2DConditionModel(**config)
    widths = []
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            widths.append(channels[-1])
        elif name.startswith("up_blocks"):
            widths.append(list(reversed(channels))[int(name[len("up_blocks.")])])
        else:
            widths.append(channels[int(name[len("down_blocks.")])])
    return widths


def build_tiny_ip_adapter(root: Path, model_dir: Path, *, weight_name: str = "ip-adapter_sd15.safetensors",
                          with_encoder: bool = True, seed: int = 11) -> Path:
    """Write a tiny IP-Adapter for the diffusers model in ``model_dir`` under ``root`` (h94 layout);
    returns the weight file."""
    from safetensors.torch import save_file

    unet_config = json.loads((Path(model_dir) / "unet" / "config.json").read_text())
    models = Path(root) / "models"
    models.mkdir(parents=True, exist_ok=True)
    path = models / weight_name
    save_file({k: v.contiguous() for k, v in ip_adapter_state(unet_config, seed=seed).items()}, str(path))
    if with_encoder:
        save_image_encoder(models / "image_encoder")
    return path
