"""The shipped family configs (assets/models/families) describe the real SD 1.5, SD 2.1 and SDXL
architectures, and assemble into config folders that diffusers and transformers load offline."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.generation.loading import FAMILIES_DIR, family_config_dir
from studio.generation.request import ModelFamily

# Parameter counts published for the original models (model cards and the diffusers configs).
PUBLISHED = {
    ModelFamily.SD1: {"unet": 859_520_964, "vae": 83_653_863, "text_encoder": 123_060_480},
    ModelFamily.SD2: {"unet": 865_910_724, "vae": 83_653_863, "text_encoder": 340_387_840},
    ModelFamily.SDXL: {"unet": 2_567_463_684, "vae": 83_653_863, "text_encoder": 123_060_480,
                       "text_encoder_2": 694_659_840},
}


def _config(family: ModelFamily, component: str) -> dict:
    return json.loads((FAMILIES_DIR / family.value / component / "config.json").read_text())


@pytest.mark.parametrize("family", list(ModelFamily))
def test_configs_build_the_published_architectures(family: ModelFamily) -> None:
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    def count(model) -> int:
        return sum(p.numel() for p in model.parameters())

    with torch.device("meta"):  # shapes only: no memory for the weights
        counts = {"unet": count(UNet2DConditionModel.from_config(_config(family, "unet"))),
                  "vae": count(AutoencoderKL.from_config(_config(family, "vae"))),
                  "text_encoder": count(CLIPTextModel(CLIPTextConfig(**_config(family, "text_encoder"))))}
        if family is ModelFamily.SDXL:
            counts["text_encoder_2"] = count(
                CLIPTextModelWithProjection(CLIPTextConfig(**_config(family, "text_encoder_2"))))
    assert counts == PUBLISHED[family]


def test_family_specific_settings() -> None:
    index = {f: json.loads((FAMILIES_DIR / f.value / "model_index.json").read_text()) for f in ModelFamily}
    assert index[ModelFamily.SDXL]["_class_name"] == "StableDiffusionXLPipeline"
    assert index[ModelFamily.SDXL]["text_encoder_2"] == ["transformers", "CLIPTextModelWithProjection"]
    assert all(index[f]["safety_checker"] == [None, None] for f in (ModelFamily.SD1, ModelFamily.SD2))
    sd2_scheduler = json.loads((FAMILIES_DIR / "sd2" / "scheduler" / "scheduler_config.json").read_text())
    assert sd2_scheduler["prediction_type"] == "v_prediction" and _config(ModelFamily.SD2, "unet")["sample_size"] == 96
    assert _config(ModelFamily.SDXL, "vae")["scaling_factor"] == 0.13025
    assert not list(FAMILIES_DIR.rglob("vocab.json")), "the vocabulary is added when assembling, not kept thrice"


def test_assembled_folders_load_offline_and_are_reused(tmp_path: Path) -> None:
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline
    from transformers import CLIPTokenizer

    pads = {}
    for family in ModelFamily:
        folder = family_config_dir(family, tmp_path)
        assert not list(folder.rglob("*.safetensors")) and not list(folder.rglob("*.bin"))
        cls = StableDiffusionXLPipeline if family is ModelFamily.SDXL else StableDiffusionPipeline
        assert cls.load_config(folder)["_class_name"] == cls.__name__
        for sub in ("tokenizer", "tokenizer_2") if family is ModelFamily.SDXL else ("tokenizer",):
            tokenizer = CLIPTokenizer.from_pretrained(folder, subfolder=sub, local_files_only=True)
            assert tokenizer.model_max_length == 77 and len(tokenizer) == 49408
            assert tokenizer("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
            pads[(family, sub)] = tokenizer.pad_token
    assert pads == {(ModelFamily.SD1, "tokenizer"): "<|endoftext|>", (ModelFamily.SD2, "tokenizer"): "!",
                    (ModelFamily.SDXL, "tokenizer"): "<|endoftext|>", (ModelFamily.SDXL, "tokenizer_2"): "!"}
    vocab = family_config_dir(ModelFamily.SD1, tmp_path) / "tokenizer" / "vocab.json"
    before = vocab.stat().st_mtime_ns
    assert family_config_dir(ModelFamily.SD1, tmp_path) == vocab.parent.parent  # assembled once, then reused
    assert vocab.stat().st_mtime_ns == before
