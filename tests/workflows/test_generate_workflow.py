"""Generating works: each image saved as a PNG with A1111 parameters and the studio manifest."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.cancel import CancelToken
from studio.errors import Cancelled, InputError
from studio.generation.engine import Engine
from studio.generation.request import GenerationRequest, Recipe
from studio.provenance.png_text import read_png_text, write_png
from studio.provenance.manifest import SignedManifest, pixel_hash
from studio.workflows.generate import (SavedWork, a1111_parameters, generate_works, read_recipe,
                                       recipe_from_manifest)


def request(**fields) -> GenerationRequest:
    values = dict(prompt="a lighthouse, oil painting", negative_prompt="text", width=64, height=64,
                  steps=2, seed=42, guidance=6.5, scheduler="euler_a")
    values.update(fields)
    return GenerationRequest(**values)


def test_each_image_is_saved_as_it_finishes_with_its_recipe(engine: Engine, tmp_path: Path) -> None:
    works = tmp_path / "works"
    seen_on_disk: list[bool] = []
    saved = generate_works(request(count=2), engine, works,
                           on_saved=lambda work: seen_on_disk.append(work.path.exists()), library=None)
    assert seen_on_disk == [True, True]
    assert [w.recipe.seed for w in saved] == [42, 43]
    for work in saved:
        assert isinstance(work, SavedWork) and work.path.parent == works
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_\d{6}_4[23]\.png", work.path.name)
        assert read_recipe(work.path) == work.recipe
        with Image.open(work.path) as image:
            assert image.format == "PNG" and image.size == (64, 64)
        chunks = read_png_text(work.path)
        signed = SignedManifest.from_json(chunks["studio:provenance"])
        assert signed.signature is None and signed.manifest.creator is None
        assert recipe_from_manifest(signed.manifest) == work.recipe
        with Image.open(work.path) as image:
            assert signed.manifest.pixel_hash == pixel_hash(image)
        recipe = work.recipe
        assert chunks["parameters"] == (
            "a lighthouse, oil painting\nNegative prompt: text\n"
            f"Steps: 2, Sampler: Euler a, CFG scale: 6.5, Seed: {recipe.seed}, Size: 64x64, "
            f"Model hash: {recipe.model_hash[:10]}, Model: demo, Version: {recipe.generator}")


def test_the_same_seed_twice_never_overwrites(engine: Engine, tmp_path: Path) -> None:
    first = generate_works(request(), engine, tmp_path, library=None)[0]
    second = generate_works(request(), engine, tmp_path, library=None)[0]
    assert first.path != second.path
    assert first.path.exists() and second.path.exists()
    assert np.array_equal(np.asarray(Image.open(first.path)), np.asarray(Image.open(second.path)))


def test_cancel_keeps_the_images_already_saved(engine: Engine, tmp_path: Path) -> None:
    token = CancelToken()
    saved: list[SavedWork] = []

    def on_saved(work: SavedWork) -> None:
        saved.append(work)
        token.cancel()

    with pytest.raises(Cancelled):
        generate_works(request(count=3), engine, tmp_path / "works", cancel=token, on_saved=on_saved, library=None)
    assert [w.recipe.seed for w in saved] == [42]
    assert sorted((tmp_path / "works").iterdir()) == [saved[0].path]


def test_parameters_mention_strength_and_loras() -> None:
    recipe = Recipe(prompt="p", negative_prompt="", model_name="m", model_hash="0123456789abcdef" * 4,
                    model_family="sd1", seed=5, steps=20, guidance=7.0, width=512, height=768,
                    scheduler="dpmpp_2m_karras", mode="img2img", strength=0.6,
                    loras=(("ink.safetensors", "fe" * 32, 0.8),), generator="provenance-studio 0.1.0")
    assert a1111_parameters(recipe) == (
        "p\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 5, Size: 512x768, "
        "Model hash: 0123456789, Model: m, Denoising strength: 0.6, "
        'Lora hashes: "ink: fefefefefefe", Version: provenance-studio 0.1.0')


def test_reading_a_recipe_from_a_foreign_png_says_it_has_none(tmp_path: Path) -> None:
    path = tmp_path / "other.png"
    write_png(Image.new("RGB", (8, 8)), path, {"parameters": "from another tool"})
    with pytest.raises(InputError, match="no studio recipe"):
        read_recipe(path)


def test_the_python_api_records_its_works_in_the_library(studio_home: Path, demo_model_dir: Path) -> None:
    """`studio.api.generate` saves through the same path as the window and `studio generate`: the
    Gallery shows what a script made."""
    import shutil

    from studio import api
    from studio.config import load_config
    from studio.library.db import Library

    shutil.copytree(demo_model_dir, load_config().paths.demo_model_dir)
    made = api.generate("a lighthouse", model="demo", seed=3, steps=2, width=64, height=64, count=2)
    with Library.default() as library:
        recorded = {Path(w.path).resolve(): w for w in library.works()}
    assert {p.resolve() for p in made} == set(recorded) and len(made) == 2
    assert [w.prompt for w in recorded.values()] == ["a lighthouse", "a lighthouse"]


def test_a_request_takes_the_models_defaults_only_for_what_is_not_given(studio_home: Path,
                                                                         demo_model_dir: Path) -> None:
    """The API's request (and the engine every entry point builds) come from one place: unset
    fields take the model's steps, guidance, sampler and native size; given ones stay as given."""
    import shutil

    from studio.config import load_config
    from studio.generation.models import ModelCatalog
    from studio.generation.schedulers import default_settings
    from studio.workflows.requests import studio_engine, studio_request

    config = load_config()
    shutil.copytree(demo_model_dir, config.paths.demo_model_dir)
    catalog = ModelCatalog(config)
    info = catalog.resolve("demo")
    steps, guidance, sampler = default_settings(info)

    plain = studio_request(config, catalog, "a lighthouse")
    assert (plain.model, plain.steps, plain.guidance, plain.scheduler) == ("demo", steps, guidance, sampler)
    assert plain.width == plain.height == info.family.native_size

    given = studio_request(config, catalog, "a lighthouse", steps=3, guidance=0.0, scheduler="euler_a", width=64,
                           height=128, seed=9, negative_prompt="text")
    assert (given.steps, given.guidance, given.scheduler, given.width, given.height) == (3, 0.0, "euler_a", 64, 128)
    assert (given.seed, given.negative_prompt) == (9, "text")
    studio_engine(config, catalog).validate(given)  # the engine the settings describe accepts it

    with pytest.raises(InputError):
        studio_engine(config, catalog).validate(studio_request(config, catalog, "a lighthouse", width=65))
