"""The generation engine on the real demo pipeline at 64x64: pixels, seeds, modes, progress,
cancel, bad input, out-of-memory and LoRAs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.cancel import CancelToken
from studio.errors import Cancelled, InputError, ModelError, NotFound
from studio.generation.engine import Engine, image_sha256
from studio.generation.request import GenerationProgress, GenerationRequest, GenerationResult, LoraSpec


def small(**fields) -> GenerationRequest:
    values = dict(prompt="a red fox in the snow", width=64, height=64, steps=2, seed=7)
    values.update(fields)
    return GenerationRequest(**values)


def pixels(result: GenerationResult) -> np.ndarray:
    return np.asarray(result.image)


def test_same_seed_gives_identical_pixels_across_engines(engine: Engine, demo_catalog, tmp_path: Path) -> None:
    first = engine.generate(small())[0]
    other = Engine(demo_catalog, hash_cache=tmp_path / "hashes.json")
    second = other.generate(small())[0]
    assert first.image.size == (64, 64)
    assert np.array_equal(pixels(first), pixels(second))
    assert first.recipe == second.recipe
    assert not np.array_equal(pixels(first), pixels(engine.generate(small(seed=8))[0]))


def test_batch_uses_seed_plus_index_and_reports_each_image(engine: Engine) -> None:
    finished: list[int] = []
    results = engine.generate(small(seed=100, count=3), on_result=lambda r: finished.append(r.recipe.seed))
    assert [r.recipe.seed for r in results] == [100, 101, 102] == finished
    alone = engine.generate(small(seed=101))[0]
    assert np.array_equal(pixels(results[1]), pixels(alone))


def test_random_seed_is_chosen_and_recorded(engine: Engine) -> None:
    result = engine.generate(small(seed=None))[0]
    assert 0 <= result.recipe.seed < 2**32
    assert np.array_equal(pixels(result), pixels(engine.generate(small(seed=result.recipe.seed))[0]))


def test_recipe_is_complete(engine: Engine) -> None:
    recipe = engine.generate(small(negative_prompt="blurry", guidance=5.5, scheduler="euler_a"))[0].recipe
    assert recipe.prompt == "a red fox in the snow" and recipe.negative_prompt == "blurry"
    assert recipe.model_name == "demo" and recipe.model_family == "sd1"
    assert len(recipe.model_hash) == 64 and int(recipe.model_hash, 16) >= 0
    assert (recipe.steps, recipe.guidance, recipe.width, recipe.height) == (2, 5.5, 64, 64)
    assert recipe.scheduler == "euler_a" and recipe.mode == "txt2img"
    assert (recipe.device, recipe.dtype) == ("cpu", "float32")
    assert recipe.generator.startswith("provenance-studio ")
    assert engine.device_label == "CPU (fp32)"
    assert engine.loaded_model is not None and engine.loaded_model.name == "demo"


def test_samplers_change_the_image(engine: Engine) -> None:
    euler = pixels(engine.generate(small(steps=3))[0])
    ddim = pixels(engine.generate(small(steps=3, scheduler="ddim"))[0])
    assert not np.array_equal(euler, ddim)
    assert np.array_equal(euler, pixels(engine.generate(small(steps=3, scheduler="euler"))[0]))


def test_image_to_image_and_inpaint_record_their_inputs(engine: Engine) -> None:
    init = engine.generate(small(seed=1))[0].image
    img2img = engine.generate(small(init_image=init, strength=0.5, steps=4))[0]
    assert img2img.image.size == (64, 64)
    assert img2img.recipe.mode == "img2img" and img2img.recipe.strength == 0.5
    assert img2img.recipe.init_image_hash == image_sha256(init) and img2img.recipe.mask_hash is None

    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    inpaint = engine.generate(small(init_image=init, mask_image=mask, strength=0.9, steps=4))[0]
    assert inpaint.recipe.mode == "inpaint" and inpaint.recipe.mask_hash == image_sha256(mask)
    change = np.abs(pixels(inpaint).astype(int) - np.asarray(init).astype(int)).mean(axis=2)
    inside = change[16:48, 16:48].mean()
    outside = np.concatenate([change[:12].ravel(), change[52:].ravel()]).mean()
    assert inside > 2 * outside  # the masked square is repainted, the rest kept (up to the VAE round trip)


def test_progress_reports_every_step_with_eta_and_previews(engine: Engine) -> None:
    events: list[GenerationProgress] = []
    engine.generate(small(steps=4, count=2), progress=events.append, preview_every=2)
    assert [(e.image_index, e.step) for e in events] == [(i, s) for i in range(2) for s in range(1, 5)]
    assert all(e.steps == 4 and e.image_count == 2 for e in events)
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert all(b.elapsed_s >= a.elapsed_s for a, b in zip(events, events[1:]))
    assert events[3].eta_s is not None and events[-1].eta_s == 0
    previews = [(e.step, e.preview.size) for e in events if e.preview is not None]
    assert previews == [(2, (8, 8)), (2, (8, 8))]  # every 2 steps, not at the last (the image comes then)


def test_cancel_stops_within_one_step_and_keeps_finished_images(engine: Engine) -> None:
    token = CancelToken()
    steps_after_cancel = 0
    finished: list[GenerationResult] = []

    def progress(event: GenerationProgress) -> None:
        nonlocal steps_after_cancel
        if token.cancelled:
            steps_after_cancel += 1
        if event.image_index == 1 and event.step == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        engine.generate(small(steps=10, count=3), progress=progress, cancel=token, on_result=finished.append)
    assert steps_after_cancel == 0
    assert [r.recipe.seed for r in finished] == [7]
    # The engine is usable afterwards, with the same pixels as before.
    again = engine.generate(small(steps=10))[0]
    assert np.array_equal(pixels(again), pixels(finished[0]))


def test_cancelled_before_start_runs_nothing(engine: Engine) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        engine.generate(small(), cancel=token, progress=lambda e: pytest.fail("no step should run"))


@pytest.mark.parametrize("fields, error, words", [
    (dict(width=100), InputError, "96 or 104"),
    (dict(height=130), InputError, "128 or 136"),
    (dict(height=60), InputError, "Use 64."),
    (dict(width=32), InputError, "64"),
    (dict(steps=0), InputError, "steps"),
    (dict(guidance=-1.0), InputError, "guidance"),
    (dict(count=0), InputError, "images"),
    (dict(scheduler="heun_pp"), InputError, "Unknown sampler"),
    (dict(scheduler="lcm"), InputError, "LCM"),
    (dict(model="no-such-model"), NotFound, "no-such-model"),
    (dict(loras=(LoraSpec(Path("/nowhere/style.safetensors")),)), NotFound, "style.safetensors"),
])
def test_bad_requests_are_refused_before_any_work(engine: Engine, fields: dict, error: type, words: str) -> None:
    with pytest.raises(error) as info:
        engine.validate(small(**fields))
    assert words in str(info.value)


def test_mask_must_match_the_image_and_needs_one(engine: Engine) -> None:
    init = Image.new("RGB", (64, 64))
    with pytest.raises(InputError, match="32x32"):
        engine.validate(small(init_image=init, mask_image=Image.new("L", (32, 32))))
    with pytest.raises(InputError, match="mask"):
        engine.validate(small(mask_image=Image.new("L", (64, 64))))
    with pytest.raises(InputError, match="strength"):
        engine.validate(small(init_image=init, strength=0.0))


def test_pickle_lora_is_refused(engine: Engine, tmp_path: Path) -> None:
    ckpt = tmp_path / "style.ckpt"
    ckpt.write_bytes(b"not loaded")
    with pytest.raises(InputError, match="safetensors"):
        engine.validate(small(loras=(LoraSpec(ckpt),)))


def test_long_prompt_is_truncated_with_a_warning_naming_the_dropped_words(engine: Engine) -> None:
    prompt = " ".join(["cat"] * 80) + " zebra"
    assert engine.generate(small(prompt=prompt))[0].warnings == ()  # the A1111 syntax reads every chunk
    result = engine.generate(small(prompt=prompt, prompt_syntax="plain"))[0]
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert "81 tokens" in warning and "first 75" in warning and "zebra" in warning
    assert engine.generate(small())[0].warnings == ()


def test_out_of_memory_becomes_advice(demo_catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    engine = Engine(demo_catalog, hash_cache=tmp_path / "hashes.json")
    engine.generate(small())
    unet = engine._pipes[next(iter(engine._pipes))].unet

    def exhausted(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(unet, "forward", exhausted)
    with pytest.raises(ModelError) as info:
        engine.generate(small())
    assert "out of memory" in info.value.message.lower()
    assert "smaller size" in str(info.value) and "Memory saving" in str(info.value)


def test_model_is_hashed_once_per_load_and_unload_frees_it(demo_catalog, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.generation.hashing as hashing

    calls: list[str] = []
    real = hashing.model_hash
    monkeypatch.setattr(hashing, "model_hash", lambda info, cache: calls.append(info.name) or real(info, cache))
    engine = Engine(demo_catalog, hash_cache=tmp_path / "hashes.json")
    engine.generate(small())
    engine.generate(small(seed=9))
    assert calls == ["demo"]
    engine.unload()
    assert engine.loaded_model is None
    engine.generate(small())
    assert calls == ["demo", "demo"] and engine.loaded_model is not None


@pytest.fixture(scope="module")
def lora_file(demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real LoRA for the demo unet: random peft adapters saved in diffusers' LoRA format."""
    import torch
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe = StableDiffusionPipeline.from_pretrained(demo_model_dir, local_files_only=True)
    torch.manual_seed(0)
    pipe.unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                                     target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(pipe.unet))
    folder = tmp_path_factory.mktemp("lora")
    StableDiffusionPipeline.save_lora_weights(folder, unet_lora_layers=layers, weight_name="style.safetensors")
    return folder / "style.safetensors"


