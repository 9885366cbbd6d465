"""Finding and naming models: family detection from folders and checkpoint headers, scanning the
models folders and the Hugging Face cache, and the catalog (add, remove, resolve, pickle refusal)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from model_files import FAMILY_KEYS, edit_json, family_checkpoint, save_tiny_sdxl, write_checkpoint

from studio.config import load_config
from studio.errors import InputError, ModelError, NotFound
from studio.generation.models import ModelCatalog, detect_model, read_safetensors_header, scan_models
from studio.generation.request import ModelFamily, ModelFormat


@pytest.fixture(scope="module")
def sdxl_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_sdxl(tmp_path_factory.mktemp("sdxl") / "tiny-sdxl")


@pytest.fixture
def demo_copy(demo_model_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "models" / "my-sd15"
    shutil.copytree(demo_model_dir, target)
    return target


# -- folders --------------------------------------------------------------------------------


def test_saved_demo_pipeline_is_an_sd1_diffusers_folder(demo_copy: Path) -> None:
    info = detect_model(demo_copy)
    assert (info.name, info.family, info.format, info.variant) == ("my-sd15", ModelFamily.SD1,
                                                                   ModelFormat.DIFFUSERS, "base")
    assert info.size_bytes > 0 and not info.is_pickle


def test_folder_family_follows_the_unet_cross_attention_width(demo_copy: Path) -> None:
    edit_json(demo_copy / "unet" / "config.json", cross_attention_dim=1024)
    assert detect_model(demo_copy).family is ModelFamily.SD2
    edit_json(demo_copy / "unet" / "config.json", cross_attention_dim=768)
    assert detect_model(demo_copy).family is ModelFamily.SD1


def test_tiny_sdxl_folder_is_sdxl_and_lcm_scheduler_makes_it_lcm(sdxl_dir: Path, tmp_path: Path) -> None:
    info = detect_model(sdxl_dir)
    assert (info.family, info.variant) == (ModelFamily.SDXL, "base")
    turbo = shutil.copytree(sdxl_dir, tmp_path / "sdxl-turbo")
    assert detect_model(turbo).variant == "turbo"
    lcm = shutil.copytree(sdxl_dir, tmp_path / "my-xl")
    edit_json(lcm / "scheduler" / "scheduler_config.json", _class_name="LCMScheduler")
    assert detect_model(lcm).variant == "lcm"


def test_unsupported_and_incomplete_folders_say_why(demo_copy: Path) -> None:
    (demo_copy / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(ModelError, match="incomplete.*vae"):
        detect_model(demo_copy)
    edit_json(demo_copy / "model_index.json", _class_name="FluxPipeline")
    with pytest.raises(ModelError, match="FluxPipeline.*does not support"):
        detect_model(demo_copy)
    (demo_copy / "model_index.json").write_text("{broken")
    with pytest.raises(ModelError, match="corrupt"):
        detect_model(demo_copy)
    # a model folder is outside data: a huge or deeply nested model_index.json is refused, quickly
    (demo_copy / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline", "x": "' + "a" * (2 << 20) + '"}')
    with pytest.raises(ModelError, match="corrupt"):
        detect_model(demo_copy)
    (demo_copy / "model_index.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelError, match="corrupt"):
        detect_model(demo_copy)
    with pytest.raises(InputError, match="model_index.json"):
        detect_model(demo_copy / "unet")
    with pytest.raises(NotFound):
        detect_model(demo_copy / "missing")


def test_folder_with_only_pickle_weights_is_marked_pickle(demo_copy: Path) -> None:
    weights = demo_copy / "unet" / "diffusion_pytorch_model.safetensors"
    weights.rename(weights.with_suffix(".bin"))
    assert detect_model(demo_copy).is_pickle


# -- single files ---------------------------------------------------------------------------


@pytest.mark.parametrize("family, expected", [("sd1", ModelFamily.SD1), ("sd2", ModelFamily.SD2),
                                              ("sdxl", ModelFamily.SDXL)])
def test_checkpoint_family_comes_from_its_key_names(tmp_path: Path, family: str, expected: ModelFamily) -> None:
    info = detect_model(family_checkpoint(tmp_path / f"model-{family}.safetensors", family))
    assert (info.family, info.format, info.variant) == (expected, ModelFormat.SINGLE_FILE, "base")
    assert info.name == f"model-{family}" and info.size_bytes == (tmp_path / f"model-{family}.safetensors").stat().st_size


def test_unet_only_checkpoint_uses_the_cross_attention_width(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "unet-only.safetensors",
                            {"model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": (8, 1024)})
    assert detect_model(path).family is ModelFamily.SD2


def test_variant_from_name_and_modelspec_metadata(tmp_path: Path) -> None:
    assert detect_model(family_checkpoint(tmp_path / "sd_xl_turbo_1.0.safetensors", "sdxl")).variant == "turbo"
    assert detect_model(family_checkpoint(tmp_path / "dreamshaper-LCM.safetensors", "sd1")).variant == "lcm"
    spec = family_checkpoint(tmp_path / "model.safetensors", "sdxl",
                             {"modelspec.architecture": "stable-diffusion-xl-v1-base", "modelspec.title": "SDXL Turbo"})
    assert (detect_model(spec).family, detect_model(spec).variant) == (ModelFamily.SDXL, "turbo")


def test_modelspec_architecture_is_honoured(tmp_path: Path) -> None:
    path = family_checkpoint(tmp_path / "odd.safetensors", "sd1", {"modelspec.architecture": "stable-diffusion-v2-768-v"})
    assert detect_model(path).family is ModelFamily.SD2
    lora = family_checkpoint(tmp_path / "style.safetensors", "sdxl",
                             {"modelspec.architecture": "stable-diffusion-xl-v1-base/lora"})
    with pytest.raises(ModelError, match="LoRA"):
        detect_model(lora)


def test_lora_file_is_refused_with_where_to_add_it(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "ink-style.safetensors",
                            {"lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": (4, 320),
                             "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight": (320, 4)})
    with pytest.raises(ModelError) as info:
        detect_model(path)
    assert "ink-style.safetensors is a LoRA" in info.value.message and "LoRA list" in str(info.value)


def test_other_architectures_are_named(tmp_path: Path) -> None:
    flux = write_checkpoint(tmp_path / "flux1-dev.safetensors", {"double_blocks.0.img_attn.proj.weight": (4, 4)})
    with pytest.raises(ModelError, match="FLUX"):
        detect_model(flux)
    sd3 = write_checkpoint(tmp_path / "sd3.safetensors", {"model.diffusion_model.joint_blocks.0.x.weight": (4, 4)})
    with pytest.raises(ModelError, match="Stable Diffusion 3"):
        detect_model(sd3)
    text = write_checkpoint(tmp_path / "clip.safetensors", {"text_model.embeddings.position_ids": (1, 77)})
    with pytest.raises(ModelError, match="part of a diffusers model"):
        detect_model(text)
    random = write_checkpoint(tmp_path / "other.safetensors", {"weight": (2, 2)})
    with pytest.raises(ModelError, match="not a Stable Diffusion checkpoint"):
        detect_model(random)


def test_truncated_and_garbage_safetensors_are_corrupt(tmp_path: Path) -> None:
    path = family_checkpoint(tmp_path / "cut.safetensors", "sd1")
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(ModelError, match="incomplete.*download"):
        detect_model(path)
    path.write_bytes(data[:20])
    with pytest.raises(ModelError, match="corrupt or incomplete"):
        detect_model(path)
    path.write_bytes(b"\x00" * 7)
    with pytest.raises(ModelError, match="corrupt or incomplete"):
        detect_model(path)
    path.write_bytes(b"PK\x03\x04 this is a zip, not safetensors" * 10)
    with pytest.raises(ModelError, match="corrupt or incomplete"):
        read_safetensors_header(path)


def test_pickle_files_are_detected_by_name_without_opening_them(tmp_path: Path) -> None:
    (tmp_path / "v1-5-pruned.ckpt").write_bytes(b"not even a pickle")
    (tmp_path / "sd_xl_base.ckpt").write_bytes(b"x")
    (tmp_path / "v2-1_768.ckpt").write_bytes(b"x")
    assert [(i.family, i.is_pickle) for i in map(detect_model, sorted(tmp_path.iterdir()))] == [
        (ModelFamily.SDXL, True), (ModelFamily.SD1, True), (ModelFamily.SD2, True)]


# -- scanning -------------------------------------------------------------------------------


def test_scan_finds_folders_and_files_a_few_levels_deep_and_skips_with_reasons(
        demo_copy: Path, tmp_path: Path) -> None:
    models = demo_copy.parent
    family_checkpoint(models / "sdxl" / "juggernaut.safetensors", "sdxl")
    family_checkpoint(models / "a" / "b" / "deep-sd2.safetensors", "sd2")
    family_checkpoint(models / "a" / "b" / "c" / "too-deep.safetensors", "sd1")
    write_checkpoint(models / "loras" / "ink.safetensors", {"lora_unet_x.lora_down.weight": (2, 2)})
    (models / "notes.txt").write_text("not a model")
    (models / ".hidden.safetensors").write_bytes(b"")
    result = scan_models([models, tmp_path / "nonexistent"], include_hf_cache=False)
    assert [m.name for m in result.models] == ["deep-sd2", "juggernaut", "my-sd15"]
    assert [(p.name, "LoRA" in why) for p, why in result.skipped] == [("ink.safetensors", True)]


def test_a_controlnet_folder_beside_the_models_is_neither_a_model_nor_a_skipped_file(demo_copy: Path) -> None:
    controlnet = demo_copy.parent / "controlnets" / "canny"
    write_checkpoint(controlnet / "diffusion_pytorch_model.safetensors", {"down_blocks.0.weight": (2, 2)})
    (controlnet / "config.json").write_text('{"_class_name": "ControlNetModel"}')
    vae = demo_copy.parent / "vae-folder"
    write_checkpoint(vae / "diffusion_pytorch_model.safetensors", {"down_blocks.0.weight": (2, 2)})
    (vae / "config.json").write_text('{"_class_name": "UNet2DConditionModel"}')
    result = scan_models([demo_copy.parent], include_hf_cache=False)
    assert [m.name for m in result.models] == ["my-sd15"]
    assert [p.parent.name for p, _why in result.skipped] == ["vae-folder"]  # other parts are still said


def test_scan_does_not_look_inside_a_diffusers_folder(demo_copy: Path) -> None:
    family_checkpoint(demo_copy / "extra" / "inside.safetensors", "sd1")
    result = scan_models([demo_copy.parent], include_hf_cache=False)
    assert [m.name for m in result.models] == ["my-sd15"] and result.skipped == ()


def fake_hub(cache: Path, repo_id: str, source: Path, *, with_ref: bool = True) -> Path:
    """A Hugging Face cache entry laid out like huggingface_hub's (blobs linked from a snapshot)."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / "0123abcd"
    for file in source.rglob("*"):
        if file.is_file():
            blob = repo / "blobs" / f"{abs(hash(str(file))):x}"
            blob.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, blob)
            link = snapshot / file.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(blob)
    if with_ref:
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text("0123abcd")
    return snapshot


