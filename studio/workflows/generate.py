"""Generate images and save each as a PNG work carrying its provenance, as soon as it is finished.

`save_work` is the one way an image the studio made becomes a work, for every face (the Create
tab's job, ``studio generate``, ``api.generate``, the avatar flows in GUI and CLI): it writes the
full provenance (see studio/provenance/embed.py): A1111 parameters, the studio manifest (signed
by the creator's wallet when a `Signer` is given, unsigned with no creator otherwise), XMP, and
a C2PA manifest with this install's certificate when C2PA is available; then it records the
file in the library, so the Gallery shows it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from typing import TYPE_CHECKING

from studio.errors import InputError, StudioError
from studio.generation.request import GenerationProgress, GenerationRequest, GenerationResult, Recipe
from studio.generation.schedulers import SCHEDULERS, split_sampler
from studio.provenance.embed import PROVENANCE_KEY, write_png_with_provenance
from studio.provenance.manifest import (InpaintRef, Manifest, ParentRef, SignedManifest, WeightsRef, pixel_hash,
                                        typed_data, utc_now)
from studio.provenance.png_text import read_png_text

if TYPE_CHECKING:
    from studio.library.db import Library

log = logging.getLogger(__name__)

RECIPE_KEY = "studio:recipe"       # the recipe as JSON, written by studio versions before the manifest


@dataclass(frozen=True)
class SavedWork:
    """One generated image saved in the works folder."""

    path: Path
    recipe: Recipe
    warnings: tuple[str, ...]
    work_id: int | None = None  # the library's work (None: not recorded)


def a1111_parameters(recipe: Recipe) -> str:
    """The recipe in AUTOMATIC1111's ``parameters`` text form."""
    if recipe.upscale is not None:  # A1111's Extras tab writes only the postprocessing
        return (f"Postprocess upscale by: {recipe.upscale.scale:g}, Postprocess upscaler: "
                f"{_upscaler_label(recipe.upscale.upscaler)}, Version: {recipe.generator}")
    lines = [recipe.prompt]
    if recipe.negative_prompt:
        lines.append(f"Negative prompt: {recipe.negative_prompt}")
    sampler, sigmas = split_sampler(recipe.scheduler, recipe.sigmas)
    fields = [
        f"Steps: {recipe.steps}",
        f"Sampler: {SCHEDULERS.get(sampler, sampler)}{'' if sigmas == 'default' else ' ' + sigmas.title()}",
        f"CFG scale: {recipe.guidance:g}",
        f"Seed: {recipe.seed}",
        f"Size: {recipe.width}x{recipe.height}",
        f"Model hash: {recipe.model_hash[:10]}",
        f"Model: {recipe.model_name}",
    ]
    if recipe.batch_size > 1:
        fields += [f"Batch size: {recipe.batch_size}", f"Batch pos: {recipe.batch_index}"]
    if recipe.variation_seed is not None and recipe.variation_strength:
        fields += [f"Variation seed: {recipe.variation_seed}",
                   f"Variation seed strength: {recipe.variation_strength:g}"]
    if recipe.clip_skip != 1:
        fields.append(f"Clip skip: {recipe.clip_skip}")
    if recipe.vae is not None:
        fields += [f"VAE hash: {recipe.vae[1][:10]}", f"VAE: {recipe.vae[0]}"]
    if recipe.strength is not None:
        fields.append(f"Denoising strength: {recipe.strength:g}")
    if recipe.mask_blur is not None:
        fields.append(f"Mask blur: {recipe.mask_blur}")
    if recipe.inpaint_area == "masked":
        fields += ["Inpaint area: Only masked", f"Masked area padding: {recipe.inpaint_padding}"]
    if recipe.hires is not None:
        hires = recipe.hires
        if recipe.strength is None:
            fields.append(f"Denoising strength: {hires.denoise:g}")
        fields += [f"Hires upscale: {hires.scale:g}", f"Hires steps: {hires.steps}",
                   f"Hires upscaler: {_upscaler_label(hires.upscaler)}"]
    for index, unit in enumerate(recipe.control):
        fields.append(f'ControlNet {index}: "Module: {unit.preprocessor}, Model: {Path(unit.model_name).stem} '
                      f'[{unit.model_sha256[:8]}], Weight: {unit.weight:g}, Guidance Start: {unit.start:g}, '
                      f'Guidance End: {unit.end:g}"')
    if recipe.embeddings:
        hashes = ", ".join(f"{Path(name).stem}: {sha[:12]}" for name, sha in recipe.embeddings)
        fields.append(f'TI hashes: "{hashes}"')
    if recipe.loras:
        hashes = ", ".join(f"{Path(name).stem}: {sha[:12]}" for name, sha, _weight in recipe.loras)
        fields.append(f'Lora hashes: "{hashes}"')
    if recipe.ip_adapter is not None:
        name, sha, scale = recipe.ip_adapter
        fields.append(f'IP-Adapter: "{Path(name).stem}: {sha[:12]}", IP-Adapter scale: {scale:g}')
    fields.append(f"Version: {recipe.generator}")
    lines.append(", ".join(fields))
    return "\n".join(lines)


