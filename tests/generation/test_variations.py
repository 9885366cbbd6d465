"""Variation seeds (A1111's subseed), batch count x batch size, and the X/Y/Z plot on the demo pipeline."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.errors import InputError
from studio.generation.engine import Engine

from options_helpers import pixels, round_trip, small


def test_variation_strength_walks_from_the_seed_to_the_variation_seed(engine: Engine) -> None:
    seed_image = pixels(engine.generate(small(seed=7))[0])
    other_image = pixels(engine.generate(small(seed=99))[0])
    assert np.array_equal(seed_image, pixels(engine.generate(small(variation_seed=99, variation_strength=0.0))[0]))
    assert np.array_equal(other_image, pixels(engine.generate(small(variation_seed=99, variation_strength=1.0))[0]))
    between = engine.generate(small(variation_seed=99, variation_strength=0.3))[0]
    assert not np.array_equal(pixels(between), seed_image) and not np.array_equal(pixels(between), other_image)
    assert (between.recipe.seed, between.recipe.variation_seed, between.recipe.variation_strength) == (7, 99, 0.3)
    assert between.recipe.settings()["variation"] == {"seed": 99, "strength": 0.3}


def test_a_missing_variation_seed_is_chosen_and_recorded(engine: Engine) -> None:
    result = engine.generate(small(variation_strength=0.5))[0]
    assert result.recipe.variation_seed is not None
    again = engine.generate(small(variation_seed=result.recipe.variation_seed, variation_strength=0.5))[0]
    assert np.array_equal(pixels(result), pixels(again))


def test_variations_are_refused_outside_text_to_image(engine: Engine) -> None:
    with pytest.raises(InputError, match="text-to-image only"):
        engine.validate(small(init_image=Image.new("RGB", (64, 64)), variation_strength=0.2))
    with pytest.raises(InputError, match="variation strength"):
        engine.validate(small(variation_strength=1.5))


def test_batch_count_times_batch_size_makes_every_image_with_its_own_seed(engine: Engine) -> None:
    results = engine.generate(small(seed=20, count=2, batch_size=2))
    assert [r.recipe.seed for r in results] == [20, 21, 22, 23]
    assert [(r.recipe.batch_size, r.recipe.batch_index) for r in results] == [(2, 0), (2, 1), (2, 0), (2, 1)]
    assert len({pixels(r).tobytes() for r in results}) == 4
    with pytest.raises(InputError, match="batch size of 17"):
        engine.validate(small(batch_size=17))


def test_a_batch_with_variations_and_an_image_inside_a_batch_reproduce_exactly(engine: Engine, tmp_path: Path) -> None:
    reproductions = round_trip(small(seed=30, batch_size=2, variation_seed=5, variation_strength=0.4,
                                     scheduler="euler_a"), engine, tmp_path / "works")
    assert [(r.method, r.match) for r in reproductions] == [("exact", True), ("exact", True)]


def test_an_xyz_plot_saves_every_cell_as_a_work_and_a_labelled_grid(engine: Engine, tmp_path: Path) -> None:
    from studio.provenance.png_text import read_png_text
    from studio.workflows.generate import read_recipe
    from studio.workflows.grid import GRID_KEY, make_grid, parse_axis

    axes = [parse_axis("steps", "2, 3"), parse_axis("sampler", "euler, dpmpp_2m"),
            parse_axis("prompt_sr", "red, blue")]
    result = make_grid(small(seed=11), axes, engine, tmp_path / "works", library=None, c2pa=None)
    assert len(result.works) == 8 and len(result.grids) == 2
    recipes = [read_recipe(work.path) for work in result.works]
    assert [(r.steps, r.scheduler) for r in recipes[:4]] == [(2, "euler"), (3, "euler"), (2, "dpmpp_2m"),
                                                              (3, "dpmpp_2m")]
    assert recipes[0].prompt == "a red fox in the snow" and recipes[4].prompt == "a blue fox in the snow"
    assert {r.seed for r in recipes} == {11}
    with Image.open(result.grids[0]) as grid:
        assert grid.size == (120 + 2 * 64, 44 + 2 * 64)  # row labels at the left, title and column labels on top
        first_cell = np.asarray(grid.convert("RGB"))[44:108, 120:184]
    with Image.open(result.works[0].path) as work:
        assert np.array_equal(first_cell, np.asarray(work.convert("RGB")))
    listing = read_png_text(result.grids[1])[GRID_KEY]
    assert result.works[4].path.name in listing


def test_a_bad_value_anywhere_in_the_plot_stops_it_before_any_work(engine: Engine, tmp_path: Path) -> None:
    from studio.workflows.grid import make_grid, parse_axis

    with pytest.raises(InputError, match="Unknown sampler"):
        make_grid(small(), [parse_axis("steps", "2, 3"), parse_axis("sampler", "euler, nope")], engine,
                  tmp_path / "works", library=None, c2pa=None)
    assert not (tmp_path / "works").exists()
    with pytest.raises(InputError, match="needs a LoRA"):
        make_grid(small(), [parse_axis("lora_weight", "0.5, 1")], engine, tmp_path / "works", library=None, c2pa=None)
    with pytest.raises(InputError, match="is not in the prompt"):
        make_grid(small(), [parse_axis("prompt_sr", "cat, dog")], engine, tmp_path / "works", library=None, c2pa=None)
    with pytest.raises(InputError, match="not a grid axis"):
        parse_axis("colour", "1, 2")
