"""PNG Info ("Send to Create") from studio works and A1111, ComfyUI and InvokeAI files; prompt styles
and the prompt history."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from studio.errors import InputError, NotFound
from studio.generation.engine import Engine
from studio.generation.request import GenerationRequest, HiresFix
from studio.generation.schedulers import sampler_from_name
from studio.provenance.png_text import write_png
from studio.workflows.pnginfo import read_parameters
from studio.workflows.prompt_library import (PromptStyle, apply_style, delete_style, find_style, load_styles,
                                             prompt_history, record_prompt, save_style)

A1111 = ("a lighthouse, (oil painting:1.2)\nNegative prompt: blurry\n"
         "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 314, Size: 512x768, "
         "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Clip skip: 2, Denoising strength: 0.4, "
         "Hires upscale: 2, Hires steps: 10, Hires upscaler: Latent, Variation seed: 9, "
         "Variation seed strength: 0.25, Version: v1.10.1")

COMFY = {"3": {"class_type": "KSampler", "inputs": {
    "seed": 5, "steps": 20, "cfg": 8, "sampler_name": "dpmpp_2m_sde", "scheduler": "karras", "denoise": 1,
    "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 640, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "glass bottle", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text", "clip": ["4", 1]}}}


def png(tmp_path: Path, name: str, chunks: dict[str, str]) -> Path:
    path = tmp_path / name
    write_png(Image.new("RGB", (8, 8)), path, chunks)
    return path


@pytest.mark.parametrize("name, schedule, expected", [
    ("DPM++ 2M Karras", None, ("dpmpp_2m", "karras")), ("DPM++ 2M", "Karras", ("dpmpp_2m", "karras")),
    ("Euler a", None, ("euler_a", "default")), ("euler_ancestral", "karras", ("euler_a", "default")),
    ("dpmpp_2m_sde", "karras", ("dpmpp_2m_sde", "karras")), ("uni_pc", "normal", ("unipc", "default")),
    ("dpmpp_2m_k", None, ("dpmpp_2m", "karras")), ("kdpm_2_a", None, ("dpm2_a", "default")),
    ("LMS Exponential", None, ("lms", "exponential")), ("Restart", None, None),
])
def test_other_tools_sampler_names_map_to_the_studios(name: str, schedule: str | None, expected) -> None:
    assert sampler_from_name(name, schedule) == expected


def test_a1111_parameters_fill_a_request_with_schedule_clip_skip_hires_and_variation(tmp_path: Path) -> None:
    info = read_parameters(png(tmp_path, "a1111.png", {"parameters": A1111}))
    assert info.source == "a1111" and info.fields["seed"] == 314
    request = info.request
    assert request is not None
    assert (request.prompt, request.negative_prompt) == ("a lighthouse, (oil painting:1.2)", "blurry")
    assert (request.scheduler, request.sigmas, request.steps, request.guidance) == ("dpmpp_2m", "karras", 28, 6.5)
    assert (request.width, request.height, request.seed, request.clip_skip) == (512, 768, 314, 2)
    assert request.hires == HiresFix(scale=2.0, upscaler="latent", steps=10, denoise=0.4)
    assert (request.variation_seed, request.variation_strength) == (9, 0.25)
    assert request.model == "v1-5-pruned-emaonly"


def test_comfyui_and_invokeai_files_fill_a_request(tmp_path: Path) -> None:
    comfy = read_parameters(png(tmp_path, "comfy.png", {"prompt": json.dumps(COMFY)})).request
    assert comfy is not None
    assert (comfy.prompt, comfy.scheduler, comfy.sigmas, comfy.height) == ("glass bottle", "dpmpp_2m_sde", "karras", 640)
    invoke = {"positive_prompt": "a cat", "negative_prompt": "dog", "seed": 3, "steps": 12, "cfg_scale": 5,
              "scheduler": "dpmpp_2m_k", "width": 512, "height": 512, "model": {"name": "sd15"}}
    request = read_parameters(png(tmp_path, "invoke.png", {"invokeai_metadata": json.dumps(invoke)})).request
    assert request is not None and (request.prompt, request.scheduler, request.sigmas) == ("a cat", "dpmpp_2m", "karras")


def test_what_cannot_be_taken_is_said_in_notes(tmp_path: Path, demo_catalog) -> None:
    info = read_parameters(png(tmp_path, "odd.png", {"parameters": A1111.replace("DPM++ 2M", "Restart")}),
                           catalog=demo_catalog)
    assert info.request is not None and info.request.model == "demo" and info.request.scheduler == "euler"
    assert any("Restart" in note for note in info.notes)
    assert any("v1-5-pruned-emaonly" in note for note in info.notes)
    plain = read_parameters(png(tmp_path, "plain.png", {}))
    assert plain.source == "none" and plain.request is None


def test_a_studio_work_sends_its_whole_request_back(engine: Engine, tmp_path: Path, demo_catalog) -> None:
    from studio.workflows.generate import generate_works

    original = GenerationRequest(prompt="a (red:1.3) fox", negative_prompt="text", width=64, height=64, steps=2,
                                 seed=3, scheduler="dpmpp_2m", sigmas="karras", clip_skip=2,
                                 hires=HiresFix(scale=1.5, steps=2, denoise=0.5), variation_seed=4,
                                 variation_strength=0.2)
    work = generate_works(original, engine, tmp_path / "works", library=None, c2pa=None)[0]
    info = read_parameters(work.path, catalog=demo_catalog)
    assert info.source == "studio" and info.notes == ()
    assert info.request is not None
    engine_again = engine.generate(info.request)[0]
    with Image.open(work.path) as saved:
        assert engine_again.image.tobytes() == saved.convert("RGB").tobytes()


def test_a_controlled_work_sends_back_the_units_whose_models_are_here_without_pictures(
        engine: Engine, tmp_path: Path, demo_catalog, demo_model_dir: Path) -> None:
    import sys

    from studio.generation.request import ControlUnit
    from studio.workflows.generate import generate_works

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generation"))
    from tiny_control import tiny_controlnet

    here, elsewhere = tmp_path / "models", tmp_path / "elsewhere"
    kept, gone = tiny_controlnet(demo_model_dir, here, seed=1), tiny_controlnet(demo_model_dir, elsewhere, seed=2)
    picture = Image.new("RGB", (64, 64), "white")
    units = (ControlUnit(model=kept, image=picture, preprocessor="canny", weight=0.7, start=0.1, end=0.9,
                         low_threshold=40, high_threshold=90),
             ControlUnit(model=gone, image=picture, preprocessor="tile"))
    request = GenerationRequest(prompt="a fox", width=64, height=64, steps=2, seed=3, control=units)
    work = generate_works(request, engine, tmp_path / "works", library=None, c2pa=None)[0]
    info = read_parameters(work.path, catalog=demo_catalog, weights=[here])
    assert info.request is not None
    (unit,) = info.request.control
    assert (unit.model, unit.image, unit.preprocessor, unit.weight, unit.start, unit.end) == (
        kept, None, "canny", 0.7, 0.1, 0.9)
    assert (unit.low_threshold, unit.high_threshold) == (40, 90)
    assert any("controlnet-tiny-2" in note and "left out" in note for note in info.notes)
    assert any("choose each unit's picture again" in note for note in info.notes)


def test_styles_are_saved_applied_replaced_and_deleted(studio_home: Path) -> None:
    assert load_styles() == []
    save_style(PromptStyle("ink", "{prompt}, ink drawing", "color"))
    save_style(PromptStyle("film", "35mm film"))
    assert [s.name for s in load_styles()] == ["ink", "film"]
    assert apply_style("a fox", "blurry", find_style("ink")) == ("a fox, ink drawing", "blurry, color")
    assert apply_style("a fox", "", find_style("film")) == ("a fox, 35mm film", "")
    save_style(PromptStyle("ink", "{prompt} in ink"))
    assert apply_style("a fox", "", find_style("ink")) == ("a fox in ink", "")
    assert [s.name for s in delete_style("ink")] == ["film"]
    with pytest.raises(NotFound):
        find_style("ink")
    with pytest.raises(InputError, match="neither a prompt"):
        save_style(PromptStyle("empty"))


def test_the_history_keeps_recent_prompts_once_newest_first(studio_home: Path, tmp_path: Path) -> None:
    record_prompt("a fox", "blurry")
    record_prompt("a cat")
    record_prompt("a fox", "blurry")
    record_prompt("   ")
    assert [(e.prompt, e.negative_prompt) for e in prompt_history()] == [("a fox", "blurry"), ("a cat", "")]
    for index in range(210):
        record_prompt(f"prompt {index}", data_dir=tmp_path)
    history = prompt_history(tmp_path)
    assert len(history) == 200 and history[0].prompt == "prompt 209"
    (tmp_path / "prompt-history.json").write_text("{not json")
    assert prompt_history(tmp_path) == []
    assert any(p.name.startswith("prompt-history.json.damaged-") for p in tmp_path.iterdir())


def test_generating_records_the_prompt(engine: Engine, tmp_path: Path, studio_home: Path) -> None:
    from studio.workflows.generate import generate_works

    generate_works(GenerationRequest(prompt="a heron", width=64, height=64, steps=1, seed=1), engine,
                   tmp_path / "works", library=None, c2pa=None)
    assert prompt_history()[0].prompt == "a heron"