def _upscaler_label(upscaler: str) -> str:
    return {"latent": "Latent", "lanczos": "Lanczos"}.get(upscaler, Path(upscaler).stem)


def manifest_from_recipe(recipe: Recipe, image: Any, *, creator: str | None = None,
                         created: str | None = None) -> Manifest:
    """The provenance manifest of ``image`` made from ``recipe`` (``creator``: the signer's address)."""
    name, _sep, version = recipe.generator.rpartition(" ")
    parents = tuple(ParentRef(role, sha) for role, sha in (("init", recipe.init_image_hash),
                                                            ("mask", recipe.mask_hash),
                                                            ("ip_adapter", recipe.ip_adapter_image_hash)) if sha)
    parents += tuple(ParentRef(f"control{index}", unit.image_sha256) for index, unit in enumerate(recipe.control))
    adapters = (WeightsRef(*recipe.ip_adapter),) if recipe.ip_adapter is not None else ()
    inpaint = (InpaintRef(recipe.mask_blur, recipe.inpaint_area or "whole", recipe.inpaint_padding or 0)
               if recipe.mode == "inpaint" and recipe.mask_blur is not None else None)
    return Manifest(
        generator_name=name or recipe.generator, generator_version=version if name else "",
        model_name=recipe.model_name, model_sha256=recipe.model_hash, model_family=recipe.model_family,
        loras=tuple(WeightsRef(n, sha, weight) for n, sha, weight in recipe.loras), adapters=adapters,
        pipeline=recipe.mode, prompt=recipe.prompt, negative_prompt=recipe.negative_prompt, seed=recipe.seed,
        steps=recipe.steps, guidance=recipe.guidance, scheduler=recipe.scheduler, width=recipe.width,
        height=recipe.height, strength=recipe.strength, parents=parents, device=recipe.device,
        dtype=recipe.dtype, created=created or utc_now(), pixel_hash=pixel_hash(image), creator=creator,
        settings=recipe.settings(),
        inpaint=inpaint,
    )


def recipe_from_manifest(manifest: Manifest) -> Recipe:
    """The generation recipe a manifest records (what ``--reproduce`` and "use these settings" need)."""
    parents = {parent.role: parent.sha256 for parent in manifest.parents}
    generator = f"{manifest.generator_name} {manifest.generator_version}".strip()
    return Recipe(
        prompt=manifest.prompt, negative_prompt=manifest.negative_prompt, model_name=manifest.model_name,
        model_hash=manifest.model_sha256, model_family=manifest.model_family, seed=manifest.seed,
        steps=manifest.steps, guidance=manifest.guidance, width=manifest.width, height=manifest.height,
        scheduler=manifest.scheduler, mode=manifest.pipeline, strength=manifest.strength,
        init_image_hash=parents.get("init"), mask_hash=parents.get("mask"),
        loras=tuple((item.name, item.sha256, item.weight) for item in manifest.loras),
        ip_adapter=(manifest.adapters[0].name, manifest.adapters[0].sha256, manifest.adapters[0].weight)
        if manifest.adapters else None,
        ip_adapter_image_hash=parents.get("ip_adapter"),
        device=manifest.device, dtype=manifest.dtype, generator=generator,
        mask_blur=manifest.inpaint.mask_blur if manifest.inpaint else None,
        inpaint_area=manifest.inpaint.area if manifest.inpaint else None,
        inpaint_padding=manifest.inpaint.padding if manifest.inpaint else None,
        **_settings_fields(manifest),
    )


def _settings_fields(manifest: Manifest) -> dict[str, Any]:
    try:
        return Recipe.settings_fields(dict(manifest.settings))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"The manifest's settings are damaged ({exc!r}).",
                         hint="The file's metadata may have been edited by hand.") from exc


def sign_manifest(manifest: Manifest, signer: Any) -> SignedManifest:
    """``manifest`` signed by ``signer`` (a chain `Signer`) over its EIP-712 typed data."""
    if manifest.creator is None or manifest.creator.lower() != str(signer.address).lower():
        raise InputError("A manifest is signed by the creator it names.",
                         hint="Build the manifest with creator=signer.address.")
    signature = bytes(signer.sign_typed_data(typed_data(manifest)))
    return SignedManifest(manifest, "0x" + signature.hex())


def c2pa_credentials() -> Any:
    """This install's C2PA credentials (created on first use), or None when C2PA is not available."""
    try:
        from studio.provenance import c2pa
    except ImportError:
        return None
    if not c2pa.c2pa_available():
        return None
    from studio.paths import studio_paths

    return c2pa.C2paCredentials.load_or_create(studio_paths().data_dir / "provenance" / "c2pa")


