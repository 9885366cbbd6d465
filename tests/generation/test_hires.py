"""Hires fix on the demo pipeline (first pass at 64x64, upscale, image-to-image pass) and the
standalone upscale of a saved work: sizes, recipes, progress, errors, and exact reproduction."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.errors import InputError, NotFound
from studio.generation.engine import Engine, image_sha256
from studio.generation.request import GenerationProgress, HiresFix

from options_helpers import pixels, round_trip, small
from tiny_upscalers import rrdb_state, save


@pytest.fixture(scope="module")
def esrgan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save(rrdb_state(seed=5), tmp_path_factory.mktemp("upscalers") / "4x-tiny.safetensors")


@pytest.mark.parametrize("upscaler", ["latent", "lanczos", "model"])
def test_hires_fix_makes_the_image_larger_with_each_upscaler(engine: Engine, esrgan: Path, upscaler: str) -> None:
    chosen = str(esrgan) if upscaler == "model" else upscaler
    result = engine.generate(small(steps=2, hires=HiresFix(scale=2.0, upscaler=chosen, steps=2, denoise=0.5)))[0]
    assert result.image.size == (128, 128)
    hires = result.recipe.hires
    assert hires is not None and (hires.width, hires.height, hires.steps, hires.denoise) == (128, 128, 2, 0.5)
    assert (result.recipe.width, result.recipe.height) == (64, 64)  # the first pass, as A1111 records it
    if upscaler == "model":
        from studio.generation.hashing import file_sha256

        assert (hires.upscaler, hires.upscaler_sha256) == ("4x-tiny.safetensors", file_sha256(esrgan))
    else:
        assert (hires.upscaler, hires.upscaler_sha256) == (upscaler, None)


def test_the_upscalers_and_the_denoise_each_change_the_result(engine: Engine) -> None:
    def run(**hires) -> np.ndarray:
        return pixels(engine.generate(small(steps=2, hires=HiresFix(**{"steps": 4, **hires})))[0])

    latent = run(upscaler="latent", denoise=0.5)
    assert not np.array_equal(latent, run(upscaler="lanczos", denoise=0.5))
    assert not np.array_equal(latent, run(upscaler="latent", denoise=0.9))
    assert np.array_equal(latent, run(upscaler="latent", denoise=0.5))


def test_progress_counts_both_passes_as_one_bar(engine: Engine) -> None:
    seen: list[GenerationProgress] = []
    engine.generate(small(steps=4, hires=HiresFix(scale=1.5, steps=4, denoise=0.5)), progress=seen.append)
    assert [p.step for p in seen] == [1, 2, 3, 4, 5, 6]
    assert {p.steps for p in seen} == {6} and seen[-1].fraction == 1.0


def test_hires_settings_out_of_range_are_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="hires scale"):
        engine.validate(small(hires=HiresFix(scale=1.0)))
    with pytest.raises(InputError, match="hires denoise"):
        engine.validate(small(hires=HiresFix(denoise=0.0)))
    with pytest.raises(InputError, match="leaves no step"):
        engine.validate(small(steps=1, hires=HiresFix(denoise=0.5)))
    with pytest.raises(NotFound, match="upscaler model"):
        engine.validate(small(hires=HiresFix(upscaler=str(tmp_path / "4x.safetensors"))))
    with pytest.raises(InputError, match="text-to-image first pass"):
        engine.validate(small(init_image=Image.new("RGB", (64, 64)), hires=HiresFix()))


@pytest.mark.parametrize("upscaler", ["latent", "model"])
def test_a_hires_fixed_work_reproduces_exactly(engine: Engine, esrgan: Path, tmp_path: Path, upscaler: str) -> None:
    chosen = str(esrgan) if upscaler == "model" else upscaler
    request = small(steps=2, hires=HiresFix(scale=1.5, upscaler=chosen, steps=3, denoise=0.6))
    [reproduction] = round_trip(request, engine, tmp_path / "works", weights=[esrgan.parent])
    assert (reproduction.method, reproduction.match) == ("exact", True)


def test_a_saved_work_upscales_to_a_new_work_that_names_its_source(engine: Engine, esrgan: Path,
                                                                   tmp_path: Path) -> None:
    from studio.provenance.manifest import SignedManifest
    from studio.provenance.png_text import read_png_text
    from studio.workflows.generate import generate_works
    from studio.workflows.upscale import upscale_work
    from studio.workflows.verify import reproduce_work, verify_file

    source = generate_works(small(), engine, tmp_path / "works", library=None, c2pa=None)[0]
    with Image.open(source.path) as image:
        source_hash = image_sha256(image.convert("RGB"))
    for upscaler in ("lanczos", str(esrgan)):
        work = upscale_work(source.path, engine, tmp_path / "upscaled", upscaler=upscaler, scale=2.0, library=None, c2pa=None)
        with Image.open(work.path) as image:
            assert image.size == (128, 128)
        manifest = SignedManifest.from_json(read_png_text(work.path)["studio:provenance"]).manifest
        assert manifest.pipeline == "upscale" and manifest.prompt == "a red fox in the snow"
        assert [(p.role, p.sha256) for p in manifest.parents] == [("init", source_hash)]
        assert verify_file(work.path, c2pa_trust=None).pixel_hash_ok
        with pytest.raises(InputError, match=r"input images \(init\)"):
            reproduce_work(work.path, engine, weights=[esrgan.parent])
        again = reproduce_work(work.path, engine, inputs={"init": source.path}, weights=[esrgan.parent])
        assert (again.method, again.match) == ("exact", True)
    other = tmp_path / "other.png"
    Image.new("RGB", (64, 64), (10, 20, 30)).save(other)
    with pytest.raises(InputError, match="not the one the recipe names"):
        reproduce_work(work.path, engine, inputs={"init": other}, weights=[esrgan.parent])