def test_lora_changes_pixels_and_weight_zero_does_not(engine: Engine, lora_file: Path) -> None:
    import hashlib

    plain = pixels(engine.generate(small())[0])
    styled = engine.generate(small(loras=(LoraSpec(lora_file, 1.0),)))[0]
    assert not np.array_equal(plain, pixels(styled))
    assert styled.recipe.loras == (("style.safetensors", hashlib.sha256(lora_file.read_bytes()).hexdigest(), 1.0),)
    off = engine.generate(small(loras=(LoraSpec(lora_file, 0.0),)))[0]
    assert np.array_equal(plain, pixels(off))
    again = engine.generate(small(loras=(LoraSpec(lora_file, 1.0),)))[0]
    assert np.array_equal(pixels(styled), pixels(again))
    # Dropping the LoRA restores the plain model.
    assert np.array_equal(plain, pixels(engine.generate(small())[0]))


def _square_mask(size: int = 64, box: tuple[int, int, int, int] = (16, 16, 40, 40)) -> Image.Image:
    mask = Image.new("L", (size, size), 0)
    mask.paste(255, box)
    return mask


def test_inpaint_keeps_the_unmasked_area_exactly_and_feathers_the_edge(engine: Engine) -> None:
    """Outside the mask (and its feather) the original pixels come back unchanged; the mask's
    inside is repainted; the blur makes a soft edge; the options are in the recipe."""
    init = engine.generate(small(seed=1))[0].image
    mask = _square_mask()
    result = engine.generate(small(init_image=init, mask_image=mask, strength=0.9, steps=4, mask_blur=4))[0]
    change = np.abs(pixels(result).astype(int) - np.asarray(init).astype(int)).mean(axis=2)
    far = np.ones((64, 64), bool)
    far[16 - 12:40 + 12, 16 - 12:40 + 12] = False   # the square grown by three blur radii
    assert change[far].mean() < 0.01                # ~0/255 outside (it was 28.8 with the VAE round trip)
    assert change[20:36, 20:36].mean() > 5          # the masked square is repainted
    edge = change[28, 38:46]                        # across the square's right edge, inside to outside
    assert edge[0] > edge[-1] and 0 < change[28, 42] < change[28, 36]  # a gradient, not a cut
    recipe = result.recipe
    assert (recipe.mask_blur, recipe.inpaint_area, recipe.inpaint_padding) == (4, "whole", 32)