def test_hf_cache_is_scanned_where_the_environment_points(demo_model_dir: Path, sdxl_dir: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    hub = tmp_path / "hf" / "hub"
    fake_hub(hub, "someone/tiny-sd", demo_model_dir)
    fake_hub(hub, "stabilityai/sdxl-turbo", sdxl_dir, with_ref=False)
    (hub / "models--bert--base" / "snapshots" / "1").mkdir(parents=True)  # not a diffusers repo: ignored
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    result = scan_models([], include_hf_cache=True)
    assert [(m.name, m.family, m.variant) for m in result.models] == [
        ("someone/tiny-sd", ModelFamily.SD1, "base"), ("stabilityai/sdxl-turbo", ModelFamily.SDXL, "turbo")]
    assert result.models[0].path.parent.name == "snapshots"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "elsewhere"))
    assert scan_models([], include_hf_cache=True).models == ()
    assert scan_models([], include_hf_cache=False).models == ()


# -- the catalog ----------------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    return load_config()


def test_catalog_offers_the_demo_first_without_building_it(config) -> None:
    catalog = ModelCatalog(config)
    models = catalog.models()
    assert [m.name for m in models] == ["demo"] and models[0].is_demo
    assert not config.paths.demo_model_dir.exists()
    assert not catalog.has_user_models and catalog.skipped == ()


