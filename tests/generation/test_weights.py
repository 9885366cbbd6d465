"""VAEs and embeddings found in the models folders by what the files hold, for the Create tab's pickers."""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from studio.generation.weights import scan_weights, weight_kind
from tests.generation.options_helpers import tiny_vae_file


def test_vaes_and_embeddings_are_told_apart_from_models_loras_and_broken_files(demo_model_dir: Path,
                                                                              tmp_path: Path) -> None:
    models = tmp_path / "models"
    vae_file = tiny_vae_file(demo_model_dir, models / "VAE")
    vae_folder = tiny_vae_file(demo_model_dir, models / "more" / "deeper", as_folder=True)
    (models / "embeddings").mkdir()
    embedding = models / "embeddings" / "inkstyle.safetensors"
    save_file({"emb_params": torch.randn(2, 32)}, str(embedding))
    sdxl_embedding = models / "embeddings" / "xl-style.safetensors"
    save_file({"clip_l": torch.randn(1, 768), "clip_g": torch.randn(1, 1280)}, str(sdxl_embedding))
    lora = models / "Lora" / "papercut.safetensors"
    lora.parent.mkdir()
    save_file({"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": torch.zeros(4, 32)}, str(lora))
    (models / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    (models / "hidden" / ".cache").mkdir(parents=True)
    save_file({"emb_params": torch.randn(1, 32)}, str(models / "hidden" / ".cache" / "secret.safetensors"))
    # a whole diffusers model is not offered as a VAE, though it holds one
    found = scan_weights([models, demo_model_dir.parent / "nowhere", models])  # a missing folder, one twice
    assert found.vaes == (vae_folder, vae_file) and found.embeddings == (embedding, sdxl_embedding)
    assert scan_weights([demo_model_dir.parent]).vaes == ()
    assert weight_kind(demo_model_dir / "vae") == "vae" and weight_kind(lora) is None


def test_a_folder_whose_config_is_no_autoencoder_is_not_a_vae(tmp_path: Path) -> None:
    folder = tmp_path / "unet-only"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"_class_name": "UNet2DConditionModel"}))
    assert weight_kind(folder) is None and scan_weights([tmp_path]).vaes == ()
