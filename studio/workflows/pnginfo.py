"""PNG Info: the parameters any image carries (the studio's manifest, A1111/Forge, ComfyUI, InvokeAI),
shown as text and turned into a `GenerationRequest` for "Send to Create".

What the request cannot take from the file is left at the request's defaults and said in
``notes``: a model, LoRA or VAE not on this machine, input pictures (named by hash only), a sampler
the studio does not have.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

from studio.errors import StudioError
from studio.generation.request import GenerationRequest, HiresFix

__all__ = ["ImageParameters", "parameter_lines", "read_parameters"]


@dataclass(frozen=True)
class ImageParameters:
    """What PNG Info shows for one image, and the request "Send to Create" fills in."""

    source: str                     # "studio", "a1111", "comfyui", "invokeai" or "none"
    fields: dict[str, Any]          # the settings as read, for display
    request: GenerationRequest | None
    notes: tuple[str, ...] = ()


def parameter_lines(info: ImageParameters) -> list[str]:
    """PNG Info as people read it, in the Create tab and from ``studio pnginfo``: who wrote the image,
    each setting as the file states it, then the notes (what Send to Create cannot take). The values
    are the file's text: show them through ``printable``."""
    import json

    lines = [f"Written by: {info.source}"] if info.source != "none" else []
    lines += [f"{key}: {value if isinstance(value, str) else json.dumps(value)}"
              for key, value in info.fields.items() if key != "source" and value not in (None, "", [], {})]
    return lines + [f"Note: {note}" for note in info.notes]


def read_parameters(path: Path, *, catalog: Any = None, weights: Sequence[Path] = ()) -> ImageParameters:
    """The parameters of the image at ``path``; ``catalog`` (a ModelCatalog) decides whether the model
    named is here, ``weights`` are the folders where LoRAs, VAEs and embeddings are looked up."""
    from studio.provenance.embed import read_embedded
    from studio.provenance.foreign import read_foreign
    from studio.provenance.manifest import SignedManifest
    from studio.fileio import read_bounded
    from studio.provenance.embed import MAX_FILE_BYTES

    path = Path(path)
    data = read_bounded(path, MAX_FILE_BYTES, what=f"The image {path.name}")
    embedded = read_embedded(data, name=path.name)
    if embedded.provenance_json is not None:
        from studio.workflows.generate import recipe_from_manifest
        from studio.workflows.recipes import WeightsFinder, request_from_recipe

        manifest = SignedManifest.from_json(embedded.provenance_json).manifest
        recipe = recipe_from_manifest(manifest)
        request = request_from_recipe(recipe, weights=WeightsFinder(list(weights)), strict=False)
        notes = _studio_notes(recipe, request)
        request, more = _check_model(request, catalog)
        return ImageParameters("studio", recipe.to_dict(), request, notes + more)
    foreign = read_foreign(embedded.text)
    if foreign is None:
        return ImageParameters("none", {}, None, ("The image carries no generation parameters.",))
    request, notes = _foreign_request(foreign, embedded.text)
    request, more = _check_model(request, catalog)
    return ImageParameters(foreign.source, foreign.to_dict(), request, notes + more)


def _studio_notes(recipe: Any, request: GenerationRequest) -> tuple[str, ...]:
    notes = []
    if len(request.loras) < len(recipe.loras):
        notes.append("Some LoRAs of the recipe are not on this machine; they were left out.")
    if recipe.vae is not None and request.vae is None:
        notes.append(f"The VAE {recipe.vae[0]} is not on this machine; the model's own is used.")
    if len(request.embeddings) < len(recipe.embeddings):
        notes.append("Some embeddings of the recipe are not on this machine; they were left out.")
    if recipe.init_image_hash is not None:
        notes.append("The work was made from an input picture, which a recipe names by hash only: choose it again.")
    if len(request.control) < len(recipe.control):
        kept = {Path(unit.model).name for unit in request.control}
        missing = ", ".join(unit.model_name for unit in recipe.control if unit.model_name not in kept)
        notes.append(f"Control models not on this machine ({missing}): their units were left out.")
    if request.control:
        notes.append("Control units name their pictures by hash only: choose each unit's picture again.")
    return tuple(notes)


def _check_model(request: GenerationRequest, catalog: Any) -> tuple[GenerationRequest, tuple[str, ...]]:
    if catalog is None:
        return request, ()
    try:
        catalog.resolve(request.model)
        return request, ()
    except StudioError:
        return replace(request, model="demo"), (f"The model “{request.model}” is not on this machine; "
                                                "choose one before generating.",)


def _foreign_request(foreign: Any, text: dict[str, str]) -> tuple[GenerationRequest, tuple[str, ...]]:
    from studio.generation.schedulers import sampler_from_name
    from studio.provenance.foreign import a1111_fields, comfyui_scheduler

    notes: list[str] = []
    values: dict[str, Any] = {"prompt": foreign.prompt, "negative_prompt": foreign.negative_prompt}
    for name in ("seed", "steps", "guidance", "width", "height"):
        value = getattr(foreign, name)
        if value is not None:
            values[name] = value
    if foreign.model:
        values["model"] = foreign.model
    fields = a1111_fields(text.get("parameters", "")) if foreign.source == "a1111" else {}
    schedule = fields.get("Schedule type") or (comfyui_scheduler(text.get("prompt")) if foreign.source == "comfyui"
                                               else None)
    if foreign.scheduler:
        found = sampler_from_name(foreign.scheduler, schedule)
        if found is None:
            notes.append(f"The sampler “{foreign.scheduler}” is not one the studio has; Euler is used.")
        else:
            values["scheduler"], values["sigmas"] = found
    for key, cast, target in (("Clip skip", int, "clip_skip"), ("Variation seed", int, "variation_seed"),
                              ("Variation seed strength", float, "variation_strength"),
                              ("Batch size", int, "batch_size")):
        if key in fields:
            try:
                values[target] = cast(fields[key])
            except ValueError:
                notes.append(f"“{key}: {fields[key][:40]}” is not a number; it was left out.")
    if "Hires upscale" in fields:
        try:
            upscaler = fields.get("Hires upscaler", "Latent").lower()
            values["hires"] = HiresFix(scale=float(fields["Hires upscale"]),
                                       upscaler="latent" if upscaler.startswith("latent") else "lanczos",
                                       steps=int(fields.get("Hires steps", 0) or 0),
                                       denoise=float(fields.get("Denoising strength", 0.5)))
            if not (upscaler.startswith("latent") or upscaler == "lanczos"):
                notes.append(f"The hires upscaler “{fields['Hires upscaler']}” is a model file: choose it; "
                             "Lanczos is set meanwhile.")
        except ValueError:
            notes.append("The hires fix settings are not readable; they were left out.")
    if any(key.startswith("Lora hashes") or key.startswith("ControlNet") for key in fields):
        notes.append("LoRAs and ControlNets are named by hash only: add them again.")
    return GenerationRequest(**values), tuple(notes)