def test_catalog_lists_the_models_folder_and_refreshes(config, demo_model_dir: Path) -> None:
    catalog = ModelCatalog(config)
    assert not catalog.has_user_models
    shutil.copytree(demo_model_dir, config.paths.models_dir / "mine")
    assert not catalog.has_user_models  # the scan is kept until refreshed
    catalog.refresh()
    assert [m.name for m in catalog.models()] == ["demo", "mine"] and catalog.has_user_models
    assert catalog.resolve("mine").path == config.paths.models_dir / "mine"
    assert catalog.resolve("MINE").name == "mine"


def test_added_models_persist_across_catalogs_and_can_be_removed(config, tmp_path: Path) -> None:
    path = family_checkpoint(tmp_path / "elsewhere" / "realistic.safetensors", "sd1")
    info = ModelCatalog(config).add(path)
    assert info.name == "realistic" and info.family is ModelFamily.SD1
    saved = json.loads((config.paths.data_dir / "added-models.json").read_text())
    assert saved["paths"] == [str(path)]
    again = ModelCatalog(load_config())
    assert [m.name for m in again.models()] == ["demo", "realistic"]
    assert again.resolve("realistic") == info
    again.remove("realistic")
    assert [m.name for m in ModelCatalog(load_config()).models()] == ["demo"]
    with pytest.raises(NotFound):
        again.remove("realistic")


