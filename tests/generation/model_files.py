"""Real model files for tests: tiny pipelines saved as diffusers folders, checkpoint headers with
each family's key names, and the demo pipeline converted to an original (LDM) single-file checkpoint."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

# The key names that tell the families apart (from the original Stability/CompVis checkpoints).
UNET_ATTN2 = "model.diffusion_model.input_blocks.{}.1.transformer_blocks.0.attn2.to_k.weight"
FAMILY_KEYS = {
    "sd1": {"cond_stage_model.transformer.text_model.embeddings.token_embedding.weight": (4, 768),
            UNET_ATTN2.format(1): (320, 768)},
    "sd2": {"cond_stage_model.model.token_embedding.weight": (4, 1024),
            UNET_ATTN2.format(1): (320, 1024)},
    "sdxl": {"conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight": (4, 768),
             "conditioner.embedders.1.model.token_embedding.weight": (4, 1280),
             UNET_ATTN2.format(4): (640, 2048)},
}


def write_checkpoint(path: Path, tensors: dict[str, tuple[int, ...]], metadata: dict[str, str] | None = None) -> Path:
    """A real .safetensors file with the given tensor names and shapes (zeros, float16)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: np.zeros(shape, dtype=np.float16) for name, shape in tensors.items()}, str(path),
              metadata=metadata)
    return path


def family_checkpoint(path: Path, family: str, metadata: dict[str, str] | None = None) -> Path:
    """A small checkpoint whose header looks like a full ``family`` model (vae included)."""
    tensors = dict(FAMILY_KEYS[family])
    tensors["first_stage_model.decoder.conv_in.weight"] = (2, 2)
    return write_checkpoint(path, tensors, metadata)


def save_tiny_sdxl(folder: Path, *, lcm_scheduler: bool = False) -> Path:
    """A tiny SDXL pipeline (configs as in diffusers' own SDXL tests) saved as a diffusers folder."""
    import torch
    from diffusers import (AutoencoderKL, EulerDiscreteScheduler, LCMScheduler, StableDiffusionXLPipeline,
                           UNet2DConditionModel)
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    from studio.assets import asset_path

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=2, sample_size=32, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, addition_embed_type="text_time",
        addition_time_embed_dim=8, transformer_layers_per_block=(1, 2), projection_class_embeddings_input_dim=80,
        cross_attention_dim=64, norm_num_groups=1)
    vae = AutoencoderKL(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
                        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"], latent_channels=4, sample_size=128)
    text_config = CLIPTextConfig(bos_token_id=0, eos_token_id=2, hidden_size=32, intermediate_size=37,
                                 layer_norm_eps=1e-05, num_attention_heads=4, num_hidden_layers=5, pad_token_id=1,
                                 vocab_size=49408, hidden_act="gelu", projection_dim=32)
    tokenizer_dir = asset_path("models", "clip-tokenizer")
    tokenizer = CLIPTokenizer(str(tokenizer_dir / "vocab.json"), str(tokenizer_dir / "merges.txt"),
                              model_max_length=77, pad_token="<|endoftext|>")
    scheduler_cls = LCMScheduler if lcm_scheduler else EulerDiscreteScheduler
    scheduler = scheduler_cls(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              timestep_spacing="leading", steps_offset=1)
    pipe = StableDiffusionXLPipeline(
        unet=unet, vae=vae, scheduler=scheduler, text_encoder=CLIPTextModel(text_config), tokenizer=tokenizer,
        text_encoder_2=CLIPTextModelWithProjection(text_config), tokenizer_2=tokenizer)
    pipe.save_pretrained(folder, safe_serialization=True)
    return folder


def edit_json(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))
