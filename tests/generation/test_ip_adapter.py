"""IP-Adapter through the engine, with a tiny real adapter built for the demo model (no download)."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.errors import InputError, ModelError
from studio.generation.engine import Engine, image_sha256
from studio.generation.request import GenerationMode, GenerationRequest, IpAdapterSpec
from tiny_ip_adapter import build_tiny_ip_adapter, ip_adapter_state


@pytest.fixture(scope="module")
def adapter(demo_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> IpAdapterSpec:
    path = build_tiny_ip_adapter(tmp_path_factory.mktemp("ip-adapter") / "IP-Adapter", demo_model_dir)
    return IpAdapterSpec(path, path.parent / "image_encoder", family="sd1")


@pytest.fixture(scope="module")
def reference() -> Image.Image:
    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(0, 255, (48, 40, 3), dtype=np.uint8), "RGB")


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"), dtype=np.int16)


def request(**changes) -> GenerationRequest:
    base = GenerationRequest(prompt="a fox astronaut", seed=5, steps=2, width=64, height=64)
    return replace(base, **changes)


def test_adapter_changes_the_image_and_unloading_restores_plain_pixels(engine: Engine, adapter, reference,
                                                                       demo_catalog, tmp_path: Path) -> None:
    plain = engine.generate(request())[0]
    guided = engine.generate(request(ip_adapter=adapter, ip_adapter_image=reference))[0]
    assert np.abs(pixels(guided.image) - pixels(plain.image)).max() > 10
    rescaled = engine.generate(request(ip_adapter=adapter, ip_adapter_scale=0.0, ip_adapter_image=reference))[0]
    assert np.abs(pixels(rescaled.image) - pixels(guided.image)).max() > 0

    after = engine.generate(request())[0]
    fresh = Engine(demo_catalog, hash_cache=tmp_path / "hashes.json").generate(request())[0]
    assert np.array_equal(pixels(after.image), pixels(plain.image))
    assert np.array_equal(pixels(after.image), pixels(fresh.image))
    assert after.recipe.ip_adapter is None and after.recipe.ip_adapter_image_hash is None


def test_recipe_and_manifest_record_the_adapter_and_the_reference(engine: Engine, adapter, reference,
                                                                  tmp_path: Path) -> None:
    from studio.generation.hashing import file_sha256
    from studio.provenance.embed import PROVENANCE_KEY
    from studio.provenance.manifest import SignedManifest
    from studio.provenance.png_text import read_png_text
    from studio.workflows.generate import generate_works, read_recipe

    works = generate_works(request(ip_adapter=adapter, ip_adapter_scale=0.7, ip_adapter_image=reference),
                           engine, tmp_path / "works", c2pa=None, library=None)
    recipe = works[0].recipe
    sha = file_sha256(adapter.path)
    assert recipe.ip_adapter == (adapter.name, sha, 0.7)
    assert recipe.ip_adapter_image_hash == image_sha256(reference)
    manifest = SignedManifest.from_json(read_png_text(works[0].path)[PROVENANCE_KEY]).manifest
    assert [(a.name, a.sha256, a.weight) for a in manifest.adapters] == [(adapter.name, sha, 0.7)]
    assert [(p.role, p.sha256) for p in manifest.parents] == [("ip_adapter", image_sha256(reference))]
    assert read_recipe(works[0].path) == recipe
    assert json.loads(json.dumps(recipe.to_dict()))["ip_adapter"] == {"name": adapter.name, "sha256": sha,
                                                                      "scale": 0.7}


def test_adapter_guides_image_to_image_too(engine: Engine, adapter, reference) -> None:
    init = reference.resize((64, 64))
    plain = engine.generate(request(init_image=init, strength=1.0))[0]
    guided = engine.generate(request(init_image=init, strength=1.0, ip_adapter=adapter,
                                     ip_adapter_image=reference))[0]
    assert guided.recipe.mode == GenerationMode.IMAGE_TO_IMAGE.value
    assert guided.recipe.init_image_hash == image_sha256(init)
    assert np.abs(pixels(guided.image) - pixels(plain.image)).max() > 10
    again = engine.generate(request(init_image=init, strength=1.0))[0]
    assert np.array_equal(pixels(again.image), pixels(plain.image))


def test_missing_image_encoder_is_a_model_error_before_loading(engine: Engine, demo_model_dir: Path,
                                                               reference, tmp_path: Path) -> None:
    path = build_tiny_ip_adapter(tmp_path / "bare", demo_model_dir, with_encoder=False)
    for encoder in (None, path.parent / "image_encoder"):
        spec = IpAdapterSpec(path, encoder)
        with pytest.raises(ModelError, match="no image encoder") as caught:
            engine.validate(request(ip_adapter=spec, ip_adapter_image=reference))
        assert "image_encoder" in caught.value.hint


def test_missing_file_wrong_family_faceid_and_pickle_are_refused(engine: Engine, adapter, reference,
                                                                 tmp_path: Path) -> None:
    cases = {
        "does not exist": replace(adapter, path=tmp_path / "ip-adapter_gone.safetensors"),
        "made for SDXL": replace(adapter, family="sdxl"),
        "FaceID": replace(adapter, face_id=True),
    }
    pickle = tmp_path / "ip-adapter_sd15.bin"
    pickle.write_bytes(b"not read")
    cases["not a .safetensors"] = replace(adapter, path=pickle)
    for message, spec in cases.items():
        with pytest.raises(ModelError, match=message):
            engine.validate(request(ip_adapter=spec, ip_adapter_image=reference))


def test_reference_and_adapter_go_together_and_the_scale_is_checked(engine: Engine, adapter, reference) -> None:
    with pytest.raises(InputError, match="needs a reference picture"):
        engine.validate(request(ip_adapter=adapter))
    with pytest.raises(InputError, match="without an IP-Adapter"):
        engine.validate(request(ip_adapter_image=reference))
    with pytest.raises(InputError, match="scale"):
        engine.validate(request(ip_adapter=adapter, ip_adapter_image=reference, ip_adapter_scale=3.5))


@pytest.mark.slow
def test_incompatible_weights_are_a_model_error_and_leave_the_engine_working(
        engine: Engine, demo_model_dir: Path, reference, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    unet_config = json.loads((demo_model_dir / "unet" / "config.json").read_text())
    wrong = dict(unet_config, cross_attention_dim=48)
    folder = tmp_path / "wrong" / "models"
    build_tiny_ip_adapter(tmp_path / "wrong", demo_model_dir)
    path = folder / "ip-adapter_other.safetensors"
    save_file({k: v.contiguous() for k, v in ip_adapter_state(wrong).items()}, str(path))
    plain = engine.generate(request())[0]
    with pytest.raises(ModelError, match="Could not load the IP-Adapter"):
        engine.generate(request(ip_adapter=IpAdapterSpec(path, folder / "image_encoder"), ip_adapter_image=reference))
    after = engine.generate(request())[0]
    assert np.array_equal(pixels(after.image), pixels(plain.image))


def test_a_changed_adapter_file_is_not_recorded_under_its_old_hash(engine: Engine, adapter, reference) -> None:
    stale = replace(adapter, sha256="0" * 64)
    with pytest.raises(ModelError, match="changed since it was chosen"):
        engine.generate(request(ip_adapter=stale, ip_adapter_image=reference))


def test_model_scan_skips_ip_adapter_files_with_a_reason(demo_model_dir: Path, adapter, tmp_path: Path) -> None:
    import shutil

    from studio.generation.models import scan_models

    models = tmp_path / "models"
    build_tiny_ip_adapter(models / "IP-Adapter", demo_model_dir, with_encoder=False)
    shutil.copytree(adapter.image_encoder, models / "IP-Adapter" / "image_encoder")
    shutil.copy(adapter.path, models / "face_adapter.safetensors")  # renamed: known by its tensor names
    (models / "IP-Adapter-FaceID").mkdir()
    (models / "IP-Adapter-FaceID" / "ip-adapter-faceid_sd15.bin").write_bytes(b"pickle")
    result = scan_models([models, demo_model_dir], include_hf_cache=False, allow_pickle=True)
    assert [m.path for m in result.models] == [demo_model_dir]
    reasons = {path.name: why for path, why in result.skipped}
    assert "IP-Adapter file, not a model" in reasons["ip-adapter_sd15.safetensors"]
    assert "IP-Adapter file, not a model" in reasons["face_adapter.safetensors"]
    assert "IP-Adapter file, not a model" in reasons["ip-adapter-faceid_sd15.bin"]
    assert "image encoder of an IP-Adapter" in reasons["model.safetensors"]
