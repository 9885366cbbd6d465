"""The built-in demo model: a tiny SD-1.x-shaped pipeline made from configs in ``assets/``.

It is built on first use with seeded random weights (the same bytes on every machine) and
saved as a diffusers folder, so that every feature of the studio works offline on a fresh
machine. Its images are abstract patterns; the UI says so.
"""
from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from studio.assets import asset_path
from studio.errors import ModelError
from studio.generation.request import ModelFamily, ModelFormat, ModelInfo

log = logging.getLogger(__name__)

DEMO_NAME = "demo"
DEMO_SEED = 20261128
_CONFIG_DIR = asset_path("models", "demo")
_TOKENIZER_DIR = asset_path("models", "clip-tokenizer")


def demo_model_info(folder: Path) -> ModelInfo:
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
    return ModelInfo(name=DEMO_NAME, path=folder, family=ModelFamily.SD1, format=ModelFormat.DEMO,
                     variant="base", size_bytes=size)


def _config(name: str) -> dict:
    data = json.loads((_CONFIG_DIR / f"{name}.json").read_text())
    data.pop("_class_name", None)
    data.pop("architectures", None)
    data.pop("model_type", None)
    return data


def build_demo_pipeline():
    """Build the demo pipeline in memory (seeded, deterministic), without saving it."""
    from studio.generation.loading import quiet_libraries

    quiet_libraries()
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(DEMO_SEED)
    unet = UNet2DConditionModel(**_config("unet"))
    torch.manual_seed(DEMO_SEED + 1)
    vae = AutoencoderKL(**_config("vae"))
    torch.manual_seed(DEMO_SEED + 2)
    text_encoder = CLIPTextModel(CLIPTextConfig(**_config("text_encoder")))
    tokenizer = CLIPTokenizer(str(_TOKENIZER_DIR / "vocab.json"), str(_TOKENIZER_DIR / "merges.txt"),
                              model_max_length=77, pad_token="<|endoftext|>")
    scheduler = EulerDiscreteScheduler(**_config("scheduler"))
    return StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )


def ensure_demo_model(folder: Path) -> ModelInfo:
    """Return the demo model, building and saving it into ``folder`` the first time."""
    if (folder / "model_index.json").exists():
        return demo_model_info(folder)
    log.info("Building the demo model in %s", folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging = Path(tempfile.mkdtemp(prefix=".demo-", dir=folder.parent))
        build_demo_pipeline().save_pretrained(staging, safe_serialization=True)
        if (folder / "model_index.json").exists():  # another process (a cluster worker beside this one) made it
            shutil.rmtree(staging, ignore_errors=True)   # meanwhile, and may be loading it: keep that one
            return demo_model_info(folder)
        if folder.exists():  # a folder left incomplete
            shutil.rmtree(folder)
        try:
            staging.rename(folder)
        except OSError:
            if not (folder / "model_index.json").exists():
                raise
            shutil.rmtree(staging, ignore_errors=True)  # the other process renamed its copy first
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(f"Could not save the demo model to {folder}: {exc.strerror or exc}.",
                         hint="Free some disk space and try again.") from exc
    return demo_model_info(folder)
