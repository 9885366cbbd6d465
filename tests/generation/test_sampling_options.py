"""Sampler and sigma schedule, clip skip and a chosen VAE on the demo pipeline: each changes the
pixels, is recorded, and reproduces exactly from the saved work's manifest."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.errors import InputError, ModelError, NotFound
from studio.generation.engine import Engine

from options_helpers import pixels, round_trip, small, tiny_vae_file


@pytest.mark.parametrize("sampler", ["heun", "lms", "dpm2", "dpm2_a", "dpmpp_2m_sde", "dpmpp_sde", "unipc"])
def test_every_sampler_runs_and_repeats_itself(engine: Engine, sampler: str) -> None:
    first = engine.generate(small(scheduler=sampler, steps=2))[0]
    again = engine.generate(small(scheduler=sampler, steps=2))[0]
    assert np.array_equal(pixels(first), pixels(again))
    assert first.recipe.scheduler == sampler and first.recipe.sigmas == "default"


def test_the_sigma_schedule_changes_the_image_and_is_recorded(engine: Engine) -> None:
    default = engine.generate(small(scheduler="dpmpp_2m"))[0]
    karras = engine.generate(small(scheduler="dpmpp_2m", sigmas="karras"))[0]
    exponential = engine.generate(small(scheduler="dpmpp_2m", sigmas="exponential"))[0]
    assert not np.array_equal(pixels(default), pixels(karras))
    assert not np.array_equal(pixels(karras), pixels(exponential))
    assert (karras.recipe.scheduler, karras.recipe.sigmas) == ("dpmpp_2m", "karras")
    assert karras.recipe.settings()["sigmas"] == "karras"


def test_an_old_combined_sampler_name_gives_the_same_pixels_as_the_split_choice(engine: Engine) -> None:
    old = engine.generate(small(scheduler="dpmpp_2m_karras"))[0]
    new = engine.generate(small(scheduler="dpmpp_2m", sigmas="karras"))[0]
    assert np.array_equal(pixels(old), pixels(new))
    assert old.recipe == new.recipe


def test_dpmpp_sde_depends_on_the_seed(engine: Engine) -> None:
    one = engine.generate(small(scheduler="dpmpp_sde", seed=1))[0]
    two = engine.generate(small(scheduler="dpmpp_sde", seed=2))[0]
    assert not np.array_equal(pixels(one), pixels(two))


def test_clip_skip_reads_an_earlier_layer_and_is_recorded(engine: Engine) -> None:
    one = engine.generate(small())[0]
    two = engine.generate(small(clip_skip=2))[0]
    assert not np.array_equal(pixels(one), pixels(two))
    assert two.recipe.clip_skip == 2 and "clip_skip" not in one.recipe.settings()
    with pytest.raises(InputError, match="clip skip of 13"):
        engine.validate(small(clip_skip=13))
    with pytest.raises(InputError, match="need the A1111 prompt syntax"):
        engine.validate(small(clip_skip=2, prompt_syntax="plain"))


def test_a_chosen_vae_decodes_and_is_recorded_by_hash_and_the_own_one_comes_back(
        engine: Engine, demo_model_dir: Path, tmp_path: Path) -> None:
    from studio.generation.hashing import file_sha256

    own = engine.generate(small())[0]
    vae_file = tiny_vae_file(demo_model_dir, tmp_path)
    other = engine.generate(small(vae=vae_file))[0]
    assert not np.array_equal(pixels(own), pixels(other))
    assert other.recipe.vae == ("other-vae.safetensors", file_sha256(vae_file))
    folder = tiny_vae_file(demo_model_dir, tmp_path / "as-folder", as_folder=True)
    from_folder = engine.generate(small(vae=folder))[0]
    assert np.array_equal(pixels(other), pixels(from_folder))
    assert from_folder.recipe.vae is not None and from_folder.recipe.vae[0] == "other-vae"
    assert np.array_equal(pixels(own), pixels(engine.generate(small())[0]))


def test_a_vae_of_another_shape_or_kind_is_refused_with_advice(engine: Engine, demo_model_dir: Path,
                                                              tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        engine.validate(small(vae=tmp_path / "missing.safetensors"))
    pickle = tmp_path / "vae.pt"
    pickle.write_bytes(b"x")
    with pytest.raises(InputError, match="pickle"):
        engine.validate(small(vae=pickle))
    wrong = demo_model_dir / "unet" / "diffusion_pytorch_model.safetensors"
    with pytest.raises(ModelError, match="not a VAE for this model"):
        engine.generate(small(vae=wrong))


def test_sampler_schedule_clip_skip_and_vae_reproduce_exactly(engine: Engine, demo_model_dir: Path,
                                                             tmp_path: Path) -> None:
    vae_file = tiny_vae_file(demo_model_dir, tmp_path / "weights")
    request = small(scheduler="unipc", sigmas="exponential", clip_skip=2, vae=vae_file)
    [reproduction] = round_trip(request, engine, tmp_path / "works", weights=[tmp_path / "weights"])
    assert (reproduction.method, reproduction.match) == ("exact", True)


def test_reproduce_names_a_missing_vae(engine: Engine, demo_model_dir: Path, tmp_path: Path) -> None:
    vae_file = tiny_vae_file(demo_model_dir, tmp_path / "weights")
    with pytest.raises(NotFound, match="The VAE other-vae.safetensors"):
        round_trip(small(vae=vae_file), engine, tmp_path / "works", weights=[tmp_path / "elsewhere"])