def test_adding_a_bad_file_raises_and_remembers_nothing(config, tmp_path: Path) -> None:
    lora = write_checkpoint(tmp_path / "lora.safetensors", {"lora_unet_a.lora_down.weight": (2, 2)})
    with pytest.raises(ModelError, match="LoRA"):
        ModelCatalog(config).add(lora)
    with pytest.raises(NotFound):
        ModelCatalog(config).add(tmp_path / "missing.safetensors")
    assert not (config.paths.data_dir / "added-models.json").exists()


def test_added_model_that_disappears_is_skipped_with_reason(config, tmp_path: Path) -> None:
    path = family_checkpoint(tmp_path / "gone.safetensors", "sd1")
    ModelCatalog(config).add(path)
    path.unlink()
    catalog = ModelCatalog(config)
    assert [m.name for m in catalog.models()] == ["demo"]
    assert [(p, "no longer there" in why) for p, why in catalog.skipped] == [(path, True)]


def test_models_folder_entries_cannot_be_removed_only_moved(config) -> None:
    family_checkpoint(config.paths.models_dir / "kept.safetensors", "sd1")
    with pytest.raises(InputError, match="models folder"):
        ModelCatalog(config).remove("kept")


def test_resolve_names_demo_paths_and_unknown_models(config, tmp_path: Path) -> None:
    family_checkpoint(config.paths.models_dir / "listed.safetensors", "sdxl")
    catalog = ModelCatalog(config)
    path = family_checkpoint(tmp_path / "by-path.safetensors", "sd2")
    assert catalog.resolve(str(path)).family is ModelFamily.SD2
    with pytest.raises(NotFound) as info:
        catalog.resolve("no-such-model")
    assert "no-such-model" in info.value.message and "demo, listed" in str(info.value)
    with pytest.raises(NotFound, match="There is no model at"):
        catalog.resolve(str(tmp_path / "missing.safetensors"))


def test_resolve_demo_builds_it_once(config, demo_model_dir: Path) -> None:
    shutil.copytree(demo_model_dir, config.paths.demo_model_dir)
    info = ModelCatalog(config).resolve("demo")
    assert info.is_demo and info.path == config.paths.demo_model_dir and info.size_bytes > 0


def test_pickle_is_refused_with_the_reason_until_allowed(config, tmp_path: Path) -> None:
    checkpoint = config.paths.models_dir / "old-model.ckpt"
    checkpoint.write_bytes(b"pickle bytes")
    catalog = ModelCatalog(config)
    assert [m.name for m in catalog.models()] == ["demo"]
    assert [(p.name, "arbitrary code" in why and "Settings" in why) for p, why in catalog.skipped] == [
        ("old-model.ckpt", True)]
    with pytest.raises(InputError, match="arbitrary code"):
        catalog.resolve("old-model")
    other = tmp_path / "other.ckpt"
    other.write_bytes(b"x")
    for attempt in (lambda: catalog.add(other), lambda: catalog.resolve(str(other))):
        with pytest.raises(InputError) as info:
            attempt()
        assert "arbitrary code" in info.value.message and "Allow pickle checkpoints" in info.value.hint
    config.set("allow_pickle_checkpoints", True)
    catalog.refresh()
    assert [m.name for m in catalog.models()] == ["demo", "old-model"] and catalog.skipped == ()
    assert catalog.resolve("old-model").is_pickle
    assert catalog.add(other).is_pickle


def test_same_names_are_made_unique(config, tmp_path: Path) -> None:
    family_checkpoint(config.paths.models_dir / "a" / "model.safetensors", "sd1")
    family_checkpoint(config.paths.models_dir / "b" / "model.safetensors", "sdxl")
    family_checkpoint(config.paths.models_dir / "demo.safetensors", "sd1")
    names = [m.name for m in ModelCatalog(config).models()]
    assert names == ["demo", "demo-2", "model", "model-2"]
