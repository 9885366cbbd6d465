"""Upscale any picture (a studio work or another image) and save the result as a new work whose
manifest names the upscaler and the source picture: the standalone "Upscale" of the Create tab
and ``studio upscale FILE``."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from studio.errors import InputError, StudioError
from studio.generation.request import GenerationResult, Recipe
from studio.workflows.generate import AUTO, SavedWork, free_path, read_recipe, save_work

if TYPE_CHECKING:
    from studio.library.db import Library


def upscale_work(source: Path, engine: Any, works_dir: Path, *, library: "Library | None", upscaler: str = "lanczos",
                 scale: float = 2.0, signer: Any = None, c2pa: Any = AUTO) -> SavedWork:
    """Upscale the picture at ``source`` by ``scale`` (``upscaler``: ``lanczos`` or an upscaler model
    file) and save it with its provenance (`save_work`, recorded in ``library``); a studio work's
    prompt and seed are carried over."""
    from studio.safeimage import load_image

    source = Path(source)
    image = load_image(source, what=f"The picture {source}")
    try:
        recipe: Recipe | None = read_recipe(source)
    except StudioError:
        recipe = None  # any picture can be upscaled; only a studio work brings its prompt along
    result = engine.upscale(image, upscaler, scale, source=recipe)
    path = free_path(Path(works_dir), f"{datetime.now():%Y-%m-%d_%H%M%S}_{source.stem}_x{scale:g}")
    return save_work(result, path, library=library, signer=signer, c2pa=c2pa)


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
