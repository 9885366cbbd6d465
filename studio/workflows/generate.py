"""Generate images and save each as a PNG work carrying its recipe, as soon as it is finished."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from studio.errors import InputError
from studio.generation.request import GenerationProgress, GenerationRequest, GenerationResult, Recipe
from studio.generation.schedulers import SCHEDULERS
from studio.provenance.png_text import read_png_text, write_png

log = logging.getLogger(__name__)

PARAMETERS_KEY = "parameters"      # A1111's chunk, read by most tools and sites
RECIPE_KEY = "studio:recipe"       # the full recipe as JSON


@dataclass(frozen=True)
class SavedWork:
    """One generated image saved in the works folder."""

    path: Path
    recipe: Recipe
    warnings: tuple[str, ...]


def a1111_parameters(recipe: Recipe) -> str:
    """The recipe in AUTOMATIC1111's ``parameters`` text form."""
    lines = [recipe.prompt]
    if recipe.negative_prompt:
        lines.append(f"Negative prompt: {recipe.negative_prompt}")
    fields = [
        f"Steps: {recipe.steps}",
        f"Sampler: {SCHEDULERS.get(recipe.scheduler, recipe.scheduler)}",
        f"CFG scale: {recipe.guidance:g}",
        f"Seed: {recipe.seed}",
        f"Size: {recipe.width}x{recipe.height}",
        f"Model hash: {recipe.model_hash[:10]}",
        f"Model: {recipe.model_name}",
    ]
    if recipe.strength is not None:
        fields.append(f"Denoising strength: {recipe.strength:g}")
    if recipe.loras:
        hashes = ", ".join(f"{Path(name).stem}: {sha[:12]}" for name, sha, _weight in recipe.loras)
        fields.append(f'Lora hashes: "{hashes}"')
    fields.append(f"Version: {recipe.generator}")
    lines.append(", ".join(fields))
    return "\n".join(lines)


def recipe_text_chunks(recipe: Recipe) -> dict[str, str]:
    return {PARAMETERS_KEY: a1111_parameters(recipe),
            RECIPE_KEY: json.dumps(recipe.to_dict(), ensure_ascii=False, sort_keys=True)}


def _unique_path(works_dir: Path, seed: int, now: datetime) -> Path:
    stem = f"{now:%Y-%m-%d_%H%M%S}_{seed}"
    path = works_dir / f"{stem}.png"
    counter = 2
    while path.exists():
        path = works_dir / f"{stem}-{counter}.png"
        counter += 1
    return path


def save_work(result: GenerationResult, works_dir: Path) -> SavedWork:
    """Write one result as a PNG with its recipe into ``works_dir``, never over an existing file."""
    works_dir.mkdir(parents=True, exist_ok=True)
    path = _unique_path(works_dir, result.recipe.seed, datetime.now())
    write_png(result.image, path, recipe_text_chunks(result.recipe))
    log.info("Saved %s", path)
    return SavedWork(path=path, recipe=result.recipe, warnings=result.warnings)


def generate_works(request: GenerationRequest, engine: Any, works_dir: Path, *,
                   progress: Callable[[GenerationProgress], None] | None = None, cancel: Any = None,
                   preview_every: int = 0,
                   on_saved: Callable[[SavedWork], None] | None = None) -> list[SavedWork]:
    """Run ``request`` on ``engine`` and save every image as it finishes.

    When cancelled, the images already saved stay saved (and were reported through
    ``on_saved``); Cancelled is raised after them.
    """
    saved: list[SavedWork] = []

    def keep(result: GenerationResult) -> None:
        work = save_work(result, Path(works_dir))
        saved.append(work)
        if on_saved is not None:
            on_saved(work)

    engine.generate(request, progress=progress, cancel=cancel, preview_every=preview_every, on_result=keep)
    return saved


def read_recipe(path: Path) -> Recipe:
    """The recipe the studio wrote into the PNG at ``path``."""
    chunks = read_png_text(Path(path))
    raw = chunks.get(RECIPE_KEY)
    if raw is None:
        raise InputError(f"{Path(path).name} has no studio recipe.",
                         hint="Only images made by Provenance Studio carry one.")
    try:
        return Recipe.from_dict(json.loads(raw))
    except (ValueError, TypeError, KeyError) as exc:
        raise InputError(f"The recipe in {Path(path).name} is damaged ({exc}).") from exc