def test_only_masked_inpaints_a_padded_crop_at_full_resolution_and_pastes_it_back(engine: Engine) -> None:
    init = engine.generate(small(seed=2))[0].image
    mask = _square_mask(box=(40, 8, 56, 24))       # a small corner area
    result = engine.generate(small(init_image=init, mask_image=mask, strength=0.9, steps=4, mask_blur=2,
                                   inpaint_area="masked", inpaint_padding=8))[0]
    change = np.abs(pixels(result).astype(int) - np.asarray(init).astype(int)).mean(axis=2)
    outside = np.ones((64, 64), bool)
    outside[8 - 8:24 + 8, 40 - 8:56 + 8] = False
    assert change[outside].mean() < 0.01 and change[10:22, 42:54].mean() > 5
    assert (result.recipe.inpaint_area, result.recipe.inpaint_padding, result.recipe.mask_blur) == ("masked", 8, 2)
    whole = engine.generate(small(init_image=init, mask_image=mask, strength=0.9, steps=4, mask_blur=2))[0]
    assert pixels(whole).tobytes() != pixels(result).tobytes()  # the crop was painted at 64x64, not 16x16


def test_an_inpainted_work_reproduces_to_identical_pixels_from_its_recipe(engine: Engine) -> None:
    """What the recipe records (blur, area, padding) is all a rerun with the same inputs needs."""
    from studio.workflows.recipes import request_from_recipe

    init = engine.generate(small(seed=3))[0].image
    mask = _square_mask(box=(8, 30, 30, 60))
    made = engine.generate(small(init_image=init, mask_image=mask, strength=0.8, steps=3, mask_blur=6,
                                 inpaint_area="masked", inpaint_padding=12, seed=None))[0]
    again = engine.generate(request_from_recipe(made.recipe, inputs={"init": init, "mask": mask}))[0]
    assert pixels(again).tobytes() == pixels(made).tobytes()


@pytest.mark.parametrize("fields, words", [
    ({"mask_blur": -1}, "mask blur"), ({"mask_blur": 300}, "mask blur"),
    ({"inpaint_area": "corner"}, "inpaint area"), ({"inpaint_padding": -4}, "padding")])
def test_bad_inpaint_options_are_refused_before_any_work(engine: Engine, fields: dict, words: str) -> None:
    init = Image.new("RGB", (64, 64), (10, 20, 30))
    with pytest.raises(InputError, match=words):
        engine.validate(small(init_image=init, mask_image=_square_mask(), **fields))
