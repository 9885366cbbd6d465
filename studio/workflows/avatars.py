"""Making avatars end to end: a single avatar, one from a photo, a character sheet, a collection.

Every avatar is saved as a work with its provenance and recorded in the library (the Gallery)
through ``studio.workflows.generate.save_work``; the manifest's ``pipeline`` is ``"avatar"``
and an input photo or reference is a parent (``init``, the SHA-256 of its PNG encoding; with an
IP-Adapter also ``ip_adapter``, and the adapter's file in ``adapters``).

A collection (``make_collection``) samples unique trait combinations, generates one avatar per
combination and writes, in its folder:

- ``collection.json``: the plan (table, seed, template, settings, each item's traits, prompt and
  seed), written once; a rerun with other settings is refused rather than mixed in;
- ``progress.log``: one line per finished item (index, file, SHA-256), appended and synced, so a
  rerun after a crash or a cancel skips what is done and makes the same set;
- ``NNNN.png`` avatars, ``manifest.json`` for ``studio batch-mint`` (attributes as trait → value,
  which batch-mint writes as OpenSea ``attributes``), ``rarity.json`` and ``rarity.csv``.
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from studio.errors import InputError, NotFound
from studio.generation.avatars import AvatarRequest, FamilySettings, StylePreset, find_preset, generation_request
from studio.generation.backends import RunReport, as_backend
from studio.generation.request import GenerationProgress, GenerationRequest, GenerationResult
from studio.generation.traits import RarityReport, TraitTable, rarity_report
from studio.workflows.generate import AUTO, SavedWork, c2pa_credentials, free_path, save_work
from studio.workflows.journal import (PROGRESS_FILE, JournalItem, JournalProgress, JournalRun, keep_plan,
                                      read_done, read_plan, run_journal)

if TYPE_CHECKING:
    from PIL.Image import Image

    from studio.library.db import Library

log = logging.getLogger(__name__)

PLAN_FILE = "collection.json"
MANIFEST_FILE = "manifest.json"
PLAN_VERSION = 1
MAX_COLLECTION = 10_000
MAX_SHEET = 16


# ====================================================================== saving

def save_avatar(result: GenerationResult, path: Path, *, library: "Library | None", signer: Any = None,
                c2pa: Any = None, title: str | None = None) -> SavedWork:
    """Write ``result`` at ``path`` with provenance whose pipeline is ``avatar``, and record it in ``library``."""
    return save_work(result, path, library=library, signer=signer, c2pa=c2pa, pipeline="avatar", title=title)


def _credentials(c2pa: Any) -> Any:
    return c2pa_credentials() if isinstance(c2pa, str) and c2pa == AUTO else c2pa


def _resolve(engine: Any, request: AvatarRequest, data_dir: Path | None) -> GenerationRequest:
    preset = find_preset(request.preset, data_dir)
    info = engine.validate(GenerationRequest(prompt="", model=request.model, width=64, height=64, steps=1))
    generation = generation_request(request, preset, info)
    engine.validate(generation)
    return generation


def _run(engine: Any, generation: GenerationRequest, out_dir: Path, stem: str, *, library: "Library | None",
         progress: Callable[[GenerationProgress], None] | None, cancel: Any,
         on_saved: Callable[[SavedWork], None] | None, signer: Any, c2pa: Any, preview_every: int) -> list[SavedWork]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    credentials = _credentials(c2pa)
    saved: list[SavedWork] = []

    def keep(result: GenerationResult) -> None:
        work = save_avatar(result, free_path(out_dir, f"{stem}_{result.recipe.seed}"), library=library,
                           signer=signer, c2pa=credentials)
        saved.append(work)
        if on_saved is not None:
            on_saved(work)

    engine.generate(generation, progress=progress, cancel=cancel, preview_every=preview_every, on_result=keep)
    return saved


# ====================================================================== single, photo, sheet

def make_single(request: AvatarRequest, engine: Any, out_dir: Path, *, library: "Library | None",
                progress: Callable[[GenerationProgress], None] | None = None, cancel: Any = None,
                on_saved: Callable[[SavedWork], None] | None = None, signer: Any = None, c2pa: Any = AUTO,
                data_dir: Path | None = None, preview_every: int = 0) -> list[SavedWork]:
    """Square avatars in the request's style preset (``request.count`` of them, seeds seed, seed+1...),
    from the words alone (no photo, so no adapter)."""
    return _run(engine, _resolve(engine, replace(request, photo=None, adapter=None), data_dir), out_dir, "avatar",
                library=library, progress=progress, cancel=cancel, on_saved=on_saved, signer=signer, c2pa=c2pa,
                preview_every=preview_every)


def make_from_photo(request: AvatarRequest, photo: "Image", engine: Any, out_dir: Path, *, library: "Library | None",
                    progress: Callable[[GenerationProgress], None] | None = None, cancel: Any = None,
                    on_saved: Callable[[SavedWork], None] | None = None, signer: Any = None, c2pa: Any = AUTO,
                    data_dir: Path | None = None, preview_every: int = 0) -> list[SavedWork]:
    """Avatars restyled from ``photo`` (image-to-image at ``request.strength``, centre-cropped
    square); the photo's hash is recorded as the ``init`` parent in each avatar's provenance.
    With ``request.adapter`` the photo is also the IP-Adapter's reference (parent ``ip_adapter``),
    or only that when ``request.photo_as_init`` is false."""
    uses_init = request.adapter is None or request.photo_as_init
    if uses_init and not 0.0 < request.strength <= 1.0:
        raise InputError(f"The strength {request.strength} is out of range.",
                         hint="Use a value above 0 and at most 1 (about 0.5 keeps a likeness).")
    return _run(engine, _resolve(engine, replace(request, photo=photo), data_dir), out_dir, "avatar",
                library=library, progress=progress, cancel=cancel, on_saved=on_saved, signer=signer, c2pa=c2pa,
                preview_every=preview_every)


@dataclass(frozen=True)
class CharacterSheet:
    """Variations of one character: the works (seeds base, base+1, ...) and their grid image."""

    works: tuple[SavedWork, ...]
    grid: Path


def sheet_grid(images: Sequence["Image"], *, gap: int = 4) -> "Image":
    """The images (same size) in a near-square grid on a dark background."""
    from PIL import Image

    if not images:
        raise InputError("A sheet needs at least one image.")
    width, height = images[0].size
    columns = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    grid = Image.new("RGB", (columns * width + (columns + 1) * gap, rows * height + (rows + 1) * gap), (24, 24, 28))
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        grid.paste(image.convert("RGB"), (gap + column * (width + gap), gap + row * (height + gap)))
    return grid


def make_character_sheet(request: AvatarRequest, reference: "Image", engine: Any, out_dir: Path, *,
                         library: "Library | None",
                         progress: Callable[[GenerationProgress], None] | None = None, cancel: Any = None,
                         on_saved: Callable[[SavedWork], None] | None = None, signer: Any = None,
                         c2pa: Any = AUTO, data_dir: Path | None = None, preview_every: int = 0) -> CharacterSheet:
    """``request.count`` variations of the character in ``reference`` (image-to-image from it, seeds
    ``seed + i``), each saved as a work, and a grid of them saved as ``sheet_<seed>.png``."""
    from studio.fileio import atomic_write_bytes

    if not 2 <= request.count <= MAX_SHEET:
        raise InputError(f"A character sheet has 2 to {MAX_SHEET} variations, not {request.count}.")
    if request.seed is None:
        import secrets

        request = replace(request, seed=secrets.randbits(32))
    works = make_from_photo(request, reference, engine, out_dir, library=library, progress=progress, cancel=cancel,
                            on_saved=on_saved, signer=signer, c2pa=c2pa, data_dir=data_dir,
                            preview_every=preview_every)
    from io import BytesIO

    from PIL import Image

    images = []
    for work in works:
        with Image.open(work.path) as image:
            images.append(image.convert("RGB"))
    buffer = BytesIO()
    sheet_grid(images).save(buffer, format="PNG")
    grid = free_path(Path(out_dir), f"sheet_{request.seed}")
    atomic_write_bytes(grid, buffer.getvalue())
    return CharacterSheet(tuple(works), grid)


# ====================================================================== collections

@dataclass(frozen=True)
class CollectionItem:
    index: int
    file: str
    seed: int
    prompt: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class CollectionResult(JournalRun):
    items: tuple[CollectionItem, ...]
    manifest: Path
    rarity: RarityReport


def plan_collection(table: TraitTable, count: int, seed: int, *, template: str | None = None,
                    preset: StylePreset | None = None) -> list[CollectionItem]:
    """The items of a collection: unique trait combinations for ``seed``, each with its prompt
    (the template, in the preset's style when given) and image seed ``seed + index``."""
    if not 1 <= count <= MAX_COLLECTION:
        raise InputError(f"A collection has 1 to {MAX_COLLECTION:,} avatars, not {count:,}.")
    template = template if template is not None else table.template
    if not template:
        raise InputError("The collection needs a prompt template.",
                         hint="Give --template, or add a template to the trait table, e.g. "
                              + ", ".join("{" + c.key + "}" for c in table.categories) + ".")
    width = max(4, len(str(count)))
    items = []
    for index, combination in enumerate(table.sample(count, seed)):
        prompt = table.prompt_for(combination, template)
        if preset is not None:
            prompt = preset.prompt_for(prompt)
        items.append(CollectionItem(index, f"{index + 1:0{width}d}.png", seed + index, prompt,
                                    table.attributes(combination)))
    return items


def _plan_document(table: TraitTable, count: int, seed: int, template: str, settings: dict[str, Any],
                   items: list[CollectionItem]) -> dict[str, Any]:
    return {"version": PLAN_VERSION, "count": count, "seed": seed, "template": template, "settings": settings,
            "table": table.to_dict(),
            "items": [{"index": i.index, "file": i.file, "seed": i.seed, "prompt": i.prompt,
                       "attributes": i.attributes} for i in items]}


def _read_plan(folder: Path) -> dict[str, Any] | None:
    return read_plan(folder, PLAN_FILE, version=PLAN_VERSION, what="collection plan")


def make_collection(table: TraitTable, count: int, seed: int, out_dir: Path, engine: Any, *,
                    library: "Library | None", template: str | None = None, preset: str | None = None, model: str = "demo",
                    size: int | None = None, steps: int | None = None, guidance: float | None = None,
                    progress: Callable[[JournalProgress], None] | None = None, cancel: Any = None,
                    on_saved: Callable[[CollectionItem, SavedWork], None] | None = None,
                    signer: Any = None, c2pa: Any = AUTO, data_dir: Path | None = None,
                    name: str | None = None, description: str = "", preview_every: int = 0,
                    on_report: Callable[[RunReport], None] | None = None) -> CollectionResult:
    """Generate ``count`` avatars with unique traits into ``out_dir``, resumably.

    ``engine`` is this computer's engine or a generation backend (a Ray cluster: the avatars are
    made by its workers, each sent back as its pixels and recipe, and signed and saved here as
    they arrive, in any order). Rerunning with the same arguments skips finished items (their
    files checked against the progress log) and produces the same set, on either; other
    arguments on a started folder are refused. Cancelled is raised between or during items; what
    is finished stays finished. Each avatar is recorded in ``library`` as "<name> #<n>".
    ``on_report`` receives the run's report (per node, failures) before the result or the error;
    avatars that could not be made raise ModelError after the others are saved.
    """
    backend = as_backend(engine)
    out_dir = Path(out_dir)
    title = name or table.name or "Avatar"
    style = find_preset(preset, data_dir) if preset else None
    template = template if template is not None else table.template
    items = plan_collection(table, count, seed, template=template, preset=style)
    info = backend.validate(GenerationRequest(prompt="", model=model, width=64, height=64, steps=1))
    base = generation_request(AvatarRequest(prompt=items[0].prompt, preset=style.key if style else "",
                                            model=model, size=size, steps=steps, guidance=guidance),
                              style or _PLAIN, info)
    settings = {"model": model, "model_path": str(info.path), "preset": preset or "", "size": base.width,
                "steps": base.steps, "guidance": base.guidance, "scheduler": base.scheduler,
                "negative_prompt": base.negative_prompt}
    keep_plan(out_dir, PLAN_FILE, _plan_document(table, count, seed, template, settings, items),
              version=PLAN_VERSION, what="collection plan", kind="collection",
              fields=("count", "seed", "template", "settings", "table"))

    by_index = {item.index: item for item in items}

    def saved(run_item: JournalItem, work: SavedWork) -> None:
        if on_saved is not None:
            on_saved(by_index[run_item.index], work)

    run_items = [JournalItem(item.index, item.file, replace(base, prompt=item.prompt, seed=item.seed, count=1),
                             f"{title} #{item.index + 1}") for item in items]
    run = run_journal(run_items, out_dir, backend, library=library, noun="avatars",
                      again="Run the collection again to make the missing ones.", signer=signer, c2pa=c2pa,
                      pipeline="avatar", progress=progress, cancel=cancel, preview_every=preview_every,
                      on_saved=saved, on_report=on_report)
    return _finish(out_dir, table, items, title, description, run)


#: No style: the collection's template as it is, with plain settings per family.
_PLAIN = StylePreset("plain", "No style", "{prompt}", "", {
    "sd1": FamilySettings(512, 25, 7.0, "euler"), "sd2": FamilySettings(768, 25, 7.0, "euler"),
    "sdxl": FamilySettings(1024, 30, 6.0, "euler")})


def _finish(out_dir: Path, table: TraitTable, items: list[CollectionItem], name: str, description: str,
            run: JournalRun) -> CollectionResult:
    from studio.fileio import atomic_write_text

    rarity = rarity_report([i.attributes for i in items], table.names)
    ranks = {a.index: a.rank for a in rarity.avatars}
    works = [{"file": i.file, "name": f"{name} #{i.index + 1}",
              "description": description or f"Rarity rank {ranks[i.index]} of {len(items)}.",
              "attributes": i.attributes} for i in items]
    manifest = out_dir / MANIFEST_FILE
    atomic_write_text(manifest, json.dumps({"works": works}, indent=1, ensure_ascii=False) + "\n")
    atomic_write_text(out_dir / "rarity.json", json.dumps(rarity.to_dict(), indent=1, ensure_ascii=False) + "\n")
    atomic_write_text(out_dir / "rarity.csv", rarity.to_csv())
    return CollectionResult(run.folder, run.generated, run.report, tuple(items), manifest, rarity)


def collection_rarity(folder: Path) -> RarityReport:
    """The rarity report of the collection in ``folder`` (from its plan)."""
    folder = Path(folder)
    plan = _read_plan(folder)
    if plan is None:
        raise NotFound(f"{folder} holds no avatar collection (no {PLAN_FILE}).",
                       hint="Give the folder `studio avatars collection` wrote.")
    table = TraitTable.from_dict(plan["table"])
    return rarity_report([item["attributes"] for item in plan["items"]], table.names)


def finished_items(folder: Path) -> tuple[tuple[CollectionItem, Path], ...]:
    """The avatars of the collection in ``folder`` made so far (by any run), in the plan's order;
    empty when the folder holds no collection."""
    folder = Path(folder)
    plan = _read_plan(folder)
    if plan is None:
        return ()
    done = read_done(folder)
    found = []
    for entry in plan["items"]:
        path = folder / str(entry.get("file", ""))
        if entry.get("index") in done and path.is_file():
            item = CollectionItem(int(entry["index"]), path.name, int(entry["seed"]), str(entry["prompt"]),
                                  dict(entry["attributes"]))
            found.append((item, path))
    return tuple(found)


def collection_status(folder: Path) -> tuple[int, int]:
    """(finished, total) avatars of the collection in ``folder``."""
    plan = _read_plan(Path(folder))
    if plan is None:
        raise NotFound(f"{folder} holds no avatar collection (no {PLAN_FILE}).")
    done = read_done(Path(folder))
    return sum(1 for item in plan["items"] if item["index"] in done), len(plan["items"])
