"""Upscale any picture (a studio work or another image) and save the result as a new work whose
manifest names the upscaler and the source picture: the standalone "Upscale" of the Create tab
and ``studio upscale FILE``."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from studio.errors import InputError, StudioError
from studio.generation.request import GenerationResult, Recipe
from studio.workflows.generate import AUTO, SavedWork, read_recipe, save_work


def upscale_work(source: Path, engine: Any, works_dir: Path, *, upscaler: str = "lanczos", scale: float = 2.0,
                 signer: Any = None, c2pa: Any = AUTO) -> SavedWork:
    """Upscale the picture at ``source`` by ``scale`` (``upscaler``: ``lanczos`` or an upscaler model
    file) and save it with its provenance; a studio work's prompt and seed are carried over."""
    from studio.safeimage import load_image

    source = Path(source)
    image = load_image(source, what=f"The picture {source}")
    try:
        recipe: Recipe | None = read_recipe(source)
    except StudioError:
        recipe = None  # any picture can be upscaled; only a studio work brings its prompt along
    result = engine.upscale(image, upscaler, scale, source=recipe)
    return save_work(result, Path(works_dir), signer=signer, c2pa=c2pa)


def reproduce_upscale(recipe: Recipe, pictures: Mapping[str, Any], finder: Any, engine: Any) -> GenerationResult:
    """Upscale the recorded source picture again with the recorded upscaler (for ``verify --reproduce``)."""
    from studio.workflows.recipes import check_input

    record = recipe.upscale
    if record is None or recipe.init_image_hash is None:
        raise InputError("The manifest says upscale but does not name the upscaler or the source picture.")
    source = pictures["init"]
    check_input("init", source, recipe.init_image_hash)
    upscaler = "lanczos"
    if record.upscaler_sha256:
        upscaler = str(finder.find(record.upscaler, record.upscaler_sha256, "upscaler model"))
    return engine.upscale(source, upscaler, record.scale)
