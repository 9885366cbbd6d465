"""From a recipe back to a request: what ``verify --reproduce`` regenerates and what "Send to Create"
fills in; and a file's recipe as rows for people (:func:`recipe_rows`: the Verify dialog and
``studio verify`` show the same rows).

A recipe names its weights files (LoRAs, VAE, embeddings, upscaler and ControlNet models) and its
input pictures by SHA-256 only. :class:`WeightsFinder` looks for a file of the same name in the
given folders (the models folder by default) and accepts it only when its SHA-256 matches; input
pictures are passed in by role (``init``, ``mask``, ``control0`` ...) and checked the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from studio.errors import InputError, NotFound
from studio.generation.request import ControlUnit, GenerationRequest, HiresFix, IpAdapterSpec, LoraSpec, Recipe
from studio.provenance.manifest import Manifest
from studio.provenance.foreign import RecipeSummary

MAX_SEARCH_DEPTH = 4


@dataclass
class WeightsFinder:
    """Finds weights files by name and SHA-256 under ``folders`` (each searched a few levels deep)."""

    folders: Sequence[Path]
    hash_cache: Path | None = None
    _seen: dict[tuple[str, str], Path] = field(default_factory=dict)

    def find(self, name: str, sha256: str, what: str) -> Path:
        key = (name, sha256)
        if key in self._seen:
            return self._seen[key]
        from studio.generation.hashing import model_hash
        from studio.generation.request import ModelFamily, ModelFormat, ModelInfo

        candidates: list[Path] = []
        for folder in self.folders:
            folder = Path(folder)
            if not folder.is_dir():
                continue
            candidates += [p for p in _walk(folder, name)]
        if self.hash_cache is None:
            from studio.paths import studio_paths

            self.hash_cache = studio_paths().hash_cache_file  # never a file in the user's weights folders
        cache = self.hash_cache
        for path in candidates:
            fmt = ModelFormat.DIFFUSERS if path.is_dir() else ModelFormat.SINGLE_FILE
            info = ModelInfo(name=path.name, path=path, family=ModelFamily.SD1, format=fmt)
            if model_hash(info, cache) == sha256:
                self._seen[key] = path
                return path
        where = ", ".join(str(f) for f in self.folders) or "no folder"
        found = f" ({len(candidates)} file(s) of that name have another SHA-256)" if candidates else ""
        raise NotFound(f"The {what} {name} (SHA-256 {sha256[:12]}…) is not in {where}{found}.",
                       hint=f"Put the exact {what} file there, or name its folder with --weights DIR.")


def _walk(folder: Path, name: str, depth: int = 0) -> list[Path]:
    found = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        if entry.name == name:
            found.append(entry)
        elif entry.is_dir() and depth < MAX_SEARCH_DEPTH and not entry.name.startswith("."):
            found += _walk(entry, name, depth + 1)
    return found


def check_input(role: str, image: Any, sha256: str) -> None:
    from studio.generation.engine import image_sha256

    if image_sha256(image) != sha256:
        raise InputError(f"The {role} is not the one the recipe names (its SHA-256 differs).",
                         hint="Give the exact picture the work was made from (the recipe names it by hash).")


def request_from_recipe(recipe: Recipe, *, inputs: Mapping[str, Any] | None = None,
                        weights: WeightsFinder | None = None, strict: bool = True) -> GenerationRequest:
    """The request that makes ``recipe`` again. ``inputs``: pictures by role (``init``, ``mask``,
    ``ip_adapter``, ``control0`` ...). With ``strict``, a missing input or weights file is an error;
    without it (Send to Create), what is missing is left out for the user to choose again."""
    inputs = dict(inputs or {})
    finder = weights or WeightsFinder(())

    def picture(role: str, sha: str | None) -> Any:
        if sha is None:
            return None
        image = inputs.get(role)
        if image is None:
            if strict:
                raise InputError(f"The work was made from a {role} picture, which a recipe names only by its hash.",
                                 hint=f"Give that picture (--input {role}=FILE).")
            return None
        if strict:
            check_input(role, image, sha)
        return image

    def weights_file(name: str, sha: str, what: str) -> Path | None:
        try:
            return finder.find(name, sha, what)
        except NotFound:
            if strict:
                raise
            return None

    loras = tuple(LoraSpec(path, weight) for name, sha, weight in recipe.loras
                  if (path := weights_file(name, sha, "LoRA")) is not None)
    embeddings = tuple(path for name, sha in recipe.embeddings
                       if (path := weights_file(name, sha, "embedding")) is not None)
    vae = weights_file(*recipe.vae, "VAE") if recipe.vae is not None else None
    ip_adapter = None
    if recipe.ip_adapter is not None:
        name, sha, _scale = recipe.ip_adapter
        adapter_path = weights_file(name, sha, "IP-Adapter")
        if adapter_path is not None:
            encoder = adapter_path.parent.parent / "image_encoder"
            ip_adapter = IpAdapterSpec(adapter_path, encoder if encoder.is_dir() else None, sha256=sha)
    hires = None
    if recipe.hires is not None:
        h = recipe.hires
        upscaler = h.upscaler
        if h.upscaler_sha256:
            found = weights_file(h.upscaler, h.upscaler_sha256, "upscaler model")
            upscaler = str(found) if found is not None else "lanczos"
        hires = HiresFix(scale=h.scale, upscaler=upscaler, steps=h.steps, denoise=h.denoise)
    control = []
    for index, unit in enumerate(recipe.control):
        model = weights_file(unit.model_name, unit.model_sha256, "ControlNet model")
        image = picture(f"control{index}", unit.image_sha256)
        if model is None:  # not strict: a unit whose model is missing is left out; one without its picture is
            continue       # kept for the form (Send to Create), its picture to choose again
        control.append(ControlUnit(model=model, image=image, preprocessor=unit.preprocessor, weight=unit.weight,
                                   start=unit.start, end=unit.end, low_threshold=unit.low_threshold,
                                   high_threshold=unit.high_threshold))
    init = picture("init", recipe.init_image_hash)
    mask = picture("mask", recipe.mask_hash) if init is not None else None
    batch_index = recipe.batch_index if recipe.batch_size > 1 else 0
    variation = recipe.variation_seed - batch_index if recipe.variation_seed is not None else None
    return GenerationRequest(
        prompt=recipe.prompt, negative_prompt=recipe.negative_prompt, model=recipe.model_name,
        seed=recipe.seed - batch_index, steps=recipe.steps, guidance=recipe.guidance, width=recipe.width,
        height=recipe.height, count=1, scheduler=recipe.scheduler, sigmas=recipe.sigmas,
        init_image=init, strength=recipe.strength if recipe.strength is not None else 0.75, mask_image=mask,
        loras=loras, ip_adapter=ip_adapter,
        ip_adapter_scale=recipe.ip_adapter[2] if recipe.ip_adapter is not None else 0.6,
        ip_adapter_image=picture("ip_adapter", recipe.ip_adapter_image_hash) if ip_adapter is not None else None,
        clip_skip=recipe.clip_skip, vae=vae, prompt_syntax=recipe.prompt_syntax, embeddings=embeddings,
        hires=hires, control=tuple(control), variation_seed=variation,
        variation_strength=recipe.variation_strength, batch_size=recipe.batch_size,
        outpaint=recipe.outpaint if init is not None else None, **_inpaint_fields(recipe))


def _inpaint_fields(recipe: Recipe) -> dict[str, Any]:
    """The recorded inpaint options (mask blur, area, padding); older inpaint recipes meant none of them."""
    if recipe.mode != "inpaint":
        return {}
    return {"mask_blur": recipe.mask_blur if recipe.mask_blur is not None else 0,
            "inpaint_area": recipe.inpaint_area or "whole",
            "inpaint_padding": recipe.inpaint_padding if recipe.inpaint_padding is not None else 0}


# ---------------------------------------------------------------------- rows for people

#: The rows of a recipe, in the order they are shown: (key, label).
RECIPE_ROWS = (("prompt", "Prompt"), ("negative_prompt", "Negative"), ("model", "Model"), ("seed", "Seed"),
               ("steps", "Steps"), ("guidance", "Guidance"), ("scheduler", "Sampler"), ("size", "Size"),
               ("pipeline", "Pipeline"), ("created", "Created"), ("device", "Device"))
#: Rows whose value may span lines.
MULTILINE_ROWS = ("prompt", "negative_prompt")


def recipe_rows(recipe: RecipeSummary, manifest: Manifest | None = None) -> list[tuple[str, str, str]]:
    """``(key, label, value)`` for each of :data:`RECIPE_ROWS`, in that order ("" where the recipe
    says nothing). With the studio ``manifest`` the recipe came from, the model's hash, the pipeline,
    the time and the device too. Values are the file's text: show them through ``printable``."""
    m = manifest
    values = {
        "prompt": recipe.prompt, "negative_prompt": recipe.negative_prompt,
        "model": f"{m.model_name} ({m.model_sha256[:12]})" if m is not None else recipe.model or "",
        "seed": "" if recipe.seed is None else str(recipe.seed),
        "steps": "" if recipe.steps is None else str(recipe.steps),
        "guidance": "" if recipe.guidance is None else f"{recipe.guidance:g}",
        "scheduler": scheduler_label(recipe),
        "size": f"{recipe.width}×{recipe.height}" if recipe.width and recipe.height else "",
        "pipeline": m.pipeline if m is not None else "",
        "created": m.created if m is not None else "",
        "device": f"{m.device}/{m.dtype}" if m is not None and m.device else "",
    }
    return [(key, label, values[key]) for key, label in RECIPE_ROWS]


def scheduler_label(recipe: RecipeSummary) -> str:
    """The studio's name for its own scheduler keys ("euler_a" → "Euler a"); another tool's as written."""
    from studio.generation.schedulers import SCHEDULERS

    if recipe.source == "studio" and recipe.scheduler in SCHEDULERS:
        return SCHEDULERS[recipe.scheduler]
    return recipe.scheduler or ""