def free_path(folder: Path, stem: str) -> Path:
    """``folder/stem.png``, or ``stem-2.png``, ``stem-3.png``... where that name is taken."""
    path = folder / f"{stem}.png"
    counter = 2
    while path.exists():
        path = folder / f"{stem}-{counter}.png"
        counter += 1
    return path


AUTO = "auto"


def save_work(result: GenerationResult, path: Path, *, library: "Library | None", signer: Any = None,
              c2pa: Any = AUTO, pipeline: str | None = None, title: str | None = None) -> SavedWork:
    """Write one result as a PNG at ``path`` with its full provenance, then record it in ``library``.

    ``signer`` (a chain `Signer`) signs the manifest and becomes its creator. ``c2pa``: C2PA
    credentials to sign with, None for no C2PA, or "auto": this install's when C2PA is available.
    ``pipeline`` overrides the manifest's (``"avatar"``); ``title`` the Gallery's title (else the
    prompt's start). ``library`` None records nothing (a test, an export). A library that cannot
    record the work never loses the image: the failure becomes one of the work's warnings.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    creator = str(signer.address) if signer is not None else None
    manifest = manifest_from_recipe(result.recipe, result.image, creator=creator)
    if pipeline is not None:
        manifest = replace(manifest, pipeline=pipeline)
    signed = sign_manifest(manifest, signer) if signer is not None else SignedManifest(manifest)
    credentials = c2pa_credentials() if isinstance(c2pa, str) and c2pa == AUTO else c2pa
    write_png_with_provenance(result.image, path, signed, parameters=a1111_parameters(result.recipe),
                              c2pa_credentials=credentials)
    log.info("Saved %s", path)
    saved = SavedWork(path=path, recipe=result.recipe, warnings=result.warnings)
    return record_work(library, saved, title=title) if library is not None else saved


def record_work(library: "Library", work: SavedWork, *, title: str | None = None) -> SavedWork:
    """Add a saved image to the library; a failure is logged and added to the work's warnings,
    never raised (the image is on disk either way)."""
    from studio.workflows.library import add_saved_work

    try:
        recorded = add_saved_work(library, work.path, title=title)
        return replace(work, work_id=recorded.id)
    except StudioError as exc:
        log.warning("%s was saved but not added to the library: %s", work.path, exc)
        problem = str(exc)
    except Exception:  # a bug: keep the image, log the traceback
        log.exception("%s was saved but not added to the library", work.path)
        problem = "unexpected error, see the log"
    return replace(work, warnings=work.warnings + (
        f"{work.path.name} was saved, but not added to the Gallery ({problem}).",))


def generate_works(request: GenerationRequest, engine: Any, works_dir: Path, *, library: "Library | None",
                   progress: Callable[[GenerationProgress], None] | None = None, cancel: Any = None,
                   preview_every: int = 0,
                   on_saved: Callable[[SavedWork], None] | None = None,
                   signer: Any = None, c2pa: Any = AUTO) -> list[SavedWork]:
    """Run ``request`` on ``engine`` and save every image as it finishes (`save_work`: its
    provenance, then its record in ``library``).

    ``signer`` (a chain `Signer`, e.g. the unlocked wallet account) signs each manifest;
    ``c2pa`` is as for `save_work`.
    When cancelled, the images already saved stay saved (and were reported through
    ``on_saved``); Cancelled is raised after them.
    """
    from studio.workflows.prompt_library import record_prompt

    saved: list[SavedWork] = []
    credentials = c2pa_credentials() if isinstance(c2pa, str) and c2pa == AUTO else c2pa  # once per batch
    record_prompt(request.prompt, request.negative_prompt)
    folder = Path(works_dir)

    def keep(result: GenerationResult) -> None:
        path = free_path(folder, f"{datetime.now():%Y-%m-%d_%H%M%S}_{result.recipe.seed}")
        work = save_work(result, path, library=library, signer=signer, c2pa=credentials)
        saved.append(work)
        if on_saved is not None:
            on_saved(work)

    engine.generate(request, progress=progress, cancel=cancel, preview_every=preview_every, on_result=keep)
    return saved


def read_recipe(path: Path) -> Recipe:
    """The recipe the studio wrote into the PNG at ``path`` (from its manifest, or an older recipe chunk)."""
    chunks = read_png_text(Path(path))
    if PROVENANCE_KEY in chunks:
        try:
            return recipe_from_manifest(SignedManifest.from_json(chunks[PROVENANCE_KEY]).manifest)
        except StudioError as exc:
            raise InputError(f"The provenance manifest in {Path(path).name} is damaged ({exc}).") from exc
    raw = chunks.get(RECIPE_KEY)
    if raw is None:
        raise InputError(f"{Path(path).name} has no studio recipe.",
                         hint="Only images made by Provenance Studio carry one.")
    from studio import safejson

    try:
        return Recipe.from_dict(safejson.loads(raw, what="The recipe", max_bytes=1024 * 1024))
    except (InputError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"The recipe in {Path(path).name} is damaged ({exc}).") from exc
