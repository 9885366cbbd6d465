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


# -- diffusers -> original (LDM) layout ------------------------------------------------------
# The reverse of diffusers' single-file conversion (diffusers.loaders.single_file_utils:
# convert_ldm_unet_checkpoint, convert_ldm_vae_checkpoint, convert_ldm_clip_checkpoint), as in
# diffusers' scripts/convert_diffusers_to_original_stable_diffusion.py, but driven by the model's
# config so that it also works for tiny test models (any number of blocks and layers).

_UNET_RESNET = (("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("norm2", "out_layers.0"),
                ("conv2", "out_layers.3"), ("time_emb_proj", "emb_layers.1"), ("conv_shortcut", "skip_connection"))
_UNET_SIMPLE = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
                "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2",
                "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2"}
_VAE_ATTENTION = (("group_norm", "norm"), ("to_q", "q"), ("to_k", "k"), ("to_v", "v"), ("to_out.0", "proj_out"))


def _rename_resnet(rest: str, pairs) -> str:
    for new, old in pairs:
        if rest.startswith(new + "."):
            return old + rest[len(new):]
    return rest


def unet_to_ldm(state: dict, config) -> dict:
    layers = config["layers_per_block"]
    levels = len(config["block_out_channels"])
    has_attention = ["CrossAttn" in kind for kind in config["up_block_types"]]
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        prefix2 = ".".join(parts[:2])
        if prefix2 in _UNET_SIMPLE or parts[0] in _UNET_SIMPLE:
            head = prefix2 if prefix2 in _UNET_SIMPLE else parts[0]
            out[_UNET_SIMPLE[head] + key[len(head):]] = value
        elif parts[0] == "down_blocks":
            i = int(parts[1])
            if parts[2] == "downsamplers":
                out[f"input_blocks.{(layers + 1) * (i + 1)}.0.op." + ".".join(parts[5:])] = value
            else:
                j, rest = int(parts[3]), ".".join(parts[4:])
                index = (layers + 1) * i + j + 1
                if parts[2] == "resnets":
                    out[f"input_blocks.{index}.0.{_rename_resnet(rest, _UNET_RESNET)}"] = value
                else:
                    out[f"input_blocks.{index}.1.{rest}"] = value
        elif parts[0] == "mid_block":
            k, rest = int(parts[2]), ".".join(parts[3:])
            if parts[1] == "resnets":
                out[f"middle_block.{2 * k}.{_rename_resnet(rest, _UNET_RESNET)}"] = value
            else:
                out[f"middle_block.1.{rest}"] = value
        elif parts[0] == "up_blocks":
            i = int(parts[1])
            if parts[2] == "upsamplers":
                slot = 2 if has_attention[i] else 1
                out[f"output_blocks.{(layers + 1) * i + layers}.{slot}.conv." + ".".join(parts[5:])] = value
            else:
                j, rest = int(parts[3]), ".".join(parts[4:])
                index = (layers + 1) * i + j
                if parts[2] == "resnets":
                    out[f"output_blocks.{index}.0.{_rename_resnet(rest, _UNET_RESNET)}"] = value
                else:
                    out[f"output_blocks.{index}.1.{rest}"] = value
        else:
            raise KeyError(f"no LDM name for the UNet weight {key}")
    assert levels == len(config["down_block_types"])
    return {f"model.diffusion_model.{k}": v for k, v in out.items()}


def vae_to_ldm(state: dict, config) -> dict:
    levels = len(config["block_out_channels"])
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        side = parts[0]
        if side in ("quant_conv", "post_quant_conv"):
            out[key] = value
            continue
        section, rest_parts = parts[1], parts[2:]
        if section in ("conv_in", "conv_out"):
            out[key] = value
        elif section == "conv_norm_out":
            out[f"{side}.norm_out." + ".".join(rest_parts)] = value
        elif section in ("down_blocks", "up_blocks"):
            i = int(rest_parts[0])
            level = i if section == "down_blocks" else levels - 1 - i
            name = "down" if section == "down_blocks" else "up"
            if rest_parts[1] == "resnets":
                rest = _rename_resnet(".".join(rest_parts[3:]), (("conv_shortcut", "nin_shortcut"),))
                out[f"{side}.{name}.{level}.block.{rest_parts[2]}.{rest}"] = value
            else:
                sampler = "downsample" if name == "down" else "upsample"
                out[f"{side}.{name}.{level}.{sampler}.conv." + ".".join(rest_parts[4:])] = value
        elif section == "mid_block":
            if rest_parts[0] == "resnets":
                out[f"{side}.mid.block_{int(rest_parts[1]) + 1}." + ".".join(rest_parts[2:])] = value
            else:
                rest = _rename_resnet(".".join(rest_parts[2:]), _VAE_ATTENTION)
                if rest.split(".")[0] in ("q", "k", "v", "proj_out") and rest.endswith("weight"):
                    value = value[:, :, None, None]  # LDM keeps these as 1x1 convolutions
                out[f"{side}.mid.attn_1.{rest}"] = value
        else:
            raise KeyError(f"no LDM name for the VAE weight {key}")
    return {f"first_stage_model.{k}": v for k, v in out.items()}


def sd1_pipeline_to_ldm(pipe) -> dict:
    """The state dict of an SD-1.x-shaped pipeline in the original single-file layout."""
    checkpoint = unet_to_ldm(pipe.unet.state_dict(), pipe.unet.config)
    checkpoint.update(vae_to_ldm(pipe.vae.state_dict(), pipe.vae.config))
    # original checkpoints name the CLIP weights text_model.*; transformers 5.6+ flattened CLIPTextModel
    checkpoint.update({f"cond_stage_model.transformer.{k if k.startswith('text_model.') else 'text_model.' + k}": v
                       for k, v in pipe.text_encoder.state_dict().items()})
    return {k: v.contiguous() for k, v in checkpoint.items()}


def save_ldm_checkpoint(folder: Path, target: Path, metadata: dict[str, str] | None = None) -> Path:
    """Convert the SD-1.x diffusers folder ``folder`` to one original-layout .safetensors file."""
    from diffusers import StableDiffusionPipeline
    from safetensors.torch import save_file as save_torch

    pipe = StableDiffusionPipeline.from_pretrained(folder, local_files_only=True, safety_checker=None,
                                                   requires_safety_checker=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_torch(sd1_pipeline_to_ldm(pipe), str(target), metadata=metadata)
    return target


def save_demo_lora(demo_model_dir: Path, folder: Path, name: str = "style.safetensors", seed: int = 0) -> Path:
    """A real LoRA for the demo unet: random peft adapters (``seed``) saved in diffusers' LoRA format."""
    import torch
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe = StableDiffusionPipeline.from_pretrained(demo_model_dir, local_files_only=True)
    torch.manual_seed(seed)
    pipe.unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                                     target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(pipe.unet))
    folder.mkdir(parents=True, exist_ok=True)
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=layers, weight_name=name)
    return folder / name
