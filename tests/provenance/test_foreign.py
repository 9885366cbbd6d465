"""Other tools' recipes, built here in each tool's documented format, read back as ForeignMetadata."""
from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from studio.provenance.foreign import parse_a1111, parse_comfyui, parse_invokeai, read_foreign
from studio.provenance.png_text import read_png_text

A1111 = ("masterpiece, a lighthouse at dusk,\n(oil painting:1.2), dramatic sky\n"
         "Negative prompt: blurry, lowres,\ntext, watermark\n"
         'Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 3141592653, Size: 512x768, '
         'Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.4, '
         'Lora hashes: "ink: 1a2b3c4d5e6f, paper: 0f0f0f0f0f0f", Version: v1.10.1')

# ComfyUI's API-format graph ("prompt" chunk), as the default text-to-image workflow saves it
COMFY_PROMPT = {
    "3": {"class_type": "KSampler", "inputs": {
        "seed": 156680208700286, "steps": 20, "cfg": 8, "sampler_name": "euler", "scheduler": "normal",
        "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "beautiful scenery nature glass bottle landscape",
                                                    "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["4", 1]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
}

# ComfyUI's UI-format graph ("workflow" chunk): links are [id, from node, from slot, to node, to slot, type]
COMFY_WORKFLOW = {
    "last_node_id": 9, "last_link_id": 9,
    "nodes": [
        {"id": 3, "type": "KSampler", "inputs": [
            {"name": "model", "type": "MODEL", "link": 1}, {"name": "positive", "type": "CONDITIONING", "link": 4},
            {"name": "negative", "type": "CONDITIONING", "link": 6},
            {"name": "latent_image", "type": "LATENT", "link": 2}],
         "widgets_values": [42, "randomize", 25, 7.5, "dpmpp_2m", "karras", 1]},
        {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["a red fox in snow"]},
        {"id": 7, "type": "CLIPTextEncode", "widgets_values": ["blurry"]},
    ],
    "links": [[1, 4, 0, 3, 0, "MODEL"], [2, 5, 0, 3, 3, "LATENT"], [4, 6, 0, 3, 1, "CONDITIONING"],
              [6, 7, 0, 3, 2, "CONDITIONING"]],
}

# InvokeAI 4's "invokeai_metadata" chunk (core metadata node)
INVOKEAI = {
    "generation_mode": "txt2img", "positive_prompt": "a castle on a hill, golden hour",
    "negative_prompt": "people", "width": 768, "height": 512, "seed": 2024, "rand_device": "cpu",
    "cfg_scale": 7.5, "cfg_rescale_multiplier": 0, "steps": 30, "scheduler": "dpmpp_2m_k",
    "model": {"key": "4f1c", "hash": "blake3:ab12", "name": "Dreamshaper 8", "base": "sd-1", "type": "main"},
    "app_version": "4.2.9",
}


def _png(path: Path, text: dict[str, str]) -> Path:
    info = PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    Image.new("RGB", (8, 8), "gray").save(path, pnginfo=info)
    return path


def test_a1111_parameters_with_multiline_prompts_and_quoted_values(tmp_path: Path) -> None:
    found = read_foreign(read_png_text(_png(tmp_path / "a1111.png", {"parameters": A1111})))
    assert found is not None and found.source == "a1111"
    assert found.prompt == "masterpiece, a lighthouse at dusk,\n(oil painting:1.2), dramatic sky"
    assert found.negative_prompt == "blurry, lowres,\ntext, watermark"
    assert (found.seed, found.steps, found.guidance, found.scheduler) == (3141592653, 28, 6.5, "DPM++ 2M Karras")
    assert (found.width, found.height, found.model) == (512, 768, "v1-5-pruned-emaonly")
    assert found.raw == {"parameters": A1111}


def test_a1111_prompt_only_and_garbage_settings_do_not_fail() -> None:
    only = parse_a1111("just a prompt")
    assert (only.prompt, only.seed, only.width) == ("just a prompt", None, None)
    odd = parse_a1111("p\nSteps: many, Seed: x, CFG scale: nan, Size: huge")
    assert (odd.steps, odd.seed, odd.guidance, odd.width) == (None, None, None, None)


def test_comfyui_api_graph_follows_links_to_texts_size_and_model(tmp_path: Path) -> None:
    path = _png(tmp_path / "comfy.png", {"prompt": json.dumps(COMFY_PROMPT), "workflow": json.dumps(COMFY_WORKFLOW)})
    found = read_foreign(read_png_text(path))
    assert found is not None and found.source == "comfyui"
    assert (found.prompt, found.negative_prompt) == ("beautiful scenery nature glass bottle landscape", "text, watermark")
    assert (found.seed, found.steps, found.guidance, found.scheduler) == (156680208700286, 20, 8.0, "euler")
    assert (found.width, found.height, found.model) == (512, 512, "v1-5-pruned-emaonly.safetensors")


def test_comfyui_ui_workflow_alone_gives_sampler_settings_and_texts() -> None:
    found = parse_comfyui(None, json.dumps(COMFY_WORKFLOW))
    assert found is not None
    assert (found.prompt, found.negative_prompt) == ("a red fox in snow", "blurry")
    assert (found.seed, found.steps, found.guidance, found.scheduler) == (42, 25, 7.5, "dpmpp_2m")


def test_comfyui_link_cycles_and_garbage_end_quietly() -> None:
    cycle = {"1": {"class_type": "KSampler", "inputs": {"seed": 1, "positive": ["2", 0], "negative": ["2", 0]}},
             "2": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["2", 0]}}}
    found = parse_comfyui(json.dumps(cycle), None)
    assert found is not None and found.prompt == "" and found.seed == 1
    assert parse_comfyui("{not json", "[" * 50_000) is None
    assert parse_comfyui(json.dumps({"1": {"class_type": "SaveImage"}}), None) is None


def test_invokeai_metadata(tmp_path: Path) -> None:
    found = read_foreign(read_png_text(_png(tmp_path / "invoke.png", {"invokeai_metadata": json.dumps(INVOKEAI)})))
    assert found is not None and found.source == "invokeai"
    assert (found.prompt, found.negative_prompt, found.seed, found.steps) == ("a castle on a hill, golden hour", "people",
                                                                      2024, 30)
    assert (found.guidance, found.scheduler, found.width, found.height, found.model) == (
        7.5, "dpmpp_2m_k", 768, 512, "Dreamshaper 8")
    assert parse_invokeai("[]") is None


def test_no_known_chunks_means_no_foreign_recipe() -> None:
    assert read_foreign({"Software": "GIMP"}) is None


def test_a_megabyte_a1111_settings_line_is_read_in_linear_time() -> None:
    # A1111's own unanchored pattern retried at every character: a 32 KB line of letters took 11 s and a
    # 1 MiB chunk (the largest text chunk read) hours. The settings are still found after a huge prompt.
    for line in ("a" * (1 << 20), "x: " + "a b" * (1 << 18), 'k: "' + 'a, k: "' * (1 << 17)):
        assert parse_a1111("a prompt\n" + line).prompt.startswith("a prompt")
    found = parse_a1111("p" * (1 << 20) + '\nSteps: 20, Sampler: "Euler, a", Size: 512x768, Seed: 7')
    assert (found.steps, found.scheduler, found.width, found.height, found.seed) == (20, "Euler, a", 512, 768, 7)
